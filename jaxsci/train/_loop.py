r"""One training loop for every trainer: `fit(loss_fn, model, trainer, steps=...)`.

`fit` minimises `loss_fn(model, args) -> (loss, terms)` (a scalar and a dict of named
scalars, DESIGN rule 8) with a trainer in the optimistix style (`init` / `step` /
`terminate`, `_trainers.py`): `Optax(optimizer)` (a bare optax transformation is wrapped
automatically), `Optimistix(solver)` (BFGS, Levenberg-Marquardt, ...), `LSGD(...)`.
Callbacks (`_callbacks.py`: resampling, loss weights, parameter recording, model jumps) and
stops (target loss, validation patience) are pure `eqx.Module`s run inside the loop.

Recorded per step: the loss, every named term, and the L2 norm of the loss gradient with
respect to the weight matrix of every `eqx.nn.Linear` layer (the diagnostic of Fuks &
Tchelepi, Fig. 7). The whole loop is one `lax.while_loop` inside one `eqx.filter_jit`, with
the number of steps a traced bound (the history is preallocated for the next power of two and
cut afterwards), and the loss, trainer, callbacks and stops are passed as pytrees
(`jaxsci._hoist`), so a new optimiser object, a re-created `lambda`, new data of the same
shapes or another step count reuse the compiled loop.

NaN / divergence policy (every trainer): the loop stops at the first non-finite loss, or as
soon as the loss has risen for `_RISING` consecutive steps to more than `divergence` times
the initial loss, and returns the best iterate seen, with `RESULTS.nonfinite_loss` or
`RESULTS.diverged`. The test uses scalars only (no cost per step beyond a few comparisons).
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

from .._checks import require_positive_int
from .._hoist import bucket as _bucket, call_hoisted, hoist, trim as _trim, unhoist
from .._solution import RESULTS, Solution, raise_if_failed
from ..init import linear_layers
from ._callbacks import AbstractCallback, AbstractStop
from ._trainers import as_trainer

# consecutive rising steps needed (besides the ratio) before a growing loss counts as a
# divergence: a single spike (a jump, a fresh optimiser state near an optimum) is not one.
_RISING = 5

LossFn = Callable[[Any, Any], tuple[Float[Array, ""], dict[str, Float[Array, ""]]]]


def layer_gradient_norms(grads: PyTree) -> Float[Array, " layers"]:
    r"""$\|\partial L / \partial W_\ell\|_2$ for every `eqx.nn.Linear` layer $\ell$ in `grads`
    (a gradient pytree with the model's structure), in tree order; shape `(0,)` if none."""
    norms = [jnp.sqrt(jnp.sum(layer.weight**2)) for layer in linear_layers(grads)
             if layer.weight is not None]
    if not norms:
        return jnp.zeros((0,))
    return jnp.stack(norms)


def _print_progress(step, values):
    terms = "  ".join(f"{k}={float(v):.3e}" for k, v in values.items())
    print(f"step {int(step):>7d}  {terms}", flush=True)


def make_step(
    loss_fn: LossFn, optimizer: optax.GradientTransformation, model: Any
) -> tuple[Callable, Any, Any]:
    r"""The single `Optax` training step used by `fit`, for users who drive their own loop.

    **Returns:** `(step, params, static)` with `params, static = eqx.partition(model,
    eqx.is_inexact_array)` and the pure function
    `step(params, opt_state, args) -> (params, opt_state, loss, terms, grads)`
    (wrap it in `jax.jit`). Initialise `opt_state` with
    `optax.with_extra_args_support(optimizer).init(params)`.
    """
    from ._trainers import Optax

    trainer = Optax(optimizer)
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def step(params, opt_state, args):
        return trainer.step(loss_fn, params, static, args, opt_state)

    return step, params, static


def _as_tuple(x, base, name):
    if x is None:
        return ()
    xs = tuple(x) if isinstance(x, (tuple, list)) else (x,)
    for c in xs:
        if not isinstance(c, base):
            raise TypeError(f"`{name}` must be {base.__name__} instances (e.g. from "
                            f"jaxsci.train), got {type(c).__name__}.")
    return xs


def fit(
    loss_fn: LossFn,
    model: Any,
    trainer: Any,
    *,
    steps: int,
    args: Any = None,
    key: PRNGKeyArray | None = None,
    callbacks: Any = (),
    stop: Any = None,
    progress: int | tuple[int, Callable] | None = None,
    state: Any = None,
    divergence: float | None = 1e8,
    throw: bool = True,
) -> Solution:
    r"""Train `model` for at most `steps` trainer steps in one compiled `lax.while_loop`.

    **Arguments:**
    - `loss_fn(model, args) -> (loss, terms)`: scalar loss and dict of named scalars.
    - `model`: any pytree (typically an `eqx.Module`); its inexact arrays are trained.
    - `trainer`: `Optax(optimizer)`, `Optimistix(solver)`, `LSGD(...)`, any
      `AbstractTrainer`; a bare `optax.GradientTransformation` (`optax.adam(1e-3)`,
      `optax.lbfgs()`) or optimistix minimiser is wrapped automatically.
    - `steps`: maximum number of steps (a positive int; traced, see below).
    - `args`: data passed to `loss_fn` (pytree; e.g. `jaxsci.pinn.PINNArgs`).
    - `key`: PRNG key for the callbacks (default `jax.random.key(0)`).
    - `callbacks`: an `AbstractCallback` or a tuple of them (`UpdateArgs`, `LossWeights`,
      `Record`, `ModifyModel`), run in order before / after every step.
    - `stop`: an `AbstractStop` or a tuple of them (`TargetLoss`, `ValidationPatience`).
    - `progress`: `None` (silent), `k` (print a line every `k` steps and at the last one,
      from inside the compiled loop via `jax.debug.callback`) or `(k, fn)` to call
      `fn(step, {"loss": ..., **terms})` instead.
    - `state`: resume from this trainer state (`solution.state["trainer"]`).
    - `divergence`: the loss counts as diverging once it exceeds `divergence` times the
      initial loss after rising for 5 consecutive steps (a finite number > 1; `None`
      switches the test off).
    - `throw`: raise on failure (non-finite loss, divergence, target not reached, solver
      failure); else inspect `solution.result`.

    **NaN and divergence policy.** The loop stops at the first non-finite loss, or when the
    loss diverges (above); the returned model is the iterate with the lowest loss seen and
    the result `RESULTS.diverged` if the loss had grown above its initial value before (a
    blow-up), else `RESULTS.nonfinite_loss` (NaN/inf data, a NaN in the model or the loss).
    A trainer's final step (`LSGD`'s last LS solve) is kept only if its output is finite.

    **Raises:** `ValueError` / `TypeError` (at once) for `steps` not a positive int, a
    non-callable `loss_fn`, an unknown `trainer`, callbacks or stops of the wrong type, a
    bad `progress` or `divergence`; with `throw=True`, `EquinoxRuntimeError` carrying the
    `RESULTS` message of a failed run.

    **Compilation.** A second call reuses the compiled loop when only these change: the
    data (arrays in `args`, in `loss_fn`'s closure, same shapes and dtypes), the optimiser
    object (`optax.adam(1e-3)` created anew, or with another learning rate: Python floats
    in closures are traced under x64), `loss_fn` re-created from the same source (a
    `lambda` in a loop), `steps` within the same power-of-two bucket
    ($2^{k-1} < $ `steps` $\le 2^k$: the history is allocated for $2^k$ steps and cut to
    `steps` afterwards), the progress interval (but not whether it is `None`).

    **Returns:** a `Solution` with
    - `value`: the trained model (the best iterate after a non-finite loss, the
      best-validation one with `ValidationPatience`);
    - `result`: `RESULTS.successful`, `nonfinite_loss`, `diverged`, `max_steps_reached` (a
      `TargetLoss` not reached) or the trainer's own failure code;
    - `stats`: `"num_steps"` (steps run), `"loss"` (the last finite loss recorded: the value
      before the last step, or of the returned iterate after a stop or a non-finite loss;
      a trainer with a final step, as `LSGD`, reports the returned model's own), plus what
      the stops and the trainer add;
    - `history`: `"loss"` and each named term, shape `(steps,)` (the values at the
      parameters *before* each step, NaN after an early stop), `"grad_norms"`
      `(steps, layers)` (per `eqx.nn.Linear` layer, when the trainer forms the gradient),
      plus what the callbacks and stops add (`"snapshots"`, `"valid_loss"`);
    - `state`: `{"trainer": trainer state, "args": final args}`, to continue training.
    """
    steps = require_positive_int(steps, "steps")
    if divergence is not None:
        if (isinstance(divergence, bool) or not isinstance(divergence, (int, float))
                or not np.isfinite(divergence) or not divergence > 1):
            raise ValueError(f"`divergence` must be None or a finite number > 1, got "
                             f"{divergence!r}.")
        divergence = np.asarray(divergence, jnp.result_type(float))
    if not callable(loss_fn):
        raise TypeError(f"`loss_fn` must be callable, got {type(loss_fn).__name__}.")
    trainer = as_trainer(trainer)
    callbacks = _as_tuple(callbacks, AbstractCallback, "callbacks")
    stops = _as_tuple(stop, AbstractStop, "stop")
    progress_fn, every = _print_progress, None
    if isinstance(progress, tuple):
        if len(progress) != 2 or not callable(progress[1]):
            raise TypeError("`progress` must be None, an int or a pair (every, fn).")
        every, progress_fn = progress
    elif progress is not None:
        every = progress
    if every is not None and (not isinstance(every, int) or isinstance(every, bool)
                              or every < 1):
        raise ValueError(f"`progress` must be None, a positive int or (int, fn), got "
                         f"{progress!r}.")
    trainer.check(loss_fn, model, args)
    if key is None:
        key = jr.key(0)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    args_dyn, args_static = eqx.partition(args, eqx.is_array)
    b = _bucket(steps)
    sol = call_hoisted(
        _fit,
        (loss_fn, trainer, callbacks, stops),
        hoist(progress_fn, arrays=False),
        static, args_static, params, state, args_dyn, key,
        np.int32(steps), None if every is None else np.int32(every), divergence, throw,
        bucket=b,
    )
    hist = sol.history
    out = _trim(hist["main"], steps)
    for obj, h in zip(callbacks + stops, hist["extra"]):
        out.update(_trim(h, obj.history_length(steps)))
    return eqx.tree_at(lambda s: s.history, sol, out)


def _fill(dtype):
    """NaN for the unused rows of a float history; 0 / False for integer / bool records."""
    return jnp.nan if jnp.issubdtype(dtype, jnp.inexact) else 0


def _select(pred, a, b):
    return jtu.tree_map(lambda x, y: jnp.where(pred, x, y), a, b)


@eqx.filter_jit
def _fit(loss_fn, trainer, callbacks, stops, progress_fn, static, args_static, params,
         tstate, args_dyn, key, steps, every, divergence, throw, *, bucket):
    loss_fn, trainer, callbacks, stops, progress_fn = (
        unhoist(loss_fn), unhoist(trainer), unhoist(callbacks), unhoist(stops),
        unhoist(progress_fn))
    args0 = eqx.combine(args_dyn, args_static)
    if tstate is None:
        tstate = trainer.init(loss_fn, params, static, args0)
    tdyn, tstatic = eqx.partition(tstate, eqx.is_array)
    cb_states = tuple(c.init(params, static, args0, bucket) for c in callbacks)
    st_states = tuple(s.init(params, static, args0, bucket) for s in stops)

    def one_step(params, tdyn, args_dyn):
        out = trainer.step(loss_fn, params, static, eqx.combine(args_dyn, args_static),
                           eqx.combine(tdyn, tstatic))
        new, ts, loss, terms, grads = out
        return new, eqx.filter(ts, eqx.is_array), {"loss": loss, **terms}, grads

    # shapes of the recorded values, for the preallocated history (no compilation)
    _, _, values0, grads0 = eqx.filter_eval_shape(one_step, params, tdyn, args_dyn)
    has_grads = grads0 is not None
    rec0 = dict(values0)
    if has_grads:
        rec0["grad_norms"] = jax.eval_shape(layer_gradient_norms, grads0)
    history0 = jtu.tree_map(lambda s: jnp.full((bucket, *s.shape), _fill(s.dtype), s.dtype),
                            rec0)
    dtype = values0["loss"].dtype

    def body(carry):
        (i, params, tdyn, args_dyn, key, history, cbs, sts, best, best_loss, last_loss,
         _, nonfinite, result, first, streak, diverged) = carry
        model = eqx.combine(params, static)
        args = eqx.combine(args_dyn, args_static)
        if callbacks:
            key, *subs = jr.split(key, len(callbacks) + 1)
            new_cbs = []
            for c, s, k in zip(callbacks, cbs, subs):
                model, args, s = c.before(i, model, args, k, s)
                new_cbs.append(s)
            cbs = tuple(new_cbs)
            params = eqx.filter(model, eqx.is_inexact_array)
            args_dyn = eqx.filter(args, eqx.is_array)
        new_params, new_tdyn, values, grads = one_step(params, tdyn, args_dyn)
        loss = values["loss"]
        finite = jnp.isfinite(loss)
        rec = dict(values)
        if has_grads:
            rec["grad_norms"] = layer_gradient_norms(grads)
        history = jtu.tree_map(lambda h, v: h.at[i].set(v.astype(h.dtype)), history, rec)
        cbs = tuple(c.after(i, params, values, grads, s) for c, s in zip(callbacks, cbs))
        if progress_fn is not None and every is not None:
            jax.lax.cond((i % every == 0) | (i == steps - 1),
                         lambda: jax.debug.callback(progress_fn, i, values), lambda: None)
        better = finite & (loss < best_loss)
        best = _select(better, params, best)
        best_loss = jnp.where(better, loss, best_loss)
        first = jnp.where(i == 0, loss, first).astype(dtype)
        rising = finite & (loss > last_loss)
        streak = jnp.where(rising, streak + 1, 0).astype(jnp.int32)
        # a blow-up: non-finite after the loss had grown above its initial value
        grown = ~finite & (last_loss > first)
        if divergence is not None:
            grown = grown | (finite & (streak >= _RISING) & (loss > divergence * first))
        diverged = diverged | grown
        last_loss = jnp.where(finite, loss, last_loss).astype(dtype)
        done = ~finite | grown
        accept = finite
        new_sts = []
        for s_obj, s in zip(stops, sts):
            s, d, a = s_obj.check(i, steps, loss, new_params, static,
                                  eqx.combine(args_dyn, args_static), s)
            new_sts.append(s)
            done, accept = done | d, accept & a
        sts = tuple(new_sts)
        if stops:
            params = _select(accept, new_params, params)
            tdyn = _select(accept, new_tdyn, tdyn)
        else:
            params, tdyn = new_params, new_tdyn
        tdone, tres = trainer.terminate(loss_fn, params, static,
                                        eqx.combine(args_dyn, args_static),
                                        eqx.combine(tdyn, tstatic))
        tdone = jnp.asarray(tdone) & finite
        result = RESULTS.where(tdone, tres, result)
        done = done | tdone
        return (i + 1, params, tdyn, args_dyn, key, history, cbs, sts, best, best_loss,
                last_loss, done, nonfinite | ~finite, result, first, streak, diverged)

    inf = jnp.asarray(jnp.inf, dtype)
    carry = (jnp.asarray(0, jnp.int32), params, tdyn, args_dyn, key, history0, cb_states,
             st_states, params, inf, jnp.asarray(jnp.nan, dtype), jnp.asarray(False),
             jnp.asarray(False), RESULTS.successful, jnp.asarray(jnp.nan, dtype),
             jnp.asarray(0, jnp.int32), jnp.asarray(False))
    (i, params, tdyn, args_dyn, _, history, cbs, sts, best, best_loss, last_loss, _,
     nonfinite, result, first, _, diverged) = jax.lax.while_loop(
        lambda c: (c[0] < steps) & ~c[11], body, carry)
    args = eqx.combine(args_dyn, args_static)
    tstate = eqx.combine(tdyn, tstatic)
    stats = {"num_steps": i}
    extra = []
    for s_obj, s in zip(stops, sts):
        params, res, st, h = s_obj.finish(params, s)
        result = RESULTS.where(result == RESULTS.successful, res, result)
        stats.update(st)
        extra.append(h)
    failed = nonfinite | diverged
    params = _select(failed, best, params)
    result = RESULTS.where(nonfinite, RESULTS.nonfinite_loss, result)
    result = RESULTS.where(diverged, RESULTS.diverged, result)
    # no finite loss at all (NaN data): report the initial (non-finite) loss, not inf
    best_loss = jnp.where(jnp.isfinite(best_loss), best_loss, first)
    stats["loss"] = jnp.where(failed, best_loss, last_loss)
    final_params, final = trainer.finalize(loss_fn, params, static, args, tstate)
    # after a failure the final step (e.g. LSGD's LS solve on NaN data) must not put NaN
    # into the best iterate: keep it only if it and its loss are finite
    ok = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in
                            jtu.tree_leaves((final_params, final.get("loss", 0.0)))]))
    keep = ~failed | ok
    params = _select(keep, final_params, params)
    if "loss" in final:
        final = dict(final, loss=jnp.where(keep, final["loss"], stats["loss"]))
    stats.update(final)
    extra = [c.history(s) for c, s in zip(callbacks, cbs)] + extra
    sol = Solution(value=eqx.combine(params, static), result=result, stats=stats,
                   history={"main": history, "extra": extra},
                   state={"trainer": tstate, "args": args})
    return raise_if_failed(sol, throw)
