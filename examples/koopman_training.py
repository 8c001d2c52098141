"""Koopman analysis and acceleration of neural-network training (seed 003; Dogra 2020;
Dogra & Redman 2020).

1. Predicted vs actual loss curves: fit DMD to a window of weight snapshots (per layer and per
   neuron) or Hankel DMD to the loss series, forecast one window ahead, compare with the true
   run — on a smooth 1-D regression and on the 3-D nonlinear Poisson-Boltzmann PINN of
   `jaxsci.pinn` (hard-constrained as in the seed).
2. Koopman training vs the plain optimizer (Adam) to the same target loss: gradient
   evaluations and wall time.
3. The scale-up strategy (seed 003, steps 1-9) on the PINN, then continue training the chosen
   network to check the prediction.

    python examples/koopman_training.py [--quick] [--out DIR]
"""

import argparse
import pathlib
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

jax.config.update("jax_enable_x64", True)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from tqdm import tqdm  # noqa: E402

from jaxsci.koopman import (  # noqa: E402
    fit_weight_koopman,
    iterations_to_reach,
    koopman_train,
    predict_loss_at_weights,
    predict_loss_observable,
    scale_up,
)
from jaxsci.pinn import HardConstraintModel, PoissonBoltzmann  # noqa: E402
from jaxsci.train import optax_step, record_trajectory  # noqa: E402


def regression_problem(n: int = 64):
    x = jnp.linspace(-1, 1, n)[:, None]
    y = jnp.sin(3 * x[:, 0]) * jnp.exp(x[:, 0])

    def loss_fn(m):
        return jnp.mean((jax.vmap(m)(x) - y) ** 2)

    make = lambda w, d, k: eqx.nn.MLP(1, "scalar", w, d, activation=jnp.tanh, key=k)
    return loss_fn, make


def pinn_problem(n: int = 256):
    """3-D nPBE with one smoothed unit charge at the origin, box [-1, 1]^3, fixed collocation
    points (full batch, so training is a deterministic map w -> T(w))."""
    pb = PoissonBoltzmann(jnp.zeros((1, 3)), jnp.ones(1), kappa=1.0, sigma=0.25)
    pts = pb.domain.sample(n, key=jax.random.key(1))

    def loss_fn(net):
        model = HardConstraintModel(net, pb.boundary_value, pb.box_sq_distance)
        return jnp.mean(jax.vmap(lambda x: pb.residual(model, x))(pts) ** 2)

    make = lambda w, d, k: eqx.nn.MLP(3, "scalar", w, d, activation=jnp.tanh, key=k)
    return loss_fn, make


def _at(tree, i):
    return jax.tree_util.tree_map(lambda a: a[i] if eqx.is_array(a) else a, tree)


def prediction_study(name, loss_fn, params, opt, num, every, window, starts, out):
    """Record one run; at each start fit on the previous `window` snapshots and forecast
    `window` snapshots ahead. Returns rows (start, route, max relative error)."""
    rec = eqx.filter_jit(
        lambda p: record_trajectory(
            optax_step(loss_fn, opt), p, opt.init(eqx.filter(p, eqx.is_array)),
            num_snapshots=num, every=every,
        )
    )
    traj = rec(params)
    loss = np.asarray(traj.loss)
    ahead = jnp.arange(window + 1.0)
    predict = eqx.filter_jit(predict_loss_at_weights)
    rows, curves = [], []
    for s in starts:
        snaps = jax.tree_util.tree_map(
            lambda a: a[s - window : s + 1] if eqx.is_array(a) else a, traj.params
        )
        actual = loss[s : s + window + 1]
        preds = {
            "weights/layer": predict(fit_weight_koopman(snaps, every=every), loss_fn, _at(traj.params, s), ahead),
            "weights/neuron": predict(
                fit_weight_koopman(snaps, every=every, per_neuron=True), loss_fn, _at(traj.params, s), ahead
            ),
            "weights/layer, stabilized": predict(
                fit_weight_koopman(snaps, every=every, stabilize=True), loss_fn, _at(traj.params, s), ahead
            ),
            "loss observable": predict_loss_observable(traj.loss[s - window : s + 1], ahead),
        }
        for route, p in preds.items():
            err = float(np.max(np.abs(np.asarray(p) - actual) / actual))
            rows.append((name, s * every, route, err))
        curves.append((s, preds))
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = np.arange(num) * every
    ax.semilogy(steps, loss, "k", lw=2, label="actual")
    colors = {"weights/layer": "C0", "weights/neuron": "C1", "weights/layer, stabilized": "C3",
              "loss observable": "C2"}
    for s, preds in curves:
        t = (s + np.arange(window + 1)) * every
        ax.axvspan((s - window) * every, s * every, color="0.9")
        for route, p in preds.items():
            p = np.clip(np.asarray(p), loss.min() / 10, loss.max() * 10)
            ax.semilogy(t, p, "--", color=colors[route], label=route if s == starts[0] else None)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title(f"{name}: Koopman-predicted vs actual loss (grey: fitting windows)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / f"predicted_loss_{name}.png", dpi=120)
    plt.close(fig)
    return rows


def race(name, loss_fn, params, opt, target, window, every, max_cycles, out, quick=False):
    """Koopman training vs the plain optimizer to `target`: grad evals and wall time
    (compiled once, timed on a second call)."""
    res = {}
    jumps = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
    configs = (("Adam", dict(jumps=())), ("Koopman (layer)", dict(jumps=jumps)),
               ("Koopman (neuron)", dict(jumps=jumps, per_neuron=True)))
    configs = configs[:2] if quick else configs
    for label, kw in configs:
        f = eqx.filter_jit(
            lambda p: koopman_train(
                loss_fn, opt, p, num_cycles=max_cycles, window=window, every=every,
                target=target, throw=False, **kw,
            )
        )
        t0 = time.perf_counter()
        jax.block_until_ready(f(params))
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        sol = jax.block_until_ready(f(params))
        run_s = time.perf_counter() - t0
        h = sol.history
        assert np.all(np.asarray(h["loss_after"])[np.asarray(h["accepted"])] <= np.asarray(h["loss_before"])[np.asarray(h["accepted"])])
        res[label] = dict(
            grad_evals=int(sol.stats["grad_evals"]), loss_evals=int(sol.stats["loss_evals"]),
            wall=run_s, compile=compile_s, loss=float(sol.stats["loss"]),
            reached=bool(float(sol.stats["loss"]) <= target), accepted=int(sol.stats["accepted"]),
            hist=h,
        )
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, r in res.items():
        ok = np.isfinite(np.asarray(r["hist"]["loss_after"]))
        ax.semilogy(np.asarray(r["hist"]["grad_evals"])[ok], np.asarray(r["hist"]["loss_after"])[ok], label=label)
    ax.axhline(target, color="k", ls=":", label="target")
    ax.set_xlabel("gradient evaluations")
    ax.set_ylabel("loss")
    ax.set_title(f"{name}: Koopman training vs Adam")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / f"koopman_vs_adam_{name}.png", dpi=120)
    plt.close(fig)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="reduced sizes (well under a minute of compute)")
    ap.add_argument("--out", default="jaxsci-out/koopman_training")
    args = ap.parse_args(argv)
    from jaxsci import enable_compilation_cache

    enable_compilation_cache()  # opt-in persistent XLA cache: re-runs skip most compiles
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    q = args.quick
    key = jax.random.key(0)
    reg_loss, reg_make = regression_problem(32 if q else 64)
    pinn_loss, pinn_make = pinn_problem(48 if q else 256)
    bar = tqdm(total=5, desc="koopman example")

    # 1. predicted vs actual loss
    # fitting windows in the second half of the run (the early transient is strongly nonlinear)
    num, every, window = (41, 10, 10) if q else (120, 10, 20)
    starts = [20, 30] if q else [40, 70, 90]
    rows = prediction_study("regression-GD", reg_loss, reg_make(16, 2, key), optax.sgd(0.1), num, every, window, starts, out)
    if not q:
        rows += prediction_study("regression-Adam", reg_loss, reg_make(16, 2, key), optax.adam(1e-2), num, every, window, starts, out)
    bar.update()
    rows += prediction_study("PINN-Adam", pinn_loss, pinn_make(10, 1, key), optax.adam(1e-2), num, every, window, starts, out)
    bar.update()

    # 2. Koopman training vs Adam
    races = {
        "regression": race("regression", reg_loss, reg_make(16, 2, key), optax.adam(3e-3),
                           1e-3 if q else 1e-4, 10, 5, 60 if q else 200, out, quick=q),
    }
    bar.update()
    races["PINN"] = race("PINN", pinn_loss, pinn_make(10, 1, key), optax.adam(1e-2),
                         0.03 if q else 0.02, 10, 5, 30 if q else 60, out, quick=q)
    bar.update()

    # 3. scale-up on the PINN (n_in = 3: start at W = n_in + 1 = 4, D = 1; alpha = 2)
    lmin, budget, trial = (0.03, 600, 100) if q else (0.01, 3000, 300)
    su = scale_up(pinn_make, pinn_loss, optax.adam(1e-2), width=4, depth=1, target=lmin,
                  budget=budget, trial_steps=trial, every=10, num_seeds=2,
                  max_rounds=3 if q else 5, key=key, progress=1, throw=False)
    # step 9: continue the chosen (or last) network and measure the actual iterations to L_min
    h, chosen = su.history, int(su.stats["chosen"])
    w, d = int(su.stats["width"]), int(su.stats["depth"])
    cont = eqx.filter_jit(lambda p: koopman_train(
        pinn_loss, optax.adam(1e-2), p, num_cycles=budget // 50, window=10, every=5, jumps=(),
        target=lmin, throw=False))(su.value)
    seen = [np.flatnonzero(c <= lmin) for c in np.asarray(h["loss_curves"][chosen])]
    seen = [10 * int(i[0]) for i in seen if i.size]
    if seen:  # L_min was already met during the trial (earliest seed)
        actual_iters = min(seen)
    elif float(cont.stats["loss"]) <= lmin:
        actual_iters = trial + int(cont.stats["grad_evals"])
    else:
        actual_iters = np.inf
    bar.update()
    bar.close()
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, curve in enumerate(np.asarray(h["loss_curves"])):
        ax.semilogy(np.arange(curve.shape[1]) * 10, np.median(curve, 0),
                    label=f"W={int(h['width'][i])}, D={int(h['depth'][i])}: pred {float(h['predicted_iterations'][i]):g}")
    ax.axhline(lmin, color="k", ls=":", label="L_min")
    ax.set_xlabel("trial iteration")
    ax.set_ylabel("PINN loss (median over seeds)")
    ax.set_title("Koopman-guided scale-up (seed 003)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "scale_up_pinn.png", dpi=120)
    plt.close(fig)

    scale = "quick" if q else "full"
    print(f"\nPredicted vs actual loss, horizon = fitting window ({window} snapshots x {every} steps), scale={scale}")
    print(f"{'problem':<16} {'start':>6} {'route':<26} {'max rel err':>12}")
    for name, s, route, err in rows:
        print(f"{name:<16} {s:>6} {route:<26} {err:>12.3g}")
    print("\nKoopman training vs Adam to a target loss (wall time after compilation)")
    print(f"{'problem':<11} {'method':<17} {'grad evals':>10} {'loss evals':>10} {'wall s':>8} {'compile s':>9} {'final loss':>11} {'jumps':>5}")
    for prob, res in races.items():
        for label, r in res.items():
            print(f"{prob:<11} {label:<17} {r['grad_evals']:>10} {r['loss_evals']:>10} {r['wall']:>8.3f} {r['compile']:>9.2f} {r['loss']:>11.3g} {r['accepted']:>5}" + ("" if r["reached"] else "  (target not reached)"))
    print("\nScale-up on the PINN (L_min = %g, budget = %d iterations)" % (lmin, budget))
    for i in range(int(su.stats["num_rounds"])):
        print(f"  round {i}: W={int(h['width'][i]):<3} D={int(h['depth'][i])}  predicted iterations {float(h['predicted_iterations'][i]):g}  trial loss {float(h['trial_loss'][i]):.3g}  ({float(h['wall_time'][i]):.1f} s)")
    print(f"  chosen: W={w}, D={d} (round {chosen}); actual iterations to L_min when training continues: {actual_iters}")
    print(f"plots in {out.resolve()}/")
    return {"rows": rows, "races": races, "scale_up": su, "actual_iters": actual_iters}


if __name__ == "__main__":
    main()
