r"""SGD with stochastic Armijo line search and adaptive minibatch
(Vu-Quoc & Humer 2023, Section 6.6, Algorithm 6).

The seed text of the review is truncated before Section 6.6, so this follows the primary
papers it cites: the stochastic Armijo search of Vaswani et al. (2019), "Painless stochastic
gradient", NeurIPS, Algorithms 1-2 (ref. [144]), and, for the minibatch growth, the "norm
test" of Byrd, Chin, Nocedal & Wu (2012), Math. Program. 134, Eq. (3.9) (our choice; the
review's exact growth rule is not in the seed).
"""

import equinox as eqx
import jax
import numpy as np
import jax.numpy as jnp
import optax
from jaxtyping import Array, Bool, Float, Int, PyTree

from .._checks import check_nonempty, check_value
from ._linesearch import (
    _check_inputs, _dtype, _need_params, axpy, check_start, fn_kwargs, tree_vdot,
)
from ._validate import check_interval, check_not_above, require_count, scalar_value


class StochasticArmijoState(eqx.Module):
    r"""State of `stochastic_armijo`: `step` $=\eta_k$, the last accepted step (the start of
    the next reset), `accepted` and `num_evals` of the last search, and `count` $=k$."""

    step: Float[Array, ""]
    accepted: Bool[Array, ""]
    num_evals: Int[Array, ""]
    count: Int[Array, ""]


def stochastic_armijo(
    init_step: float = 1.0,
    max_step: float = 10.0,
    c: float = 0.1,
    beta: float = 0.9,
    gamma: float = 2.0,
    batch_fraction: float = 1.0,
    max_steps: int = 100,
    *,
    throw: bool = True,
) -> optax.GradientTransformationExtraArgs:
    r"""Stochastic Armijo line search on the *same* minibatch (Vaswani et al. 2019, Alg. 1-2).

    At iteration $k$ the trial step is reset to $\eta=\min(\eta_{k-1}\gamma^{b/n},\eta_{\max})$
    ($\eta_0=$ `init_step`; $b/n=$ `batch_fraction`, overridable by the extra argument
    `batch_fraction`), then backtracked $\eta\leftarrow\beta\eta$ until
    $\tilde J_k(\theta+\eta d)\le\tilde J_k(\theta)+c\,\eta\,\tilde g_k\cdot d$ (with $d=-\tilde g_k$:
    $\tilde J_k(\theta-\eta\tilde g_k)\le\tilde J_k(\theta)-c\eta\|\tilde g_k\|^2$).
    Defaults $c=0.1$, $\beta=0.9$, $\gamma=2$ are those of the paper.

    Extra arguments as for the full-batch searches: `value`, `grad`, `value_fn`, all on the
    current minibatch; `updates` is the direction $d$ (e.g. from `optax.sgd(1.0)`).

    **Raises:** `ValueError` unless $c,\beta\in(0,1)$, $0<\eta_0\le\eta_{\max}<\infty$,
    $\gamma\in[1,\infty)$, $b/n\in(0,1]$ and `max_steps >= 1`. At run time (`throw=True`) a
    NaN/inf `value`, a NaN/inf slope $\tilde g\cdot d$ or an ascent direction raise as in the
    full-batch searches; `throw=False` rejects those steps (zero update, `accepted=False`).
    """
    c = check_interval("c", c, 0.0, 1.0)
    beta = check_interval("beta", beta, 0.0, 1.0)
    init_step = check_interval("init_step", init_step)
    max_step = check_interval("max_step", max_step)
    init_step = check_not_above(
        init_step, max_step, f"`init_step` ({init_step}) must not exceed `max_step` ({max_step})."
    )
    gamma = check_interval("gamma", gamma, 1.0, lo_open=False)
    batch_fraction = check_interval("batch_fraction", batch_fraction, 0.0, 1.0, hi_open=False)
    max_steps = require_count(max_steps, "max_steps")

    def init_fn(params):
        dtype = _dtype(params)
        return StochasticArmijoState(
            jnp.asarray(init_step, dtype), jnp.array(False), jnp.zeros((), jnp.int32),
            jnp.zeros((), jnp.int32),
        )

    def update_fn(updates, state, params=None, *, value, grad, value_fn, **extra_args):
        _need_params(params, "`stochastic_armijo`")
        _check_inputs(updates, grad, params)
        value = scalar_value(value)
        frac = extra_args.pop("batch_fraction", batch_fraction)
        if frac is not batch_fraction:
            frac = fa = jnp.asarray(frac)
            frac = check_value(
                frac, ~((fa > 0) & (fa <= 1)),
                "the extra argument `batch_fraction` (b/n) must lie in (0, 1].",
            )
        kw = fn_kwargs(value_fn, extra_args)
        slope = tree_vdot(grad, updates)
        slope = check_start(value, slope, throw, "`stochastic_armijo`")
        if throw:
            slope = check_value(
                slope, slope > 0,
                "`updates` is not a descent direction for `stochastic_armijo`: the slope "
                "g.d is > 0. Pass d = -g (e.g. chain `optax.sgd(1.0)` before it), or "
                "`throw=False` to reject such steps.",
            )
        dtype = state.step.dtype
        reset = jnp.where(
            state.count == 0, init_step, jnp.minimum(state.step * gamma**frac, max_step)
        ).astype(dtype)

        def ok(eta):
            return value_fn(axpy(eta, updates, params), **kw) - value <= c * eta * slope

        def cond(carry):
            _, good, i = carry
            return (~good) & (i < max_steps)

        def body(carry):
            eta, _, i = carry
            eta = beta * eta
            return eta, ok(eta), i + 1

        eta, good, n = jax.lax.while_loop(cond, body, (reset, ok(reset), 1))
        good = good & (slope < 0) & jnp.isfinite(value)
        eta_used = jnp.where(good, eta, 0.0).astype(dtype)
        new = jax.tree.map(lambda u: jnp.where(good, eta_used * u, 0).astype(u.dtype), updates)
        keep = jnp.where(good, eta, state.step).astype(dtype)
        return new, StochasticArmijoState(keep, good, jnp.asarray(n, jnp.int32), state.count + 1)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def norm_test_batch_size(
    per_example_grads: PyTree[Float[Array, "n ..."]],
    mask: Float[Array, " n"],
    theta: float,
    max_batch_size: int,
) -> Int[Array, ""]:
    r"""Next minibatch size by the norm test of Byrd et al. (2012), Eqs. (3.9)-(3.11).

    With $S$ the current sample ($|S|=\sum$ mask), $\tilde g=\frac1{|S|}\sum_{i\in S}g_i$ and the
    sample variance $\operatorname{Var}_S=\frac1{|S|-1}\sum_{i\in S}\|g_i-\tilde g\|^2$: if
    $\operatorname{Var}_S/|S|\le\theta^2\|\tilde g\|^2$ keep $|S|$, else grow to
    $\lceil\operatorname{Var}_S/(\theta^2\|\tilde g\|^2)\rceil$ (capped by `max_batch_size`).

    **Raises:** `ValueError` at trace time if `mask` is not 1-D or empty, a leaf of
    `per_example_grads` does not have `len(mask)` rows, or `max_batch_size < 1`; at run time
    (`eqx.error_if`) if $\theta\le0$ or NaN, or the mask selects no example. NaN
    gradients keep the current size.
    """
    max_batch_size = require_count(max_batch_size, "max_batch_size")
    mask = jnp.asarray(mask)
    if mask.ndim != 1:
        raise ValueError(f"`mask` must be 1-D (one weight per example), got shape {mask.shape}.")
    check_nonempty(mask, "mask", what="examples")
    leaves = jax.tree.leaves(per_example_grads)
    if not leaves:
        raise ValueError("`per_example_grads` has no arrays: give one gradient row per example.")
    for g in leaves:
        if np.ndim(g) < 1 or np.shape(g)[0] != mask.shape[0]:
            raise ValueError(
                f"every leaf of `per_example_grads` needs {mask.shape[0]} rows (one per "
                f"entry of `mask`), got a leaf of shape {np.shape(g)}."
            )
    theta = jnp.asarray(theta)
    theta = check_value(
        theta, ~(theta > 0) | ~jnp.isfinite(theta),
        "`theta` (the norm-test tolerance) must be a finite number > 0.",
    )
    size = jnp.sum(mask)
    size = check_value(
        size, ~(size >= 1), "`mask` selects no example (its sum is < 1): select at least one."
    )

    def stats(g):
        w = mask.reshape((-1,) + (1,) * (g.ndim - 1))
        mean = jnp.sum(w * g, axis=0) / size
        var = jnp.sum(w * (g - mean[None]) ** 2) / jnp.maximum(size - 1, 1)
        return jnp.sum(mean**2), var

    parts = [stats(g) for g in jax.tree.leaves(per_example_grads)]
    gnorm2 = sum(p[0] for p in parts)
    var = sum(p[1] for p in parts)
    needed = jnp.ceil(var / (theta**2 * jnp.maximum(gnorm2, jnp.finfo(gnorm2.dtype).tiny)))
    new = jnp.where(var / size <= theta**2 * gnorm2, size, jnp.maximum(needed, size))
    new = jnp.where(jnp.isnan(new), size, new)
    return jnp.clip(new, 1, max_batch_size).astype(jnp.int32)
