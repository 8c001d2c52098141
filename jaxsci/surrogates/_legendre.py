"""Multivariate Legendre polynomials of total degree <= d on the unit cube [0, 1]^q.

"Machine Learning for Parametric Nonlinear Dynamical Systems" (J. Mach. Learn. Model.
Comput. 1(1), 2020; cited as [PNDS] throughout jaxsci.surrogates), section 2.3, eqs. 9-11; orthonormal in L2([0, 1]^q) as needed by the polynomial-chaos
Sobol formulas of section 2.4 (eqs. 14-16).
"""

import math

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from .._misc import as_float_array
from ..polynomials import legendre, legendre_product, total_degree_indices

_UNIT = (0.0, 1.0)


def legendre_1d(x: Float[Array, ""], degree: int) -> Float[Array, " d+1"]:
    r"""Orthonormal shifted Legendre polynomials $L_0(x), \dots, L_d(x)$ on $[0, 1]$:
    `jaxsci.polynomials.legendre(x, degree, interval=(0, 1), orthonormal=True)` at one
    scalar.

    $L_n(x) = \sqrt{2n + 1}\, P_n(2x - 1)$, so $\int_0^1 L_n L_k \,dx = \delta_{nk}$ (paper,
    section 2.3: "linearly transformed from [-1, 1] to [0, 1]"; normalised so that eq. (16)
    holds with $|\hat f_i|^2$).

    **Arguments:** `x` a scalar; `degree` the static maximal degree $d \ge 0$.

    **Returns:** the values, shape `(degree + 1,)`.
    """
    x = as_float_array(x, "x")
    if x.ndim != 0:
        raise ValueError(f"`x` must be a scalar (vmap for batches), got shape {x.shape}.")
    return legendre(x, degree, interval=_UNIT, orthonormal=True)


class LegendreBasis(eqx.Module):
    r"""The $s$ multivariate Legendre polynomials $\Phi_i(p) = \prod_j L_{i_j}(p_j)$ of
    total degree $\le d$ on $[0, 1]^q$ (paper, eq. 10), orthonormal in $L^2([0,1]^q)$.

    Call it on ONE point `p` of shape `(q,)`; it returns the `(s,)` basis values. Batch with
    `jax.vmap` (rows of the Vandermonde matrix $V$ of eq. 12).

    **Attributes:** `dimension` $q$, `degree` $d$ (static), `indices` the `(s, q)` integer
    multi-indices in the graded order of `jaxsci.polynomials.total_degree_indices`.
    """

    dimension: int = eqx.field(static=True)
    degree: int = eqx.field(static=True)
    indices: Int[Array, "s q"]

    def __init__(self, dimension: int, degree: int):
        # validates `dimension` and `degree`
        self.indices = jnp.asarray(total_degree_indices(dimension, degree))
        self.dimension = dimension
        self.degree = degree

    @property
    def size(self) -> int:
        """The number $s$ of basis polynomials (eq. 11)."""
        return math.comb(self.dimension + self.degree, self.degree)

    def __call__(self, p: Float[Array, " q"]) -> Float[Array, " s"]:
        p = as_float_array(p, "p")
        if p.shape != (self.dimension,):
            raise ValueError(
                f"`p` must have shape ({self.dimension},) (one point; vmap for batches), "
                f"got {p.shape}."
            )
        return legendre_product(
            p, self.indices, degree=self.degree, interval=_UNIT, orthonormal=True
        )
