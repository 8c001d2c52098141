"""Training neural surrogates with optimistix and validation-based early stopping.

[PNDS] section 3.1 / 4: mean-squared-error performance, Levenberg-Marquardt (section 4.1)
or conjugate gradients (section 4.2); the iteration "is stopped if the performance function
increases for the validation set" (MATLAB's rule: `max_fail` consecutive non-improving
checks) or after a maximum number of iterations; the state with the best validation error
is returned.
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, Float

from .._misc import as_float_array
from .._solution import RESULTS, Solution, raise_if_failed


def _mse(model, x, y):
    pred = jax.vmap(model)(x)
    return jnp.mean((pred - y) ** 2)


def _check_data(x, y, name):
    x = as_float_array(x, f"{name}[0]")
    y = as_float_array(y, f"{name}[1]")
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(
            f"`{name}` must be a pair (inputs (k, q), targets (k, r)) with equal k, got "
            f"shapes {x.shape} and {y.shape}."
        )
    return x, y


@eqx.filter_jit
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
    own `init`/`step` run inside one `lax.while_loop`: every `steps_per_check` steps the
    validation MSE is evaluated; the parameters with the best validation MSE are kept, and
    training stops after `patience` consecutive checks without improvement, at
    `max_steps`, or when the solver's own termination test fires.

    **Arguments:**
    - `model`: callable on one point `(q,)` -> `(r,)` (e.g. `tanh_network(...)`).
    - `train`, `valid`: pairs `(inputs (k, q), targets (k, r))`.
    - `solver`: an optimistix least-squares solver or minimiser (its rtol/atol still apply).
    - `max_steps`, `steps_per_check`, `patience`: static ints.
    - `progress`: print a progress line per check from inside jit.
    - `throw`: raise on a non-finite loss; else inspect `result`.

    **Returns:** a `Solution` with `value` the best model; `stats` with `num_steps`,
    `best_step`, `train_mse`, `valid_mse` (at the best step) and `stopped_early`;
    `aux = {"train_mse": (n_checks,), "valid_mse": (n_checks,)}` histories (NaN after the
    stop). `result` is `RESULTS.nonfinite` if the loss became NaN/inf.
    """
    for name, val in (
        ("max_steps", max_steps),
        ("steps_per_check", steps_per_check),
        ("patience", patience),
    ):
        if not isinstance(val, int) or val < 1:
            raise ValueError(f"`{name}` must be a positive int, got {val!r}.")
    if not isinstance(solver, (optx.AbstractLeastSquaresSolver, optx.AbstractMinimiser)):
        raise TypeError(
            "`solver` must be an optimistix least-squares solver or minimiser, got "
            f"{type(solver).__name__}."
        )
    xt, yt = _check_data(*train, "train")
    xv, yv = _check_data(*valid, "valid")
    if xv.shape[1] != xt.shape[1] or yv.shape[1] != yt.shape[1]:
        raise ValueError("`train` and `valid` must have the same input and output sizes.")

    params, static = eqx.partition(model, eqx.is_inexact_array)
    scale = 1.0 / jnp.sqrt(jnp.asarray(yt.size, dtype=yt.dtype))
    least_squares = isinstance(solver, optx.AbstractLeastSquaresSolver)

    def fn(theta, args):
        x, y = args
        pred = jax.vmap(eqx.combine(theta, static))(x)
        res = (pred - y).reshape(-1) * scale
        if least_squares:
            return res, None
        return jnp.sum(res**2), None

    args = (xt, yt)
    options: dict[str, Any] = {}
    tags = frozenset()
    f_struct, aux_struct = eqx.filter_eval_shape(fn, params, args)
    state0 = solver.init(fn, params, args, options, f_struct, aux_struct, tags)
    dyn0, static_state = eqx.partition(state0, eqx.is_array)
    n_checks = -(-max_steps // steps_per_check)
    nan_hist = jnp.full((n_checks,), jnp.nan, dtype=yt.dtype)
    val0 = _mse(model, xv, yv)

    def one_step(_, carry):
        theta, dyn, done = carry
        state = eqx.combine(dyn, static_state)
        new_theta, new_state, _ = solver.step(fn, theta, args, options, state, tags)
        stop, _ = solver.terminate(fn, new_theta, args, options, new_state, tags)
        new_dyn = eqx.filter(new_state, eqx.is_array)
        # Once the solver has terminated, freeze (no further steps inside this chunk).
        theta = jax.tree.map(lambda a, b: jnp.where(done, a, b), theta, new_theta)
        dyn = jax.tree.map(lambda a, b: jnp.where(done, a, b), dyn, new_dyn)
        return theta, dyn, done | stop

    def cond(carry):
        check, _, _, _, _, _, bad, done, _, _, _ = carry
        return (check < n_checks) & (bad < patience) & ~done

    def body(carry):
        check, theta, dyn, best, best_val, best_step, bad, done, ht, hv, _ = carry
        theta, dyn, done = jax.lax.fori_loop(0, steps_per_check, one_step, (theta, dyn, done))
        m = eqx.combine(theta, static)
        tr, va = _mse(m, xt, yt), _mse(m, xv, yv)
        improved = va < best_val
        best = jax.tree.map(lambda a, b: jnp.where(improved, a, b), theta, best)
        best_val = jnp.where(improved, va, best_val)
        steps = jnp.minimum((check + 1) * steps_per_check, max_steps)
        best_step = jnp.where(improved, steps, best_step)
        bad = jnp.where(improved, 0, bad + 1)
        nonfinite = ~jnp.isfinite(tr)
        if progress:
            jax.debug.print(
                "fit_network: step {s}  train mse {t:.3e}  valid mse {v:.3e}",
                s=steps,
                t=tr,
                v=va,
            )
        return (
            check + 1,
            theta,
            dyn,
            best,
            best_val,
            best_step,
            bad,
            done | nonfinite,
            ht.at[check].set(tr),
            hv.at[check].set(va),
            nonfinite,
        )

    init = (
        jnp.array(0),
        params,
        dyn0,
        params,
        val0,
        jnp.array(0),
        jnp.array(0),
        jnp.array(False),
        nan_hist,
        nan_hist,
        jnp.array(False),
    )
    out = jax.lax.while_loop(cond, body, init)
    check, _, _, best, best_val, best_step, bad, _, ht, hv, nonfinite = out
    best_model = eqx.combine(best, static)
    result = RESULTS.where(nonfinite, RESULTS.nonfinite, RESULTS.successful)
    stats = {
        "num_steps": jnp.minimum(check * steps_per_check, max_steps),
        "best_step": best_step,
        "train_mse": _mse(best_model, xt, yt),
        "valid_mse": best_val,
        "stopped_early": bad >= patience,
    }
    sol = Solution(
        value=best_model, result=result, stats=stats, history={"train_mse": ht, "valid_mse": hv}
    )
    return raise_if_failed(sol, throw)
