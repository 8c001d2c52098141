r"""Training the masked autoencoder on state snapshots, as in the NM-ROM paper.

Kim, Choi, Widemann & Zohdi (JCP 451:110841, 2022, §4.1 and §5; review seed 002, §12):
minimise the mean squared reconstruction error $\frac{1}{nN}\sum_k \|g(h(y_k)) - y_k\|^2$
of snapshots $y_k = x_k - x_{ref}$ centred on the initial condition, with Adam (learning
rate 1e-3) in mini-batches (1-D: 20), the learning rate cut by 10 when the validation loss
has not improved for 10 epochs (PyTorch's `ReduceLROnPlateau(patience=10)`, here
`optax.contrib.reduce_on_plateau` fed once per epoch with the validation loss), 10 % of the
snapshots held out for validation, and early stopping (1-D: patience 200 epochs) returning
the model with the best validation loss.

One compiled program: a `lax.while_loop` over epochs, each a `lax.scan` over shuffled
mini-batches (the jitted step); progress is printed from inside it by `jax.debug.callback`.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import optax
import optax.contrib

from .._custom_types import Array, Float
from .._solution import RESULTS, Solution, raise_if_failed
from ._autoencoder import AbstractManifold


def _print(epoch, train, valid, scale):
    print(f"epoch {int(epoch):>6d}  train mse {float(train):.3e}  valid mse {float(valid):.3e}  "
          f"lr scale {float(scale):.0e}", flush=True)


def _positive_int(v, name):
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"`{name}` must be an int >= 1, got {v!r}.")


def reconstruction_loss(model: AbstractManifold, batch: Float[Array, "n N"]) -> Float[Array, ""]:
    """Mean squared error of $g(h(y))$ against `batch` (rows are centred snapshots)."""
    if batch.ndim != 2 or batch.shape[1] != model.size:
        raise ValueError(f"`snapshots` batch must be (n, N) with N = model.size = {model.size}, "
                         f"got shape {batch.shape}.")
    recon = jax.vmap(lambda y: model.decode(model.encode(y)))(batch)
    return jnp.mean((recon - batch) ** 2)


@eqx.filter_jit
def _train(model, snapshots, key, epochs, batch_size, lr, n_valid, patience, plateau, every):
    n = snapshots.shape[0]
    perm = jr.permutation(jr.fold_in(key, 0), n)
    valid, train = snapshots[perm[:n_valid]], snapshots[perm[n_valid:]]
    n_batches = train.shape[0] // batch_size
    params, static = eqx.partition(model, eqx.is_inexact_array)
    adam = optax.adam(lr)
    sched = optax.contrib.reduce_on_plateau(patience=plateau)
    loss = lambda p, b: reconstruction_loss(eqx.combine(p, static), b)
    valid_loss = lambda p: loss(p, valid)
    dtype = snapshots.dtype

    def epoch_body(carry):
        p, opt, sch, best, best_val, bad, e, th, vh = carry
        idx = jr.permutation(jr.fold_in(key, e + 1), train.shape[0])[: n_batches * batch_size]
        batches = train[idx].reshape(n_batches, batch_size, -1)

        def step(c, batch):
            p, opt = c
            value, grads = jax.value_and_grad(loss)(p, batch)
            updates, opt = adam.update(grads, opt, p)
            updates = jtu.tree_map(lambda u: sch.scale.astype(u.dtype) * u, updates)
            return (eqx.apply_updates(p, updates), opt), value

        (p, opt), values = jax.lax.scan(step, (p, opt), batches)
        tr, va = jnp.mean(values), valid_loss(p)
        _, sch = sched.update(jnp.zeros(()), sch, value=va)
        improved = va < best_val
        best = jtu.tree_map(lambda a, b: jnp.where(improved, a, b), p, best)
        best_val = jnp.where(improved, va, best_val)
        bad = jnp.where(improved, 0, bad + 1)
        if every is not None:
            jax.lax.cond((e + 1) % every == 0, lambda: jax.debug.callback(_print, e + 1, tr, va, sch.scale),
                         lambda: None)
        return p, opt, sch, best, best_val, bad, e + 1, th.at[e].set(tr), vh.at[e].set(va)

    def cond(carry):
        *_, best_val, bad, e, th, vh = carry
        return (e < epochs) & (bad < patience) & jnp.isfinite(jnp.where(e > 0, th[e - 1], 0.0))

    v0 = valid_loss(params)
    hist = jnp.full((epochs,), jnp.nan, dtype)
    init = (params, adam.init(params), sched.init(params), params, v0, jnp.asarray(0),
            jnp.asarray(0), hist, hist)
    p, _, sch, best, best_val, bad, e, th, vh = jax.lax.while_loop(cond, epoch_body, init)
    result = RESULTS.where(jnp.isfinite(best_val) & jnp.all(jnp.isfinite(jnp.where(jnp.arange(epochs) < e, th, 0.0))),
                           RESULTS.successful, RESULTS.nonfinite_loss)
    best_epoch = jnp.where(jnp.any(vh <= best_val), jnp.argmax(vh <= best_val) + 1, 0)
    stats = {"epochs": e, "best_epoch": best_epoch, "valid_loss": best_val,
             "initial_valid_loss": v0, "stopped_early": bad >= patience, "lr_scale": sch.scale}
    return Solution(eqx.combine(best, static), result, stats,
                    history={"train_loss": th, "valid_loss": vh})


def train_autoencoder(
    model: AbstractManifold,
    snapshots: Float[Array, "n N"],
    *,
    key: Array,
    epochs: int = 10_000,
    batch_size: int = 20,
    learning_rate: float = 1e-3,
    validation_fraction: float = 0.1,
    patience: int = 200,
    plateau_patience: int = 10,
    progress: int | None = None,
    throw: bool = True,
) -> Solution:
    r"""Train `model` (e.g. a `MaskedAutoencoder`) to reconstruct centred `snapshots`.

    **Arguments:**
    - `model`: the autoencoder (its inexact arrays are trained; their dtype is kept).
    - `snapshots`: `(n, N)` states minus the reference (the paper: minus the initial
      condition of their own parameter), one snapshot per row.
    - `key`: PRNG key for the validation split and the mini-batch shuffles.
    - `epochs` (paper: up to 10,000), `batch_size` (1-D: 20; 2-D: 240), `learning_rate`
      (1e-3), `validation_fraction` (0.1), `patience` (early stopping, epochs without a
      better validation loss; 1-D: 200), `plateau_patience` (learning-rate cut by 10; 10).
    - `progress`: print train / validation loss every `progress` epochs (None: silent).
    - `throw`: raise if the loss became non-finite, else check `result`.

    **Returns:** `Solution(value=the model with the best validation loss (the initial one
    included), result, stats={"epochs" run, "best_epoch" (0 = the initial model),
    "valid_loss", "initial_valid_loss", "stopped_early", "lr_scale"},
    history={"train_loss", "valid_loss"} per epoch (NaN after the stop))`.
    """
    if not isinstance(model, AbstractManifold):
        raise TypeError(f"`model` must be an AbstractManifold (e.g. rom.MaskedAutoencoder), got {type(model).__name__}.")
    snapshots = jnp.asarray(snapshots)
    if snapshots.ndim != 2 or snapshots.shape[1] != model.size:
        raise ValueError(f"`snapshots` must be (n, N) with N = model.size = {model.size}, got shape {snapshots.shape}.")
    for v, name in ((epochs, "epochs"), (batch_size, "batch_size"), (patience, "patience"),
                    (plateau_patience, "plateau_patience")):
        _positive_int(v, name)
    if progress is not None:
        _positive_int(progress, "progress")
    if not 0 < validation_fraction < 1:
        raise ValueError(f"`validation_fraction` must be in (0, 1), got {validation_fraction!r}.")
    n = snapshots.shape[0]
    n_valid = max(1, int(round(validation_fraction * n)))
    if n - n_valid < batch_size:
        raise ValueError(
            f"`batch_size` = {batch_size} exceeds the {n - n_valid} training snapshots left after "
            f"the validation hold-out; give more snapshots or a smaller batch."
        )
    dtype = jtu.tree_leaves(eqx.filter(model, eqx.is_inexact_array))[0].dtype
    # rates and patiences are traced: changing them reuses the compiled loop
    sol = _train(model, snapshots.astype(dtype), key, epochs, batch_size,
                 jnp.asarray(learning_rate, dtype), n_valid, jnp.asarray(patience),
                 jnp.asarray(plateau_patience), progress)
    return raise_if_failed(sol, throw)
