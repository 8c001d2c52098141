"""Exact Riemann solutions vs a fine-grid Godunov finite-volume solution (NumPy)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import pinn

FLUXES = {
    "concave": (pinn.ConcaveFlux(2.0), lambda u: u / (u + (1 - u) / 2.0)),
    "brooks_corey": (pinn.BrooksCoreyFlux(1.0), lambda u: u**2 / (u**2 + (1 - u) ** 2)),
    "convex": (pinn.ConvexFlux(), lambda u: u**2),
}
U_TABLE = np.linspace(0.0, 1.0, 201)


@eqx.filter_jit
def similarity(sol, xi):
    return jax.vmap(sol.similarity)(jnp.atleast_1d(xi))


@eqx.filter_jit
def on_points(sol, pts):
    return jax.vmap(sol)(pts)


def sim1(sol, xi):
    return float(similarity(sol, jnp.asarray(xi))[0])


def godunov_flux(f, ul, ur):
    """Exact Godunov flux min_{[ul,ur]} f / max_{[ur,ul]} f (on a fine table of u)."""
    ft = f(U_TABLE)
    lo, hi = np.minimum(ul, ur), np.maximum(ul, ur)
    inside = (U_TABLE[None, :] >= lo[:, None] - 1e-15) & (U_TABLE[None, :] <= hi[:, None] + 1e-15)
    fmin = np.where(inside, ft[None, :], np.inf).min(axis=1)
    fmax = np.where(inside, ft[None, :], -np.inf).max(axis=1)
    fmin = np.minimum(fmin, np.minimum(f(ul), f(ur)))
    fmax = np.maximum(fmax, np.maximum(f(ul), f(ur)))
    return np.where(ul <= ur, fmin, fmax)


def godunov(f, t_end, n=800, length=1.0, u_left=1.0, u_right=0.0, cfl=0.9):
    """First-order Godunov on [0, length], inflow u_left at x=0, outflow at the right."""
    dx = length / n
    x = (np.arange(n) + 0.5) * dx
    u = np.full(n, u_right)
    s = np.linspace(0, 1, 1001)
    smax = np.max(np.abs(np.gradient(f(s), s)))
    t = 0.0
    while t < t_end - 1e-14:
        dt = min(cfl * dx / smax, t_end - t)
        ext = np.concatenate([[u_left], u, [u[-1]]])
        flux = f(ext[:-1])
        jump = ext[:-1] != ext[1:]
        flux[jump] = godunov_flux(f, ext[:-1][jump], ext[1:][jump])
        u = u - dt / dx * (flux[1:] - flux[:-1])
        t += dt
    return x, u


@pytest.mark.parametrize("name", list(FLUXES))
def test_exact_vs_godunov_l1(name):
    flux, f_np = FLUXES[name]
    sol = pinn.RiemannSolution(flux, 1.0, 0.0)
    t_end = 0.4
    x, u_fv = godunov(f_np, t_end)
    pts = jnp.stack([jnp.asarray(x), jnp.full(x.shape, t_end)], axis=1)
    u_ex = np.asarray(on_points(sol, pts))
    l1 = np.mean(np.abs(u_ex - u_fv))  # times the domain length 1
    assert l1 < 1e-2, l1


def test_closed_forms():
    # concave eq. 19 rarefaction, M = 2
    sol = pinn.RiemannSolution(pinn.ConcaveFlux(2.0))
    xi = jnp.linspace(0.55, 1.95, 9)
    ref = (jnp.sqrt(2.0 / xi) - 1.0) / (2.0 - 1.0)
    np.testing.assert_allclose(similarity(sol, xi), ref, atol=1e-10)
    assert sim1(sol, 2.5) == 0.0
    assert sim1(sol, 0.3) == 1.0
    # Buckley-Leverett M = 1: Welge state 1/sqrt 2, speed (1 + sqrt 2)/2, eq. 21
    bc = pinn.BrooksCoreyFlux(1.0)
    u_star, speed = eqx.filter_jit(pinn.welge_tangent)(bc)
    np.testing.assert_allclose(u_star, 1 / np.sqrt(2), atol=1e-10)
    np.testing.assert_allclose(speed, (1 + np.sqrt(2)) / 2, atol=1e-10)
    np.testing.assert_allclose(bc.derivative(u_star), speed, atol=1e-9)
    sol = pinn.RiemannSolution(bc)
    assert sim1(sol, speed + 1e-6) == 0.0
    np.testing.assert_allclose(sim1(sol, speed - 1e-9), u_star, atol=1e-6)
    # in the fan f'(u(xi)) = xi
    xi = jnp.linspace(0.1, 1.2, 7)
    np.testing.assert_allclose(bc.derivative(similarity(sol, xi)), xi, atol=1e-9)
    # convex: unit-speed shock
    sol = pinn.RiemannSolution(pinn.ConvexFlux())
    assert float(on_points(sol, jnp.array([[0.49, 0.5]]))[0]) == 1.0
    assert float(on_points(sol, jnp.array([[0.51, 0.5]]))[0]) == 0.0


def test_increasing_data_uses_convex_envelope():
    # u_L < u_R with Burgers flux: rarefaction u = xi between the states
    sol = pinn.RiemannSolution(pinn.BurgersFlux(), -1.0, 1.0)
    xi = jnp.linspace(-0.9, 0.9, 7)
    np.testing.assert_allclose(similarity(sol, xi), xi, atol=1e-10)
    sol = pinn.RiemannSolution(pinn.BurgersFlux(), 1.0, -1.0)  # standing shock
    assert sim1(sol, -0.01) == 1.0
    assert sim1(sol, 0.01) == -1.0


def test_initial_data_and_errors():
    sol = pinn.RiemannSolution(pinn.BrooksCoreyFlux(1.0))
    assert float(on_points(sol, jnp.array([[0.3, 0.0]]))[0]) == 0.0
    with pytest.raises(ValueError, match="shape \\(2,\\)"):
        sol(jnp.ones(3))
    with pytest.raises(TypeError, match="AbstractFlux"):
        pinn.RiemannSolution(lambda u: u)
    with pytest.raises(ValueError, match="`M`.*> 0"):
        pinn.BrooksCoreyFlux(-1.0)
