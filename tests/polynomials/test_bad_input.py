"""Bad input to jaxsci.polynomials is refused clearly (DESIGN rule 6)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from jaxsci.polynomials import legendre, legendre_product, total_degree_indices
from jaxsci.testing import assert_refuses, mismatched_shapes

IDX = total_degree_indices(2, 2)
X = jnp.array([0.1, -0.4])


@pytest.mark.parametrize(
    "fn, exc, match",
    [
        # out-of-domain static values
        (lambda: total_degree_indices(0, 2), ValueError, "`dimension`"),
        (lambda: total_degree_indices(2, -1), ValueError, "`degree`"),
        (lambda: total_degree_indices(2, 1.0), ValueError, "`degree`"),
        (lambda: legendre(X, -1), ValueError, "`degree`"),
        (lambda: legendre(X, 2, interval=(0.0, np.inf)), ValueError, "`interval`.*finite"),
        (lambda: legendre(X, 2, interval=(np.nan, 1.0)), ValueError, "`interval`"),
        (lambda: legendre(X, 2, interval=(1.0, 1.0)), ValueError, "b > a"),
        (lambda: legendre(X, 2, interval="ab"), ValueError, "`interval`"),
        # wrong shape / rank / dtype
        (lambda: legendre_product(X[:1], IDX), ValueError, "`indices`"),
        (lambda: legendre_product(jnp.zeros((1, 2)), IDX), ValueError, "`x`"),
        (lambda: legendre_product(X, IDX[:, 0]), ValueError, "`indices`"),
        (lambda: legendre_product(X, IDX.astype(float)), TypeError, "`indices`"),
        (lambda: legendre(jnp.array([1 + 1j]), 2), TypeError, "`x`"),
        # problem-specific: indices beyond the table (would be clamped: a wrong polynomial)
        (lambda: legendre_product(X, np.array([[-1, 0]])), ValueError, "`indices`"),
        (lambda: legendre_product(X, jnp.array([[3, 0]]), degree=2), ValueError, "`indices`"),
        (lambda: legendre_product(X, IDX, degree=-2), ValueError, "`degree`"),
    ],
)
def test_refused(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_empty_input():
    # zero points: an empty table, not an error; zero multi-indices: an empty basis
    assert legendre(jnp.zeros((0,)), 3).shape == (0, 4)
    assert legendre_product(X, np.zeros((0, 2), np.int32)).shape == (0,)
    with pytest.raises(ValueError, match="`x`"):
        legendre_product(jnp.zeros((0, 2)), IDX)


def test_nonfinite_x_stays_in_its_row():
    # documented: x is not checked in the pointwise core; NaN stays where it was
    out = legendre(jnp.array([0.5, jnp.nan]), 2)
    assert np.all(np.isfinite(out[0])) and np.all(np.isnan(out[1, 1:]))  # P_0 = 1


def test_traced_indices_checked_under_jit_and_vmap():
    bad = jnp.array([[0, 0], [3, 1]])
    f = eqx.filter_jit(lambda i: legendre_product(X, i, degree=2))
    assert_refuses(lambda: f(bad), match="`indices`")
    assert_refuses(lambda: jax.jit(lambda i: legendre_product(X, i, degree=2))(bad))
    g = jax.vmap(lambda i: legendre_product(X, i, degree=2))
    assert_refuses(lambda: eqx.filter_jit(g)(jnp.stack([jnp.asarray(IDX[:2]), bad])),
                   match="`indices`")
    np.testing.assert_allclose(f(jnp.asarray(IDX)), legendre_product(X, IDX))


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_hypothesis_bad_indices_refused(data):
    kind = data.draw(st.sampled_from(["range", "shape"]))
    if kind == "range":
        idx = np.array(IDX)
        i, j = data.draw(st.integers(0, idx.shape[0] - 1)), data.draw(st.integers(0, 1))
        idx[i, j] = data.draw(st.sampled_from([-2, -1, 3, 7]))
        fn = lambda: legendre_product(X, jnp.asarray(idx), degree=2)  # noqa: E731
    else:
        shape = data.draw(mismatched_shapes(IDX.shape))
        idx = np.zeros(shape, np.int32)
        fn = lambda: legendre_product(X, idx)  # noqa: E731
        if len(shape) == 2 and shape[1] == 2:  # only the row count changed: a valid table
            return
    assert_refuses(fn, match="`indices`")


# ---- Askey families, Gauss rules, hyperbolic truncation, mixed products (issue 23) ---------

from jaxsci.polynomials import (  # noqa: E402
    AbstractFamily,
    Hermite,
    hyperbolic_indices,
    Jacobi,
    Laguerre,
    Legendre,
    orthonormal_product,
)

FAMS = (Hermite(), Legendre())


@pytest.mark.parametrize(
    "fn, exc, match",
    [
        # out-of-domain static parameters: not a probability measure
        (lambda: Laguerre(-1.0), ValueError, "`alpha`"),
        (lambda: Laguerre(np.nan), ValueError, "`alpha`"),
        (lambda: Laguerre("a"), TypeError, "`alpha`"),
        (lambda: Jacobi(0.0, -2.0), ValueError, "`beta`"),
        (lambda: Jacobi(np.inf, 0.0), ValueError, "`alpha`"),
        (lambda: Legendre((1.0, 0.0)), ValueError, "b > a"),
        (lambda: Legendre((0.0, np.inf)), ValueError, "`interval`"),
        # Gauss rules: n must be a positive int (an empty rule integrates to 0)
        (lambda: Hermite().gauss(0), ValueError, "`n`"),
        (lambda: Jacobi().gauss(2.0), TypeError, "`n`"),
        (lambda: Laguerre().recurrence(0), ValueError, "`n`"),
        (lambda: Hermite().evaluate(X, -1), ValueError, "`degree`"),
        (lambda: Hermite().evaluate(jnp.array([1j]), 2), TypeError, "`x`"),
        (lambda: Hermite().sample(0, (3,)), TypeError, "`key`"),
        (lambda: Jacobi().sample(np.zeros(2), (3,)), TypeError, "`key`"),
        (lambda: Laguerre().sample("k", (3,)), TypeError, "`key`"),
        (lambda: Legendre().sample(None, (3,)), TypeError, "`key`"),
        # hyperbolic truncation
        (lambda: hyperbolic_indices(2, 3, 0.0), ValueError, "`q`"),
        (lambda: hyperbolic_indices(2, 3, 1.5), ValueError, "`q`"),
        (lambda: hyperbolic_indices(2, 3, np.nan), ValueError, "`q`"),
        (lambda: hyperbolic_indices(2, 3, "x"), ValueError, "`q`"),
        (lambda: hyperbolic_indices(0, 3, 0.5), ValueError, "`dimension`"),
        (lambda: hyperbolic_indices(2, -1, 0.5), ValueError, "`degree`"),
        # mixed products: families per coordinate, shared index checks
        (lambda: orthonormal_product(X, IDX, Hermite()), TypeError, "`families`"),
        (lambda: orthonormal_product(X, IDX, (Hermite(), "x")), TypeError, "`families`"),
        (lambda: orthonormal_product(X, IDX, (Hermite(),)), ValueError, "`families`"),
        (lambda: orthonormal_product(X, IDX[:, :1], FAMS), ValueError, "`indices`"),
        (lambda: orthonormal_product(X[None], IDX, FAMS), ValueError, "`x`"),
        (lambda: orthonormal_product(X, IDX.astype(float), FAMS), TypeError, "`indices`"),
        (lambda: orthonormal_product(X, np.array([[-1, 0]]), FAMS), ValueError, "`indices`"),
        (lambda: orthonormal_product(X, jnp.asarray(IDX), FAMS), TypeError, "degree="),
    ],
)
def test_families_refused(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_abstract_family_and_traced_indices():
    with pytest.raises(TypeError):
        AbstractFamily()  # abstract: recurrence / support / sample missing
    bad = jnp.array([[0, 0], [3, 1]])
    f = jax.jit(lambda i: orthonormal_product(X, i, FAMS, degree=2))
    assert_refuses(lambda: f(bad), match="`indices`")
    # documented: x is not checked in the pointwise core; NaN stays in its row
    out = Hermite().evaluate(jnp.array([0.5, jnp.nan]), 2)
    assert np.all(np.isfinite(out[0])) and np.all(np.isnan(out[1, 1:]))
    assert Hermite().evaluate(jnp.zeros((0,)), 3).shape == (0, 4)  # empty: empty table
    assert orthonormal_product(X, np.zeros((0, 2), np.int32), FAMS).shape == (0,)
