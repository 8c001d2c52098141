"""Demo: GP regression with multistart hyperparameter fitting, and a GP built from gradients.

1. A 1-D function sampled at 12 points; `gp.fit` (20 L-BFGS starts under one `vmap`) tunes
   the kernel; plot of the posterior mean +- 2 std against the truth.
2. Frankel et al. section 5: a 2-D function recovered from gradient observations at 40
   points plus one grounding value (eqs. 35-40, covariances by autodiff of the kernel).
"""

import pathlib

TITLE = "Gaussian processes: multistart fit and derivative observations (jaxsci.gp)"


def _f1(x):
    import jax.numpy as jnp

    return jnp.sin(3.0 * x) + 0.3 * x**2


def _f2(x):
    import jax.numpy as jnp

    return jnp.sin(2.0 * x[0]) * jnp.cos(x[1]) + 0.5 * x[1] ** 2


def run(out: pathlib.Path) -> list[tuple[str, str]]:
    import jax
    import jax.numpy as jnp
    import jax.random as jr
    import matplotlib.pyplot as plt
    import numpy as np

    from jaxsci import gp, kernels

    rows: list[tuple[str, str]] = []

    # Data in NumPy and each block in ONE jitted program: run eagerly, every jnp primitive
    # would compile a small program of its own (~110 of them here, ~2 s on 2 cores).
    # --- 1. multistart fit in 1-D -------------------------------------------------------
    key = jr.key(0)
    X = np.linspace(-2.0, 2.0, 12)[:, None]
    y = np.sin(3.0 * X[:, 0]) + 0.3 * X[:, 0] ** 2  # _f1
    sol = gp.fit(kernels.ExpQuad(1.0, 1.0), X, y, key=key, num_restarts=20, noise=1e-8)
    grid = np.linspace(-2.5, 2.5, 300)[:, None]

    @jax.jit
    def posterior_1d(post, grid):  # sol.value: the fitted posterior, factorised once by fit
        mean, var = gp.predict(post, grid)
        return mean, var, _f1(grid[:, 0])

    mean, var, truth = (np.asarray(a) for a in posterior_1d(sol.value, grid))
    inside = np.abs(grid[:, 0]) <= 2.0
    rmse1 = float(np.sqrt(np.mean((mean - truth)[inside] ** 2)))
    lmls = np.asarray(sol.stats["per_start"]["log_marginal_likelihoods"])
    rows += [
        ("1-D fit: best LML (20 starts)", f"{float(sol.stats['log_marginal_likelihood']):.3f}"),
        ("1-D fit: starts reaching the best LML", f"{int(np.sum(lmls > lmls.max() - 1e-3))}/20"),
        ("1-D fit: variance, lengthscale", f"{float(sol.value.kernel.variance):.3g}, {float(sol.value.kernel.lengthscale):.3g}"),
        ("1-D fit: RMSE on [-2, 2]", f"{rmse1:.2e}"),
    ]

    # --- 2. function from gradients (+ one grounding value) -------------------------------
    rng = np.random.default_rng(0)
    Xg = rng.uniform(-1.5, 1.5, (40, 2))
    g1 = np.linspace(-1.5, 1.5, 40)
    G = np.stack(np.meshgrid(g1, g1, indexing="xy"), -1).reshape(-1, 2)

    @jax.jit
    def gradient_gp(Xg, G):
        grads = jax.vmap(jax.grad(_f2))(Xg)
        x0 = jnp.zeros((1, 2))
        Xo, which, yo = gp.gradient_observations(Xg, grads, x0, _f2(x0[0])[None])
        post2 = gp.condition(kernels.SquaredExponential(1.0, 0.5), Xo, yo, which=which)
        m2, dm2, v2, _ = gp.predict_value_and_grad(post2, G)
        return m2, dm2, v2, jax.vmap(_f2)(G), jax.vmap(jax.grad(_f2))(G)

    m2, dm2, v2, f_true, g_true = (np.asarray(a) for a in gradient_gp(Xg, G))
    rmse_f = float(np.sqrt(np.mean((m2 - f_true) ** 2)))
    rmse_g = float(np.sqrt(np.mean((dm2 - g_true) ** 2)))
    rows += [
        ("gradient GP: observations", f"{Xg.shape[0]} gradients + 1 value"),
        ("gradient GP: value RMSE / range", f"{rmse_f:.2e} / {float(np.ptp(f_true)):.2f}"),
        ("gradient GP: gradient RMSE", f"{rmse_g:.2e}"),
        ("gradient GP: max posterior std", f"{float(np.sqrt(np.max(v2))):.2e}"),
    ]

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    sd = np.sqrt(var)
    ax.fill_between(grid[:, 0], mean - 2 * sd, mean + 2 * sd, alpha=0.3, label="mean ± 2 std")
    ax.plot(grid[:, 0], truth, "k--", label="truth")
    ax.plot(grid[:, 0], mean, "C0", label="GP mean")
    ax.plot(X[:, 0], y, "ko", ms=4, label="data")
    ax.set_title(f"multistart fit (20 starts), RMSE {rmse1:.1e}")
    ax.legend(fontsize=8)
    shape = (g1.size, g1.size)
    for ax, field, title in (
        (axes[1], f_true, "truth f(x)"),
        (axes[2], m2, f"GP from gradients, RMSE {rmse_f:.1e}"),
    ):
        cs = ax.contourf(g1, g1, np.asarray(field).reshape(shape), levels=20)
        ax.plot(Xg[:, 0], Xg[:, 1], "w.", ms=4)
        ax.plot([0], [0], "r*", ms=10)
        ax.set_title(title)
        fig.colorbar(cs, ax=ax)
    fig.tight_layout()
    fig.savefig(out / "gp.png", dpi=110)
    plt.close(fig)
    return rows
