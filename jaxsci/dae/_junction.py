r"""The exponential junction law of the circuit models, with an overflow report."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_value, is_concrete


def junction_current(
    u: Float[ArrayLike, "..."],
    saturation: Float[ArrayLike, ""] | float = 1e-6,
    thermal_voltage: Float[ArrayLike, ""] | float = 0.026,
    *,
    check: bool = True,
) -> Float[Array, "..."]:
    r"""Diode / pn-junction current $w(u) = \alpha\,(\exp(u / \beta) - 1)$.

    The current-voltage relation of the bipolar transistors in all circuit models (paper
    eq. (27): $\alpha = 10^{-6}$, $\beta = 0.026$; the Test Set's $g$ with
    $\beta_{TS} = 10^{-6}$, $U_F = 0.026$). Computed with `expm1` so that it is accurate
    near $u = 0$ (where the circuits sit at rest).

    **Overflow.** $\exp(u/\beta)$ overflows for $u/\beta$ above $\log(\text{float max})$
    ($\approx 709$ in float64, i.e. $u \gtrsim 18.4$ V; $\approx 88$ in float32). Rather
    than returning `inf` this raises an `EquinoxRuntimeError` (via `eqx.error_if`, so it
    also works under `jit`/`vmap`): a junction voltage that large means the simulation
    has diverged or the parameters are unphysical.

    Inside a time integration the trial stages of a step that will be *rejected* can
    overflow harmlessly; `jaxsci.dae.simulate`/`sweep` therefore evaluate the circuits with
    `check=False` (overflow gives `inf`, which `Rodas4` turns into a rejected step) and
    report a persistent failure through the returned `RESULTS` code instead.

    **Arguments:** `u` junction voltage (any shape), `saturation` $\alpha$,
    `thermal_voltage` $\beta$ (both positive scalars), `check` (raise on overflow).

    **Returns:** $w(u)$, same shape as `u`.

    **Raises** (with `check=True`): `ValueError` for a concrete non-positive or non-finite
    `saturation` / `thermal_voltage` (traced ones: `EquinoxRuntimeError`), and
    `EquinoxRuntimeError` for a NaN voltage `u` or an overflow. With `check=False` only
    concrete parameter values are checked (at trace time, no run-time cost).
    """
    u = jnp.asarray(u)

    def _positive(value, name):
        msg = f"`{name}` must be a finite positive number (a junction parameter)"
        if is_concrete(value):
            v = np.asarray(value)
            if not (np.all(v > 0) and np.all(np.isfinite(v))):
                raise ValueError(f"{msg}, got {value!r}.")
            return value
        if not check:
            return value
        bad = ~(jnp.asarray(value) > 0) | ~jnp.isfinite(value)
        return check_value(value, bad, msg + "; got a value that is not.")

    saturation = _positive(saturation, "saturation")
    thermal_voltage = _positive(thermal_voltage, "thermal_voltage")
    x = u / thermal_voltage
    if not check:
        return saturation * jnp.expm1(x)
    limit = float(np.log(jnp.finfo(x.dtype).max)) - 1.0
    # One check for both failures (`~(x <= limit)` is also true for NaN): this runs at
    # every right-hand-side evaluation of a circuit, so it stays a single `error_if`.
    x = eqx.error_if(
        x,
        ~(x <= limit),
        "Junction law overflow (or a NaN voltage): exp(u / thermal_voltage) exceeds the "
        "floating-point range (u > ~log(max float) * thermal_voltage) or `u` is NaN. The "
        "inputs contain NaN, the circuit simulation diverged or the parameters are "
        "unphysical: check the parameter values, tighten the tolerances, or use float64.",
    )
    return saturation * jnp.expm1(x)
