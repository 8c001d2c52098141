"""The 2-D viscous Burgers full-order model (issue 17, FOM items)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import RESULTS, rom


def _numpy_residual(fom, x, xp):
    """Hand-written reference: the scheme of the module docstring with explicit loops."""
    n, h, nu, dt = fom.n, fom.h, 1.0 / fom.reynolds, fom.dt
    w = np.asarray(x).reshape(2, n, n)
    wp = np.asarray(xp).reshape(2, n, n)
    r = np.zeros_like(w)

    def at(c, j, i):
        return w[c, j, i] if 0 <= i < n and 0 <= j < n else 0.0

    for c in range(2):
        for j in range(n):
            for i in range(n):
                u, v, s = w[0, j, i], w[1, j, i], w[c, j, i]
                lap = at(c, j, i - 1) + at(c, j, i + 1) + at(c, j - 1, i) + at(c, j + 1, i) - 4 * s
                f = u * (s - at(c, j, i - 1)) / h + v * (s - at(c, j - 1, i)) / h - nu * lap / h**2
                r[c, j, i] = s - wp[c, j, i] + dt * f
    return r.reshape(-1)


_SMALL = rom.Burgers2D(n_nodes=12, dt=0.02, n_steps=8)  # one compiled solve shared below


def test_residual_forms_stencil_and_jacobian_solve_match_references():
    fom = rom.Burgers2D(n_nodes=7, reynolds=50.0)
    assert fom.size == 2 * 25
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    x = jax.random.normal(k1, (fom.size,))
    xp = jax.random.normal(k2, (fom.size,))
    r_ref = _numpy_residual(fom, x, xp)
    assert np.allclose(fom.residual(x, xp, 1.0), r_ref, rtol=0, atol=1e-14)
    rows = jnp.array([0, 4, 12, 24, 25, 37, 49])
    got = fom.residual_rows(rows, x[fom.stencil(rows)], xp[rows], 1.0)
    assert np.allclose(got, r_ref[np.asarray(rows)], rtol=0, atol=1e-14)
    # every nonzero of the Jacobian's row lies in that row's stencil
    jac = np.asarray(jax.jacfwd(lambda y: fom.residual(y, xp, 1.0))(x))
    in_stencil = np.zeros(jac.shape, bool)
    sten = np.asarray(fom.stencil(jnp.arange(fom.size)))
    in_stencil[np.arange(fom.size)[:, None], sten] = True
    assert np.all(jac[~in_stencil] == 0)
    b = jax.random.normal(k3, (fom.size,))
    got = jax.jit(fom.solve_jacobian)(x, xp, 1.0, b)
    assert np.allclose(got, np.linalg.solve(jac, b), atol=1e-10)


def _exact(x, y, t):
    s = np.sin(np.pi * x) * np.sin(np.pi * y)
    return np.stack([s * np.exp(-t) * (1 + x), s * np.exp(-2 * t) * (1 + y)])


def _pde(x, y, t, re):
    """w_t + u w_x + v w_y - lap(w) / Re for the manufactured field, by hand."""
    sx, cx, sy, cy = np.sin(np.pi * x), np.cos(np.pi * x), np.sin(np.pi * y), np.cos(np.pi * y)
    p, e1, e2 = np.pi, np.exp(-t), np.exp(-2 * t)
    u, v = _exact(x, y, t)
    # u = e1 (1 + x) sx sy, v = e2 (1 + y) sx sy
    ut, vt = -u, -2 * v
    ux = e1 * sy * (sx + (1 + x) * p * cx)
    uy = e1 * (1 + x) * sx * p * cy
    vx = e2 * (1 + y) * p * cx * sy
    vy = e2 * sx * (sy + (1 + y) * p * cy)
    uxx = e1 * sy * (2 * p * cx - (1 + x) * p * p * sx)
    uyy = -e1 * (1 + x) * sx * p * p * sy
    vxx = -e2 * (1 + y) * p * p * sx * sy
    vyy = e2 * sx * (2 * p * cy - (1 + y) * p * p * sy)
    return np.concatenate(
        [ut + u * ux + v * uy - (uxx + uyy) / re, vt + u * vx + v * vy - (vxx + vyy) / re]
    )


def test_truncation_error_of_the_scheme_is_first_order():
    # manufactured smooth field vanishing on the boundary: r(x(t_n); x(t_{n-1})) / dt minus
    # the PDE operator applied to it is the local truncation error, O(h + dt)
    errs = []
    for nodes in (11, 21, 41):
        fom = rom.Burgers2D(n_nodes=nodes, dt=0.5 / (nodes - 1), reynolds=100.0)
        x, y = (np.asarray(c) for c in fom.grid)
        t = 0.3
        xn, xp = _exact(x, y, t).reshape(-1), _exact(x, y, t - fom.dt).reshape(-1)
        tau = np.asarray(fom.residual(xn, xp, 1.0)) / fom.dt - _pde(x, y, t, fom.reynolds)
        errs.append(np.abs(tau).max())
    order = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(order - 1) < 0.1), (errs, order)


def test_symmetry_newton_counts_and_transport():
    sol = rom.solve_fom(_SMALL, jnp.asarray(1.0))  # an array: a python float is static
    assert sol.result == RESULTS.successful
    assert jnp.all(sol.stats["newton_iterations"] <= 10)
    assert jnp.all(sol.stats["residual_norm"] <= 1e-8)
    n = _SMALL.n
    w = np.asarray(sol.value).reshape(-1, 2, n, n)
    # the IC is symmetric under x <-> y with u <-> v, and u = v: the scheme keeps both
    assert np.allclose(w[:, 0], w[:, 1], atol=1e-11)
    assert np.allclose(w[:, 0], np.swapaxes(w[:, 1], 1, 2), atol=1e-11)
    # the positive hump is carried towards (1, 1): its x-centroid grows every step
    x = np.asarray(_SMALL.grid[0]).reshape(n, n)
    mass = np.clip(w[:, 0], 0, None)
    centroid = (mass * x).sum((1, 2)) / mass.sum((1, 2))
    assert np.all(np.diff(centroid) > 0), centroid


def test_vmap_jit_grad_float32():
    mus = jnp.array([0.9, 1.0])
    batch = jax.vmap(lambda m: rom.solve_fom(_SMALL, m).value)(mus)
    for i, m in enumerate(mus):
        assert jnp.allclose(batch[i], rom.solve_fom(_SMALL, m).value, atol=1e-12)

    def f(m):
        return jnp.sum(rom.solve_fom(_SMALL, m).value[-1] ** 2)

    one, h = jnp.asarray(1.0), 1e-5
    fd = (f(one + h) - f(one - h)) / (2 * h)
    assert jnp.allclose(jax.grad(f)(one), fd, rtol=1e-6)
    x32 = _SMALL.initial_condition(jnp.float32(1.0))
    assert x32.dtype == jnp.float32
    assert _SMALL.residual(x32, x32, jnp.float32(1.0)).dtype == jnp.float32


@pytest.mark.slow
def test_refinement_series_converges_at_first_order():
    # the solver on the paper's initial condition, Re = 100, t = 0.1, dt = h / 2
    sols = []
    for nodes in (11, 21, 41, 81):
        h = 1.0 / (nodes - 1)
        fom = rom.Burgers2D(n_nodes=nodes, dt=0.5 * h, n_steps=round(0.2 / h), reynolds=100.0)
        u = rom.solve_fom(fom, 1.0).value[-1, : fom.n**2]
        sols.append(np.asarray(u).reshape(fom.n, fom.n))
    errs = []
    for coarse, fine in zip(sols[:-1], sols[1:]):
        idx = 2 * np.arange(coarse.shape[0]) + 1  # the coarse nodes inside the fine grid
        errs.append(np.abs(coarse - fine[np.ix_(idx, idx)]).mean())
    order = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(order > 0.75) and abs(order[-1] - 1) < 0.15, (errs, order)


@pytest.mark.slow
def test_paper_settings_newton_counts():
    sol = rom.solve_fom(rom.Burgers2D(), 1.0)
    assert sol.result == RESULTS.successful
    assert jnp.all(sol.stats["newton_iterations"] <= 10)
