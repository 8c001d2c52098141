"""Shared input checks of the samplers: a static count, a factor-bounds table, a level count."""

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._checks import as_float_array, check_value, require_positive_int
from .._misc import default_floating_dtype


def scale_to_bounds(
    unit: Float[Array, "n d"], bounds: Float[ArrayLike, "d 2"] | None, name: str = "bounds"
) -> Float[Array, "n d"]:
    r"""$x = a + (b - a)\,u$ column by column (SALib's `scale_samples` for uniform factors).

    `bounds` `None` keeps the unit cube. Refuses a table that is not `(d, 2)`, NaN/inf
    entries or $b \le a$, naming `name`.
    """
    if bounds is None:
        return unit
    b = as_float_array(bounds, name)
    d = unit.shape[-1]
    if b.shape != (d, 2):
        raise ValueError(
            f"`{name}` must have shape ({d}, 2) (one [lower, upper] row per factor), got "
            f"shape {tuple(b.shape)}."
        )
    b = check_value(b, ~jnp.isfinite(b), f"`{name}` contains NaN or inf; give finite limits.")
    b = check_value(
        b,
        b[:, 1] <= b[:, 0],
        f"`{name}` needs lower < upper in every row (column 0 the lower limit, column 1 "
        "the upper).",
    )
    lo, hi = b[:, 0].astype(unit.dtype), b[:, 1].astype(unit.dtype)
    return lo + (hi - lo) * unit


def float_dtype(bounds: Any) -> jnp.dtype:
    """The dtype of the samples: that of `bounds` if it is a floating array, else the default."""
    dt = getattr(bounds, "dtype", None)
    if dt is not None and jnp.issubdtype(dt, jnp.floating):
        return jnp.dtype(dt)
    return default_floating_dtype()


def require_int_in(n: Any, name: str, minimum: int, maximum: int | None = None) -> int:
    """A static int in `[minimum, maximum]` (`TypeError` for a non-int, `ValueError` outside)."""
    n = require_positive_int(n, name, minimum)
    if maximum is not None and n > maximum:
        raise ValueError(f"`{name}` must be an integer <= {maximum}, got {n}.")
    return n
