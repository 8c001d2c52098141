"""Coefficient extraction (eqs. 21-25) and the matrix-exponential isotropic function."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from hypothesis import given

from jaxsci import mechanics as mech
from jaxsci.testing import rotations, spd_matrices

C = jnp.array([0.4, -1.3, 0.6])
extract = jax.jit(mech.extract_coefficients)


def _tensor(R, lam):
    B = (R * np.asarray(lam)[None, :]) @ R.T
    return jnp.asarray(0.5 * (B + B.T))


@given(spd_matrices(min_eigenvalue=0.5, max_eigenvalue=3.0, distinct=0.1))
def test_round_trip_distinct(B):
    B = jnp.asarray(B)
    c = extract(B, mech.expand(C, B))
    np.testing.assert_allclose(c, C, rtol=1e-7, atol=1e-7)


@given(rotations())
def test_two_equal_eigenvalues_eq24(R):
    lam = np.array([1.3, 1.3, 0.7])
    B = _tensor(R, lam)
    sigma = mech.expand(C, B)
    c = extract(B, sigma)
    # reproduces sigma, and the replaced row is eq. 24: c1 + 2 lambda_rep c2 = 0
    np.testing.assert_allclose(mech.expand(c, B), sigma, atol=1e-9)
    assert abs(c[1] + 2 * 1.3 * c[2]) < 1e-9


@given(rotations())
def test_three_equal_eigenvalues_eq25(R):
    B = _tensor(R, np.full(3, 1.2))
    sigma = mech.expand(C, B)
    c = extract(B, sigma)
    s = float(C[0] + C[1] * 1.2 + C[2] * 1.44)
    np.testing.assert_allclose(c, [s, 0.0, 0.0], atol=1e-9)


def test_nearly_equal_eigenvalues_bounded():
    # coefficients of a smooth isotropic function stay bounded as eigenvalues merge
    R = np.asarray(mech.sample_rotation(key=jax.random.key(1)))
    out = []
    for gap in [1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 0.0]:
        B = _tensor(R, [1.1, 1.1 + gap, 1.4])
        c = extract(B, mech.isotropic_function(jnp.exp, B))
        assert np.all(np.isfinite(c)) and np.max(np.abs(c)) < 50.0
        np.testing.assert_allclose(mech.expand(c, B), scipy.linalg.expm(np.asarray(B)), atol=1e-6)
        out.append(c)
    np.testing.assert_allclose(out[0], out[2], atol=0.05)


def test_isotropic_function_is_expm(key):
    B = mech.sample_finger_tensor(key=key)
    np.testing.assert_allclose(mech.isotropic_function(jnp.exp, B), scipy.linalg.expm(np.asarray(B)), rtol=1e-12)


def test_vmap_equals_loop(key):
    Bs = mech.sample_finger_tensors(4, key=key)
    S = jax.vmap(lambda B: mech.expand(C, B))(Bs)
    batched = jax.vmap(mech.extract_coefficients)(Bs, S)
    loop = jnp.stack([mech.extract_coefficients(B, s) for B, s in zip(Bs, S)])
    np.testing.assert_allclose(batched, loop, rtol=1e-12)


def test_bad_shapes():
    with pytest.raises(ValueError, match="sigma"):
        mech.extract_coefficients(jnp.eye(3), jnp.eye(2))
    with pytest.raises(ValueError, match="shape"):
        mech.coefficients_from_eigenvalues(jnp.ones(2), jnp.ones(3))
