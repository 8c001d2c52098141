"""`fit_sgd_armijo`: SGD + stochastic Armijo + adaptive minibatch (review Sec. 6.6, Alg. 6)."""

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
