"""Attention, multi-head attention, sinusoidal position encoding and the Transformer encoder
block against NumPy references and equinox; permutation equivariance (hypothesis); jit/vmap;
gradients against central finite differences (float64)."""

import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.flatten_util
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings

import jaxsci.nn as nn

N, DM, HEADS, DFF = 5, 4, 2, 6
X = jr.normal(jr.key(0), (N, DM))
BLOCK = nn.TransformerEncoderBlock(DM, HEADS, DFF, key=jr.key(1))
# random LayerNorm scales/shifts so that the reference test sees them
BLOCK = eqx.tree_at(lambda b: (b.norm1.weight, b.norm1.bias, b.norm2.weight, b.norm2.bias), BLOCK,
                    tuple(1 + 0.3 * jr.normal(jr.key(10 + i), (DM,)) for i in range(4)))
DROP = eqx.tree_at(lambda b: b.dropout, BLOCK, 0.3)
block_jit = eqx.filter_jit(lambda b, x, mask=None, key=None, inference=None:
                           b(x, mask, key=key, inference=inference))


def np_softmax_attention(q, k, v, mask=None):
    logits = q @ k.T / np.sqrt(q.shape[1])
    if mask is None:
        mask = np.ones(logits.shape, bool)
    w = np.where(mask, np.exp(logits - logits.max(axis=1, keepdims=True)), 0.0)
    s = w.sum(axis=1, keepdims=True)
    return np.where(s > 0, w / np.where(s > 0, s, 1), 0) @ v


def np_linear(lin, x):
    out = x @ np.asarray(lin.weight).T
    return out if lin.bias is None else out + np.asarray(lin.bias)


def np_mha(m, q, k, v, mask=None):
    h, dk, dv = m.num_heads, m.qk_size, m.vo_size
    Q, K, V = np_linear(m.query_proj, q), np_linear(m.key_proj, k), np_linear(m.value_proj, v)
    heads = [np_softmax_attention(Q[:, i * dk:(i + 1) * dk], K[:, i * dk:(i + 1) * dk],
                                  V[:, i * dv:(i + 1) * dv], mask) for i in range(h)]
    return np_linear(m.output_proj, np.concatenate(heads, axis=1))


def np_layernorm(ln, x):
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * np.asarray(ln.weight) + np.asarray(ln.bias)


def np_block(b, x, mask=None):
    z = np_layernorm(b.norm1, x + np_mha(b.attention, x, x, x, mask))
    f = np_linear(b.ffn2, np.maximum(0, np_linear(b.ffn1, z)))
    return np_layernorm(b.norm2, z + f)


def test_attention_vs_numpy_mask_and_jax():
    q, k, v = (jr.normal(jr.key(i), s) for i, s in enumerate([(3, 4), (5, 4), (5, 2)]))
    mask = jnp.array([[1, 0, 1, 1, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 0]], bool)  # row 2: none
    sdpa = jax.jit(nn.scaled_dot_product_attention)
    np.testing.assert_allclose(sdpa(q, k, v), np_softmax_attention(*map(np.asarray, (q, k, v))),
                               rtol=1e-12)
    out = sdpa(q, k, v, mask)
    np.testing.assert_allclose(out, np_softmax_attention(*map(np.asarray, (q, k, v, mask))),
                               rtol=1e-12, atol=1e-15)
    # the weights themselves (values = identity): masked keys weigh exactly 0, rows sum to 1
    w = sdpa(q, k, jnp.eye(5), mask)
    assert np.all(np.asarray(w)[~np.asarray(mask)] == 0)
    np.testing.assert_allclose(w[:2].sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(out[2], 0.0)  # fully masked query -> 0, not NaN
    # the same as jax.nn.dot_product_attention (one head, no batch)
    v4 = jnp.pad(v, ((0, 0), (0, 2)))  # jax.nn's needs d_v == d_k
    ref = jax.nn.dot_product_attention(q[:, None], k[:, None], v4[:, None])[:, 0]
    # (to 1e-6: jax.nn's XLA path evaluates the softmax in float32 even for float64 input)
    np.testing.assert_allclose(sdpa(q, k, v4), ref, rtol=1e-6)
    # gradients stay finite through masked and fully-masked rows
    g = jax.grad(lambda a: jnp.sum(nn.scaled_dot_product_attention(a, k, v, mask) ** 2))(q)
    assert bool(jnp.all(jnp.isfinite(g)))


def test_position_encoding_vs_formula():
    n, d = 7, 5
    pe = np.asarray(nn.sinusoidal_position_encoding(n, d))
    ref = np.zeros((n, d))
    for pos in range(n):
        for i in range((d + 1) // 2):
            ref[pos, 2 * i] = np.sin(pos / 10000 ** (2 * i / d))
            if 2 * i + 1 < d:
                ref[pos, 2 * i + 1] = np.cos(pos / 10000 ** (2 * i / d))
    np.testing.assert_allclose(pe, ref, rtol=1e-12, atol=1e-15)
    assert nn.sinusoidal_position_encoding(3, 4, jnp.float32).dtype == jnp.float32


@pytest.mark.parametrize("use_bias,dtype,tol", [
    (False, jnp.float64, 1e-12),
    pytest.param(True, jnp.float32, 2e-6, marks=pytest.mark.slow),  # keeps the default suite short
])
def test_mha_equals_equinox_with_same_weights(use_bias, dtype, tol):
    """Same weights -> the same output as eqx.nn.MultiheadAttention (cross-attention, unequal
    sizes, 2-D and per-head masks); float64 without biases, float32 with (slow)."""
    ours = nn.MultiHeadAttention(2, 4, key_size=3, value_size=5, output_size=6, qk_size=3,
                                 vo_size=2, use_bias=use_bias, key=jr.key(2), dtype=dtype)
    ref = eqx.nn.MultiheadAttention(2, 4, 3, 5, 6, 3, 2, use_bias, use_bias, use_bias,
                                    use_bias, key=jr.key(3), dtype=dtype)
    ref = eqx.tree_at(lambda m: (m.query_proj, m.key_proj, m.value_proj, m.output_proj), ref,
                      (ours.query_proj, ours.key_proj, ours.value_proj, ours.output_proj))
    q, k, v = (jr.normal(jr.key(4 + i), s, dtype) for i, s in enumerate([(3, 4), (6, 3),
                                                                         (6, 5)]))
    mask = jr.bernoulli(jr.key(7), 0.7, (2, 3, 6)).at[:, :, 0].set(True)

    @eqx.filter_jit  # one program for all three mask kinds
    def both(ours, ref, q, k, v, mask):
        return [(ours(q, k, v, m), ref(q, k, v, m)) for m in (None, mask[0], mask)]

    outs = both(ours, ref, q, k, v, mask)
    for a, b in outs:
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    np.testing.assert_allclose(outs[1][0],
                               np_mha(ours, *map(np.asarray, (q, k, v, mask[0]))), rtol=tol,
                               atol=tol)


def test_block_vs_numpy_and_dropout():
    mask = jnp.tril(jnp.ones((N, N), bool))  # causal
    for m in (None, mask):
        np.testing.assert_allclose(block_jit(BLOCK, X, m), np_block(BLOCK, np.asarray(X), m),
                                   rtol=1e-10, atol=1e-12)
    plain = block_jit(BLOCK, X)
    a, b = block_jit(DROP, X, key=jr.key(1)), block_jit(DROP, X, key=jr.key(2))
    assert not np.allclose(a, b) and not np.allclose(a, plain)
    np.testing.assert_allclose(block_jit(eqx.nn.inference_mode(DROP), X, key=jr.key(1)), plain,
                               rtol=1e-12)
    # jit == eager; vmap over (sequence, key) pairs == a loop
    np.testing.assert_allclose(DROP(X, key=jr.key(1)), a, rtol=1e-12)
    xb, keys = jnp.stack([X, 2 * X, -X]), jr.split(jr.key(4), 3)
    out = eqx.filter_jit(jax.vmap(lambda x, k: DROP(x, key=k)))(xb, keys)
    loop = np.stack([block_jit(DROP, xb[i], key=keys[i]) for i in range(3)])
    np.testing.assert_allclose(out, loop, rtol=1e-12)


@settings(max_examples=5, deadline=None)
@given(st.permutations(list(range(N))))
def test_permutation_equivariant_without_position_encoding(perm):
    p = np.asarray(perm)
    np.testing.assert_allclose(block_jit(BLOCK, X[p]), block_jit(BLOCK, X)[p], rtol=1e-10,
                               atol=1e-12)
    mha = BLOCK.attention
    np.testing.assert_allclose(eqx.filter_jit(mha)(X[p]), eqx.filter_jit(mha)(X)[p],
                               rtol=1e-10, atol=1e-12)


def test_position_encoding_breaks_equivariance():
    p = np.array([1, 0, 2, 3, 4])
    pe = nn.sinusoidal_position_encoding(N, DM)
    assert not np.allclose(block_jit(BLOCK, X[p] + pe), block_jit(BLOCK, X + pe)[p], atol=1e-6)


def test_block_grad_vs_central_differences():
    # gradients (float64) w.r.t. all parameters and the input, along random directions
    params, static = eqx.partition(BLOCK, eqx.is_inexact_array)
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    wts = jr.normal(jr.key(8), (N, DM))

    @jax.jit
    def loss(w, x):
        return jnp.sum(wts * eqx.combine(unravel(w), static)(x, jnp.tril(jnp.ones((N, N), bool))))

    gw, gx = jax.jit(jax.grad(loss, argnums=(0, 1)))(flat, X)
    eps = 1e-6
    for seed in range(2):
        dw, dx = jr.normal(jr.key(20 + seed), flat.shape), jr.normal(jr.key(30 + seed), X.shape)
        fd = (loss(flat + eps * dw, X + eps * dx) - loss(flat - eps * dw, X - eps * dx)) / (2 * eps)
        np.testing.assert_allclose(jnp.vdot(gw, dw) + jnp.vdot(gx, dx), fd, rtol=1e-6)
