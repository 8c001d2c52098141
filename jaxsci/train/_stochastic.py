r"""SGD with stochastic Armijo line search and adaptive minibatch
(Vu-Quoc & Humer 2023, Section 6.6, Algorithm 6).

The seed text of the review is truncated before Section 6.6, so this follows the primary
papers it cites: the stochastic Armijo search of Vaswani et al. (2019), "Painless stochastic
gradient", NeurIPS, Algorithms 1-2 (ref. [144]), and, for the minibatch growth, the "norm
test" of Byrd, Chin, Nocedal & Wu (2012), Math. Program. 134, Eq. (3.9) (our choice; the
review's exact growth rule is not in the seed).
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import optax
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray, PyTree

from .._solution import RESULTS, Solution, raise_if_failed
from ._linesearch import axpy, fn_kwargs, tree_vdot


class StochasticArmijoState(eqx.Module):
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
        dtype = jnp.result_type(*jax.tree.leaves(params))
        return StochasticArmijoState(
            jnp.asarray(init_step, dtype), jnp.array(False), jnp.zeros((), jnp.int32),
            jnp.zeros((), jnp.int32),
        )

    def update_fn(updates, state, params=None, *, value, grad, value_fn, **extra_args):
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


@eqx.filter_jit
def fit_sgd_armijo(
    loss_fn: Callable[[PyTree, Array, Array], Float[Array, ""]],
    params: PyTree,
    x: Float[Array, "n ..."],
    y: Float[Array, "n ..."],
    *,
    key: PRNGKeyArray,
    num_steps: int,
    init_batch_size: int,
    max_batch_size: int | None = None,
    theta: float = 0.9,
    linesearch: optax.GradientTransformationExtraArgs | None = None,
    throw: bool = True,
) -> Solution:
    r"""Algorithm 6: SGD + stochastic Armijo line search + adaptive minibatch, in one `lax.scan`.

    Each iteration draws $m_k$ examples without replacement, computes the minibatch cost
    $\tilde J_k=\frac1{m_k}\sum_i$ `loss_fn(params, x_i, y_i)` and per-example gradients
    (`vmap`), takes $d=-\tilde g_k$ with the `stochastic_armijo` step on the same minibatch, and
    sets $m_{k+1}$ by `norm_test_batch_size`. Batches are padded to `max_batch_size` rows with
    zero weights, so shapes stay static (the cost per step is that of `max_batch_size`).

    With `throw=True` a non-finite final cost raises; otherwise inspect `result`.
    Returns a `Solution` with `value` the final parameters and `aux` the per-step history
    `{"loss": full-batch cost, "step": eta_k, "batch_size": m_k, "accepted": ...}`.
    """
    n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"`x` and `y` need the same leading size, got {x.shape}, {y.shape}.")
    max_b = n if max_batch_size is None else int(max_batch_size)
    if not 1 <= init_batch_size <= max_b <= n:
        raise ValueError(
            f"need 1 <= init_batch_size ({init_batch_size}) <= max_batch_size ({max_b}) <= n ({n})."
        )
    ls = stochastic_armijo() if linesearch is None else linesearch

    def cost(p, xb, yb, w):
        return jnp.sum(w * jax.vmap(loss_fn, (None, 0, 0))(p, xb, yb)) / jnp.sum(w)

    def full_cost(p):
        return jnp.mean(jax.vmap(loss_fn, (None, 0, 0))(p, x, y))

    def step(carry, k):
        p, ls_state, m = carry
        idx = jr.permutation(jr.fold_in(key, k), n)[:max_b]
        xb, yb = x[idx], y[idx]
        w = (jnp.arange(max_b) < m).astype(x.dtype)
        val = cost(p, xb, yb, w)
        per_ex = jax.vmap(jax.grad(loss_fn), (None, 0, 0))(p, xb, yb)
        wsum = jnp.sum(w)
        g = jax.tree.map(
            lambda ge: jnp.tensordot(w, ge, axes=1) / wsum, per_ex
        )
        d = jax.tree.map(jnp.negative, g)
        upd, ls_state = ls.update(
            d, ls_state, p, value=val, grad=g,
            value_fn=lambda q: cost(q, xb, yb, w), batch_fraction=m / n,
        )
        p = optax.apply_updates(p, upd)
        m_new = norm_test_batch_size(per_ex, w, theta, max_b)
        hist = {"loss": full_cost(p), "step": ls_state.step, "batch_size": m,
                "accepted": ls_state.accepted}
        return (p, ls_state, m_new), hist

    carry0 = (params, ls.init(params), jnp.asarray(init_batch_size, jnp.int32))
    (p, _, _), hist = jax.lax.scan(step, carry0, jnp.arange(num_steps))
    finite = jnp.isfinite(hist["loss"][-1])
    result = RESULTS.where(finite, RESULTS.successful, RESULTS.nonfinite)
    stats = {"num_steps": jnp.asarray(num_steps), "loss": hist["loss"][-1]}
    return raise_if_failed(Solution(p, result, stats, hist), throw)
