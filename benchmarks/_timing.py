r"""End-to-end timings for `benchmarks/`: cold and warm persistent compilation cache.

Every benchmark prints its run-time ratio (reference time / jaxsci time after compilation)
as its last line, `ratio: X`. Users also wait for tracing and compilation, so each
benchmark prints, just before that line, two end-to-end ratios:

    end-to-end ratio (cold cache): A    reference wall / jaxsci first call, empty cache
    end-to-end ratio (warm cache): B    the same, in a second process, cache filled by the first

How they are measured (one helper for all benchmarks, `cold_warm`):

1. The benchmark runs as usual in the parent process (no persistent cache: its own
   compile / run split is unchanged) and measures the reference tool there, once, on the
   same data and the same cores as always.
2. `cold_warm` starts the same script twice more, one after the other, as
   `python SCRIPT <the parent's arguments> --e2e-child DIR` with ONE fresh, empty temporary
   directory DIR: the first child finds the cache empty (cold), the second finds it filled
   by the first (warm). Children inherit the parent's environment and CPU affinity
   (`OPENBLAS_NUM_THREADS`, `XLA_FLAGS`, `sched_setaffinity`), so both tools run on the same
   cores with the same thread settings; they rebuild the same data from the same seeds.
3. A child (`run_child`) switches the cache on at DIR (`jaxsci.enable_compilation_cache`,
   or the `jax.config` options directly on a jaxsci that lacks it) before anything is
   compiled, builds its data (not timed), initialises the JAX backend, then times the
   benchmark's jaxsci call(s) once: trace + lower + compile (cold) or cache load (warm) +
   run, i.e. what a user's first call in a new process costs. Import time of jax / jaxsci
   is not counted (nor the reference tool's). The child writes its timings as one JSON
   line on stdout, marked with `MARK`; the parent reads it back.

Where the reference is itself JAX code (Adam in `koopman.py`, `lsgd.py`), it is compiled
too, so the children time it end to end as well (same process, same cache state) and the
ratios compare both first calls.

The temporary cache directory is removed afterwards (`--keep-e2e-cache` keeps it and
prints its path).
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

MARK = "@@jaxsci-e2e@@"
CHILD_FLAG = "--e2e-child"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options every benchmark shares: the hidden child mode and
    `--keep-e2e-cache`."""
    parser.add_argument(CHILD_FLAG, dest="e2e_child", default=None, metavar="DIR",
                        help=argparse.SUPPRESS)
    parser.add_argument("--keep-e2e-cache", action="store_true",
                        help="keep the temporary persistent-cache directory of the "
                        "end-to-end runs (its path is printed)")


def enable_cache(path) -> pathlib.Path:
    """Switch JAX's persistent compilation cache on at `path`, caching every program."""
    import jax

    import jaxsci

    if hasattr(jaxsci, "enable_compilation_cache"):
        return pathlib.Path(jaxsci.enable_compilation_cache(path))
    path = pathlib.Path(path)
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path


def timed(fn, *args, **kwargs):
    """`(result, wall seconds)` of one call, waiting for JAX's asynchronous results."""
    import jax

    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(*args, **kwargs))
    return out, time.perf_counter() - t0


def run_child(args, measure) -> None:
    """Child mode: cache on at `args.e2e_child`, then `measure()` -> dict of JSON-able
    values (seconds under names the benchmark chooses), written to stdout after `MARK`.

    `measure` builds its data (not timed) and times its jaxsci calls with `timed`; the JAX
    backend is initialised before it runs (not counted: every JAX program pays it once)."""
    import jax

    enable_cache(args.e2e_child)
    jax.devices()
    result = measure()
    sys.stdout.flush()
    print(MARK + json.dumps(result), flush=True)


def _read_child(stdout: str) -> dict:
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError("the end-to-end child printed no timing line")


def _cache_size(path: pathlib.Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def cold_warm(script, argv, keep_cache: bool = False, extra=()) -> dict:
    """Run `script` (a benchmark's `__file__`) twice in fresh processes with one new,
    empty persistent cache: returns `{"cold": {...}, "warm": {...}, "cache_entries": n,
    "cache_bytes": b}` with each child's dict from `run_child`.

    `argv` are the parent's command-line arguments (the children see the same sizes and
    options); `extra` are more arguments for the children only (e.g. a value the parent
    computed, so the children need not recompute it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    cache = pathlib.Path(tempfile.mkdtemp(prefix="jaxsci-e2e-cache-"))
    cmd = [sys.executable, os.path.abspath(script), *argv, *extra, CHILD_FLAG, str(cache)]
    print(f"end-to-end runs: 2 fresh processes (cold, then warm persistent cache {cache}) ...",
          flush=True)
    out = {}
    try:
        for phase in ("cold", "warm"):
            if phase == "cold" and any(cache.iterdir()):
                raise RuntimeError(f"cache directory {cache} is not empty before the cold run")
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
            if proc.returncode != 0:
                sys.stdout.write(proc.stdout)
                raise RuntimeError(f"end-to-end {phase} child failed (exit {proc.returncode}): "
                                   + " ".join(cmd))
            out[phase] = _read_child(proc.stdout)
            if phase == "cold":
                out["cache_entries"], out["cache_bytes"] = _cache_size(cache)
    finally:
        if keep_cache:
            print(f"kept the end-to-end cache directory {cache}")
        else:
            shutil.rmtree(cache, ignore_errors=True)
    return out


def print_ratios(e2e: dict, jaxsci_key: str, reference, reference_label: str,
                 jaxsci_label: str = "jaxsci") -> tuple[float, float]:
    """Print the end-to-end seconds and the two end-to-end ratio lines; return the ratios.

    `jaxsci_key` names the child's jaxsci seconds; `reference` is the reference tool's wall
    time in seconds (measured once, in the parent), or a child key (a str) where the
    reference is JAX code timed end to end in the children too."""
    def ref(phase):
        return float(e2e[phase][reference]) if isinstance(reference, str) else float(reference)

    cold, warm = float(e2e["cold"][jaxsci_key]), float(e2e["warm"][jaxsci_key])
    mb = e2e["cache_bytes"] / 2**20
    if isinstance(reference, str):
        ref_text = (f"{reference_label} {ref('cold'):.2f} s cold, {ref('warm'):.2f} s warm "
                    "(also JAX: timed end to end in the same processes)")
    else:
        ref_text = f"{reference_label} {ref('cold'):.2f} s (measured once, above)"
    print(f"end-to-end (fresh process: trace + compile or cache load + run): {jaxsci_label} "
          f"{cold:.2f} s cold cache, {warm:.2f} s warm cache ({e2e['cache_entries']} cache "
          f"files, {mb:.1f} MiB); {ref_text}")
    r_cold, r_warm = ref("cold") / cold, ref("warm") / warm
    print(f"end-to-end ratio (cold cache): {r_cold:.2f}")
    print(f"end-to-end ratio (warm cache): {r_warm:.2f}")
    return r_cold, r_warm
