"""SGD with momentum / Nesterov / weight decay / annealing (review Eqs. 135-145, 181-183)."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

import jaxsci.optim as jo

A = np.array([[3.0, 0.5], [0.5, 0.4]])
B = np.array([1.0, -1.0])
THETA0 = np.array([1.0, 2.0])


def grad(theta):
    return A @ np.asarray(theta) - B


def run(tx, steps=8, lookahead=False):
    theta = jnp.asarray(THETA0)
    state = tx.init(theta)
    out = []
    for _ in range(steps):
        if lookahead:
            u, state = tx.update(None, state, theta, grad_fn=lambda p: jnp.asarray(A) @ p - B)
        else:
            u, state = tx.update(jnp.asarray(grad(theta)), state, theta)
        theta = theta + u
        out.append(np.asarray(theta))
    return np.array(out)


def np_eq183(eps, zeta, gamma, d, ann, steps=8):
    """Eq. (183) written out by hand."""
    theta, prev, out = THETA0.copy(), THETA0.copy(), []
    for k in range(steps):
        delta = theta - prev
        g = grad(theta + gamma(k) * delta)
        new = theta - ann(k) * (eps(k) * g + d * theta) + zeta(k) * delta
        prev, theta = theta, new
        out.append(theta.copy())
    return np.array(out)


@pytest.mark.parametrize("gamma", [0.0, 0.8])
def test_combined_update_matches_numpy(gamma):
    eps = lambda k: 0.1 / (1.0 + k)
    zeta = lambda k: 0.8
    ann = jo.cosine_annealing([3, 5])
    tx = jo.sgd_momentum(eps, zeta=0.8, gamma=gamma, weight_decay=1e-2, annealing=ann)
    ours = run(tx, lookahead=gamma != 0.0)
    ref = np_eq183(eps, zeta, lambda k: gamma, 1e-2, lambda k: float(ann(k)))
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_plain_sgd_and_heavy_ball_equal_optax():
    np.testing.assert_allclose(run(jo.sgd_momentum(0.1)), run(optax.sgd(0.1)), rtol=1e-12)
    np.testing.assert_allclose(
        run(jo.sgd_momentum(0.1, zeta=0.9)), run(optax.sgd(0.1, momentum=0.9)), rtol=1e-12
    )


def test_nesterov_is_optax_nesterov_after_change_of_variables():
    """optax.sgd(nesterov=True) iterates phi_k = theta_k + zeta (theta_k - theta_{k-1})."""
    zeta = 0.9
    ours = run(jo.sgd_momentum(0.1, zeta=zeta, gamma=zeta), lookahead=True)
    theta_prev = np.vstack([THETA0, ours[:-1]])
    phi = ours + zeta * (ours - theta_prev)
    np.testing.assert_allclose(phi, run(optax.sgd(0.1, momentum=zeta, nesterov=True)), rtol=1e-10)


def test_momentum_sum_identity_eq145():
    """Constant eps, zeta: theta_{k+1}-theta_k = -eps sum_i zeta^i g_{k-i} (Eq. 145)."""
    gs = np.array(jr.normal(jr.key(0), (7, 3)))
    tx = jo.sgd_momentum(0.3, zeta=0.7)
    state = tx.init(jnp.zeros(3))
    for k in range(7):
        u, state = tx.update(jnp.asarray(gs[k]), state, jnp.zeros(3))
        ref = -0.3 * sum(0.7**i * gs[k - i] for i in range(k + 1))
        np.testing.assert_allclose(u, ref, rtol=1e-12)


def test_heavy_ball_coefficients_eq143_144():
    z, e = jo.heavy_ball_coefficients(0.1, 0.1, 0.0)
    np.testing.assert_allclose([z, e], [1.0, 0.01])  # nu = 0 -> zeta = 1 (no friction)
    z, e = jo.heavy_ball_coefficients(0.2, 0.1, 2.0)
    np.testing.assert_allclose([z, e], [2.0 / 1.4, 0.04 / 1.4])


def test_weight_decay_not_multiplied_by_step():
    tx = jo.sgd_momentum(0.0, weight_decay=0.1)
    th = jnp.array([2.0, -4.0])
    u, _ = tx.update(jnp.zeros(2), tx.init(th), th)
    np.testing.assert_allclose(u, -0.1 * th)


def test_jit_equals_eager_float32():
    tx = jo.sgd_momentum(0.1, zeta=0.5, weight_decay=0.01)
    th = jnp.array([1.0, 2.0], jnp.float32)
    s = tx.init(th)
    u1, s1 = tx.update(th, s, th)
    u2, s2 = jax.jit(tx.update)(th, s, th)
    assert u2.dtype == jnp.float32
    np.testing.assert_allclose(u1, u2, rtol=1e-6)


def test_epoch_minibatches_without_replacement():
    idx = np.asarray(jo.epoch_minibatches(jr.key(1), 23, 5))
    assert idx.shape == (4, 5)
    assert len(set(idx.ravel())) == 20 and idx.max() < 23
    with pytest.raises(ValueError, match="batch_size"):
        jo.epoch_minibatches(jr.key(1), 5, 6)


def test_gradient_error_variance_and_fluctuation_factor():
    """<|g~ - g|^2> = (1/m - 1/M) M/(M-1) tr C (sampling without replacement, Eq. 168 + the
    finite-population factor); the fluctuation factor is eps (1/m - 1/M) (Eq. 172)."""
    rng = np.random.default_rng(0)
    big_m, m = 20, 5
    g_ex = rng.normal(size=(big_m, 3)) * np.array([1.0, 2.0, 0.5])
    g = g_ex.mean(0)
    tr_c = np.sum((g_ex - g) ** 2) / big_m
    keys = jr.split(jr.key(2), 4000)
    idx = np.asarray(jax.vmap(lambda k: jo.epoch_minibatches(k, big_m, m))(keys)).reshape(-1, m)
    err = np.mean(np.sum((g_ex[idx].mean(1) - g) ** 2, axis=1))
    expected = (1 / m - 1 / big_m) * big_m / (big_m - 1) * tr_c
    np.testing.assert_allclose(err, expected, rtol=0.03)
    np.testing.assert_allclose(jo.fluctuation_factor(0.1, m, big_m), 0.1 * (1 / m - 1 / big_m))


def test_bad_input():
    with pytest.raises(ValueError, match="zeta"):
        jo.sgd_momentum(0.1, zeta=1.5)
    tx = jo.sgd_momentum(0.1, zeta=0.9, gamma=0.9)
    with pytest.raises(ValueError, match="grad_fn"):
        tx.update(jnp.ones(2), tx.init(jnp.ones(2)), jnp.ones(2))
