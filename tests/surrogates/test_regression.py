import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from helpers import check_grad_fd, check_jit_eager

from jaxsci.surrogates import (
    fit_polynomial,
    LegendreBasis,
    PolynomialChaos,
    project_polynomial,
    stroud5,
    vandermonde,
)


def test_recovers_exact_polynomial(getkey):
    basis = LegendreBasis(3, 3)
    coeffs = jr.normal(getkey(), (basis.size, 2))
    truth = PolynomialChaos(basis, coeffs)
    pts = jr.uniform(getkey(), (60, 3))
    fitted = fit_polynomial(basis, pts, jax.vmap(truth)(pts))
    np.testing.assert_allclose(fitted.coefficients, coeffs, atol=1e-10)


def test_matches_numpy_lstsq_on_noisy_data(getkey):
    basis = LegendreBasis(2, 4)
    pts = jr.uniform(getkey(), (50, 2))
    vals = jr.normal(getkey(), (50, 3))  # r = 3 right-hand sides share one QR
    fitted = fit_polynomial(basis, pts, vals)
    v = np.asarray(vandermonde(basis, pts))
    ref = np.linalg.lstsq(v, np.asarray(vals), rcond=None)[0]
    np.testing.assert_allclose(fitted.coefficients, ref, atol=1e-10)
    check_jit_eager(fit_polynomial, basis, pts, vals)


def test_interpolation_when_k_equals_s(getkey):
    basis = LegendreBasis(2, 3)
    pts = jr.uniform(getkey(), (basis.size, 2))
    vals = jr.normal(getkey(), (basis.size,))
    fitted = fit_polynomial(basis, pts, vals)
    np.testing.assert_allclose(jax.vmap(fitted)(pts)[:, 0], vals, atol=1e-8)


def test_grad_wrt_data(getkey):
    basis = LegendreBasis(2, 2)
    pts = jr.uniform(getkey(), (12, 2))
    vals = jr.normal(getkey(), (12,))
    check_grad_fd(lambda v: jnp.sum(fit_polynomial(basis, pts, v).coefficients ** 2), vals)


def test_projection_by_stroud5_is_exact_for_low_degree(getkey):
    # f of degree 3, basis degree 2: f * Phi_i has degree <= 5.
    q = 4
    truth = PolynomialChaos(LegendreBasis(q, 3), jr.normal(getkey(), (LegendreBasis(q, 3).size, 1)))
    rule = stroud5(q)
    proj = project_polynomial(LegendreBasis(q, 2), rule, jax.vmap(truth)(rule.nodes))
    np.testing.assert_allclose(
        proj.coefficients, truth.coefficients[: LegendreBasis(q, 2).size], atol=1e-12
    )


def test_bad_input(getkey):
    basis = LegendreBasis(3, 3)  # s = 20
    pts = jr.uniform(getkey(), (10, 3))
    with pytest.raises(ValueError, match="k >= s"):
        fit_polynomial(basis, pts, jnp.zeros(10))
    with pytest.raises(ValueError, match="`points` must have shape"):
        fit_polynomial(basis, pts[:, :2], jnp.zeros(10))
    dup = jnp.concatenate([pts, pts, pts])  # 30 rows but only 10 distinct points
    with pytest.raises(Exception, match="rank deficient"):
        fit_polynomial(basis, dup, jnp.zeros(30))
    with pytest.raises(ValueError, match="one row per node"):
        project_polynomial(LegendreBasis(3, 2), stroud5(3), jnp.zeros(5))
