"""Benchmark: parameter sweep of the paper's 5-node transistor amplifier.

k samples of the q = 10 parameters in [0, 1]^10 (mapped by Xi, +-20 % around nominal),
t in [0, 0.03], m = 500 output times, rtol = 1e-6, atol = 1e-8 (the paper's ode15s
settings), float64, in one process on the same samples:

1. jaxsci: `jaxsci.dae.sweep` (Rodas4 on M u' = phi, vmapped, chunked, jit), with its
   default order-3 dense output at the output times, (second row, for information)
   with `step_to_ts=True` (steps end on the output times), and (third row) with the
   5th-order `Rodas5P` solver;
2. stock diffrax `Kvaerno5` on the index-1 reduction (`IndexOneReduction`), vmapped the
   same way (on the first `--kvaerno-samples` samples, default 100: it is ~100x slower,
   so its per-sample time is compared);
3. SUNDIALS IDA (scikit-sundae, dense linear solver, analytic Jacobian, residual
   M u' - phi in plain Python floats) in a Python loop over the samples.

Compile times are reported separately from run times; the jaxsci run times are the median
of `--repeats` (3) runs, the Kvaerno5 and IDA loops are timed once (they take minutes). Then
the end-to-end ratios: the IDA loop time (measured in this process) / jaxsci's first
`dae.sweep` call on all k samples (default settings) in a fresh process, trace + compile +
run, with a cold and with a warm persistent compilation cache (see `benchmarks/_timing.py`).
The last line is `ratio: <IDA loop time / jaxsci run time (default settings)>`.

    nice -n 10 .venv/bin/python benchmarks/circuit_sweep.py            # k = 1000
    nice -n 10 .venv/bin/python benchmarks/circuit_sweep.py --quick    # k = 50
"""

import argparse
import math
import time

import numpy as np

import _timing  # benchmarks/, next to this script


def _ida_loop(samples_phys, y0s, yp0s, ts, rtol, atol, amplitude, period, progress):
    from sksundae.ida import IDA

    out = np.empty((len(samples_phys), len(ts)))
    stats = []
    it = range(len(samples_phys))
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc="IDA loop", unit="sample")
    w_a, w_b, g = 1e-6, 0.026, 0.99
    two_pi_over_t = 2 * math.pi / period
    for j in it:
        c1, c2, c3, r0, r1, r2, r3, r4, r5, ub = (float(x) for x in samples_phys[j])

        def resfn(t, y, yp, res):
            u1, u2, u3, u4, u5 = y[0], y[1], y[2], y[3], y[4]
            ue = amplitude * math.sin(two_pi_over_t * t)
            w = w_a * (math.exp((u2 - u3) / w_b) - 1.0)
            d12 = yp[0] - yp[1]
            d45 = yp[3] - yp[4]
            res[0] = -c1 * d12 - (u1 - ue) / r0
            res[1] = c1 * d12 - (u2 * (1 / r1 + 1 / r2) - ub / r2 + (1 - g) * w)
            res[2] = -c2 * yp[2] - (u3 / r3 - w)
            res[3] = -c3 * d45 - ((u4 - ub) / r4 + g * w)
            res[4] = c3 * d45 - u5 / r5

        def jacfn(t, y, yp, res, cj, jj):
            dw = w_a / w_b * math.exp((y[1] - y[2]) / w_b)
            jj[:, :] = 0.0
            jj[0, 0] = -cj * c1 - 1 / r0
            jj[0, 1] = cj * c1
            jj[1, 0] = cj * c1
            jj[1, 1] = -cj * c1 - (1 / r1 + 1 / r2) - (1 - g) * dw
            jj[1, 2] = (1 - g) * dw
            jj[2, 1] = dw
            jj[2, 2] = -cj * c2 - 1 / r3 - dw
            jj[3, 1] = -g * dw
            jj[3, 2] = g * dw
            jj[3, 3] = -cj * c3 - 1 / r4
            jj[3, 4] = cj * c3
            jj[4, 3] = cj * c3
            jj[4, 4] = -cj * c3 - 1 / r5

        solver = IDA(resfn, rtol=rtol, atol=atol, jacfn=jacfn, max_num_steps=100_000)
        sol = solver.solve(ts, y0s[j], yp0s[j])
        if not sol.success:
            raise RuntimeError(f"IDA failed on sample {j}: {sol.message}")
        out[j] = sol.y[:, 4]
        stats.append(sol.nfev)
    return out, np.asarray(stats)


def _median_time(fn, x, repeats):
    """Median wall time of `repeats` calls (the machine is shared: single short runs are
    noisy); returns the last result and the median."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn(x)
        times.append(time.perf_counter() - t)
    return out, float(np.median(times))


def _samples(k, q):
    """The k parameter samples in [0, 1]^q (the same in the benchmark and its children)."""
    import jax

    return jax.random.uniform(jax.random.key(0), (k, q))


def sweep_e2e(k, chunk_size):
    """End-to-end child: the first `dae.sweep` call (default settings) on all k samples in
    a fresh process (data built first, not timed; no progress bar)."""
    import jax.numpy as jnp

    import jaxsci.dae as dae

    rtol, atol, m = 1e-6, 1e-8, 500
    circuit = dae.TransistorAmplifier()
    ts = jnp.linspace(circuit.t0, circuit.t1, m)
    samples = _samples(k, circuit.box.q)
    sol, t = _timing.timed(dae.sweep, circuit, samples, ts, rtol=rtol, atol=atol,
                           chunk_size=min(chunk_size, k), progress=False)
    return {"jaxsci": t, "mean_steps": float(np.mean(np.asarray(sol.stats["num_steps"])))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="k = 50 samples")
    parser.add_argument("--samples", type=int, default=None, help="number of samples k")
    parser.add_argument("--chunk-size", type=int, default=250)
    parser.add_argument(
        "--kvaerno-samples", type=int, default=100,
        help="samples for the (much slower) Kvaerno5 reduced-ODE run: the first ones of "
        "the same set; its per-sample time is compared",
    )
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed repeats of the jaxsci sweeps (median reported)")
    _timing.add_arguments(parser)
    args = parser.parse_args(argv)
    k = args.samples or (50 if args.quick else 1000)
    progress = not args.no_progress

    import jax

    jax.config.update("jax_enable_x64", True)
    if args.e2e_child:
        _timing.run_child(args, lambda: sweep_e2e(k, args.chunk_size))
        return
    import diffrax as dfx
    import equinox as eqx
    import jax.numpy as jnp

    import jaxsci.dae as dae

    rtol, atol, m = 1e-6, 1e-8, 500
    circuit = dae.TransistorAmplifier()
    ts = jnp.linspace(circuit.t0, circuit.t1, m)
    samples = _samples(k, circuit.box.q)
    chunk = min(args.chunk_size, k)
    print(f"5-node amplifier: k = {k} samples, m = {m} outputs on [0, 0.03], "
          f"rtol = {rtol}, atol = {atol}, chunk = {chunk}, devices = {jax.devices()}")

    # ---- jaxsci: Rodas4 sweep -----------------------------------------------------------
    def run_sweep(s):
        sol = dae.sweep(circuit, s, ts, rtol=rtol, atol=atol, chunk_size=chunk,
                        progress=progress)
        return jax.block_until_ready(sol)

    t = time.perf_counter()
    run_sweep(samples[:chunk])  # compiles the one chunk-shaped call
    t_first = time.perf_counter() - t
    sol, t_jaxsci = _median_time(run_sweep, samples, args.repeats)
    y_jaxsci = np.asarray(sol.value)
    # compile = first call minus the run time of one chunk
    t_compile = t_first - t_jaxsci / math.ceil(k / chunk)
    steps = np.asarray(sol.stats["num_steps"])

    # the same with steps landing on the output times (order-4 outputs, see docs/dae.md)
    def run_sweep_ts(s):
        sol = dae.sweep(circuit, s, ts, rtol=rtol, atol=atol, chunk_size=chunk,
                        progress=progress, step_to_ts=True)
        return jax.block_until_ready(sol)

    t = time.perf_counter()
    run_sweep_ts(samples[:chunk])
    t_first_ts = time.perf_counter() - t
    sol_ts, t_ts = _median_time(run_sweep_ts, samples, args.repeats)
    t_compile_ts = t_first_ts - t_ts / math.ceil(k / chunk)
    steps_ts = np.asarray(sol_ts.stats["num_steps"])
    y_ts = np.asarray(sol_ts.value)

    # the same with the 5th-order Rodas5P (the best new method of the Rosenbrock family)
    def run_sweep_5p(s):
        sol = dae.sweep(circuit, s, ts, rtol=rtol, atol=atol, chunk_size=chunk,
                        progress=progress, solver=dae.Rodas5P())
        return jax.block_until_ready(sol)

    t = time.perf_counter()
    run_sweep_5p(samples[:chunk])
    t_first_5p = time.perf_counter() - t
    sol_5p, t_5p = _median_time(run_sweep_5p, samples, args.repeats)
    t_compile_5p = t_first_5p - t_5p / math.ceil(k / chunk)
    steps_5p = np.asarray(sol_5p.stats["num_steps"])
    y_5p = np.asarray(sol_5p.value)

    # ---- stock diffrax Kvaerno5 on the reduced ODE --------------------------------------
    box = circuit.box

    def one_reduced(p_unit):
        p = box(p_unit)
        y0 = circuit.initial_state(p)
        red = dae.IndexOneReduction(circuit.term(), 3, y0)
        s = dfx.diffeqsolve(
            dfx.ODETerm(red.vector_field), dfx.Kvaerno5(), circuit.t0, circuit.t1,
            1e-6 * circuit.t1, red.reduce(y0, p), p,
            saveat=dfx.SaveAt(ts=ts, fn=lambda t, z, a: circuit.qoi(red.reconstruct(t, z, a))),
            stepsize_controller=dfx.PIDController(rtol=rtol, atol=atol),
            max_steps=100_000, throw=False,
        )
        return s.ys, s.stats["num_accepted_steps"]

    reduced_chunk = eqx.filter_jit(jax.vmap(one_reduced))

    def run_reduced(s, chunk):
        outs, nst = [], []
        it = range(math.ceil(len(s) / chunk))
        if progress:
            from tqdm.auto import tqdm

            it = tqdm(it, desc="Kvaerno5 reduced", unit="chunk")
        for c in it:
            block = s[c * chunk : (c + 1) * chunk]
            pad = chunk - len(block)
            if pad:
                block = jnp.concatenate([block, jnp.repeat(block[-1:], pad, 0)])
            ys, n = jax.block_until_ready(reduced_chunk(block))
            outs.append(ys[: chunk - pad])
            nst.append(n[: chunk - pad])
        return np.concatenate(outs), np.concatenate(nst)

    k_kv = min(k, args.kvaerno_samples)
    chunk_kv = min(chunk, k_kv)
    t = time.perf_counter()
    run_reduced(samples[:chunk_kv], chunk_kv)
    t_first_k = time.perf_counter() - t
    t = time.perf_counter()
    y_kv, steps_kv = run_reduced(samples[:k_kv], chunk_kv)
    t_kv = time.perf_counter() - t
    t_compile_kv = t_first_k - t_kv / math.ceil(k_kv / chunk_kv)

    # ---- SUNDIALS IDA loop ----------------------------------------------------------------
    params = jax.vmap(box)(samples)
    phys = np.stack([np.asarray(x) for x in jax.tree_util.tree_leaves(params)], axis=1)
    y0s = np.asarray(jax.vmap(circuit.initial_state)(params))

    # consistent initial derivatives (IDA needs yp0): M yp = phi on the range of M, and the
    # differentiated algebraic equations U0^T (phi_t + J yp) = 0 (index 1); not timed.
    def yp0(p, y0):
        mass = circuit.mass(p)
        u, s, vt = jnp.linalg.svd(mass)
        phi = circuit.rhs(0.0, y0, p)
        jac = jax.jacfwd(lambda y: circuit.rhs(0.0, y, p))(y0)
        phit = jax.jacfwd(lambda t: circuit.rhs(t, y0, p))(0.0)
        r = 3
        a = jnp.concatenate([u[:, :r].T @ mass, u[:, r:].T @ jac])
        b = jnp.concatenate([u[:, :r].T @ phi, -u[:, r:].T @ phit])
        return jnp.linalg.solve(a, b)

    yp0s = np.asarray(jax.vmap(yp0)(params, jnp.asarray(y0s)))
    ts_np = np.asarray(ts)
    t = time.perf_counter()
    y_ida, nfev = _ida_loop(phys, y0s, yp0s, ts_np, rtol, atol, circuit.amplitude,
                            circuit.period, progress)
    t_ida = time.perf_counter() - t

    d_ida = np.max(np.abs(y_jaxsci - y_ida))
    d_kv = np.max(np.abs(y_jaxsci[:k_kv] - y_kv))
    d_kv_ida = np.max(np.abs(y_kv - y_ida[:k_kv]))
    print()
    print(f"{'method':<34} {'compile [s]':>11} {'run [s]':>9} {'per sample [ms]':>15} "
          f"{'steps (mean)':>12}")
    print(f"{'jaxsci Rodas4 sweep (vmap, jit)':<34} {t_compile:>11.2f} {t_jaxsci:>9.2f} "
          f"{1e3 * t_jaxsci / k:>15.2f} {steps.mean():>12.0f}")
    print(f"{'jaxsci Rodas4 sweep, step_to_ts':<34} {t_compile_ts:>11.2f} {t_ts:>9.2f} "
          f"{1e3 * t_ts / k:>15.2f} {steps_ts.mean():>12.0f}")
    print(f"{'jaxsci Rodas5P sweep':<34} {t_compile_5p:>11.2f} {t_5p:>9.2f} "
          f"{1e3 * t_5p / k:>15.2f} {steps_5p.mean():>12.0f}")
    print(f"{f'diffrax Kvaerno5, reduced (k={k_kv})':<34} {t_compile_kv:>11.2f} "
          f"{t_kv:>9.2f} {1e3 * t_kv / k_kv:>15.2f} {steps_kv.mean():>12.0f}")
    print(f"{'SUNDIALS IDA loop (scikit-sundae)':<34} {'-':>11} {t_ida:>9.2f} "
          f"{1e3 * t_ida / k:>15.2f} {'-':>12}")
    print(f"max |U5 jaxsci - U5 IDA|      = {d_ida:.2e} V")
    print(f"max |U5 jaxsci - U5 Kvaerno5| = {d_kv:.2e} V")
    print(f"max |U5 jaxsci - U5 jaxsci step_to_ts| = {np.max(np.abs(y_jaxsci - y_ts)):.2e} V")
    print(f"max |U5 jaxsci step_to_ts - U5 IDA|    = {np.max(np.abs(y_ts - y_ida)):.2e} V")
    print(f"max |U5 Kvaerno5 - U5 IDA|    = {d_kv_ida:.2e} V")
    print(f"max |U5 jaxsci Rodas5P - U5 IDA|       = {np.max(np.abs(y_5p - y_ida)):.2e} V")
    print(f"max |U5 jaxsci Rodas5P - U5 jaxsci step_to_ts| = {np.max(np.abs(y_5p - y_ts)):.2e} V")
    print(f"speed-up over the IDA loop with Rodas5P: {t_ida / t_5p:.1f}x "
          f"(the ratio below is for the default solver, Rodas4)")
    print(f"speed-up over Kvaerno5 reduced (per sample): {(t_kv / k_kv) / (t_jaxsci / k):.1f}x")
    print()
    e2e = _timing.cold_warm(__file__, argv, args.keep_e2e_cache)
    _timing.print_ratios(e2e, "jaxsci", t_ida, "SUNDIALS IDA loop",
                         "jaxsci dae.sweep (default settings)")
    print(f"ratio: {t_ida / t_jaxsci:.2f}")


if __name__ == "__main__":
    main()
