r"""Morris designs: trajectories on the $p$-level grid (Morris 1991), Campolongo's trajectory
distance and the selection of the most spread-out trajectories (Campolongo, Cariboni &
Saltelli 2007; brute force, and the local heuristic of Ruano et al. 2012), in SALib 1.6's
layout (`SALib.sample.morris`). The analysis (mu, mu*, sigma) is in `_morris`.
"""

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from .._checks import as_float_array, check_key, check_ndim, check_nonempty
from ._bounds import affine, check_bounds, float_dtype, nonfinite, refuse_if, require_int_in


_HIGHEST = jax.lax.Precision.HIGHEST


_MAX_COMBINATIONS = 5_000_000


def _delta(num_levels: int) -> float:
    return num_levels / (2.0 * (num_levels - 1))


def _check_levels(num_levels: Any) -> int:
    p = require_int_in(num_levels, "num_levels", 2)
    if p % 2:
        raise ValueError(
            f"`num_levels` must be even (the step p / (2 (p - 1)) pairs every grid level with "
            f"another; an odd p biases the design), got {p}. Use 4, 6 or 8."
        )
    return p


def _group_labels(groups: Any, d: int) -> tuple[int, ...]:
    """Group index of each factor, groups numbered by first appearance (SALib's order)."""
    if groups is None:
        return tuple(range(d))
    if isinstance(groups, jax.core.Tracer):
        raise ValueError(
            "`groups` fixes the design's shape and must be concrete (a list of labels, one "
            "per factor), not a traced array."
        )
    labels = list(np.asarray(groups).tolist()) if hasattr(groups, "shape") else list(groups)
    if len(labels) != d:
        raise ValueError(
            f"`groups` must give one label per factor ({d}), got {len(labels)} labels."
        )
    first: dict[Any, int] = {}
    for lab in labels:
        first.setdefault(lab, len(first))
    return tuple(first[lab] for lab in labels)


def _trajectory(
    key: PRNGKeyArray, groups: tuple[int, ...], num_levels: int, dtype: jnp.dtype
) -> Float[Array, "k d"]:
    """One Morris trajectory $B^*$ (Morris 1991, eq. 4.1; SALib `_compute_b_star`)."""
    d, g = len(groups), max(groups) + 1
    delta = _delta(num_levels)
    k_x, k_s, k_p = jr.split(key, 3)
    grid = jnp.linspace(0.0, 1.0 - delta, num_levels // 2, dtype=dtype)
    x_star = grid[jr.randint(k_x, (d,), 0, num_levels // 2)]
    signs = jr.rademacher(k_s, (d,), dtype=dtype)
    rank = jr.permutation(k_p, g)[jnp.asarray(groups)]  # step at which each factor moves
    moved = (rank[None, :] < jnp.arange(g + 1)[:, None]).astype(dtype)  # (g + 1, d)
    return x_star[None, :] + 0.5 * delta * ((2.0 * moved - 1.0) * signs[None, :] + 1.0)


@eqx.filter_jit
def _trajectories(key, num_trajectories, groups, num_levels, dtype):
    keys = jr.split(key, num_trajectories)
    return jax.vmap(lambda k: _trajectory(k, groups, num_levels, dtype))(keys)


def morris_trajectories(
    key: PRNGKeyArray,
    num_vars: int,
    num_trajectories: int,
    num_levels: int = 4,
    *,
    groups: Sequence[Any] | None = None,
    dtype: Any = None,
) -> Float[Array, "n_traj k d"]:
    r"""Random one-factor-at-a-time trajectories on the unit-cube $p$-level grid.

    Trajectory $t$ is $B^* = J x^* + \tfrac{\Delta}{2}\big[(2B - J)D^* + J\big]$ (Morris
    1991, eq. 4.1, with groups: Campolongo et al. 2007, section 3): $x^*$ drawn uniformly
    from $\{0, \frac{1}{p-1}, \dots, 1 - \Delta\}$ ($p/2$ values), $\Delta = p/(2(p-1))$,
    $D^*$ random signs, the $g$ groups moving in a random order, each once by $\pm\Delta$.
    Every point lies on the grid in $[0, 1]^d$; $k = g + 1$ points per trajectory.

    **Arguments:**

    - `key`: a JAX PRNG key (the only source of randomness).
    - `num_vars`: the number of factors $d \ge 1$.
    - `num_trajectories`: $T \ge 1$ (candidates for `select_trajectories_*`, or the design).
    - `num_levels`: the even grid size $p \ge 2$ (SALib's `num_levels`, default 4).
    - `groups`: optional label per factor (`d` labels, any hashable values); factors of a
      group move together, groups numbered by first appearance (SALib's `problem["groups"]`).
    - `dtype`: floating dtype of the result (default: float64 under x64, else float32).

    **Returns:** shape `(T, g + 1, d)`, `g` the number of groups (`d` without groups).
    Reshape to `(T (g + 1), d)` rows for SALib's layout.

    **Raises:** `TypeError` for a non-key `key` or a non-int count; `ValueError` for a
    count below its minimum, an odd `num_levels` or `groups` of the wrong length.
    """
    check_key(key)
    d = require_int_in(num_vars, "num_vars", 1)
    n = require_int_in(num_trajectories, "num_trajectories", 1)
    p = _check_levels(num_levels)
    labels = _group_labels(groups, d)
    dt = jnp.dtype(dtype) if dtype is not None else float_dtype(None)
    if not jnp.issubdtype(dt, jnp.floating):
        raise TypeError(f"`dtype` must be a floating dtype, got {dt}.")
    return _trajectories(key, n, labels, p, dt)


def _check_trajectories(trajectories: Any) -> Float[Array, "n k d"]:
    t = as_float_array(trajectories, "trajectories")
    check_ndim(t, "trajectories", 3, "(n_traj, points per trajectory, d)")
    check_nonempty(t, "trajectories", 0, "trajectories")
    if t.shape[1] < 2 or t.shape[2] < 1:
        raise ValueError(
            f"`trajectories` must have shape (n_traj, k, d) with k >= 2 points and d >= 1 "
            f"factors, got {tuple(t.shape)}."
        )
    return refuse_if(
        t, nonfinite, "`trajectories` contain NaN or inf; give grid points in [0, 1]^d."
    )


def _pair_distance(a: Float[Array, "k d"], b: Float[Array, "k d"]) -> Float[Array, ""]:
    diff = a[:, None, :] - b[None, :, :]
    total = jnp.sum(jnp.sqrt(jnp.sum(diff * diff, axis=-1)))
    # SALib: a trajectory (or a duplicate of it) is at distance 0 from itself
    return jnp.where(jnp.all(a == b), jnp.zeros_like(total), total)


@jax.jit
def _distances(t):
    row = jax.vmap(_pair_distance, in_axes=(None, 0))
    return jax.lax.map(lambda a: row(a, t), t, batch_size=16)


def trajectory_distances(
    trajectories: Float[ArrayLike, "n_traj k d"],
) -> Float[Array, "n_traj n_traj"]:
    r"""Campolongo's distance $d_{ml} = \sum_{i=1}^{k}\sum_{j=1}^{k} \|X_i^{(m)} - X_j^{(l)}\|_2$.

    The spread between trajectories $m$ and $l$ (Campolongo et al. 2007, eq. 4; SALib
    `Strategy.compute_distance_matrix`, symmetric, zero on the diagonal). Vmapped over the
    columns, `lax.map`ped over the rows so memory stays $O(16\,n\,k^2 d)$.

    **Arguments:**

    - `trajectories`: `(n_traj, k, d)`, e.g. from `morris_trajectories`.

    **Returns:** the symmetric `(n_traj, n_traj)` matrix, dtype of `trajectories`.

    **Raises:** `ValueError` for a shape that is not `(n_traj, k >= 2, d)`, an empty set or
    NaN/inf entries.
    """
    return _distances(_check_trajectories(trajectories))


def _check_choices(r: Any, n: int) -> int:
    r = require_int_in(r, "num_choices", 2)
    if r >= n:
        raise ValueError(
            f"`num_choices` must be smaller than the number of candidate trajectories ({n}), "
            f"got {r}. Draw more candidates (SALib: N > optimal_trajectories)."
        )
    return r


@eqx.filter_jit
def _brute(t, combos, pairs):
    dist = _distances(t)

    def score(c):
        idx = c[pairs]  # (P, 2) candidate pairs of the subset
        dd = dist[idx[..., 1], idx[..., 0]]
        return jnp.sqrt(jnp.sum(dd * dd, axis=-1))

    scores = jax.lax.map(score, combos, batch_size=4096)
    return combos[jnp.argmax(scores)]


def select_trajectories_brute(
    trajectories: Float[ArrayLike, "n_traj k d"], num_choices: int
) -> Int[Array, " r"]:
    r"""The `num_choices` trajectories with the largest spread, by exhaustive search.

    Maximises $D(S) = \big(\sum_{\{m, l\} \subset S} d_{ml}^2\big)^{1/2}$ over all
    $\binom{n}{r}$ subsets $S$ (Campolongo et al. 2007, eq. 5; SALib's `BruteForce`, the
    first maximum in lexicographic order). Exact but combinatorial: refused above
    $5 \cdot 10^6$ subsets (use `select_trajectories_local`).

    **Arguments:**

    - `trajectories`: the `(n, k, d)` candidates.
    - `num_choices`: $r$, with $2 \le r < n$.

    **Returns:** the sorted indices `(r,)` of the chosen candidates (`trajectories[idx]`).

    **Raises:** `ValueError` for bad `trajectories` (see `trajectory_distances`), `r`
    outside $[2, n)$ or too many subsets.
    """
    t = _check_trajectories(trajectories)
    n = t.shape[0]
    r = _check_choices(num_choices, n)
    if math.comb(n, r) > _MAX_COMBINATIONS:
        raise ValueError(
            f"`num_choices` = {r} of {n} candidates gives {math.comb(n, r):.3g} subsets (more "
            f"than {_MAX_COMBINATIONS:.0e}); use `select_trajectories_local` or fewer candidates."
        )
    combos = np.array(list(itertools.combinations(range(n), r)), dtype=np.int32)
    pairs = np.array(list(itertools.combinations(range(r), 2)), dtype=np.int32)
    return _brute(t, jnp.asarray(combos), jnp.asarray(pairs))


@eqx.filter_jit
def _local(t, r):
    dist = _distances(t)
    n = dist.shape[0]
    d2 = dist * dist
    order = jnp.argsort(dist, axis=1)
    rows = jnp.arange(n)
    sets, scores = [], []
    for i in range(1, r):
        # Ruano's loop i: each row with its i most distant partners; keep the best row
        idx = jnp.concatenate([order[:, n - i :][:, ::-1], rows[:, None]], axis=1)
        block = d2[idx[:, :, None], idx[:, None, :]]
        start = jnp.sum(jnp.triu(block, 1), axis=(1, 2))
        best = jnp.argmax(start)
        mask = jnp.zeros(n, bool).at[idx[best]].set(True)

        def grow(_, state):
            # Ruano's loop k: add the trajectory that increases the spread most
            m, total = state
            gain = jnp.dot(d2, m.astype(d2.dtype), precision=_HIGHEST)
            cand = jnp.where(m, -jnp.inf, total + gain)
            j = jnp.argmax(cand)
            return m.at[j].set(True), cand[j]

        mask, total = jax.lax.fori_loop(0, r - i - 1, grow, (mask, start[best]))
        sets.append(mask)
        scores.append(total)
    winner = jnp.stack(sets)[jnp.argmax(jnp.stack(scores))]
    return jnp.nonzero(winner, size=r)[0]


def select_trajectories_local(
    trajectories: Float[ArrayLike, "n_traj k d"], num_choices: int
) -> Int[Array, " r"]:
    r"""The `num_choices` trajectories of (locally) largest spread, by Ruano's heuristic.

    Ruano et al. (2012), section 2.2, as in SALib's `LocalOptimisation`: for each
    $i = 1, \dots, r-1$ start from the row $m$ whose $i$ most distant partners give the
    largest $D(\{m\} \cup \text{partners})$, then add, one at a time, the trajectory that
    increases $D$ (Campolongo's eq. 5) the most, up to $r$; return the best of the $r - 1$
    sets. Deterministic given the distances (ties: first index), $O(r^2 n)$ after the
    $n \times n$ distance matrix; not guaranteed globally optimal.

    **Arguments:** as `select_trajectories_brute`.

    **Returns:** the sorted indices `(r,)` of the chosen candidates.

    **Raises:** `ValueError` for bad `trajectories` or `r` outside $[2, n)$.
    """
    t = _check_trajectories(trajectories)
    r = _check_choices(num_choices, t.shape[0])
    return _local(t, r)


def morris_sample(
    key: PRNGKeyArray,
    num_vars: int,
    num_trajectories: int,
    num_levels: int = 4,
    *,
    num_choices: int | None = None,
    select: Callable[[Array, int], Array] = select_trajectories_local,
    groups: Sequence[Any] | None = None,
    bounds: Float[ArrayLike, "d 2"] | None = None,
) -> Float[Array, "n d"]:
    r"""A Morris design in SALib's row layout, optionally Campolongo-optimised and scaled.

    `SALib.sample.morris.sample(problem, N, num_levels, optimal_trajectories,
    local_optimization)`: draws `num_trajectories` candidates (`morris_trajectories`),
    keeps the `num_choices` of largest spread chosen by `select` (if given), stacks them
    into rows and maps $[0,1]^d$ affinely onto `bounds`.

    **Arguments:**

    - `key`, `num_vars`, `num_trajectories`, `num_levels`, `groups`: as in
      `morris_trajectories`.
    - `num_choices`: the number $r$ of optimised trajectories ($2 \le r <$
      `num_trajectories`), or `None` for the plain Morris design.
    - `select`: `select_trajectories_local` (Ruano, default) or `select_trajectories_brute`.
    - `bounds`: optional `(d, 2)` table of `[lower, upper]` per factor.

    **Returns:** `(T (g + 1), d)` rows, trajectory after trajectory, `T` = `num_choices` or
    `num_trajectories`; dtype of `bounds` if given.

    **Raises:** as `morris_trajectories`; `ValueError` for bad `num_choices` or `bounds`.
    """
    check_key(key)
    d = require_int_in(num_vars, "num_vars", 1)
    n = require_int_in(num_trajectories, "num_trajectories", 1)
    p = _check_levels(num_levels)
    labels = _group_labels(groups, d)
    dt = float_dtype(bounds)
    r = None if num_choices is None else _check_choices(num_choices, n)
    if bounds is not None:
        bounds = check_bounds(bounds, d, dt)
    cand = _trajectories(key, n, labels, p, dt)
    idx = None if r is None else select(cand, r)
    return _stack(cand, idx, bounds)


@eqx.filter_jit
def _stack(cand, idx, bounds):
    if idx is not None:
        cand = cand[idx]
    rows = cand.reshape(-1, cand.shape[-1])
    return rows if bounds is None else affine(rows, bounds)
