r"""Predicting training with Koopman models (Dogra 2020; Dogra & Redman 2020).

Two routes, both from Dogra 2020 (arXiv:2004.11826, Sec. III-IV):

* **weights**: the identity observable $I(w) = w$ evolves under the Koopman operator,
  $U I(w) = I \circ T(w)$ (seed 003, Eq. (2)); fit DMD to weight snapshots (per layer, or per
  neuron — the "node" Koopman operators of Dogra & Redman 2020, Sec. 3.2), forecast the weights
  $\hat w(t)$ and evaluate the true loss $L(\hat w(t))$;
* **loss as an observable**: $U L(w) = L \circ T(w)$; fit time-delay (Hankel) DMD to the recorded
  series $\log L(t)$ and extrapolate it.

Iterations-to-target and the fixed point (unit-eigenvalue mode) follow from either model.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree

import numpy as np

from .._checks import check_value
from .._misc import as_float_array
from ..train import from_per_neuron, per_neuron as _neuron_blocks
from ._dmd import DMD, _check_steps, _check_tol, _dmd_from_pairs, stabilized
from ._hankel import hankel_dmd


def _check_params_finite(params: PyTree, name: str) -> PyTree:
    leaves = jax.tree_util.tree_leaves(eqx.filter(params, eqx.is_inexact_array))
    if not leaves:
        raise ValueError(f"`{name}` has no floating-point array leaves (no weights to evolve).")
    bad = jnp.stack([jnp.any(~jnp.isfinite(a)) for a in leaves])
    return check_value(params, bad, f"`{name}` contains NaN or inf; give finite parameters.")


def _check_rank_arg(rank) -> None:
    if rank is not None and (isinstance(rank, bool) or not isinstance(rank, (int, np.integer))
                             or rank < 1):
        raise ValueError(f"`rank` must be None (full) or an int >= 1, got {rank!r}.")


class WeightKoopman(eqx.Module):
    r"""DMD models of the weight evolution, one per layer block (`per_neuron=False`) or one per
    neuron (`per_neuron=True`: each block's DMD has a leading `(out,)` batch axis).

    **Attributes:**
    - `models`: list of `DMD`, one per block of `jaxsci.train.per_neuron(params)`.
    - `per_neuron`: static flag.
    - `affine`: static flag; if set each block vector is augmented with a constant 1, so the
      model is affine, $w_{t+1} \approx A w_t + c$, and the fixed point $w^*$ is carried by
      an exact unit eigenvalue.
    - `every`: optimizer steps between snapshots (static), so `forecast(params, s)` moves
      `s * every` optimizer steps ahead.

    The state is a parameter pytree: `forecast(params, steps)` follows the one Koopman
    signature `forecast(x0, steps)` (time first: a leading `steps.shape` on every array
    leaf, like `jaxsci.train.Trajectory.params`).
    """

    models: list[DMD]
    per_neuron: bool = eqx.field(static=True)
    every: int = eqx.field(static=True)
    affine: bool = eqx.field(static=True, default=True)

    def _apply(self, params: PyTree, fn) -> PyTree:
        blocks = _neuron_blocks(params)
        if len(blocks) != len(self.models):
            raise ValueError(
                f"`params` has {len(blocks)} weight blocks but the model was fitted to "
                f"{len(self.models)}: pass parameters of the network the snapshots came from."
            )
        out = []
        for i, (model, blk) in enumerate(zip(self.models, blocks)):
            row = blk.shape[1] + int(self.affine)
            fitted = model.modes.shape[:-1]  # (out, n) per neuron, (n,) per layer
            if fitted != ((blk.shape[0], row) if self.per_neuron else (blk.shape[0] * row,)):
                raise ValueError(
                    f"`params` block {i} has shape {blk.shape}, which does not match the block "
                    "the model was fitted to: pass parameters of the same architecture."
                )
            if self.affine:
                blk = jnp.concatenate([blk, jnp.ones((blk.shape[0], 1), blk.dtype)], axis=1)
            if self.per_neuron:
                new = jax.vmap(fn)(model, blk)
            else:
                new = fn(model, blk.reshape(-1)).reshape(blk.shape)
            out.append(new[:, :-1] if self.affine else new)
        return from_per_neuron(params, out)

    def forecast(self, params: PyTree, steps: Float[Array, "..."]) -> PyTree:
        r"""$\hat w(t_0 + s\,k)$ from the current `params` $= w(t_0)$ for each $s$ in `steps`
        ($k$ = `every`; see `DMD.forecast`).

        **Arguments:**

        - `params`: the current parameters $w(t_0)$ (a pytree, e.g. an `eqx.nn.MLP`).
        - `steps`: an array (or scalar) of non-negative real numbers of snapshot intervals.

        **Returns:** the forecast parameters, time first: `params`' structure with a leading
        `steps.shape` on every array leaf (a scalar `steps` gives a pytree like `params`).

        **Raises:** `ValueError` if `params` does not match the fitted blocks; `ValueError`
        (eager) / `EquinoxRuntimeError` (traced) for NaN/inf in `params` or a negative, NaN
        or inf step.
        """
        steps = _check_steps(steps)
        params = _check_params_finite(params, "params")
        return self._forecast(params, steps)

    def _forecast(self, params: PyTree, steps) -> PyTree:
        # unchecked core (`koopman_train` calls it inside its loop)
        steps = jnp.asarray(steps)
        if steps.ndim == 0:
            return self._apply(params, lambda d, x: d._forecast(x, steps))
        static = eqx.filter(params, eqx.is_array, inverse=True)
        one = lambda s: eqx.filter(
            self._apply(params, lambda d, x: d._forecast(x, s)), eqx.is_array
        )
        out = jax.vmap(one)(steps.reshape(-1))
        out = jax.tree_util.tree_map(lambda a: a.reshape(steps.shape + a.shape[1:]), out)
        return eqx.combine(out, static)

    def fixed_point(self, params: PyTree, atol: float = 1e-3) -> PyTree:
        """The predicted end point of training from `params` (unit-eigenvalue modes kept,
        decaying modes removed; NaN where some mode grows), see `DMD.fixed_point` (the same
        checks as `forecast`, and `atol > 0`)."""
        params = _check_params_finite(params, "params")
        atol = _check_tol(atol, "atol", positive=True)
        return self._apply(params, lambda d, x: d._fixed_point(x, atol))


def fit_weight_koopman(
    snapshots: PyTree,
    *,
    rank: int | None = None,
    rtol: float | None = None,
    per_neuron: bool = False,
    every: int = 1,
    affine: bool = True,
    stabilize: bool = False,
) -> WeightKoopman:
    r"""Fit exact DMD to weight snapshots (Dogra & Redman 2020, Sec. 3, Algorithm "Koopman
    training": one Koopman operator per layer, or per neuron acting on its incoming weights and
    bias).

    **Arguments:**
    - `snapshots`: the parameter pytree with a leading snapshot axis `s` on every array leaf
      (e.g. `Trajectory.params`).
    - `rank`: DMD rank (clipped per block to `min(n, s - 1)`); default: full.
    - `rtol`: relative singular-value cut-off (see `dmd`).
    - `per_neuron`: one DMD per neuron instead of per layer.
    - `every`: optimizer steps between snapshots (recorded for `forecast`).
    - `affine`: augment every block (every neuron row) with a constant 1 (default), so the
      unit-eigenvalue mode, and hence the fixed point, is exact.
    - `stabilize`: project the eigenvalues onto the unit disc (`stabilized`): spurious
      growing modes fitted from a short window then cannot blow up long forecasts.

    **Raises:** `ValueError` (trace time) for `snapshots` without float leaves, with
    different leading sizes or fewer than 3 snapshots, a `rank < 1` or `every < 1`;
    `ValueError` (eager) / `EquinoxRuntimeError` (traced) for NaN/inf snapshots or a
    negative / non-finite `rtol`.
    """
    leaves = jax.tree_util.tree_leaves(eqx.filter(snapshots, eqx.is_inexact_array))
    if not leaves:
        raise ValueError("`snapshots` has no floating-point array leaves (no weights to fit).")
    lead = {a.shape[0] if a.ndim else None for a in leaves}
    if len(lead) != 1 or None in lead:
        raise ValueError(
            "`snapshots` must have one leading snapshot axis of the same length on every array "
            f"leaf (e.g. `Trajectory.params`), got leading sizes {sorted(map(str, lead))}."
        )
    s = lead.pop()
    if s < 3:
        raise ValueError(f"`snapshots` needs at least 3 snapshots, got {s}.")
    _check_rank_arg(rank)
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ValueError(f"`every` must be a positive int, got {every!r}.")
    rtol = _check_tol(rtol, "rtol")
    bad = jnp.stack([jnp.any(~jnp.isfinite(a)) for a in leaves])
    snapshots = check_value(
        snapshots, bad, "`snapshots` contains NaN or inf; fit to a window before the divergence."
    )
    koop = _fit_weight_koopman(snapshots, rank, rtol, per_neuron, int(every), affine)
    if stabilize:
        koop = eqx.tree_at(lambda k: k.models, koop, [stabilized(m) for m in koop.models])
    return koop


def _fit_weight_koopman(snapshots, rank, rtol, per_neuron, every, affine) -> WeightKoopman:
    # unchecked core (`koopman_train` and `scale_up` call it inside their loops)
    mats = eqx.filter_vmap(_neuron_blocks)(snapshots)  # list of (s, out, in1)
    s = mats[0].shape[0]
    models = []
    for m in mats:
        if affine:
            m = jnp.concatenate([m, jnp.ones(m.shape[:-1] + (1,), m.dtype)], axis=-1)
        if per_neuron:
            x = jnp.moveaxis(m, 0, -1)  # (out, in1, s)
            r = min(rank or x.shape[1], x.shape[1], s - 1)
            fit = lambda a: _dmd_from_pairs(a[:, :-1], a[:, 1:], r, rtol, 1.0)  # noqa: B023
            models.append(jax.vmap(fit)(x))
        else:
            x = m.reshape(s, -1).T  # (n, s)
            r = min(rank or x.shape[0], x.shape[0], s - 1)
            models.append(_dmd_from_pairs(x[:, :-1], x[:, 1:], r, rtol, 1.0))
    return WeightKoopman(models, per_neuron, every, affine)


def predict_loss_at_weights(
    koopman: WeightKoopman,
    loss_fn: Callable[[PyTree], Float[Array, ""]],
    params: PyTree,
    steps: Float[Array, " t"],
) -> Float[Array, " t"]:
    r"""$L(\hat w(t_0 + s k))$ for each $s$ in `steps` (snapshot intervals): the true loss at
    Koopman-predicted weights (Dogra & Redman 2020, Fig. 2). The candidates are evaluated one
    after the other (`lax.map`), so memory does not grow with `len(steps)`.

    **Raises:** `TypeError` if `koopman` is not a `WeightKoopman` or `loss_fn` not callable;
    `ValueError` if `steps` is not 1-D or `params` does not match the fitted blocks;
    `ValueError` (eager) / `EquinoxRuntimeError` (traced) for NaN/inf in `params` or a
    negative, NaN or inf step.
    """
    if not isinstance(koopman, WeightKoopman):
        raise TypeError(
            f"`koopman` must be a `WeightKoopman` (from `fit_weight_koopman`), got "
            f"{type(koopman).__name__}."
        )
    if not callable(loss_fn):
        raise TypeError(f"`loss_fn` must be a callable params -> scalar, got {type(loss_fn).__name__}.")
    steps = _check_steps(steps)
    if steps.ndim != 1:
        raise ValueError(f"`steps` must be 1-D `(t,)`, got shape {steps.shape}.")
    params = _check_params_finite(params, "params")
    return _predict_loss_at_weights(koopman, loss_fn, params, steps)


def _predict_loss_at_weights(koopman, loss_fn, params, steps):
    f = lambda s: loss_fn(koopman._forecast(params, s))
    return jax.lax.map(f, jnp.asarray(steps))


def predict_loss_observable(
    losses: Float[Array, " s"],
    steps: Float[Array, " t"],
    *,
    delays: int | None = None,
    rank: int | None = None,
    log: bool = True,
    stabilize: bool = False,
) -> Float[Array, " t"]:
    r"""Extrapolate the loss series with Hankel DMD of $\log L$ (or $L$ if `log=False`):
    $U L = L \circ T$ (seed 003, Eq. after (2); Dogra 2020, Sec. III).

    **Arguments:**
    - `losses`: recorded $L$ at equally spaced snapshots, `(s,)`.
    - `steps`: how many snapshot intervals after the last one to predict, `(t,)`.
    - `delays`: delay-embedding depth (default `s // 2`).
    - `rank`: DMD rank (default: all delays).
    - `log`: model $\log L$ (default) or $L$ itself.
    - `stabilize`: clip the eigenvalues to the unit disc (`stabilized`): the forecast then
      levels off instead of extrapolating a growing/linear trend (conservative).

    **Returns:** predicted $L$ at the requested times.

    `rank` is clipped to `min(delays, s - delays)` (the Hankel matrix has no more
    directions).

    **Raises:** `ValueError` (trace time) for `losses` not 1-D with at least 3 values, a
    `delays` outside `[1, s - 1]` or `rank < 1`; `ValueError` (eager) /
    `EquinoxRuntimeError` (traced) for NaN/inf losses, losses `<= 0` with `log=True`, or a
    negative, NaN or inf step.
    """
    losses = as_float_array(losses, "losses")
    if losses.ndim != 1:
        raise ValueError(f"`losses` must be 1-D, got shape {losses.shape}.")
    s = losses.shape[0]
    if s < 3:
        raise ValueError(f"`losses` needs at least 3 recorded values to fit Hankel DMD, got {s}.")
    _check_rank_arg(rank)
    q = delays if delays is not None else max(1, s // 2)
    if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or not 1 <= q <= s - 1:
        raise ValueError(f"`delays` must be an int in [1, s - 1 = {s - 1}], got {delays!r}.")
    q = int(q)
    steps = _check_steps(steps)
    if log:
        losses = check_value(
            losses,
            ~(jnp.isfinite(losses) & (losses > 0)),
            "`losses` must be finite and > 0 with log=True (pass log=False to model L itself).",
        )
        series = jnp.log(losses)
    else:
        series = check_value(losses, ~jnp.isfinite(losses), "`losses` contains NaN or inf.")
    model = hankel_dmd(series[None, :], q, rank=min(rank or q, q, s - q))
    if stabilize:
        model = eqx.tree_at(lambda h: h.dmd, model, stabilized(model.dmd))
    pred = model.forecast(model.last, jnp.asarray(steps, series.dtype))[..., 0]
    return jnp.exp(pred) if log else pred


def iterations_to_reach(
    predicted: Float[Array, " t"], steps: Float[Array, " t"], target: float
) -> Float[Array, ""]:
    r"""First `steps[i]` with `predicted[i] <= target` (steps sorted ascending); `inf` if none.
    With `predict_loss_*` this is the predicted number of iterations to reach $L_{\min}$
    (seed 003, scale-up step 4).

    **Raises:** `ValueError` (trace time) for `predicted` not 1-D and non-empty or `steps`
    of another shape; `ValueError` (eager) / `EquinoxRuntimeError` (traced) for NaN in
    `predicted` (inf is allowed: a diverging forecast), non-finite or unsorted `steps`, or a
    NaN `target`.
    """
    predicted = as_float_array(predicted, "predicted")
    steps = as_float_array(steps, "steps")
    if predicted.ndim != 1 or predicted.shape[0] == 0:
        raise ValueError(f"`predicted` must be 1-D and non-empty, got shape {predicted.shape}.")
    if steps.shape != predicted.shape:
        raise ValueError(
            f"`steps` (shape {steps.shape}) must match `predicted` (shape {predicted.shape})."
        )
    predicted = check_value(
        predicted, jnp.isnan(predicted), "`predicted` contains NaN: the forecast failed."
    )
    steps = check_value(
        steps,
        ~jnp.isfinite(steps) | (jnp.diff(steps) < 0).any(),
        "`steps` must be finite and sorted ascending.",
    )
    target = jnp.asarray(target)
    if target.ndim != 0:
        raise ValueError(f"`target` must be a scalar, got shape {target.shape}.")
    target = check_value(target, jnp.isnan(target), "`target` is NaN; give the loss to reach.")
    return _iterations_to_reach(predicted, steps, target)


def _iterations_to_reach(predicted, steps, target):
    hit = predicted <= target
    first = jnp.argmax(hit)
    return jnp.where(jnp.any(hit), jnp.asarray(steps, predicted.dtype)[first], jnp.inf)
