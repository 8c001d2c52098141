"""jaxsci.polynomials: multi-indices (one graded order) and Legendre polynomials."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import check_grad_fd, check_jit_eager, check_vmap_loop
from numpy.polynomial import legendre as npleg

from jaxsci.polynomials import legendre, legendre_product, total_degree_indices


@pytest.mark.parametrize("d,m", [(1, 0), (1, 4), (2, 3), (3, 4), (5, 2)])
def test_indices_graded_reverse_lex(d, m):
    idx = total_degree_indices(d, m)
    assert idx.dtype == np.int32 and idx.shape == (math.comb(d + m, d), d)
    brute = [b for b in itertools.product(range(m + 1), repeat=d) if sum(b) <= m]
    ref = sorted(brute, key=lambda b: (sum(b), tuple(-v for v in b)))
    assert [tuple(r) for r in idx.tolist()] == ref
    assert np.all(idx[0] == 0)
    if m >= 1:
        np.testing.assert_array_equal(idx[1 : d + 1], np.eye(d, dtype=np.int32))


def test_indices_documented_example():
    assert total_degree_indices(2, 2).tolist() == [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]


def test_legendre_classical_and_orthonormal():
    t = jnp.linspace(-1, 1, 11)
    table = legendre(t, 5)
    assert table.shape == (11, 6)
    for n in range(6):
        np.testing.assert_allclose(table[:, n], npleg.Legendre.basis(n)(np.asarray(t)), atol=1e-13)
    xs = jnp.linspace(0, 2, 7)
    on = legendre(xs, 4, interval=(0.0, 2.0), orthonormal=True)
    for n in range(5):
        ref = npleg.Legendre.basis(n)(np.asarray(xs) - 1) * np.sqrt((2 * n + 1) / 2)
        np.testing.assert_allclose(on[:, n], ref, atol=1e-13)
    # orthonormal on [0, 2]: Gauss-Legendre with 5 nodes is exact to degree 9
    g, w = npleg.leggauss(5)
    v = legendre(jnp.asarray(g + 1), 4, interval=(0.0, 2.0), orthonormal=True)
    np.testing.assert_allclose(v.T @ (v * w[:, None]), np.eye(5), atol=1e-13)


def test_legendre_product_values():
    idx = total_degree_indices(2, 3)
    x = jnp.array([0.3, -0.6])
    vals = legendre_product(x, idx)
    for k, (a, b) in enumerate(idx.tolist()):
        ref = npleg.Legendre.basis(a)(0.3) * npleg.Legendre.basis(b)(-0.6)
        np.testing.assert_allclose(vals[k], ref, atol=1e-14)
    # a JAX `indices` (possibly traced) with an explicit degree gives the same values
    np.testing.assert_array_equal(legendre_product(x, jnp.asarray(idx), degree=3), vals)


def test_jit_vmap_grad_float32():
    idx = total_degree_indices(3, 2)
    f = lambda p: legendre_product(p, idx, interval=(0.0, 1.0), orthonormal=True)  # noqa: E731
    p = jnp.array([0.2, 0.7, 0.4])
    check_jit_eager(f, p)
    check_vmap_loop(f, (jnp.array([[0.1, 0.5, 0.9], [0.3, 0.3, 0.3]]),))
    check_grad_fd(lambda q: jnp.sum(f(q) ** 2), p)
    out = jax.jit(lambda t: legendre(t, 3))(jnp.ones(4, jnp.float32))
    assert out.dtype == jnp.float32


def test_bad_input():
    with pytest.raises(ValueError, match="`dimension`"):
        total_degree_indices(0, 2)
    with pytest.raises(ValueError, match="`degree`"):
        total_degree_indices(2, -1)
    with pytest.raises(ValueError, match="`degree`"):
        legendre(jnp.zeros(3), 1.5)
    with pytest.raises(ValueError, match="b > a"):
        legendre(jnp.zeros(3), 2, interval=(1.0, 0.0))
    with pytest.raises(ValueError, match="ONE point"):
        legendre_product(jnp.zeros((2, 2)), total_degree_indices(2, 1))
    with pytest.raises(ValueError, match="shape"):
        legendre_product(jnp.zeros(3), total_degree_indices(2, 1))
    with pytest.raises(TypeError, match="degree="):
        legendre_product(jnp.zeros(2), jnp.asarray(total_degree_indices(2, 1)))
