"""Fourier features (kernel), periodic embedding (exact periodicity), random weight
factorisation (same function, gradients reach s and V)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax.test_util import check_grads

from jaxsci import nn, pinn


def test_fourier_features_kernel_is_gaussian(key):
    """E[gamma(x).gamma(y)] / m = exp(-2 pi^2 sigma^2 |x - y|^2) (Tancik et al. eq. 5)."""
    sigma, m = 0.7, 20000
    ff = pinn.FourierFeatures(2, m, sigma, key=key)
    assert ff.out_size == 2 * m and ff.in_size == 2
    np.testing.assert_allclose(np.std(ff.matrix), sigma, rtol=2e-2)
    x = jr.uniform(jr.fold_in(key, 1), (6, 2)) * 0.8
    g = jax.jit(jax.vmap(ff))(x)
    k_emp = g @ g.T / m
    d2 = np.sum((np.asarray(x)[:, None] - np.asarray(x)[None]) ** 2, axis=-1)
    k_true = np.exp(-2 * np.pi**2 * sigma**2 * d2)
    # Monte-Carlo: each entry is a mean of m bounded terms, sd <= 1/sqrt(2m) = 0.005
    np.testing.assert_allclose(k_emp, k_true, atol=0.03)
    np.testing.assert_allclose(np.diag(k_emp), 1.0, atol=1e-12)
    # B is fixed: no gradient reaches it
    gB = jax.grad(lambda f: jnp.sum(f(x[0])))(ff).matrix
    np.testing.assert_array_equal(gB, 0.0)


def test_periodic_embedding_exact_periodicity(key):
    emb = pinn.PeriodicEmbedding((2.0, None), n_harmonics=2)
    assert emb.out_size == 5
    net = eqx.nn.MLP(emb.out_size, "scalar", 8, 2, activation=jnp.tanh, key=key)
    model = pinn.EmbeddedModel(emb, net)
    x = jr.uniform(key, (8, 2)) * 2 - 1
    shifted = x.at[:, 0].add(jnp.array([2.0, -2.0, 4.0, 6.0] * 2))
    f = eqx.filter_jit(lambda p: jax.vmap(model)(p))
    np.testing.assert_allclose(f(shifted), f(x), atol=1e-12)
    assert not np.allclose(f(x.at[:, 0].add(0.5)), f(x))
    np.testing.assert_allclose(emb(jnp.array([0.5, 0.3]))[-1], 0.3)
    # derivatives periodic too: u_x(-1, t) = u_x(1, t)
    ux = jax.jit(jax.vmap(jax.grad(model)))(jnp.array([[-1.0, 0.3], [1.0, 0.3]]))
    np.testing.assert_allclose(ux[0], ux[1], atol=1e-12)
    # composition as in jaxpi: periodic embedding, then Fourier features, then the MLP
    ff = pinn.FourierFeatures(emb.out_size, 4, 1.0, key=key)
    both = pinn.EmbeddedModel((emb, ff), eqx.nn.MLP(8, "scalar", 8, 1, key=key))
    np.testing.assert_allclose(f(x), jax.jit(jax.vmap(lambda p: net(emb(p))))(x), atol=1e-14)
    g = eqx.filter_jit(lambda p: jax.vmap(both)(p))
    np.testing.assert_allclose(g(shifted), g(x), atol=1e-12)
    check_grads(jax.jit(lambda p: both(p)), (x[0],), order=1, modes=["rev"])


def test_random_weight_factorization_same_function_and_gradients(key):
    net = nn.MLP(2, 8, 2, "scalar", activation=jnp.tanh, key=key)
    rwf = pinn.random_weight_factorization(net, key=jr.fold_in(key, 1))
    assert all(isinstance(layer, pinn.FactorizedLinear) for layer in (*rwf.layers, rwf.head))
    s = rwf.layers[0].scale
    assert s.shape == (8,) and 0.7 < float(jnp.mean(s)) < 1.3  # mu = 1, sigma = 0.1
    x = jr.uniform(key, (5, 2))
    fwd = eqx.filter_jit(lambda m, p: jax.vmap(m)(p))
    np.testing.assert_allclose(fwd(rwf, x), fwd(net, x), rtol=1e-12)
    np.testing.assert_allclose(rwf.layers[1].weight, net.layers[1].weight, rtol=1e-12)
    g = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.sum(jax.vmap(m)(x) ** 2)))(rwf)
    for layer in (*g.layers, g.head):
        assert np.all(np.isfinite(layer.scale)) and np.any(layer.scale != 0)
        assert np.any(layer.direction != 0)
    # the chain rule through W = diag(e^s) V: dL/ds = rowsum(dL/dW * W)
    gw = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.sum(jax.vmap(m)(x) ** 2)))(net)
    np.testing.assert_allclose(g.layers[0].scale,
                               jnp.sum(gw.layers[0].weight * net.layers[0].weight, axis=1),
                               rtol=1e-10, atol=1e-14)
    # a PINN loss on the factorised model: the fast residual path agrees with autodiff
    prob = pinn.ViscousBurgers()
    pts = jr.uniform(key, (16, 2))
    # (the Taylor-mode reverse pass is for bare eqx.nn.Linear layers: this takes autodiff)
    gr = eqx.filter_jit(eqx.filter_grad(lambda m: prob.residual_mse(m, pts, chunk_size=8)))(rwf)
    assert np.all(np.isfinite(gr.layers[0].scale)) and np.any(gr.layers[0].direction != 0)
    layer = rwf.layers[0]
    check_grads(jax.jit(lambda v: layer(v)), (x[0],), order=1)
    eq = pinn.FactorizedLinear.from_linear(eqx.nn.Linear("scalar", "scalar", key=key), key=key)
    np.testing.assert_allclose(eq(0.3).shape, ())
