"""The 1-D Burgers full-order model and its Newton time stepper (issue 17, FOM items)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import RESULTS, rom


def _exact(fom, mu, t):
    """Smooth solution before the shock: u = u0(x - u t) by fixed point (characteristics)."""
    x = np.asarray(fom.grid)

    def u0(y):
        y = np.mod(y, fom.length)
        hump = 1 + 0.5 * mu * (np.sin(2 * np.pi * y - np.pi / 2) + 1)
        return np.where((y > 0) & (y <= 1), hump, 1.0)

    u = u0(x)
    for _ in range(200):
        u = u0(x - u * t)
    return u


def test_residual_rows_and_structured_jacobian_match_autodiff():
    fom = rom.Burgers1D(n_nodes=41)
    key1, key2 = jax.random.split(jax.random.key(0))
    x = 1 + jax.random.uniform(key1, (fom.size,))
    xp = 1 + jax.random.uniform(key2, (fom.size,))
    c = fom.dt / fom.dx
    r_ref = x - xp + c * x * (x - jnp.roll(x, 1))
    assert jnp.allclose(fom.residual(x, xp, 1.0), r_ref, rtol=0, atol=1e-14)
    rows = jnp.array([0, 7, 39])
    assert jnp.allclose(fom.residual_rows(rows, x[fom.stencil(rows)], xp[rows], 1.0), r_ref[rows])
    jac = jax.jacfwd(lambda y: fom.residual(y, xp, 1.0))(x)
    b = jax.random.normal(key2, (fom.size,))
    assert jnp.allclose(fom.solve_jacobian(x, xp, 1.0, b), jnp.linalg.solve(jac, b), atol=1e-12)
    dense = rom.AbstractFOM.solve_jacobian(fom, x, xp, 1.0, b)  # the generic fallback
    assert jnp.allclose(dense, jnp.linalg.solve(jac, b), atol=1e-12)


def test_first_order_convergence_on_smooth_data():
    # mu = 1: shock at t = 1/pi ~ 0.32; compare at t = 0.1 with dt/dx fixed at 0.5
    errs = []
    for n in (100, 200, 400):
        dx = 2.0 / n
        fom = rom.Burgers1D(n_nodes=n + 1, dt=0.5 * dx, n_steps=round(0.1 / (0.5 * dx)))
        u = rom.solve_fom(fom, 1.0).value[-1]
        errs.append(np.abs(np.asarray(u) - _exact(fom, 1.0, 0.1)).mean())
    order = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(order - 1) < 0.2), order


def test_discrete_integral_balance_and_newton_settings():
    fom = rom.Burgers1D(n_nodes=201, dt=2e-3, n_steps=150)  # past the shock time
    sol = rom.solve_fom(fom, 1.0)
    u = sol.value
    c = fom.dt / fom.dx
    change = jnp.sum(u[1:] - u[:-1], axis=1)
    expected = -0.5 * c * jnp.sum((u[1:] - jnp.roll(u[1:], 1, axis=1)) ** 2, axis=1)
    assert jnp.allclose(change, expected, atol=1e-8 * fom.size)
    assert jnp.all(sol.stats["newton_iterations"] <= 10)
    assert jnp.all(sol.stats["residual_norm"] <= 1e-8)
    assert sol.result == RESULTS.successful


def test_vmap_jit_grad_and_float32():
    fom = rom.Burgers1D(n_nodes=51, dt=4e-3, n_steps=20)
    mus = jnp.array([0.9, 1.0, 1.1])
    batch = jax.vmap(lambda m: rom.solve_fom(fom, m).value)(mus)
    for i, m in enumerate(mus):
        assert jnp.allclose(batch[i], rom.solve_fom(fom, m).value, atol=1e-12)

    def f(m):
        return jnp.sum(rom.solve_fom(fom, m).value[-1] ** 2)

    h = 1e-5
    fd = (f(1.0 + h) - f(1.0 - h)) / (2 * h)
    assert jnp.allclose(jax.grad(f)(1.0), fd, rtol=1e-6)
    u32 = rom.solve_fom(fom, jnp.float32(1.0), rtol=1e-5).value
    assert u32.dtype == jnp.float32
    assert jnp.allclose(u32, rom.solve_fom(fom, 1.0).value, atol=1e-4)


def test_newton_failure_is_reported():
    fom = rom.Burgers1D(n_nodes=51, dt=4e-3, n_steps=5)
    sol = rom.solve_fom(fom, 1.0, max_newton=1, throw=False)
    assert sol.result == RESULTS.nonlinear_max_steps_reached
    with pytest.raises(Exception, match="nonlinear|Newton|steps"):
        rom.solve_fom(fom, 1.0, max_newton=1).value.block_until_ready()
