"""Training neural surrogates with optimistix and validation-based early stopping.

[PNDS] section 3.1 / 4: mean-squared-error performance, Levenberg-Marquardt (section 4.1)
or conjugate gradients (section 4.2); the iteration "is stopped if the performance function
increases for the validation set" (MATLAB's rule: `max_fail` consecutive non-improving
checks) or after a maximum number of iterations; the state with the best validation error
is returned.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, Float

from .._checks import check_value
from .._misc import as_float_array
from .._solution import Solution
from ..train import Optimistix, ValidationPatience, fit


def _mse(model, x, y):
    pred = jax.vmap(model)(x)
    return jnp.mean((pred - y) ** 2)


def _check_data(data, name):
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(
            f"`{name}` must be a pair (inputs (k, q), targets (k, r)), got "
            f"{type(data).__name__}."
        )
    x = as_float_array(data[0], f"{name}[0]")
    y = as_float_array(data[1], f"{name}[1]")
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(
            f"`{name}` must be a pair (inputs (k, q), targets (k, r)) with equal k, got "
            f"shapes {x.shape} and {y.shape}."
        )
    if x.shape[0] == 0:
        hint = (
            " Early stopping needs validation data: split some samples off the training "
            "set (the paper uses 15 %)."
            if name == "valid"
            else ""
        )
        raise ValueError(
            f"`{name}` is empty (shapes {x.shape}, {y.shape}): give at least one sample."
            + hint
        )
    for arr, part in ((x, "inputs"), (y, "targets")):
        check_value(
            arr,
            ~jnp.isfinite(arr),
            f"`{name}` {part} contain NaN or inf; drop those samples (e.g. failed DAE "
            "sweep rows) before training.",
        )
    return x, y


def _check_model(model, xt, yt):
    try:
        out = eqx.filter_eval_shape(model, xt[0])
    except Exception as err:  # noqa: BLE001 - re-raised with the shapes that matter
        raise ValueError(
            f"`model` cannot be applied to one training input of shape {xt.shape[1:]} "
            f"(`train[0]` has shape {xt.shape}): {type(err).__name__}: {err}. Build the "
            "network with in_size = q."
        ) from err
    if getattr(out, "shape", None) != yt.shape[1:]:
        raise ValueError(
            f"`model` maps one input to shape {getattr(out, 'shape', type(out).__name__)}, "
            f"but the targets `train[1]` have {yt.shape[1:]} per sample; build the network "
            "with out_size = r."
        )


def fit_network(
    model: Callable[[Float[Array, " q"]], Float[Array, " r"]],
    train: tuple[Float[Array, "k q"], Float[Array, "k r"]],
    valid: tuple[Float[Array, "kv q"], Float[Array, "kv r"]],
    *,
    solver: optx.AbstractLeastSquaresSolver | optx.AbstractMinimiser,
    max_steps: int = 1000,
    steps_per_check: int = 10,
    patience: int = 6,
    progress: bool = False,
    throw: bool = True,
) -> Solution:
    r"""Fit `model` to `train` by `solver` with validation-based early stopping.

    Minimises the mean squared error $\frac{1}{k r}\sum_j \|\Psi(p_j) - \hat a(p_j)\|^2$
    over the inexact-array leaves $\Theta$ of `model` ([PNDS] section 3.1). A least-squares
    solver (`optx.LevenbergMarquardt`, `optx.GaussNewton`, ...) receives the residual
    vector; a minimiser (`optx.NonlinearCG`, `optx.BFGS`, ...) the scalar MSE. The solver's
    own `init`/`step` run inside the loop of `jaxsci.train.fit` (trainer
    `jaxsci.train.Optimistix`, stop `jaxsci.train.ValidationPatience`): every
    `steps_per_check` steps (and after the last) the validation MSE is evaluated; the
    parameters with the best validation MSE are kept, and training stops after `patience`
    consecutive checks without improvement, at `max_steps`, or when the solver's own
    termination test fires.

    **Arguments:**
    - `model`: callable on one point `(q,)` -> `(r,)` (e.g. `tanh_network(...)`).
    - `train`, `valid`: pairs `(inputs (k, q), targets (k, r))`.
    - `solver`: an optimistix least-squares solver or minimiser (its rtol/atol still apply).
    - `max_steps`, `steps_per_check`, `patience`: static ints.
    - `progress`: print a progress line (training MSE) every `steps_per_check` steps from
      inside the compiled loop.
    - `throw`: raise on a non-finite loss; else inspect `result`.

    **Returns:** a `Solution` with `value` the best model; `stats` with `num_steps`,
    `best_step`, `train_mse`, `valid_mse` (at the best step) and `stopped_early`;
    `history = {"train_mse": (max_steps,) (before each step), "valid_mse": (n_checks,)}`
    (NaN after the stop); `state` as `fit`'s. `result` is `RESULTS.nonfinite_loss` if the
    loss became NaN/inf (the best iterate is returned).

    **Raises** (before anything is compiled): `TypeError` for a `train`/`valid` that is
    not a pair or a `solver` of the wrong kind; `ValueError` for wrong or mismatched
    shapes, a `model` whose input/output sizes do not fit the data, an **empty** `train`
    or `valid` (validation data is required: with none, early stopping would never
    select an iterate), NaN/inf in the data, or non-positive `max_steps` /
    `steps_per_check` / `patience`.
    """
    for name, val in (
        ("max_steps", max_steps),
        ("steps_per_check", steps_per_check),
        ("patience", patience),
    ):
        if isinstance(val, bool) or not isinstance(val, int) or val < 1:
            raise ValueError(f"`{name}` must be a positive int, got {val!r}.")
    if not isinstance(solver, (optx.AbstractLeastSquaresSolver, optx.AbstractMinimiser)):
        raise TypeError(
            "`solver` must be an optimistix least-squares solver or minimiser, got "
            f"{type(solver).__name__}."
        )
    xt, yt = _check_data(train, "train")
    xv, yv = _check_data(valid, "valid")
    if xv.shape[1] != xt.shape[1] or yv.shape[1] != yt.shape[1]:
        raise ValueError(
            "`train` and `valid` must have the same input and output sizes, got "
            f"{xt.shape}, {yt.shape} and {xv.shape}, {yv.shape}."
        )
    _check_model(model, xt, yt)

    scale = 1.0 / jnp.sqrt(jnp.asarray(yt.size, dtype=yt.dtype))

    def loss_fn(m, args):
        mse = _mse(m, *args)
        return mse, {}

    def residuals(m, args):
        x, y = args
        return (jax.vmap(m)(x) - y).reshape(-1) * scale

    sol = fit(
        loss_fn,
        model,
        Optimistix(solver, residuals=residuals),
        args=(xt, yt),
        steps=max_steps,
        stop=ValidationPatience(lambda m: _mse(m, xv, yv), every=steps_per_check,
                                patience=patience),
        progress=steps_per_check if progress else None,
        throw=throw,
    )
    stats = {
        "num_steps": sol.stats["num_steps"],
        "best_step": sol.stats["best_step"],
        "train_mse": _train_mse(sol.value, xt, yt),
        "valid_mse": sol.stats["valid_loss"],
        "stopped_early": sol.stats["stopped_early"],
    }
    history = {"train_mse": sol.history["loss"], "valid_mse": sol.history["valid_loss"]}
    return Solution(sol.value, sol.result, stats, history, sol.state)


_train_mse = eqx.filter_jit(_mse)
