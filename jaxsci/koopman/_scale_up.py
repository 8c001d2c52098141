r"""The Koopman-guided scale-up strategy of seed 003 (Dogra 2020, "A blueprint for building
efficient neural network differential equation solvers", steps 1-9).

1. start from a small, theoretically viable $(W, D)$; 2. fix the loss benchmark $L_{\min}$;
3. trial-train; 4. predict with Koopman operator theory how many iterations the current
network needs to reach $L_{\min}$; 5. if too many, stop the trial; 6. if never scaled, or last
scaled in depth: $W \to \lceil \alpha W \rceil$; 7. if last scaled in width: $D \to D + 1$;
8. repeat until $L_{\min}$ is predicted within the budget; 9. continue training the chosen
network (optionally with Koopman training, `koopman_train`).

Candidates of equal shape (here: `num_seeds` initialisations of each architecture) are trained
together in one `vmap`; each architecture is a new compilation because its shapes differ.
"""

import math
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, PyTree

from ..train import Trajectory, optax_step, record_trajectories
from ._predict import (
    fit_weight_koopman,
    iterations_to_reach,
    predict_loss_at_weights,
    predict_loss_observable,
)


class ScaleUpResult(eqx.Module):
    """Record of a scale-up run; one entry per round (architecture tried).

    Attributes:
        widths, depths: the architectures tried.
        predicted_iterations: per round, the median over seeds of the predicted total number
            of iterations to reach `target` (inf if never within the prediction horizon).
        trial_loss: per round, the median final trial loss.
        loss_curves: per round, the `(num_seeds, s)` recorded trial losses.
        wall_time: per round, seconds (compilation included).
        chosen: index of the round meeting the budget, or -1.
        params: the trained parameters of the best seed of the last round (continue from them).
    """

    widths: list[int]
    depths: list[int]
    predicted_iterations: list[float]
    trial_loss: list[float]
    loss_curves: list[Any]
    wall_time: list[float]
    chosen: int
    params: PyTree


def _predict_one(traj: Trajectory, loss_fn, ahead, weights_route: bool, window: int):
    if weights_route:
        snaps = jax.tree_util.tree_map(lambda a: a[-window:] if eqx.is_array(a) else a, traj.params)
        koop = fit_weight_koopman(snaps, rtol=1e-6)
        last = jax.tree_util.tree_map(lambda a: a[-1] if eqx.is_array(a) else a, traj.params)
        return predict_loss_at_weights(koop, loss_fn, last, ahead)
    return predict_loss_observable(traj.loss[-window:], ahead)


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
    progress: Callable[[str], None] | None = None,
) -> ScaleUpResult:
    r"""Run the seed-003 scale-up strategy (steps 1-8).

    Arguments:
        make_model: `(width, depth, key) -> model` (e.g. an `eqx.nn.MLP` factory).
        loss_fn: `model -> scalar`, the training loss $L(w)$.
        optimizer: optax optimiser used for trial training.
        width, depth: the starting architecture $(W, D)$ (step 1).
        target: $L_{\min}$ (step 2).
        budget: acceptable total number of training iterations.
        trial_steps: iterations of trial training per architecture (step 3).
        key: PRNG key for initialisations.
        every: snapshot spacing (iterations).
        alpha: width growth factor $\alpha$ (step 6).
        num_seeds: initialisations per architecture, trained together with `vmap`.
        max_rounds: give up after this many architectures (`chosen = -1`).
        window: number of final snapshots the Koopman model is fitted to (default all).
        weights_route: predict $L$ from DMD-forecast weights instead of from the loss series.
        progress: optional callable receiving one line per round.

    Returns: a `ScaleUpResult`.
    """
    if trial_steps % every or trial_steps < 3 * every:
        raise ValueError(
            f"`trial_steps` must be a multiple of `every` ({every}) and >= 3 * every, got {trial_steps}."
        )
    if budget <= trial_steps:
        raise ValueError(f"`budget` ({budget}) must exceed `trial_steps` ({trial_steps}).")
    if alpha <= 1:
        raise ValueError(f"`alpha` must be > 1, got {alpha}.")
    num = trial_steps // every
    win = num if window is None else min(window, num)
    ahead = jnp.arange(0, (budget - trial_steps) // every + 1, dtype=float)
    step = optax_step(loss_fn, optimizer)
    res: dict[str, list] = {k: [] for k in ("w", "d", "pred", "loss", "curves", "time")}
    w, d, last_grow, chosen, params = width, depth, "depth", -1, None
    for rnd in range(max_rounds):
        t0 = time.perf_counter()
        keys = jax.random.split(jax.random.fold_in(key, rnd), num_seeds)
        models = eqx.filter_vmap(lambda k: make_model(w, d, k))(keys)

        @eqx.filter_jit
        def trial(ms):
            states = eqx.filter_vmap(lambda m: optimizer.init(eqx.filter(m, eqx.is_array)))(ms)
            traj = record_trajectories(step, ms, states, num_snapshots=num, every=every)
            pred = eqx.filter_vmap(lambda t: _predict_one(t, loss_fn, ahead, weights_route, win))(traj)
            # seen: the loss already reached during the trial (step index of first hit)
            seen = jax.vmap(lambda l: iterations_to_reach(l, traj.step[0].astype(l.dtype), target))(traj.loss)
            fut = jax.vmap(lambda p: iterations_to_reach(p, ahead * every, target))(pred)
            return traj, jnp.minimum(seen, trial_steps + fut)

        traj, iters = trial(models)
        iters = np.asarray(iters)
        pred = float(np.median(iters))
        best = int(np.argmin(np.asarray(traj.loss[:, -1])))
        params = jax.tree_util.tree_map(
            lambda a: a[best] if eqx.is_array(a) else a, traj.final_params
        )
        res["w"].append(w)
        res["d"].append(d)
        res["pred"].append(pred)
        res["loss"].append(float(np.median(np.asarray(traj.loss[:, -1]))))
        res["curves"].append(np.asarray(traj.loss))
        res["time"].append(time.perf_counter() - t0)
        if progress is not None:
            progress(f"round {rnd}: (W, D) = ({w}, {d}), predicted iterations to L_min = {pred:g}")
        if pred <= budget:  # steps 5/8: within budget, stop scaling
            chosen = rnd
            break
        if last_grow == "depth":  # step 6
            w, last_grow = int(math.ceil(alpha * w)), "width"
        else:  # step 7
            d, last_grow = d + 1, "depth"
    return ScaleUpResult(
        res["w"], res["d"], res["pred"], res["loss"], res["curves"], res["time"], chosen, params
    )
