"""2-D viscous Burgers full-order model: jaxsci.rom.solve_fom vs a scipy.sparse-LU FOM.

Model: `jaxsci.rom.Burgers2D()` at the NM-ROM paper's settings (60 x 60 nodes, N = 6728,
Re = 1e4, 1500 backward-Euler steps to t = 2; Kim et al. 2022, §5.2), test parameter mu = 1.
Both tools run the same scheme and the same Newton (start at the previous step, relative
residual 1e-8, at most 10 iterations), in the same process:

1. scipy: `benchmarks/_rom_scipy.py` -- residual and CSR Jacobian assembled in NumPy /
   scipy.sparse each Newton iteration, `scipy.sparse.linalg.splu` solve (the paper's code
   does the same with scipy);
2. jaxsci: `rom.solve_fom(Burgers2D(), mu)` -- one jitted program (lax.scan over steps,
   Newton in a while_loop, block-Jacobi-preconditioned GMRES on the residual's JVP).

Then a batch of `--batch` parameters mu in [0.9, 1.1] (snapshot generation): jaxsci
`jax.vmap` of solve_fom (one program) vs a Python loop of the scipy FOM. Prints the agreement
of the trajectories, the Newton iteration totals, run-time ratios (after compilation) and the
end-to-end ratios (jaxsci's first call in a fresh process, cold / warm persistent cache; see
`benchmarks/_timing.py`); last line `ratio: <scipy time / jaxsci time>` for one mu.

    python benchmarks/rom_fom.py            # paper size, batch of 16 (scipy loop: minutes)
    python benchmarks/rom_fom.py --quick    # 20 x 20 nodes, 50 steps, batch of 4 (smoke run)
"""

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from jaxsci import rom  # noqa: E402

import _rom_scipy  # noqa: E402  (benchmarks/, next to this script)
import _timing  # noqa: E402


def make_fom(quick: bool):
    return rom.Burgers2D(n_nodes=20, n_steps=50) if quick else rom.Burgers2D()


def one(fom, mu):
    return rom.solve_fom(fom, mu)


def batch(fom, mus):
    return jax.vmap(lambda m: rom.solve_fom(fom, m))(mus)


def e2e_child(quick):
    fom = make_fom(quick)
    mu = jnp.asarray(1.0)
    _, t = _timing.timed(lambda: one(fom, mu).value)
    return {"jaxsci": t}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20 x 20 nodes, 50 steps, batch 4")
    parser.add_argument("--batch", type=int, default=None, help="batch size (default 16; 4 quick)")
    parser.add_argument("--repeats", type=int, default=3)
    _timing.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.e2e_child:
        _timing.run_child(args, lambda: e2e_child(args.quick))
        return
    n_batch = args.batch or (4 if args.quick else 16)
    fom = make_fom(args.quick)
    model = _rom_scipy.scipy_fom(fom)
    print(f"devices: {jax.devices()}  (float64, OPENBLAS_NUM_THREADS="
          f"{os.environ['OPENBLAS_NUM_THREADS']})")
    print(f"model: Burgers2D n_nodes={fom.n_nodes} (N = {fom.size}), Re = {fom.reynolds:g}, "
          f"{fom.n_steps} steps of dt = {fom.dt:.5f}; mu = 1; batch of {n_batch}", flush=True)

    mu = jnp.asarray(1.0)
    sol, t_first = _timing.timed(lambda: one(fom, mu).value)
    times = [_timing.timed(lambda: one(fom, mu).value)[1] for _ in range(args.repeats)]
    t_jax = float(np.median(times))
    stats = one(fom, mu).stats
    print(f"jaxsci solve_fom: first call {t_first:.2f} s (compile ~{t_first - t_jax:.2f} s), run "
          f"{t_jax:.2f} s (median of {args.repeats}); Newton iterations per step "
          f"{int(stats['newton_iterations'].min())}-{int(stats['newton_iterations'].max())}, "
          f"total {int(stats['newton_iterations'].sum())}", flush=True)
    t0 = time.perf_counter()
    ref, it_ref = _rom_scipy.solve_fom_scipy(model, 1.0)
    t_scipy = time.perf_counter() - t0
    diff = np.abs(np.asarray(sol) - ref).max()
    print(f"scipy sparse-LU FOM: {t_scipy:.2f} s; Newton total {it_ref.sum()}; max |jaxsci - "
          f"scipy| over the trajectory {diff:.1e}", flush=True)
    if not diff < 1e-8:
        raise SystemExit("jaxsci and scipy trajectories disagree")

    mus = jnp.linspace(0.9, 1.1, n_batch)
    out, t_bfirst = _timing.timed(lambda: batch(fom, mus).value)
    _, t_batch = _timing.timed(lambda: batch(fom, mus).value)
    t0 = time.perf_counter()
    refs = [_rom_scipy.solve_fom_scipy(model, float(m))[0] for m in mus]
    t_loop = time.perf_counter() - t0
    bdiff = max(np.abs(np.asarray(out[i]) - refs[i]).max() for i in range(n_batch))
    print(f"batch of {n_batch}: jaxsci vmap first call {t_bfirst:.2f} s, run {t_batch:.2f} s; "
          f"scipy loop {t_loop:.2f} s -> {t_loop / t_batch:.2f}x; max |diff| {bdiff:.1e}")

    ratio = t_scipy / t_jax
    print(f"speed-up after compilation, one mu (scipy / jaxsci): {ratio:.2f}x; batch of "
          f"{n_batch} (scipy loop / jaxsci vmap): {t_loop / t_batch:.2f}x")
    print()
    e2e = _timing.cold_warm(__file__, argv, args.keep_e2e_cache)
    _timing.print_ratios(e2e, "jaxsci", t_scipy, "scipy sparse-LU FOM", "jaxsci solve_fom")
    print(f"ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
