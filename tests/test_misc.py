import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci._misc import (
    _plain_progress,
    as_float_array,
    progress,
    safe_norm,
    safe_sqrt,
    softplus_inverse,
    sq_dist,
)


def test_safe_norm_and_sqrt_have_finite_gradients_at_zero():
    g = jax.grad(lambda x: safe_norm(x))(jnp.zeros(3))
    np.testing.assert_array_equal(g, 0.0)
    assert jax.grad(safe_sqrt)(0.0) == 0.0
    np.testing.assert_allclose(safe_norm(jnp.array([3.0, 4.0])), 5.0)
    np.testing.assert_allclose(jax.grad(safe_sqrt)(4.0), 0.25)


def test_sq_dist_and_softplus_inverse():
    x, y = jnp.array([1.0, 2.0]), jnp.array([0.0, 4.0])
    assert sq_dist(x, y) == 5.0
    np.testing.assert_array_equal(jax.grad(sq_dist)(x, x), 0.0)
    v = jnp.array([1e-3, 0.5, 3.0, 50.0])
    np.testing.assert_allclose(jax.nn.softplus(softplus_inverse(v)), v, rtol=1e-12)


def test_as_float_array_promotes_and_rejects():
    assert jnp.issubdtype(as_float_array([1, 2], "x").dtype, jnp.floating)
    assert as_float_array(jnp.ones(2, jnp.float32), "x").dtype == jnp.float32
    with pytest.raises(TypeError, match="`z` must be real"):
        as_float_array(jnp.ones(2, jnp.complex64), "z")
    with pytest.raises(TypeError, match=r"`scale` must be a real number or array, got str"):
        as_float_array("big", "scale")


def test_progress_disabled_and_plain_fallback(capsys):
    assert progress(range(3), desc="d", enabled=False) == range(3)
    assert list(_plain_progress(range(3), "work")) == [0, 1, 2]
    assert "work: 3/3" in capsys.readouterr().err


def test_solution_is_a_generic_pytree_and_raise_if_failed_throws_under_jit():
    import equinox as eqx
    import jax

    from jaxsci._solution import RESULTS, Solution, raise_if_failed

    assert Solution[eqx.nn.Linear].__origin__ is Solution
    sol = Solution(jnp.ones(2), RESULTS.successful, {"num_steps": jnp.asarray(3)})
    out = jax.jit(lambda s: raise_if_failed(s, True))(sol)
    assert int(out.num_steps) == 3 and out.history is None
    bad = Solution(jnp.ones(2), RESULTS.nonfinite_loss, {})
    assert raise_if_failed(bad, False) is bad
    with pytest.raises(eqx.EquinoxRuntimeError, match="loss became NaN or inf"):
        eqx.filter_jit(lambda s: raise_if_failed(s, True))(bad)
