"""Invariants (eq. 16), tensor basis (eq. 17), sym/vec round trip, SPD checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given

from jaxsci import mechanics as mech
from jaxsci.testing import spd_matrices


@given(spd_matrices(min_eigenvalue=0.2, max_eigenvalue=5.0))
def test_invariants_match_eigenvalue_formulas(B):
    lam = np.linalg.eigvalsh(B)
    want = [lam.sum(), lam[0] * lam[1] + lam[1] * lam[2] + lam[0] * lam[2], lam.prod()]
    np.testing.assert_allclose(mech.invariants(jnp.asarray(B)), want, rtol=1e-12)


def test_invariant_gradients_finite_at_identity():
    B = jnp.eye(3)
    J = jax.jacfwd(mech.invariants)(B)
    assert np.all(np.isfinite(J))
    # dI1/dB = I, dI2/dB = I1 I - B, dI3/dB = I3 B^{-T} (eq. 30), at B = I.
    np.testing.assert_allclose(J[0], np.eye(3), atol=1e-14)
    np.testing.assert_allclose(J[1], 2 * np.eye(3), atol=1e-14)
    np.testing.assert_allclose(J[2], np.eye(3), atol=1e-14)
    # finite differences at a two-fold repeated eigenvalue
    B2 = jnp.diag(jnp.array([1.3, 1.3, 0.8]))
    eps = 1e-6
    for k in range(3):
        g = jax.grad(lambda B_: mech.invariants(B_)[k])(B2)
        fd = np.zeros((3, 3))
        for i in range(3):
            for j in range(3):
                # symmetric perturbation (invariants refuses a non-symmetric B); the gradient
                # is symmetric at a symmetric B, so this still recovers its (i, j) entry
                E = np.zeros((3, 3)); E[i, j] += eps / 2; E[j, i] += eps / 2
                fd[i, j] = (mech.invariants(B2 + E)[k] - mech.invariants(B2 - E)[k]) / (2 * eps)
        np.testing.assert_allclose(g, fd, atol=1e-7)


def test_tensor_basis_and_expand():
    B = jnp.array([[1.2, 0.1, 0.0], [0.1, 1.0, 0.05], [0.0, 0.05, 1.4]])
    A = mech.tensor_basis(B)
    np.testing.assert_allclose(A[0], np.eye(3))
    np.testing.assert_allclose(A[2], np.asarray(B) @ np.asarray(B), rtol=1e-14)
    c = jnp.array([0.3, -0.2, 0.7])
    np.testing.assert_allclose(mech.expand(c, B), 0.3 * A[0] - 0.2 * A[1] + 0.7 * A[2], rtol=1e-14)


def test_sym_vec_round_trip():
    A = jnp.array([[1.0, 2.0, 3.0], [2.0, 4.0, 5.0], [3.0, 5.0, 6.0]])
    v = mech.sym_to_vec(A)
    np.testing.assert_array_equal(v, [1.0, 4.0, 6.0, 2.0, 3.0, 5.0])
    np.testing.assert_array_equal(mech.vec_to_sym(v), A)


def test_bad_shapes():
    with pytest.raises(ValueError, match="3x3"):
        mech.invariants(jnp.eye(2))
    with pytest.raises(ValueError, match="shape"):
        mech.expand(jnp.ones(2), jnp.eye(3))
    with pytest.raises(ValueError, match="shape"):
        mech.vec_to_sym(jnp.ones(5))


def test_require_spd_errors():
    check = jax.jit(mech.require_spd)
    np.testing.assert_array_equal(check(jnp.eye(3)), jnp.eye(3))
    nonsym = jnp.eye(3).at[0, 1].set(0.5)
    with pytest.raises(Exception, match="not symmetric"):
        check(nonsym)
    with pytest.raises(Exception, match="not positive definite"):
        check(jnp.diag(jnp.array([1.0, -1.0, 1.0])))


def test_jit_vmap_pointwise(key):
    Bs = mech.sample_finger_tensors(5, key=key)
    loop = jnp.stack([mech.invariants(B) for B in Bs])
    np.testing.assert_allclose(jax.jit(jax.vmap(mech.invariants))(Bs), loop, rtol=1e-13)
    loopb = jnp.stack([mech.tensor_basis(B) for B in Bs])
    np.testing.assert_allclose(jax.vmap(mech.tensor_basis)(Bs), loopb, rtol=1e-13)


def test_sampler_eigenvalues_in_range(key):
    Bs = mech.sample_finger_tensors(50, key=key, low=0.9, high=2.0)
    lam = np.linalg.eigvalsh(np.asarray(Bs))
    assert lam.min() >= 0.9 - 1e-12 and lam.max() <= 2.0 + 1e-12
    np.testing.assert_allclose(Bs, np.swapaxes(Bs, 1, 2))
    R = mech.sample_rotation(key=key)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-14)
    assert abs(np.linalg.det(R) - 1) < 1e-13
    with pytest.raises(ValueError, match="low"):
        mech.sample_finger_tensor(key=key, low=2.0, high=1.0)
