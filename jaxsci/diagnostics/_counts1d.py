r"""Packed per-network state counts for $d_\text{in} = 1$: the fast kernel of `init_statistics`.

The same exact classification as `neuron_states_1d` (Shin & Karniadakis 2020, section 3.2:
values at the interval ends and at the kinks of earlier layers), with bit-identical
arithmetic (the same knot order, the same Batcher sorting network, the same interpolation
formulas), but written for XLA:CPU's code generator instead of as array algebra:

* every per-network quantity is its own array of shape `batch` (Python lists over knots and
  neurons, unrolled), so the whole classification is one elementwise loop fusion over the
  batch, vectorised along the minor (batch) axis, with no reductions over leading axes and
  nothing materialised in memory;
* the result is ONE integer per network: the counts of every hidden layer packed as
  $\sum_t (a_t + (n_t + 1) d_t) \prod_{s < t} (n_s + 1)^2$ ($a_t$ active, $d_t$ tentatively
  dead; the permanently dead count is $n_t - a_t - d_t$). A fusion with several outputs (or a
  stacked output) would make XLA recompute the shared work for every output; packing keeps a
  single root, so each network is classified once. `unpack_counts` decodes on the host.

The unrolled program grows with $|K_{t-1}|\, n_t\, n_{t-1}$ (knots times weights), so it is
used only for small networks (`packed_counts_supported`); `init_statistics` falls back to the
array form otherwise. For small networks such as widths (1, 6, 4, 2) it classifies batches
of networks over an order of magnitude faster than `state_counts(neuron_states_1d(...))`.
"""

import functools
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Int

from ._states import LayerParams, _batcher_pairs, _check_params

# Estimated unrolled operations per network above which the array form is used instead:
# XLA's compile time grows faster than linearly with the size of the one fusion (under load
# on 2 cores: 2.5 s for (1, 6, 4, 2) at ~1,500 ops, 9 s for (1, 500) at 3,000, 49 s for
# (1, 6, 4, 2, 2) at ~4,300).
MAX_UNROLLED_OPS = 2500


def _unrolled_ops(widths: Sequence[int]) -> int:
    knots, ops = 2, 0
    for t in range(1, len(widths)):
        n_in, n = widths[t - 1], widths[t]
        ops += knots * n * (n_in + 2) + 2 * n * n_in  # affine map + constancy tests
        if t < len(widths) - 1:
            ops += len(_batcher_pairs(knots)) * (n + 2) + (knots - 1) * n * (3 * n + 6)
            knots += (knots - 1) * n
    return ops


def packed_counts_supported(widths: Sequence[int]) -> bool:
    """Whether `packed_counts_1d` handles a network of these widths (d_in = 1, small
    unrolled program, packed code fits in int32)."""
    widths = tuple(int(w) for w in widths)
    code_max = int(np.prod([(n + 1) ** 2 for n in widths[1:]], dtype=object))
    return (
        len(widths) >= 2
        and widths[0] == 1
        and code_max <= 2**31 - 1
        and _unrolled_ops(widths) <= MAX_UNROLLED_OPS
    )


def packed_counts_1d(params: Sequence[LayerParams], r: float) -> Int[Array, " *batch"]:
    r"""Exact state counts of every hidden layer, packed into one int32 per network.

    **Arguments:** `params`: hidden layers `[(W1, b1), ..., (W_{L-1}, b_{L-1})]` in
    batch-last form (`W_t` of shape `(n_t, n_{t-1}, *batch)`, `W1` with `n_0 = 1`); `r`:
    radius of $[-r, r]$.

    **Returns:** int32 codes of shape `batch`; `unpack_counts(code, widths)` gives the
    `state_counts(neuron_states_1d(params, r))` of each network.
    """
    _check_params(params)
    widths = (1,) + tuple(w.shape[0] for w, _ in params)
    if params[0][0].shape[1] != 1 or not packed_counts_supported(widths):
        raise ValueError(
            f"packed_counts_1d needs d_in = 1 and a small network; got widths {widths}. "
            "Use state_counts(neuron_states_1d(params, r))."
        )
    dtype = jnp.result_type(params[0][0].dtype, float)
    batch = params[0][0].shape[2:]
    # Knots K_0 = {-r, r}; h[k][i] is the input i of the current layer at knot k.
    knots = [jnp.full(batch, -r, dtype), jnp.full(batch, r, dtype)]
    h = [[knots[0]], [knots[1]]]
    code = jnp.zeros(batch, jnp.int32)
    stride = 1
    for t, (w, b) in enumerate(params):
        n_out, n_in = w.shape[:2]
        wl = [[w[j, i] for i in range(n_in)] for j in range(n_out)]
        bl = [b[j] for j in range(n_out)]
        # z = b + sum_i h_i w_i in the order of `_affine`: bit-identical values, so a
        # constant neuron has exactly equal values at all knots.
        z = []
        for hk in h:
            row = []
            for j in range(n_out):
                acc = bl[j]
                for i in range(n_in):
                    acc = acc + hk[i] * wl[j][i]
                row.append(acc)
            z.append(row)
        n_active = jnp.zeros(batch, jnp.int32)
        n_tentative = jnp.zeros(batch, jnp.int32)
        layer_dead = []
        for j in range(n_out):
            a = [jnp.maximum(zk[j], 0) for zk in z]
            dead = functools.reduce(jnp.maximum, a) == functools.reduce(jnp.minimum, a)
            if t > 0:  # fed only by dead (constant) neurons: constant (`_inputs_constant`)
                dead = dead | functools.reduce(
                    jnp.logical_and, [prev_dead[i] | (wl[j][i] == 0) for i in range(n_in)]
                )
            layer_dead.append(dead)
            n_active = n_active + (~dead).astype(jnp.int32)
            if t > 0:  # first layer: every dead neuron is permanently dead (Lemma 1)
                perm = functools.reduce(jnp.logical_and, [x <= 0 for x in wl[j]], bl[j] <= 0)
                n_tentative = n_tentative + (dead & ~perm).astype(jnp.int32)
        prev_dead = layer_dead
        code = code + (n_active + (n_out + 1) * n_tentative) * stride
        stride *= (n_out + 1) ** 2
        if t == len(params) - 1:
            break
        # Sort the knots, carrying the rows of z, with the network of `_sort_rows`.
        xs, zs = list(knots), [list(row) for row in z]
        for i, k in _batcher_pairs(len(xs)):
            swap = xs[i] > xs[k]
            xs[i], xs[k] = jnp.minimum(xs[i], xs[k]), jnp.maximum(xs[i], xs[k])
            zs[i], zs[k] = (
                [jnp.where(swap, v, u) for u, v in zip(zs[i], zs[k])],
                [jnp.where(swap, u, v) for u, v in zip(zs[i], zs[k])],
            )
        last_sort = t == len(params) - 2  # the next layer's knots are never sorted
        new_x, new_h = [], []
        for s in range(len(xs) - 1):
            za, zb = zs[s], zs[s + 1]
            dx = xs[s + 1] - xs[s]
            for j in range(n_out):
                cross = (za[j] > 0) != (zb[j] > 0)
                lam = jnp.where(cross, za[j] / jnp.where(cross, za[j] - zb[j], 1.0), 0.0)
                if not last_sort:
                    new_x.append(xs[s] + lam * dx)
                row = [za[i] + lam * (zb[i] - za[i]) for i in range(n_out)]
                row[j] = jnp.where(cross, 0.0, row[j])
                new_h.append([jnp.maximum(v, 0) for v in row])
        knots = xs + new_x
        h = [[jnp.maximum(v, 0) for v in row] for row in zs] + new_h
    return code


def unpack_counts(code: np.ndarray, widths: Sequence[int]) -> Int[np.ndarray, "*batch L 3"]:
    """Decode `packed_counts_1d` codes into `[#active, #tentatively dead, #permanently dead]`
    per hidden layer (NumPy, on the host): shape `(*batch, L, 3)`, int32."""
    code = np.asarray(code).astype(np.int64)
    out = []
    for n in widths[1:]:
        v = code % ((n + 1) ** 2)
        code = code // ((n + 1) ** 2)
        active, tentative = v % (n + 1), v // (n + 1)
        out.append(np.stack([active, tentative, n - active - tentative], axis=-1))
    return np.stack(out, axis=-2).astype(np.int32)
