import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from helpers import check_grad_fd
from jaxsci.init import data_dependent_expected_q, data_dependent_init, data_dependent_sigma_out


def _pairs(x):
    x = np.asarray(x)
    return np.linalg.norm(x[:, None] - x[None], axis=-1)


def test_eq5_matches_he_without_bias(key):
    x = jr.uniform(key, (7, 2), minval=-1, maxval=1)
    m, d, h = 7, 2, 3.0
    sig_in = np.sqrt(2 / d)
    sig_out = data_dependent_sigma_out(x, h=h, sigma_in=sig_in)
    # eq. 5: sigma_out^2 = (1/h) sum_j |x_j|^2 / sum_{k<i} |x_k - x_i|^2
    eq5 = np.sum(np.asarray(x) ** 2) / np.sum(np.triu(_pairs(x) ** 2, 1)) / h
    np.testing.assert_allclose(sig_out**2, eq5, rtol=1e-12)
    q = data_dependent_expected_q(x, h=h, sigma_in=sig_in, sigma_out=sig_out)
    np.testing.assert_allclose(q, 2 * np.sum(np.asarray(x) ** 2) / (d * m), rtol=1e-12)


def test_theorem4_monte_carlo(key):
    m, h, d, s = 4, 2, 2, 0.7
    x = jr.uniform(jr.key(1), (m, d), minval=-1, maxval=1)
    mlp = eqx.nn.MLP(d, 1, m * h, 1, activation=jax.nn.relu, key=jr.key(0))

    @jax.jit
    @jax.vmap
    def sq_out(k):
        net = data_dependent_init(mlp, x, key=k, s=s)
        return jnp.mean(jax.vmap(net)(x)[:, 0] ** 2)

    vals = sq_out(jr.split(key, 20000))
    sig_in = np.sqrt(2 / d)
    sig_out = float(data_dependent_sigma_out(x, h=h, sigma_in=sig_in, s=s))
    theory = data_dependent_expected_q(x, h=h, sigma_in=sig_in, sigma_out=sig_out, s=s)
    se = np.std(vals) / np.sqrt(vals.size)
    assert abs(np.mean(vals) - theory) < 3 * se
    # sigma_out is chosen so that this equals the He-without-bias value.
    np.testing.assert_allclose(theory, 2 * np.sum(np.asarray(x) ** 2) / (d * m), rtol=1e-10)


def test_neurons_located_at_data(key):
    x = jr.normal(key, (5, 3))
    mlp = eqx.nn.MLP(3, 2, 10, 1, activation=jax.nn.relu, key=jr.key(0))
    net = data_dependent_init(mlp, x, key=jr.key(2))
    w, b = net.layers[0].weight, net.layers[0].bias
    centres = x[jnp.arange(10) % 5]
    np.testing.assert_allclose(jnp.sum(w * centres, 1) + b, 0.0, atol=1e-12)  # s = 0
    assert np.all(np.asarray(net.layers[1].bias) == 0)
    net = data_dependent_init(mlp, x, key=jr.key(2), s=0.5)
    pre = jnp.sum(net.layers[0].weight * centres, 1) + net.layers[0].bias
    assert np.all(np.asarray(pre) >= 0)


def test_errors_and_grad(key):
    x = jr.normal(key, (5, 2))
    with pytest.raises(ValueError, match="n >= m"):
        data_dependent_init(eqx.nn.MLP(2, 1, 3, 1, key=jr.key(0)), x, key=key)
    with pytest.raises(ValueError, match="exactly 2"):
        data_dependent_init(eqx.nn.MLP(2, 1, 8, 2, key=jr.key(0)), x, key=key)
    with pytest.raises(ValueError, match="shape"):
        data_dependent_init(eqx.nn.MLP(3, 1, 8, 1, key=jr.key(0)), x, key=key)
    f = lambda y: data_dependent_expected_q(y.reshape(5, 2), h=2.0, sigma_in=1.0, sigma_out=1.0, s=0.3)  # noqa: E731
    check_grad_fd(f, x.reshape(-1))
