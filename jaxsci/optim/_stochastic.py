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
import jax.numpy as jnp
import optax
from jaxtyping import Array, Bool, Float, Int, PyTree

from ._linesearch import _dtype, _need_params, axpy, fn_kwargs, tree_vdot


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
    """
    for name, v, hi in (("c", c, 1.0), ("beta", beta, 1.0), ("init_step", init_step, None)):
        if not v > 0 or (hi is not None and not v < hi):
            raise ValueError(f"`{name}` must lie in (0, {hi or 'inf'}), got {v}.")
    if gamma < 1.0:
        raise ValueError(f"`gamma` must be >= 1, got {gamma}.")

    def init_fn(params):
        dtype = _dtype(params)
        return StochasticArmijoState(
            jnp.asarray(init_step, dtype), jnp.array(False), jnp.zeros((), jnp.int32),
            jnp.zeros((), jnp.int32),
        )

    def update_fn(updates, state, params=None, *, value, grad, value_fn, **extra_args):
        _need_params(params, "`stochastic_armijo`")
        frac = extra_args.pop("batch_fraction", batch_fraction)
        kw = fn_kwargs(value_fn, extra_args)
        slope = tree_vdot(grad, updates)
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
        good = good & (slope < 0)
        eta_used = jnp.where(good, eta, 0.0).astype(dtype)
        new = jax.tree.map(lambda u: (eta_used * u).astype(u.dtype), updates)
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
    """
    size = jnp.sum(mask)

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
    return jnp.clip(new, 1, max_batch_size).astype(jnp.int32)
