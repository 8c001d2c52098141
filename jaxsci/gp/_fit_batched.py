r"""`fit_batched`: many independent GP fits (same kernel family) in one pooled, jitted call,
optionally one pool per device through `jax.sharding` (Frankel et al., eq. 12, for a batch
of datasets). The pool and the objective are those of `jaxsci.gp._fit`."""

import math
from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import ArrayLike, Float, Int, PRNGKeyArray

from .._checks import as_float_array, check_finite, check_nonempty
from .._solution import Solution, raise_if_failed
from ..kernels import AbstractKernel
from ._checks import DEFAULT_NOISE
from ._noise import Noise
from ._fit import _fit_many, _validate
from ._pool_size import _check_batch_size


@eqx.filter_jit
def _fit_batched(kernel, X, y, which, noise, keys, num_restarts, prior_box, max_steps, gtol, ftol, jitter, batch_size, bounded, throw, mesh_axis, noise_model=None, mean=None, normalize_y=False):
    def run(X_, y_, w_, k_):
        sols = _fit_many(
            kernel, X_, y_, w_, noise, k_, num_restarts, prior_box, max_steps, gtol, ftol, jitter, batch_size, bounded,
            noise_model, mean, normalize_y,
        )
        return jax.vmap(lambda s: raise_if_failed(s, throw))(sols)

    if mesh_axis is None:
        return run(X, y, which, keys)
    # one pool per device, on its own block of datasets (no cross-device gathers)
    mesh, axis = mesh_axis
    spec = jax.sharding.PartitionSpec(axis)
    return jax.shard_map(run, mesh=mesh, in_specs=(spec, spec, spec, spec), out_specs=spec, check_vma=False)(
        X, y, which, keys
    )



def fit_batched(
    kernel: AbstractKernel,
    X: Float[ArrayLike, "b n d"],
    y: Float[ArrayLike, "b n *p"],
    *,
    key: PRNGKeyArray,
    noise: float | Float[ArrayLike, "*n"] | Noise = DEFAULT_NOISE,
    which: Int[ArrayLike, "b n"] | None = None,
    mean: Callable | None = None,
    normalize_y: bool = False,
    num_restarts: int = 20,
    prior_box: tuple[float, float] = (1e-5, 1e5),
    max_steps: int = 200,
    gtol: float = 1e-5,
    ftol: float = 2.2e-9,
    jitter: float | None = None,
    bounded: bool = True,
    batch_size: int | None = None,
    sharding: jax.sharding.NamedSharding | None = None,
    throw: bool = True,
) -> Solution:
    r"""Fit `b` independent GPs (same kernel family and start) in one batched call.

    Equivalent to a loop of `fit(kernel, X[i], y[i], key=keys[i], ...)` with `keys =
    jr.split(key, b)`, but all `b * num_restarts` L-BFGS runs share one pool inside one
    `jit`: `batch_size` slots (default `default_batch_size(b * num_restarts, n)`: 128 for n = 50) are evaluated together
    per iteration, and a slot whose start has finished takes the next queued start (of any
    dataset), so the batch stays full and nobody waits for the slowest start.
    `sharding`: an optional `jax.sharding.NamedSharding` for the leading (dataset) axis
    (e.g. `NamedSharding(mesh, P("data"))`): the datasets are split into one block per
    device (`b` must be divisible by the number of devices), each device running its own
    pool (`jax.shard_map`); on several CPU devices too (`jax_num_cpu_devices`: jaxlib
    0.10's CPU deadlock there is fixed upstream, docs/gp.md#xla-cpu-deadlock). `vmap`ping
    `fit` over datasets also pools all their starts (a `custom_vmap` rule), so `jax.vmap(gp.fit)` and `fit_batched` cost the same.

    `noise` (a float, an `(n,)` array shared by the datasets, or a `gp.Noise` whose
    variance is learned per dataset), `mean` and `normalize_y` as in `fit` (the
    normalisation statistics are computed per dataset).

    **Returns:** a `Solution` whose every leaf has a leading axis `b` (`value`: the `b`
    posteriors, `value.kernel` their kernels, `value.noise_model` / `value.mean` their
    fitted noise and mean).

    **Raises:** as `fit`, and `ValueError` for `X`/`y`/`which` not `(b, n, ...)`, `b = 0`,
    `key=None`, or `b` not divisible by the devices of `sharding`.
    """
    X = jnp.asarray(X)
    y = jnp.asarray(y)
    if X.ndim != 3 or y.ndim not in (2, 3) or y.shape[:2] != X.shape[:2]:
        raise ValueError(
            "`X` must have shape (b, n, d) and `y` shape (b, n) or (b, n, p), got shapes "
            f"{X.shape} and {y.shape}."
        )
    if which is not None:
        which = jnp.asarray(which)
        if which.shape != X.shape[:2]:
            raise ValueError(f"`which` must have shape (b, n) = {X.shape[:2]}, got {which.shape}.")
    if key is None:
        raise ValueError(
            "`fit_batched` needs a PRNG `key` for its random starts, e.g. key=jax.random.key(0). "
            "To condition each dataset on its given kernel without optimising, use "
            "`jax.vmap(lambda X, y: gp.fit(kernel, X, y, key=None))(X, y)`."
        )
    check_nonempty(X, "X", what="datasets (leading axis b)")
    kernel, _, _, _, noise_model, noise, mean, jitter = _validate(
        kernel, X[0], y[0], None if which is None else which[0], noise, num_restarts, prior_box,
        max_steps, gtol, ftol, jitter, mean, normalize_y,
    )
    X, y = as_float_array(X, "X"), as_float_array(y, "y")
    dtype = jnp.result_type(X.dtype, y.dtype)
    X = check_finite(X.astype(dtype), "X")
    y = check_finite(y.astype(dtype), "y")
    b = X.shape[0]
    keys = jr.split(key, b)
    mesh_axis = None
    if sharding is not None:
        spec = getattr(sharding, "spec", None)
        if not isinstance(sharding, jax.sharding.NamedSharding) or not spec or spec[0] is None:
            raise TypeError(
                "`sharding` must be a jax.sharding.NamedSharding that partitions the leading "
                f"(dataset) axis, e.g. NamedSharding(mesh, PartitionSpec('data')); got {sharding!r}."
            )
        mesh_axis = (sharding.mesh, spec[0])
        groups = sharding.mesh.shape[spec[0]] if isinstance(spec[0], str) else math.prod(sharding.mesh.shape[a] for a in spec[0])
        if b % groups:
            raise ValueError(
                f"With `sharding` over {groups} devices the number of datasets b = {b} must be "
                "divisible by the number of devices; pad the batch or use fewer devices."
            )
        X, y, keys = jax.device_put((X, y, keys), sharding)
        if which is not None:
            which = jax.device_put(which, sharding)
    _check_batch_size(batch_size, b * num_restarts, X.shape[1])
    return _fit_batched(
        kernel, X, y, which, noise, keys, num_restarts, prior_box, max_steps, gtol, ftol, jitter,
        batch_size, bounded, throw, mesh_axis, noise_model, mean, normalize_y,
    )
