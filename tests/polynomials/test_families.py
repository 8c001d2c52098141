"""Askey families: Gauss rules against numpy/scipy, orthonormality by their own Gauss rules,
recurrence values against closed forms, hyperbolic truncation, mixed tensor products."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special as ss
from helpers import check_grad_fd, check_jit_eager, check_vmap_loop
from hypothesis import given, settings, strategies as st
from numpy.polynomial import hermite_e

from jaxsci.polynomials import (
    Hermite,
    hyperbolic_indices,
    Jacobi,
    Laguerre,
    Legendre,
    orthonormal_product,
    total_degree_indices,
)

FAMILIES = [Legendre(), Legendre((0.0, 2.0)), Hermite(), Laguerre(0.0), Laguerre(1.5),
            Jacobi(0.5, -0.3), Jacobi(2.0, 1.0)]


def _reference_rule(fam, n):
    if isinstance(fam, Hermite):
        x, w = hermite_e.hermegauss(n)
    elif isinstance(fam, Laguerre):
        x, w = ss.roots_genlaguerre(n, fam.alpha)
    elif isinstance(fam, Jacobi):
        x, w = ss.roots_jacobi(n, fam.alpha, fam.beta)
    else:
        lo, hi = fam.interval
        x, w = ss.roots_legendre(n)
        x = lo + (hi - lo) * (x + 1) / 2
    return x, w / w.sum()


@pytest.mark.parametrize("fam", FAMILIES, ids=repr)
def test_gauss_rule_matches_numpy_scipy(fam):
    for n in (1, 4, 11):
        x, w = fam.gauss(n)
        xr, wr = _reference_rule(fam, n)
        np.testing.assert_allclose(x, xr, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(w, wr, rtol=1e-12)  # relative, also for the tail weights


@pytest.mark.parametrize("fam", FAMILIES, ids=repr)
def test_orthonormal_under_own_gauss_rule(fam):
    # acceptance: Gram == I to 1e-12 (an 11-point rule is exact to degree 21 >= 2 * 10)
    x, w = fam.gauss(11)
    v = np.asarray(fam.evaluate(jnp.asarray(x), 10))
    np.testing.assert_allclose(v.T @ (v * w[:, None]), np.eye(11), atol=1e-12)


def test_values_against_closed_forms():
    x = np.linspace(-2.0, 3.0, 7)
    he = np.asarray(Hermite().evaluate(jnp.asarray(x), 5))
    for n in range(6):
        ref = hermite_e.HermiteE.basis(n)(x) / math.sqrt(math.factorial(n))
        np.testing.assert_allclose(he[:, n], ref, rtol=1e-13, atol=1e-13)
    xp = np.linspace(0.0, 6.0, 7)
    la = np.asarray(Laguerre(1.5).evaluate(jnp.asarray(xp), 4))
    for n in range(5):
        norm = math.sqrt(math.factorial(n) * math.gamma(2.5) / math.gamma(n + 2.5))
        np.testing.assert_allclose(la[:, n], (-1) ** n * ss.eval_genlaguerre(n, 1.5, xp) * norm,
                                   rtol=1e-12, atol=1e-12)
    xj = np.linspace(-1.0, 1.0, 7)
    ja = np.asarray(Jacobi(0.5, -0.3).evaluate(jnp.asarray(xj), 4))
    for n in range(1, 5):  # same polynomial up to the (positive) normalisation
        ref = ss.eval_jacobi(n, 0.5, -0.3, xj)
        np.testing.assert_allclose(ja[:, n] / ja[-1, n], ref / ref[-1], rtol=1e-11)
    # Jacobi(0, 0) is the uniform Legendre family
    np.testing.assert_allclose(Jacobi().evaluate(jnp.asarray(xj), 6),
                               Legendre().evaluate(jnp.asarray(xj), 6), atol=1e-13)


def test_hyperbolic_indices():
    full = total_degree_indices(3, 4)
    np.testing.assert_array_equal(hyperbolic_indices(3, 4), full)  # q = 1: total degree
    half = hyperbolic_indices(3, 4, 0.5)
    assert {tuple(r) for r in half} <= {tuple(r) for r in full}
    rows = [tuple(r) for r in full.tolist()]
    np.testing.assert_array_equal(  # the graded order of total_degree_indices, kept
        np.sort([rows.index(tuple(r)) for r in half.tolist()]),
        [rows.index(tuple(r)) for r in half.tolist()])
    norms = np.sum(half.astype(float) ** 0.5, axis=1) ** 2
    assert np.all(norms <= 4 + 1e-9) and (4, 0, 0) in {tuple(r) for r in half}
    assert (1, 1, 0) in {tuple(r) for r in half} and (2, 1, 0) not in {tuple(r) for r in half}
    # Blatman & Sudret 2011, Fig. 3: far fewer terms in many dimensions
    assert hyperbolic_indices(10, 5, 0.5).shape[0] < total_degree_indices(10, 5).shape[0] / 10


FAMS3 = (Hermite(), Legendre((0.0, 1.0)), Laguerre(0.5))
IDX3 = total_degree_indices(3, 3)


def _prod(p):
    return orthonormal_product(p, IDX3, FAMS3)


_prod_jit = jax.jit(_prod)
_energy = jax.jit(lambda x: jnp.sum(_prod(x) ** 2))


def test_mixed_product_orthonormal_jit_vmap_grad():
    rules = [f.gauss(4) for f in FAMS3]
    grids = np.meshgrid(*[r[0] for r in rules], indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=1)
    w = np.prod(np.meshgrid(*[r[1] for r in rules], indexing="ij"), axis=0).ravel()
    v = np.asarray(jax.vmap(_prod_jit)(jnp.asarray(nodes)))
    np.testing.assert_allclose(v.T @ (v * w[:, None]), np.eye(IDX3.shape[0]), atol=1e-12)
    p = jnp.array([0.3, 0.6, 1.2])
    check_jit_eager(_prod, p)
    check_vmap_loop(_prod_jit, (jnp.asarray(nodes[:3]),))
    check_grad_fd(_energy, p)
    assert orthonormal_product(p.astype(jnp.float32), IDX3, FAMS3).dtype == jnp.float32


@settings(max_examples=10, deadline=None)
@given(st.floats(-0.9, 3.0), st.floats(-0.9, 3.0), st.integers(1, 8))
def test_hypothesis_gauss_rule_exact_to_degree_2n_minus_1(alpha, beta, n):
    # invariant: the n-point rule integrates p_i p_j exactly for i + j <= 2n - 1
    for fam in (Jacobi(alpha, beta), Laguerre(alpha)):
        x, w = fam.gauss(n)
        assert np.all(w > 0) and abs(w.sum() - 1) < 1e-13
        v = np.asarray(fam.evaluate(jnp.asarray(x), n))
        gram = v.T @ (v * w[:, None])
        i, j = np.indices(gram.shape)
        ok = i + j <= 2 * n - 1
        np.testing.assert_allclose(gram[ok], np.eye(n + 1)[ok], atol=1e-10)
