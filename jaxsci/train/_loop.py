r"""A generic full-batch training loop: one jitted step, `lax.scan` over steps.

`fit(loss_fn, model, optimizer, steps=..., args=...)` minimises
`loss_fn(model, args) -> (loss, terms)` (a scalar and a dict of named scalars, DESIGN rule
8) with any optax optimiser. First-order optimisers (`optax.adam`, ...) and line-search
optimisers (`optax.lbfgs`, which needs the loss value and a `value_fn`) go through the same
step: the optimiser is wrapped with `optax.with_extra_args_support` and always receives
`value`, `grad` and `value_fn`.

Recorded per step: the loss, every named term, and the L2 norm of the loss gradient with
respect to the weight matrix of every `eqx.nn.Linear` layer (the diagnostic of Fuks &
Tchelepi, Fig. 7). The whole loop is one `lax.scan` inside one `eqx.filter_jit`; progress is
reported from inside the compiled loop with `jax.debug.callback` every `progress_every`
steps. An optional pure hook `update_args(model, args, key) -> args`, applied every
`update_every` steps before the step, covers collocation resampling and adaptive loss weights.
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import optax
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

LossFn = Callable[[Any, Any], tuple[Float[Array, ""], dict[str, Float[Array, ""]]]]


def _is_linear(x: Any) -> bool:
    return isinstance(x, eqx.nn.Linear)


def layer_gradient_norms(grads: PyTree) -> Float[Array, " layers"]:
    r"""$\|\partial L / \partial W_\ell\|_2$ for every `eqx.nn.Linear` layer $\ell$ in `grads`
    (a gradient pytree with the model's structure), in tree order; shape `(0,)` if none."""
    layers = [x for x in jtu.tree_leaves(grads, is_leaf=_is_linear) if _is_linear(x)]
    norms = [jnp.sqrt(jnp.sum(layer.weight**2)) for layer in layers if layer.weight is not None]
    if not norms:
        return jnp.zeros((0,))
    return jnp.stack(norms)


def _print_progress(step, values):
    terms = "  ".join(f"{k}={float(v):.3e}" for k, v in values.items())
    print(f"step {int(step):>7d}  {terms}", flush=True)


class FitResult(eqx.Module):
    """Output of `fit`.

    - `model`: the trained model.
    - `args`: the final `args` (changed only by `update_args`).
    - `opt_state`: optimiser state, to continue training.
    - `history`: dict `"loss"` and each named term -> array of shape `(steps,)` (values at
      the parameters *before* each step).
    - `grad_norms`: `(steps, layers)` weight-gradient norms per `eqx.nn.Linear` layer.
    """

    model: Any
    args: Any
    opt_state: Any
    history: dict[str, Float[Array, " steps"]]
    grad_norms: Float[Array, "steps layers"]


def make_step(
    loss_fn: LossFn, optimizer: optax.GradientTransformation, model: Any
) -> tuple[Callable, Any, Any]:
    r"""The single training step used by `fit`, for users who drive their own loop.

    **Returns:** `(step, params, static)` with `params, static = eqx.partition(model,
    eqx.is_inexact_array)` and the pure function
    `step(params, opt_state, args) -> (params, opt_state, loss, terms, grads)`
    (wrap it in `jax.jit`). Initialise `opt_state` with
    `optax.with_extra_args_support(optimizer).init(params)`.
    """
    opt = optax.with_extra_args_support(optimizer)
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def value(p, a):
        return loss_fn(eqx.combine(p, static), a)

    def step(params, opt_state, args):
        (loss, terms), grads = jax.value_and_grad(value, has_aux=True)(params, args)
        updates, opt_state = opt.update(
            grads,
            opt_state,
            params,
            value=loss,
            grad=grads,
            value_fn=lambda p: value(p, args)[0],
        )
        return optax.apply_updates(params, updates), opt_state, loss, terms, grads

    return step, params, static


def fit(
    loss_fn: LossFn,
    model: Any,
    optimizer: optax.GradientTransformation,
    *,
    steps: int,
    args: Any = None,
    opt_state: Any = None,
    update_args: Callable[..., Any] | None = None,
    update_every: int = 1,
    key: PRNGKeyArray | None = None,
    progress_every: int | None = None,
    progress_fn: Callable[[Array, dict], None] = _print_progress,
) -> FitResult:
    r"""Full-batch training: `steps` optimiser steps in one compiled `lax.scan`.

    **Arguments:**
    - `loss_fn(model, args) -> (loss, terms)`: scalar loss and dict of named scalars.
    - `model`: any pytree (typically an `eqx.Module`); its inexact arrays are trained.
    - `optimizer`: an optax transformation, e.g. `optax.adam(1e-3)` or `optax.lbfgs()`.
    - `steps`: number of steps (static; the loop compiles once per value).
    - `args`: data passed to `loss_fn` (pytree; e.g. `jaxsci.pinn.PINNArgs`).
    - `opt_state`: resume from this optimiser state (default: fresh).
    - `update_args(model, args, key) -> args`: optional pure hook run before the step every
      `update_every` steps (resampling, adaptive weights); needs `key` if it uses randomness.
    - `progress_every`: report every this many steps via `jax.debug.callback`, calling
      `progress_fn(step, {"loss": ..., **terms})` (default: print a line). `None`: silent.

    **Returns:** a `FitResult`.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"`steps` must be a positive int, got {steps!r}.")
    if update_every < 1:
        raise ValueError(f"`update_every` must be >= 1, got {update_every}.")
    if update_args is not None and key is None:
        key = jr.key(0)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    if opt_state is None:
        opt_state = optax.with_extra_args_support(optimizer).init(params)
    args_dyn, args_static = eqx.partition(args, eqx.is_array)
    # the step is built inside the compiled function from hashable pieces, so a second `fit`
    # with the same loss_fn / optimizer / model structure reuses the compiled loop
    return _fit(
        loss_fn,
        optimizer,
        static,
        args_static,
        update_args,
        progress_fn,
        params,
        opt_state,
        args_dyn,
        key,
        steps=steps,
        update_every=update_every,
        progress_every=progress_every,
    )


@eqx.filter_jit
def _fit(
    loss_fn,
    optimizer,
    static,
    args_static,
    update_args,
    progress_fn,
    params,
    opt_state,
    args_dyn,
    key,
    *,
    steps,
    update_every,
    progress_every,
):
    step, _, _ = make_step(loss_fn, optimizer, eqx.combine(params, static))

    def body(carry, i):
        params, opt_state, args_dyn, key = carry
        if update_args is not None:
            key, sub = jr.split(key)

            def upd(a):
                new = update_args(
                    eqx.combine(params, static), eqx.combine(a, args_static), key=sub
                )
                return eqx.filter(new, eqx.is_array)

            args_dyn = jax.lax.cond(i % update_every == 0, upd, lambda a: a, args_dyn)
        args = eqx.combine(args_dyn, args_static)
        params, opt_state, loss, terms, grads = step(params, opt_state, args)
        values = {"loss": loss, **terms}
        if progress_every is not None:
            jax.lax.cond(
                (i % progress_every == 0) | (i == steps - 1),
                lambda: jax.debug.callback(progress_fn, i, values),
                lambda: None,
            )
        return (params, opt_state, args_dyn, key), (values, layer_gradient_norms(grads))

    (params, opt_state, args_dyn, _), (history, gnorms) = jax.lax.scan(
        body, (params, opt_state, args_dyn, key), jnp.arange(steps)
    )
    return FitResult(
        model=eqx.combine(params, static),
        args=eqx.combine(args_dyn, args_static),
        opt_state=opt_state,
        history=history,
        grad_norms=gnorms,
    )
