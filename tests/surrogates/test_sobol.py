import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from jaxsci.surrogates import (
    fit_polynomial,
    LegendreBasis,
    norm_sobol_indices,
    PolynomialChaos,
    sobol_indices,
    stroud5,
)

A, B = 7.0, 0.1


def ishigami(p):
    x = jnp.pi * (2 * p - 1)  # [0, 1]^3 -> [-pi, pi]^3
    return jnp.sin(x[0]) + A * jnp.sin(x[1]) ** 2 + B * x[2] ** 4 * jnp.sin(x[0])


def ishigami_analytic():
    pi = np.pi
    v1 = 0.5 * (1 + B * pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = 8 * B**2 * pi**8 / 225
    v = A**2 / 8 + B * pi**4 / 5 + B**2 * pi**8 / 18 + 0.5
    first = np.array([v1, v2, 0.0]) / v
    total = np.array([v1 + v13, v2, v13]) / v
    return first, total


def test_analytic_reference_values():
    first, total = ishigami_analytic()
    np.testing.assert_allclose(first, [0.3139, 0.4424, 0.0], atol=1e-4)
    np.testing.assert_allclose(total, [0.5576, 0.4424, 0.2437], atol=1e-4)


def test_ishigami_sobol_from_pce_regression(key):
    # Acceptance: within 1e-3 of the analytic indices (eqs. 12, 16, 17).
    pts = jr.uniform(key, (1500, 3))
    pce = fit_polynomial(LegendreBasis(3, 12), pts, jax.vmap(ishigami)(pts))
    si = sobol_indices(pce)
    first, total = ishigami_analytic()
    np.testing.assert_allclose(si.first_order[:, 0], first, atol=1e-3)
    np.testing.assert_allclose(si.total[:, 0], total, atol=1e-3)
    v = A**2 / 8 + B * np.pi**4 / 5 + B**2 * np.pi**8 / 18 + 0.5
    np.testing.assert_allclose(si.variance[0], v, rtol=1e-3)
    np.testing.assert_allclose(si.mean[0], A / 2, atol=1e-3)


def test_exact_pce_indices_and_bounds(getkey):
    basis = LegendreBasis(3, 2)
    c = jnp.zeros((basis.size, 2))
    # output 0: 2 + 3 L1(p1) + 1 L1(p1) L1(p2); output 1: L2(p3) only
    idx = np.asarray(basis.indices).tolist()
    c = c.at[0, 0].set(2.0).at[idx.index([1, 0, 0]), 0].set(3.0)
    c = c.at[idx.index([1, 1, 0]), 0].set(1.0).at[idx.index([0, 0, 2]), 1].set(1.0)
    si = sobol_indices(PolynomialChaos(basis, c))
    np.testing.assert_allclose(si.variance, [10.0, 1.0])
    np.testing.assert_allclose(si.total[:, 0], [1.0, 0.1, 0.0])
    np.testing.assert_allclose(si.first_order[:, 0], [0.9, 0.0, 0.0])
    np.testing.assert_allclose(si.total[:, 1], [0.0, 0.0, 1.0])
    rand = sobol_indices(PolynomialChaos(basis, jr.normal(getkey(), (basis.size, 3))))
    assert np.all(rand.first_order <= rand.total + 1e-15)
    assert np.all((rand.total >= 0) & (rand.total <= 1))
    np.testing.assert_array_less(jnp.sum(rand.first_order, axis=0), 1 + 1e-12)


def test_norm_sobol_indices_by_stroud5():
    # a(p) = (p1, p2/2, 0): f = p1^2 + p2^2/4 has degree 2, so the PCE is exact (eq. 18).
    rule = stroud5(3)
    a = rule.nodes * jnp.array([[1.0, 0.5, 0.0]])
    si = norm_sobol_indices(a, rule, degree=2)
    np.testing.assert_allclose(si.total[:, 0], [16 / 17, 1 / 17, 0.0], atol=1e-12)
    np.testing.assert_allclose(si.variance[0], 4 / 45 * (1 + 1 / 16), rtol=1e-12)
    with pytest.raises(ValueError, match="`values` must have shape"):
        norm_sobol_indices(a[:, 0], rule)
    g = jax.grad(lambda s: norm_sobol_indices(a * s, rule).total[0, 0])(jnp.array(2.0))
    np.testing.assert_allclose(g, 0.0, atol=1e-10)  # indices are scale invariant
