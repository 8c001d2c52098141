"""Sobol vs SciPy, Latin hypercube strata, box faces and boundary."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.stats import qmc

from jaxsci import pinn


@pytest.mark.parametrize("d", [1, 3, 10])
def test_sobol_matches_scipy(d):
    ours = np.asarray(pinn.sobol_sequence(64, d))
    ref = qmc.Sobol(d, scramble=False).random(64)
    np.testing.assert_array_equal(ours, ref)
    np.testing.assert_array_equal(np.asarray(pinn.sobol_sequence(8, d, skip=8)), ref[8:16])


def test_sobol_shift_keeps_net_property(key):
    pts = np.asarray(pinn.Sobol()(64, 2, key=key))
    # a (0, m, 2)-net in base 2: every 1/8 x 1/8 box holds exactly one point
    cells = np.floor(pts * 8).astype(int)
    assert len({tuple(c) for c in cells}) == 64
    assert pinn.sobol_sequence(4, 2, key=key, dtype=jnp.float32).dtype == jnp.float32
    with pytest.raises(ValueError, match="Sobol"):
        pinn.sobol_sequence(4, 11)


@settings(max_examples=6)
@given(n=st.sampled_from([5, 17]), d=st.sampled_from([1, 3]), seed=st.integers(0, 2**16))
def test_latin_hypercube_strata(n, d, seed):
    pts = np.asarray(pinn.LatinHypercube()(n, d, key=jr.key(seed)))
    assert pts.shape == (n, d)
    for j in range(d):
        assert sorted(np.floor(pts[:, j] * n).astype(int)) == list(range(n))


def test_box_sampling(key):
    box = pinn.Box([0.0, -1.0, 2.0], [1.0, 1.0, 5.0])
    pts = np.asarray(box.sample(200, key=key, sampler=pinn.LatinHypercube()))
    assert np.all(pts >= np.array([0, -1, 2])) and np.all(pts <= np.array([1, 1, 5]))
    face = np.asarray(box.sample_face(10, 2, 1, key=key))
    assert np.all(face[:, 2] == 5.0)
    bnd = np.asarray(box.sample_boundary(300, key=key))
    on = (
        np.isclose(bnd, [0, -1, 2]).any(axis=1) | np.isclose(bnd, [1, 1, 5]).any(axis=1)
    )
    assert on.all()
    with pytest.raises(ValueError, match="equal length"):
        pinn.Box([0.0, 0.0], [1.0])
    with pytest.raises(ValueError, match="side"):
        box.sample_face(3, 0, 2, key=key)
