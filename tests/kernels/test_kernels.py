"""jaxsci.kernels: values vs scikit-learn, PSD Gram matrices, derivatives, bad input."""

import equinox as eqx
import hypothesis
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import check_jit_eager, finite_difference_grad
from jax.test_util import check_grads
from sklearn.gaussian_process import kernels as skk

from jaxsci import kernels as K
from jaxsci.testing import points_in_box

ARD = np.array([0.7, 1.3, 2.0])

KERNELS = {
    "se": K.SquaredExponential(1.5, 0.8),
    "expquad": K.ExpQuad(2.0, 0.9),
    "expquad_ard": K.ExpQuad(1.3, ARD),
    "m12": K.Matern12(1.2, ARD),
    "m32": K.Matern32(0.8, 0.6),
    "m52": K.Matern52(1.1, ARD),
    "rq": K.RationalQuadratic(0.9, 1.4, 0.7),
    "sum": K.ExpQuad(1.0, 0.5) + K.Matern52(0.5, 2.0),
    "product": K.ExpQuad(1.0, 1.5) * K.Matern32(1.0, 0.9),
    "scaled": 3.0 * K.RationalQuadratic(1.0, ARD, 2.0),
}


def _sklearn(name):
    c = skk.ConstantKernel
    return {
        "se": c(1.5) * skk.RBF(1 / np.sqrt(2 * 0.8)),
        "expquad": c(2.0) * skk.RBF(0.9),
        "expquad_ard": c(1.3) * skk.RBF(ARD),
        "m12": c(1.2) * skk.Matern(ARD, nu=0.5),
        "m32": c(0.8) * skk.Matern(0.6, nu=1.5),
        "m52": c(1.1) * skk.Matern(ARD, nu=2.5),
        "rq": c(0.9) * skk.RationalQuadratic(length_scale=1.4, alpha=0.7),
        "sum": skk.RBF(0.5) + c(0.5) * skk.Matern(2.0, nu=2.5),
        "product": skk.RBF(1.5) * skk.Matern(0.9, nu=1.5),
        "scaled": None,
    }[name]


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(0)
    return rng.normal(size=(7, 3)), rng.normal(size=(5, 3))


@pytest.mark.parametrize("name", [n for n in KERNELS if n != "scaled"])
def test_gram_matches_sklearn(name, points):
    X1, X2 = points
    np.testing.assert_allclose(KERNELS[name](X1, X2), _sklearn(name)(X1, X2), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(KERNELS[name].diag(X1), _sklearn(name).diag(X1), rtol=1e-12)


def test_scaled_rq_ard_and_parametrisations(points):
    X1, X2 = points
    k = KERNELS["scaled"]
    base = K.RationalQuadratic(1.0, ARD, 2.0)
    np.testing.assert_allclose(k(X1, X2), 3.0 * base(X1, X2), rtol=1e-13)
    # ARD RQ by hand
    r2 = (((X1[:, None] - X2[None]) / ARD) ** 2).sum(-1)
    np.testing.assert_allclose(base(X1, X2), (1 + r2 / 4.0) ** -2.0, rtol=1e-12)
    se = K.SquaredExponential(2.0, 0.3)
    np.testing.assert_allclose(se(X1, X2), K.ExpQuad(2.0, 1 / np.sqrt(0.6))(X1, X2), rtol=1e-12)
    assert np.isclose(se.theta1, 2.0) and np.isclose(se.theta2, 0.3)
    np.testing.assert_allclose(KERNELS["m52"].lengthscale, ARD)
    assert np.isclose(k.scale, 3.0) and np.isclose(base.alpha, 2.0)
    # positive hyperparameters are stored as logs: all leaves are free reals
    leaves = jax.tree_util.tree_leaves(eqx.filter(KERNELS["expquad_ard"], eqx.is_inexact_array))
    np.testing.assert_allclose(leaves[1], np.log(ARD))


@pytest.mark.parametrize("name", list(KERNELS))
@hypothesis.settings(max_examples=8)
@hypothesis.given(X=points_in_box(-2.0, 2.0, n=(1, 12), d=3))
def test_gram_symmetric_psd(name, X):
    G = np.asarray(KERNELS[name](X, X))
    np.testing.assert_allclose(G, G.T, rtol=1e-12, atol=1e-14)
    eig = np.linalg.eigvalsh(G)
    assert eig.min() >= -1e-10 * max(1.0, eig.max())


@pytest.mark.parametrize(
    "kernel, expected",
    [(K.Matern32(1.0, 0.7), 3 / 0.49), (K.Matern52(1.0, 0.7), 5 / (3 * 0.49)), (K.ExpQuad(1.0, 0.7), 1 / 0.49)],
)
def test_cross_hessian_at_coincident_points(kernel, expected):
    # d^2 k / dx dx' at x = x' is finite and exact (custom_jvp profiles of u = r^2)
    x = jnp.array([0.3, -0.4])
    H = jax.jacfwd(jax.grad(kernel.evaluate, 0), 1)(x, x)
    np.testing.assert_allclose(H, expected * np.eye(2), rtol=1e-12)
    # and away from x = x' it matches finite differences of the kernel gradient
    y = jnp.array([0.1, 0.2])
    H = jax.jacfwd(jax.grad(kernel.evaluate, 0), 1)(x, y)
    dk = jax.jit(jax.grad(kernel.evaluate))
    fd = jnp.stack([finite_difference_grad(lambda yy: dk(x, yy)[i], y) for i in range(2)])
    np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-8)


def test_gradients_finite_at_coincident_points():
    x = jnp.array([0.5, -0.5, 0.1])
    for k in KERNELS.values():
        g = jax.grad(k.evaluate)(x, x)
        assert np.all(np.isfinite(g))
        hyper = jax.grad(lambda kk: kk.evaluate(x, x + 0.1))(k)
        assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(hyper))


def test_grad_hyperparameters_fd_and_jit(points):
    X1, X2 = points
    k = KERNELS["m52"]
    params, static = eqx.partition(k, eqx.is_inexact_array)

    def f(log_ls):
        kk = eqx.tree_at(lambda m: m.log_lengthscale, k, log_ls)
        return jnp.sum(kk(X1, X2) ** 2)

    check_grads(f, (k.log_lengthscale,), order=1, modes=["rev"], eps=1e-5)
    check_jit_eager(lambda kk: kk(X1, X2), KERNELS["rq"])
    del params, static


def test_bad_input():
    with pytest.raises(ValueError, match="lengthscale"):
        K.ExpQuad(1.0, -1.0)
    with pytest.raises(ValueError, match="variance"):
        K.Matern52(0.0)
    with pytest.raises(ValueError, match="scale"):
        -2.0 * K.ExpQuad()
    with pytest.raises(ValueError, match="shape"):
        K.ExpQuad()(jnp.ones(3), jnp.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(2, 2\)"):
        K.ExpQuad()(jnp.ones((4, 3)), jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="ARD"):
        K.ExpQuad(1.0, jnp.ones(2))(jnp.ones((4, 3)), jnp.ones((2, 3)))
    with pytest.raises(TypeError):
        K.ExpQuad() + 1.0


def test_float32_dtype_follows():
    k = K.ExpQuad(jnp.float32(1.0), jnp.float32(0.5))
    X = jnp.ones((3, 2), jnp.float32)
    assert k(X, X).dtype == jnp.float32


def _pointwise_gram(kernel, X1, X2):
    """The definition: `evaluate` under a double vmap (what AbstractKernel.__call__ does)."""
    return jax.vmap(jax.vmap(kernel.evaluate, (None, 0)), (0, None))(X1, X2)


@pytest.mark.parametrize("name", list(KERNELS))
def test_batched_gram_equals_pointwise_definition(name, points):
    """Stationary kernels override the Gram with an all-pairs form (fast reverse mode on CPU);
    values, hyperparameter gradients and input gradients must equal the pointwise ones."""
    X1, X2 = (jnp.asarray(p) for p in points)
    kernel = KERNELS[name]
    np.testing.assert_allclose(kernel(X1, X2), _pointwise_gram(kernel, X1, X2), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(kernel(X1, X1), _pointwise_gram(kernel, X1, X1), rtol=1e-13, atol=1e-15)
    W = jnp.asarray(np.random.default_rng(1).normal(size=(7, 5)))
    loss = lambda k, a, b: jnp.sum(W * k(a, b))
    loss_ref = lambda k, a, b: jnp.sum(W * _pointwise_gram(k, a, b))
    for argnums in (1, 2):
        np.testing.assert_allclose(
            jax.grad(loss, argnums)(kernel, X1, X2), jax.grad(loss_ref, argnums)(kernel, X1, X2), rtol=1e-11, atol=1e-13
        )
    g, g_ref = eqx.filter_grad(loss)(kernel, X1, X2), eqx.filter_grad(loss_ref)(kernel, X1, X2)
    for a, b in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(g_ref)):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)
    # forward mode through the batched Gram works too
    t = jax.jvp(lambda a: kernel(a, X2), (X1,), (jnp.ones_like(X1),))[1]
    t_ref = jax.jvp(lambda a: _pointwise_gram(kernel, a, X2), (X1,), (jnp.ones_like(X1),))[1]
    np.testing.assert_allclose(t, t_ref, rtol=1e-11, atol=1e-13)
