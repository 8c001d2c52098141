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

from ..train import from_per_neuron, per_neuron as _neuron_blocks
from ._dmd import DMD, dmd, stabilized
from ._hankel import hankel_dmd


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
        out = []
        for model, blk in zip(self.models, _neuron_blocks(params)):
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
        """
        steps = jnp.asarray(steps)
        if steps.ndim == 0:
            return self._apply(params, lambda d, x: d.forecast(x, steps))
        static = eqx.filter(params, eqx.is_array, inverse=True)
        one = lambda s: eqx.filter(
            self._apply(params, lambda d, x: d.forecast(x, s)), eqx.is_array
        )
        out = jax.vmap(one)(steps.reshape(-1))
        out = jax.tree_util.tree_map(lambda a: a.reshape(steps.shape + a.shape[1:]), out)
        return eqx.combine(out, static)

    def fixed_point(self, params: PyTree, atol: float = 1e-3) -> PyTree:
        """The predicted end point of training from `params` (unit-eigenvalue modes kept,
        decaying modes removed; NaN where some mode grows), see `DMD.fixed_point`."""
        return self._apply(params, lambda d, x: d.fixed_point(x, atol))


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
    """
    mats = eqx.filter_vmap(_neuron_blocks)(snapshots)  # list of (s, out, in1)
    s = mats[0].shape[0]
    if s < 3:
        raise ValueError(f"`snapshots` needs at least 3 snapshots, got {s}.")
    models = []
    for m in mats:
        if affine:
            m = jnp.concatenate([m, jnp.ones(m.shape[:-1] + (1,), m.dtype)], axis=-1)
        if per_neuron:
            x = jnp.moveaxis(m, 0, -1)  # (out, in1, s)
            r = min(rank or x.shape[1], x.shape[1], s - 1)
            models.append(jax.vmap(lambda a: dmd(a, rank=r, rtol=rtol))(x))
        else:
            x = m.reshape(s, -1).T  # (n, s)
            r = min(rank or x.shape[0], x.shape[0], s - 1)
            models.append(dmd(x, rank=r, rtol=rtol))
    if stabilize:
        models = [stabilized(m) for m in models]
    return WeightKoopman(models, per_neuron, every, affine)


def predict_loss_at_weights(
    koopman: WeightKoopman,
    loss_fn: Callable[[PyTree], Float[Array, ""]],
    params: PyTree,
    steps: Float[Array, " t"],
) -> Float[Array, " t"]:
    r"""$L(\hat w(t_0 + s k))$ for each $s$ in `steps` (snapshot intervals): the true loss at
    Koopman-predicted weights (Dogra & Redman 2020, Fig. 2). The candidates are evaluated one
    after the other (`lax.map`), so memory does not grow with `len(steps)`."""
    f = lambda s: loss_fn(koopman.forecast(params, s))
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
    """
    losses = jnp.asarray(losses)
    if losses.ndim != 1:
        raise ValueError(f"`losses` must be 1-D, got shape {losses.shape}.")
    s = losses.shape[0]
    q = delays if delays is not None else max(1, s // 2)
    series = jnp.log(losses) if log else losses
    series = eqx.error_if(series, ~jnp.all(jnp.isfinite(series)), "Losses must be finite and positive (log=True).")
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
    (seed 003, scale-up step 4)."""
    hit = predicted <= target
    first = jnp.argmax(hit)
    return jnp.where(jnp.any(hit), jnp.asarray(steps, predicted.dtype)[first], jnp.inf)
