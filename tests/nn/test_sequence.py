"""Sequence wrappers (Bidirectional, Stacked) against hand-chained scans, dropout semantics,
jit/vmap, and BPTT gradients against central finite differences (float64)."""

import equinox as eqx
import jax
import jax.flatten_util
import jax.numpy as jnp
import jax.random as jr
import numpy as np

import jaxsci.nn as nn

D, H, T = 2, 3, 4
XS = jr.normal(jr.key(1), (T, D))
FWD, BWD = nn.LSTMCell(D, H, key=jr.key(2)), nn.GRUCell(D, H + 1, key=jr.key(3))
BI = nn.Bidirectional(FWD, BWD)


# everything through jit: one compile per model structure (eager lax.scan recompiles per call)
scan = eqx.filter_jit(nn.scan_cell)


@eqx.filter_jit
def run(model, xs, state0=None, key=None, inference=None):
    if inference is None:
        return model(xs, state0, key=key)
    return model(xs, state0, key=key, inference=inference)


def _close(a, b, tol=1e-12):
    jax.tree.map(lambda u, v: np.testing.assert_allclose(u, v, rtol=tol, atol=tol), a, b)


def test_bidirectional_equals_hand_concatenated_scans():
    assert (BI.in_size, BI.out_size) == (D, 2 * H + 1)
    z = jnp.zeros(H)
    s0 = ((z + 0.3, z - 0.1), jnp.ones(H + 1) * 0.2)
    (f_fin, b_fin), ys = run(BI, XS, s0)
    f_ref, (hs, _) = scan(FWD, XS, s0[0])
    # the backward half by hand: run over reversed xs, then flip back to the order of xs
    b_ref, hb = scan(BWD, XS[::-1], s0[1])
    _close(ys, jnp.concatenate([hs, hb[::-1]], axis=-1))
    _close((f_fin, b_fin), (f_ref, b_ref))
    # state0=None: zero states of the right structure
    ys0 = run(BI, XS)[1]
    _close(ys0[:, :H], scan(FWD, XS, (z, z))[1][0])
    assert not np.allclose(ys0, ys)


def test_stacked_equals_manual_chaining_and_nesting():
    c1, c2 = nn.ElmanCell(2 * H + 1, H, key=jr.key(4)), nn.LSTMCell(H, 2, key=jr.key(5))
    st = nn.Stacked([BI, c1, c2])  # a Bidirectional layer first, then two unidirectional ones
    assert (st.in_size, st.out_size) == (D, 2)
    (s0, s1, s2), ys = run(st, XS)
    x1 = run(BI, XS)[1]
    h1_fin, h1 = scan(c1, x1, jnp.zeros(H))
    s2_ref, (h2, _) = scan(c2, h1, (jnp.zeros(2), jnp.zeros(2)))
    _close(ys, h2)
    _close((s1, s2), (h1_fin, s2_ref))
    _close(s0, run(BI, XS)[0])


def test_dropout_inference_keys_jit_vmap_float32():
    f32 = jnp.float32
    cells = [nn.LSTMCell(D, 80, key=jr.key(0), dtype=f32),
             nn.LSTMCell(80, 80, key=jr.key(1), dtype=f32)]
    st = nn.Stacked(cells, dropout=0.2)  # the review §11 surrogate: 2 x 80 LSTM, dropout 0.2
    xs = XS.astype(f32)
    z = (jnp.zeros(80, f32),) * 2
    h1 = scan(cells[0], xs, z)[1][0]
    plain = scan(cells[1], h1, z)[1][0]
    # inference mode: no dropout (asked in the call, or by the field via eqx.nn.inference_mode)
    _close(run(st, xs, inference=True)[1], plain, 1e-6)
    _close(run(eqx.nn.inference_mode(st), xs, key=jr.key(9))[1], plain, 1e-6)
    # training: different keys give different masks, the same key the same
    keys = jr.split(jr.key(6), 3)
    a, b = run(st, xs, key=keys[0])[1], run(st, xs, key=keys[1])[1]
    assert a.dtype == f32
    assert not np.allclose(a, b) and not np.allclose(a, plain)
    # the mask between the layers: layer-2 input = layer-1 output * mask / 0.8
    x2 = jnp.where(jr.bernoulli(jr.split(keys[0], 4)[1], 0.8, h1.shape), h1 / 0.8, 0)
    _close(a, scan(cells[1], x2, z)[1][0], 1e-6)
    assert 0.1 < float(jnp.mean(x2 == 0)) < 0.3
    # jit == eager; vmap over (sequence, key) pairs == a loop
    _close(st(xs, key=keys[0])[1], a, 1e-6)
    xb = jnp.stack([xs, 2 * xs, -xs])
    out = eqx.filter_jit(jax.vmap(lambda x, k: st(x, key=k)[1]))(xb, keys)
    _close(out, np.stack([run(st, xb[i], key=keys[i])[1] for i in range(3)]), 1e-6)


def test_bptt_gradients_vs_central_differences():
    """BPTT through a Stacked whose first layer is a Bidirectional (peephole LSTM + Elman)."""
    bi = nn.Bidirectional(nn.PeepholeLSTMCell(D, H, key=jr.key(2)), nn.ElmanCell(D, 2, key=jr.key(3)))
    model = nn.Stacked([bi, nn.GRUCell(H + 2, 2, key=jr.key(4))])
    weights = jnp.arange(1.0, T + 1)[:, None]
    params, static = eqx.partition(model, eqx.is_inexact_array)
    flat, unravel = jax.flatten_util.ravel_pytree(params)

    @jax.jit
    def loss(w, xs):
        return jnp.sum(weights * eqx.combine(unravel(w), static)(xs)[1] ** 2)

    gw, gx = jax.jit(jax.grad(loss, argnums=(0, 1)))(flat, XS)
    eps = 1e-6
    for seed in range(2):
        dw, dx = jr.normal(jr.key(20 + seed), flat.shape), jr.normal(jr.key(30 + seed), XS.shape)
        fd = (loss(flat + eps * dw, XS + eps * dx) - loss(flat - eps * dw, XS - eps * dx)) / (2 * eps)
        np.testing.assert_allclose(jnp.vdot(gw, dw) + jnp.vdot(gx, dx), fd, rtol=1e-6)
