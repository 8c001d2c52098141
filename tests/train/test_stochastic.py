"""SGD + stochastic Armijo line search + adaptive minibatch (review Sec. 6.6, Algorithm 6)."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsci.train as jt

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
    tx = jt.stochastic_armijo(eta0, eta_max, c, beta, gamma, batch_fraction=m / N)

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
    got = int(jt.norm_test_batch_size({"w": jnp.asarray(g)}, jnp.asarray(mask), theta, 10**6))
    assert got == max(expected, 7)


def test_fit_sgd_armijo_interpolation_and_batch_growth():
    sol = jt.fit_sgd_armijo(example_loss, jnp.zeros(D), jnp.asarray(X), jnp.asarray(Y),
                            key=jr.key(0), num_steps=60, init_batch_size=4)
    h = sol.history
    assert float(sol.stats["loss"]) < 1e-10  # interpolation regime: linear convergence
    assert bool(jnp.all(h["accepted"]))
    assert bool(jnp.all(jnp.diff(h["batch_size"]) >= 0))
    np.testing.assert_allclose(sol.value, W_TRUE, atol=1e-5)
    # With noise the gradient shrinks while the variance stays: the minibatch grows to N.
    y_noisy = jnp.asarray(Y + 0.5 * RNG.normal(size=N))
    sol2 = jt.fit_sgd_armijo(example_loss, jnp.zeros(D), jnp.asarray(X), y_noisy,
                             key=jr.key(0), num_steps=150, init_batch_size=4)
    assert int(sol2.history["batch_size"][-1]) == N
    w_ls = np.linalg.lstsq(X, np.asarray(y_noisy), rcond=None)[0]
    np.testing.assert_allclose(sol2.value, w_ls, atol=1e-4)


def test_bad_input():
    with pytest.raises(ValueError, match="c"):
        jt.stochastic_armijo(c=1.5)
    with pytest.raises(ValueError, match="init_batch_size"):
        jt.fit_sgd_armijo(example_loss, jnp.zeros(D), jnp.asarray(X), jnp.asarray(Y),
                          key=jr.key(0), num_steps=3, init_batch_size=0)


def test_stochastic_armijo_trainer_in_fit():
    loss = jt.PerExampleLoss(example_loss)
    tr = jt.StochasticArmijo(4, jr.key(0))
    sol = jt.fit(loss, jnp.zeros(D), tr, args=(XJ, YJ), steps=60)
    ref = jt.fit_sgd_armijo(example_loss, jnp.zeros(D), XJ, YJ, key=jr.key(0), num_steps=60,
                            init_batch_size=4)
    np.testing.assert_allclose(sol.value, ref.value, rtol=1e-12)
    np.testing.assert_allclose(sol.history["loss"][1:], ref.history["loss"][:-1], rtol=1e-12)
    np.testing.assert_array_equal(sol.history["batch_size"], ref.history["batch_size"])
    with pytest.raises(TypeError, match="PerExampleLoss"):
        jt.fit(lambda w, a: (0.0, {}), jnp.zeros(D), tr, args=(XJ, YJ), steps=3)
    with pytest.raises(ValueError, match="init_batch_size"):
        jt.StochasticArmijo(0, jr.key(0))
