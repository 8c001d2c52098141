r"""Attention and the Transformer encoder block (Vaswani et al. 2017, "Attention is all you
need"; review §7.4.2-7.4.3, attention concept of Bahdanau et al. 2015 [57]).

- Scaled dot-product attention, Vaswani Eq. (1):
  $\mathrm{Attention}(Q, K, V) = \mathrm{softmax}(Q K^\top / \sqrt{d_k})\, V$.
- Multi-head attention, Vaswani §3.2.2: $\mathrm{head}_i = \mathrm{Attention}(Q W_i^Q, K W_i^K,
  V W_i^V)$, $\mathrm{MultiHead}(Q, K, V) = [\mathrm{head}_1; \dots; \mathrm{head}_h] W^O$.
- Position-wise feed-forward network, Vaswani Eq. (2): $\mathrm{FFN}(x) = \max(0, x W_1 + b_1)
  W_2 + b_2$.
- Sinusoidal position encoding, Vaswani §3.5: $PE(pos, 2i) = \sin(pos / 10000^{2i/d})$,
  $PE(pos, 2i+1) = \cos(pos / 10000^{2i/d})$.
- Post-norm residual sublayers, Vaswani §3.1: $\mathrm{LayerNorm}(x + \mathrm{Sublayer}(x))$,
  dropout on each sublayer output before the addition (§5.4).

Everything acts on one sequence (rows are positions); `jax.vmap` for a batch.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from ._recurrent import _check_key, _check_size


def _check_matrix(name, a, cols=None):
    if jnp.ndim(a) != 2:
        raise ValueError(f"`{name}` must be a 2-D array (sequence length, features); got shape "
                         f"{jnp.shape(a)} (jax.vmap over batch axes).")
    if cols is not None and jnp.shape(a)[1] != cols:
        raise ValueError(f"`{name}` must have {cols} features (shape (n, {cols})); got shape "
                         f"{jnp.shape(a)}.")


def _check_mask(mask, shapes):
    if mask is None:
        return None
    if not hasattr(mask, "dtype") or mask.dtype != jnp.bool_:
        raise TypeError(f"`mask` must be a boolean array (True = attend); got "
                        f"{getattr(mask, 'dtype', type(mask).__name__)}.")
    if jnp.shape(mask) not in shapes:
        want = " or ".join(str(s) for s in shapes)
        raise ValueError(f"`mask` must have shape {want}; got shape {jnp.shape(mask)}.")
    return mask


def scaled_dot_product_attention(
    q: Float[Array, "n d_k"],
    k: Float[Array, "m d_k"],
    v: Float[Array, "m d_v"],
    mask: Bool[Array, "n m"] | None = None,
) -> Float[Array, "n d_v"]:
    r"""Scaled dot-product attention, Vaswani et al. 2017 Eq. (1) (review §7.4.2):
    $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right)V,$$
    the softmax over each row (each query), restricted to the keys where `mask` is `True`.

    **Arguments:**

    - `q`: queries `(n, d_k)`; `k`: keys `(m, d_k)`; `v`: values `(m, d_v)`.
    - `mask`: optional boolean `(n, m)`, `True` where query `i` may attend to key `j`. Masked
      keys get weight exactly 0; a query with no admissible key gets all-zero weights, so
      its output row is 0 (not NaN, and not the uniform average `eqx.nn` gives).

    **Returns:** `(n, d_v)`, row $i$ the attention-weighted mean of the values.
    """
    _check_matrix("q", q)
    _check_matrix("k", k, jnp.shape(q)[1])
    _check_matrix("v", v)
    if jnp.shape(v)[0] != jnp.shape(k)[0]:
        raise ValueError(f"`k` and `v` must have the same number of rows (keys); got shapes "
                         f"{jnp.shape(k)} and {jnp.shape(v)}.")
    mask = _check_mask(mask, [(jnp.shape(q)[0], jnp.shape(k)[0])])
    logits = q @ k.T / jnp.sqrt(jnp.asarray(jnp.shape(q)[1], q.dtype))
    if mask is None:
        return jax.nn.softmax(logits, axis=-1) @ v
    low = jnp.finfo(logits.dtype).min
    top = jax.lax.stop_gradient(jnp.max(jnp.where(mask, logits, low), axis=-1, keepdims=True))
    # where() on the exponent keeps masked entries exactly 0 with finite gradients
    e = jnp.where(mask, jnp.exp(jnp.where(mask, logits - top, 0.0)), 0.0)
    s = jnp.sum(e, axis=-1, keepdims=True)
    return (e / jnp.where(s > 0, s, 1.0)) @ v


def sinusoidal_position_encoding(n: int, d: int, dtype=None) -> Float[Array, "n d"]:
    r"""Sinusoidal position encoding, Vaswani et al. 2017 §3.5 (review §7.4.3):
    $$PE(pos, 2i) = \sin\!\big(pos / 10000^{2i/d}\big),\qquad
    PE(pos, 2i+1) = \cos\!\big(pos / 10000^{2i/d}\big),$$
    for positions $pos = 0, \dots, n-1$ and features $0 \le 2i, 2i+1 < d$ (an odd `d` ends
    with a sine column). Added to the inputs, it breaks the permutation equivariance of
    attention.

    **Arguments:** `n` positions, `d` features (positive ints), `dtype` (default: the
    default float type).

    **Returns:** `(n, d)`.
    """
    _check_size("n", n)
    _check_size("d", d)
    dtype = jnp.dtype(float) if dtype is None else jnp.dtype(dtype)
    pos = jnp.arange(n, dtype=dtype)[:, None]
    two_i = 2 * (jnp.arange(d) // 2)
    angle = pos / jnp.power(jnp.asarray(10000.0, dtype), two_i.astype(dtype) / d)[None, :]
    return jnp.where((jnp.arange(d) % 2 == 0)[None, :], jnp.sin(angle), jnp.cos(angle))


class MultiHeadAttention(eqx.Module):
    r"""Multi-head attention, Vaswani et al. 2017 §3.2.2 (review §7.4.2):
    $$\mathrm{head}_i = \mathrm{Attention}(Q W_i^Q, K W_i^K, V W_i^V),\quad
    \mathrm{MultiHead}(Q, K, V) = [\mathrm{head}_1; \dots; \mathrm{head}_h]\, W^O,$$
    with `scaled_dot_product_attention` for each head.

    The parameters have the names and layout of `eqx.nn.MultiheadAttention` (`query_proj`,
    `key_proj`, `value_proj`, `output_proj`, `eqx.nn.Linear` layers; head $i$ is the $i$-th
    block of `qk_size` rows), so the same weights give the same output (tested). It is
    written out rather than wrapped so that a fully masked query gives 0 (not equinox's
    uniform average over masked keys) and bad shapes are refused with messages that name the
    argument; attention-weight dropout is left out (Vaswani drop sublayer outputs, §5.4,
    done in `TransformerEncoderBlock`).

    **Arguments:**

    - `num_heads` $h$; `query_size` (the model width $d$); `key_size`, `value_size`,
      `output_size` (default `query_size`); `qk_size`, `vo_size` per head (default
      `query_size // num_heads`, as $d_k = d_v = d/h$ in the paper).
    - `use_bias`: biases in all four projections (default `False`, as the paper).
    - `key`: PRNG key; `dtype`: parameter dtype.

    Call `mha(query, key_=None, value=None, mask=None)`: `query` `(n, query_size)`, `key_`
    `(m, key_size)` (default `query`: self-attention), `value` `(m, value_size)` (default
    `key_`), `mask` boolean `(n, m)` or `(num_heads, n, m)`. Returns `(n, output_size)`.
    """

    query_proj: eqx.nn.Linear
    key_proj: eqx.nn.Linear
    value_proj: eqx.nn.Linear
    output_proj: eqx.nn.Linear
    num_heads: int = eqx.field(static=True)
    query_size: int = eqx.field(static=True)
    key_size: int = eqx.field(static=True)
    value_size: int = eqx.field(static=True)
    output_size: int = eqx.field(static=True)
    qk_size: int = eqx.field(static=True)
    vo_size: int = eqx.field(static=True)

    def __init__(self, num_heads: int, query_size: int, key_size: int | None = None,
                 value_size: int | None = None, output_size: int | None = None,
                 qk_size: int | None = None, vo_size: int | None = None,
                 use_bias: bool = False, *, key: PRNGKeyArray, dtype=None):
        _check_size("num_heads", num_heads)
        _check_size("query_size", query_size)
        key_size = query_size if key_size is None else key_size
        value_size = query_size if value_size is None else value_size
        output_size = query_size if output_size is None else output_size
        for name, val in (("key_size", key_size), ("value_size", value_size),
                          ("output_size", output_size)):
            _check_size(name, val)
        if (qk_size is None or vo_size is None) and query_size < num_heads:
            raise ValueError(f"`query_size` ({query_size}) is smaller than `num_heads` "
                             f"({num_heads}); give `qk_size` and `vo_size` explicitly.")
        qk_size = query_size // num_heads if qk_size is None else qk_size
        vo_size = query_size // num_heads if vo_size is None else vo_size
        _check_size("qk_size", qk_size)
        _check_size("vo_size", vo_size)
        if not isinstance(use_bias, bool):
            raise TypeError(f"`use_bias` must be a bool; got {use_bias!r}.")
        _check_key(key)
        kq, kk, kv, ko = jr.split(key, 4)
        h = num_heads
        self.query_proj = eqx.nn.Linear(query_size, h * qk_size, use_bias, dtype, key=kq)
        self.key_proj = eqx.nn.Linear(key_size, h * qk_size, use_bias, dtype, key=kk)
        self.value_proj = eqx.nn.Linear(value_size, h * vo_size, use_bias, dtype, key=kv)
        self.output_proj = eqx.nn.Linear(h * vo_size, output_size, use_bias, dtype, key=ko)
        self.num_heads, self.query_size, self.key_size = num_heads, query_size, key_size
        self.value_size, self.output_size = value_size, output_size
        self.qk_size, self.vo_size = qk_size, vo_size

    def __call__(self, query: Float[Array, "n query_size"],
                 key_: Float[Array, "m key_size"] | None = None,
                 value: Float[Array, "m value_size"] | None = None,
                 mask: Bool[Array, "n m"] | Bool[Array, "num_heads n m"] | None = None,
                 ) -> Float[Array, "n output_size"]:
        key_ = query if key_ is None else key_
        value = key_ if value is None else value
        _check_matrix("query", query, self.query_size)
        _check_matrix("key_", key_, self.key_size)
        _check_matrix("value", value, self.value_size)
        n, m, h = jnp.shape(query)[0], jnp.shape(key_)[0], self.num_heads
        if jnp.shape(value)[0] != m:
            raise ValueError(f"`key_` and `value` must have the same length; got shapes "
                             f"{jnp.shape(key_)} and {jnp.shape(value)}.")
        mask = _check_mask(mask, [(n, m), (h, n, m)])
        qh = jax.vmap(self.query_proj)(query).reshape(n, h, self.qk_size)
        kh = jax.vmap(self.key_proj)(key_).reshape(m, h, self.qk_size)
        vh = jax.vmap(self.value_proj)(value).reshape(m, h, self.vo_size)
        if mask is None or mask.ndim == 2:
            att = jax.vmap(lambda a, b, c: scaled_dot_product_attention(a, b, c, mask),
                           in_axes=1, out_axes=1)(qh, kh, vh)
        else:
            att = jax.vmap(scaled_dot_product_attention, in_axes=(1, 1, 1, 0),
                           out_axes=1)(qh, kh, vh, mask)
        return jax.vmap(self.output_proj)(att.reshape(n, h * self.vo_size))


def _dropout(x, p, key):
    q = 1.0 - p
    return jnp.where(jr.bernoulli(key, q, x.shape), x / q, 0)


class TransformerEncoderBlock(eqx.Module):
    r"""One Transformer encoder layer, post-norm as Vaswani et al. 2017 §3.1 (review §7.4.3):
    $$z = \mathrm{LayerNorm}_1\big(x + \mathrm{Dropout}(\mathrm{MultiHead}(x, x, x))\big),\qquad
    y = \mathrm{LayerNorm}_2\big(z + \mathrm{Dropout}(\mathrm{FFN}(z))\big),$$
    with the position-wise $\mathrm{FFN}(z) = \max(0, z W_1 + b_1) W_2 + b_2$ (Eq. (2)) applied
    to each row, and inverted dropout on each sublayer output (§5.4). `LayerNorm` is
    `eqx.nn.LayerNorm` (eps 1e-5, learnt scale and shift) over the features of each row.

    **Arguments:**

    - `d_model` (the width $d$), `num_heads` $h$ ($d_k = d_v = d/h$), `d_ff` (FFN width).
    - `dropout` $p \in [0, 1)$; `inference`: dropout off (also by `eqx.nn.inference_mode`).
    - `activation`: the FFN nonlinearity (default `jax.nn.relu`, the $\max(0, \cdot)$ of Eq. (2)).
    - `key`, `dtype`.

    Call `block(x, mask=None, *, key=None, inference=None)`: `x` `(n, d_model)` (add
    `sinusoidal_position_encoding(n, d_model)` first for order information), `mask` as in
    `MultiHeadAttention`; `key` required when `dropout > 0` and not in inference mode.
    Returns `(n, d_model)`.
    """

    attention: MultiHeadAttention
    norm1: eqx.nn.LayerNorm
    ffn1: eqx.nn.Linear
    ffn2: eqx.nn.Linear
    norm2: eqx.nn.LayerNorm
    activation: Callable = eqx.field(static=True)
    dropout: float
    inference: bool

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0,
                 inference: bool = False, activation: Callable = jax.nn.relu, *,
                 key: PRNGKeyArray, dtype=None):
        _check_size("d_model", d_model)
        _check_size("num_heads", num_heads)
        _check_size("d_ff", d_ff)
        if d_model % num_heads:
            raise ValueError(f"`d_model` ({d_model}) must be divisible by `num_heads` "
                             f"({num_heads}) so that d_k = d_model / num_heads.")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not (
                0.0 <= dropout < 1.0):
            raise ValueError(f"`dropout` must be a float in [0, 1); got {dropout!r}.")
        if not isinstance(inference, bool):
            raise TypeError(f"`inference` must be a bool; got {inference!r}.")
        if not callable(activation):
            raise TypeError(f"`activation` must be callable; got {activation!r}.")
        _check_key(key)
        ka, k1, k2 = jr.split(key, 3)
        self.attention = MultiHeadAttention(num_heads, d_model, key=ka, dtype=dtype)
        self.norm1 = eqx.nn.LayerNorm(d_model, dtype=dtype)
        self.ffn1 = eqx.nn.Linear(d_model, d_ff, dtype=dtype, key=k1)
        self.ffn2 = eqx.nn.Linear(d_ff, d_model, dtype=dtype, key=k2)
        self.norm2 = eqx.nn.LayerNorm(d_model, dtype=dtype)
        self.activation = activation
        self.dropout, self.inference = float(dropout), inference

    def __call__(self, x: Float[Array, "n d_model"],
                 mask: Bool[Array, "n n"] | Bool[Array, "num_heads n n"] | None = None, *,
                 key: PRNGKeyArray | None = None, inference: bool | None = None
                 ) -> Float[Array, "n d_model"]:
        _check_matrix("x", x, self.attention.query_size)
        inference = self.inference if inference is None else inference
        drop = self.dropout > 0 and not inference
        if drop:
            if key is None:
                raise ValueError("`key` is required when `dropout > 0` outside inference mode; "
                                 "pass key=jax.random.key(...) or inference=True.")
            _check_key(key)
            k1, k2 = jr.split(key)
        a = self.attention(x, x, x, mask)
        if drop:
            a = _dropout(a, self.dropout, k1)
        z = jax.vmap(self.norm1)(x + a)
        f = jax.vmap(lambda r: self.ffn2(self.activation(self.ffn1(r))))(z)
        if drop:
            f = _dropout(f, self.dropout, k2)
        return jax.vmap(self.norm2)(z + f)
