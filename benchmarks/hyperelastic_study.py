"""Fig. 2 study (component GP and TBGP parts): jaxsci vs scikit-learn, same data, same process.

For each training size n and each of T trials: Mooney-Rivlin stress data with eigenvalues
of B in [1.0, 1.5]; fit a component GP (6 -> 6) and a TBGP (invariants -> coefficients),
20 hyperparameter restarts, squared-exponential kernel (scikit-learn: ConstantKernel * RBF,
alpha=1e-10, n_restarts_optimizer=19); test stress RMSE on 200 tensors.
jaxsci runs all trials and restarts of one size in one vmapped, jitted call; scikit-learn
loops over trials (its restarts are sequential). jaxsci compile time (first call minus a
second call) is reported separately. Then the end-to-end ratios: scikit-learn's total wall
time (measured in this process) / the sum of jaxsci's first `stress_rmse_trials` calls of
the same fits (GP and TBGP, every size) in a fresh process, trace + compile + run, with a
cold and with a warm persistent compilation cache (see `benchmarks/_timing.py`).
Last line: `ratio: <sklearn wall / jaxsci run wall>`.
"""

import argparse
import os
import sys
import time
import warnings

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np


def _devices(argv) -> int:
    """`--devices N` (default: every core of this process's CPU set), read before JAX
    starts: the number of CPU devices is fixed when the backend starts."""
    for i, a in enumerate(argv):
        if a == "--devices" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--devices="):
            return int(a.split("=", 1)[1])
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


DEVICES = _devices(sys.argv[1:])
jax.config.update("jax_num_cpu_devices", DEVICES)
jax.config.update("jax_enable_x64", True)

from jaxsci import mechanics as mech  # noqa: E402

import _timing  # noqa: E402  (benchmarks/, next to this script)

R = 20  # hyperparameter restarts


def test_data():
    """The 200 test tensors and their stresses, and the vmapped stress function."""
    stress = jax.vmap(lambda B: mech.cauchy_stress(mech.MooneyRivlin(), B))
    Bt = mech.sample_finger_tensors(200, key=jr.key(7))
    return stress, Bt, stress(Bt)


def train_data(stress, trials, n):
    """`trials` training sets of n tensors (seeded by n) and their stresses."""
    Bs = mech.sample_finger_tensors(trials * n, key=jr.key(n)).reshape(trials, n, 3, 3)
    return Bs, stress(Bs.reshape(-1, 3, 3)).reshape(Bs.shape)


FITS = (("GP", mech.fit_component_gp), ("TBGP", mech.fit_tbgp))


SHARD_FROM_N = 100  # measured (docs/benchmarks.md): 1.5-1.7x at n = 200, 0.75-1.04x at n = 50


def trial_sharding(trials, n):
    """Split the trials over the CPU devices (one L-BFGS pool per device, each on its own
    core) from n = SHARD_FROM_N on, where the O(n^3) work per evaluation outweighs the
    per-device overhead: the largest device count <= DEVICES that divides `trials`;
    `None` for one device or small n."""
    k = max(d for d in range(1, min(DEVICES, len(jax.devices())) + 1) if trials % d == 0)
    if k == 1 or n < SHARD_FROM_N:
        return None
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:k]), ("trials",))
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("trials"))


def study_e2e(trials, sizes):
    """End-to-end child: the first `stress_rmse_trials` call of every (size, model) pair of
    the compared study, in a fresh process (data built first, not timed); their sum."""
    stress, Bt, St = test_data()
    data = {n: train_data(stress, trials, n) for n in sizes}
    jax.block_until_ready((St, data))
    out = {"jaxsci": 0.0}
    for n in sizes:
        sharding = trial_sharding(trials, n)
        Bs, Ss = data[n]
        for name, fit in FITS:
            _, t = _timing.timed(mech.stress_rmse_trials, fit, Bs, Ss, Bt, St, key=jr.key(1),
                                 num_restarts=R, sharding=sharding)
            out["jaxsci"] += t
            out[f"{name} n={n}"] = t
    return out


def _sklearn_rmse(feat, Bs, Ss, Bt, St, seed):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel

    out = []
    for t in range(Bs.shape[0]):
        X, Y = feat(Bs[t], Ss[t])
        gpr = GaussianProcessRegressor(
            ConstantKernel() * RBF(), alpha=1e-10, n_restarts_optimizer=19, random_state=seed + t
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gpr.fit(X, Y)
        Xt, _ = feat(Bt, St)
        P = gpr.predict(Xt)
        out.append(P)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--sizes", type=int, nargs="*", default=[10, 20, 50, 100, 200])
    p.add_argument("--energy-sizes", type=int, nargs="*", default=[10, 20, 50],
                   help="sizes for the strain-energy GP's own timing (no scikit-learn counterpart)")
    p.add_argument("--devices", type=int, default=DEVICES,
                   help="CPU devices (cores) the trials are split over; default: all cores")
    _timing.add_arguments(p)
    a = p.parse_args(argv)
    if a.quick:
        a.trials, a.sizes, a.energy_sizes = 3, [10, 20], [10]
    if a.e2e_child:
        _timing.run_child(a, lambda: study_e2e(a.trials, a.sizes))
        return
    stress, Bt, St = test_data()
    vi = jax.jit(jax.vmap(mech.invariants))
    vc = jax.jit(jax.vmap(mech.extract_coefficients))
    vv = jax.jit(jax.vmap(mech.sym_to_vec))
    tb_feat = lambda B, S: (np.asarray(vi(B)), np.asarray(vc(B, S)))
    cg_feat = lambda B, S: (np.asarray(vv(B)), np.asarray(vv(S)))
    basis = jax.jit(jax.vmap(mech.expand))

    def rmse_tb(P):  # coefficients -> stress
        d = jax.vmap(mech.sym_to_vec)(basis(jnp.asarray(P), Bt) - St)
        return float(jnp.sqrt(jnp.mean(d * d)))

    def rmse_cg(P):
        d = np.asarray(P) - np.asarray(vv(St))
        return float(np.sqrt(np.mean(d * d)))

    big = trial_sharding(a.trials, SHARD_FROM_N)
    print(f"jaxsci: trials split over {1 if big is None else big.mesh.size} CPU device(s) for n >= {SHARD_FROM_N}; "
          f"scikit-learn: one process (OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})")
    t_ours_run = t_ours_compile = t_sk = 0.0
    print(f"{'n':>5}{'model':>8}{'jaxsci RMSE':>14}{'sklearn RMSE':>14}{'jax run s':>11}{'jax comp s':>11}{'sk s':>9}")
    for n in a.sizes:
        Bs, Ss = train_data(stress, a.trials, n)
        sharding = trial_sharding(a.trials, n)
        for (name, fit), feat, rm in zip(FITS, (cg_feat, tb_feat), (rmse_cg, rmse_tb)):
            t0 = time.perf_counter()
            r = mech.stress_rmse_trials(fit, Bs, Ss, Bt, St, key=jr.key(1), num_restarts=R, sharding=sharding).block_until_ready()
            t1 = time.perf_counter()
            r = mech.stress_rmse_trials(fit, Bs, Ss, Bt, St, key=jr.key(1), num_restarts=R, sharding=sharding).block_until_ready()
            t2 = time.perf_counter()
            Ps = _sklearn_rmse(feat, np.asarray(Bs), np.asarray(Ss), np.asarray(Bt), np.asarray(St), 0)
            t3 = time.perf_counter()
            sk = np.median([rm(P) for P in Ps])
            run, comp = t2 - t1, max((t1 - t0) - (t2 - t1), 0.0)
            t_ours_run += run; t_ours_compile += comp; t_sk += t3 - t2
            print(f"{n:>5}{name:>8}{float(np.median(r)):>14.3e}{sk:>14.3e}{run:>11.2f}{comp:>11.2f}{t3 - t2:>9.2f}", flush=True)
    print(f"total: jaxsci run {t_ours_run:.2f} s (+ compile {t_ours_compile:.2f} s), sklearn {t_sk:.2f} s")
    # The strain-energy GP (3n derivative observations + the grounding value, eqs. 33-40)
    # has no scikit-learn counterpart: its own time only.
    for n in a.energy_sizes:
        Bs, Ss = train_data(stress, a.trials, n)
        sharding = trial_sharding(a.trials, 3 * n + 1)
        call = lambda: mech.stress_rmse_trials(
            mech.fit_strain_energy_gp, Bs, Ss, Bt, St, key=jr.key(1), num_restarts=R, sharding=sharding
        ).block_until_ready()
        t0 = time.perf_counter(); call(); t1 = time.perf_counter(); r = call(); t2 = time.perf_counter()
        print(f"strain-energy GP n = {n:>4} ({3 * n + 1} observations), {a.trials} trials x {R} restarts: "
              f"run {t2 - t1:.2f} s (compile {max(2 * t1 - t0 - t2, 0.0):.2f} s), median stress RMSE "
              f"{float(np.median(r)):.3e}", flush=True)
    print()
    e2e = _timing.cold_warm(__file__, argv, a.keep_e2e_cache)
    _timing.print_ratios(e2e, "jaxsci", t_sk, "scikit-learn (all sizes, GP + TBGP)",
                         "jaxsci stress_rmse_trials (all sizes, GP + TBGP)")
    print(f"ratio: {t_sk / t_ours_run:.2f}")


if __name__ == "__main__":
    main()
