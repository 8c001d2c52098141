"""Consistent initialisation of index-1 DAEs, and the rejection of inconsistent values."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsci.dae as dae
from jaxsci._solution import RESULTS


def _toy():
    # y1' = -y1 + y2,  0 = y2 - y1^2 - sin(t)   (semi-explicit, index 1)
    def vf(t, y, args):
        return jnp.stack([-y[0] + y[1], y[1] - y[0] ** 2 - jnp.sin(t)])

    return dae.MassMatrixTerm(vf, jnp.diag(jnp.array([1.0, 0.0])))


def test_projects_algebraic_part_keeps_differential_part():
    term = _toy()
    sol = dae.consistent_initial_state(term, 0.5, jnp.array([2.0, -7.0]))
    y = np.asarray(sol.value)
    np.testing.assert_allclose(y, [2.0, 4.0 + np.sin(0.5)], rtol=1e-13)
    assert sol.result == RESULTS.successful
    np.testing.assert_allclose(sol.stats["max_change"], abs(-7.0 - y[1]))


def test_coupled_mass_matrix_amplifier():
    # M couples U1 and U2: only U1 + U2 (and U4 + U5) are algebraic coordinates.
    c = dae.TransistorAmplifier()
    p = c.nominal
    y0 = c.initial_state(p)
    bad = y0 + jnp.array([0.5, 0.5, 0.0, 0.2, 0.2])  # moves the algebraic coordinates only
    fixed = dae.consistent_initial_state(c.term(), 0.0, bad, p)
    np.testing.assert_allclose(fixed.value, y0, atol=1e-12)


def test_inconsistent_rejected_with_clear_message():
    term = _toy()
    with pytest.raises(eqx.EquinoxRuntimeError, match="Inconsistent initial value"):
        dae.require_consistent(term, 0.0, jnp.array([1.0, 3.0]))
    ok = jnp.array([1.0, 1.0])
    np.testing.assert_array_equal(dae.require_consistent(term, 0.0, ok), ok)


def test_newton_failure_reported():
    # 0 = y2^2 + 1 has no real solution: the projection must fail, not return garbage.
    def vf(t, y, args):
        return jnp.stack([y[1], y[1] ** 2 + 1.0])

    # optimistix's own codes pass through (not folded into one jaxsci code).
    term = dae.MassMatrixTerm(vf, jnp.diag(jnp.array([1.0, 0.0])))
    sol = dae.consistent_initial_state(term, 0.0, jnp.array([0.0, 0.5]), throw=False)
    assert sol.result == RESULTS.nonlinear_max_steps_reached
    assert int(sol.stats["num_steps"]) == 50
    # from y2 = 0 the Newton matrix (d/dy2 of y2^2 + 1) is singular
    sol = dae.consistent_initial_state(term, 0.0, jnp.array([0.0, 0.0]), throw=False)
    assert sol.result == RESULTS.singular
    with pytest.raises(eqx.EquinoxRuntimeError):
        dae.consistent_initial_state(term, 0.0, jnp.array([0.0, 0.5]))


def test_shape_mismatch():
    term = _toy()
    with pytest.raises(ValueError, match="mass matrix has shape"):
        dae.consistent_initial_state(term, 0.0, jnp.zeros(3))
    with pytest.raises(TypeError, match="MassMatrixTerm"):
        dae.consistent_initial_state(object(), 0.0, jnp.zeros(2))
