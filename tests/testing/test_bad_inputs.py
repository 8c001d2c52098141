"""The bad-input strategies draw what they promise; assert_refuses tells refusals apart."""

import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

from jaxsci._checks import (
    check_ndim,
    check_nonempty,
    check_same_size,
    check_value,
    require_positive_int,
)
from jaxsci._solution import RESULTS, Solution
from jaxsci.testing import (
    assert_refuses,
    empty_like_shape,
    mismatched_shapes,
    non_spd_matrices,
    with_nonfinite,
)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_non_spd_matrices_are_not_spd(data):
    a = data.draw(non_spd_matrices(n=3))
    symmetric = np.allclose(a, a.T)
    assert (not symmetric) or np.linalg.eigvalsh(a).min() <= 1e-12


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_with_nonfinite_injects(data):
    x = data.draw(with_nonfinite(np.ones((3, 2)), max_count=2))
    assert x.shape == (3, 2) and not np.all(np.isfinite(x))


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_mismatched_shapes_differ(data):
    assert data.draw(mismatched_shapes((4, 2))) != (4, 2)


def test_empty_like_shape():
    assert empty_like_shape((5, 3)).shape == (0, 3)
    assert empty_like_shape((5, 3), axis=1).shape == (5, 0)


def _positive(x):
    return check_value(x, x <= 0, "`x` must be positive; got a value <= 0.")


def test_check_value_eager_jit_vmap():
    x = jnp.array([1.0, -1.0])
    with pytest.raises(ValueError, match="`x` must be positive"):
        _positive(x)
    with pytest.raises(eqx.EquinoxRuntimeError, match="`x` must be positive"):
        eqx.filter_jit(_positive)(x)
    with pytest.raises(eqx.EquinoxRuntimeError, match="`x` must be positive"):
        jax.vmap(eqx.filter_jit(_positive))(x)
    np.testing.assert_array_equal(eqx.filter_jit(_positive)(jnp.ones(2)), jnp.ones(2))


def test_tier1_helpers():
    with pytest.raises(ValueError, match="`X` must have 2 dimension"):
        check_ndim(jnp.ones(3), "X", 2)
    with pytest.raises(ValueError, match="`X` is empty"):
        check_nonempty(jnp.ones((0, 2)), "X")
    with pytest.raises(ValueError, match="`X` .* and `y` .* same size"):
        check_same_size(jnp.ones((3, 2)), "X", jnp.ones(4), "y")
    with pytest.raises(ValueError, match="`n` must be an integer >= 1, got -1"):
        require_positive_int(-1, "n")
    with pytest.raises(TypeError, match="`n` must be a Python int"):
        require_positive_int(2.5, "n")


def test_assert_refuses_tells_refusals_from_silence():
    assert isinstance(assert_refuses(lambda: _positive(-jnp.ones(1)), match="positive"), ValueError)
    failed = Solution(jnp.ones(1), RESULTS.nonfinite_loss, {})
    assert assert_refuses(lambda: failed) is failed
    with pytest.raises(AssertionError, match="NaN/inf output"):
        assert_refuses(lambda: jnp.log(-jnp.ones(1)))
    with pytest.raises(AssertionError, match="finite output"):
        assert_refuses(lambda: jnp.ones(1))
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        assert_refuses(lambda: 1 / 0)
    with pytest.raises(AssertionError, match="successful"):
        assert_refuses(lambda: Solution(jnp.ones(1), RESULTS.successful, {}))
    with pytest.raises(AssertionError, match="does not match"):
        assert_refuses(lambda: _positive(-jnp.ones(1)), match="lengthscale")
