r"""Random deformations and datasets (Frankel et al., section 6, eqs. 42-43; section 4.3).

$F = R V$, $B = F F^T = R V^2 R^T$ with $R$ Haar-uniform on SO(3) and the eigenvalues of $B$
uniform in $[l^2, u^2]$ (eqs. 42-43). All samplers are pointwise in the key: vmap over
`jr.split(key, n)` for batches, or use the `*_batch` helpers.
"""

import functools

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import check_value, is_concrete, require_positive_int
from .._misc import default_floating_dtype


def _dtype(dtype):
    """Tier 1: `None` (the default floating dtype) or a real floating dtype."""
    dtype = default_floating_dtype() if dtype is None else jnp.dtype(dtype)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"`dtype` must be a real floating dtype such as jnp.float64, got {dtype}.")
    return dtype


def _check_bounds(low, high):
    """`0 < low <= high`, both finite: tier 1 for Python numbers, tier 2 when traced."""
    msg = (
        "`low` and `high` (bounds on the eigenvalues of B) must satisfy 0 < low <= high < inf, "
        "got {}, {}; e.g. the paper's [1.0, 1.5] or [0.9, 2.0]."
    )
    if is_concrete((low, high)):
        lo, hi = float(low), float(high)
        if not (0 < lo <= hi < float("inf")):
            raise ValueError(msg.format(lo, hi))
        return low, high
    lo, hi = jnp.asarray(low), jnp.asarray(high)
    bad = ~((lo > 0) & (lo <= hi) & jnp.isfinite(hi))
    return check_value(lo, bad, msg.format("(traced)", "(traced)")), hi

_HIGHEST = jax.lax.Precision.HIGHEST


def sample_rotation(*, key: PRNGKeyArray, dtype=None) -> Float[Array, "3 3"]:
    r"""A rotation matrix Haar-uniform on SO(3) (normalised Gaussian quaternion)."""
    dtype = _dtype(dtype)
    q = jr.normal(key, (4,), dtype)
    w, x, y, z = q / jnp.linalg.norm(q)
    return jnp.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ],
        dtype=dtype,
    )


def sample_finger_tensor(
    *, key: PRNGKeyArray, low: float = 1.0, high: float = 1.5, dtype=None
) -> Float[Array, "3 3"]:
    r"""$B = R \operatorname{diag}(\lambda) R^T$, $\lambda_i \sim U[l^2, u^2]$ (eqs. 42-43).

    `low`, `high` are the bounds $[l^2, u^2]$ on the eigenvalues of $B$ (the paper's
    datasets use [1.0, 1.5] and [0.9, 2.0]).

    **Raises:** `ValueError` unless `0 < low <= high < inf` (at run time,
    `EquinoxRuntimeError`, when they are traced); `TypeError` for a non-floating `dtype`.
    """
    low, high = _check_bounds(low, high)
    dtype = _dtype(dtype)
    kr, kl = jr.split(key)
    R = sample_rotation(key=kr, dtype=dtype)
    lam = jr.uniform(kl, (3,), dtype, minval=low, maxval=high)
    B = jnp.matmul(R * lam[None, :], R.T, precision=_HIGHEST)
    return 0.5 * (B + B.T)


def sample_finger_tensors(
    n: int, *, key: PRNGKeyArray, low: float = 1.0, high: float = 1.5, dtype=None
) -> Float[Array, "n 3 3"]:
    """`n` independent `sample_finger_tensor` draws (one jitted program per `n`, bounds
    and dtype; run eagerly, the vmapped sampler would compile each of its random and
    linear-algebra primitives separately).

    **Raises:** as `sample_finger_tensor`; `n` must be a Python int `>= 0` (`low`, `high`
    Python numbers: they are compiled in).
    """
    n = require_positive_int(n, "n", minimum=0)
    if not is_concrete((low, high)):
        raise TypeError("`low` and `high` of `sample_finger_tensors` must be Python numbers (not traced).")
    _check_bounds(low, high)
    return _finger_tensors(key, n, float(low), float(high), _dtype(dtype))


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def _finger_tensors(key, n, low, high, dtype):
    return jax.vmap(lambda k: sample_finger_tensor(key=k, low=low, high=high, dtype=dtype))(
        jr.split(key, n)
    )


def sample_symmetric_uniform(*, key: PRNGKeyArray, dtype=None) -> Float[Array, "3 3"]:
    r"""Symmetric part of a 3x3 matrix with entries uniform in [0, 1] (section 4.3)."""
    dtype = _dtype(dtype)
    A = jr.uniform(key, (3, 3), dtype)
    return 0.5 * (A + A.T)
