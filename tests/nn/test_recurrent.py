"""Recurrent cells against hand-written NumPy recurrences, equinox, jit/vmap and BPTT vs FD."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsci.nn as nn

K = jr.key(3)
X, H, T = 2, 3, 3


def sig(v):
    return 1 / (1 + np.exp(-v))


def np_step(name, c, x, s):
    U, W, b = (np.asarray(a) for a in (c.weight_ih, c.weight_hh, c.bias))
    if name == "elman":
        return np.tanh(W @ s + U @ x + b)
    if name == "gru":
        r = sig(U[:H] @ x + W[:H] @ s + b[:H])
        z = sig(U[H:2 * H] @ x + W[H:2 * H] @ s + b[H:2 * H])
        ht = np.tanh(U[2 * H:] @ x + W[2 * H:] @ (r * s) + b[2 * H:])
        return (1 - z) * s + z * ht
    h, cc = s
    zz = U @ x + W @ h + b
    zi, zf, zg, zo = zz[:H], zz[H:2 * H], zz[2 * H:3 * H], zz[3 * H:]
    P = np.asarray(c.peephole) if name == "peep" else np.zeros((3, H))
    cn = sig(zf + P[1] * cc) * cc + sig(zi + P[0] * cc) * np.tanh(zg)
    return sig(zo + P[2] * cn) * np.tanh(cn), cn


CELLS = {
    "elman": (lambda: nn.ElmanCell(X, H, key=K), lambda: jnp.zeros(H) + 0.1),
    "gru": (lambda: nn.GRUCell(X, H, key=K), lambda: jnp.zeros(H) + 0.1),
    "lstm": (lambda: nn.LSTMCell(X, H, key=K), lambda: (jnp.zeros(H) + 0.1, jnp.zeros(H) - 0.2)),
    "peep": (lambda: nn.PeepholeLSTMCell(X, H, key=K),
             lambda: (jnp.zeros(H) + 0.1, jnp.zeros(H) - 0.2)),
}
XS = jr.normal(jr.key(1), (T, X))


@pytest.mark.parametrize("name", list(CELLS))
def test_cell_vs_numpy_and_jit(name):
    cell, s0 = CELLS[name][0](), CELLS[name][1]()
    s = jax.tree.map(np.asarray, s0)
    for x in np.asarray(XS):
        s = np_step(name, cell, x, s)
    final, states = nn.scan_cell(cell, XS, s0)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12), final,
                 tuple(s) if isinstance(s, tuple) else s)
    assert all(a.shape == (T, H) for a in jax.tree.leaves(states))
    jitted = eqx.filter_jit(nn.scan_cell)(cell, XS, s0)[0]
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12), jitted, final)
    # reverse: the same as running forward over xs[::-1]
    rev = nn.scan_cell(cell, XS, s0, reverse=True)[0]
    fwd = nn.scan_cell(cell, XS[::-1], s0)[0]
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12), rev, fwd)


def test_lstm_equals_equinox_and_peephole_zero():
    ours = nn.LSTMCell(X, H, key=K)
    ref = eqx.nn.LSTMCell(X, H, key=K)
    ref = eqx.tree_at(lambda m: (m.weight_ih, m.weight_hh, m.bias), ref,
                      (ours.weight_ih, ours.weight_hh, ours.bias))
    s0 = (jnp.zeros(H) + 0.1, jnp.zeros(H) - 0.2)
    a, b = ours(XS[0], s0), ref(XS[0], s0)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-12)
    peep = nn.PeepholeLSTMCell(X, H, key=K)
    peep = eqx.tree_at(lambda m: (m.weight_ih, m.weight_hh, m.bias, m.peephole), peep,
                       (ours.weight_ih, ours.weight_hh, ours.bias, jnp.zeros((3, H))))
    p = nn.scan_cell(peep, XS, s0)[0]
    q = nn.scan_cell(ours, XS, s0)[0]
    np.testing.assert_allclose(p[0], q[0], rtol=1e-12)
    np.testing.assert_allclose(p[1], q[1], rtol=1e-12)


def test_gru_differs_from_equinox_pytorch_convention():
    ours = nn.GRUCell(X, H, key=K)
    ref = eqx.nn.GRUCell(X, H, key=K)
    ref = eqx.tree_at(lambda m: (m.weight_ih, m.weight_hh, m.bias), ref,
                      (ours.weight_ih, ours.weight_hh, ours.bias))
    assert not np.allclose(ours(XS[0], jnp.ones(H)), ref(XS[0], jnp.ones(H)))


def test_vmap_equals_loop_float32():
    cell = nn.GRUCell(X, H, key=K, dtype=jnp.float32)
    xb = jr.normal(jr.key(2), (2, T, X), jnp.float32)
    h0 = jnp.zeros((2, H), jnp.float32)
    out = jax.vmap(lambda xs, h: nn.scan_cell(cell, xs, h)[0])(xb, h0)
    assert out.dtype == jnp.float32
    loop = np.stack([nn.scan_cell(cell, xb[i], h0[i])[0] for i in range(2)])
    np.testing.assert_allclose(out, loop, rtol=1e-6)


@pytest.mark.parametrize("name", ["elman", "peep"])
def test_bptt_grad_vs_fd(name):
    cell, s0 = CELLS[name][0](), CELLS[name][1]()

    def loss(c):
        states = nn.scan_cell(c, XS, s0)[1]
        h = states[0] if isinstance(states, tuple) else states
        return jnp.sum(h**2 * jnp.arange(1, T + 1.0)[:, None])

    g = jax.grad(loss)(cell)
    eps = 1e-6
    for leaf in ("weight_hh", "weight_ih"):
        w = getattr(cell, leaf)
        d = jr.normal(jr.key(5), w.shape)
        plus = eqx.tree_at(lambda m: getattr(m, leaf), cell, w + eps * d)
        minus = eqx.tree_at(lambda m: getattr(m, leaf), cell, w - eps * d)
        fd = (loss(plus) - loss(minus)) / (2 * eps)
        np.testing.assert_allclose(jnp.vdot(getattr(g, leaf), d), fd, rtol=1e-6)
