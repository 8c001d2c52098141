r"""Causal training for time-dependent PINNs (Wang, Sankaran & Perdikaris 2024, "Respecting
causality", CMAME 421, eqs. 2.11-2.12; jaxpi, Wang et al. 2023 arXiv 2308.08468 eq. 4.7):
split $[t_0, t_1]$ into $M$ chunks with residual losses $L_r^i$ and weight

$$w_i = \exp\Big(-\epsilon \sum_{k < i} L_r^k\Big),\qquad
L_r = \frac{1}{M}\sum_{i} w_i L_r^i,$$

with the weights held constant (no gradient), so a later time is fitted only once the
earlier residuals are small.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_value
from ._loss import PINNArgs, weighted_sum
from ._problems import AbstractPDEProblem
from ._validate import count, finite_array


def _epsilon(epsilon):
    e = jnp.asarray(epsilon)
    if e.ndim != 0:
        raise ValueError(f"`epsilon` (the causality parameter) must be a scalar, got shape "
                         f"{e.shape}.")
    return check_value(e, ~(jnp.isfinite(e) & (e >= 0)),
                       "`epsilon` (the causality parameter) must be finite and >= 0 "
                       "(0 switches causal weighting off).")


def causal_weights(
    chunk_losses: Float[Array, " m"], epsilon: ArrayLike
) -> Float[Array, " m"]:
    r"""$w_i = \exp(-\epsilon\sum_{k<i} L^k)$ (Wang, Sankaran & Perdikaris 2024, eq. 2.12),
    under `stop_gradient`: $w_0 = 1$, non-increasing in $i$ for non-negative losses, all 1
    when the earlier losses vanish.

    **Raises:** `ValueError` if `chunk_losses` is not a non-empty 1-D array or `epsilon`
    not a scalar; `ValueError` / `EquinoxRuntimeError` for `epsilon` < 0 or non-finite.
    """
    losses = jnp.asarray(chunk_losses)
    if losses.ndim != 1 or losses.shape[0] == 0:
        raise ValueError(f"`chunk_losses` must be a non-empty 1-D array (one loss per time "
                         f"chunk), got shape {losses.shape}.")
    eps = _epsilon(epsilon).astype(losses.dtype)
    before = jnp.cumsum(losses) - losses
    return jax.lax.stop_gradient(jnp.exp(-eps * before))


def causal_residual_loss(
    model: Callable,
    problem,
    points: Float[Array, "n d"],
    *,
    epsilon: ArrayLike,
    n_chunks: int,
    time_axis: int = -1,
) -> tuple[Float[Array, ""], Float[Array, " m"]]:
    r"""Causally weighted residual loss $\frac1M\sum_i w_i L_r^i$ (eq. 2.11) and the weights.

    The points are binned into `n_chunks` equal time intervals of `problem.domain`
    (coordinate `time_axis`, default the last); $L_r^i$ is the mean squared residual of
    chunk $i$ (0 for an empty chunk). Points spread over all chunks (a time grid or
    stratified samples) give the method of the paper.

    **Returns:** `(loss, weights)`; `weights[-1]` is the usual convergence monitor
    (jaxpi raises $\epsilon$ once it exceeds 0.99).

    **Raises:** `TypeError` for a `problem` that is not an `AbstractPDEProblem`;
    `ValueError` for `points` not a non-empty `(n, d)` array, a non-int or
    non-positive `n_chunks`, a `time_axis` outside the point dimension; as
    `causal_weights` for `epsilon`; NaN/inf points (`ValueError` / `EquinoxRuntimeError`).
    """
    if not isinstance(problem, AbstractPDEProblem):
        raise TypeError(f"`problem` must be an AbstractPDEProblem, got {type(problem).__name__}.")
    if not hasattr(points, "ndim") or points.ndim != 2 or points.shape[0] == 0:
        raise ValueError(f"`points` must be a non-empty (n, d) array of residual points, got "
                         f"shape {getattr(points, 'shape', type(points))}.")
    n_chunks = count(n_chunks, "n_chunks", what="the number of time chunks")
    d = points.shape[1]
    if isinstance(time_axis, bool) or not isinstance(time_axis, int) or not -d <= time_axis < d:
        raise ValueError(f"`time_axis` must be an int index into the {d} point coordinates, "
                         f"got {time_axis!r}.")
    points = finite_array(points, "points", "drop or fix those points.")
    t0 = problem.domain.lower[time_axis].astype(points.dtype)
    t1 = problem.domain.upper[time_axis].astype(points.dtype)
    idx = jnp.clip(jnp.floor((points[:, time_axis] - t0) / (t1 - t0) * n_chunks), 0,
                   n_chunks - 1).astype(jnp.int32)
    r2 = problem.residuals(model, points) ** 2
    sums = jax.ops.segment_sum(r2, idx, num_segments=n_chunks)
    counts = jax.ops.segment_sum(jnp.ones_like(r2), idx, num_segments=n_chunks)
    chunk = sums / jnp.maximum(counts, 1)
    w = causal_weights(chunk, epsilon)
    return jnp.mean(w * chunk), w


def causal_pinn_loss(
    model: Callable, args: PINNArgs, *, epsilon: ArrayLike, n_chunks: int,
    time_axis: int = -1,
) -> tuple[Float[Array, ""], dict]:
    r"""`pinn_loss` with the `"pde"` term replaced by `causal_residual_loss`: the `loss_fn`
    of `jaxsci.train.fit` via `functools.partial(causal_pinn_loss, epsilon=1.0,
    n_chunks=32)`. The terms also carry `"causal_min_weight"` (`weights[-1]`, not part of
    the loss).

    **Raises:** `TypeError` if `args` is not a `PINNArgs`; as `causal_residual_loss`.
    """
    if not isinstance(args, PINNArgs):
        raise TypeError(f"`args` must be a PINNArgs, got {type(args).__name__}.")
    pde, w = causal_residual_loss(model, args.problem, args.batch.interior, epsilon=epsilon,
                                  n_chunks=n_chunks, time_axis=time_axis)
    terms = {"pde": pde}
    for nm, (pts, vals) in args.batch.data.items():
        pred = jax.vmap(lambda x: jnp.reshape(model(x), ()))(pts)
        terms[nm] = jnp.mean((pred - vals) ** 2)
    total = weighted_sum(terms, args.weights)
    return total, {**terms, "causal_min_weight": w[-1]}
