"""Error measures for approximate trajectories ([PNDS] section 3.2, eq. 24)."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import check_value
from .._misc import as_float_array


@eqx.filter_jit
def l1_error(
    times: Float[Array, " m"], y: Float[Array, " m"], y_approx: Float[Array, " m"]
) -> Float[Array, ""]:
    r"""Discrete $L^1$ error in time of one trajectory (eq. 24):

    $$E(p) = \frac{1}{t_{\rm end} - t_0} \sum_{i=1}^{m-1} (t_{i+1} - t_i)\,
    |y(t_i, p) - \tilde y(t_i, p)|, \qquad t_0 = t_1,\ t_{\rm end} = t_m.$$

    **Arguments:** `times` increasing, shape `(m,)` with $m \ge 2$; `y` reference and
    `y_approx` approximation, shape `(m,)`. Batch over samples with `jax.vmap`.

    **Returns:** the scalar $E(p)$.

    **Raises:** `ValueError` for wrong shapes (trace time); `EquinoxRuntimeError` for
    NaN/inf inputs or non-increasing `times`.
    """
    times = as_float_array(times, "times")
    y = as_float_array(y, "y")
    y_approx = as_float_array(y_approx, "y_approx")
    if times.ndim != 1 or times.shape[0] < 2:
        raise ValueError(f"`times` must be 1-D with at least 2 points, got {times.shape}.")
    for name, arr in (("y", y), ("y_approx", y_approx)):
        if arr.shape != times.shape:
            raise ValueError(
                f"`{name}` must have the shape of `times` {times.shape} (one trajectory; "
                f"vmap for many), got {arr.shape}."
            )
    times = check_value(
        times,
        ~jnp.isfinite(times) | (jnp.diff(times, prepend=-jnp.inf) <= 0),
        "`times` must be finite and strictly increasing.",
    )
    y = check_value(y, ~jnp.isfinite(y), "`y` contains NaN or inf.")
    y_approx = check_value(
        y_approx,
        ~jnp.isfinite(y_approx),
        "`y_approx` contains NaN or inf (a failed or diverged surrogate prediction).",
    )
    dt = jnp.diff(times)
    err = jnp.abs(y - y_approx)[:-1]
    return jnp.sum(dt * err) / (times[-1] - times[0])


@eqx.filter_jit
def error_statistics(errors: Float[Array, " n"]) -> tuple[Float[Array, ""], Float[Array, ""]]:
    r"""Mean and sample standard deviation (divisor $n - 1$) of per-sample errors, as in
    [PNDS] Tables 1-4.

    **Arguments:** `errors` shape `(n,)`, $n \ge 2$. **Returns:** `(mean, std)`.
    """
    errors = as_float_array(errors, "errors")
    if errors.ndim != 1 or errors.shape[0] < 2:
        raise ValueError(f"`errors` must be 1-D with at least 2 entries, got {errors.shape}.")
    errors = check_value(errors, ~jnp.isfinite(errors), "`errors` contain NaN or inf.")
    return jnp.mean(errors), jnp.std(errors, ddof=1)
