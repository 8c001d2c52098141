r"""Covariances between function values and partial derivatives, by autodiff of the kernel.

A GP observation is a linear functional of $f$: the value $f(x)$ or a partial derivative
$\partial f/\partial x_i$. An observation set is a pair of points `X (n, d)` and an integer
array `which (n,)`, with `which[a] = -1` for a value and `which[a] = i` for $\partial_i f$.
Since the derivative of a GP is a GP (Frankel et al., section 5),

$$\operatorname{Cov}\Big[\frac{\partial f(x)}{\partial x_i}, f(x')\Big] = \frac{\partial k(x, x')}{\partial x_i}
\quad\text{(eq. 35)},\qquad
\operatorname{Cov}\Big[\frac{\partial f(x)}{\partial x_i}, \frac{\partial f(x')}{\partial x'_j}\Big]
= \frac{\partial^2 k(x, x')}{\partial x_i \partial x'_j}\quad\text{(eq. 36)}.$$

Each entry is computed with two nested forward-mode directional derivatives of the
kernel's pointwise `evaluate` (directions $e_i$, $e_j$, or 0 for a value), so no
derivative kernel is written by hand. The Gram of a mixed set is the block matrix of
eqs. 37-38 (in whatever order the observations are listed).
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int

from .._checks import check_nonempty, check_value
from .._misc import as_float_array, check_finite
from ..kernels import AbstractKernel
from ._checks import check_kernel, check_which


def _direction(i, d, dtype):
    # one_hot(-1) is the zero vector: a value observation has no direction.
    return jax.nn.one_hot(i, d, dtype=dtype)


def observation_covariance(
    kernel: AbstractKernel,
    x: Float[Array, " d"],
    i: Int[Array, ""],
    xp: Float[Array, " d"],
    j: Int[Array, ""],
) -> Float[Array, ""]:
    r"""Covariance of observation `(x, i)` with observation `(xp, j)` (eqs. 35-36).

    `i = -1` / `j = -1` denote the function value, otherwise the partial-derivative index.

    **Raises:** `ValueError` if `x`, `xp` are not two points of one shape `(d,)` or `i`, `j`
    are not integer scalars (trace time); an index outside `[-1, d)` (run time,
    `eqx.error_if` under `jit`).
    """
    check_kernel(kernel)
    x = as_float_array(x, "x")
    xp = as_float_array(xp, "xp")
    if x.ndim != 1 or xp.shape != x.shape:
        raise ValueError(
            f"`x` and `xp` must be two points of the same shape (d,), got {x.shape} and "
            f"{xp.shape}. Use `derivative_gram` for arrays of points."
        )
    d = x.shape[0]
    index = []
    for name, v in (("i", i), ("j", j)):
        v = jnp.asarray(v)
        if v.ndim != 0 or not jnp.issubdtype(v.dtype, jnp.integer):
            raise ValueError(f"`{name}` must be an integer scalar, got {v.dtype} of shape {v.shape}.")
        index.append(
            check_value(
                v,
                (v < -1) | (v >= d),
                f"`{name}` must be -1 (function value) or a partial-derivative index in [0, {d}).",
            )
        )
    return _observation_covariance(kernel, x, index[0], xp, index[1])


def _observation_covariance(kernel, x, i, xp, j) -> Float[Array, ""]:
    """`observation_covariance` on validated inputs (the pointwise core of the Grams)."""
    d = x.shape[0]
    u = _direction(i, d, x.dtype)
    v = _direction(j, d, x.dtype)

    def along_u(xp_):
        return jax.jvp(lambda x_: kernel.evaluate(x_, xp_), (x,), (u,))

    (k, dk_u), (dk_v, dk_uv) = jax.jvp(along_u, (xp,), (v,))
    return jnp.where(i < 0, jnp.where(j < 0, k, dk_v), jnp.where(j < 0, dk_u, dk_uv))


def derivative_gram(
    kernel: AbstractKernel,
    X1: Float[ArrayLike, "n d"],
    which1: Int[ArrayLike, " n"],
    X2: Float[ArrayLike, "m d"],
    which2: Int[ArrayLike, " m"],
) -> Float[Array, "n m"]:
    r"""Block covariance between two observation sets (paper eqs. 37-38).

    **Arguments:** `X1 (n, d)`, `which1 (n,)`, `X2 (m, d)`, `which2 (m,)`; `which = -1` is
    a function value, `which = i` the partial derivative $\partial/\partial x_i$.

    **Returns:** the `(n, m)` matrix $\operatorname{Cov}[L_a f, L_b f]$.

    **Raises:** `ValueError`/`TypeError` at trace time for shapes, empty point sets or
    non-integer `which`; at run time (`eqx.error_if`) for NaN/inf points or a `which` entry
    outside `[-1, d)`.
    """
    check_kernel(kernel)
    X1 = as_float_array(X1, "X1")
    X2 = as_float_array(X2, "X2")
    if X1.ndim != 2 or X2.ndim != 2 or X1.shape[1] != X2.shape[1]:
        raise ValueError(
            f"`X1` and `X2` must have shapes (n, d) and (m, d), got {X1.shape} and {X2.shape}."
        )
    for X, name in ((X1, "X1"), (X2, "X2")):
        check_nonempty(X, name)
        check_nonempty(X, name, axis=1, what="input dimensions (columns)")
    if which1 is None or which2 is None:
        raise TypeError("`which1` and `which2` must be integer arrays (-1 marks a value observation).")
    which1 = check_which(which1, X1, "which1")
    which2 = check_which(which2, X2, "which2")
    X1 = check_finite(X1, "X1")
    X2 = check_finite(X2, "X2")
    return _derivative_gram(kernel, X1, which1, X2, which2)


def _derivative_gram(kernel, X1, which1, X2, which2) -> Float[Array, "n m"]:
    """`derivative_gram` on validated inputs (no checks: it runs inside the fit's loop)."""
    row = jax.vmap(_observation_covariance, in_axes=(None, None, None, 0, 0))
    return jax.vmap(row, in_axes=(None, 0, 0, None, None))(kernel, X1, which1, X2, which2)


def gradient_observations(
    X_grad: Float[ArrayLike, "n d"],
    grads: Float[ArrayLike, "n d"],
    X_value: Float[ArrayLike, "k d"] | None = None,
    values: Float[ArrayLike, " k"] | None = None,
) -> tuple[Float[Array, "N d"], Int[Array, " N"], Float[Array, " N"]]:
    r"""Flatten value and gradient data into one observation set `(X, which, y)`.

    The value observations come first (e.g. the grounding datum $\Phi(3, 3, 1) = 0$ of
    eq. 34), then for every gradient point its $d$ partial derivatives, so `N = k + n d`.

    **Raises:** `ValueError` at trace time for shapes or an empty `X_grad`; at run time
    (`eqx.error_if`) for NaN/inf in any argument.
    """
    X_grad = as_float_array(X_grad, "X_grad")
    grads = as_float_array(grads, "grads")
    if X_grad.ndim != 2 or grads.shape != X_grad.shape:
        raise ValueError(
            f"`X_grad` and `grads` must both have shape (n, d), got {X_grad.shape} and "
            f"{grads.shape}."
        )
    check_nonempty(X_grad, "X_grad", what="gradient points")
    check_nonempty(X_grad, "X_grad", axis=1, what="input dimensions (columns)")
    X_grad = check_finite(X_grad, "X_grad")
    grads = check_finite(grads, "grads")
    n, d = X_grad.shape
    X = jnp.repeat(X_grad, d, axis=0)
    which = jnp.tile(jnp.arange(d), n)
    y = grads.reshape(-1)
    if (X_value is None) != (values is None):
        raise ValueError("Pass both `X_value` and `values`, or neither.")
    if X_value is not None:
        X_value = as_float_array(X_value, "X_value")
        values = as_float_array(values, "values")
        if X_value.ndim != 2 or X_value.shape[1] != d or values.shape != (X_value.shape[0],):
            raise ValueError(
                f"`X_value` must have shape (k, {d}) and `values` shape (k,), got "
                f"{X_value.shape} and {values.shape}."
            )
        X_value = check_finite(X_value, "X_value")
        values = check_finite(values, "values")
        dtype = jnp.result_type(X.dtype, X_value.dtype)
        X = jnp.concatenate([X_value.astype(dtype), X.astype(dtype)])
        which = jnp.concatenate([jnp.full(X_value.shape[0], -1, which.dtype), which])
        y = jnp.concatenate([values.astype(y.dtype), y])
    return X, which, y
