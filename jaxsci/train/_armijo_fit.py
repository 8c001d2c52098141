r"""Algorithm 6 (SGD + stochastic Armijo + adaptive minibatch) as a trainer of `fit`."""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from .._checks import check_value, is_concrete, require_positive_int
from .._solution import Solution, raise_if_failed
from ._loop import fit
from ..optim import norm_test_batch_size, stochastic_armijo
from ._trainers import AbstractTrainer

__all__ = ["PerExampleLoss", "StochasticArmijo", "fit_sgd_armijo"]


def _check_data(x, y):
    for v, nm in ((x, "x"), (y, "y")):
        if not hasattr(v, "shape") or v.ndim < 1:
            raise TypeError(f"`{nm}` must be an array with a leading example axis, got "
                            f"{type(v).__name__} {getattr(v, 'shape', '')}.")
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"`x` and `y` need the same leading size, got {x.shape}, {y.shape}.")
    if x.shape[0] == 0:
        raise ValueError(f"`x` is empty (shape {x.shape}): give at least one example.")


class PerExampleLoss(eqx.Module):
    r"""The full-batch mean $\frac1n\sum_i \ell(\text{model}, x_i, y_i)$ of a per-example
    loss, as a `loss_fn` of `fit` with `args = (x, y)`; the `StochasticArmijo` trainer draws
    its minibatches from the same `fn`.

    **Arguments:**
    - `fn(model, x_i, y_i) -> scalar`: the loss of one example.
    """

    fn: Callable[..., Any]

    def __call__(self, model, args):
        x, y = args
        return jnp.mean(jax.vmap(self.fn, (None, 0, 0))(model, x, y)), {}


class StochasticArmijo(AbstractTrainer):
    r"""Algorithm 6 of the review: each step draws $m_k$ examples without replacement,
    takes $d = -\tilde g_k$ (the minibatch gradient, per-example gradients by `vmap`) with
    the `stochastic_armijo` step on the same minibatch, and sets $m_{k+1}$ by
    `norm_test_batch_size`. Batches are padded to `max_batch_size` rows with zero weights,
    so shapes stay static (the cost per step is that of `max_batch_size`).

    Use with `fit(PerExampleLoss(fn), model, StochasticArmijo(...), args=(x, y), ...)`; the
    history gains `"step_size"` ($\eta_k$), `"batch_size"` ($m_k$) and `"accepted"`.

    **Arguments:**
    - `init_batch_size`: $m_0$ (positive int, at most `max_batch_size`).
    - `key`: PRNG key of the minibatch draws (step $k$ uses `fold_in(key, k)`).
    - `max_batch_size`: static cap (default: all examples).
    - `theta`: norm-test parameter $\theta$.
    - `linesearch`: the line search (default `stochastic_armijo(throw=False)`: a NaN loss
      is a rejected step, and `fit` reports it as `nonfinite_loss` under its own `throw=`).
    """

    init_batch_size: int = eqx.field(static=True)
    key: Any
    max_batch_size: int | None = eqx.field(default=None, static=True)
    theta: Any = 0.9
    linesearch: Any = None

    def __check_init__(self):
        b, m = self.init_batch_size, self.max_batch_size
        if not isinstance(b, int) or isinstance(b, bool) or b < 1 or (
                m is not None and not b <= m):
            raise ValueError(f"`init_batch_size` must be an int with 1 <= init_batch_size "
                             f"<= `max_batch_size`, got {b!r} (max_batch_size={m!r}).")
        _check_theta(self.theta)

    def _ls(self):
        return stochastic_armijo(throw=False) if self.linesearch is None else self.linesearch

    def check(self, loss_fn, model, args):
        if not isinstance(loss_fn, PerExampleLoss):
            raise TypeError("the StochasticArmijo trainer needs `loss_fn = "
                            "jaxsci.train.PerExampleLoss(fn)` (it draws minibatches of fn).")
        if not (isinstance(args, (tuple, list)) and len(args) == 2):
            raise TypeError("the StochasticArmijo trainer needs `args = (x, y)`.")
        x, y = args
        _check_data(x, y)
        n = x.shape[0]
        if self.max_batch_size is not None and self.max_batch_size > n:
            raise ValueError(f"`max_batch_size` ({self.max_batch_size}) must be <= the number "
                             f"of examples n ({n}).")
        if self.init_batch_size > n:
            raise ValueError(f"`init_batch_size` ({self.init_batch_size}) must be <= the "
                             f"number of examples n ({n}).")

    def init(self, loss_fn, params, static, args):
        return (self._ls().init(params), jnp.asarray(self.init_batch_size, jnp.int32),
                jnp.asarray(0, jnp.int32))

    def step(self, loss_fn, params, static, args, state):
        x, y = args
        n = x.shape[0]
        max_b = n if self.max_batch_size is None else self.max_batch_size
        ls = self._ls()
        ls_state, m, k = state

        def per(p, xi, yi):
            return loss_fn.fn(eqx.combine(p, static), xi, yi)

        def cost(p, xb, yb, w):
            return jnp.sum(w * jax.vmap(per, (None, 0, 0))(p, xb, yb)) / jnp.sum(w)

        full = jnp.mean(jax.vmap(per, (None, 0, 0))(params, x, y))
        idx = jr.permutation(jr.fold_in(self.key, k), n)[:max_b]
        xb, yb = x[idx], y[idx]
        w = (jnp.arange(max_b) < m).astype(x.dtype)
        val = cost(params, xb, yb, w)
        per_ex = jax.vmap(jax.grad(per), (None, 0, 0))(params, xb, yb)
        g = jax.tree.map(lambda ge: jnp.tensordot(w, ge, axes=1) / jnp.sum(w), per_ex)
        d = jax.tree.map(jnp.negative, g)
        upd, ls_state = ls.update(d, ls_state, params, value=val, grad=g,
                                  value_fn=lambda q: cost(q, xb, yb, w), batch_fraction=m / n)
        params = optax.apply_updates(params, upd)
        m_new = norm_test_batch_size(per_ex, w, self.theta, max_b)
        terms = {"step_size": ls_state.step, "batch_size": m, "accepted": ls_state.accepted}
        return params, (ls_state, m_new, k + 1), full, terms, g

    def finalize(self, loss_fn, params, static, args, state):
        return params, {"loss": loss_fn(eqx.combine(params, static), args)[0]}


def _check_theta(theta):
    """`theta` > 0 and finite (Python numbers at once; arrays by `check_value`)."""
    if isinstance(theta, (int, float)) and not isinstance(theta, bool):
        if not (np.isfinite(theta) and theta > 0):
            raise ValueError(f"`theta` (norm-test parameter) must be finite and > 0, got "
                             f"{theta!r}.")
    elif eqx.is_array(theta) and is_concrete(theta):
        check_value(theta, ~jnp.isfinite(theta) | (theta <= 0),
                    f"`theta` (norm-test parameter) must be finite and > 0, got {theta}.")


def _shift(h, last):
    """`h[1:]` followed by `last` (on the host for concrete arrays: no compilation)."""
    if isinstance(h, jax.core.Tracer) or isinstance(last, jax.core.Tracer):
        return jnp.concatenate([h[1:], jnp.asarray(last, h.dtype)[None]])
    return jax.device_put(np.append(np.asarray(h)[1:], np.asarray(last, h.dtype)))


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
    r"""Algorithm 6: SGD + stochastic Armijo line search + adaptive minibatch; a thin
    wrapper of `fit(PerExampleLoss(loss_fn), params, StochasticArmijo(...), args=(x, y),
    steps=num_steps)` (see `StochasticArmijo`).

    **Raises:** `ValueError` / `TypeError` for `num_steps` not a positive int, `x` / `y`
    empty, not arrays or of different leading sizes, batch sizes outside
    `1 <= init_batch_size <= max_batch_size <= n`, `theta` not finite and > 0.

    **Returns:** a `Solution` with `value` the final parameters, `stats["loss"]` the final
    full-batch cost and the per-step `history` `{"loss": full-batch cost after the step,
    "step": eta_k, "batch_size": m_k, "accepted": ...}`; a non-finite cost stops the run
    with `RESULTS.nonfinite_loss` (`fit`'s NaN policy; `throw=True` raises).
    """
    num_steps = require_positive_int(num_steps, "num_steps")
    _check_data(x, y)
    n = x.shape[0]
    max_b = n if max_batch_size is None else int(max_batch_size)
    if not 1 <= init_batch_size <= max_b <= n:
        raise ValueError(
            f"need 1 <= `init_batch_size` ({init_batch_size}) <= `max_batch_size` ({max_b}) "
            f"<= n ({n}, the number of examples): lower the batch sizes."
        )
    trainer = StochasticArmijo(init_batch_size, key, max_batch_size=max_b, theta=theta,
                               linesearch=linesearch)
    sol = fit(PerExampleLoss(loss_fn), params, trainer, args=(x, y), steps=num_steps,
              throw=False)
    h = sol.history
    hist = {"loss": _shift(h["loss"], sol.stats["loss"]), "step": h["step_size"],
            "batch_size": h["batch_size"], "accepted": h["accepted"]}
    return raise_if_failed(Solution(sol.value, sol.result, sol.stats, hist, sol.state), throw)
