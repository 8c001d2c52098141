"""Strategies that draw bad inputs, and the check that jaxsci refuses them.

The contract every public jaxsci entry point keeps (DESIGN rule 6): given a bad input it
raises a clear error (`ValueError`/`TypeError` at trace time, `EquinoxRuntimeError` at run
time) or returns a `Solution` whose `result` is a failure code; it never returns a silent
NaN/inf or a meaningless finite answer. `assert_refuses` checks exactly that, and the
strategies here draw the inputs to feed it.
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import hypothesis.strategies as st
import jax
import numpy as np

from .._solution import RESULTS, Solution

REFUSAL_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    eqx.EquinoxRuntimeError,
    jax.errors.JaxRuntimeError,
)
"""The exception types a refusal may raise: tier 1 (`ValueError`/`TypeError`), tier 2
(`eqx.EquinoxRuntimeError`, or `jax.errors.JaxRuntimeError` when the caller wraps jaxsci in
plain `jax.jit` rather than `eqx.filter_jit`)."""


def assert_refuses(fn: Callable[[], Any], match: str | None = None) -> BaseException | Solution:
    """Assert that `fn()` refuses its (bad) input.

    Passes if `fn()` raises one of `REFUSAL_ERRORS` (whose message contains the regular
    expression `match`, when given) or returns a `Solution` with a failure `result`.
    Fails with `AssertionError` if it returns anything else (in particular a silent
    NaN/inf or finite output) or raises another exception type (an unclear error such as
    `ZeroDivisionError`, `IndexError` or a raw XLA shape error).

    Returns the exception or the failed `Solution` for further checks.
    """
    import re

    try:
        out = fn()
        out = jax.block_until_ready(out)
    except REFUSAL_ERRORS as err:
        if match is not None and re.search(match, str(err)) is None:
            raise AssertionError(
                f"refused with {type(err).__name__}, but its message does not match "
                f"{match!r}:\n{err}"
            ) from err
        return err
    except Exception as err:  # noqa: BLE001 - the point is to report the unclear type
        raise AssertionError(
            f"bad input raised {type(err).__name__} (not a clear jaxsci error): {err}"
        ) from err
    if isinstance(out, Solution):
        if bool(np.all(np.asarray(out.result == RESULTS.successful))):
            raise AssertionError("bad input returned a Solution with result=successful.")
        return out
    leaves = [np.asarray(x) for x in jax.tree_util.tree_leaves(out) if eqx.is_array_like(x)]
    finite = all(np.all(np.isfinite(x)) for x in leaves if np.issubdtype(x.dtype, np.inexact))
    what = "finite output" if finite else "NaN/inf output"
    raise AssertionError(f"bad input was accepted silently: it returned {what}.")


_NONFINITE = (np.nan, np.inf, -np.inf)


@st.composite
def with_nonfinite(draw: st.DrawFn, x: np.ndarray, max_count: int = 1) -> np.ndarray:
    """A copy of the array `x` with 1 to `max_count` entries replaced by NaN, inf or -inf."""
    x = np.array(x, dtype=np.float64, copy=True)
    if x.size == 0:
        raise ValueError("with_nonfinite needs a non-empty array.")
    count = draw(st.integers(1, max(1, min(max_count, x.size))))
    flat = x.reshape(-1)
    for _ in range(count):
        flat[draw(st.integers(0, x.size - 1))] = draw(st.sampled_from(_NONFINITE))
    return flat.reshape(x.shape)


@st.composite
def non_spd_matrices(draw: st.DrawFn, n: int = 3, scale: float = 1.0) -> np.ndarray:
    r"""$n \times n$ matrices that are *not* symmetric positive definite.

    Draws one of: a symmetric matrix with an eigenvalue $\le 0$ (indefinite, negative
    definite or singular), or a non-symmetric matrix whose symmetric part is SPD (so a
    check of the eigenvalues alone would pass it). Entries are of order `scale`.
    """
    kind = draw(st.sampled_from(["indefinite", "negative", "singular", "nonsymmetric"]))
    g = np.array(
        [[draw(st.floats(-1.0, 1.0, allow_nan=False)) for _ in range(n)] for _ in range(n)]
    ) + 3.0 * np.eye(n)
    q, _ = np.linalg.qr(g)
    lam = np.array([draw(st.floats(0.2, 2.0, allow_nan=False)) for _ in range(n)])
    if kind == "indefinite":
        lam[draw(st.integers(0, n - 1))] *= -1.0
    elif kind == "negative":
        lam = -lam
    elif kind == "singular":
        lam[draw(st.integers(0, n - 1))] = 0.0
    a = (q * lam) @ q.T
    a = 0.5 * (a + a.T)
    if kind == "nonsymmetric":
        i, j = draw(st.sampled_from([(i, j) for i in range(n) for j in range(n) if i != j]))
        a[i, j] += draw(st.sampled_from([-1.0, 1.0])) * draw(st.floats(0.05, 0.5))
    return scale * a


@st.composite
def mismatched_shapes(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that differs from `shape`: one axis added, one dropped, or one resized."""
    shape = tuple(int(s) for s in shape)
    options = ["add"]
    if len(shape) > 0:
        options += ["drop", "resize"]
    kind = draw(st.sampled_from(options))
    if kind == "add":
        pos = draw(st.integers(0, len(shape)))
        return shape[:pos] + (draw(st.integers(2, 3)),) + shape[pos:]
    axis = draw(st.integers(0, len(shape) - 1))
    if kind == "drop":
        return shape[:axis] + shape[axis + 1 :]
    new = draw(st.integers(1, shape[axis] + 3).filter(lambda s: s != shape[axis]))
    return shape[:axis] + (new,) + shape[axis + 1 :]


def empty_like_shape(shape: tuple[int, ...], axis: int = 0) -> np.ndarray:
    """A float64 array of `shape` with size 0 along `axis` (e.g. zero data points)."""
    shape = list(shape)
    shape[axis] = 0
    return np.zeros(shape, dtype=np.float64)
