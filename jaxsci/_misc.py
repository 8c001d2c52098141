"""Numerical-safety helpers used across jaxsci.

These keep gradients finite at the points where the naive formula has an infinite or NaN
derivative (|x| at 0, sqrt at 0), and centralise the jitter / dtype conventions.
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


def default_floating_dtype() -> jnp.dtype:
    """float64 when `jax_enable_x64` is on, else float32."""
    return jnp.result_type(float)


def as_float_array(x: ArrayLike, name: str) -> Float[Array, "..."]:
    """Convert `x` to a floating JAX array, keeping float32/float64 as given.

    Integers and Python scalars are promoted to the default floating dtype. Raises
    `TypeError` (naming `name`) for complex or non-numeric input. The result is always
    *strongly* typed: a Python float gives a weakly typed array, and a module built from
    Python floats would otherwise hit a different `jit` cache entry (a recompile) than the
    same module built from arrays, e.g. `ExpQuad(1.0, 1.0)` against a kernel updated by an
    optimiser (DESIGN rule 14).
    """
    try:
        arr = jnp.asarray(x)
    except TypeError:  # a string, None, an object: JAX's message does not name the argument
        raise TypeError(
            f"`{name}` must be a real number or array, got {type(x).__name__} ({x!r:.60})."
        ) from None
    if jnp.issubdtype(arr.dtype, jnp.complexfloating):
        raise TypeError(f"`{name}` must be real, got dtype {arr.dtype}.")
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        if not (jnp.issubdtype(arr.dtype, jnp.integer) or arr.dtype == jnp.bool_):
            raise TypeError(f"`{name}` must be numeric, got dtype {arr.dtype}.")
        arr = arr.astype(default_floating_dtype())
    if getattr(arr, "weak_type", False):
        arr = jnp.asarray(arr, dtype=arr.dtype)
    return arr


def safe_sqrt(x: Float[Array, "..."]) -> Float[Array, "..."]:
    """`sqrt(max(x, 0))` whose derivative is 0 (not inf/NaN) at `x <= 0`."""
    positive = x > 0
    x_safe = jnp.where(positive, x, jnp.ones_like(x))
    return jnp.where(positive, jnp.sqrt(x_safe), jnp.zeros_like(x))


def safe_norm(
    x: Float[Array, "..."], axis: int | None = None, keepdims: bool = False
) -> Float[Array, "..."]:
    r"""Euclidean norm $\|x\|_2$ with a zero (sub)gradient at $x = 0$ instead of NaN."""
    sq = jnp.sum(x * x, axis=axis, keepdims=keepdims)
    return safe_sqrt(sq)


def sq_dist(x: Float[Array, " d"], y: Float[Array, " d"]) -> Float[Array, ""]:
    r"""$|x - y|^2$, smooth everywhere (its gradient at $x = y$ is exactly 0)."""
    diff = x - y
    return jnp.dot(diff, diff, precision=jax.lax.Precision.HIGHEST)


def jitter_for(dtype: jnp.dtype) -> float:
    """Default diagonal jitter for Cholesky factorisations in `dtype`.

    1e-10 in float64 (the value the hyperelastic-GP paper uses as its noise floor) and 1e-6
    in float32, whose unit round-off is ~6e-8.
    """
    return 1e-10 if jnp.dtype(dtype) == jnp.float64 else 1e-6


def softplus_inverse(y: ArrayLike) -> Float[Array, "..."]:
    r"""Inverse of `jax.nn.softplus`: $\log(e^y - 1)$, stable for large $y$."""
    y = jnp.asarray(y)
    return y + jnp.log(-jnp.expm1(-y))


def positive(raw: Float[Array, "..."]) -> Float[Array, "..."]:
    """Map an unconstrained parameter to a positive one (softplus)."""
    return jax.nn.softplus(raw)


def check_finite(x: Float[Array, "..."], name: str) -> Float[Array, "..."]:
    """Value-dependent check (DESIGN rule 6, tier 2): error at run time if `x` has NaN/inf."""
    import equinox as eqx

    return eqx.error_if(
        x,
        ~jnp.all(jnp.isfinite(x)),
        f"`{name}` contains NaN or inf; clean or drop those entries before calling.",
    )


def progress(iterable, *, desc: str, unit: str = "it", enabled: bool = True):
    """Wrap a host-side loop in a progress display.

    Uses `tqdm` when it is installed (the `examples` extra); otherwise, since tqdm is not a
    runtime dependency, prints a plain `desc: i/n` counter to stderr.
    """
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _plain_progress(iterable, desc)
    return tqdm(iterable, desc=desc, unit=unit)


def _plain_progress(iterable, desc: str):
    import sys

    items = list(iterable)
    for i, item in enumerate(items, 1):
        yield item
        print(f"\r{desc}: {i}/{len(items)}", end="\n" if i == len(items) else "", file=sys.stderr, flush=True)
