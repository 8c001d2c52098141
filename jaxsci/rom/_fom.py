r"""The full-order-model interface every ROM in `jaxsci.rom` is written against.

A full-order model (FOM) is a semi-discrete PDE `dx/dt = f(x; mu)`, `x in R^N`, advanced by
backward Euler. Its time-step residual is

$$ r(x^{n}; x^{n-1}, \mu) = x^{n} - x^{n-1} - \Delta t\, f(x^{n}; \mu), $$

(Kim, Choi, Widemann & Zohdi, JCP 451:110841, 2022, eq. 4; review seed 002, §12). ROMs need
it in three forms, which is why it is written pointwise (DESIGN rule 4):

- whole: `residual(x, x_prev, mu)` (FOM Newton, LSPG, residual snapshots);
- row-wise: `residual_rows(rows, x_local, x_prev_rows, mu)`, where `x_local` holds only the
  entries of `x` that `rows` depend on (`stencil(rows)`): hyper-reduction evaluates the
  residual, and the decoder, at the sampled rows only;
- its Jacobian, from autodiff of the row-wise form or the structured one the FOM provides.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx

from .._custom_types import Array, Float, Int, Scalar


def _check_mu(mu) -> Scalar:
    mu = jnp.asarray(mu)
    if mu.ndim != 0:
        raise ValueError(
            f"`mu` must be a scalar parameter, got shape {mu.shape}; vmap over a batch of mu."
        )
    if not jnp.issubdtype(mu.dtype, jnp.floating):
        mu = mu.astype(jnp.result_type(float))
    return mu


class AbstractFOM(eqx.Module):
    r"""A semi-discrete PDE `dx/dt = f(x; mu)` with a backward-Euler residual.

    Concrete models fix the grid, the time step `dt`, the number of steps `n_steps` and the
    initial condition `x0(mu)`. Each residual row `i` depends on the entries
    `x[stencil(i)]` only (a fixed-width neighbourhood, padded by repeating an index).
    """

    dt: eqx.AbstractVar[float]
    n_steps: eqx.AbstractVar[int]

    @property
    @abc.abstractmethod
    def size(self) -> int:
        """N, the number of unknowns."""

    @abc.abstractmethod
    def initial_condition(self, mu: Scalar) -> Float[Array, " N"]:
        """`x(t=0; mu)`."""

    @abc.abstractmethod
    def stencil(self, rows: Int[Array, " k"]) -> Int[Array, "k s"]:
        """Indices of the entries of `x` that residual rows `rows` depend on (width `s`)."""

    @abc.abstractmethod
    def residual_row(
        self, row: Int[Array, ""], x_stencil: Float[Array, " s"], x_prev_row: Scalar, mu: Scalar
    ) -> Scalar:
        """Residual row `row` from `x[stencil(row)]` and `x_prev[row]` (pointwise core)."""

    def residual_rows(
        self,
        rows: Int[Array, " k"],
        x_stencil: Float[Array, "k s"],
        x_prev_rows: Float[Array, " k"],
        mu: Scalar,
    ) -> Float[Array, " k"]:
        """Residual at `rows` from the stencil entries only (the hyper-reduced evaluation)."""
        return jax.vmap(self.residual_row, in_axes=(0, 0, 0, None))(rows, x_stencil, x_prev_rows, mu)

    def residual(
        self, x: Float[Array, " N"], x_prev: Float[Array, " N"], mu: Scalar
    ) -> Float[Array, " N"]:
        """The whole residual `r(x; x_prev, mu)`."""
        rows = jnp.arange(self.size)
        return self.residual_rows(rows, x[self.stencil(rows)], x_prev, mu)

    def solve_jacobian(
        self,
        x: Float[Array, " N"],
        x_prev: Float[Array, " N"],
        mu: Scalar,
        rhs: Float[Array, " N"],
    ) -> Float[Array, " N"]:
        """Solve $\\partial r/\\partial x\\, \\delta = $ `rhs` (the Newton step).

        This default forms the Jacobian densely by autodiff and LU-factors it: fine for
        small models and tests. Large models override it with their structured solve.
        """
        op = lx.JacobianLinearOperator(lambda y, _: self.residual(y, x_prev, mu), x)
        return lx.linear_solve(op, rhs, lx.LU()).value
