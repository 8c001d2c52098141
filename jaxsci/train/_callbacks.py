r"""Callbacks and stops for `jaxsci.train.fit`: pure `eqx.Module`s run inside the loop.

**Callbacks** (`AbstractCallback`) see every step twice:

- `init(params, static, args, bucket) -> state` (`bucket`: the static history length);
- `before(step, model, args, key, state) -> (model, args, state)`, before the trainer's
  step: may change the data (resampling, loss weights) *and the model* (a Koopman jump);
- `after(step, params, values, grads, state) -> state`, after it, with the parameters the
  step started from, `values = {"loss": ..., **terms}` there and the gradient (or `None`);
- `history(state) -> dict` of arrays merged into `Solution.history`, each of leading length
  `bucket_length(bucket)`, cut to `history_length(steps)` after the run.

**Stops** (`AbstractStop`):

- `init(params, static, args, bucket) -> state`;
- `check(step, steps, loss, params, static, args, state) -> (state, done, accept)`: `loss`
  is the value before the step, `params` the parameters after it; `accept=False` keeps the
  parameters from before the step (those the reported `loss` belongs to);
- `finish(params, state) -> (params, result, stats, history)` after the loop.
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import optax

from .._checks import check_value, is_concrete
from .._solution import RESULTS

__all__ = ["AbstractCallback", "UpdateArgs", "LossWeights", "Record", "ModifyModel",
           "AbstractStop", "TargetLoss", "ValidationPatience"]


def _cond_tree(pred, fn, x, what):
    """`fn(x)` if `pred` else `x`, for any pytree `x` (only its arrays pass the cond).
    `fn` must keep the structure, shapes and dtypes (checked at trace time; `what` names
    the callback and its argument in the message)."""
    dyn, static = eqx.partition(x, eqx.is_array)

    def yes(d):
        return eqx.filter(fn(eqx.combine(d, static)), eqx.is_array)

    def spec(tree):
        return jtu.tree_map(lambda a: f"{jnp.dtype(a.dtype)}{list(a.shape)}", tree)

    want, got = spec(dyn), spec(eqx.filter_eval_shape(yes, dyn))
    if (jtu.tree_structure(want) != jtu.tree_structure(got)
            or jtu.tree_leaves(want) != jtu.tree_leaves(got)):
        raise ValueError(
            f"`fn` of {what[0]} must return {what[1]} of the same structure, shapes and dtypes "
            f"as it receives: expected {_short(want)}, got {_short(got)}. Keep the sizes "
            "fixed (e.g. resample the same number of points).")
    return eqx.combine(jax.lax.cond(pred, yes, lambda d: d, dyn), static)


def _short(tree, n=300):
    text = str(tree)
    return text if len(text) <= n else text[:n] + "..."


def _check_every(every):
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise ValueError(f"`every` must be a positive int, got {every!r}.")


class AbstractCallback(eqx.Module):
    """Base class of the callbacks of `fit` (see the module docstring); every method has a
    do-nothing default."""

    def init(self, params, static, args, bucket):
        return None

    def before(self, step, model, args, key, state):
        return model, args, state

    def after(self, step, params, values, grads, state):
        return state

    def history(self, state) -> dict:
        return {}

    def bucket_length(self, bucket: int) -> int:
        return bucket

    def history_length(self, steps: int) -> int:
        return steps


class _EveryFn(AbstractCallback):
    """A callback applying `fn` every `every` steps (the fields and checks shared by
    `UpdateArgs` and `ModifyModel`)."""

    fn: Callable[..., Any]
    every: Any = 1

    def __init__(self, fn: Callable[..., Any], every: Any = 1):
        if not callable(fn):
            raise TypeError(f"`fn` must be callable, got {type(fn).__name__}.")
        if eqx.is_array(every):
            # a 0-d integer array (traced under jit): checked once here, not in the loop
            if jnp.ndim(every) != 0 or not jnp.issubdtype(jnp.result_type(every), jnp.integer):
                raise ValueError(f"`every` must be a positive int or a 0-d integer array, got "
                                 f"shape {jnp.shape(every)} of dtype {jnp.result_type(every)}.")
            got = f", got {int(every)}" if is_concrete(every) else ""
            every = check_value(jnp.asarray(every), jnp.asarray(every) < 1,
                                f"`every` must be >= 1{got}: give a positive step interval.")
        else:
            _check_every(every)
        self.fn = fn
        self.every = every


class UpdateArgs(_EveryFn):
    r"""`args <- fn(model, args, key)` before every `every`-th step (steps $0, k, 2k, ...$):
    collocation resampling, new minibatches, any data update. `fn` must keep the shapes.

    **Arguments:**
    - `fn(model, args, key) -> args`: pure; `key` is a fresh PRNG key each time.
    - `every`: a positive int.
    """

    def before(self, step, model, args, key, state):
        args = _cond_tree(step % self.every == 0, lambda a: self.fn(model, a, key), args,
                          (type(self).__name__, "`args`"))
        return model, args, state


class LossWeights(UpdateArgs):
    r"""Adaptive loss weights: `args <- fn(model, args, key)` every `every` steps, the
    weights living in `args` (e.g. `jaxsci.pinn.update_weights` on `PINNArgs.weights`).
    The same mechanism as `UpdateArgs`, named for what it does."""


class ModifyModel(_EveryFn):
    r"""`model <- fn(model, args, key)` before every `every`-th step except step 0: the hook
    of a parameter jump (e.g. a Koopman forecast of the weights). The trainer state is kept
    (an optax state stays valid; an optimistix solver does not see the change). A jump that
    needs the recorded snapshots keeps them in its own state: subclass `AbstractCallback`
    and record in `after`, as `Record` does.

    **Arguments:**
    - `fn(model, args, key) -> model` (same structure and shapes).
    - `every`: a positive int.
    """

    def before(self, step, model, args, key, state):
        pred = (step % self.every == 0) & (step > 0)
        return (_cond_tree(pred, lambda m: self.fn(m, args, key), model,
                           (type(self).__name__, "a model")), args, state)


class Record(AbstractCallback):
    r"""Snapshots of the parameters every `every` steps (training as a dynamical system
    $w(t+1) = T(w(t))$, what `record_trajectory` records): at steps $0, k, 2k, \dots$ the
    parameters before the step, the loss there and the global gradient norm (NaN when the
    trainer forms no gradient). `Solution.history["snapshots"]` is a dict `"params"`
    (the inexact arrays of the model, stacked), `"loss"`, `"grad_norm"`, `"step"`, each of
    leading length $\lceil$ `steps` $/ k\rceil$.

    **Arguments:**
    - `every`: a positive int (static: it sets the size of the record).
    """

    every: int = eqx.field(default=1, static=True)

    def __check_init__(self):
        _check_every(self.every)

    def bucket_length(self, bucket):
        return -(-bucket // self.every)

    def history_length(self, steps):
        return -(-steps // self.every)

    def init(self, params, static, args, bucket):
        n = self.bucket_length(bucket)
        snaps = jtu.tree_map(lambda p: jnp.full((n, *p.shape), jnp.nan, p.dtype), params)
        dtype = jnp.result_type(float)
        return {"params": snaps, "loss": jnp.full((n,), jnp.nan, dtype),
                "grad_norm": jnp.full((n,), jnp.nan, dtype),
                "step": jnp.arange(n, dtype=jnp.int32) * self.every}

    def after(self, step, params, values, grads, state):
        gn = (jnp.asarray(jnp.nan, state["grad_norm"].dtype) if grads is None
              else optax.global_norm(grads).astype(state["grad_norm"].dtype))

        def write(s):
            j = step // self.every
            return {"params": jtu.tree_map(lambda h, p: h.at[j].set(p), s["params"], params),
                    "loss": s["loss"].at[j].set(values["loss"].astype(s["loss"].dtype)),
                    "grad_norm": s["grad_norm"].at[j].set(gn), "step": s["step"]}

        return jax.lax.cond(step % self.every == 0, write, lambda s: s, state)

    def history(self, state):
        return {"snapshots": state}


class AbstractStop(eqx.Module):
    """Base class of the stops of `fit` (see the module docstring)."""

    def init(self, params, static, args, bucket):
        return None

    def check(self, step, steps, loss, params, static, args, state):
        raise NotImplementedError

    def finish(self, params, state):
        return params, RESULTS.successful, {}, {}

    def bucket_length(self, bucket: int) -> int:
        return bucket

    def history_length(self, steps: int) -> int:
        return steps


class TargetLoss(AbstractStop):
    r"""Stop as soon as the loss is $\le$ `value`; the returned model is the iterate that
    reached it. If it is never reached, the result is `RESULTS.max_steps_reached` (with
    `throw=True`, `fit` raises).

    **Arguments:**
    - `value`: the target (a float or a 0-d array; traced, so another target reuses the
      compiled loop). A NaN target (never reached) is refused: `ValueError` when concrete.
    """

    value: Any

    def __check_init__(self):
        if isinstance(self.value, bool) or not (
                isinstance(self.value, (int, float)) or eqx.is_array(self.value)):
            raise TypeError(f"`value` of TargetLoss must be a number, got "
                            f"{type(self.value).__name__}.")
        if is_concrete(self.value):
            v = jnp.asarray(self.value)
            if v.ndim != 0:
                raise ValueError(f"`value` of TargetLoss must be a scalar, got shape {v.shape}.")
            check_value(v, jnp.isnan(v), "`value` of TargetLoss is NaN (it could never be "
                        "reached): give a finite target loss.")

    def init(self, params, static, args, bucket):
        return jnp.asarray(False)

    def check(self, step, steps, loss, params, static, args, state):
        hit = loss <= self.value
        return state | hit, hit, ~hit

    def finish(self, params, state):
        result = RESULTS.where(state, RESULTS.successful, RESULTS.max_steps_reached)
        return params, result, {"target_reached": state}, {}


class ValidationPatience(AbstractStop):
    r"""Early stopping on a validation loss: every `every` steps (and after the last one)
    `valid_fn(model)` is evaluated; the model with the best validation loss (the initial
    one included) is returned, and training stops after `patience` consecutive evaluations
    without improvement.

    `Solution.stats` gains `"best_step"` (steps done at the best model), `"valid_loss"` (its
    validation loss) and `"stopped_early"`; `Solution.history["valid_loss"]` holds one entry
    per evaluation. If no evaluation gave a finite validation loss (NaN validation data or
    model), the result is `RESULTS.nonfinite_loss`.  ($\lceil$ `steps` $/$ `every` $\rceil$, NaN after a stop).

    **Arguments:**
    - `valid_fn(model) -> scalar`: the validation loss (data in its closure).
    - `every`, `patience`: positive ints.
    """

    valid_fn: Callable[[Any], Any]
    every: int = eqx.field(default=1, static=True)
    patience: Any = 6

    def __check_init__(self):
        if not callable(self.valid_fn):
            raise TypeError(f"`valid_fn` must be callable, got {type(self.valid_fn).__name__}.")
        _check_every(self.every)
        if not eqx.is_array(self.patience):
            if (not isinstance(self.patience, int) or isinstance(self.patience, bool)
                    or self.patience < 1):
                raise ValueError(f"`patience` must be a positive int, got {self.patience!r}.")

    def bucket_length(self, bucket):
        return -(-bucket // self.every)

    def history_length(self, steps):
        return -(-steps // self.every)

    def init(self, params, static, args, bucket):
        v0 = jnp.asarray(self.valid_fn(eqx.combine(params, static)))
        hist = jnp.full((self.bucket_length(bucket),), jnp.nan, v0.dtype)
        return (params, v0, jnp.asarray(0, jnp.int32), jnp.asarray(0, jnp.int32), hist)

    def check(self, step, steps, loss, params, static, args, state):
        def evaluate(s):
            best, best_val, best_step, bad, hist = s
            va = jnp.asarray(self.valid_fn(eqx.combine(params, static))).astype(best_val.dtype)
            improved = (va < best_val) | (jnp.isfinite(va) & ~jnp.isfinite(best_val))
            best = jtu.tree_map(lambda a, b: jnp.where(improved, a, b), params, best)
            return (best, jnp.where(improved, va, best_val),
                    jnp.where(improved, step + 1, best_step).astype(jnp.int32),
                    jnp.where(improved, 0, bad + 1).astype(jnp.int32),
                    hist.at[step // self.every].set(va))

        pred = ((step + 1) % self.every == 0) | (step + 1 == steps)
        state = jax.lax.cond(pred, evaluate, lambda s: s, state)
        return state, state[3] >= self.patience, jnp.asarray(True)

    def finish(self, params, state):
        best, best_val, best_step, bad, hist = state
        stats = {"best_step": best_step, "valid_loss": best_val,
                 "stopped_early": bad >= self.patience}
        result = RESULTS.where(jnp.isfinite(best_val), RESULTS.successful,
                               RESULTS.nonfinite_loss)
        return best, result, stats, {"valid_loss": hist}
