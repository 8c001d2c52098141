"""POD-LSTM pieces: POD coefficients, moving windows, (Bi)LSTM forecaster, rollout, training."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxsci import nn, rom, train


def _series(n=40):
    t = jnp.linspace(0.0, 4.0, n)
    return jnp.stack([jnp.sin(t), jnp.cos(2 * t)], axis=1)


def test_pod_coefficients_reconstruct_and_project():
    key = jax.random.key(0)
    snaps = jax.random.normal(key, (12, 3)) @ jax.random.normal(jax.random.key(1), (3, 30))
    modes, mean, coef = rom.pod_coefficients(snaps, 3)
    assert coef.shape == (12, 3) and mean.shape == (30,)
    assert np.allclose(mean[None, :] + coef @ modes.basis.T, snaps, atol=1e-12)  # rank 3 data
    assert np.allclose(coef, (snaps - snaps.mean(0)[None, :]) @ modes.basis, atol=1e-12)
    assert np.allclose(modes.basis.T @ modes.basis, np.eye(3), atol=1e-12)


def test_moving_windows_values():
    s = jnp.arange(14.0).reshape(7, 2)
    x, y = rom.moving_windows(s, 3, 2)
    assert x.shape == (3, 3, 2) and y.shape == (3, 2, 2)
    for k in range(3):
        assert np.array_equal(x[k], s[k : k + 3]) and np.array_equal(y[k], s[k + 3 : k + 5])


def test_forecaster_structure_rollout_jit_vmap():
    s = _series()
    lstm = rom.PODLSTM(2, 5, key=jax.random.key(0), shift=s.mean(0), scale=s.std(0))
    bi = rom.PODLSTM(2, 5, key=jax.random.key(0), bidirectional=True)
    w = s[:6]
    # the LSTM's features are nn.scan_cell's last hidden state on the standardised window
    z = (w - lstm.shift[None, :]) / lstm.scale[None, :]
    zero = jnp.zeros(5)
    (h, _), _ = nn.scan_cell(lstm.cell, z, (zero, zero))
    assert np.allclose(lstm.features(w), h)
    # the BiLSTM's second half is a forward scan of its reverse cell over the flipped window
    (hb, _), _ = nn.scan_cell(bi.cell_reverse, w[::-1], (zero, zero))
    assert np.allclose(bi.features(w)[5:], hb, atol=1e-14)
    assert np.allclose(lstm(w), w[-1] + lstm.scale * (lstm.head_weight @ h + lstm.head_bias))
    # rollout: step 1 is the model on the window, step 2 the model on the shifted window
    r = rom.rollout(lstm, w, 3)
    assert r.shape == (3, 2)
    assert np.allclose(r[0], lstm(w), atol=1e-14)
    assert np.allclose(r[1], lstm(jnp.concatenate([w[1:], r[:1]])), atol=1e-14)
    assert np.allclose(jax.jit(rom.rollout, static_argnums=2)(lstm, w, 3), r, atol=1e-14)
    x, _ = rom.moving_windows(s, 6)
    batch = jax.vmap(bi)(x[:4])
    assert np.allclose(batch, jnp.stack([bi(x[i]) for i in range(4)]), atol=1e-14)
    w32 = w.astype(jnp.float32)
    m32 = rom.PODLSTM(2, 5, key=jax.random.key(0), dtype=jnp.float32)
    assert rom.rollout(m32, w32, 2).dtype == jnp.float32


def test_training_with_adam_reduces_the_forecast_loss():
    s = _series()
    data = rom.moving_windows(s, 5, 2)
    model = rom.PODLSTM(2, 6, key=jax.random.key(1), shift=s.mean(0), scale=s.std(0))
    before = rom.forecast_loss(model, data)[0]
    sol = train.fit(rom.forecast_loss, model, optax.adam(1e-2), steps=40, args=data)
    after = rom.forecast_loss(sol.value, data)[0]
    assert after < 0.3 * before, (before, after)
