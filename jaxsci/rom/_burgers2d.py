r"""2-D viscous Burgers, the NM-ROM paper's second full-order model.

$$ u_t + u u_x + v u_y = \tfrac{1}{Re}(u_{xx} + u_{yy}), \qquad
   v_t + u v_x + v v_y = \tfrac{1}{Re}(v_{xx} + v_{yy}) $$

on $\Omega = [0, 1]^2$, $t \in [0, 2]$, homogeneous Dirichlet boundaries (the initial values
on $\partial\Omega$), initial condition

$$ u(x, y, 0; \mu) = v(x, y, 0; \mu) = \mu \sin(2\pi x)\sin(2\pi y) \ \text{on } [0, 0.5]^2,
\qquad 0 \text{ elsewhere}, $$

discretised as in Kim, Choi, Widemann & Zohdi (JCP 451:110841, 2022, §5.2; review seed 002,
§12.4.5; ../shared/reference/review_inventory.md "2-D viscous Burgers"): `n_nodes` = 60
nodes per direction, $h = 1/59$, so $58 \times 58 = 3364$ interior unknowns per component
and N = 6728 in all, ordered $x = [u, v]$ with node $p = j\,n + i$ ($i$ along $x$, $j$ along
$y$, $n = $ `n_nodes` $- 2$); $Re = 10^4$, $\Delta t = 2/1500$, 1500 steps; backward Euler,
first-order backward (upwind) differences for convection and central differences for
diffusion:

$$ r^u_p = u_p - u_p^{n-1} + \Delta t\Big[u_p \frac{u_p - u_{p-1}}{h}
   + v_p \frac{u_p - u_{p-n}}{h}
   - \frac{u_{p-1} + u_{p+1} + u_{p-n} + u_{p+n} - 4u_p}{Re\,h^2}\Big], $$

and $r^v$ with the roles of $u$ and $v$ in the differenced slot swapped (neighbours outside
the interior are the boundary value 0). Row $p$ of $r^u$ depends on $u$ at its 5-point
neighbourhood and on $v_p$ (`stencil` width 6: own component at centre, left, right, down,
up, then the other component at the centre; missing neighbours repeat the centre index and
are masked).

**Jacobian solve.** $J = I + \Delta t\,\partial f/\partial x$ with
$\Delta t\,|u|/h \le 0.08$ and $\Delta t/(Re\,h^2) \approx 5 \times 10^{-4}$ at the paper's
settings: a small perturbation of the identity. `solve_jacobian` therefore never forms $J$:
it runs restarted GMRES (lineax) on the JVP of the residual (`jax.linearize`, one
linearisation per Newton iteration), preconditioned by the exact inverse of the $2\times 2$
point blocks $\partial(r^u_p, r^v_p)/\partial(u_p, v_p)$ (taken by autodiff of the row-wise
residual). A banded LU (bandwidth $n$) is sequential in JAX; a dense LU of the 6728 x 6728
Jacobian costs 1e11 flops per step. docs/rom.md reports the Newton and GMRES counts.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx

from .._custom_types import Array, Float, Int, Scalar
from ._fom import AbstractFOM, _check_mu


class Burgers2D(AbstractFOM):
    r"""The 2-D viscous Burgers full-order model (defaults: the paper's grid and steps).

    **Arguments:**
    - `n_nodes`: nodes per direction on $[0, 1]$ including both boundaries (paper: 60);
      N = 2 (`n_nodes` - 2)$^2$ unknowns.
    - `dt`: time step (paper: 2/1500); `n_steps`: steps (paper: 1500, to t = 2).
    - `reynolds`: $Re$ (paper: 1e4; 100 is the paper's alternative).
    - `linear_rtol`, `linear_max_steps`: GMRES tolerance (relative to the right-hand side;
      raised to 100 machine epsilons in float32) and iteration cap of the Newton solve.
    """

    n_nodes: int = eqx.field(static=True, default=60)
    dt: float = eqx.field(static=True, default=2.0 / 1500)
    n_steps: int = eqx.field(static=True, default=1500)
    reynolds: float = eqx.field(static=True, default=1e4)
    linear_rtol: float = eqx.field(static=True, default=1e-10)
    linear_max_steps: int = eqx.field(static=True, default=100)

    def __check_init__(self):
        if not isinstance(self.n_nodes, int) or self.n_nodes < 4:
            raise ValueError(f"Burgers2D: `n_nodes` must be an int >= 4, got {self.n_nodes!r}.")
        if not self.dt > 0 or not isinstance(self.n_steps, int) or self.n_steps < 1:
            raise ValueError(
                f"Burgers2D: need `dt` > 0 and an int `n_steps` >= 1, got dt={self.dt!r}, "
                f"n_steps={self.n_steps!r}."
            )
        if not self.reynolds > 0:
            raise ValueError(f"Burgers2D: `reynolds` must be > 0, got {self.reynolds!r}.")
        if not 0 < self.linear_rtol < 1 or not isinstance(self.linear_max_steps, int) or (
            self.linear_max_steps < 1
        ):
            raise ValueError(
                "Burgers2D: need 0 < `linear_rtol` < 1 and an int `linear_max_steps` >= 1, got "
                f"{self.linear_rtol!r}, {self.linear_max_steps!r}."
            )

    @property
    def n(self) -> int:
        """Interior nodes per direction."""
        return self.n_nodes - 2

    @property
    def size(self) -> int:
        return 2 * self.n * self.n

    @property
    def h(self) -> float:
        return 1.0 / (self.n_nodes - 1)

    @property
    def grid(self) -> tuple[Float[Array, " M"], Float[Array, " M"]]:
        """Interior node coordinates `(x_p, y_p)`, p = j n + i, each `(n*n,)`."""
        c = (jnp.arange(self.n) + 1) * self.h
        return jnp.tile(c, self.n), jnp.repeat(c, self.n)

    def initial_condition(self, mu: Scalar) -> Float[Array, " N"]:
        mu = _check_mu(mu)
        x, y = (c.astype(mu.dtype) for c in self.grid)
        inside = (x <= 0.5) & (y <= 0.5)
        u = jnp.where(inside, mu * jnp.sin(2 * jnp.pi * x) * jnp.sin(2 * jnp.pi * y), 0.0)
        return jnp.concatenate([u, u])

    def stencil(self, rows: Int[Array, " k"]) -> Int[Array, "k 6"]:
        n, m = self.n, self.n * self.n
        comp, p = rows // m, rows % m
        i, j = p % n, p // n
        own, other = comp * m, (1 - comp) * m
        left = jnp.where(i > 0, p - 1, p)
        right = jnp.where(i < n - 1, p + 1, p)
        down = jnp.where(j > 0, p - n, p)
        up = jnp.where(j < n - 1, p + n, p)
        return jnp.stack([own + p, own + left, own + right, own + down, own + up, other + p], -1)

    def residual_row(self, row, x_stencil, x_prev_row, mu):
        del mu
        n, m = self.n, self.n * self.n
        comp, p = row // m, row % m
        i, j = p % n, p // n
        w = x_stencil[0]
        wl = jnp.where(i > 0, x_stencil[1], 0.0)
        wr = jnp.where(i < n - 1, x_stencil[2], 0.0)
        wd = jnp.where(j > 0, x_stencil[3], 0.0)
        wu = jnp.where(j < n - 1, x_stencil[4], 0.0)
        u = jnp.where(comp == 0, w, x_stencil[5])
        v = jnp.where(comp == 0, x_stencil[5], w)
        h = self.h
        f = u * (w - wl) / h + v * (w - wd) / h - (wl + wr + wd + wu - 4 * w) / (
            self.reynolds * h * h
        )
        return w - x_prev_row + self.dt * f

    def residual(self, x, x_prev, mu):
        """All rows at once on the grid (the same arithmetic as `residual_row`, tested)."""
        del mu
        n, h = self.n, self.h
        w = x.reshape(2, n, n)  # (component, j, i)
        pad = jnp.pad(w, ((0, 0), (1, 1), (1, 1)))
        wl, wr = pad[:, 1:-1, :-2], pad[:, 1:-1, 2:]
        wd, wu = pad[:, :-2, 1:-1], pad[:, 2:, 1:-1]
        u, v = w[:1], w[1:]
        f = u * (w - wl) / h + v * (w - wd) / h - (wl + wr + wd + wu - 4 * w) / (
            self.reynolds * h * h
        )
        return x - x_prev + self.dt * f.reshape(-1)

    def solve_jacobian(self, x, x_prev, mu, rhs):
        r"""Solve $J(x)\,\delta = $ `rhs` by block-Jacobi-preconditioned GMRES on the JVP."""
        m = self.n * self.n
        _, jvp = jax.linearize(lambda y: self.residual(y, x_prev, mu), x)
        rows = jnp.arange(self.size)
        grads = jax.vmap(jax.grad(self.residual_row, argnums=1), in_axes=(0, 0, 0, None))(
            rows, x[self.stencil(rows)], x_prev, mu
        )
        # point block [[a, b], [c, d]] = d(r^u_p, r^v_p) / d(u_p, v_p)
        a, d = grads[:m, 0], grads[m:, 0]
        b, c = grads[:m, 5], grads[m:, 5]
        det = a * d - b * c

        def block_inverse(z):
            zu, zv = z[:m], z[m:]
            return jnp.concatenate([(d * zu - b * zv) / det, (a * zv - c * zu) / det])

        struct = jax.eval_shape(lambda: x)
        op = lx.FunctionLinearOperator(jvp, struct)
        precond = lx.FunctionLinearOperator(block_inverse, struct)
        rtol = max(self.linear_rtol, 100 * float(jnp.finfo(x.dtype).eps))
        solver = lx.GMRES(rtol=rtol, atol=0.0, restart=20, max_steps=self.linear_max_steps)
        sol = lx.linear_solve(op, rhs, solver, options={"preconditioner": precond}, throw=False)
        return sol.value
