"""Derivative observations (paper eqs. 35-40): cross-covariances vs FD, convergence."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import finite_difference_grad, smooth_nd, smooth_nd_grad

from jaxsci import gp, kernels as K


@pytest.mark.parametrize("kernel", [K.SquaredExponential(1.3, 0.7), K.Matern52(0.9, jnp.array([0.6, 1.2, 0.8]))])
def test_cross_covariance_blocks_match_fd(kernel):
    rng = np.random.default_rng(3)
    X1, X2 = jnp.asarray(rng.normal(size=(3, 3))), jnp.asarray(rng.normal(size=(2, 3)))
    w1, w2 = jnp.array([-1, 0, 2]), jnp.array([1, -1])
    G = gp.derivative_gram(kernel, X1, w1, X2, w2)
    k = jax.jit(lambda a, b: kernel.evaluate(a, b))
    for a in range(3):
        for b in range(2):
            x, y = X1[a], X2[b]
            i, j = int(w1[a]), int(w2[b])
            if i < 0 and j < 0:
                ref = k(x, y)
            elif j < 0:  # eq. 35: dk/dx_i by FD
                ref = finite_difference_grad(lambda z: k(z, y), x)[i]
            elif i < 0:
                ref = finite_difference_grad(lambda z: k(x, z), y)[j]
            else:  # eq. 36: d2k/dx_i dx'_j by nested FD
                ref = finite_difference_grad(lambda z: finite_difference_grad(lambda u: k(u, z), x, 1e-4)[i], y, 1e-4)[j]
            np.testing.assert_allclose(G[a, b], ref, rtol=1e-5, atol=1e-7)
    # value-only observations reduce to the plain Gram; symmetric block structure (eq. 37-38)
    np.testing.assert_allclose(gp.derivative_gram(kernel, X1, -jnp.ones(3, int), X2, -jnp.ones(2, int)), kernel(X1, X2), rtol=1e-13)
    Xa, wa, _ = gp.gradient_observations(X1, X1, X2[:1], jnp.zeros(1))
    Ga = gp.derivative_gram(kernel, Xa, wa, Xa, wa)
    np.testing.assert_allclose(Ga, Ga.T, atol=1e-12)
    assert np.linalg.eigvalsh(np.asarray(Ga)).min() > -1e-10


def test_gradient_gp_converges_as_points_are_added():
    """Gradients at n points + one grounding value: value and gradient errors fall with n."""
    rng = np.random.default_rng(0)
    f, df = smooth_nd, smooth_nd_grad
    Xt = jnp.asarray(rng.uniform(-1, 1, (40, 2)))
    ft, gt = jax.vmap(f)(Xt), jax.vmap(df)(Xt)
    kernel = K.ExpQuad(1.0, 0.8)
    x0 = jnp.zeros((1, 2))
    pool = jnp.asarray(rng.uniform(-1, 1, (48, 2)))

    @jax.jit
    def errors(mask):
        # fixed shapes: unused gradient points are pushed far away (no influence)
        Xg = jnp.where(mask[:, None], pool, 100.0 + pool)
        X, which, y = gp.gradient_observations(Xg, jax.vmap(df)(Xg), x0, f(x0[0])[None])
        post = gp.condition(kernel, X, y, which=which, noise=1e-10)
        m, g, v, gv = gp.predict_value_and_grad(post, Xt)
        return jnp.max(jnp.abs(m - ft)), jnp.max(jnp.abs(g - gt)), jnp.max(v), jnp.max(gv)

    results = [errors(jnp.arange(48) < n) for n in (3, 6, 12, 24, 48)]
    val_err = np.array([float(r[0]) for r in results])
    grad_err = np.array([float(r[1]) for r in results])
    assert np.all(np.diff(val_err) < 0) and np.all(np.diff(grad_err) < 0), (val_err, grad_err)
    assert val_err[-1] < 1e-2 * val_err[0] and grad_err[-1] < 1e-2 * grad_err[0]
    assert float(results[-1][2]) < 1e-3 * float(results[0][2])
    assert float(results[-1][3]) < 1e-2 * float(results[0][3])


def test_derivative_lml_grad_and_prediction_at_data():
    rng = np.random.default_rng(2)
    Xg = jnp.asarray(rng.uniform(-1, 1, (6, 3)))
    X, which, y = gp.gradient_observations(Xg, jax.vmap(smooth_nd_grad)(Xg), jnp.zeros((1, 3)), jnp.zeros(1))
    post = gp.condition(K.Matern52(1.0, 1.0), X, y, which=which)
    mean, _ = gp.predict(post, X, which=which)
    np.testing.assert_allclose(mean, y, atol=1e-6)

    @jax.jit
    def lml(log_ls):
        kern = eqx.tree_at(lambda m: m.log_lengthscale, K.ExpQuad(1.0, 1.0), log_ls)
        return gp.log_marginal_likelihood(kern, X, y, which=which, noise=1e-6)

    g = jax.grad(lml)(jnp.array(0.2))
    np.testing.assert_allclose(g, finite_difference_grad(lml, jnp.array(0.2)), rtol=1e-5)


def test_bad_which():
    X = jnp.ones((3, 2))
    with pytest.raises(ValueError, match="which"):
        gp.condition(K.ExpQuad(), X, jnp.ones(3), which=jnp.array([0, 1]))
    with pytest.raises(TypeError, match="which"):
        gp.condition(K.ExpQuad(), X, jnp.ones(3), which=jnp.array([0.0, 1.0, 1.0]))
    with pytest.raises(Exception, match="partial-derivative index"):
        gp.condition(K.ExpQuad(), X, jnp.ones(3), which=jnp.array([0, 1, 5]))
    with pytest.raises(ValueError, match="grads"):
        gp.gradient_observations(X, jnp.ones((3, 3)))
