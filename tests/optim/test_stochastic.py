"""Stochastic Armijo line search and the norm-test minibatch size (review Sec. 6.6, Algorithm 6)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsci.optim as jo

RNG = np.random.default_rng(3)
N, D = 48, 4
X = RNG.normal(size=(N, D))
W_TRUE = RNG.normal(size=D)
Y = X @ W_TRUE
XJ, YJ = jnp.asarray(X), jnp.asarray(Y)


def example_loss(w, x, y):
    return 0.5 * (x @ w - y) ** 2


def np_batch_cost(w, idx):
    r = X[idx] @ w - Y[idx]
    return 0.5 * np.mean(r**2)


def np_batch_grad(w, idx):
    return X[idx].T @ (X[idx] @ w - Y[idx]) / len(idx)


def test_stochastic_armijo_matches_numpy_vaswani_alg1():
    c, beta, gamma, eta0, eta_max, m = 0.1, 0.9, 2.0, 1.0, 10.0, 6
    batches = [RNG.choice(N, m, replace=False) for _ in range(8)]
    # NumPy: Vaswani et al. (2019) Algorithms 1-2 (reset option eta_{k-1} gamma^{b/n}).
    w, eta, ref_w, ref_eta = np.zeros(D), eta0, [], []
    for k, idx in enumerate(batches):
        g, j0 = np_batch_grad(w, idx), np_batch_cost(w, idx)
        eta = eta0 if k == 0 else min(eta * gamma ** (m / N), eta_max)
        while np_batch_cost(w - eta * g, idx) > j0 - c * eta * g @ g:
            eta *= beta
        w = w - eta * g
        ref_w.append(w.copy())
        ref_eta.append(eta)
    tx = jo.stochastic_armijo(eta0, eta_max, c, beta, gamma, batch_fraction=m / N)

    @jax.jit
    def step(w, state, idx):
        f = lambda p: jnp.mean(jax.vmap(example_loss, (None, 0, 0))(p, XJ[idx], YJ[idx]))
        v, g = jax.value_and_grad(f)(w)
        u, state = tx.update(-g, state, w, value=v, grad=g, value_fn=f)
        return w + u, state

    w, state = jnp.zeros(D), tx.init(jnp.zeros(D))
    for k, idx in enumerate(batches):
        w, state = step(w, state, jnp.asarray(idx))
        assert bool(state.accepted)
        np.testing.assert_allclose(float(state.step), ref_eta[k], rtol=1e-10)
        np.testing.assert_allclose(w, ref_w[k], rtol=1e-9, atol=1e-12)


def test_norm_test_batch_size_numpy():
    g = RNG.normal(size=(10, 3)) + np.array([0.2, 0.0, 0.0])
    mask = (np.arange(10) < 7).astype(float)
    s = g[:7]
    var = np.sum((s - s.mean(0)) ** 2) / 6
    gn2 = np.sum(s.mean(0) ** 2)
    theta = 0.5
    expected = 7 if var / 7 <= theta**2 * gn2 else int(np.ceil(var / (theta**2 * gn2)))
    got = int(jo.norm_test_batch_size({"w": jnp.asarray(g)}, jnp.asarray(mask), theta, 10**6))
    assert got == max(expected, 7)


def test_bad_input():
    with pytest.raises(ValueError, match="c"):
        jo.stochastic_armijo(c=1.5)
