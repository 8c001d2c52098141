"""Shared input checks of the samplers: a static count, a factor-bounds table, a level count."""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import as_float_array, is_concrete, require_positive_int
from .._misc import default_floating_dtype


def refuse_if(x: Any, bad: Callable[[Any, Any], Any], message: str) -> Any:
    """Tier 2 with no compile for concrete input: `bad(np, x)` on the host (`ValueError`),
    else `eqx.error_if(x, any(bad(jnp, x)), message)` under `jit`/`vmap`. Returns `x`."""
    if is_concrete(x):
        if bool(np.any(bad(np, np.asarray(x)))):
            raise ValueError(message)
        return x
    return eqx.error_if(x, jnp.any(bad(jnp, x)), message)


def nonfinite(xp: Any, x: Any) -> Any:
    """The NaN/inf entries of `x` (`xp` is `np` or `jnp`)."""
    return ~xp.isfinite(x)


def check_bounds(
    bounds: Float[ArrayLike, "d 2"], d: int, dtype: Any, name: str = "bounds"
) -> Float[Array, "d 2"]:
    r"""A `(d, 2)` table of `[lower, upper]` rows, finite with lower < upper, in `dtype`.

    Refuses a wrong shape (`ValueError`), NaN/inf entries or $b \le a$ (value checks),
    naming `name`. Thread the result: under `jit` it carries the checks.
    """
    b = as_float_array(bounds, name)
    if b.shape != (d, 2):
        raise ValueError(
            f"`{name}` must have shape ({d}, 2) (one [lower, upper] row per factor), got "
            f"shape {tuple(b.shape)}."
        )
    b = refuse_if(b, nonfinite, f"`{name}` contains NaN or inf; give finite limits.")
    b = refuse_if(
        b,
        lambda xp, v: v[:, 1] <= v[:, 0],
        f"`{name}` needs lower < upper in every row (column 0 the lower limit, column 1 "
        "the upper).",
    )
    return b.astype(dtype)


@eqx.filter_jit
def affine(unit, b):
    """`b[:, 0] + (b[:, 1] - b[:, 0]) * unit`, column by column (SALib's `scale_samples`)."""
    return b[None, :, 0] + (b[:, 1] - b[:, 0])[None, :] * unit


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
