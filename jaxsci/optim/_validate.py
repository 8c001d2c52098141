r"""Hyperparameter and input checks of `jaxsci.optim` (DESIGN rule 6).

Hyperparameters are checked once, when a transformation is built: a Python number or a
concrete array raises `ValueError` at once; a traced value (an optimiser built inside
`jit`/`vmap`, e.g. a sweep over learning rates) is checked by `eqx.error_if` and the checked
value is what the transformation closes over. A schedule is checked where it is evaluated,
one scalar per step. Pytree structure and shapes are compared at trace time. None of these
touch the parameters, so the cost per step is O(1).
"""

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_value, is_concrete, require_positive_int

__all__ = ["check_interval", "check_like", "check_not_above", "check_schedule", "require_count"]


def _interval_text(lo, hi, lo_open, hi_open) -> str:
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    return f"{left}{lo}, {'inf' if hi is None else hi}{right}"


def check_interval(
    name: str,
    value: Any,
    lo: float = 0.0,
    hi: float | None = None,
    *,
    lo_open: bool = True,
    hi_open: bool = True,
    hint: str = "",
) -> Any:
    """A finite scalar hyperparameter in the interval `lo .. hi` (`None`: no upper bound).

    Returns `value` (threaded through `eqx.error_if` when it is traced)."""
    where = _interval_text(lo, hi, lo_open, hi_open)
    hint = f" {hint}" if hint else ""
    if isinstance(value, bool) or not (
        isinstance(value, (int, float, np.number)) or hasattr(value, "dtype")
    ):
        raise TypeError(f"`{name}` must be a number in {where}, got {value!r}.{hint}")
    if hasattr(value, "shape") and np.shape(value) != ():
        raise ValueError(f"`{name}` must be a scalar, got shape {np.shape(value)}.{hint}")
    if is_concrete(value):
        v = float(np.asarray(value))
        ok = math.isfinite(v) and (v > lo if lo_open else v >= lo)
        if hi is not None:
            ok = ok and (v < hi if hi_open else v <= hi)
        if not ok:
            raise ValueError(f"`{name}` must lie in {where}, got {v}.{hint}")
        return value
    v = jnp.asarray(value)
    bad = ~jnp.isfinite(v) | ((v <= lo) if lo_open else (v < lo))
    if hi is not None:
        bad = bad | ((v >= hi) if hi_open else (v > hi))
    return check_value(value, bad, f"`{name}` must lie in {where}; a traced value is not.{hint}")


def check_schedule(
    name: str,
    s: Any,
    lo: float = 0.0,
    hi: float | None = None,
    *,
    hi_open: bool = True,
    constant_lo_open: bool = True,
    hint: str = "",
) -> Any:
    """A hyperparameter given as a constant or as a schedule (a callable of the step count).

    A constant must lie in `(lo, hi)` (`[lo, ...` if not `constant_lo_open`); a schedule's
    values may reach `lo` (a decay to zero is legitimate) and are checked where they are
    evaluated: one scalar `eqx.error_if` per step."""
    if callable(s):
        where = _interval_text(lo, hi, False, hi_open)

        def checked(count):
            v = jnp.asarray(s(count))
            va = v
            bad = ~jnp.isfinite(va) | (va < lo)
            if hi is not None:
                bad = bad | ((va >= hi) if hi_open else (va > hi))
            return check_value(
                v, bad, f"the schedule `{name}` returned a value outside {where} (or NaN/inf)."
            )

        return checked
    return check_interval(
        name, s, lo, hi, lo_open=constant_lo_open, hi_open=hi_open, hint=hint
    )


def check_not_above(a: Any, b: Any, message: str, strict: bool = False) -> Any:
    """`a <= b` (`a < b` if `strict`) for two hyperparameters; returns `a` (threaded through
    `eqx.error_if` when either is traced)."""
    if is_concrete(a) and is_concrete(b):
        fa, fb = float(np.asarray(a)), float(np.asarray(b))
        if (fa >= fb) if strict else (fa > fb):
            raise ValueError(message)
        return a
    a = jnp.asarray(a)
    b = jnp.asarray(b)
    return check_value(a, (a >= b) if strict else (a > b), message)


def require_count(n: Any, name: str, minimum: int = 1) -> int:
    """A static integer count (steps, sizes) `>= minimum`."""
    return require_positive_int(n, name, minimum)


def check_like(tree: Any, name: str, ref: Any, ref_name: str) -> None:
    """Trace time: `tree` has the pytree structure and leaf shapes of `ref`."""
    s1, s2 = jax.tree.structure(tree), jax.tree.structure(ref)
    if s1 != s2:
        raise ValueError(
            f"`{name}` must have the pytree structure of `{ref_name}`: got {s1}, expected {s2}."
        )
    for a, b in zip(jax.tree.leaves(tree), jax.tree.leaves(ref)):
        if np.shape(a) != np.shape(b):
            raise ValueError(
                f"`{name}` must have the shapes of `{ref_name}`: a leaf has shape "
                f"{np.shape(a)} where `{ref_name}` has {np.shape(b)}."
            )


def scalar_value(value: Any, name: str = "value") -> Any:
    """Trace time: the cost passed to a line search is a scalar."""
    if np.shape(value) != ():
        raise ValueError(
            f"`{name}` must be the scalar cost J(theta), got shape {np.shape(value)}."
        )
    return jnp.asarray(value)


_Sched = float | Callable
