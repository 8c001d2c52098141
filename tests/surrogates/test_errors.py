import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import check_vmap_loop

from jaxsci.surrogates import error_statistics, l1_error


def test_l1_error_against_formula():
    t = jnp.array([0.0, 0.1, 0.3, 0.6, 1.0])
    y = jnp.array([1.0, 2.0, 3.0, 4.0, 5.0])
    ya = jnp.array([1.5, 1.0, 3.0, 4.5, -9.0])
    # eq. (24): last point carries no weight
    ref = (0.1 * 0.5 + 0.2 * 1.0 + 0.3 * 0.0 + 0.4 * 0.5) / 1.0
    np.testing.assert_allclose(l1_error(t, y, ya), ref, rtol=1e-14)


def test_l1_error_converges_to_integral():
    t = jnp.linspace(0.0, 2.0, 20001)
    err = l1_error(t, jnp.sin(t), jnp.zeros_like(t))
    np.testing.assert_allclose(err, (1 - np.cos(2.0)) / 2.0, rtol=1e-4)


def test_vmap_and_stats(key):
    t = jnp.linspace(0, 1, 11)
    ys = jax.random.normal(key, (5, 11))
    check_vmap_loop(lambda y: l1_error(t, y, jnp.zeros_like(y)), (ys,))
    e = jnp.array([1.0, 2.0, 4.0])
    m, s = error_statistics(e)
    np.testing.assert_allclose([m, s], [np.mean(e), np.std(np.asarray(e), ddof=1)])


def test_bad_input():
    t = jnp.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="`y_approx` must have the shape"):
        l1_error(t, jnp.zeros(5), jnp.zeros(4))
    with pytest.raises(ValueError, match="`times`"):
        l1_error(jnp.zeros(1), jnp.zeros(1), jnp.zeros(1))
    with pytest.raises(ValueError, match="`errors`"):
        error_statistics(jnp.zeros((2, 2)))
