"""The main demonstration (`make demo`): `python examples/tour [--out DIR] [--only NAME ...]`.

Runs one headline experiment per capability, prints a results table and writes PNG plots
to `--out` (default `./jaxsci-out/`). Each capability is a module `examples/tour/_<name>.py`
exposing `TITLE: str` and `run(out: pathlib.Path) -> list[tuple[str, str]]` returning
(metric, value) rows. The whole demo must stay under 3 minutes on 2 CPU cores.
"""

import argparse
import importlib
import pathlib
import sys
import time

# Order of the tour. Add a capability by adding its module name here.
CAPABILITIES: list[str] = [
    "gp",
    "surrogates",
    "optimizers",
    "adaptive_basis",
    "dae",
    "pinn",
    "koopman",
    "relu",
    "mechanics",
    "sequence_surrogates",
    "neural_quadrature",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python examples/tour", description=__doc__)
    parser.add_argument("--out", default="jaxsci-out", help="folder for PNG plots")
    parser.add_argument(
        "--only", nargs="*", default=None, choices=CAPABILITIES, help="run only these"
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="persistent compilation cache (default: jaxsci.default_cache_dir(), "
        "i.e. $JAXSCI_CACHE_DIR or ~/.cache/jaxsci/xla)",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="do not use the persistent compilation cache"
    )
    args = parser.parse_args(argv)

    import jax

    jax.config.update("jax_enable_x64", True)
    import jaxsci

    if not args.no_cache:
        cache = jaxsci.enable_compilation_cache(args.cache_dir)
        print(f"compilation cache: {cache} (--no-cache to switch off)", flush=True)
    import matplotlib

    matplotlib.use("Agg")

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = args.only or CAPABILITIES
    table: list[tuple[str, str, str]] = []
    t_all = time.perf_counter()
    for name in names:
        mod = importlib.import_module(f"_{name}")  # this folder is sys.path[0]
        print(f"\n=== {mod.TITLE} ===", flush=True)
        t0 = time.perf_counter()
        rows = mod.run(out)
        dt = time.perf_counter() - t0
        print(f"    ({dt:.1f} s)", flush=True)
        table.extend((name, metric, value) for metric, value in rows)
        table.append((name, "wall time", f"{dt:.1f} s"))

    w0 = max(len(r[0]) for r in table)
    w1 = max(len(r[1]) for r in table)
    print("\nResults")
    print(f"{'capability':<{w0}}  {'metric':<{w1}}  value")
    print(f"{'-' * w0}  {'-' * w1}  -----")
    for cap, metric, value in table:
        print(f"{cap:<{w0}}  {metric:<{w1}}  {value}")
    print(f"\nTotal {time.perf_counter() - t_all:.1f} s; plots in {out.resolve()}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
