r"""1-D inviscid Burgers, the NM-ROM paper's first full-order model.

$u_t + u u_x = 0$ on $x \in [0, 2]$, periodic, $t \in [0, 0.5]$, with the initial hump

$$ u(x, 0; \mu) = 1 + \tfrac{\mu}{2}\left[\sin(2\pi x - \pi/2) + 1\right] \ (0 < x \le 1),
\qquad 1 \text{ otherwise}, $$

discretised as in Kim, Choi, Widemann & Zohdi (JCP 451:110841, 2022, §5.1; review seed 002,
§12.4.1; the settings of ../shared/reference/review_inventory.md): `n_nodes` = 1001 nodes
(the last is the periodic copy of the first, so N = 1000 unknowns), backward Euler with
first-order upwind convection,

$$ r_i = u_i - u_i^{n-1} + \frac{\Delta t}{\Delta x}\, u_i (u_i - u_{i-1}), \qquad
i - 1 \text{ taken mod } N. $$

This is the paper's non-conservative upwind form: summing the rows over the periodic grid
gives $\sum_i (u_i - u_i^{n-1}) = -\tfrac{c}{2} \sum_i (u_i - u_{i-1})^2$ with
$c = \Delta t/\Delta x$, so the discrete integral is *not* conserved; it decays by exactly
that amount per step (tested). Its Jacobian is cyclic lower bidiagonal,
$J = I + c\,\mathrm{diag}(2u_i - u_{i-1}) - c\,u_i\, e_i e_{i-1}^\top$, and
`solve_jacobian` solves it in O(N) work and O(log N) depth (an associative scan of the
bidiagonal recurrence plus a Sherman-Morrison correction for the corner entry) instead of a
dense LU.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from .._custom_types import Array, Float, Int, Scalar
from ._fom import AbstractFOM, _check_mu


def _bidiagonal_solve(d, sub, b):
    """Solve L y = b, L lower bidiagonal (diagonal d, sub[i] at (i, i-1); sub[0] unused)."""
    a = jnp.concatenate([jnp.zeros_like(d[:1]), -sub[1:] / d[1:]])
    beta = b / d

    def combine(left, right):
        a1, b1 = left
        a2, b2 = right
        return a2 * a1, a2 * b1 + b2

    return jax.lax.associative_scan(combine, (a, beta))[1]


class Burgers1D(AbstractFOM):
    r"""The 1-D inviscid Burgers full-order model (defaults: the paper's grid and steps).

    **Arguments:**
    - `n_nodes`: grid nodes on $[0, 2]$ including the periodic copy (N = `n_nodes` - 1).
    - `dt`: time step (paper: 1e-3); `n_steps`: steps (paper: 500, to t = 0.5).
    """

    n_nodes: int = eqx.field(static=True, default=1001)
    dt: float = eqx.field(static=True, default=1e-3)
    n_steps: int = eqx.field(static=True, default=500)
    length: float = eqx.field(static=True, default=2.0)

    def __check_init__(self):
        if not isinstance(self.n_nodes, int) or self.n_nodes < 4:
            raise ValueError(f"Burgers1D: `n_nodes` must be an int >= 4, got {self.n_nodes!r}.")
        if not self.dt > 0 or not isinstance(self.n_steps, int) or self.n_steps < 1:
            raise ValueError(
                f"Burgers1D: need `dt` > 0 and an int `n_steps` >= 1, got dt={self.dt!r}, "
                f"n_steps={self.n_steps!r}."
            )

    @property
    def size(self) -> int:
        return self.n_nodes - 1

    @property
    def dx(self) -> float:
        return self.length / (self.n_nodes - 1)

    @property
    def grid(self) -> Float[Array, " N"]:
        """The N unknowns' node positions $x_i = i\\,\\Delta x$, $i = 0..N-1$."""
        return jnp.arange(self.size) * self.dx

    def initial_condition(self, mu: Scalar) -> Float[Array, " N"]:
        mu = _check_mu(mu)
        x = self.grid.astype(mu.dtype)
        hump = 1 + 0.5 * mu * (jnp.sin(2 * jnp.pi * x - jnp.pi / 2) + 1)
        return jnp.where((x > 0) & (x <= 1), hump, jnp.ones_like(x))

    def stencil(self, rows: Int[Array, " k"]) -> Int[Array, "k 2"]:
        return jnp.stack([rows, (rows - 1) % self.size], axis=-1)

    def residual_row(self, row, x_stencil, x_prev_row, mu):
        del row, mu
        u, u_left = x_stencil[0], x_stencil[1]
        return u - x_prev_row + (self.dt / self.dx) * u * (u - u_left)

    def solve_jacobian(self, x, x_prev, mu, rhs):
        """Solve $J(x) \\delta = $ `rhs` with the cyclic bidiagonal Jacobian, O(N)."""
        del x_prev, mu
        c = self.dt / self.dx
        left = jnp.roll(x, 1)
        d = 1 + c * (2 * x - left)
        sub = -c * x  # entry (i, i-1); sub[0] is the corner (0, N-1)
        # J = L + sub[0] e_0 e_{N-1}^T (Sherman-Morrison on the corner)
        e0 = jnp.zeros_like(x).at[0].set(sub[0])
        y, z = jax.vmap(lambda b: _bidiagonal_solve(d, sub, b))(jnp.stack([rhs, e0]))
        return y - z * (y[-1] / (1 + z[-1]))

