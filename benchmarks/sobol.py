"""Monte-Carlo Sobol indices of a many-output model: jaxsci.sensitivity vs SALib, same samples.

Model: 500 outputs of 10 inputs on [0, 1]^10, output k a Sobol G-function
`prod_i (|4 x_i - 2| + a_ik) / (1 + a_ik)` whose coefficients `a_ik` drift with k (like a
time series whose important inputs change over time), so every output has known analytic
first and total indices. Design: one scrambled Saltelli sample of N = 2^14 base samples
(`jaxsci.sensitivity.saltelli_sample`, SALib's row layout, first and total order only:
N (D + 2) = 196,608 rows), evaluated once in NumPy; both tools analyse the SAME model values
`Y` (rows, 500) in the same process:

1. SALib: `SALib.analyze.sobol.analyze(problem, Y[:, k], calc_second_order=False,
   num_resamples=100)` for each output k in a Python loop (as SALib users do; it takes one
   output at a time);
2. jaxsci: `saltelli_indices(Y, 10, key=..., num_resamples=100, output_chunk_size=...)`:
   all outputs in one jitted call (compile time reported separately, run time the median
   of `--repeats`).

Checks: first and total indices of both tools agree (max abs difference, expected ~1e-15:
same estimator, same values); the confidence intervals of output 0 agree when jaxsci is
given SALib's resample indices (`np.random.seed(0); np.random.randint(N, size=(N, 100))`,
SALib's own draw); the other outputs' CIs use different random resamples, their median
relative difference is printed; the distance of both to the analytic indices.

For information, also jaxsci end to end from the model (`sobol_analysis`: sampling + the
model in JAX, vmapped + indices) against SALib's pipeline (its `sample` + the NumPy model +
the analyze loop).

Then the end-to-end ratios (SALib loop time measured in this process / jaxsci's first
`saltelli_indices` call in a fresh process, trace + compile + run, with a cold and with a
warm persistent compilation cache; see `benchmarks/_timing.py`), and as last line
`ratio: <SALib analyze loop / jaxsci saltelli_indices run time>`.

    python benchmarks/sobol.py            # N = 2^14, 500 outputs (SALib: a few minutes)
    python benchmarks/sobol.py --quick    # N = 2^11, 40 outputs (smoke run)
"""

import argparse
import os
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

from jaxsci import sensitivity as se  # noqa: E402

import _timing  # noqa: E402  (benchmarks/, next to this script)

D = 10
NUM_RESAMPLES = 100


def coefficients(num_outputs: int) -> np.ndarray:
    """a_ik (D, K): input i's importance rises and falls along the outputs (a small a = an
    important input); each output has a few important inputs."""
    t = np.linspace(0.0, 1.0, num_outputs)[None, :]
    centre = np.linspace(0.0, 1.0, D)[:, None]
    return 0.2 + 30.0 * (1.0 - np.exp(-(((t - centre) / 0.25) ** 2)))


def model_np(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """(rows, D) -> (rows, K), in chunks of rows (memory)."""
    out = np.empty((x.shape[0], a.shape[1]))
    for s in range(0, x.shape[0], 8192):
        g = np.abs(4.0 * x[s : s + 8192] - 2.0)[:, :, None]  # (c, D, 1)
        out[s : s + 8192] = np.prod((g + a[None]) / (1.0 + a[None]), axis=1)
    return out


def model_jax(a):
    a = jnp.asarray(a)

    def f(x):  # one point (D,) -> (K,)
        return jnp.prod((jnp.abs(4.0 * x - 2.0)[:, None] + a) / (1.0 + a), axis=0)

    return f


def analytic(a: np.ndarray):
    vi = 1.0 / (3.0 * (1.0 + a) ** 2)  # (D, K)
    v = np.prod(1.0 + vi, axis=0) - 1.0
    s1 = (vi / v).T
    st = (vi * np.prod(1.0 + vi, axis=0) / (1.0 + vi) / v).T
    return s1, st  # (K, D)


def make_data(n, num_outputs):
    a = coefficients(num_outputs)
    x = np.asarray(se.saltelli_sample(n, D, key=jr.key(0)))
    return a, x, model_np(x, a)


def indices(y, chunk):
    return se.saltelli_indices(
        y, D, key=jr.key(1), num_resamples=NUM_RESAMPLES, output_chunk_size=chunk
    )


def e2e_child(n, num_outputs, chunk):
    _, _, y = make_data(n, num_outputs)
    y = jnp.asarray(y)
    jax.block_until_ready(y)
    res, t = _timing.timed(indices, y, chunk)
    return {"jaxsci": t, "s1_sum": float(jnp.sum(res.first_order))}


def salib_loop(problem, y):
    from SALib.analyze import sobol

    np.random.seed(0)
    out = {k: np.empty((y.shape[1], D)) for k in ("S1", "ST", "S1_conf", "ST_conf")}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(y.shape[1]):
            r = sobol.analyze(problem, y[:, k], calc_second_order=False,
                              num_resamples=NUM_RESAMPLES, conf_level=0.95)
            for name in out:
                out[name][k] = r[name]
    return out, time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="N = 2^11, 40 outputs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output-chunk-size", type=int, default=50,
                        help="outputs per chunk in saltelli_indices (memory)")
    parser.add_argument("--skip-pipeline", action="store_true",
                        help="skip the end-to-end-from-the-model comparison")
    _timing.add_arguments(parser)
    args = parser.parse_args(argv)
    n, num_outputs = (2**11, 40) if args.quick else (2**14, 500)
    chunk = args.output_chunk_size
    if args.e2e_child:
        _timing.run_child(args, lambda: e2e_child(n, num_outputs, chunk))
        return
    print(f"devices: {jax.devices()}  (float64, OPENBLAS_NUM_THREADS="
          f"{os.environ['OPENBLAS_NUM_THREADS']})", flush=True)
    a, x, y = make_data(n, num_outputs)
    rows = x.shape[0]
    print(f"model: {num_outputs} outputs, D = {D} inputs, N = {n} base samples -> {rows} rows; "
          f"Y {y.shape} ({y.nbytes / 2**20:.0f} MiB); {NUM_RESAMPLES} bootstrap resamples")
    problem = {"num_vars": D, "names": [f"x{i}" for i in range(D)], "bounds": [[0.0, 1.0]] * D}

    yj = jnp.asarray(y)
    _, t_first = _timing.timed(indices, yj, chunk)
    times = []
    for _ in range(args.repeats):
        res, t = _timing.timed(indices, yj, chunk)
        times.append(t)
    t_run = float(np.median(times))
    print(f"jaxsci saltelli_indices: first call {t_first:.2f} s (compile ~{t_first - t_run:.2f} s), "
          f"run {t_run:.3f} s (median of {args.repeats})", flush=True)

    ref, t_salib = salib_loop(problem, y)
    print(f"SALib sobol.analyze loop over {num_outputs} outputs: {t_salib:.2f} s "
          f"({1e3 * t_salib / num_outputs:.0f} ms per output)")

    d1 = np.abs(np.asarray(res.first_order) - ref["S1"]).max()
    dt = np.abs(np.asarray(res.total) - ref["ST"]).max()
    np.random.seed(0)
    r0 = np.random.randint(n, size=(n, NUM_RESAMPLES))  # SALib's draw for output 0
    own0 = se.saltelli_indices(yj[:, :1], D, resample_indices=r0)
    dc = max(np.abs(np.asarray(own0.first_order_conf[0]) - ref["S1_conf"][0]).max(),
             np.abs(np.asarray(own0.total_conf[0]) - ref["ST_conf"][0]).max())
    rel = np.abs(np.asarray(res.total_conf) - ref["ST_conf"]) / np.maximum(ref["ST_conf"], 1e-12)
    s1_exact, st_exact = analytic(a)
    err = lambda s, e: float(np.abs(s - e).max())  # noqa: E731
    print(f"agreement on the same Y: max |S1 diff| {d1:.1e}, max |ST diff| {dt:.1e}; output 0's "
          f"CIs with SALib's resample indices: max diff {dc:.1e}; other CIs (independent "
          f"resamples): median relative difference {np.median(rel):.2f}")
    print(f"max error vs analytic indices: jaxsci S1 {err(res.first_order, s1_exact):.3f}, "
          f"ST {err(res.total, st_exact):.3f}; SALib S1 {err(ref['S1'], s1_exact):.3f}, "
          f"ST {err(ref['ST'], st_exact):.3f}")
    if not (d1 < 1e-10 and dt < 1e-10 and dc < 1e-10):
        raise SystemExit("jaxsci and SALib disagree on the same samples")
    ratio = t_salib / t_run
    print(f"speed-up after compilation (SALib loop / jaxsci run): {ratio:.1f}x   (target >= 20x)")

    if not args.skip_pipeline:
        from SALib.sample import sobol as salib_sample

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            xs = salib_sample.sample(problem, n, calc_second_order=False, seed=0)
            t_sample = time.perf_counter() - t0
        t0 = time.perf_counter()
        model_np(xs, a)
        t_model = time.perf_counter() - t0
        bounds = jnp.asarray(problem["bounds"])
        f = model_jax(a)

        def pipeline():
            return se.sobol_analysis(f, n, bounds, key=jr.key(2), num_resamples=NUM_RESAMPLES,
                                     chunk_size=8192, output_chunk_size=chunk)

        _, t_pfirst = _timing.timed(pipeline)
        _, t_prun = _timing.timed(pipeline)
        t_ref = t_sample + t_model + t_salib
        print(f"from the model (sample + evaluate + analyze): SALib {t_ref:.2f} s (sample "
              f"{t_sample:.2f} s, NumPy model {t_model:.2f} s, analyze {t_salib:.2f} s); jaxsci "
              f"sobol_analysis first call {t_pfirst:.2f} s, run {t_prun:.2f} s -> "
              f"{t_ref / t_prun:.1f}x")

    print()
    e2e = _timing.cold_warm(__file__, argv, args.keep_e2e_cache)
    _timing.print_ratios(e2e, "jaxsci", t_salib, "SALib analyze loop",
                         "jaxsci saltelli_indices")
    print(f"ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
