import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, strategies as st

from jaxsci.surrogates import energy_rank, pod


def _lowrank(key, m=40, k=30, r=4):
    k1, k2 = jr.split(key)
    t = jnp.linspace(0, 1, m)
    modes = jnp.stack([jnp.sin((j + 1) * jnp.pi * t) for j in range(r)], axis=1)
    amps = jr.normal(k1, (r, k)) * (10.0 ** -jnp.arange(r))[:, None]
    return modes @ amps


def test_energy_rank_matches_numpy_definition():
    sigma = jnp.array([10.0, 3.0, 1.0, 0.3, 0.1, 0.01])
    e = np.cumsum(np.asarray(sigma) ** 2)
    for delta in (0.5, 0.9, 0.99, 0.999, 0.99999):
        ref = int(np.argmax(e > delta * e[-1])) + 1  # eq. (7): smallest r
        assert int(energy_rank(sigma, delta)) == ref
    assert int(jax.jit(energy_rank, static_argnums=1)(sigma, 0.99)) == 2


def test_pod_recovers_rank_and_reconstructs(key):
    y = _lowrank(key)
    full = pod(y, delta=1.0)
    assert full.rank == 4
    sv = np.linalg.svd(np.asarray(y), compute_uv=False)
    np.testing.assert_allclose(full.singular_values, sv, rtol=1e-10, atol=1e-12)
    w = y[:, 3]
    np.testing.assert_allclose(full.reconstruct(full.project(w)), w, atol=1e-10)
    small = pod(y, delta=0.9)
    assert small.rank < 4


def test_pod_jit_with_static_rank_and_vmap(key):
    y = _lowrank(key)
    p = jax.jit(lambda a: pod(a, rank=3))(y)
    assert p.basis.shape == (40, 3)
    coeffs = jax.vmap(p.project, in_axes=1)(y)
    loop = jnp.stack([p.project(y[:, j]) for j in range(y.shape[1])])
    np.testing.assert_allclose(coeffs, loop, atol=1e-12)


@given(st.integers(1, 6))
def test_basis_orthonormal(r):
    y = _lowrank(jr.key(r), r=6)
    p = pod(y, rank=r)
    np.testing.assert_allclose(p.basis.T @ p.basis, np.eye(r), atol=1e-10)


def test_bad_input(key):
    y = _lowrank(key)
    with pytest.raises(ValueError, match="static `rank=`"):
        jax.jit(lambda a: pod(a))(y)
    with pytest.raises(ValueError, match="`delta`"):
        pod(y, delta=1.5)
    with pytest.raises(ValueError, match="`rank`"):
        pod(y, rank=100)
    with pytest.raises(ValueError, match="`snapshots` must be a matrix"):
        pod(y[0])
    with pytest.raises(Exception, match="NaN or inf"):
        pod(y.at[0, 0].set(jnp.nan), rank=2)
    with pytest.raises(ValueError, match="`w` must be one trajectory"):
        pod(y, rank=2).project(y)
