r"""Koopman training: accelerate an optimiser by jumping along the Koopman-predicted weights.

Dogra & Redman 2020 ("Optimizing neural networks via Koopman operator theory", NeurIPS 2020,
Sec. 3 and Algorithm 1): train with a standard optimiser for a window of iterations, build
Koopman (DMD) operators of the weight evolution — one per layer, or one per neuron ("node
Koopman") — and replace further optimiser iterations by the cheap linear evolution
$\hat w(t_0 + s) = \Phi \Lambda^{s} \Phi^{+} w(t_0)$. Following seed 003 (step 8, "use Koopman
training to accelerate") the jump is made periodically and, as a safeguard, it is accepted only
if the true loss at the predicted weights is lower than at the current weights; among the
candidate jump lengths the one with the lowest true loss is taken.

Each cycle costs `window * every` gradient evaluations plus `len(jumps) + 1` loss evaluations
and a few small SVDs; `jumps=()` gives the plain optimiser with the same bookkeeping.

`koopman_train` is jitted (one `eqx.filter_jit` program for the whole run). The loss and the
optimiser are passed as pytrees (`jaxsci.train._hoist`), the number of cycles is a traced loop
bound (the per-cycle history is preallocated for the next power of two and cut afterwards),
and `jumps`, `rtol` and `target` values are traced, so a re-created loss closure, a new
optimiser object, new data of the same shapes, another `num_cycles` or other jump lengths
reuse the compiled program.
"""

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, PyTree

from .._solution import RESULTS, Solution, raise_if_failed
from .._hoist import bucket as _bucket, call_hoisted, trim as _trim, unhoist
from ..train import optax_step, record_trajectory
from ._dmd import stabilized
from ._predict import fit_weight_koopman


def _stack(snaps: PyTree, last: PyTree) -> PyTree:
    return jax.tree_util.tree_map(
        lambda a, b: jnp.concatenate([a, b[None]]) if eqx.is_array(a) else a, snaps, last
    )


def koopman_train(
    loss_fn: Callable[[PyTree], Float[Array, ""]],
    optimizer: optax.GradientTransformation,
    params: PyTree,
    *,
    num_cycles: int,
    window: int,
    every: int = 1,
    jumps: Sequence[float] = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0),
    rank: int | None = None,
    rtol: float | None = 1e-6,
    per_neuron: bool = False,
    affine: bool = True,
    stabilize: bool = False,
    reset_state: bool = False,
    target: float | None = None,
    throw: bool = True,
) -> Solution:
    r"""Koopman training (Dogra & Redman 2020, Algorithm 1, with an acceptance test).

    Each cycle: (i) `window * every` optimiser steps, recording `window + 1` weight snapshots
    every `every` steps; (ii) fit exact DMD per layer / per neuron to them
    (`fit_weight_koopman`); (iii) evaluate the true loss at $\hat w(t_0 + j\,w\,k)$ for each
    $j$ in `jumps` ($w$ = `window`, $k$ = `every`, so `jumps=(1, 2)` forecasts one and two window
    lengths ahead); (iv) move to the best candidate only if its loss is strictly lower than
    $L(w(t_0))$. The loop stops after `num_cycles` cycles or once $L \le$ `target`.

    Arguments:
        loss_fn: `params -> scalar` (full-batch or fixed-sample loss).
        optimizer: any optax optimiser; its state is kept across jumps unless `reset_state`.
        params: initial parameters (e.g. an `eqx.nn.MLP`).
        num_cycles: maximum number of cycles (a positive int, traced: any value reuses the
            program compiled for the same power-of-two bucket).
        window, every: static ints (they fix the snapshot shapes).
        jumps: candidate jump lengths in units of windows (a sequence of floats, may be
            empty: the plain optimiser; the number of jumps is static, their values traced).
        rank, rtol, per_neuron, affine: DMD options (see `fit_weight_koopman`); the default
            `rtol=1e-6` drops directions with singular values below `1e-6 * sigma_max`, which
            short windows of nearly collinear weight snapshots otherwise turn into spurious
            modes.
        stabilize: clip eigenvalues to the unit disc before forecasting.
        target: optional loss to stop at; if given and not reached the result is
            `RESULTS.max_steps_reached` (raises if `throw`).

    Returns: a `Solution` with `value` = trained params, `stats` = {"num_cycles", "grad_evals",
    "loss_evals", "loss", "accepted"} and `aux` = per-cycle history {"loss_before" (loss at the
    end of the optimiser phase), "loss_jump" (best candidate loss), "accepted", "jump",
    "loss_after", "grad_evals"}, each of shape `(num_cycles,)` (NaN/0 for cycles not run).

    The call is jitted; it may also be called inside the user's own `jit` / `vmap`.
    """
    for name, v in (("num_cycles", num_cycles), ("window", window), ("every", every)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"`{name}` must be a positive int, got {v!r}.")
    if window < 2 and len(jumps) > 0:
        raise ValueError(f"`window` must be >= 2 to fit DMD, got {window}.")
    jumps_arr = tuple(float(j) for j in jumps)
    if any(j <= 0 for j in jumps_arr):
        raise ValueError(f"`jumps` must be positive, got {jumps!r}.")
    sol = call_hoisted(
        _koopman_train,
        (loss_fn, optimizer),
        params,
        np.int32(num_cycles),
        np.asarray(jumps_arr) if jumps_arr else None,
        None if rtol is None else _scalar(rtol),
        None if target is None else _scalar(target),
        window=window,
        every=every,
        rank=rank,
        per_neuron=per_neuron,
        affine=affine,
        stabilize=stabilize,
        reset_state=reset_state,
        throw=throw,
        bucket=_bucket(num_cycles),
    )
    return eqx.tree_at(lambda s: s.history, sol, _trim(sol.history, num_cycles))


def _scalar(x):
    # a Python float as a weakly typed device scalar (`jnp.asarray` would compile a program)
    return jax.device_put(x) if isinstance(x, (int, float)) else x


@eqx.filter_jit
def _koopman_train(
    loss_fn,
    optimizer,
    params,
    num_cycles,
    jumps,
    rtol,
    target,
    *,
    window,
    every,
    rank,
    per_neuron,
    affine,
    stabilize,
    reset_state,
    throw,
    bucket,
):
    loss_fn, optimizer = unhoist(loss_fn), unhoist(optimizer)
    step = optax_step(loss_fn, optimizer)
    dyn0, static = eqx.partition(params, eqx.is_array)
    state0 = optimizer.init(dyn0)
    dtype = jnp.result_type(*[x.dtype for x in jax.tree_util.tree_leaves(dyn0)])
    tgt = jnp.asarray(-jnp.inf if target is None else target, dtype)
    num_jumps = 0 if jumps is None else jumps.shape[0]
    nan = jnp.full((bucket,), jnp.nan, dtype)
    hist0 = {
        "loss_before": nan,
        "loss_jump": nan,
        "loss_after": nan,
        "accepted": jnp.zeros((bucket,), bool),
        "jump": jnp.zeros((bucket,), dtype),
    }

    def cycle(carry):
        i, dyn, state, _, hist = carry
        p = eqx.combine(dyn, static)
        traj = record_trajectory(step, p, state, num_snapshots=window, every=every)
        p_last, state = traj.final_params, traj.final_state
        loss_last = loss_fn(p_last)
        if num_jumps:
            koop = fit_weight_koopman(
                _stack(traj.params, p_last), rank=rank, rtol=rtol, per_neuron_dmd=per_neuron,
                affine=affine,
                every=every,
            )
            if stabilize:
                koop = eqx.tree_at(lambda k: k.models, koop, [stabilized(m) for m in koop.models])
            cand_s = jnp.asarray(jumps, dtype) * window
            cands = jax.vmap(lambda s: eqx.filter(koop.forecast(p_last, s), eqx.is_array))(cand_s)
            cand_loss = jax.vmap(lambda c: loss_fn(eqx.combine(c, static)))(cands)
            cand_loss = jnp.where(jnp.isfinite(cand_loss), cand_loss, jnp.inf)
            best = jnp.argmin(cand_loss)
            best_loss = cand_loss[best]
            accept = best_loss < loss_last
            best_dyn = jax.tree_util.tree_map(lambda a: a[best], cands)
            dyn_new = jax.tree_util.tree_map(
                lambda a, b: jnp.where(accept, a, b), best_dyn, eqx.filter(p_last, eqx.is_array)
            )
            if reset_state:
                state = jax.tree_util.tree_map(
                    lambda a, b: jnp.where(accept, a, b), optimizer.init(dyn_new), state
                )
            loss_new = jnp.where(accept, best_loss, loss_last)
            jump = jnp.where(accept, cand_s[best] * every, 0).astype(dtype)
        else:
            dyn_new, best_loss, accept = eqx.filter(p_last, eqx.is_array), loss_last, False
            loss_new, jump = loss_last, jnp.zeros((), dtype)
        hist = {
            "loss_before": hist["loss_before"].at[i].set(loss_last),
            "loss_jump": hist["loss_jump"].at[i].set(best_loss),
            "loss_after": hist["loss_after"].at[i].set(loss_new),
            "accepted": hist["accepted"].at[i].set(accept),
            "jump": hist["jump"].at[i].set(jump),
        }
        return i + 1, dyn_new, state, loss_new, hist

    def cond(carry):
        i, _, _, loss, _ = carry
        return (i < num_cycles) & (loss > tgt)

    init = (jnp.asarray(0), dyn0, state0, jnp.asarray(jnp.inf, dtype), hist0)
    n, dyn, _, loss, hist = jax.lax.while_loop(cond, cycle, init)
    loss = eqx.error_if(loss, ~jnp.isfinite(loss), "Non-finite loss in Koopman training: lower the learning rate.")
    reached = loss <= tgt
    result = RESULTS.where(reached | (target is None), RESULTS.successful, RESULTS.max_steps_reached)
    hist["grad_evals"] = (jnp.arange(bucket) + 1) * window * every
    stats = {
        "num_cycles": n,
        "grad_evals": n * window * every,
        "loss_evals": n * (num_jumps + 1),
        "loss": loss,
        "accepted": jnp.sum(hist["accepted"]),
    }
    sol = Solution(eqx.combine(dyn, static), result, stats, hist)
    return raise_if_failed(sol, throw)
