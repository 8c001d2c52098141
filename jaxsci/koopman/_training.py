r"""Koopman training: accelerate an optimizer by jumping along the Koopman-predicted weights.

Dogra & Redman 2020 ("Optimizing neural networks via Koopman operator theory", NeurIPS 2020,
Sec. 3 and Algorithm 1): train with a standard optimizer for a window of iterations, build
Koopman (DMD) operators of the weight evolution — one per layer, or one per neuron ("node
Koopman") — and replace further optimizer iterations by the cheap linear evolution
$\hat w(t_0 + s) = \Phi \Lambda^{s} \Phi^{+} w(t_0)$. Following seed 003 (step 8, "use Koopman
training to accelerate") the jump is made periodically and, as a safeguard, it is accepted only
if the true loss at the predicted weights is lower than at the current weights; among the
candidate jump lengths the one with the lowest true loss is taken.

Each cycle costs `window * every` gradient evaluations plus `len(jumps) + 1` loss evaluations
and a few small SVDs; `jumps=()` gives the plain optimizer with the same bookkeeping.

`koopman_train` is jitted (one `eqx.filter_jit` program for the whole run). The loss and the
optimizer are passed as pytrees (`jaxsci._hoist`), the number of cycles is a traced loop
bound (the per-cycle history is preallocated for the next power of two and cut afterwards),
and `jumps`, `rtol` and `target` values are traced, so a re-created loss closure, a new
optimizer object, new data of the same shapes, another `num_cycles` or other jump lengths
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
from ._predict import _check_rank_arg, _fit_weight_koopman


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
    progress: int | None = None,
    throw: bool = True,
) -> Solution:
    r"""Koopman training (Dogra & Redman 2020, Algorithm 1, with an acceptance test).

    Each cycle: (i) `window * every` optimizer steps, recording `window + 1` weight snapshots
    every `every` steps; (ii) fit exact DMD per layer / per neuron to them
    (`fit_weight_koopman`); (iii) evaluate the true loss at $\hat w(t_0 + j\,w\,k)$ for each
    $j$ in `jumps` ($w$ = `window`, $k$ = `every`, so `jumps=(1, 2)` forecasts one and two window
    lengths ahead); (iv) move to the best candidate only if its loss is strictly lower than
    $L(w(t_0))$. The loop stops after `num_cycles` cycles or once $L \le$ `target`.

    **Arguments:**

    - `loss_fn`: `params -> scalar` (full-batch or fixed-sample loss).
    - `optimizer`: any optax optimizer; its state is kept across jumps unless `reset_state`.
    - `params`: initial parameters (e.g. an `eqx.nn.MLP`).
    - `num_cycles`: maximum number of cycles (a positive int, traced: any value reuses the
        program compiled for the same power-of-two bucket).
    - `window`, `every`: static ints (they fix the snapshot shapes).
    - `jumps`: candidate jump lengths in units of windows (a sequence of floats, may be
        empty: the plain optimizer; the number of jumps is static, their values traced).
    - `rank`, `rtol`, `per_neuron`, `affine`: DMD options (see `fit_weight_koopman`); the
        default `rtol=1e-6` drops directions with singular values below `1e-6 * sigma_max`,
        which short windows of nearly collinear weight snapshots otherwise turn into
        spurious modes.
    - `stabilize`: clip eigenvalues to the unit disc before forecasting.
    - `reset_state`: re-initialise the optimizer state after an accepted jump.
    - `target`: optional loss to stop at; if given and not reached the result is
        `RESULTS.max_steps_reached`.
    - `progress`: `None` (silent) or a positive int `k`: print one line every `k` cycles
        (and at the last one) from inside the compiled program (`jax.debug.callback`).
    - `throw`: raise on failure (at run time, also under `jit`); otherwise inspect
        `solution.result`.

    **Returns:** a `Solution` with

    - `value`: the trained params;
    - `result`: `RESULTS.successful`; `RESULTS.max_steps_reached` if `target` was given and
        not reached; `RESULTS.nonfinite_loss` if the loss became NaN/inf: the run stops at
        that cycle and `value` (with `state` and `stats["loss"]`) is the best iterate seen
        (the lowest loss at a cycle end, or the initial params);
    - `stats`: scalars `"num_cycles"` (cycles run), `"grad_evals"`, `"loss_evals"`,
        `"loss"` (the loss of `value`), `"accepted"` (number of accepted jumps);
    - `history`: per-cycle records, each of shape `(num_cycles,)` (NaN/0 for cycles not
        run): `"loss_before"` (loss at the end of the optimizer phase), `"loss_jump"` (best
        candidate loss), `"accepted"`, `"jump"` (optimizer steps skipped), `"loss_after"`,
        `"grad_evals"` (cumulative);
    - `state`: the optimizer state belonging to `value` (continue training from it).

    The call is jitted; it may also be called inside the user's own `jit` / `vmap`.

    **Raises:** `ValueError` / `TypeError` at once for a non-positive `num_cycles`,
    `window`, `every` or `progress`, `window < 2` with jumps, non-finite or non-positive
    `jumps`, `rank < 1`, a negative or non-finite `rtol`, a non-finite `target`, a
    non-callable `loss_fn` or `params` without float leaves. A NaN/inf loss during the run
    is `RESULTS.nonfinite_loss` (above), raised only with `throw=True`.
    """
    for name, v in (("num_cycles", num_cycles), ("window", window), ("every", every)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"`{name}` must be a positive int, got {v!r}.")
    if window < 2 and len(jumps) > 0:
        raise ValueError(f"`window` must be >= 2 to fit DMD, got {window}.")
    if not callable(loss_fn):
        raise TypeError(f"`loss_fn` must be a callable params -> scalar, got {type(loss_fn).__name__}.")
    if not jax.tree_util.tree_leaves(eqx.filter(params, eqx.is_inexact_array)):
        raise ValueError("`params` has no floating-point array leaves (nothing to train).")
    try:
        jumps_arr = tuple(float(j) for j in jumps)
    except (TypeError, ValueError):
        raise TypeError(f"`jumps` must be a sequence of floats, got {jumps!r}.") from None
    if not all(np.isfinite(j) and j > 0 for j in jumps_arr):
        raise ValueError(f"`jumps` must be finite and positive, got {jumps!r}.")
    _check_rank_arg(rank)
    for name, v in (("rtol", rtol), ("target", target)):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and not np.isfinite(v):
            raise ValueError(f"`{name}` must be finite, got {v!r}.")
    if isinstance(rtol, (int, float)) and rtol < 0:
        raise ValueError(f"`rtol` must be >= 0 (or None), got {rtol!r}.")
    if progress is not None and (not isinstance(progress, int) or isinstance(progress, bool)
                                 or progress < 1):
        raise ValueError(f"`progress` must be None or a positive int, got {progress!r}.")
    sol = call_hoisted(
        _koopman_train,
        (loss_fn, optimizer),
        params,
        np.int32(num_cycles),
        np.asarray(jumps_arr) if jumps_arr else None,
        None if rtol is None else _scalar(rtol),
        None if target is None else _scalar(target),
        None if progress is None else np.int32(progress),
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


def _print_cycle(i, loss, accepted):
    print(f"cycle {int(i):>6d}  loss={float(loss):.3e}  jump accepted={bool(accepted)}", flush=True)


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
    progress,
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
        i, dyn, state, _, hist, _, best = carry
        p = eqx.combine(dyn, static)
        traj = record_trajectory(step, p, state, num_snapshots=window, every=every, throw=False)
        p_last, state = traj.final_params, traj.final_state
        loss_last = loss_fn(p_last)
        if num_jumps:
            snaps = _stack(traj.params, p_last)
            # a diverged window: fit to zeros (no candidate is taken) instead of raising
            ok = jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in
                                    jax.tree_util.tree_leaves(eqx.filter(snaps, eqx.is_inexact_array))]))
            snaps = jax.tree_util.tree_map(
                lambda a: jnp.where(ok, a, 0) if eqx.is_inexact_array(a) else a, snaps
            )
            # the unchecked core: `snaps` were made finite above, the options checked at entry
            koop = _fit_weight_koopman(snaps, rank, rtol, per_neuron, every, affine)
            if stabilize:
                koop = eqx.tree_at(lambda k: k.models, koop, [stabilized(m) for m in koop.models])
            cand_s = jnp.asarray(jumps, dtype) * window
            cands = eqx.filter(koop._forecast(p_last, cand_s), eqx.is_array)
            cand_loss = jax.vmap(lambda c: loss_fn(eqx.combine(c, static)))(cands)
            cand_loss = jnp.where(jnp.isfinite(cand_loss) & ok, cand_loss, jnp.inf)
            ibest = jnp.argmin(cand_loss)
            best_loss = cand_loss[ibest]
            accept = best_loss < loss_last
            best_dyn = jax.tree_util.tree_map(lambda a: a[ibest], cands)
            dyn_new = jax.tree_util.tree_map(
                lambda a, b: jnp.where(accept, a, b), best_dyn, eqx.filter(p_last, eqx.is_array)
            )
            if reset_state:
                state = jax.tree_util.tree_map(
                    lambda a, b: jnp.where(accept, a, b), optimizer.init(dyn_new), state
                )
            loss_new = jnp.where(accept, best_loss, loss_last)
            jump = jnp.where(accept, cand_s[ibest] * every, 0).astype(dtype)
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
        if progress is not None:
            jax.lax.cond(
                (i % progress == 0) | (i == num_cycles - 1) | ~jnp.isfinite(loss_new),
                lambda: jax.debug.callback(_print_cycle, i, loss_new, accept),
                lambda: None,
            )
        finite = jnp.isfinite(loss_new)
        # the best iterate seen (returned if the loss becomes non-finite)
        better = finite & (loss_new < best[2])
        best = jax.tree_util.tree_map(
            lambda a, b: jnp.where(better, a, b), (dyn_new, state, loss_new), best
        )
        return i + 1, dyn_new, state, loss_new, hist, finite, best

    def cond(carry):
        i, _, _, loss, _, finite, _ = carry
        return (i < num_cycles) & (loss > tgt) & finite

    inf = jnp.asarray(jnp.inf, dtype)
    init = (jnp.asarray(0), dyn0, state0, inf, hist0, jnp.asarray(True), (dyn0, state0, inf))
    n, dyn, state, loss, hist, finite, best = jax.lax.while_loop(cond, cycle, init)
    # non-finite loss: stop, return the best iterate seen (the initial params if none)
    best_loss = jax.lax.cond(
        ~finite & ~jnp.isfinite(best[2]),
        lambda: loss_fn(eqx.combine(best[0], static)).astype(dtype),
        lambda: best[2],
    )
    pick = lambda a, b: jax.tree_util.tree_map(lambda x, y: jnp.where(finite, x, y), a, b)
    dyn, state, loss = pick((dyn, state, loss), (best[0], best[1], best_loss))
    reached = loss <= tgt
    result = RESULTS.where(reached | (target is None), RESULTS.successful, RESULTS.max_steps_reached)
    result = RESULTS.where(finite, result, RESULTS.nonfinite_loss)
    hist["grad_evals"] = (jnp.arange(bucket) + 1) * window * every
    stats = {
        "num_cycles": n,
        "grad_evals": n * window * every,
        "loss_evals": n * (num_jumps + 1),
        "loss": loss,
        "accepted": jnp.sum(hist["accepted"]),
    }
    sol = Solution(eqx.combine(dyn, static), result, stats, hist, state)
    return raise_if_failed(sol, throw)
