r"""Algorithm 6 of Vu-Quoc & Humer (2023), Section 6.6, as one jitted fit: SGD with the
stochastic Armijo line search and adaptive minibatch of `jaxsci.optim` (Vaswani et al. 2019;
the norm test of Byrd, Chin, Nocedal & Wu 2012).
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import optax
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from .._solution import RESULTS, Solution, raise_if_failed
from ..optim import norm_test_batch_size, stochastic_armijo


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
