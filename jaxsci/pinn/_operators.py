r"""Pointwise differential operators on a model $u: \mathbb{R}^d \to \mathbb{R}^{(p)}$.

Every operator takes a callable `f` on ONE point and the point `x` (shape `(d,)`) and returns
the derivative at that point; batch with `jax.vmap`. First and second derivatives along a
fixed direction are computed in forward mode (nested `jax.jvp`), which for the low input
dimension of PDE problems ($d \le 4$) is several times cheaper than reverse mode: the tangent
is pushed through the network together with the primal, and no backward pass (with its stored
activations) is needed. This is what makes the PINN residuals in `jaxsci.pinn` lean enough to
be differentiated once more with respect to the network parameters.

Conventions: space-time points are ordered $(x_1, \dots, x_{d-1}, t)$, i.e. time is the last
coordinate (`time_axis=-1`), matching the paper's $X = (x, t)$ (Fuks & Tchelepi, eq. 11).

Errors (trace time, no run-time cost): `x` must be ONE floating point of shape `(d,)`, `v`
of its shape, `axis` in range; `f` is traced once abstractly at `x`, so a dimension
mismatch inside `f` is reported as a `ValueError` naming `x` rather than a raw XLA error.
NaN points are not checked here (these are per-point cores); `loss_terms` checks its
collocation points once.
"""

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._custom_types import Point
from ._validate import probe


def _check_point(x: Array, name: str = "x") -> Array:
    x = jnp.asarray(x)
    if x.ndim != 1:
        raise ValueError(
            f"`{name}` must be ONE point of shape (d,), got shape {x.shape}; use jax.vmap to "
            "evaluate an operator on a batch of points."
        )
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"`{name}` must be a floating array, got dtype {x.dtype}.")
    return x


def _check_fx(f, x, v=None):
    """Tier 1 at trace time: `x` one floating point, `v` (if given) of its shape, and `f`
    callable at `x` (a shape mismatch inside `f` becomes a `ValueError` naming `x`)."""
    x = _check_point(x)
    if not callable(f):
        raise TypeError(f"`f` must be a callable on one point, got {type(f).__name__}.")
    if v is not None:
        v = jnp.asarray(v, x.dtype)
        if v.shape != x.shape:
            raise ValueError(
                f"`v` must be a direction of the shape of `x` {tuple(x.shape)}, got {v.shape}."
            )
    probe(f, x)
    return x if v is None else (x, v)


def _unit(x: Array, axis: int) -> Array:
    d = x.shape[0]
    if not -d <= axis < d:
        raise ValueError(f"`axis`={axis} is out of range for a point of dimension {d}.")
    return jnp.zeros_like(x).at[axis].set(1)


def directional_derivative(
    f: Callable[[Point], Array], x: Point, v: Float[Array, " d"]
) -> tuple[Array, Array]:
    r"""Value and first directional derivative $(u(x), \nabla u(x) \cdot v)$, forward mode.

    **Arguments:** `f` maps a point of shape `(d,)` to an array of any shape; `x`, `v` have
    shape `(d,)`.

    **Returns:** `(u, du)` with the shape of `f(x)`.
    """
    x, v = _check_fx(f, x, v)
    return jax.jvp(f, (x,), (v,))


def second_directional_derivative(
    f: Callable[[Point], Array], x: Point, v: Float[Array, " d"]
) -> tuple[Array, Array, Array]:
    r"""$(u, \partial_v u, \partial_v^2 u)$ along direction $v$ by nested forward mode.

    $\partial_v^2 u = v^\top \nabla^2 u\, v$. One call gives all three values (the inner
    `jvp` returns the value and first derivative as the primal of the outer `jvp`).
    """
    x, v = _check_fx(f, x, v)
    return _second_dd(f, x, v)


def _second_dd(f, x, v):
    def first(y):
        return jax.jvp(f, (y,), (v,))

    (u, du), (_, d2u) = jax.jvp(first, (x,), (v,))
    return u, du, d2u


def partial(f: Callable[[Point], Array], x: Point, axis: int) -> Array:
    r"""$\partial u / \partial x_{axis}$ at `x` (forward mode, one tangent)."""
    x = _check_fx(f, x)
    return jax.jvp(f, (x,), (_unit(x, axis),))[1]


def time_derivative(f: Callable[[Point], Array], x: Point, time_axis: int = -1) -> Array:
    r"""$\partial_t u$ at a space-time point (time is coordinate `time_axis`, default last)."""
    return partial(f, x, time_axis)


def gradient(f: Callable[[Point], Float[Array, ""]], x: Point) -> Float[Array, " d"]:
    r"""$\nabla u(x)$ of a scalar function, shape `(d,)`.

    Forward mode over the `d` unit vectors (`jax.jacfwd`): for $d \le 4$ inputs this beats a
    reverse pass, and it composes with a later `jax.grad` over the parameters.
    """
    x = _check_fx(f, x)
    g = jax.jacfwd(f)(x)
    if g.shape != x.shape:
        raise ValueError(
            f"`gradient` needs a scalar-valued `f`; f(x) has shape {g.shape[:-1]}. Use "
            "`jax.jacfwd` for the Jacobian of a vector field."
        )
    return g


def divergence(f: Callable[[Point], Float[Array, " d"]], x: Point) -> Float[Array, ""]:
    r"""$\nabla \cdot F(x) = \sum_i \partial_i F_i(x)$ of a vector field $F: \mathbb{R}^d \to
    \mathbb{R}^d$, one forward tangent per coordinate (no full Jacobian is formed)."""
    x = _check_fx(f, x)
    d = x.shape[0]
    eye = jnp.eye(d, dtype=x.dtype)

    def one(i, e):
        out = jax.jvp(f, (x,), (e,))[1]
        if out.shape != (d,):
            raise ValueError(
                f"`divergence` needs f: R^{d} -> R^{d}; f(x) has shape {out.shape}."
            )
        return out[i]

    return sum(one(i, eye[i]) for i in range(d))


def hessian(f: Callable[[Point], Float[Array, ""]], x: Point) -> Float[Array, "d d"]:
    r"""$\nabla^2 u(x)$ of a scalar function (forward-over-forward), shape `(d, d)`."""
    x = _check_fx(f, x)
    h = jax.jacfwd(jax.jacfwd(f))(x)
    if h.shape != (x.shape[0], x.shape[0]):
        raise ValueError(f"`hessian` needs a scalar-valued `f`; got Hessian shape {h.shape}.")
    return h


def laplacian(
    f: Callable[[Point], Array], x: Point, axes: Sequence[int] | None = None
) -> Array:
    r"""$\Delta u = \sum_{i \in \text{axes}} \partial_i^2 u$ (default: all coordinates).

    Computed as a sum of second directional derivatives along the unit vectors (nested
    forward mode), never forming the Hessian. For a space-time point pass the spatial axes,
    e.g. `axes=(0,)` for $u_{xx}$ with $x = (x, t)$.
    """
    x = _check_fx(f, x)
    axes = tuple(range(x.shape[0])) if axes is None else tuple(axes)
    if len(axes) == 0:
        raise ValueError("`axes` must name at least one coordinate.")
    total = None
    for a in axes:
        d2 = _second_dd(f, x, _unit(x, a))[2]
        total = d2 if total is None else total + d2
    return total


def derivatives_1d(
    f: Callable[[Point], Float[Array, ""]], x: Float[Array, "2"]
) -> tuple[Float[Array, ""], Float[Array, ""], Float[Array, ""], Float[Array, ""]]:
    r"""$(u, u_x, u_{xx}, u_t)$ at a space-time point $(x, t)$ in two forward passes.

    The building block of every 1-D evolution residual here (eqs. 17, 22 of Fuks & Tchelepi;
    advection eq. 14 of the LSGD paper; viscous Burgers): one nested `jvp` along $e_x$ for
    $u, u_x, u_{xx}$ and one `jvp` along $e_t$ for $u_t$.
    """
    x = _check_point(x)
    if x.shape != (2,):
        raise ValueError(f"`derivatives_1d` needs a point (x, t) of shape (2,), got {x.shape}.")
    x = _check_fx(f, x)
    u, ux, uxx = _second_dd(f, x, _unit(x, 0))
    ut = jax.jvp(f, (x,), (_unit(x, 1),))[1]
    return u, ux, uxx, ut
