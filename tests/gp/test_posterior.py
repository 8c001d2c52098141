"""jaxsci.gp conditioning / prediction / LML vs scikit-learn; jit, vmap, grad; bad input."""

import equinox as eqx
import hypothesis
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_tree_allclose, check_vmap_loop
from jax.test_util import check_grads
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel

from jaxsci import gp, kernels as K
from jaxsci.testing import points_in_box

LS = np.array([0.8, 1.1, 1.5])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, (30, 3))
    Y = np.stack([np.sin(X @ np.array([1.0, 0.5, 0.2])), np.cos(X[:, 0]) + 0.1 * rng.normal(size=30)], 1)
    Xs = rng.uniform(-2, 2, (9, 3))
    return X, Y, Xs


@pytest.mark.parametrize("noise", [1e-6, 1e-2])
@pytest.mark.parametrize("multi", [False, True])
def test_matches_sklearn(data, noise, multi):
    X, Y, Xs = data
    y = Y if multi else Y[:, 0]
    k = K.ExpQuad(1.7, LS)
    sk = GaussianProcessRegressor(ConstantKernel(1.7) * RBF(LS), alpha=noise, optimizer=None).fit(X, y)
    post = gp.condition(k, X, y, noise=noise)
    mean, var = gp.predict(post, Xs)
    sk_mean, sk_cov = sk.predict(Xs, return_cov=True)
    np.testing.assert_allclose(mean, sk_mean, rtol=0, atol=1e-8)
    sk_var = np.diagonal(sk_cov if sk_cov.ndim == 2 else sk_cov[..., 0])
    np.testing.assert_allclose(var, sk_var, rtol=0, atol=1e-8)
    _, cov = gp.predict(post, Xs, full_cov=True)
    np.testing.assert_allclose(cov, sk_cov if sk_cov.ndim == 2 else sk_cov[..., 0], atol=1e-8)
    _, var_n = gp.predict(post, Xs, include_noise=True)
    np.testing.assert_allclose(var_n, var + noise, atol=1e-12)  # eq. 11's + eps^2
    lml = gp.log_marginal_likelihood(k, X, y, noise=noise)
    np.testing.assert_allclose(lml, sk.log_marginal_likelihood_value_, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(lml, sk.log_marginal_likelihood(np.log([1.7, *LS])), rtol=1e-10)


def test_interpolates_noise_free_and_paper_default(data):
    X, Y, _ = data
    post = gp.condition(K.SquaredExponential(1.0, 0.5), X, Y[:, 0])  # eps^2 = 1e-10
    mean, var = gp.predict(post, X)
    np.testing.assert_allclose(mean, Y[:, 0], atol=1e-6)
    assert np.all(var < 1e-6)
    assert float(post.noise) == gp.DEFAULT_NOISE == 1e-10


def test_lml_grad_matches_fd(data):
    X, Y, _ = data
    k = K.RationalQuadratic(1.2, LS, 0.8)
    params, static = eqx.partition(k, eqx.is_inexact_array)
    leaves, treedef = jax.tree_util.tree_flatten(params)

    @jax.jit
    def f(*ls):
        kk = eqx.combine(jax.tree_util.tree_unflatten(treedef, ls), static)
        return gp.log_marginal_likelihood(kk, X, Y, noise=1e-3)

    check_grads(f, tuple(leaves), order=1, modes=["rev"], eps=1e-6, rtol=1e-5)


@jax.jit
def _m52_lml(log_var, log_ls, X, y):
    k = K.Matern52(1.0, 1.0)
    k = eqx.tree_at(lambda m: (m.log_variance, m.log_lengthscale), k, (log_var, log_ls))
    return gp.log_marginal_likelihood(k, X, y, noise=1e-2)


@hypothesis.settings(max_examples=5)
@hypothesis.given(X=points_in_box(-1.0, 1.0, n=6, d=2))
def test_lml_grad_fd_hypothesis(X):
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    f = lambda a, b: _m52_lml(a, b, X, y)
    check_grads(f, (jnp.array(0.1), jnp.array(-0.3)), order=1, modes=["rev"], eps=1e-6, rtol=1e-5)


def test_jit_eager_and_vmap_over_datasets(getkey):
    import jax.random as jr

    Xb = jr.uniform(getkey(), (3, 8, 2), minval=-1, maxval=1)
    yb = jnp.sin(3 * Xb[..., 0]) * Xb[..., 1]
    Xs = jnp.linspace(-1, 1, 6).reshape(3, 2)
    k = K.Matern32(1.3, jnp.array([0.5, 0.9]))

    def pipeline(X, y):
        post = gp.condition(k, X, y, noise=1e-4)
        mean, var = gp.predict(post, Xs)
        return mean, var, gp.log_marginal_likelihood(k, X, y, noise=1e-4)

    check_vmap_loop(pipeline, (Xb, yb), rtol=1e-9, atol=1e-11)
    # the LML is not jitted itself: jit == eager
    lml = lambda X, y: gp.log_marginal_likelihood(k, X, y, noise=1e-4)
    np.testing.assert_allclose(jax.jit(lml)(Xb[0], yb[0]), lml(Xb[0], yb[0]), rtol=1e-12)


def test_float32(data):
    X, Y, Xs = (jnp.asarray(a, jnp.float32) for a in data)
    k = K.ExpQuad(1.7, LS)
    post = gp.condition(k, X, Y, noise=1e-3)
    mean, var = gp.predict(post, Xs)
    lml = gp.log_marginal_likelihood(k, X, Y, noise=1e-3)
    assert mean.dtype == var.dtype == lml.dtype == post.chol.dtype == jnp.float32
    post64 = gp.condition(k, *(np.asarray(a, np.float64) for a in (X, Y)), noise=1e-3)
    m64, v64 = gp.predict(post64, np.asarray(Xs, np.float64))
    np.testing.assert_allclose(mean, m64, atol=2e-3)
    np.testing.assert_allclose(var, v64, atol=2e-3)


class _Indefinite(K.AbstractKernel):
    def evaluate(self, x, y):
        return jnp.dot(x, y) - 2.0


def test_bad_input(data):
    X, Y, Xs = data
    k = K.ExpQuad()
    with pytest.raises(ValueError, match=r"`y`.*\(30, 3\).*\(29,\)"):
        gp.condition(k, X, Y[:-1, 0])
    with pytest.raises(ValueError, match=r"`X`.*\(30,\)"):
        gp.condition(k, X[:, 0], Y[:, 0])
    with pytest.raises(ValueError, match="Xs"):
        gp.predict(gp.condition(k, X, Y), Xs[:, :2])
    with pytest.raises(ValueError, match="noise"):
        gp.condition(k, X, Y, noise=0.0)
    with pytest.raises(ValueError, match="noise"):
        gp.log_marginal_likelihood(k, X, Y, noise=-1.0)
    with pytest.raises(TypeError, match="kernel"):
        gp.condition(lambda x, y: 1.0, X, Y)
    bad = np.array(Y)
    bad[3, 1] = np.nan
    with pytest.raises(Exception, match="NaN"):
        gp.condition(k, X, bad)
    with pytest.raises(Exception, match="noise"):  # traced noise checked at run time
        jax.jit(lambda s: gp.condition(k, X, Y, noise=s).weights)(-1.0)
    with pytest.raises(Exception, match="not positive definite"):
        gp.condition(_Indefinite(), X, Y[:, 0], noise=1e-6)
    assert gp.log_marginal_likelihood(_Indefinite(), X, Y[:, 0], noise=1e-6) == -np.inf


def test_lml_rounding_estimate_matches_float32_error():
    # `lml_and_rounding`'s delta estimates the rounding error of L: evaluated in float32
    # its error against float64 is 0.2-2 delta over seven decades of conditioning.
    import jax.random as jr

    from jaxsci.gp._lml import lml_and_rounding

    X = jr.uniform(jr.key(0), (60, 2))
    Y = jnp.sin(3 * X @ jnp.ones((2, 3)))
    for theta2 in (0.3, 1.0, 3.0, 10.0, 30.0):
        k = K.SquaredExponential(1.0, theta2)
        l64, _ = lml_and_rounding(k, X, Y, noise=1e-6)
        l32, d32 = lml_and_rounding(k, X.astype(jnp.float32), Y.astype(jnp.float32), noise=1e-6)
        ratio = abs(float(l32) - float(l64)) / float(d32)
        assert 0.02 < ratio < 20, (theta2, ratio)
    # no derivative flows through delta
    g = jax.grad(lambda t: lml_and_rounding(K.SquaredExponential(1.0, t), X, Y, noise=1e-6)[1])(3.0)
    assert float(g) == 0.0
