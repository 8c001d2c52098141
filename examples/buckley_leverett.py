"""PINNs for two-phase transport (Fuks & Tchelepi): the hyperbolic-vs-parabolic study.

Trains the paper's 8 x 20 tanh network (Glorot init) on u_t + f(u)_x = eps u_xx with the
Riemann data of eq. (18) for the concave (eq. 19, M = 2), non-convex Brooks-Corey (eq. 20,
M = 1) and convex (u^2) fluxes, Adam then L-BFGS, and reports the relative L2 error against
the exact inviscid entropy solution (eq. 21) -- and, for eps > 0, also against a fine-grid
finite-volume solution of the *viscous* equation, which is what the network actually solves.
Writes solution plots at t = 0.25, 0.5, 0.75, loss curves, first-layer gradient norms
(Fig. 7) and loss landscapes (Fig. 8) to --out, and prints a results table.

    python examples/buckley_leverett.py --quick          # < 1 min, tiny scale
    python examples/buckley_leverett.py                  # paper scale (Nr = 10,000)
"""

import argparse
import json
import pathlib
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax

from jaxsci import RESULTS, pinn
from jaxsci.init import glorot
from jaxsci.train import UpdateArgs, fit

PAPER = {"concave M=2, eps=0": 2.6e-2}

CASES = {
    "concave M=2, eps=0": (lambda: pinn.ConcaveFlux(2.0), 0.0),
    "non-convex M=1, eps=0": (lambda: pinn.BrooksCoreyFlux(1.0), 0.0),
    "non-convex M=1, eps=1e-2": (lambda: pinn.BrooksCoreyFlux(1.0), 1e-2),
    "non-convex M=1, eps=2.5e-3": (lambda: pinn.BrooksCoreyFlux(1.0), 2.5e-3),
    "non-convex M=1, eps=5e-2": (lambda: pinn.BrooksCoreyFlux(1.0), 5e-2),
    "convex u^2, eps=0": (lambda: pinn.ConvexFlux(), 0.0),
    "convex u^2, eps=2.5e-3": (lambda: pinn.ConvexFlux(), 2.5e-3),
}
LANDSCAPE_CASES = ["non-convex M=1, eps=5e-2", "non-convex M=1, eps=2.5e-3", "non-convex M=1, eps=0"]


class ScaledInput(eqx.Module):
    """u(X) = net(2 (X - lb)/(ub - lb) - 1): the input normalisation of Raissi et al.'s PINN
    code, which Fuks & Tchelepi use (the network sees (x, t) in [-1, 1]^2)."""

    net: eqx.nn.MLP

    def __call__(self, p):
        return self.net(2.0 * p - 1.0)


def make_network(key, width=20, depth=8, scale_inputs=False):
    """The paper's fully connected tanh network (eq. 11) with Glorot (Xavier) init."""
    k1, k2 = jr.split(key)
    net = glorot(eqx.nn.MLP(2, "scalar", width, depth, activation=jnp.tanh, key=k1), key=k2)
    return ScaledInput(net) if scale_inputs else net


def viscous_reference(flux_np, eps, times, n=2000):
    """Explicit upwind + central-diffusion finite volumes for u_t + f(u)_x = eps u_xx on
    [0, 1] (u = 1 at x = 0, outflow at x = 1; f increasing), sampled at `times`."""
    dx = 1.0 / n
    x = (np.arange(n) + 0.5) * dx
    s = np.linspace(0, 1, 1001)
    amax = np.max(np.abs(np.gradient(flux_np(s), s)))
    dt = 0.4 * dx / amax if eps == 0 else min(0.4 * dx / amax, 0.4 * dx * dx / eps)
    u = np.zeros(n)
    t, out = 0.0, []
    for target in times:
        while t < target - 1e-13:
            h = min(dt, target - t)
            ext = np.concatenate([[1.0], u, [u[-1]]])
            flux = flux_np(ext[:-1])
            lap = (ext[2:] - 2 * u + ext[:-2]) / dx**2
            u = u - h / dx * (flux[1:] - flux[:-1]) + h * eps * lap
            t += h
        out.append(u.copy())
    return x, np.array(out)


def eval_grid(n=101):
    x = jnp.linspace(0.0, 1.0, n)
    t = jnp.linspace(0.01, 1.0, n)
    xx, tt = jnp.meshgrid(x, t)
    return jnp.stack([xx.ravel(), tt.ravel()], axis=1), x, t


@eqx.filter_jit
def _predict(model, pts):
    return jax.vmap(model)(pts)


def relative_l2(pred, ref):
    return float(jnp.linalg.norm(pred - ref) / jnp.linalg.norm(ref))


def _bar(total, desc):
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, leave=False)
    state = {"last": 0}

    def update(i, values):
        i = int(i)
        bar.update(i + 1 - state["last"])
        state["last"] = i + 1
        bar.set_postfix(loss=f"{float(values['loss']):.2e}")
        if i + 1 >= total:
            bar.close()

    return update


def train_case(flux, eps, *, key, n_residual, n_data, adam_steps, lbfgs_steps, lr=1e-3,
               progress=True, desc="", scale_inputs=False, resample=False):
    """Adam then L-BFGS on the eq. (16) loss; returns (model, problem, history, grad_norms)."""
    kn, kc = jr.split(key)
    problem = pinn.RiemannProblem(flux, eps)
    batch = pinn.sample_collocation(
        problem, key=kc, n_interior=n_residual, n_constraint=n_data
    )
    args = pinn.PINNArgs(problem, batch)
    model = make_network(kn, scale_inputs=scale_inputs)
    every = max(1, adam_steps // 50)
    # exponential decay to lr/10 over the Adam phase
    schedule = optax.exponential_decay(lr, transition_steps=adam_steps, decay_rate=0.1)
    hook = (UpdateArgs(lambda m, a, key: pinn.resample(a, key=key)),) if resample else ()
    res = fit(pinn.pinn_loss, model, optax.adam(schedule), steps=adam_steps, args=args,
              callbacks=hook, key=jr.fold_in(key, 1),
              progress=(every, _bar(adam_steps, f"{desc} adam")) if progress else None)
    hist = {k: [np.asarray(v)] for k, v in res.history.items()}
    if progress:
        pts, _, _ = eval_grid()
        pts = pts.astype(jnp.float32)
        err = relative_l2(_predict(res.value, pts), _predict(problem.exact, pts))
        print(f"{desc}: after Adam loss={float(res.history['loss'][-1]):.3e} "
              f"relL2(inviscid)={err:.3e}", flush=True)
    gn = [hist.pop("grad_norms")[0]]
    model = res.value
    if lbfgs_steps:
        lbfgs = optax.lbfgs(
            linesearch=optax.scale_by_backtracking_linesearch(max_backtracking_steps=20)
        )
        every = max(1, lbfgs_steps // 50)
        res2 = fit(pinn.pinn_loss, model, lbfgs, steps=lbfgs_steps, args=args, throw=False,
                   progress=(every, _bar(lbfgs_steps, f"{desc} l-bfgs")) if progress else None)
        if res2.result == RESULTS.successful:
            model = res2.value
            for k, v in res2.history.items():
                (gn if k == "grad_norms" else hist[k]).append(np.asarray(v))
    hist = {k: np.concatenate(v) for k, v in hist.items()}
    return model, problem, hist, np.concatenate(gn)


def final_loss(model, problem, key, n_residual, n_data):
    batch = pinn.sample_collocation(problem, key=key, n_interior=n_residual, n_constraint=n_data)
    return float(eqx.filter_jit(pinn.pinn_loss)(model, pinn.PINNArgs(problem, batch))[0])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny scale (< 1 min)")
    p.add_argument("--out", default="jaxsci-out/buckley_leverett")
    p.add_argument("--n-residual", type=int, default=10_000)
    p.add_argument("--n-data", type=int, default=300)
    p.add_argument("--adam-steps", type=int, default=10_000)
    p.add_argument("--lbfgs-steps", type=int, default=10_000)
    p.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    p.add_argument("--landscape-points", type=int, default=21, help="0 skips the landscapes")
    p.add_argument("--landscape-residual", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, default=1e-3, help="initial Adam learning rate")
    p.add_argument("--scale-inputs", action="store_true", help="map (x, t) to [-1, 1]^2")
    p.add_argument("--resample", action="store_true",
                   help="fresh residual points every Adam step (L-BFGS keeps a fixed set)")
    a = p.parse_args(argv)
    from jaxsci import enable_compilation_cache

    enable_compilation_cache()  # opt-in persistent XLA cache: re-runs skip most compiles
    if a.quick:
        a.n_residual, a.n_data, a.adam_steps, a.lbfgs_steps = 500, 100, 300, 50
        a.cases = [c for c in a.cases if c in ("concave M=2, eps=0", "non-convex M=1, eps=0")]
        a.landscape_points = 9
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    key = jr.key(a.seed)
    pts, xg, tg = eval_grid()
    rows, trained = [], {}
    for i, name in enumerate(a.cases):
        make_flux, eps = CASES[name]
        flux = make_flux()
        t0 = time.perf_counter()
        model, problem, hist, gn = train_case(
            flux, eps, key=jr.fold_in(key, i), n_residual=a.n_residual, n_data=a.n_data,
            adam_steps=a.adam_steps, lbfgs_steps=a.lbfgs_steps, lr=a.lr, desc=name,
            scale_inputs=a.scale_inputs, resample=a.resample,
        )
        wall = time.perf_counter() - t0
        exact = _predict(problem.exact, pts.astype(jnp.float32))
        pred = _predict(model, pts.astype(jnp.float32))
        err = relative_l2(pred, exact)
        err_visc = float("nan")
        if eps > 0:
            f_np = lambda u, flux=flux: np.asarray(flux(jnp.asarray(u)))  # noqa: E731
            xr, ur = viscous_reference(f_np, eps, np.asarray(tg))
            ref = np.stack([np.interp(np.asarray(xg), xr, row) for row in ur]).ravel()
            err_visc = relative_l2(pred, jnp.asarray(ref, pred.dtype))
            floor = relative_l2(jnp.asarray(ref, pred.dtype), exact)
        else:
            floor = 0.0
        rows.append({
            "case": name, "eps": eps, "rel_l2_vs_inviscid": err,
            "rel_l2_vs_viscous_fv": err_visc, "viscous_fv_vs_inviscid": floor,
            "final_loss": float(hist["loss"][-1]), "paper": PAPER.get(name), "wall_s": wall,
        })
        trained[name] = (model, problem, hist, gn)
        print(f"{name:28s} relL2(inviscid)={err:.3e}  relL2(viscous FV)={err_visc:.3e}  "
              f"loss={hist['loss'][-1]:.2e}  ({wall:.0f} s)", flush=True)
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.2), sharey=True)
        for ax, tt in zip(axes, (0.25, 0.5, 0.75)):
            q = jnp.stack([xg, jnp.full_like(xg, tt)], axis=1).astype(jnp.float32)
            ax.plot(xg, _predict(problem.exact, q), "k-", label="exact (inviscid)")
            ax.plot(xg, _predict(model, q), "r--", label="PINN")
            ax.set_title(f"{name}, t = {tt}")
            ax.set_xlabel("x")
        axes[0].set_ylabel("u")
        axes[0].legend()
        fig.tight_layout()
        fig.savefig(out / f"solution_{i}.png", dpi=110)
        plt.close(fig)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for name, (_, _, hist, gn) in trained.items():
        ax1.semilogy(hist["loss"], label=name)
        ax2.semilogy(gn[:, 0], label=name)
    ax1.set_title("loss (Adam, then L-BFGS)")
    ax2.set_title("||dL/dW_1|| (first layer, Fig. 7)")
    for ax in (ax1, ax2):
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "training.png", dpi=110)
    plt.close(fig)

    land = [c for c in LANDSCAPE_CASES if c in trained] or list(trained)[:1]
    if a.landscape_points > 0 and land:
        fig, axes = plt.subplots(1, len(land), figsize=(4.6 * len(land), 4), squeeze=False)
        grid = jnp.linspace(-0.5, 0.5, a.landscape_points, dtype=jnp.float32)
        for ax, name in zip(axes[0], land):
            model, problem, _, _ = trained[name]
            batch = pinn.sample_collocation(
                problem, key=jr.key(99), n_interior=min(a.n_residual, a.landscape_residual),
                n_constraint=a.n_data,
            )
            args = pinn.PINNArgs(problem, batch)
            loss = lambda m, args=args: pinn.pinn_loss(m, args)[0]  # noqa: E731
            d1 = pinn.filter_normalized_direction(model, key=jr.key(1))
            d2 = pinn.filter_normalized_direction(model, key=jr.key(2))
            surf = eqx.filter_jit(pinn.loss_surface)(loss, model, d1, d2, grid, grid, batch_size=64)
            pinn.plot_loss_surface(surf, grid, grid, ax=ax, title=name)
        fig.tight_layout()
        fig.savefig(out / "landscapes.png", dpi=110)
        plt.close(fig)

    scale = (f"Nr={a.n_residual}, Nu={a.n_data}, Adam {a.adam_steps} (lr {a.lr}, decay to "
             f"lr/10) + L-BFGS {a.lbfgs_steps}, "
             f"float32, seed {a.seed}")
    print(f"\nResults ({scale})")
    print(f"{'case':28s} {'relL2 inviscid':>15s} {'relL2 viscous':>14s} {'FV floor':>9s} "
          f"{'loss':>9s} {'paper':>8s}")
    for r in rows:
        paper = f"{r['paper']:.1e}" if r["paper"] else "-"
        print(f"{r['case']:28s} {r['rel_l2_vs_inviscid']:15.3e} {r['rel_l2_vs_viscous_fv']:14.3e} "
              f"{r['viscous_fv_vs_inviscid']:9.3e} {r['final_loss']:9.2e} {paper:>8s}")
    (out / "results.json").write_text(json.dumps({"scale": scale, "rows": rows}, indent=1))
    return rows


if __name__ == "__main__":
    main()
