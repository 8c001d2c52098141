r"""Exact entropy solution of the scalar Riemann problem for ANY flux.

For $u_t + f(u)_x = 0$ with $u(x, 0) = u_L$ for $x < 0$ and $u_R$ for $x > 0$ the entropy
(vanishing-viscosity) solution is self-similar, $u = u(\xi)$, $\xi = x/t$. It is built from
the convex hull of $f$ between the two states (Oleinik): the upper concave envelope when
$u_L > u_R$, the lower convex envelope when $u_L < u_R$; rarefactions follow $f$ where the
envelope touches it ($f'(u) = \xi$) and shocks follow its straight segments, whose slopes
obey Rankine-Hugoniot. Fuks & Tchelepi's eq. (21) is the case of the Brooks-Corey flux
with $u_L = 1$, $u_R = 0$: the Welge tangent $f'(u^*) = (f(u^*) - f(0))/u^*$ gives the shock
state $u^*$, followed by the rarefaction $u = (f')^{-1}(x/t)$.

The envelope never has to be formed: by Legendre duality (Osher's formula)

$$u(\xi) = \operatorname*{arg\,max}_{u \in [u_R, u_L]} \big(f(u) - \xi u\big) \quad (u_L > u_R),
\qquad u(\xi) = \operatorname*{arg\,min}_{u \in [u_L, u_R]} \big(f(u) - \xi u\big) \quad
(u_L < u_R).$$

We evaluate the objective on a fine grid, then polish the winner with a few safeguarded
Newton steps on $f'(u) = \xi$, so rarefaction values are accurate to round-off.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_value, require_positive_int
from ._flux import AbstractFlux
from ._validate import scalar_param


def _objective_sign(u_left, u_right):
    return jnp.where(u_left > u_right, 1.0, -1.0)


def _polish(flux, u0, lo, hi, target, steps):
    def body(_, u):
        def fp(v):
            return flux.derivative(v)

        d1, d2 = jax.jvp(fp, (u,), (jnp.ones_like(u),))
        safe = jnp.where(jnp.abs(d2) > 1e-300, d2, 1.0)
        step = jnp.where(jnp.abs(d2) > 1e-300, (d1 - target) / safe, 0.0)
        return jnp.clip(u - step, lo, hi)

    return jax.lax.fori_loop(0, steps, body, u0)


def _riemann_xi(flux, u_left, u_right, xi, n_grid, newton_steps):
    s = _objective_sign(u_left, u_right)
    grid = jnp.linspace(u_left, u_right, n_grid)

    def obj(u):
        return s * (flux(u) - xi * u)

    vals = obj(grid)
    # best interior grid point, polished by Newton on f'(u) = xi within its two neighbours,
    # then compared against the two end states (shocks to u_L / u_R)
    j = jnp.argmax(vals[1:-1]) + 1
    lo = jnp.minimum(grid[j - 1], grid[j + 1])
    hi = jnp.maximum(grid[j - 1], grid[j + 1])
    u1 = _polish(flux, grid[j], lo, hi, xi, newton_steps)
    u1 = jnp.where(obj(u1) >= vals[j], u1, grid[j])
    cands = jnp.stack([grid[0], u1, grid[-1]])
    return cands[jnp.argmax(obj(cands))]


class RiemannSolution(eqx.Module):
    r"""Exact entropy solution $u(x, t)$ of a Riemann problem (see module docstring).

    **Arguments:**
    - `flux`: any `AbstractFlux` (or scalar callable with a `derivative` method).
    - `u_left`, `u_right`: the two constant states; the jump sits at `x0` (default 0).
    - `n_grid`: grid size of the arg-max search (default 4097); `newton_steps`: polishing
      steps (default 4).

    Call `sol(point)` with a space-time point $(x, t)$ (shape `(2,)`), or
    `sol.similarity(xi)` with $\xi = (x - x_0)/t$. At $t = 0$ the initial data are returned.
    """

    flux: AbstractFlux
    u_left: Float[Array, ""]
    u_right: Float[Array, ""]
    x0: Float[Array, ""]
    n_grid: int = eqx.field(static=True)
    newton_steps: int = eqx.field(static=True)

    def __init__(
        self,
        flux: AbstractFlux,
        u_left: ArrayLike = 1.0,
        u_right: ArrayLike = 0.0,
        x0: ArrayLike = 0.0,
        n_grid: int = 4097,
        newton_steps: int = 4,
    ):
        if not hasattr(flux, "derivative"):
            raise TypeError(f"`flux` must be an AbstractFlux, got {type(flux).__name__}.")
        self.flux = flux
        self.u_left = scalar_param(u_left, "u_left", what="the left state")
        self.u_right = scalar_param(u_right, "u_right", what="the right state")
        self.x0 = scalar_param(x0, "x0", what="the position of the jump")
        self.n_grid = require_positive_int(n_grid, "n_grid", minimum=3)
        self.newton_steps = require_positive_int(newton_steps, "newton_steps", minimum=0)

    def similarity(self, xi: Float[Array, ""]) -> Float[Array, ""]:
        r"""$u(\xi)$ for one similarity value $\xi = (x - x_0)/t$."""
        xi = jnp.asarray(xi)
        if xi.ndim != 0:
            raise ValueError(f"`xi` must be one similarity value (a scalar), got shape {xi.shape}.")
        xi = check_value(xi, ~jnp.isfinite(xi), "`xi` = (x - x0)/t is NaN or inf; give finite values.")
        ul = self.u_left.astype(xi.dtype)
        ur = self.u_right.astype(xi.dtype)
        return _riemann_xi(self.flux, ul, ur, xi, self.n_grid, self.newton_steps)

    def __call__(self, point: Float[Array, "2"]) -> Float[Array, ""]:
        r"""$u(x, t)$ at one point $(x, t)$."""
        point = jnp.asarray(point)
        if point.shape != (2,):
            raise ValueError(f"`point` must be (x, t) of shape (2,), got {point.shape}.")
        point = check_value(
            point, ~jnp.all(jnp.isfinite(point)) | (point[1] < 0),
            "`point` = (x, t) must be finite with t >= 0 (the solution is defined for t >= 0).",
        )
        x, t = point[0] - self.x0.astype(point.dtype), point[1]
        t_pos = t > 0
        xi = jnp.where(t_pos, x / jnp.where(t_pos, t, 1.0), 0.0)
        u_t0 = jnp.where(x < 0, self.u_left, self.u_right).astype(point.dtype)
        return jnp.where(t_pos, self.similarity(xi), u_t0)


def welge_tangent(
    flux: AbstractFlux, u_left: ArrayLike = 1.0, u_right: ArrayLike = 0.0, n_grid: int = 4097
) -> tuple[Float[Array, ""], Float[Array, ""]]:
    r"""Shock state $u^*$ and shock speed of the wave leaving $u_R$ (Welge tangent, eq. 21).

    $u^*$ extremises the chord slope $(f(u) - f(u_R))/(u - u_R)$ over the states between
    $u_R$ and $u_L$ (maximum for $u_L > u_R$), so the chord is tangent to $f$ at $u^*$ when
    $u^*$ is interior: $f'(u^*) = (f(u^*) - f(u_R))/(u^* - u_R)$ (Rankine-Hugoniot + Oleinik).
    The speed is that chord slope. For a concave flux (pure rarefaction) $u^* \to u_R$ and the
    speed tends to $f'(u_R)$; for a convex flux $u^* = u_L$ (a single shock).

    **Returns:** `(u_star, speed)`.
    """
    if not hasattr(flux, "derivative"):
        raise TypeError(f"`flux` must be an AbstractFlux, got {type(flux).__name__}.")
    n_grid = require_positive_int(n_grid, "n_grid", minimum=3)
    ul = scalar_param(u_left, "u_left", what="the left state")
    ur = scalar_param(u_right, "u_right", what="the right state")
    ul = check_value(ul, ul == ur, "`u_left` and `u_right` must differ (no wave leaves equal states).")
    s = _objective_sign(ul, ur)
    grid = jnp.linspace(ur, ul, n_grid)[1:]
    slopes = (flux(grid) - flux(ur)) / (grid - ur)
    j = jnp.argmax(s * slopes)
    u0 = grid[j]

    def g(u):
        return flux.derivative(u) * (u - ur) - (flux(u) - flux(ur))

    lo = jnp.minimum(grid[jnp.maximum(j - 1, 0)], grid[jnp.minimum(j + 1, n_grid - 2)])
    hi = jnp.maximum(grid[jnp.maximum(j - 1, 0)], grid[jnp.minimum(j + 1, n_grid - 2)])

    def body(_, u):
        gv, dg = jax.jvp(g, (u,), (jnp.ones_like(u),))
        step = jnp.where(jnp.abs(dg) > 1e-300, gv / jnp.where(jnp.abs(dg) > 1e-300, dg, 1.0), 0.0)
        return jnp.clip(u - step, lo, hi)

    u1 = jax.lax.fori_loop(0, 8, body, u0)
    slope1 = (flux(u1) - flux(ur)) / (u1 - ur)
    use = s * slope1 >= s * slopes[j]
    u_star = jnp.where(use, u1, u0)
    speed = jnp.where(use, slope1, slopes[j])
    return u_star, speed
