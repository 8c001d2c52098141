r"""Value checks for the DAE entry points that also work on Python floats under `jit`.

`jaxsci._checks.check_value` decides eager-vs-traced from `bad`; a Python float given to a
function traced by `jit` has a concrete value but `jnp` turns `bad` into a tracer there,
so these helpers compute `bad` with NumPy when `x` is concrete.
"""

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

from .._checks import check_value, is_concrete


def refuse_if(x: Any, bad: Callable[[Any, Any], Any], message: str) -> Any:
    """Tier 2: `bad(xp, x)` (with `xp` NumPy for concrete `x`, else `jax.numpy`) flags
    the bad entries; raises `ValueError(message)` at once for concrete `x`, otherwise
    `eqx.error_if` (threaded: use the returned `x`)."""
    if is_concrete(x):
        if bool(np.any(bad(np, np.asarray(x)))):
            raise ValueError(message)
        return x
    return check_value(x, bad(jnp, x), message)


def nonfinite(xp, x):
    return ~xp.isfinite(x)


def not_positive(xp, x):
    return ~(x > 0) | ~xp.isfinite(x)
