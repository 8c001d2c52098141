r"""Flux functions $f(u)$ for scalar conservation laws $u_t + f(u)_x = \epsilon u_{xx}$.

Fuks & Tchelepi, *Limitations of physics informed machine learning for nonlinear two-phase
transport in porous media*: concave flux (eq. 19), non-convex Brooks-Corey flux (eq. 20) and
the convex flux $u^2$ (section 4.3). Every flux is a pointwise scalar function; its
derivative $f'(u)$ (used by the residual of eq. 22) is obtained by `jax.jvp`.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._checks import as_float_array
from ._validate import scalar_param


class AbstractFlux(eqx.Module):
    r"""A scalar flux $f: \mathbb{R} \to \mathbb{R}$, elementwise on arrays."""

    @abc.abstractmethod
    def __call__(self, u: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        r"""$f(u)$ elementwise."""

    def derivative(self, u: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        r"""$f'(u)$ elementwise (forward mode). Integer `u` (e.g. a Python int) is promoted to
        the default floating dtype; non-numeric `u` is a `TypeError` naming `u`."""
        u = _state(u)
        return jax.jvp(self.__call__, (u,), (jnp.ones_like(u),))[1]

    def value_and_derivative(
        self, u: Float[Array, "*shape"]
    ) -> tuple[Float[Array, "*shape"], Float[Array, "*shape"]]:
        r"""$(f(u), f'(u))$ in one forward pass (`u` as in `derivative`)."""
        u = _state(u)
        return jax.jvp(self.__call__, (u,), (jnp.ones_like(u),))


def _state(u) -> Array:
    """Tier 1 (trace time, no run-time cost): `u` as an inexact array. An integer `u` was a
    raw `jax.jvp` dtype error ("primal and tangent arguments ... float0")."""
    try:
        u = jnp.asarray(u)
    except TypeError:
        raise TypeError(f"`u` (the state) must be a real number or array, got "
                        f"{type(u).__name__} ({u!r:.60}).") from None
    return u if jnp.issubdtype(u.dtype, jnp.inexact) else as_float_array(u, "u")


def _check_ratio(m: ArrayLike, name: str) -> Array:
    checked = scalar_param(
        m, name, lower=0.0, strict=True, what="the viscosity ratio mu_o/mu_w",
        hint="The paper uses M = 1 (Brooks-Corey) and M = 2 (concave).",
    )
    # a Python number stays weakly typed, so a float32 u is not promoted by f(u)
    return jnp.asarray(m) if isinstance(m, (int, float)) else checked


class ConcaveFlux(AbstractFlux):
    r"""Fractional flow with linear relative permeabilities (Fuks & Tchelepi eq. 19):

    $$f(u) = \frac{u}{u + (1 - u)/M},$$

    concave on $[0, 1]$ for $M > 1$ (paper: $M = 2$); the Riemann problem (18) gives a pure
    rarefaction $u = (\sqrt{M t / x} - 1)/(M - 1)$ for $1/M \le x/t \le M$.
    """

    M: Float[Array, ""]

    def __init__(self, M: ArrayLike = 2.0):
        self.M = _check_ratio(M, "M")

    def __call__(self, u):
        return u / (u + (1 - u) / self.M)



class BrooksCoreyFlux(AbstractFlux):
    r"""Buckley-Leverett fractional flow with quadratic (Brooks-Corey) relative permeabilities
    (Fuks & Tchelepi eq. 20):

    $$f(u) = \frac{u^2}{u^2 + (1 - u)^2 / M}.$$

    S-shaped (non-convex); the Riemann problem (18) gives a shock followed by a rarefaction
    (eq. 21). Paper: $M = 1$, for which the Welge shock state is $u^* = 1/\sqrt{2}$.
    """

    M: Float[Array, ""]

    def __init__(self, M: ArrayLike = 1.0):
        self.M = _check_ratio(M, "M")

    def __call__(self, u):
        return u**2 / (u**2 + (1 - u) ** 2 / self.M)



class ConvexFlux(AbstractFlux):
    r"""$f(u) = u^2$ (Fuks & Tchelepi section 4.3): a self-sharpening shock of unit speed for
    the Riemann data (18)."""

    def __call__(self, u):
        return u**2



class BurgersFlux(AbstractFlux):
    r"""Burgers' flux $f(u) = u^2/2$ (no parameters). Pointwise and unchecked like every
    flux (a NaN state gives a NaN flux): the problems and solutions built on it
    (`RiemannProblem`, `RiemannSolution`, `welge_tangent`) check their states once."""

    def __call__(self, u):
        return 0.5 * u**2
