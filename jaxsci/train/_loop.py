r"""A generic full-batch training loop: one jitted step, `lax.scan` over steps.

`fit(loss_fn, model, optimizer, steps=..., args=...)` minimises
`loss_fn(model, args) -> (loss, terms)` (a scalar and a dict of named scalars, DESIGN rule
8) with any optax optimiser. First-order optimisers (`optax.adam`, ...) and line-search
optimisers (`optax.lbfgs`, which needs the loss value and a `value_fn`) go through the same
step: the optimiser is wrapped with `optax.with_extra_args_support` and always receives
`value`, `grad` and `value_fn`.

Recorded per step: the loss, every named term, and the L2 norm of the loss gradient with
respect to the weight matrix of every `eqx.nn.Linear` layer (the diagnostic of Fuks &
Tchelepi, Fig. 7). The whole loop is one `lax.while_loop` inside one `eqx.filter_jit`, with
the number of steps a traced bound (the history is preallocated for the next power of two and
cut afterwards), and the loss and optimiser are passed as pytrees (`_hoist.py`), so a new
optimiser object, a re-created `lambda`, new data of the same shapes or another step count
reuse the compiled loop. Progress is reported from inside the compiled loop with
`jax.debug.callback` every `progress_every` steps. An optional pure hook
`update_args(model, args, key) -> args`, applied every `update_every` steps before the step,
covers collocation resampling and adaptive loss weights.
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
import optax
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from .._hoist import bucket as _bucket, call_hoisted, hoist, trim as _trim, unhoist

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
    r"""Full-batch training: `steps` optimiser steps in one compiled `lax.while_loop`.

    **Arguments:**
    - `loss_fn(model, args) -> (loss, terms)`: scalar loss and dict of named scalars.
    - `model`: any pytree (typically an `eqx.Module`); its inexact arrays are trained.
    - `optimizer`: an optax transformation, e.g. `optax.adam(1e-3)` or `optax.lbfgs()`.
    - `steps`: number of steps (a positive int; traced, see below).
    - `args`: data passed to `loss_fn` (pytree; e.g. `jaxsci.pinn.PINNArgs`).
    - `opt_state`: resume from this optimiser state (default: fresh).
    - `update_args(model, args, key) -> args`: optional pure hook run before the step every
      `update_every` steps (resampling, adaptive weights); needs `key` if it uses randomness.
    - `progress_every`: report every this many steps via `jax.debug.callback`, calling
      `progress_fn(step, {"loss": ..., **terms})` (default: print a line). `None`: silent.

    **Compilation.** A second call reuses the compiled loop when only these change: the
    data (arrays in `args`, in `loss_fn`'s closure, same shapes and dtypes), the optimiser
    object (`optax.adam(1e-3)` created anew, or with another learning rate: Python floats
    in closures are traced), `loss_fn` re-created from the same source (a `lambda` in a
    loop), `steps` within the same power-of-two bucket ($2^{k-1} < $ `steps` $\le 2^k$: the
    history is allocated for $2^k$ steps and cut to `steps` afterwards), `update_every`,
    `progress_every` (but not whether it is `None`). See `jaxsci.train._hoist` for how
    closures are compared; a closure that needs a concrete Python value (`if lr > 0:`)
    falls back to being compared by identity, as before.

    **Returns:** a `FitResult`.
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"`steps` must be a positive int, got {steps!r}.")
    if not isinstance(update_every, int) or update_every < 1:
        raise ValueError(f"`update_every` must be a positive int, got {update_every!r}.")
    if progress_every is not None and (not isinstance(progress_every, int)
                                       or progress_every < 1):
        raise ValueError(f"`progress_every` must be None or a positive int, got "
                         f"{progress_every!r}.")
    if update_args is not None and key is None:
        key = jr.key(0)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    args_dyn, args_static = eqx.partition(args, eqx.is_array)
    out = call_hoisted(
        _fit,
        (loss_fn, optimizer, update_args),
        hoist(progress_fn, arrays=False),
        static,
        args_static,
        params,
        opt_state,
        args_dyn,
        key,
        np.int32(steps),
        np.int32(update_every),
        None if progress_every is None else np.int32(progress_every),
        bucket=_bucket(steps),
    )
    return eqx.tree_at(lambda r: (r.history, r.grad_norms), out,
                       (_trim(out.history, steps), _trim(out.grad_norms, steps)))


@eqx.filter_jit
def _fit(
    loss_fn,
    optimizer,
    update_args,
    progress_fn,
    static,
    args_static,
    params,
    opt_state,
    args_dyn,
    key,
    steps,
    update_every,
    progress_every,
    *,
    bucket,
):
    loss_fn, optimizer, update_args, progress_fn = (
        unhoist(loss_fn), unhoist(optimizer), unhoist(update_args), unhoist(progress_fn))
    if opt_state is None:
        opt_state = optax.with_extra_args_support(optimizer).init(params)
    step, _, _ = make_step(loss_fn, optimizer, eqx.combine(params, static))

    def one_step(params, opt_state, args_dyn):
        params, opt_state, loss, terms, grads = step(
            params, opt_state, eqx.combine(args_dyn, args_static))
        return params, opt_state, {"loss": loss, **terms}, layer_gradient_norms(grads)

    # shapes of the recorded values, for the preallocated history (no compilation)
    _, _, values0, gnorms0 = jax.eval_shape(one_step, params, opt_state, args_dyn)
    history0 = jtu.tree_map(lambda s: jnp.full((bucket, *s.shape), jnp.nan, s.dtype),
                            (values0, gnorms0))

    def body(carry):
        i, params, opt_state, args_dyn, key, (history, gnorms) = carry
        if update_args is not None:
            key, sub = jr.split(key)

            def upd(a):
                new = update_args(
                    eqx.combine(params, static), eqx.combine(a, args_static), key=sub
                )
                return eqx.filter(new, eqx.is_array)

            args_dyn = jax.lax.cond(i % update_every == 0, upd, lambda a: a, args_dyn)
        params, opt_state, values, gn = one_step(params, opt_state, args_dyn)
        if progress_every is not None:
            jax.lax.cond(
                (i % progress_every == 0) | (i == steps - 1),
                lambda: jax.debug.callback(progress_fn, i, values),
                lambda: None,
            )
        history = jtu.tree_map(lambda h, v: h.at[i].set(v), history, values)
        gnorms = gnorms.at[i].set(gn)
        return i + 1, params, opt_state, args_dyn, key, (history, gnorms)

    carry = (jnp.asarray(0, jnp.int32), params, opt_state, args_dyn, key, history0)
    _, params, opt_state, args_dyn, _, (history, gnorms) = jax.lax.while_loop(
        lambda c: c[0] < steps, body, carry
    )
    return FitResult(
        model=eqx.combine(params, static),
        args=eqx.combine(args_dyn, args_static),
        opt_state=opt_state,
        history=history,
        grad_norms=gnorms,
    )
