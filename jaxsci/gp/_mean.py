r"""Prior mean functions: $f \sim GP(m, k)$ instead of $GP(0, k)$.

The GP models the residual $y - m(X)$ (Rasmussen & Williams eq. 2.38 with a fixed mean
function); a derivative observation $\partial f/\partial x_i$ has prior mean
$\partial m/\partial x_i$, so its residual is $y_a - \partial_i m(x_a)$ (computed by a
forward-mode `jax.jvp` of the pointwise mean, so mean functions work with `which`).
Prediction adds $m(X_*)$ (and $\nabla m$) back.

A mean is any callable on ONE point, `m(x (d,)) -> scalar or (p,)` (a scalar is shared by
all outputs), batched with `jax.vmap` in one place (`mean_observations`). A plain function
is fixed; an `eqx.Module` has its floating-point leaves fitted by `gp.fit`, under the same
policy as kernels (`jaxsci.gp._checks.log_parameter_mask`): fields named `log_*` are
logarithms of positive parameters, fields listed in `unconstrained_fields` have any sign.
"""

import abc
from typing import Callable, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
from jaxtyping import Array, ArrayLike, Float

from .._misc import as_float_array

_HIGHEST = jax.lax.Precision.HIGHEST


class AbstractMean(eqx.Module):
    """A prior mean function evaluated on one point: `mean(x (d,)) -> scalar or (p,)`.

    Subclasses implement `__call__`; their floating-point fields are fitted by `gp.fit`
    (declare fields of any sign in `unconstrained_fields`, store positive ones as `log_*`).
    """

    @abc.abstractmethod
    def __call__(self, x: Float[Array, " d"]) -> Float[Array, "*p"]:
        raise NotImplementedError


def _check_point(x, who: str):
    if jnp.ndim(x) != 1:
        raise ValueError(
            f"`{who}` is evaluated on one point of shape (d,), got shape {jnp.shape(x)}; "
            "`gp.condition` / `gp.predict` vmap it over the rows of X."
        )
    return x


class ZeroMean(AbstractMean):
    r"""$m(x) = 0$: the default zero-mean prior (same as `mean=None`).

    **Raises:** `ValueError` if called on anything but one point `(d,)`.
    """

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        return jnp.zeros((), jnp.result_type(_check_point(x, "ZeroMean")))


class ConstantMean(AbstractMean):
    r"""$m(x) = c$, a scalar or one constant per output `(p,)`; `c` is fitted by `gp.fit`
    (unconstrained: every start begins at the given `c`, no bound).

    **Raises:** `ValueError` if `c` has more than one dimension, `TypeError` if it is not
    real (tier 1).
    """

    c: Float[Array, "*p"]
    unconstrained_fields: ClassVar[tuple[str, ...]] = ("c",)

    def __init__(self, c: float | Float[ArrayLike, "*p"] = 0.0):
        self.c = as_float_array(c, "c")
        if self.c.ndim > 1:
            raise ValueError(
                f"`ConstantMean(c)` must be a scalar or have shape (p,), got shape {self.c.shape}."
            )

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, "*p"]:
        return self.c.astype(jnp.result_type(_check_point(x, "ConstantMean")))


class LinearMean(AbstractMean):
    r"""$m(x) = x^T W + b$ with `weights` $W$ of shape `(d,)` (scalar mean) or `(d, p)`
    (one per output) and `bias` $b$ a scalar or `(p,)`; both fitted by `gp.fit`
    (unconstrained). The gradient $\nabla m = W$ is the prior mean of derivative
    observations.

    **Raises:** `ValueError` for `weights` not `(d,)`/`(d, p)` or a `bias` of the wrong
    shape (tier 1); `TypeError` for non-real input.
    """

    weights: Float[Array, "d *p"]
    bias: Float[Array, "*p"]
    unconstrained_fields: ClassVar[tuple[str, ...]] = ("weights", "bias")

    def __init__(self, weights: Float[ArrayLike, "d *p"], bias: float | Float[ArrayLike, "*p"] = 0.0):
        w = as_float_array(weights, "weights")
        b = as_float_array(bias, "bias")
        if w.ndim not in (1, 2) or w.shape[0] == 0:
            raise ValueError(
                f"`LinearMean(weights)` must have shape (d,) or (d, p), got shape {w.shape}."
            )
        allowed = [()] if w.ndim == 1 else [(), (w.shape[1],)]
        if b.shape not in allowed:
            raise ValueError(
                f"`LinearMean(bias)` must have shape {' or '.join(map(str, allowed))} to match "
                f"`weights` of shape {w.shape}, got shape {b.shape}."
            )
        self.weights, self.bias = w, b

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, "*p"]:
        _check_point(x, "LinearMean")
        if x.shape != self.weights.shape[:1]:
            raise ValueError(
                f"`LinearMean` has weights for d = {self.weights.shape[0]} inputs, got a point "
                f"of shape {x.shape}."
            )
        w = self.weights.astype(x.dtype)
        out = jnp.tensordot(x, w, axes=1, precision=_HIGHEST)
        b = self.bias.astype(x.dtype)
        return out + (b if b.ndim == out.ndim else jnp.broadcast_to(b, out.shape))


class _FixedMean(AbstractMean):
    """A plain function used as a fixed mean (held as a static field, so posteriors that
    carry it pass through `jax.vmap`)."""

    fn: Callable = eqx.field(static=True)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, "*p"]:
        return self.fn(x)


def is_fitted_mean(mean) -> bool:
    """A mean with floating-point leaves that `fit` optimises (an `eqx.Module`)."""
    return mean is not None and bool(jtu.tree_leaves(eqx.filter(mean, eqx.is_inexact_array)))


def check_mean(mean, X, y_shape) -> Callable | None:
    """Tier 1: `mean` is `None` or a callable of one point `(d,)` returning a scalar or
    `(p,)` matching `y (n, p)` (a scalar for `y (n,)`). Casts a Module's leaves to the data
    dtype (dtype follows the inputs)."""
    if mean is None:
        return None
    if not callable(mean):
        raise TypeError(
            f"`mean` must be a callable of one point, m(x (d,)) -> scalar or (p,) (e.g. "
            f"`gp.ConstantMean()`), or None, got {type(mean).__name__}."
        )
    if not isinstance(mean, eqx.Module):
        mean = _FixedMean(mean)
    mean = jtu.tree_map(lambda a: a.astype(X.dtype) if eqx.is_inexact_array(a) else a, mean)
    try:
        out = jax.eval_shape(mean, jax.ShapeDtypeStruct(X.shape[1:], X.dtype))
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"`mean` must accept one point of shape ({X.shape[1]},) (it is vmapped over the "
            f"rows of X); calling it failed: {e}"
        ) from e
    shape = getattr(out, "shape", None)
    ok = [()] if len(y_shape) == 1 else [(), (y_shape[1],)]
    if shape not in ok or not jnp.issubdtype(getattr(out, "dtype", jnp.int32), jnp.floating):
        raise ValueError(
            f"`mean(x)` must return a floating-point {' or '.join(map(str, ok))} for `y` of shape "
            f"{tuple(y_shape)}, got {out!r:.100}."
        )
    return mean


def mean_observations(mean, X, which, y_shape) -> Float[Array, "n *p"]:
    r"""The prior mean of every observation row: $m(x_a)$ for a value row, $\partial
    m/\partial x_i (x_a)$ for `which[a] = i` (one `jax.jvp` per row), broadcast to
    `y_shape`."""
    if which is None:
        M = jax.vmap(mean)(X)
    else:
        def row(x, i):
            u = jax.nn.one_hot(i, x.shape[0], dtype=x.dtype)
            v, dv = jax.jvp(mean, (x,), (u,))
            return jnp.where(i < 0, v, dv)

        M = jax.vmap(row)(X, which)
    M = M.astype(X.dtype)
    if M.shape != tuple(y_shape):
        M = jnp.broadcast_to(M.reshape(M.shape[0], *([1] * (len(y_shape) - 1))), y_shape)
    return M
