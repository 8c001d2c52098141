"""Demo: exact Riemann solutions for the Buckley-Leverett fluxes, and a small PINN."""

import pathlib

TITLE = "PINN toolkit: Buckley-Leverett Riemann solutions (Fuks & Tchelepi) and a PINN fit"


def _godunov_upwind(f, t_end, n=400):
    """First-order Godunov for an increasing flux (the Godunov flux is then f(u_left))."""
    import numpy as np

    dx = 1.0 / n
    u = np.zeros(n)
    s = np.linspace(0, 1, 501)
    dt0 = 0.9 * dx / np.max(np.abs(np.gradient(f(s), s)))
    t = 0.0
    while t < t_end - 1e-14:
        dt = min(dt0, t_end - t)
        flux = f(np.concatenate([[1.0], u]))
        u = u - dt / dx * (flux[1:] - flux[:-1])
        t += dt
    return (np.arange(n) + 0.5) * dx, u


def run(out: pathlib.Path) -> list[tuple[str, str]]:
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import jax.random as jr
    import matplotlib.pyplot as plt
    import numpy as np
    import optax

    from jaxsci import pinn
    from jaxsci.train import fit

    rows = []
    fluxes = {
        "concave (M=2)": pinn.ConcaveFlux(2.0),
        "Brooks-Corey (M=1)": pinn.BrooksCoreyFlux(1.0),
        "convex u^2": pinn.ConvexFlux(),
    }
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    t_end = 0.5

    # Each block below is ONE jitted program: run eagerly, every jnp / jax.random primitive
    # would compile its own small program (about 190 of them here, ~3 s on 2 cores).
    @eqx.filter_jit
    def exact_at(flux, x):
        sol = pinn.RiemannSolution(flux, n_grid=1025)
        return jax.vmap(sol)(jnp.stack([x, jnp.full(x.shape, t_end)], axis=1))

    flux_np = eqx.filter_jit(lambda flux, u: flux(u))
    for name, flux in fluxes.items():
        x, u_fv = _godunov_upwind(lambda u, flux=flux: np.asarray(flux_np(flux, u)), t_end)
        u_ex = np.asarray(exact_at(flux, x))
        rows.append((f"L1(exact - Godunov), {name}", f"{np.mean(np.abs(u_ex - u_fv)):.2e}"))
        axes[0].plot(x, u_ex, label=f"{name} exact")
        axes[0].plot(x, u_fv, "k:", lw=1)
    u_star, speed = eqx.filter_jit(pinn.welge_tangent)(fluxes["Brooks-Corey (M=1)"])
    rows.append(("Welge shock state u* (M=1; 1/sqrt2 = 0.7071)", f"{float(u_star):.4f}"))
    rows.append(("Welge shock speed (M=1; 1.2071)", f"{float(speed):.4f}"))
    axes[0].set_title(f"Riemann solutions at t = {t_end} (dotted: Godunov, 400 cells)")
    axes[0].set_xlabel("x")
    axes[0].legend(fontsize=7)

    # a small PINN on the concave-flux problem (the paper's smooth case)
    problem = pinn.RiemannProblem(fluxes["concave (M=2)"], 0.0)

    @eqx.filter_jit
    def setup(key):
        k1, k2 = jr.split(key)
        net = eqx.nn.MLP(2, "scalar", 20, 4, activation=jnp.tanh, key=k1)
        batch = pinn.sample_collocation(problem, key=k2, n_interior=400, n_constraint=100,
                                        sampler=pinn.Sobol())
        return net, batch

    net, batch = setup(jr.key(0))
    args = pinn.PINNArgs(problem, batch)
    res = fit(pinn.pinn_loss, net, optax.adam(optax.exponential_decay(5e-3, 600, 0.1)),
              steps=600, args=args)
    xg = np.linspace(0, 1, 101)
    q = np.stack([np.tile(xg, 3), np.repeat([0.25, 0.5, 0.75], 101)], axis=1)
    pred, exact = (np.asarray(a) for a in eqx.filter_jit(
        lambda m, q: (jax.vmap(m)(q), jax.vmap(problem.exact)(q)))(res.value, q))
    err = float(np.linalg.norm(pred - exact) / np.linalg.norm(exact))
    rows.append(("PINN concave flux, rel. L2 at t=.25/.5/.75 (600 Adam steps)", f"{err:.2e}"))
    rows.append(("PINN final loss", f"{float(res.history['loss'][-1]):.2e}"))
    for k, tt in enumerate((0.25, 0.5, 0.75)):
        sl = slice(101 * k, 101 * (k + 1))
        axes[1].plot(xg, exact[sl], "k-", lw=1)
        axes[1].plot(xg, pred[sl], "--", label=f"PINN t={tt}")
    axes[1].set_title("concave flux: PINN (dashed) vs exact")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "pinn_riemann.png", dpi=100)
    plt.close(fig)
    return rows
