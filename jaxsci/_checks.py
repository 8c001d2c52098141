"""Input checks shared by every sub-package (DESIGN rule 6).

Tier 1 (trace time, `ValueError`/`TypeError`): shapes, ranks, emptiness, static values.
Tier 2 (run time, values): `check_value` raises `ValueError` at once when the condition is
concrete (eager calls, Python floats given to a constructor) and otherwise falls back to
`eqx.error_if`, so the same check holds under `jit` and `vmap` as well as eagerly.
Tier 3 (iterative solves) lives in `jaxsci._solution`.

Every message names the argument, says what was received and what to do.
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool

from ._misc import as_float_array, check_finite

__all__ = [
    "as_float_array",
    "check_finite",
    "check_key",
    "check_ndim",
    "check_nonempty",
    "check_same_size",
    "check_value",
    "is_concrete",
    "require_positive_int",
]


def is_concrete(x: Any) -> bool:
    """True if no leaf of `x` is a JAX tracer (its value is known at trace time)."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(x))


def check_value(x: Any, bad: Bool[ArrayLike, "..."], message: str) -> Any:
    """Tier 2: refuse `x` when any entry of `bad` is true.

    If `bad` is concrete, raises `ValueError(message)` immediately (a clear Python error
    with the caller's traceback); under `jit`/`vmap` it is `eqx.error_if(x, bad, message)`,
    which raises `EquinoxRuntimeError` with the same message when the program runs.
    Returns `x` (thread it through so the check is not dead-code eliminated).
    """
    if is_concrete(bad):
        if bool(np.any(np.asarray(bad))):
            raise ValueError(message)
        return x
    return eqx.error_if(x, jnp.any(bad), message)


def check_ndim(x: Array, name: str, ndim: int | tuple[int, ...], what: str = "") -> Array:
    """Tier 1: `x.ndim` must be `ndim` (or one of them); `what` describes the axes."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if x.ndim not in allowed:
        want = " or ".join(str(a) for a in allowed)
        hint = f" {what}" if what else ""
        raise ValueError(
            f"`{name}` must have {want} dimension(s){hint}, got shape {tuple(x.shape)}."
        )
    return x


def check_nonempty(x: Array, name: str, axis: int = 0, what: str = "points") -> Array:
    """Tier 1: `x` must have at least one entry along `axis`."""
    if x.ndim == 0 and axis == 0:
        return x
    if x.shape[axis] == 0:
        raise ValueError(
            f"`{name}` is empty (shape {tuple(x.shape)}): give at least one of the {what}."
        )
    return x


def check_same_size(
    a: Array, name_a: str, b: Array, name_b: str, axis_a: int = 0, axis_b: int = 0
) -> None:
    """Tier 1: `a.shape[axis_a] == b.shape[axis_b]`."""
    if a.shape[axis_a] != b.shape[axis_b]:
        raise ValueError(
            f"`{name_a}` (shape {tuple(a.shape)}) and `{name_b}` (shape {tuple(b.shape)}) must "
            f"have the same size along axis {axis_a} / {axis_b}: "
            f"{a.shape[axis_a]} != {b.shape[axis_b]}."
        )


def require_positive_int(n: Any, name: str, minimum: int = 1) -> int:
    """Tier 1: a static integer count `>= minimum` (e.g. sizes, steps, ranks)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"`{name}` must be a Python int, got {type(n).__name__} ({n!r}).")
    if n < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {n}.")
    return int(n)


def check_key(key: Any, name: str = "key") -> None:
    """Tier 1: `key` is a JAX PRNG key (new-style or legacy `uint32[2]`)."""
    ok = isinstance(key, jax.Array) and (
        jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
        or (key.dtype == jnp.uint32 and key.shape == (2,))
    )
    if not ok:
        raise TypeError(
            f"`{name}` must be a JAX PRNG key (e.g. `jax.random.key(0)`), got {key!r:.80}."
        )
