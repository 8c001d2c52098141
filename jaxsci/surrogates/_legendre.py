"""Multivariate Legendre polynomials of total degree <= d on the unit cube [0, 1]^q.

"Machine Learning for Parametric Nonlinear Dynamical Systems" (J. Mach. Learn. Model.
Comput. 1(1), 2020; cited as [PNDS] throughout jaxsci.surrogates), section 2.3, eqs. 9-11;
orthonormal in L2([0, 1]^q) as needed by the polynomial-chaos Sobol formulas of section 2.4
(eqs. 14-16). The basis is the `PolynomialBasis` of `Uniform(0, 1)` inputs.
"""

from jaxtyping import Array, Float

from .._misc import as_float_array
from ..polynomials import legendre, total_degree_indices
from ._basis import PolynomialBasis
from ._marginals import Uniform

__all__ = ["LegendreBasis", "legendre_1d", "total_degree_indices"]

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


def LegendreBasis(dimension: int, degree: int) -> PolynomialBasis:  # noqa: N802 (a constructor)
    r"""The $s$ multivariate Legendre polynomials $\Phi_i(p) = \prod_j L_{i_j}(p_j)$ of
    total degree $\le d$ on $[0, 1]^q$ (paper, eq. 10), orthonormal in $L^2([0,1]^q)$:
    `PolynomialBasis((Uniform(0, 1),) * q, d)`.

    Call the result on ONE point `p` of shape `(q,)`; it returns the `(s,)` basis values.
    Batch with `jax.vmap` (rows of the Vandermonde matrix $V$ of eq. 12).

    **Arguments:** `dimension` $q \ge 1$, `degree` $d \ge 0$ (static ints).

    **Returns:** a `PolynomialBasis` with attributes `dimension` $q$, `degree` $d$,
    `indices` the `(s, q)` multi-indices in the graded order of
    `jaxsci.polynomials.total_degree_indices`, and `size` $s = \binom{q+d}{d}$ (eq. 11).

    **Raises:** `ValueError` for a `dimension` < 1 or `degree` < 0 (or not ints).
    """
    total_degree_indices(dimension, degree)  # validates, naming `dimension` / `degree`
    return PolynomialBasis((Uniform(0.0, 1.0),) * int(dimension), degree)
