"""Evaluate a pointwise model on many sample points: vmapped, chunked, optionally sharded."""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._checks import as_float_array, check_ndim, check_nonempty, require_positive_int
from .._custom_types import Sharding


def _shard(x, sharding):
    return x if sharding is None else jax.lax.with_sharding_constraint(x, sharding)


@eqx.filter_jit
def evaluate_samples(
    model: Callable[[Float[Array, " d"]], Float[Array, "*out"]],
    samples: Float[ArrayLike, "rows d"],
    *,
    chunk_size: int | None = None,
    sharding: Sharding | None = None,
) -> Float[Array, "rows *out"]:
    r"""`model` at every row of `samples`: `jax.vmap(model)(samples)`, in chunks if asked.

    The model is written for **one** input point (`(d,) -> array of any shape`, e.g. a time
    series) and batched here in one place (DESIGN rule 4). With `chunk_size`, the rows are
    processed `chunk_size` at a time by `lax.map` (peak memory of one chunk instead of all
    rows); the last chunk is padded by repeating the last row, and the padding is dropped.
    With `sharding` (e.g. `NamedSharding(mesh, PartitionSpec("x"))`), every chunk (or the
    whole batch) is laid out by it along the sample axis, so the evaluations are spread
    over its devices; `chunk_size` is rounded up to a multiple of its device count.

    **Arguments:**

    - `model`: callable or `eqx.Module`, one point `(d,)` to an output array.
    - `samples`: shape `(rows, d)` (e.g. from `saltelli_sample`).
    - `chunk_size`: optional static int, rows per chunk.
    - `sharding`: optional `jax.sharding.Sharding` for the sample axis.

    **Returns:** shape `(rows, *out)`.

    **Raises:** `ValueError` (trace time) for `samples` that are not a non-empty matrix or a
    `chunk_size` that is not a positive int; `TypeError` for a `model` that is not callable
    or a `sharding` that is not a `jax.sharding.Sharding`.
    """
    if not callable(model):
        raise TypeError(f"`model` must be callable (one point (d,) -> output), got {model!r:.60}.")
    samples = check_ndim(as_float_array(samples, "samples"), "samples", 2, "(rows, d)")
    check_nonempty(samples, "samples", what="sample points (rows)")
    if sharding is not None and not isinstance(sharding, jax.sharding.Sharding):
        raise TypeError(
            f"`sharding` must be a jax.sharding.Sharding (e.g. NamedSharding(mesh, "
            f"PartitionSpec('x'))) or None, got {type(sharding).__name__}."
        )
    batched = jax.vmap(model)
    rows = samples.shape[0]
    if chunk_size is None:
        return batched(_shard(samples, sharding))
    chunk = require_positive_int(chunk_size, "chunk_size")
    if sharding is not None:
        ndev = len(sharding.device_set)
        chunk = -(-chunk // ndev) * ndev
    chunk = min(chunk, rows) if sharding is None else chunk
    num = -(-rows // chunk)
    pad = num * chunk - rows
    padded = jnp.concatenate([samples, jnp.repeat(samples[-1:], pad, axis=0)]) if pad else samples
    out = jax.lax.map(
        lambda xc: batched(_shard(xc, sharding)), padded.reshape(num, chunk, samples.shape[1])
    )
    out = jax.tree_util.tree_map(lambda o: o.reshape(num * chunk, *o.shape[2:])[:rows], out)
    return out
