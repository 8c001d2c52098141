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

from .._misc import progress as progress_iter
from ..init import AbstractReLUInit, per_layer_schemes, sample_relu_params
from ._counts1d import packed_counts_1d, packed_counts_supported, unpack_counts
from ._states import neuron_states_1d, neuron_states_sampled, state_counts

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
            states = neuron_states_1d(params, r)
        else:
            states = neuron_states_sampled(params, x, r)
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
    """
    widths = tuple(int(w) for w in widths)
    if len(widths) < 2:
        raise ValueError(f"`widths` needs the input width and >= 1 hidden width, got {widths}.")
    schemes = tuple(per_layer_schemes(schemes, len(widths) - 1, "schemes"))
    if x is None and widths[0] != 1:
        raise ValueError(
            f"d_in = {widths[0]} > 1: pass sample points `x` of B_r(0) (see sample_ball)."
        )
    if num < 1 or chunk_size < 1:
        raise ValueError(f"`num` and `chunk_size` must be positive, got {num}, {chunk_size}.")
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


def active_distribution(
    active: Int[np.ndarray, " N"], n: int
) -> tuple[Float[np.ndarray, " n+1"], Float[np.ndarray, " n+1"]]:
    r"""Empirical $\pi_t$: $\Pr(m_t = i)$, $i = 0..n$, and its standard errors
    $\sqrt{\pi(1-\pi)/N}$."""
    active = np.asarray(active)
    pi = np.bincount(active, minlength=n + 1)[: n + 1] / active.size
    return pi, np.sqrt(pi * (1 - pi) / active.size)


def transition_matrix(
    prev: Int[np.ndarray, " N"], cur: Int[np.ndarray, " N"], n_prev: int, n_cur: int
) -> tuple[Float[np.ndarray, "n_prev+1 n_cur+1"], Int[np.ndarray, " n_prev+1"]]:
    r"""Empirical stochastic matrix $P_t$ of Lemma 4,
    $(P_t)_{i+1, j+1} = \#\{m_{t-1} = i, m_t = j\} / \#\{m_{t-1} = i\}$; rows never observed
    are left zero. Returns `(P, row_counts)`."""
    prev, cur = np.asarray(prev), np.asarray(cur)
    joint = np.zeros((n_prev + 1, n_cur + 1))
    np.add.at(joint, (prev, cur), 1.0)
    rows = joint.sum(axis=1)
    return joint / np.maximum(rows, 1)[:, None], rows.astype(np.int64)


def empirical_trainability(
    counts: Int[np.ndarray, "N L 3"], widths: Sequence[int], m: Sequence[int]
) -> tuple[float, float]:
    r"""Fraction of networks that are trainable for required active counts
    $\underline m_t$ (Lemma 8): $m_t \ge 1$ and #permanently dead $\le n_t - \underline m_t$
    in every hidden layer. Returns `(estimate, standard error)`."""
    counts = np.asarray(counts)
    n = np.asarray(widths[1:])
    m = np.asarray(m)
    if m.shape != n.shape or counts.shape[1:] != (n.size, 3):
        raise ValueError(
            f"`m` needs one entry per hidden layer ({n.size}); got {m.tolist()} with counts "
            f"{counts.shape}."
        )
    ok = np.all((counts[:, :, 0] >= 1) & (counts[:, :, 2] <= n - m), axis=1)
    p = float(ok.mean())
    return p, float(np.sqrt(p * (1 - p) / ok.size))


def born_dead_fraction(counts: Int[np.ndarray, "N L 3"]) -> tuple[float, float]:
    """Fraction of born-dead networks (some hidden layer with no active neuron, Lu et al.
    2019) and its standard error."""
    bd = np.any(np.asarray(counts)[:, :, 0] == 0, axis=1)
    p = float(bd.mean())
    return p, float(np.sqrt(p * (1 - p) / bd.size))
