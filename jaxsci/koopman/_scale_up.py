r"""The Koopman-guided scale-up strategy of seed 003 (Dogra 2020, "A blueprint for building
efficient neural network differential equation solvers", steps 1-9).

1. start from a small, theoretically viable $(W, D)$; 2. fix the loss benchmark $L_{\min}$;
3. trial-train; 4. predict with Koopman operator theory how many iterations the current
network needs to reach $L_{\min}$; 5. if too many, stop the trial; 6. if never scaled, or last
scaled in depth: $W \to \lceil \alpha W \rceil$; 7. if last scaled in width: $D \to D + 1$;
8. repeat until $L_{\min}$ is predicted within the budget; 9. continue training the chosen
network (optionally with Koopman training, `koopman_train`).

`scale_up` returns a `jaxsci.Solution` whose `value` is the network to continue training and
whose `history` holds one record per round (architecture tried).

Candidates of equal shape (here: `num_seeds` initialisations of each architecture) are trained
together in one `vmap`; each architecture is a new compilation because its shapes differ.
"""

import math
import time
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, PyTree

from .._solution import RESULTS, Solution, raise_if_failed
from ..train import Trajectory, optax_step, record_trajectories
from ._predict import (
    _fit_weight_koopman,
    _iterations_to_reach,
    _predict_loss_at_weights,
    predict_loss_observable,
)


def _predict_one(traj: Trajectory, loss_fn, ahead, weights_route: bool, per_neuron: bool,
                 window: int):
    # a diverged trial (non-finite loss) is predicted from a harmless stand-in and its
    # prediction set to inf, so one bad seed neither raises nor steers the choice
    ok = jnp.all(jnp.isfinite(traj.loss))
    if weights_route:
        params = jax.tree_util.tree_map(
            lambda a: jnp.where(ok, a, 0) if eqx.is_inexact_array(a) else a, traj.params)
        snaps = jax.tree_util.tree_map(lambda a: a[-window:] if eqx.is_array(a) else a, params)
        # unchecked cores: the snapshots were made finite above, `ahead` is ours
        koop = _fit_weight_koopman(snaps, None, 1e-6, per_neuron, 1, True)
        last = jax.tree_util.tree_map(lambda a: a[-1] if eqx.is_array(a) else a, params)
        pred = _predict_loss_at_weights(koop, loss_fn, last, ahead)
    else:
        series = jnp.where(ok, traj.loss[-window:], jnp.ones_like(traj.loss[-window:]))
        pred = predict_loss_observable(series, ahead)
    return jnp.where(ok, pred, jnp.inf)


def scale_up(
    make_model: Callable[[int, int, Array], PyTree],
    loss_fn: Callable[[PyTree], Float[Array, ""]],
    optimizer: optax.GradientTransformation,
    *,
    width: int,
    depth: int,
    target: float,
    budget: int,
    trial_steps: int,
    key: Array,
    every: int = 10,
    alpha: float = 2.0,
    num_seeds: int = 2,
    max_rounds: int = 6,
    window: int | None = None,
    weights_route: bool = False,
    per_neuron: bool = False,
    progress: int | None = None,
    throw: bool = True,
) -> Solution:
    r"""Run the seed-003 scale-up strategy (steps 1-8).

    **Arguments:**

    - `make_model`: `(width, depth, key) -> model` (e.g. an `eqx.nn.MLP` factory).
    - `loss_fn`: `model -> scalar`, the training loss $L(w)$.
    - `optimizer`: optax optimizer used for trial training.
    - `width`, `depth`: the starting architecture $(W, D)$ (step 1).
    - `target`: $L_{\min}$ (step 2).
    - `budget`: acceptable total number of training iterations.
    - `trial_steps`: iterations of trial training per architecture (step 3).
    - `key`: PRNG key for initialisations.
    - `every`: snapshot spacing (iterations).
    - `alpha`: width growth factor $\alpha$ (step 6).
    - `num_seeds`: initialisations per architecture, trained together with `vmap`.
    - `max_rounds`: give up after this many architectures.
    - `window`: number of final snapshots the Koopman model is fitted to (default all).
    - `weights_route`: predict $L$ from DMD-forecast weights instead of from the loss series.
    - `per_neuron`: with `weights_route`, one DMD per neuron instead of per layer (see
        `fit_weight_koopman`).
    - `progress`: `None` (silent) or a positive int `k`: print one line every `k` rounds
        (and at the last one).
    - `throw`: raise if the run fails (see `result` below); otherwise inspect
        `solution.result`.

    **Returns:** a `Solution` with

    - `value`: the trained parameters of the best seed (lowest final trial loss) of the last
        round, the network to continue training (step 9);
    - `result`: `RESULTS.successful` if a round was predicted to reach `target` within
        `budget`; `RESULTS.max_rounds_reached` if none was in `max_rounds` rounds;
        `RESULTS.nonfinite_loss` if every seed of a round ended with a NaN/inf loss: the run
        stops there and `value`/`state` are those of the previous round (the initial
        parameters of seed 0 if it was the first);
    - `stats`: `"num_rounds"`, `"chosen"` (index of the round meeting the budget, or -1),
        `"width"`, `"depth"`, `"predicted_iterations"`, `"loss"` (best final trial loss) of
        the round `value` comes from;
    - `history`: per-round records (arrays with a leading round axis): `"width"`, `"depth"`,
        `"predicted_iterations"` (median over seeds of the predicted total iterations to
        reach `target`, inf if never within the prediction horizon), `"trial_loss"` (median
        final trial loss), `"loss_curves"` (`(rounds, num_seeds, trial_steps // every)`
        recorded trial losses), `"wall_time"` (seconds, compilation included);
    - `state`: the optimizer state of `value` (continue training from it).

    **Raises:** `ValueError` / `TypeError` at once for non-positive integer options,
    `trial_steps` not a multiple of `every` or below `3 * every`, `budget <= trial_steps`,
    a non-finite `alpha <= 1`, a non-finite `target`, a `window < 3`, or a `key` that is not
    a PRNG key. A round whose every seed diverges is `RESULTS.nonfinite_loss`.
    """
    for name, v in (("width", width), ("depth", depth), ("budget", budget),
                    ("trial_steps", trial_steps), ("every", every), ("num_seeds", num_seeds),
                    ("max_rounds", max_rounds)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"`{name}` must be a positive int, got {v!r}.")
    if trial_steps % every or trial_steps < 3 * every:
        raise ValueError(
            f"`trial_steps` must be a multiple of `every` ({every}) and >= 3 * every, got {trial_steps}."
        )
    if budget <= trial_steps:
        raise ValueError(f"`budget` ({budget}) must exceed `trial_steps` ({trial_steps}).")
    if not (np.isfinite(alpha) and alpha > 1):
        raise ValueError(f"`alpha` must be a finite number > 1, got {alpha}.")
    if not np.isfinite(target):
        raise ValueError(f"`target` must be a finite loss, got {target}.")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int)
                               or window < 3):
        raise ValueError(
            f"`window` must be None (all snapshots) or an int >= 3 (DMD needs 3 snapshots), "
            f"got {window!r}."
        )
    if not callable(make_model) or not callable(loss_fn):
        raise TypeError("`make_model` and `loss_fn` must be callables.")
    if not (isinstance(key, jax.Array) and (jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
                                            or key.shape == (2,))):
        raise TypeError(f"`key` must be a JAX PRNG key (jax.random.key(0)), got {key!r}.")
    if progress is not None and (not isinstance(progress, int) or isinstance(progress, bool)
                                 or progress < 1):
        raise ValueError(f"`progress` must be None or a positive int, got {progress!r}.")
    num = trial_steps // every
    win = num if window is None else min(window, num)
    ahead = jnp.arange(0, (budget - trial_steps) // every + 1, dtype=float)
    step = optax_step(loss_fn, optimizer)
    rows: dict[str, list] = {
        k: [] for k in ("width", "depth", "predicted_iterations", "trial_loss", "loss_curves", "wall_time")
    }
    w, d, last_grow, chosen = width, depth, "depth", -1
    value = state = None
    result = RESULTS.max_rounds_reached
    final = {"width": width, "depth": depth, "predicted_iterations": np.inf, "loss": np.nan}
    for rnd in range(max_rounds):
        t0 = time.perf_counter()
        keys = jax.random.split(jax.random.fold_in(key, rnd), num_seeds)
        models = eqx.filter_vmap(lambda k: make_model(w, d, k))(keys)

        @eqx.filter_jit
        def trial(ms):
            states = eqx.filter_vmap(lambda m: optimizer.init(eqx.filter(m, eqx.is_array)))(ms)
            traj = record_trajectories(step, ms, states, num_snapshots=num, every=every, throw=False)
            pred = eqx.filter_vmap(
                lambda t: _predict_one(t, loss_fn, ahead, weights_route, per_neuron, win)
            )(traj)
            # seen: the loss already reached during the trial (step index of first hit)
            seen = jax.vmap(lambda l: _iterations_to_reach(l, traj.step[0].astype(l.dtype), target))(traj.loss)
            fut = jax.vmap(lambda p: _iterations_to_reach(p, ahead * every, target))(pred)
            return traj, jnp.minimum(seen, trial_steps + fut)

        traj, iters = trial(models)
        final_loss = np.asarray(traj.loss[:, -1])
        if not np.isfinite(final_loss).any():  # one NaN policy: stop, keep the best so far
            if value is None:
                value = jax.tree_util.tree_map(lambda a: a[0] if eqx.is_array(a) else a, models)
                state = optimizer.init(eqx.filter(value, eqx.is_array))
            result = RESULTS.nonfinite_loss
            if progress is not None:
                print(f"round {rnd}: (W, D) = ({w}, {d}), non-finite trial loss: stopped", flush=True)
            break
        pred = float(np.median(np.asarray(iters)))
        best = int(np.nanargmin(np.where(np.isfinite(final_loss), final_loss, np.nan)))
        pick = lambda a: a[best] if eqx.is_array(a) else a
        value = jax.tree_util.tree_map(pick, traj.final_params)
        state = jax.tree_util.tree_map(pick, traj.final_state)
        rows["width"].append(w)
        rows["depth"].append(d)
        rows["predicted_iterations"].append(pred)
        rows["trial_loss"].append(float(np.median(final_loss)))
        rows["loss_curves"].append(np.asarray(traj.loss))
        rows["wall_time"].append(time.perf_counter() - t0)
        final = {"width": w, "depth": d, "predicted_iterations": pred, "loss": float(final_loss[best])}
        within = pred <= budget  # steps 5/8: within budget, stop scaling
        if progress is not None and (rnd % progress == 0 or within or rnd == max_rounds - 1):
            print(f"round {rnd}: (W, D) = ({w}, {d}), predicted iterations to L_min = {pred:g}",
                  flush=True)
        if within:
            chosen, result = rnd, RESULTS.successful
            break
        if last_grow == "depth":  # step 6
            w, last_grow = int(math.ceil(alpha * w)), "width"
        else:  # step 7
            d, last_grow = d + 1, "depth"
    dtype = np.asarray(ahead).dtype
    history = {
        "width": jnp.asarray(rows["width"], jnp.int32),
        "depth": jnp.asarray(rows["depth"], jnp.int32),
        "predicted_iterations": jnp.asarray(rows["predicted_iterations"], dtype),
        "trial_loss": jnp.asarray(rows["trial_loss"], dtype),
        "loss_curves": (jnp.asarray(np.stack(rows["loss_curves"])) if rows["loss_curves"]
                        else jnp.zeros((0, num_seeds, num), dtype)),
        "wall_time": jnp.asarray(rows["wall_time"], dtype),
    }
    stats = {
        "num_rounds": jnp.asarray(len(rows["width"]), jnp.int32),
        "chosen": jnp.asarray(chosen, jnp.int32),
        "width": jnp.asarray(final["width"], jnp.int32),
        "depth": jnp.asarray(final["depth"], jnp.int32),
        "predicted_iterations": jnp.asarray(final["predicted_iterations"], dtype),
        "loss": jnp.asarray(final["loss"], dtype),
    }
    sol = Solution(value, result, stats, history, state)
    return raise_if_failed(sol, throw)
