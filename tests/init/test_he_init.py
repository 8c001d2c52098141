"""He (Kaiming) initialisation keeps the pre-activation variance across 50 ReLU layers
(review Section 6.4, Eqs. 190-194; He et al. 2015, Eq. 10); uses `jaxsci.init.he`.

Two measurements:
1. Eq. (194) evaluated on the weights `jaxsci.init.he` actually drew:
   Var z^(l) / Var z^(1) = prod_{k=2}^{l} (m/2 Var W^(k)), with Var W^(k) the sample variance.
   This is the expected (over weights) activation variance; it must stay within 10% of 1 for
   every l <= 50.
2. A forward pass of ReLU networks of width 256: the per-layer variance gain (geometric mean
   over the 49 layers) is 1 within 6% (3 sd) for He, but 1/6 for equinox's default U(+-1/sqrt(m)).
   The layer-50 variance of a *finite-width* net is log-normal around 1 with log-variance
   ~ 5 L / m (Hanin & Rolnick 2018), so we bound it by 3 standard deviations of that law.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

import jaxsci.init

WIDTH, DEPTH, BATCH, NETS = 256, 50, 64, 3


def _mlp(key):
    return eqx.nn.MLP(WIDTH, WIDTH, WIDTH, DEPTH - 1, activation=jax.nn.relu, key=key)


def _stacked_weights(model):
    return jnp.stack([layer.weight for layer in model.layers])


@jax.jit
def _forward_variances(w, x):
    def body(y, wl):
        z = y @ wl.T
        return jax.nn.relu(z), jnp.var(z)

    return jax.lax.scan(body, x, w)[1]


def _run(keys, x):
    """Models are built eagerly (cheap) and only the forward pass is compiled, once."""
    w_he, v_he, v_def = [], [], []
    for k in keys:
        k1, k2 = jr.split(k)
        model = _mlp(k1)
        w = _stacked_weights(jaxsci.init.he(model, key=k2))
        w_he.append(w)
        v_he.append(_forward_variances(w, x))
        v_def.append(_forward_variances(_stacked_weights(model), x))
    return jnp.stack(w_he), jnp.stack(v_he), jnp.stack(v_def)


def test_he_keeps_activation_variance_50_relu_layers():
    x = jr.normal(jr.key(0), (BATCH, WIDTH))
    w_he, v_he, v_def = _run(jr.split(jr.key(1), NETS), x)
    # 1. Eq. (194) with the drawn weights: within 10% over all 50 layers.
    gain = 0.5 * WIDTH * np.asarray(jnp.var(w_he, axis=(2, 3)))  # (NETS, DEPTH)
    expected = np.cumprod(gain[:, 1:], axis=1)
    assert np.all(np.abs(expected - 1.0) < 0.10), np.abs(expected - 1).max()
    # 2. Forward pass.
    v_he, v_def = np.asarray(v_he), np.asarray(v_def)
    per_layer_he = (v_he[:, -1] / v_he[:, 0]) ** (1 / (DEPTH - 1))
    per_layer_def = (v_def[:, -1] / v_def[:, 0]) ** (1 / (DEPTH - 1))
    np.testing.assert_allclose(per_layer_he, 1.0, atol=0.06)  # 3 sd: sqrt(5/m)/sqrt(L)
    np.testing.assert_allclose(per_layer_def, 1 / 6, rtol=0.05)  # Var W = 1/(3m): m/2 * 1/(3m)
    band = 3 * np.sqrt(5 * DEPTH / WIDTH)
    assert np.all(np.abs(np.log(v_he[:, -1] / v_he[:, 0])) < band)
