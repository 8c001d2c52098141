r"""Step-length tuning, decay, annealing and minibatch-size increase
(Vu-Quoc & Humer 2023, Sections 6.3.3-6.3.5, Eqs. 147-154, 172).

Schedules are optax schedules (callables of the 0-based step count). The linear schedule of
Eq. (147) is `optax.linear_schedule(eps0, eps_c, ell_c)` and is not repeated here.
"""

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int

from .._checks import check_value
from ._validate import check_interval, require_count


def inverse_decay_schedule(
    init_value: float, power: float = 1.0
) -> Callable[[Int[Array, ""]], Float[Array, ""]]:
    r"""$\epsilon(\ell)=\epsilon_0/\ell^{p}$ with $\ell=$ count$+1$: Eq. (149) for $p=1$ and
    Eq. (150) for $p=\tfrac12$. Both satisfy $\sum\epsilon_\ell=\infty$ of Eq. (155); only
    $p>\tfrac12$ also satisfies $\sum\epsilon_\ell^2<\infty$.

    **Raises:** `ValueError` unless `init_value` and `power` lie in $(0,\infty)$."""
    init_value = check_interval("init_value", init_value)
    power = check_interval("power", power)

    def schedule(count):
        return init_value / (jnp.asarray(count) + 1.0) ** power

    return schedule


def cosine_annealing(
    cycle_lengths: Sequence[int],
) -> Callable[[Int[Array, ""]], Float[Array, ""]]:
    r"""The cyclic cosine-annealing multiplier $\mathfrak a_k$ of Eq. (154) (Loshchilov & Hutter):
    $\mathfrak a=\tfrac12+\tfrac12\cos(\pi T_{cur}/T_p)$, restarting at 1 after each cycle of
    $T_p$ steps; 0 after the last cycle. Built from `optax.cosine_decay_schedule` pieces joined
    by `optax.join_schedules` (equal to `optax.sgdr_schedule` with zero warm-up).

    **Raises:** `ValueError` if `cycle_lengths` is empty or has an entry that is not an
    integer $\ge1$."""
    try:
        raw = list(cycle_lengths)
    except TypeError:
        raise TypeError(
            f"`cycle_lengths` must be a sequence of positive ints, got {cycle_lengths!r}."
        ) from None
    ok = all(
        not isinstance(t, bool) and isinstance(t, (int, np.integer)) and t >= 1 for t in raw
    )
    if not raw or not ok:
        raise ValueError(
            f"`cycle_lengths` must be a non-empty sequence of integers >= 1, got {cycle_lengths}."
        )
    lengths = [int(t) for t in raw]
    pieces = [optax.cosine_decay_schedule(1.0, t) for t in lengths]
    return optax.join_schedules(pieces, list(np.cumsum(lengths)[:-1]))


class StagnationDecayState(eqx.Module):
    r"""State of `scale_by_stagnation_decay`: `count` (0-based step), `scale`
    $=\epsilon(\tau)/\epsilon(0)$, `best_before_last` $=\min_j\tilde J_j$ over the steps before
    the last one, and `last`, the cost $\tilde J$ passed at the last step."""

    count: Int[Array, ""]
    scale: Float[Array, ""]
    best_before_last: Float[Array, ""]
    last: Float[Array, ""]


def scale_by_stagnation_decay(
    steps_per_epoch: int, factor: float = 0.9
) -> optax.GradientTransformationExtraArgs:
    r"""Decay on no improvement, Eq. (151) (Wilson et al. 2017): at the start of epoch $\tau$,
    $\epsilon(\tau)=\varpi\,\epsilon(\tau-1)$ if $\tilde J_{\tau-1}>\min_j\{\tilde J_j\}$ over all
    previous global iterations $j\le k_{\max}(\tau-1)$, else unchanged; $\varpi=$ `factor`.

    Multiplies the incoming updates by $\epsilon(\tau)/\epsilon(0)$; chain it after the base
    step. Needs the extra argument `value` $=\tilde J_j$, the minibatch cost at the current
    parameters. $\tilde J_{\tau-1}$ is the cost at the last iteration of epoch $\tau-1$.
    A NaN cost never counts as the best one and counts as stagnation.

    **Raises:** `ValueError` unless `steps_per_epoch` is an integer $\ge1$ and
    $\varpi\in(0,1)$; `value` must be a scalar (trace time).
    """
    steps_per_epoch = require_count(steps_per_epoch, "steps_per_epoch")
    factor = check_interval("factor", factor, 0.0, 1.0)

    def init_fn(params):
        del params
        inf = jnp.asarray(jnp.inf)
        return StagnationDecayState(jnp.zeros((), jnp.int32), jnp.ones(()), inf, inf)

    def update_fn(updates, state, params=None, *, value, **extra_args):
        del params, extra_args
        if np.shape(value) != ():
            raise ValueError(f"`value` must be the scalar cost, got shape {np.shape(value)}.")
        c = state.count
        new_epoch = (c > 0) & (c % steps_per_epoch == 0)
        stagnated = ~(state.last <= state.best_before_last)
        scale = jnp.where(new_epoch & stagnated, factor * state.scale, state.scale)
        best = jnp.fmin(state.best_before_last, state.last)
        out = jax.tree.map(lambda u: (scale * u).astype(u.dtype), updates)
        return out, StagnationDecayState(c + 1, scale, best, jnp.asarray(value, best.dtype))

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def batch_size_schedule(
    init_batch_size: int, boundaries: Sequence[int], factor: float, max_batch_size: int
) -> Callable[[int], int]:
    r"""Minibatch-size increase instead of step decay (Smith et al. 2018; Section 6.3.5):
    $m(\tau)=\min(m_0\,\beta^{\#\{b\le\tau\}}, m_{\max})$ for epoch boundaries $b$ (e.g.
    $m_0=128$, $\beta=5$, boundaries 60, 120, 160 of Fig. 65). The step-decay counterpart is
    `optax.piecewise_constant_schedule(eps0, {b * steps: 1 / factor})`. Returns a Python
    function of the epoch (the batch size is a static shape).

    **Raises:** `TypeError`/`ValueError` unless the batch sizes are integers with
    `1 <= init_batch_size <= max_batch_size`, `factor` $\in[1,\infty)$ and the boundaries
    are integers $\ge0$."""
    init_batch_size = require_count(init_batch_size, "init_batch_size")
    max_batch_size = require_count(max_batch_size, "max_batch_size")
    if max_batch_size < init_batch_size:
        raise ValueError(
            f"`max_batch_size` ({max_batch_size}) must be >= `init_batch_size` "
            f"({init_batch_size})."
        )
    factor = float(check_interval("factor", factor, 1.0, lo_open=False))
    bounds = sorted(require_count(b, "boundaries (each entry)", 0) for b in boundaries)

    def schedule(epoch: int) -> int:
        n = sum(1 for b in bounds if b <= epoch)
        return int(min(round(init_batch_size * factor**n), max_batch_size))

    return schedule


def equivalent_batch_size(
    step_ratio: Float[Array, "..."] | float, init_batch_size: float, num_examples: float
) -> Float[Array, "..."]:
    r"""The minibatch size with the same fluctuation factor, Eq. (172), as decaying the step to
    `step_ratio` $=\epsilon(\ell)/\epsilon_0$ at fixed $m_0$:
    $\epsilon_0(1/m-1/M)=\epsilon(\ell)(1/m_0-1/M)\Rightarrow
    1/m=r\,(1/m_0-1/M)+1/M$. For $M\to\infty$ this is $m=m_0/r$ (Smith et al. 2018).

    **Raises:** `ValueError` (eagerly; `eqx.error_if` when traced) unless `step_ratio` $>0$
    and $1\le m_0\le M$, all finite."""
    r = jnp.asarray(step_ratio)
    r = check_value(r, ~jnp.isfinite(r) | (r <= 0), "`step_ratio` must be finite and > 0.")
    m0, big_m = jnp.asarray(init_batch_size), jnp.asarray(num_examples)
    r = check_value(
        r, ~jnp.isfinite(m0) | ~jnp.isfinite(big_m) | (m0 < 1) | (m0 > big_m),
        "`init_batch_size` must lie in [1, num_examples] (both finite).",
    )
    return 1.0 / (r * (1.0 / init_batch_size - 1.0 / num_examples) + 1.0 / num_examples)


def tune_initial_step(
    score: Callable[[float], float],
    grid: Sequence[float] = (2.0, 1.0, 0.5, 0.25, 0.125),
    max_extensions: int = 10,
) -> tuple[float, dict[float, float]]:
    r"""Initial step-length tuning on a logarithmic grid (Wilson et al. 2017; Section 6.3.3).

    Evaluates `score(eps0)` (lower is better, e.g. the training or validation loss after a fixed
    budget at constant step $\epsilon_0$) on the grid $2^{-k}$, $k=-1..3$; while the best value is
    at an end of the grid, extends the grid by one more factor-2 point beyond that end, up to
    `max_extensions` times. Returns the best $\epsilon_0$ and all evaluated scores.

    This is an outer experiment loop, so it runs in Python; `score` is typically a jitted
    training run. Non-finite scores count as $+\infty$.

    **Raises:** `ValueError` if `grid` has fewer than 2 distinct finite positive step
    lengths, `max_extensions < 0`, or every score was NaN/inf (no step length trained:
    there is no best one; lower the grid or check the training run).
    """
    pts = sorted({float(g) for g in grid})
    if len(pts) < 2 or not all(np.isfinite(p) and p > 0 for p in pts):
        raise ValueError(f"`grid` needs >= 2 distinct finite positive step lengths, got {grid}.")
    max_extensions = require_count(max_extensions, "max_extensions", 0)
    ratio = pts[1] / pts[0]
    scores: dict[float, float] = {}

    def ev(e):
        if e not in scores:
            s = float(score(e))
            scores[e] = s if np.isfinite(s) else np.inf
        return scores[e]

    for e in pts:
        ev(e)
    for _ in range(max_extensions):
        best = min(scores, key=scores.get)
        lo, hi = min(scores), max(scores)
        if best == hi:
            ev(hi * ratio)
        elif best == lo:
            ev(lo / ratio)
        else:
            break
    if not any(np.isfinite(v) for v in scores.values()):
        raise ValueError(
            f"`score` was NaN/inf at every step length tried ({sorted(scores)}): no best step "
            "length. Try smaller step lengths (a lower `grid`) or check the training run."
        )
    best = min(scores, key=scores.get)
    return best, dict(sorted(scores.items()))
