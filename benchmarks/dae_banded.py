"""Banded vs dense Jacobians of the Rosenbrock solvers on a 500-state DAE, and SUNDIALS IDA.

Problem: `jaxsci.dae.TransmissionLine(n_nodes=500)` (diode RC ladder, every second node
algebraic: index 1, tridiagonal M and Jacobian), t in [0, 10 ms], nominal parameters,
rtol = 1e-6, atol = 1e-8, the whole state saved at 11 times.

- jaxsci `Rodas4(jacobian=BandedJacobian(1, 1))`: 3 coloured JVPs and a banded LU per step.
- jaxsci `Rodas4()` (dense): `jax.jacfwd` (500 JVPs) and a 500 x 500 LU per step.
- SUNDIALS IDA (scikit-sundae, variable-order BDF) with its banded linear solver
  (`linsolver="band"`, lband = uband = 1, difference-quotient band Jacobian), residual
  F = M y' - f(t, y) in NumPy: what a user of SUNDIALS would write for this problem.

Each is checked against a tight jaxsci solution (rtol 1e-10) at the output times (max abs
error in volts). Best of `--repeats` runs after compilation; then the end-to-end ratios (a
fresh process: trace + compile + run of the banded solve, against the dense one, also JAX,
timed end to end in the same child processes). Last line: `ratio: <dense time / banded
time>` (run time after compilation).

    OPENBLAS_NUM_THREADS=1 python benchmarks/dae_banded.py
    OPENBLAS_NUM_THREADS=1 python benchmarks/dae_banded.py --nodes 100 --repeats 1   # quick
"""

import argparse
import math
import os
import time

import numpy as np

import _timing  # benchmarks/, next to this script

RTOL, ATOL = 1e-6, 1e-8


def _line(n):
    import jaxsci.dae as dae

    return dae.TransmissionLine(n_nodes=n)


def _jaxsci_run(n, banded, rtol=RTOL, atol=ATOL):
    import jax.numpy as jnp

    import jaxsci.dae as dae

    line = _line(n)
    ts = jnp.linspace(line.t0, line.t1, 11)
    solver = dae.Rodas4(jacobian=line.jacobian if banded else dae.DenseJacobian())

    def run():
        sol = dae.simulate(line, line.nominal, ts, solver=solver, rtol=rtol, atol=atol,
                           save_state=True)
        return np.asarray(sol.value), int(sol.stats["num_steps"])

    return run


def _ida_run(n):
    from sksundae.ida import IDA

    line = _line(n)
    p = line.nominal
    r, c, amp, isat = (float(p.R), float(p.C), float(p.amplitude), float(p.saturation))
    cap = np.where(np.arange(1, n + 1) % 2 == 0, c, 0.0)
    period = line.period
    ts = np.linspace(line.t0, line.t1, 11)

    def resfn(t, y, yp, res):
        left = np.empty(n)
        left[0] = amp * math.sin(2 * math.pi * t / period)
        left[1:] = y[:-1]
        right = np.empty(n)
        right[:-1] = y[1:]
        right[-1] = y[-1]
        w = isat * np.expm1(y / 0.026)
        res[:] = cap * yp - ((left - y) / r - (y - right) / r - w)

    def run():
        solver = IDA(resfn, rtol=RTOL, atol=ATOL, linsolver="band", lband=1, uband=1,
                     algebraic_idx=np.arange(0, n, 2), max_num_steps=1_000_000)
        sol = solver.solve(ts, np.zeros(n), np.zeros(n))
        if not sol.success:
            raise RuntimeError(f"IDA failed: {sol.message}")
        return np.asarray(sol.y), int(sol.nfev)

    return run


def _best(run, repeats):
    best, out = math.inf, None
    for _ in range(repeats):
        t = time.perf_counter()
        out = run()
        best = min(best, time.perf_counter() - t)
    return out, best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, default=500, help="states (default %(default)s)")
    ap.add_argument("--repeats", type=int, default=3)
    _timing.add_arguments(ap)
    args = ap.parse_args(argv)
    import jax

    jax.config.update("jax_enable_x64", True)
    if args.e2e_child:
        def measure():
            _, banded = _timing.timed(_jaxsci_run(args.nodes, True))
            _, dense = _timing.timed(_jaxsci_run(args.nodes, False))
            return {"banded": banded, "dense": dense}

        _timing.run_child(args, measure)
        return
    n = args.nodes
    print(f"load {os.getloadavg()[0]:.2f}; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}; TransmissionLine({n} states), "
          f"rtol {RTOL:g}, atol {ATOL:g}")
    print("| solver | wall per solve (s) | compile + first run (s) | steps / f-evals | "
          "max abs error (V) |")
    print("|---|---|---|---|---|")
    times, ys = {}, {}
    for name, run in (("jaxsci Rodas4, BandedJacobian(1, 1)", _jaxsci_run(n, True)),
                      ("jaxsci Rodas4, dense", _jaxsci_run(n, False))):
        t = time.perf_counter()
        run()
        first = time.perf_counter() - t
        (y, steps), best = _best(run, args.repeats)
        times[name], ys[name] = best, (y, f"{steps} steps", first)
    (y, nfev), t_ida = _best(_ida_run(n), args.repeats)
    ys["SUNDIALS IDA, band solver"] = (y, f"{nfev} f-evals", None)
    times["SUNDIALS IDA, band solver"] = t_ida
    ref, _ = _jaxsci_run(n, True, 1e-10, 1e-12)()  # after the timings: its own compile
    for name, (y, work, first) in ys.items():
        first = "-" if first is None else f"{first:.2f}"
        print(f"| {name} | {times[name]:.4f} | {first} | {work} | "
              f"{np.max(np.abs(y - ref)):.1e} |", flush=True)
    t_band = times["jaxsci Rodas4, BandedJacobian(1, 1)"]
    t_dense = times["jaxsci Rodas4, dense"]
    print(f"banded vs dense: {t_dense / t_band:.1f}x; IDA / banded: {t_ida / t_band:.2f}")
    print()
    e2e = _timing.cold_warm(__file__, argv, args.keep_e2e_cache)
    _timing.print_ratios(e2e, "banded", "dense", "jaxsci dense Jacobian (first call)",
                         "jaxsci banded (first call)")
    print(f"end-to-end ratio vs SUNDIALS IDA (cold cache): "
          f"{t_ida / float(e2e['cold']['banded']):.2f}")
    print(f"ratio: {t_dense / t_band:.2f}")


if __name__ == "__main__":
    main()
