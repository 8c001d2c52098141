"""Exact DMD: eigenvalues of known linear systems, truncation, PyDMD agreement, transforms."""

import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from helpers import check_jit_eager

from jaxsci.koopman import dmd, dmd_from_pairs, stabilized


def _linear_system(lams, n_snap=20, seed=0):
    rng = np.random.default_rng(seed)
    n = len(lams)
    q = rng.normal(size=(n, n))
    a = q @ np.diag(lams) @ np.linalg.inv(q)
    xs = [rng.normal(size=n)]
    for _ in range(n_snap - 1):
        xs.append(a @ xs[-1])
    return a, jnp.asarray(np.stack(xs, 1))


def test_recovers_eigenvalues_of_linear_system():
    lams = np.array([0.95, 0.8, 0.5, -0.3, 0.99])
    _, x = _linear_system(lams)
    model = dmd(x)
    np.testing.assert_allclose(np.sort(np.real(model.eigenvalues)), np.sort(lams), atol=1e-10)
    np.testing.assert_allclose(np.imag(model.eigenvalues), 0, atol=1e-10)
    np.testing.assert_allclose(model.reconstruct(jnp.arange(20.0)), x.T, atol=1e-10)  # time first
    # forecasting from any snapshot reproduces the trajectory
    np.testing.assert_allclose(model.forecast(x[:, 4], jnp.array([0.0, 3.0])), x[:, [4, 7]].T, atol=1e-10)
    # one layout for any shape of steps / times: steps.shape + (n,)
    grid = jnp.arange(6.0).reshape(2, 3)
    assert model.forecast(x[:, 0], grid).shape == (2, 3, x.shape[0])
    np.testing.assert_allclose(model.reconstruct(grid), model.forecast(x[:, 0], grid), atol=1e-10)
    np.testing.assert_allclose(model.forecast(x[:, 0], 2.0), x[:, 2], atol=1e-10)


def test_complex_and_continuous_eigenvalues():
    # rotation-decay system x' = A x, discretised exactly with dt
    a = jnp.array([[-0.1, 2.0], [-2.0, -0.1]])
    dt = 0.05
    step = jax.scipy.linalg.expm(a * dt)
    xs = [jnp.array([1.0, 0.0])]
    for _ in range(30):
        xs.append(step @ xs[-1])
    model = dmd(jnp.stack(xs, 1), dt=dt)
    omega = np.sort_complex(np.asarray(model.continuous_eigenvalues))
    np.testing.assert_allclose(omega, np.array([-0.1 - 2j, -0.1 + 2j]), atol=1e-10)


def test_rank_truncation():
    # rank-2 data embedded in 6 dimensions
    _, z = _linear_system(np.array([0.9, 0.6]), n_snap=15, seed=1)
    emb = jnp.asarray(np.random.default_rng(2).normal(size=(6, 2)))
    x = emb @ z
    full = dmd(x)
    lam = np.sort(np.abs(np.asarray(full.eigenvalues)))
    np.testing.assert_allclose(lam[-2:], [0.6, 0.9], atol=1e-9)
    np.testing.assert_allclose(lam[:-2], 0, atol=1e-9)  # truncated singular values -> 0
    r2 = dmd(x, rank=2)
    assert r2.eigenvalues.shape == (2,) and r2.modes.shape == (6, 2)
    np.testing.assert_allclose(np.sort(np.real(r2.eigenvalues)), [0.6, 0.9], atol=1e-10)


def test_matches_pydmd():
    pydmd = pytest.importorskip("pydmd")
    x = np.asarray(jax.random.normal(jax.random.key(0), (40, 12)))
    ours = dmd(jnp.asarray(x), rank=5)
    ref = pydmd.DMD(svd_rank=5, exact=True).fit(x)
    np.testing.assert_allclose(
        np.sort_complex(np.asarray(ours.eigenvalues)), np.sort_complex(ref.eigs), atol=1e-10
    )


def test_fixed_point_and_stabilized():
    # affine contraction x' = A (x - c) + c: unit-eigenvalue mode carries c
    rng = np.random.default_rng(3)
    a = np.diag([0.7, 0.5, 0.2])
    c = rng.normal(size=3)
    xs = [rng.normal(size=3) + c]
    for _ in range(12):
        xs.append(a @ (xs[-1] - c) + c)
    x = jnp.asarray(np.stack(xs, 1))
    aug = jnp.concatenate([x, jnp.ones((1, x.shape[1]))])  # constant observable -> lambda = 1
    model = dmd(aug)
    np.testing.assert_allclose(model.fixed_point(aug[:, -1])[:3], c, atol=1e-8)
    grow = eqx.tree_at(lambda d: d.eigenvalues, model, model.eigenvalues * 1.5)
    assert np.isnan(np.asarray(grow.fixed_point(aug[:, -1]))).all()
    assert np.all(np.abs(np.asarray(stabilized(grow).eigenvalues)) <= 1 + 1e-12)


def test_jit_vmap_grad():
    _, x = _linear_system(np.array([0.9, 0.5, 0.2]), n_snap=8)
    f = lambda s: jnp.sort(jnp.real(dmd(s).eigenvalues))
    check_jit_eager(f, x)
    xs = jnp.stack([x, 1.5 * x, x[::-1]])
    fj = jax.jit(f)
    np.testing.assert_allclose(jax.vmap(fj)(xs), jnp.stack([fj(a) for a in xs]), rtol=1e-8, atol=1e-10)
    # gradient of the spectral radius-squared sum w.r.t. the data vs central differences
    g = jax.jit(lambda s: jnp.sum(jnp.abs(dmd(s).eigenvalues) ** 2))
    direction = jax.random.normal(jax.random.key(1), x.shape)
    eps = 1e-6
    fd = (g(x + eps * direction) - g(x - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(jnp.vdot(jax.jit(jax.grad(g))(x), direction), fd, rtol=1e-5)


def test_float32():
    _, x = _linear_system(np.array([0.9, 0.5]), n_snap=6)
    model = dmd(x.astype(jnp.float32))
    assert model.singular_values.dtype == jnp.float32
    np.testing.assert_allclose(np.sort(np.real(model.eigenvalues)), [0.5, 0.9], atol=1e-4)


def test_bad_input():
    with pytest.raises(ValueError, match="snapshots"):
        dmd(jnp.ones(5))
    with pytest.raises(ValueError, match="at least 2"):
        dmd(jnp.ones((3, 1)))
    with pytest.raises(ValueError, match="rank"):
        dmd(jnp.ones((3, 5)), rank=4)
    with pytest.raises(ValueError, match="same shape"):
        dmd_from_pairs(jnp.ones((3, 4)), jnp.ones((3, 5)))
    with pytest.raises(TypeError, match="real"):
        dmd(jnp.ones((3, 4), complex))
    with pytest.raises(Exception, match="NaN"):
        dmd(jnp.full((3, 4), jnp.nan))


@settings(max_examples=10)
@given(st.lists(st.floats(-0.95, 0.95), min_size=2, max_size=4, unique=True))
def test_eigenvalues_property(lams):
    lams = np.array(lams)
    if np.min(np.abs(lams[:, None] - lams[None, :]) + np.eye(len(lams))) < 0.05 or np.min(np.abs(lams)) < 0.05:
        return  # nearly repeated / vanishing eigenvalues are unidentifiable from short data
    _, x = _linear_system(lams, n_snap=2 * len(lams) + 2)
    model = dmd(x)
    np.testing.assert_allclose(np.sort(np.real(model.eigenvalues)), np.sort(lams), atol=1e-6)
