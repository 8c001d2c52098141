"""Private input checks of `jaxsci.pinn` (DESIGN rule 6), on top of `jaxsci._checks`."""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .._checks import as_float_array, check_key, check_value, is_concrete


def _shown(x) -> str:
    if is_concrete(x):
        return f", got {np.asarray(x).tolist()!r}"
    return ""


def scalar_param(
    value: ArrayLike, name: str, *, lower: float | None = None, strict: bool = False,
    what: str = "", hint: str = "",
) -> Array:
    """A real scalar parameter: finite, and `> lower` (`strict`) or `>= lower`; tier 1 for
    shape/dtype, tier 2 (`check_value`) for the value."""
    x = as_float_array(value, name)
    if x.ndim != 0:
        raise ValueError(f"`{name}` must be a scalar{what and ' (' + what + ')'}, got shape {x.shape}.")
    bad = ~jnp.isfinite(x)
    cond = "finite"
    if lower is not None:
        bad = bad | ((x <= lower) if strict else (x < lower))
        cond = f"finite and {'>' if strict else '>='} {lower:g}"
    msg = f"`{name}`{what and ' (' + what + ')'} must be {cond}{_shown(x)}."
    return check_value(x, bad, msg + (f" {hint}" if hint else ""))


def finite_array(x: Array, name: str, hint: str = "clean or drop those entries.") -> Array:
    """Tier 2: no NaN/inf in `x` (one `isfinite` pass; entry points only)."""
    return check_value(x, ~jnp.all(jnp.isfinite(x)), f"`{name}` contains NaN or inf; {hint}")


def count(n, name: str, minimum: int = 1, what: str = "a number of points") -> int:
    """A static count (Python int >= minimum)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"`{name}` must be a Python int ({what}), got "
                        f"{type(n).__name__} ({n!r}).")
    if n < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum} ({what}), got {n}.")
    return int(n)


prng_key = check_key  # tier 1: a JAX PRNG key (shared helper)


def probe(f, x: Array, name: str = "f", arg: str = "x") -> jax.ShapeDtypeStruct:
    """Trace `f` at `x` abstractly and turn a shape error inside it into a clear one."""
    try:
        return jax.eval_shape(f, x)
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"`{name}` could not be evaluated at `{arg}` of shape {tuple(x.shape)} and dtype "
            f"{x.dtype} ({type(e).__name__}: {str(e).splitlines()[0]}); check that `{arg}` has "
            f"the input dimension `{name}` expects."
        ) from e
