import itertools

import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci.surrogates import stroud5, total_degree_indices


def _exact(idx):
    return np.prod(1.0 / (np.asarray(idx) + 1.0), axis=-1)


@pytest.mark.parametrize("q", [1, 2, 3, 4, 6, 10])
def test_stroud5_exact_for_all_monomials_up_to_degree_5(q):
    rule = stroud5(q)
    assert rule.nodes.shape == (2 * q * q + 1, q)
    idx = total_degree_indices(q, 5)  # every monomial of total degree <= 5
    vals = jnp.prod(rule.nodes[:, None, :] ** jnp.asarray(idx)[None], axis=2)
    got = rule.integrate(vals)
    np.testing.assert_allclose(got, _exact(idx), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("q", [2, 5])
def test_stroud5_not_exact_at_degree_6(q):
    rule = stroud5(q)
    errs = []
    for idx in itertools.product(range(7), repeat=2):
        if sum(idx) != 6:
            continue
        full = np.zeros(q, dtype=int)
        full[:2] = idx
        vals = jnp.prod(rule.nodes ** jnp.asarray(full)[None], axis=1)
        errs.append(abs(float(rule.integrate(vals)) - _exact(full)))
    assert max(errs) > 1e-4  # degree 5 is sharp


def test_stroud5_nodes_in_cube_and_dtype():
    rule = stroud5(4, dtype=jnp.float32)
    assert rule.nodes.dtype == jnp.float32
    assert float(rule.nodes.min()) >= 0 and float(rule.nodes.max()) <= 1
    np.testing.assert_allclose(float(rule.weights.sum()), 1.0, rtol=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="`dimension`"):
        stroud5(0)
    with pytest.raises(ValueError, match="`values` must have leading axis"):
        stroud5(2).integrate(jnp.zeros(3))
