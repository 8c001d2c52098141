r"""Legendre polynomials on an interval, classical or orthonormal, and their tensor products.

The classical Legendre polynomials $P_n$ on $[-1, 1]$ follow the three-term recurrence
$(n+1) P_{n+1}(y) = (2n+1)\, y P_n(y) - n P_{n-1}(y)$, $P_0 = 1$, $P_1 = y$, with
$\int_{-1}^1 P_n P_k\,dy = \frac{2}{2n+1}\delta_{nk}$. On $[a, b]$ they are evaluated at
$y = 2\frac{x - a}{b - a} - 1$; the orthonormal ones are
$L_n(x) = \sqrt{\frac{2n+1}{b-a}}\, P_n(y)$, so $\int_a^b L_n L_k\,dx = \delta_{nk}$.
"""

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from .._checks import check_value
from .._misc import as_float_array

__all__ = ["legendre", "legendre_product"]


def _check_degree(degree) -> int:
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 0:
        raise ValueError(
            f"`degree` must be a non-negative int (a static maximal degree), got {degree!r}."
        )
    return int(degree)


def _check(degree, interval):
    degree = _check_degree(degree)
    try:
        a, b = (float(v) for v in interval)
    except (TypeError, ValueError):
        raise ValueError(
            f"`interval` must be a pair of static floats (a, b), got {interval!r}."
        ) from None
    if not (np.isfinite(a) and np.isfinite(b)):
        raise ValueError(
            f"`interval` must be finite, got {interval!r}: give the bounded interval the "
            "points live in."
        )
    if not b > a:
        raise ValueError(f"`interval` must have b > a, got {interval!r}.")
    return degree, a, b


def _check_indices(x, indices, degree, caller):
    """Shape / dtype / range checks of a multi-index table for ONE point `x`."""
    if x.ndim != 1:
        raise ValueError(f"`x` must be ONE point of shape (d,) (vmap for batches), got {x.shape}.")
    shape = getattr(indices, "shape", None)
    if shape is None or len(shape) != 2 or shape[1] != x.shape[0]:
        raise ValueError(
            f"`indices` must have shape (s, {x.shape[0]}) for `x` of shape {x.shape}, got {shape}."
        )
    dtype = getattr(indices, "dtype", None)
    if dtype is None or not np.issubdtype(dtype, np.integer):
        raise TypeError(
            f"`indices` must be an integer array (e.g. from `total_degree_indices`), got "
            f"dtype {dtype}."
        )
    if degree is None:
        if not isinstance(indices, np.ndarray):
            raise TypeError(
                f"`{caller}` needs `degree=` when `indices` is a JAX array (it fixes "
                "the static table size); a NumPy `indices` gives it as `indices.max()`."
            )
        if indices.size and indices.min() < 0:
            raise ValueError(
                f"`indices` must be non-negative integers, got a minimum of {indices.min()}."
            )
        degree = int(indices.max()) if indices.size else 0
    degree = _check_degree(degree)
    # An index outside 0..degree would be clamped by the table lookup (a silently wrong
    # polynomial); the check costs one pass over the small (s, d) table, and none at all
    # for NumPy indices (decided at trace time).
    bad = (indices < 0) | (indices > degree)
    indices = check_value(
        indices,
        bad,
        f"`indices` must hold integers in 0..degree = {degree}; raise `degree=` to the "
        "largest entry (or drop negative entries).",
    )
    return indices, degree


def legendre(
    x: Float[ArrayLike, "*shape"],
    degree: int,
    *,
    interval: tuple[float, float] = (-1.0, 1.0),
    orthonormal: bool = False,
) -> Float[Array, "*shape m+1"]:
    r"""Legendre polynomials $P_0, \dots, P_m$ at `x` (module docstring).

    **Arguments:**

    - `x`: points of any shape, in `interval`.
    - `degree`: the static maximal degree $m \ge 0$.
    - `interval`: static `(a, b)` with $b > a$ (default $[-1, 1]$).
    - `orthonormal`: `False` for the classical $P_n$ (with $P_n(b) = 1$), `True` for
      $L_n = \sqrt{(2n+1)/(b-a)}\,P_n$, orthonormal in $L^2([a, b])$.

    **Returns:** the values, shape `x.shape + (degree + 1,)`, dtype of `x`.

    **Raises:** `ValueError` for a `degree` that is not a non-negative int, or an
    `interval` that is not finite with $b > a$. The values of `x` are not checked (this is
    a pointwise core, called per sample by `nn` and `surrogates`, which check their inputs
    at their entry points): a point outside `interval` gives the exact value of the
    polynomial there (extrapolation, no longer orthonormal), a NaN/inf entry gives NaN/inf
    in its row only.
    """
    degree, a, b = _check(degree, interval)
    x = as_float_array(x, "x")
    y = x if (a, b) == (-1.0, 1.0) else 2 * (x - a) / (b - a) - 1
    values = [jnp.ones_like(y)]
    if degree >= 1:
        values.append(y)
    for n in range(1, degree):
        values.append(((2 * n + 1) * y * values[n] - n * values[n - 1]) / (n + 1))
    out = jnp.stack(values, axis=-1)
    if orthonormal:
        norms = jnp.sqrt((2 * jnp.arange(degree + 1, dtype=y.dtype) + 1) / (b - a))
        out = out * norms.reshape((1,) * y.ndim + (degree + 1,))
    return out


def legendre_product(
    x: Float[ArrayLike, " d"],
    indices: Int[ArrayLike, "s d"],
    *,
    degree: int | None = None,
    interval: tuple[float, float] = (-1.0, 1.0),
    orthonormal: bool = False,
) -> Float[Array, " s"]:
    r"""Tensor-product Legendre polynomials $P_\beta(x) = \prod_{j=1}^d P_{\beta_j}(x_j)$ at
    ONE point, for every multi-index row $\beta$ of `indices` (e.g. from
    `total_degree_indices`).

    **Arguments:**

    - `x`: one point `(d,)` in `interval`$^d$ (vmap for batches).
    - `indices`: non-negative integers `(s, d)`, a NumPy array or a JAX array.
    - `degree`: the static maximal entry of `indices`; may be left out for a NumPy array
      (then `indices.max()`), required for a JAX array (which may be traced).
    - `interval`, `orthonormal`: as in `legendre`.

    **Returns:** the `(s,)` values, dtype of `x`.

    **Raises:** `ValueError` for a wrong shape of `x` / `indices` or a bad `degree` /
    `interval`; `TypeError` for non-integer `indices`; `ValueError` (eagerly, or for NumPy
    `indices`) or `EquinoxRuntimeError` (traced JAX `indices`) for an entry of `indices`
    outside `0..degree`. `x` is not checked (see `legendre`).
    """
    x = as_float_array(x, "x")
    indices, degree = _check_indices(x, indices, degree, "legendre_product")
    table = legendre(x, degree, interval=interval, orthonormal=orthonormal)  # (d, m+1)
    return jnp.prod(table[np.arange(x.shape[0])[None, :], indices], axis=1)
