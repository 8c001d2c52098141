r"""Recurrent cells: one step of one sample, `cell(x_t, state) -> state`, and `scan_cell`.

Notation follows the review seed (§7; `h[n]` is the hidden state at step `n`, Remark 7.1):

- Elman RNN: $h[n] = a(W h[n-1] + U x[n] + b)$.
- LSTM with forget gate (Hochreiter & Schmidhuber 1997; Gers et al. 2000):
  $c[n] = f \odot c[n-1] + i \odot \tanh(W h + U x + b)$, $h[n] = o \odot \tanh(c[n])$.
- Peephole LSTM (Gers & Schmidhuber 2000): $i, f$ also see $c[n-1]$, $o$ sees $c[n]$, through
  diagonal weights.
- GRU (Cho et al. 2014, Eqs. 5-8): $\tilde h = \tanh(W (r \odot h) + U x + b)$,
  $h[n] = (1 - z) \odot h[n-1] + z \odot \tilde h$.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray


def _check_size(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be a positive int; got {value!r}.")


def _check_key(key):
    if not (isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key)) and not (
        isinstance(key, jax.Array) and key.shape == (2,) and key.dtype == jnp.uint32
    ):
        raise TypeError(f"`key` must be a JAX PRNG key (jax.random.key(0)); got {type(key).__name__}.")


def _check_vec(name, value, size):
    shape = jnp.shape(value)
    if shape != (size,):
        raise ValueError(f"`{name}` must have shape ({size},); got shape {shape}.")


def _uniform(key, shape, hidden_size, dtype):
    lim = 1.0 / hidden_size**0.5
    return jr.uniform(key, shape, dtype, -lim, lim)


def _init(in_size, hidden_size, n_blocks, key, dtype):
    _check_size("in_size", in_size)
    _check_size("hidden_size", hidden_size)
    _check_key(key)
    dtype = jnp.dtype(float) if dtype is None else dtype
    k1, k2, k3 = jr.split(key, 3)
    g = n_blocks * hidden_size
    return (
        _uniform(k1, (g, in_size), hidden_size, dtype),
        _uniform(k2, (g, hidden_size), hidden_size, dtype),
        _uniform(k3, (g,), hidden_size, dtype),
    )


class ElmanCell(eqx.Module):
    r"""Elman RNN cell $h[n] = a(W h[n-1] + U x[n] + b)$ (review §7, Remark 7.2).

    Parameters: `weight_ih` $U$ `(hidden, in)`, `weight_hh` $W$ `(hidden, hidden)`,
    `bias` $b$ `(hidden,)`, `activation` $a$ (default `tanh`).

    Call `cell(x, h)` with `x` `(in_size,)`, `h` `(hidden_size,)`; returns the new `h`.
    """

    weight_ih: Float[Array, "hidden in_size"]
    weight_hh: Float[Array, "hidden hidden"]
    bias: Float[Array, " hidden"]
    activation: Callable = eqx.field(static=True)
    in_size: int = eqx.field(static=True)
    hidden_size: int = eqx.field(static=True)

    def __init__(self, in_size: int, hidden_size: int, activation: Callable = jnp.tanh, *,
                 key: PRNGKeyArray, dtype=None):
        if not callable(activation):
            raise TypeError(f"`activation` must be callable; got {activation!r}.")
        self.weight_ih, self.weight_hh, self.bias = _init(in_size, hidden_size, 1, key, dtype)
        self.activation = activation
        self.in_size, self.hidden_size = in_size, hidden_size

    def __call__(self, x: Float[Array, " in_size"], state: Float[Array, " hidden"]
                 ) -> Float[Array, " hidden"]:
        _check_vec("x", x, self.in_size)
        _check_vec("state", state, self.hidden_size)
        return self.activation(self.weight_hh @ state + self.weight_ih @ x + self.bias)


class LSTMCell(eqx.Module):
    r"""LSTM cell with forget gate; the same maths and parameter layout as `eqx.nn.LSTMCell`.

    With gates stacked in the order $i, f, g, o$ (`weight_ih` `(4 hidden, in)`, `weight_hh`
    `(4 hidden, hidden)`, `bias` `(4 hidden,)`):
    $$i, f, o = \sigma(\cdot),\ g = \tanh(\cdot),\ c[n] = f \odot c[n-1] + i \odot g,\
    h[n] = o \odot \tanh(c[n]).$$
    Hochreiter & Schmidhuber 1997 with the forget gate of Gers et al. 2000; review §7.

    Call `cell(x, (h, c))`; returns `(h, c)`, each `(hidden_size,)`.
    """

    weight_ih: Float[Array, "4*hidden in_size"]
    weight_hh: Float[Array, "4*hidden hidden"]
    bias: Float[Array, " 4*hidden"]
    in_size: int = eqx.field(static=True)
    hidden_size: int = eqx.field(static=True)

    def __init__(self, in_size: int, hidden_size: int, *, key: PRNGKeyArray, dtype=None):
        self.weight_ih, self.weight_hh, self.bias = _init(in_size, hidden_size, 4, key, dtype)
        self.in_size, self.hidden_size = in_size, hidden_size

    def __call__(self, x: Float[Array, " in_size"],
                 state: tuple[Float[Array, " hidden"], Float[Array, " hidden"]]):
        _check_vec("x", x, self.in_size)
        h, c = state
        _check_vec("state[0] (h)", h, self.hidden_size)
        _check_vec("state[1] (c)", c, self.hidden_size)
        i, f, g, o = jnp.split(self.weight_ih @ x + self.weight_hh @ h + self.bias, 4)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        return jax.nn.sigmoid(o) * jnp.tanh(c), c


class PeepholeLSTMCell(eqx.Module):
    r"""Peephole LSTM cell (Gers & Schmidhuber 2000, "Recurrent nets that time and count").

    Layout as `LSTMCell` plus diagonal peephole weights `peephole` `(3, hidden)` $= (p_i, p_f,
    p_o)$:
    $$i = \sigma(z_i + p_i \odot c[n-1]),\ f = \sigma(z_f + p_f \odot c[n-1]),\
    c[n] = f \odot c[n-1] + i \odot \tanh(z_g),\ o = \sigma(z_o + p_o \odot c[n]),\
    h[n] = o \odot \tanh(c[n]),$$
    with $z = U x + W h[n-1] + b$. With zero peepholes it equals `LSTMCell`. Not in equinox.

    Call `cell(x, (h, c))`; returns `(h, c)`.
    """

    weight_ih: Float[Array, "4*hidden in_size"]
    weight_hh: Float[Array, "4*hidden hidden"]
    bias: Float[Array, " 4*hidden"]
    peephole: Float[Array, "3 hidden"]
    in_size: int = eqx.field(static=True)
    hidden_size: int = eqx.field(static=True)

    def __init__(self, in_size: int, hidden_size: int, *, key: PRNGKeyArray, dtype=None):
        self.weight_ih, self.weight_hh, self.bias = _init(in_size, hidden_size, 4, key, dtype)
        self.peephole = _uniform(jr.fold_in(key, 1), (3, hidden_size), hidden_size,
                                 self.bias.dtype)
        self.in_size, self.hidden_size = in_size, hidden_size

    def __call__(self, x: Float[Array, " in_size"],
                 state: tuple[Float[Array, " hidden"], Float[Array, " hidden"]]):
        _check_vec("x", x, self.in_size)
        h, c = state
        _check_vec("state[0] (h)", h, self.hidden_size)
        _check_vec("state[1] (c)", c, self.hidden_size)
        zi, zf, zg, zo = jnp.split(self.weight_ih @ x + self.weight_hh @ h + self.bias, 4)
        pi, pf, po = self.peephole
        c = jax.nn.sigmoid(zf + pf * c) * c + jax.nn.sigmoid(zi + pi * c) * jnp.tanh(zg)
        return jax.nn.sigmoid(zo + po * c) * jnp.tanh(c), c


class GRUCell(eqx.Module):
    r"""GRU cell in the convention of Cho et al. 2014 (Eqs. 5-8), gates stacked $r, z, n$:
    $$r = \sigma(U_r x + W_r h + b_r),\ z = \sigma(U_z x + W_z h + b_z),\
    \tilde h = \tanh(U_n x + W_n (r \odot h) + b_n),\ h[n] = (1 - z) \odot h + z \odot \tilde h.$$

    `eqx.nn.GRUCell` uses the PyTorch convention instead ($r$ multiplies $W_n h + b_{hn}$, and
    $z$ weights the old state), so the two differ for the same weights.

    Call `cell(x, h)`; returns the new `h` `(hidden_size,)`.
    """

    weight_ih: Float[Array, "3*hidden in_size"]
    weight_hh: Float[Array, "3*hidden hidden"]
    bias: Float[Array, " 3*hidden"]
    in_size: int = eqx.field(static=True)
    hidden_size: int = eqx.field(static=True)

    def __init__(self, in_size: int, hidden_size: int, *, key: PRNGKeyArray, dtype=None):
        self.weight_ih, self.weight_hh, self.bias = _init(in_size, hidden_size, 3, key, dtype)
        self.in_size, self.hidden_size = in_size, hidden_size

    def __call__(self, x: Float[Array, " in_size"], state: Float[Array, " hidden"]
                 ) -> Float[Array, " hidden"]:
        _check_vec("x", x, self.in_size)
        _check_vec("state", state, self.hidden_size)
        H = self.hidden_size
        ux = self.weight_ih @ x + self.bias
        wrz = self.weight_hh[: 2 * H] @ state
        r = jax.nn.sigmoid(ux[:H] + wrz[:H])
        z = jax.nn.sigmoid(ux[H : 2 * H] + wrz[H:])
        ht = jnp.tanh(ux[2 * H :] + self.weight_hh[2 * H :] @ (r * state))
        return (1 - z) * state + z * ht


def scan_cell(cell: Callable, xs: Float[Array, "steps in_size"], state0, *, reverse: bool = False):
    r"""Run `cell` over the leading axis of `xs` with `jax.lax.scan` (BPTT by differentiating).

    **Arguments:** `cell(x_t, state) -> state`; `xs` `(steps, in_size)`; `state0` a pytree.
    `reverse=True` runs from the last step to the first (the backward half of a BiLSTM); the
    returned `states` stay in the order of `xs`.

    **Returns:** `(final_state, states)`, `states` the state after every step stacked on a
    leading `steps` axis.
    """
    if not callable(cell):
        raise TypeError(f"`cell` must be callable `cell(x_t, state) -> state`; got {cell!r}.")
    if jnp.ndim(xs) != 2:
        raise ValueError(f"`xs` must have shape (steps, in_size); got shape {jnp.shape(xs)}.")

    def step(state, x):
        new = cell(x, state)
        return new, new

    return jax.lax.scan(step, state0, xs, reverse=reverse)
