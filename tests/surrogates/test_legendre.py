import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import check_grad_fd, check_jit_eager, check_vmap_loop
from hypothesis import given, strategies as st

from jaxsci.surrogates import LegendreBasis, legendre_1d, total_degree_indices


def test_legendre_1d_matches_numpy():
    xs = np.linspace(0, 1, 7)
    got = jax.vmap(lambda x: legendre_1d(x, 6))(jnp.asarray(xs))
    for n in range(7):
        ref = np.polynomial.legendre.Legendre.basis(n)(2 * xs - 1) * np.sqrt(2 * n + 1)
        np.testing.assert_allclose(got[:, n], ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("q,d", [(1, 5), (2, 3), (3, 4)])
def test_basis_orthonormal_on_unit_cube(q, d):
    # Tensor Gauss-Legendre with d+1 points per axis is exact for products of degree <= 2d.
    x, w = np.polynomial.legendre.leggauss(d + 1)
    x, w = (x + 1) / 2, w / 2
    grids = np.meshgrid(*([x] * q), indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=1)
    weights = np.prod(np.meshgrid(*([w] * q), indexing="ij"), axis=0).ravel()
    basis = LegendreBasis(q, d)
    v = jax.vmap(basis)(jnp.asarray(nodes))
    gram = v.T @ (v * weights[:, None])
    np.testing.assert_allclose(gram, np.eye(basis.size), atol=1e-12)


@given(st.integers(1, 6), st.integers(0, 5))
def test_indices_count_and_order(q, d):
    idx = total_degree_indices(q, d)
    assert idx.shape == (math.comb(q + d, d), q)  # eq. (11)
    assert len({tuple(r) for r in idx}) == idx.shape[0]
    tot = idx.sum(axis=1)
    assert np.all(np.diff(tot) >= 0) and tot.max() <= d and np.all(idx >= 0)
    assert np.all(idx[0] == 0)
    if d >= 1:
        np.testing.assert_array_equal(idx[1 : q + 1].sum(axis=1), 1)


def test_paper_basis_sizes():
    # [PNDS] section 4: s2=66, s3=286, s4=1001 (q=10); 45, 165, 495 (q=8).
    assert [LegendreBasis(10, d).size for d in (2, 3, 4)] == [66, 286, 1001]
    assert [LegendreBasis(8, d).size for d in (2, 3, 4)] == [45, 165, 495]


def test_jit_vmap_grad():
    basis = LegendreBasis(3, 3)
    p = jnp.array([0.2, 0.7, 0.4])
    check_jit_eager(basis, p)
    pts = jnp.array([[0.1, 0.5, 0.9], [0.3, 0.3, 0.3], [1.0, 0.0, 0.5]])
    check_vmap_loop(basis, (pts,))
    check_grad_fd(lambda x: jnp.sum(basis(x) ** 2), p)


def test_float32():
    out = LegendreBasis(2, 2)(jnp.array([0.5, 0.25], dtype=jnp.float32))
    assert out.dtype == jnp.float32


def test_bad_input():
    with pytest.raises(ValueError, match="`p` must have shape"):
        LegendreBasis(3, 2)(jnp.zeros(2))
    with pytest.raises(ValueError, match="`degree`"):
        LegendreBasis(3, -1)
    with pytest.raises(ValueError, match="`dimension`"):
        total_degree_indices(0, 2)
    with pytest.raises(ValueError, match="`x` must be a scalar"):
        legendre_1d(jnp.zeros(3), 2)
