"""Benchmark problems and their in-package references: known values, symmetry,
self-convergence, zero residual of the reference, an energy law."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from jaxsci import pinn


@pytest.fixture(scope="module")
def allen_cahn_coarse():
    # (256 modes, h = 1e-3) and (512 modes, h = 5e-4): enough for self-convergence
    return (pinn.allen_cahn_reference(n_x=256, n_t=11, substeps=100),
            pinn.allen_cahn_reference(n_x=512, n_t=11, substeps=200))


def test_burgers_reference_basdevant_slope_layout_antisymmetry():
    """Basdevant et al. 1986 (table): max |u_x| = 152.00516 at x = 0, t = 1.6037/pi."""
    prob = pinn.ViscousBurgers()
    t = jnp.linspace(0.0, 1.0, 5)
    x = jnp.linspace(-1.0, 1.0, 9)

    @eqx.filter_jit
    def run(prob, t, x):
        slope = jax.grad(lambda y: prob.exact(jnp.stack([y, 1.6037 / np.pi])))(0.0)
        return slope, pinn.reference_grid(prob, t, x), prob.exact(jnp.stack([x[3], t[2]]))

    slope, u, u23 = run(prob, t, x)
    np.testing.assert_allclose(-slope, 152.00516, rtol=1e-6)
    assert u.shape == (5, 9)
    np.testing.assert_allclose(u[0], -np.sin(np.pi * x), atol=1e-14)
    np.testing.assert_allclose(u[2, 3], u23, rtol=1e-13)
    np.testing.assert_allclose(u, -u[:, ::-1], atol=1e-10)  # u(-x, t) = -u(x, t)
    np.testing.assert_allclose(u[:, [0, -1]], 0.0, atol=1e-10)


def test_periodic_advection_exact_and_residual(key):
    prob = pinn.PeriodicAdvection()
    pts = prob.domain.sample(16, key=key)
    r = jax.jit(jax.vmap(lambda p: prob.residual(prob.exact, p)))(pts)
    np.testing.assert_allclose(r, 0.0, atol=1e-9)
    u = pinn.reference_grid(prob, jnp.array([0.0, 0.3]), jnp.array([0.0, 1.0, 2 * np.pi]))
    np.testing.assert_allclose(u[1], np.sin(np.array([0.0, 1.0, 2 * np.pi]) - 50 * 0.3),
                               atol=1e-12)
    np.testing.assert_allclose(u[:, 0], u[:, 2], atol=1e-12)  # periodic
    assert prob.constraint_names == ("ic", "bc")
    bc = prob.sample_constraint("bc", 3, key=key)
    np.testing.assert_allclose(bc[:, 0], 0.0)


def test_allen_cahn_residual_vanishes_on_steady_states(key):
    prob = pinn.AllenCahn()
    delta = np.sqrt(2 * 1e-4 / 5.0)  # the stationary front tanh(x / delta)
    pts = prob.domain.sample(8, key=key)

    @jax.jit
    def steady(p):
        return jnp.stack([prob.residual(u, p) for u in (
            lambda y: jnp.tanh(y[0] / delta), lambda y: jnp.ones(()), lambda y: -jnp.ones(()))])

    np.testing.assert_allclose(jax.vmap(steady)(pts), 0.0, atol=1e-10)
    net = eqx.nn.MLP(2, "scalar", 8, 2, activation=jnp.tanh, key=key)
    both = eqx.filter_jit(lambda m, p: (prob.residuals(m, p),
                                        jax.vmap(lambda y: prob.residual(m, y))(p)))
    np.testing.assert_allclose(*both(net, pts), atol=1e-12)
    assert prob.constraint_names == ("ic",)
    ic = prob.sample_constraint("ic", 3, key=key)
    np.testing.assert_allclose(ic[:, 1], 0.0)
    np.testing.assert_allclose(prob.constraint_value("ic", jnp.array([0.5, 0.0])),
                               0.25 * np.cos(0.5 * np.pi))


def test_allen_cahn_reference_symmetry_convergence_energy(allen_cahn_coarse):
    (t, x, u), (_, x2, u2) = allen_cahn_coarse
    assert u.shape == (11, 256) and t.shape == (11,) and x.shape == (256,)
    np.testing.assert_allclose(np.asarray(x)[[0, 128]], [-1.0, 0.0])
    np.testing.assert_allclose(u[0], x**2 * np.cos(np.pi * x), atol=1e-14)
    # u0 is even and the equation keeps it so: u(-x_j) = u(x_{n-j})
    np.testing.assert_allclose(u[:, 1:], u[:, 1:][:, ::-1], atol=1e-12)
    # self-convergence (space and time refined together), relative L2 over the grid
    rel = np.linalg.norm(u - u2[:, ::2]) / np.linalg.norm(u2)
    assert rel < 5e-5, rel
    # the plateaus reach the stable states +-1; u(+-1, 1) = -1 (jaxpi / Raissi data)
    np.testing.assert_allclose(u2[-1, 0], -1.0, atol=1e-5)
    assert np.max(np.abs(u2[-1])) < 1.0 + 1e-6
    # gradient flow: E = int eps/2 u_x^2 + rho/4 (u^2 - 1)^2 dx is non-increasing
    k = np.pi * np.fft.rfftfreq(512, d=1 / 512)
    ux = np.fft.irfft(1j * k * np.fft.rfft(np.asarray(u2), axis=1), n=512, axis=1)
    energy = (2 / 512) * np.sum(0.5e-4 * ux**2 + 1.25 * (np.asarray(u2) ** 2 - 1) ** 2, axis=1)
    assert np.all(np.diff(energy) <= 1e-10), energy


def test_allen_cahn_reference_float32():
    _, _, u = pinn.allen_cahn_reference(n_x=64, n_t=3, substeps=10, dtype=jnp.float32)
    assert u.dtype == jnp.float32 and np.all(np.isfinite(u))
