r"""Batched statistics of neuron states over many random initialisations.

Shin & Karniadakis (2020), Appendix E / F: the distributions $\pi_t$ of the number $m_t$ of
active neurons per hidden layer (Lemma 4), the empirical stochastic matrices $P_t$ with
$(P_t)_{i+1, j+1} = \Pr(m_t = j \mid m_{t-1} = i)$, and the empirical trainability
(Definition 3 / Lemma 8: $m_t \ge 1$ and at most $n_t - \underline m_t$ permanently dead
neurons in every hidden layer).

`init_statistics` draws `num` networks in chunks (chunk $c$ from `jax.random.fold_in(key, c)`,
batch-last), classifies every hidden neuron, and returns the per-layer counts. A Python loop
(with optional progress display) dispatches one jitted function per chunk that samples and
classifies; for $d_\text{in} = 1$ and small networks the classification is the packed kernel
of `_counts1d` (one fused elementwise loop, one int32 per network back to the host), otherwise
`state_counts(neuron_states_1d(...))` or the sampled variant. With `sharding` (e.g. a
`NamedSharding` over a 1-D `Mesh` of all devices, partitioning axis 0) each chunk is laid out
across devices and XLA's SPMD partitioner spreads the work. The result depends only on the
key and `chunk_size`, so it is identical on one or many devices.
"""

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .._checks import check_value, is_concrete
from .._misc import progress as progress_iter
from ..init import AbstractReLUInit, per_layer_schemes, sample_relu_params
from ._counts1d import packed_counts_1d, packed_counts_supported, unpack_counts
from ._states import (
    _neuron_states_1d,
    _neuron_states_sampled,
    check_points,
    check_radius,
    state_counts,
)

__all__ = [
    "init_statistics",
    "active_distribution",
    "transition_matrix",
    "empirical_trainability",
    "born_dead_fraction",
]


def _chunk_fn(widths, schemes, r, dtype, x, chunk, sharding):
    if x is None:
        return _chunk_fn_cached(widths, schemes, r, jnp.dtype(dtype), chunk, sharding)
    return _build_chunk_fn(widths, schemes, r, dtype, x, chunk, sharding)


@functools.lru_cache(maxsize=32)
def _chunk_fn_cached(widths, schemes, r, dtype, chunk, sharding):
    # d_in = 1 sweeps are re-run with the same configuration (benchmarks, examples): keep
    # the compiled function.
    return _build_chunk_fn(widths, schemes, r, dtype, None, chunk, sharding)


def _build_chunk_fn(widths, schemes, r, dtype, x, chunk, sharding):
    if sharding is not None:
        spec = sharding.spec
        axis = spec[0] if len(spec) else None

        def constrain(a):
            pspec = jax.sharding.PartitionSpec(*([None] * (a.ndim - 1)), axis)
            return jax.lax.with_sharding_constraint(
                a, jax.sharding.NamedSharding(sharding.mesh, pspec)
            )
    else:

        def constrain(a):
            return a

    packed = x is None and packed_counts_supported(widths)

    def run(key, c):
        params = sample_relu_params(jax.random.fold_in(key, c), widths, schemes, dtype, (chunk,))
        params = jax.tree_util.tree_map(constrain, params)
        if packed:
            return constrain(packed_counts_1d(params, r))  # (chunk,) int32 codes
        if x is None:
            states = _neuron_states_1d(params, r)
        else:
            states = _neuron_states_sampled(params, x, r)
        return constrain(state_counts(states))  # (L, 3, chunk)

    return jax.jit(run), packed


def _to_host(a: jax.Array) -> np.ndarray:
    """NumPy copy of `a`; over several processes (`jax.distributed`), the chunk is split
    across hosts, so each process gathers the whole of it."""
    if a.is_fully_addressable:
        return np.asarray(a)
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(a, tiled=True))


def init_statistics(
    key: PRNGKeyArray,
    widths: Sequence[int],
    schemes: AbstractReLUInit | Sequence[AbstractReLUInit],
    *,
    num: int,
    r: float = 1.0,
    x: Float[Array, "k d"] | None = None,
    chunk_size: int = 131072,
    sharding: jax.sharding.NamedSharding | None = None,
    dtype: Any = None,
    progress: bool = False,
) -> Int[np.ndarray, "num L 3"]:
    r"""Neuron-state counts of `num` random initialisations.

    **Arguments:**

    - `key`: PRNG key; chunk $c$ of networks is drawn from `jax.random.fold_in(key, c)` in
      one batch-last call (`sample_relu_params(..., batch=(chunk_size,))`).
    - `widths`: $(n_0, n_1, \dots, n_{L-1})$, input and hidden widths (the linear output
      layer does not affect the states and is left out).
    - `schemes`: one `jaxsci.init` scheme for all hidden layers or one per hidden layer.
    - `num`: number of networks.
    - `r`: radius of the input ball $B_r(0)$.
    - `x`: sample points for $d_\text{in} > 1$ (`sample_ball`); `None` requires
      $d_\text{in} = 1$ and uses the exact kink-based classification.
    - `chunk_size`: networks per jitted call (the last chunk is computed in full and
      truncated, so results depend on `chunk_size` but not on the devices). On CPU, chunks
      whose parameters fit in cache are fastest: JAX lowers threefry to a rolled loop over
      whole arrays there, and chunks of $2^{14}$-$2^{15}$ networks of widths (1, 6, 4, 2)
      sample and classify about 2x faster per network than the default $2^{17}$
      (`docs/benchmarks.md`).
    - `sharding`: optional `NamedSharding(mesh, PartitionSpec(axis))` saying how the network
      axis is split over devices; `chunk_size` must then be a multiple of the axis size. The
      counter-based PRNG (`jax_threefry_partitionable`, default on) makes the draws, hence
      the result, independent of the layout. Over several processes (`jax.distributed`,
      a mesh of all processes' devices) every process gets the whole result.
    - `dtype`: parameter dtype (default: JAX's default float).
    - `progress`: show a progress display over chunks (tqdm when installed).

    **Returns:** NumPy int array of shape `(num, L-1, 3)`: per network and hidden layer,
    `[#active, #tentatively dead, #permanently dead]`.

    **Raises:** `ValueError` / `TypeError` at once for widths that are not positive ints,
    `num` or `chunk_size` not positive ints, `r` not finite and > 0, `x` of the wrong shape,
    empty, non-finite or outside $B_r(0)$, or a `chunk_size` not divisible by the devices of
    `sharding`.
    """
    try:
        widths = tuple(widths)
    except TypeError:
        raise TypeError(f"`widths` must be a sequence of ints, got {widths!r}.") from None
    if not all(isinstance(w, (int, np.integer)) and not isinstance(w, bool) and w >= 1
               for w in widths):
        raise ValueError(f"`widths` must be positive ints, got {widths}.")
    widths = tuple(int(w) for w in widths)
    if len(widths) < 2:
        raise ValueError(f"`widths` needs the input width and >= 1 hidden width, got {widths}.")
    schemes = tuple(per_layer_schemes(schemes, len(widths) - 1, "schemes"))
    if x is None and widths[0] != 1:
        raise ValueError(
            f"d_in = {widths[0]} > 1: pass sample points `x` of B_r(0) (see sample_ball)."
        )
    for name, v in (("num", num), ("chunk_size", chunk_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"`{name}` must be a positive int, got {v!r}.")
    if not is_concrete(r):
        raise TypeError("`r` must be a concrete number (it is compiled into the sweep), not traced.")
    check_radius(r)
    if x is not None:
        x = jnp.asarray(x)
        if x.ndim != 2 or x.shape[1] != widths[0] or x.shape[0] == 0:
            raise ValueError(
                f"`x` must be a non-empty (k, {widths[0]}) array of points of B_r(0), got shape "
                f"{x.shape}."
            )
        check_points(x, float(r))
    if dtype is None:
        dtype = jnp.result_type(float)
    chunk = min(chunk_size, num)
    if sharding is not None:
        if not isinstance(sharding, jax.sharding.NamedSharding):
            raise TypeError(f"`sharding` must be a NamedSharding, got {type(sharding).__name__}.")
        ndev = len(sharding.device_set)
        if chunk % ndev:
            raise ValueError(
                f"`chunk_size` ({chunk}) must be a multiple of the {ndev} devices of `sharding`."
            )
    fn, packed = _chunk_fn(widths, schemes, float(r), dtype, x, chunk, sharding)
    nchunks = -(-num // chunk)
    it = progress_iter(range(nchunks), desc="initialisations", unit="chunk", enabled=progress)
    # All chunks are dispatched before the first result is read back (JAX's asynchronous
    # dispatch overlaps the host loop with the computation).
    outs = [fn(key, np.int32(i)) for i in it]
    if packed:
        return unpack_counts(np.concatenate([_to_host(o) for o in outs])[:num], widths)
    return np.concatenate([np.moveaxis(_to_host(o), -1, 0) for o in outs])[:num]


def _check_count_int(n, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"`{name}` must be a non-negative int (a layer width), got {n!r}.")
    return int(n)


def _check_counts(a, name: str, n: int):
    """`a`: a non-empty 1-D integer array with entries in 0..n. NumPy when concrete,
    `eqx.error_if` when traced (then the result is computed with `jnp`)."""
    concrete = is_concrete(a)
    a = np.asarray(a) if concrete else jnp.asarray(a)
    if a.ndim != 1 or a.shape[0] == 0:
        raise ValueError(f"`{name}` must be a non-empty 1-D array of counts, got shape {a.shape}.")
    if not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"`{name}` must hold integer counts, got dtype {a.dtype}.")
    msg = (f"`{name}` must hold counts in 0..{n} (the layer width); some are outside: pass the "
           "matching width, or the active counts `counts[:, t, 0]` of `init_statistics`.")
    bad = (a < 0) | (a > n)
    if concrete:
        if np.any(bad):
            raise ValueError(msg + f" Got min {a.min()}, max {a.max()}.")
        return a
    return check_value(a, bad, msg)


def active_distribution(
    active: Int[np.ndarray, " N"], n: int
) -> tuple[Float[np.ndarray, " n+1"], Float[np.ndarray, " n+1"]]:
    r"""Empirical $\pi_t$: $\Pr(m_t = i)$, $i = 0..n$, and its standard errors
    $\sqrt{\pi(1-\pi)/N}$.

    NumPy arrays in, NumPy out; traced (`jit`/`vmap`) JAX arrays give JAX arrays.

    **Raises:** `ValueError` if `n` is not a non-negative int or `active` not a non-empty
    1-D array; `TypeError` for non-integer counts; `ValueError` (concrete) /
    `EquinoxRuntimeError` (traced) for counts outside `0..n` (they would be dropped and
    the distribution would not sum to 1).
    """
    n = _check_count_int(n, "n")
    active = _check_counts(active, "active", n)
    if isinstance(active, np.ndarray):
        pi = np.bincount(active, minlength=n + 1)[: n + 1] / active.size
        return pi, np.sqrt(pi * (1 - pi) / active.size)
    pi = jnp.bincount(active, length=n + 1) / active.size
    return pi, jnp.sqrt(pi * (1 - pi) / active.size)


def transition_matrix(
    prev: Int[np.ndarray, " N"], cur: Int[np.ndarray, " N"], n_prev: int, n_cur: int
) -> tuple[Float[np.ndarray, "n_prev+1 n_cur+1"], Int[np.ndarray, " n_prev+1"]]:
    r"""Empirical stochastic matrix $P_t$ of Lemma 4,
    $(P_t)_{i+1, j+1} = \#\{m_{t-1} = i, m_t = j\} / \#\{m_{t-1} = i\}$; rows never observed
    are left zero. Returns `(P, row_counts)` (NumPy; JAX arrays for traced input).

    **Raises:** as `active_distribution`, for `prev` (in `0..n_prev`) and `cur` (in
    `0..n_cur`), and `ValueError` if they differ in length."""
    n_prev, n_cur = _check_count_int(n_prev, "n_prev"), _check_count_int(n_cur, "n_cur")
    prev, cur = _check_counts(prev, "prev", n_prev), _check_counts(cur, "cur", n_cur)
    if prev.shape != cur.shape:
        raise ValueError(
            f"`prev` and `cur` must be counts of the same networks, got shapes {prev.shape} and "
            f"{cur.shape}."
        )
    if isinstance(prev, np.ndarray) and isinstance(cur, np.ndarray):
        joint = np.zeros((n_prev + 1, n_cur + 1))
        np.add.at(joint, (prev, cur), 1.0)
        rows = joint.sum(axis=1)
        return joint / np.maximum(rows, 1)[:, None], rows.astype(np.int64)
    joint = jnp.zeros((n_prev + 1, n_cur + 1)).at[prev, cur].add(1.0)
    rows = joint.sum(axis=1)
    return joint / jnp.maximum(rows, 1)[:, None], rows.astype(jnp.int32)


def _host_counts(counts, name: str = "counts") -> np.ndarray:
    if not is_concrete(counts):
        raise TypeError(
            f"`{name}` must be concrete (a NumPy array from `init_statistics`): this summary "
            "runs on the host and returns Python floats; call it outside jit/vmap."
        )
    counts = np.asarray(counts)
    if counts.ndim != 3 or counts.shape[0] == 0 or counts.shape[2] != 3:
        raise ValueError(
            f"`{name}` must be a non-empty (N, L, 3) array of state counts (`init_statistics`), "
            f"got shape {counts.shape}."
        )
    if not np.issubdtype(counts.dtype, np.integer) or np.any(counts < 0):
        raise ValueError(f"`{name}` must hold non-negative integer counts.")
    return counts


def empirical_trainability(
    counts: Int[np.ndarray, "N L 3"], widths: Sequence[int], m: Sequence[int]
) -> tuple[float, float]:
    r"""Fraction of networks that are trainable for required active counts
    $\underline m_t$ (Lemma 8): $m_t \ge 1$ and #permanently dead $\le n_t - \underline m_t$
    in every hidden layer. Returns `(estimate, standard error)`.

    **Raises:** `ValueError` for `counts` that are not a non-empty `(N, L, 3)` integer
    array whose rows sum to the hidden `widths`, or `m` not one int in `0..n_t` per hidden
    layer; `TypeError` for traced `counts` (a host-side summary)."""
    counts = _host_counts(counts)
    n = np.asarray(widths[1:])
    m = np.asarray(m)
    if m.shape != n.shape or counts.shape[1:] != (n.size, 3):
        raise ValueError(
            f"`m` needs one entry per hidden layer ({n.size}); got {m.tolist()} with counts "
            f"{counts.shape}."
        )
    if not np.issubdtype(m.dtype, np.integer) or np.any(m < 0) or np.any(m > n):
        raise ValueError(f"`m` must hold ints in 0..n_t (widths {n.tolist()}), got {m.tolist()}.")
    if np.any(counts.sum(axis=2) != n):
        raise ValueError(
            f"`counts` rows must sum to the hidden widths {n.tolist()}: pass the `widths` the "
            "counts were computed for."
        )
    ok = np.all((counts[:, :, 0] >= 1) & (counts[:, :, 2] <= n - m), axis=1)
    p = float(ok.mean())
    return p, float(np.sqrt(p * (1 - p) / ok.size))


def born_dead_fraction(counts: Int[np.ndarray, "N L 3"]) -> tuple[float, float]:
    """Fraction of born-dead networks (some hidden layer with no active neuron, Lu et al.
    2019) and its standard error.

    **Raises:** `ValueError` for `counts` that are not a non-empty `(N, L, 3)` array of
    non-negative integers; `TypeError` for traced `counts`."""
    counts = _host_counts(counts)
    bd = np.any(counts[:, :, 0] == 0, axis=1)
    p = float(bd.mean())
    return p, float(np.sqrt(p * (1 - p) / bd.size))
