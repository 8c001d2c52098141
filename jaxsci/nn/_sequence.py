r"""Sequence wrappers around recurrent cells: `Bidirectional` and `Stacked`.

Both run a whole time-major sequence `xs` `(T, d)` with `jax.lax.scan` (differentiating them is
backpropagation through time) and return `(final_state, ys)`, `ys` `(T, out_size)`, the
*output* of every step. The output of a cell is its state when the state is an array (Elman,
GRU) and the first entry of the state when it is a tuple (LSTM: $h$ of $(h, c)$).

- BiLSTM / BiRNN (Schuster & Paliwal 1997; review §7, the BiLSTM of [26]): a forward scan and
  a reversed scan, $y[n] = [\overrightarrow h[n];\ \overleftarrow h[n]]$.
- Stacked (deep) RNN: the outputs of layer $k$ are the inputs of layer $k+1$,
  $x^{(k+1)}[n] = \mathrm{Dropout}(h^{(k)}[n])$, with inverted dropout between layers (not
  after the last; Zaremba et al. 2014, the PyTorch `nn.LSTM(dropout=...)` convention).
"""

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from ._recurrent import LSTMCell, PeepholeLSTMCell, _check_key, scan_cell

_TUPLE_STATE = (LSTMCell, PeepholeLSTMCell, eqx.nn.LSTMCell)


def _cell_out_size(cell) -> int | None:
    if isinstance(cell, (Bidirectional, Stacked)):
        return cell.out_size
    return getattr(cell, "hidden_size", None)


def _cell_in_size(cell) -> int | None:
    if isinstance(cell, (Bidirectional, Stacked)):
        return cell.in_size
    return getattr(cell, "in_size", None)


def _check_cell(name, cell):
    if not callable(cell):
        raise TypeError(f"`{name}` must be a recurrent cell `cell(x_t, state) -> state` "
                        f"(e.g. nn.LSTMCell); got {cell!r}.")


def _check_xs(xs, in_size):
    if jnp.ndim(xs) != 2:
        raise ValueError(f"`xs` must be one time-major sequence of shape (T, in_size); got shape "
                         f"{jnp.shape(xs)} (jax.vmap over a batch axis).")
    if in_size is not None and jnp.shape(xs)[1] != in_size:
        raise ValueError(f"`xs` must have shape (T, {in_size}); got shape {jnp.shape(xs)}.")


def _zero_state(cell, xs):
    size = getattr(cell, "hidden_size", None)
    if size is None:
        raise ValueError(f"`state0` is needed: cannot build a zero state for {type(cell).__name__}"
                         " (it has no `hidden_size`); pass the initial state explicitly.")
    dtype = jnp.result_type(xs, *jax.tree.leaves(eqx.filter(cell, eqx.is_inexact_array)))
    zero = jnp.zeros(size, dtype)
    return (zero, zero) if isinstance(cell, _TUPLE_STATE) else zero


def _output(states):
    return states[0] if isinstance(states, tuple) else states


def _run(layer, xs, state0, key, reverse=False):
    """`(final_state, ys)` of one layer over `xs`: a wrapper, or a cell run by `scan_cell`."""
    if isinstance(layer, (Bidirectional, Stacked)):
        return layer(xs, state0, key=key)
    if state0 is None:
        state0 = _zero_state(layer, xs)
    final, states = scan_cell(layer, xs, state0, reverse=reverse)
    return final, _output(states)


class Bidirectional(eqx.Module):
    r"""Bidirectional recurrent layer (BiRNN / BiLSTM; Schuster & Paliwal 1997; review §7):
    $$\overrightarrow h[n] = \overrightarrow{\mathrm{cell}}(x[n], \overrightarrow h[n-1]),\quad
    \overleftarrow h[n] = \overleftarrow{\mathrm{cell}}(x[n], \overleftarrow h[n+1]),\quad
    y[n] = [\overrightarrow h[n];\ \overleftarrow h[n]],$$
    the backward scan is `jax.lax.scan(..., reverse=True)`, so $y$ stays in the order of $x$.

    **Arguments:**

    - `forward_cell`, `backward_cell`: recurrent cells `cell(x_t, state) -> state` with the
      same `in_size` (e.g. two `nn.LSTMCell(d, h, key=...)` with different keys).

    Call `layer(xs, state0=None, *, key=None)`: `xs` `(T, in_size)`; `state0` `None` (zero
    states; needs cells with a `hidden_size`) or `(forward_state0, backward_state0)`; `key` is
    accepted for a uniform interface with `Stacked` and unused.

    **Returns:** `(final_state, ys)`: `final_state = (forward state after x[T-1], backward
    state after x[0])`, `ys` `(T, out_size)` with `out_size = forward hidden + backward
    hidden`.
    """

    forward_cell: Callable
    backward_cell: Callable

    def __init__(self, forward_cell: Callable, backward_cell: Callable):
        _check_cell("forward_cell", forward_cell)
        _check_cell("backward_cell", backward_cell)
        a, b = _cell_in_size(forward_cell), _cell_in_size(backward_cell)
        if a is not None and b is not None and a != b:
            raise ValueError(f"`forward_cell` and `backward_cell` must read the same inputs; got "
                             f"in_size {a} and {b}.")
        self.forward_cell, self.backward_cell = forward_cell, backward_cell

    @property
    def in_size(self) -> int | None:
        return _cell_in_size(self.forward_cell)

    @property
    def out_size(self) -> int | None:
        a, b = _cell_out_size(self.forward_cell), _cell_out_size(self.backward_cell)
        return None if a is None or b is None else a + b

    def __call__(self, xs: Float[Array, "T in_size"], state0: PyTree | None = None, *,
                 key: PRNGKeyArray | None = None) -> tuple[PyTree, Float[Array, "T out_size"]]:
        _check_xs(xs, self.in_size)
        if state0 is None:
            s_f = s_b = None
        elif isinstance(state0, (tuple, list)) and len(state0) == 2:
            s_f, s_b = state0
        else:
            raise ValueError("`state0` must be None or a pair (forward_state0, backward_state0); "
                             f"got {type(state0).__name__}.")
        f_final, yf = _run(self.forward_cell, xs, s_f, key)
        b_final, yb = _run(self.backward_cell, xs, s_b, key, reverse=True)
        return (f_final, b_final), jnp.concatenate([yf, yb], axis=-1)


class Stacked(eqx.Module):
    r"""Several recurrent layers, the outputs of layer $k$ the inputs of layer $k+1$:
    $$x^{(1)} = x,\quad h^{(k)}[n] = \mathrm{cell}_k(x^{(k)}[n], h^{(k)}[n-1]),\quad
    x^{(k+1)}[n] = \mathrm{Dropout}_p(h^{(k)}[n]),\quad y = h^{(L)},$$
    with inverted dropout (kept entries scaled by $1/(1-p)$, an independent mask per step
    and unit) between layers and none after the last (Zaremba et al. 2014; the convention of
    PyTorch's `nn.LSTM(num_layers, dropout)`). The surrogate of review §11 (2 x 80 LSTM,
    dropout 0.2) is `Stacked([LSTMCell(d, 80, key=k1), LSTMCell(80, 80, key=k2)],
    dropout=0.2)`.

    **Arguments:**

    - `cells`: a non-empty sequence of recurrent cells or `Bidirectional` / `Stacked` layers;
      the `in_size` of each must be the output size of the one before.
    - `dropout`: the drop probability $p \in [0, 1)$ between layers.
    - `inference`: if `True` dropout is off (as `eqx.nn.Dropout`; `eqx.nn.inference_mode`
      switches it); a call may override it with `inference=`.

    Call `stack(xs, state0=None, *, key=None, inference=None)`: `xs` `(T, in_size)`; `state0`
    `None` (zero states) or a sequence of one initial state per layer; `key` a PRNG key,
    required when `dropout > 0` and not in inference mode.

    **Returns:** `(final_state, ys)`: `final_state` a tuple of each layer's final state,
    `ys` `(T, out_size)` the outputs of the last layer.
    """

    cells: tuple
    dropout: float
    inference: bool

    def __init__(self, cells: Sequence[Callable], dropout: float = 0.0, inference: bool = False):
        if not isinstance(cells, (list, tuple)) or len(cells) == 0:
            raise ValueError(f"`cells` must be a non-empty list of recurrent cells; got {cells!r}.")
        for k, c in enumerate(cells):
            _check_cell(f"cells[{k}]", c)
        for k in range(1, len(cells)):
            out, inp = _cell_out_size(cells[k - 1]), _cell_in_size(cells[k])
            if out is not None and inp is not None and out != inp:
                raise ValueError(f"`cells[{k}]` has in_size {inp} but `cells[{k - 1}]` outputs "
                                 f"{out} features; make them equal.")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not (
                0.0 <= dropout < 1.0):
            raise ValueError(f"`dropout` must be a float in [0, 1); got {dropout!r}.")
        if not isinstance(inference, bool):
            raise TypeError(f"`inference` must be a bool; got {inference!r}.")
        self.cells, self.dropout, self.inference = tuple(cells), float(dropout), inference

    @property
    def in_size(self) -> int | None:
        return _cell_in_size(self.cells[0])

    @property
    def out_size(self) -> int | None:
        return _cell_out_size(self.cells[-1])

    def __call__(self, xs: Float[Array, "T in_size"], state0: Sequence[PyTree] | None = None,
                 *, key: PRNGKeyArray | None = None, inference: bool | None = None
                 ) -> tuple[tuple, Float[Array, "T out_size"]]:
        _check_xs(xs, self.in_size)
        n = len(self.cells)
        if state0 is None:
            state0 = (None,) * n
        elif not isinstance(state0, (tuple, list)) or len(state0) != n:
            raise ValueError(f"`state0` must be None or a sequence of {n} per-layer states; got "
                             f"{type(state0).__name__} of length "
                             f"{len(state0) if isinstance(state0, (tuple, list)) else '-'}.")
        inference = self.inference if inference is None else inference
        drop = self.dropout > 0 and not inference and n > 1
        if key is None:
            if drop:
                raise ValueError("`key` is required when `dropout > 0` outside inference mode; "
                                 "pass key=jax.random.key(...) or inference=True.")
            keys = [None] * (2 * n)
        else:
            _check_key(key)
            keys = list(jr.split(key, 2 * n))
        finals = []
        for k, (cell, s0) in enumerate(zip(self.cells, state0)):
            final, xs = _run(cell, xs, s0, keys[2 * k])
            finals.append(final)
            if drop and k < n - 1:
                q = 1.0 - self.dropout
                mask = jr.bernoulli(keys[2 * k + 1], q, xs.shape)
                xs = jnp.where(mask, xs / q, 0)
        return tuple(finals), xs
