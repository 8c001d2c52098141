"""Multivariate Legendre polynomials of total degree <= d on the unit cube [0, 1]^q.

"Machine Learning for Parametric Nonlinear Dynamical Systems" (J. Mach. Learn. Model.
Comput. 1(1), 2020; cited as [PNDS] throughout jaxsci.surrogates), section 2.3, eqs. 9-11; orthonormal in L2([0, 1]^q) as needed by the polynomial-chaos
Sobol formulas of section 2.4 (eqs. 14-16).
"""

import itertools
import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from .._misc import as_float_array


def legendre_1d(x: Float[Array, ""], degree: int) -> Float[Array, " d+1"]:
    r"""Orthonormal shifted Legendre polynomials $L_0(x), \dots, L_d(x)$ on $[0, 1]$.

    $L_n(x) = \sqrt{2n + 1}\, P_n(2x - 1)$ with the classical Legendre polynomials $P_n$
    from the three-term recurrence $(n+1) P_{n+1}(y) = (2n+1) y P_n(y) - n P_{n-1}(y)$.
    Then $\int_0^1 L_n L_k \,dx = \delta_{nk}$ (paper, section 2.3: "linearly transformed
    from [-1, 1] to [0, 1]"; normalised so that eq. (16) holds with $|\hat f_i|^2$).

    **Arguments:** `x` a scalar; `degree` the static maximal degree $d \ge 0$.

    **Returns:** the values, shape `(degree + 1,)`.
    """
    if not isinstance(degree, int) or degree < 0:
        raise ValueError(f"`degree` must be a non-negative int, got {degree!r}.")
    x = as_float_array(x, "x")
    if x.ndim != 0:
        raise ValueError(f"`x` must be a scalar (vmap for batches), got shape {x.shape}.")
    y = 2 * x - 1
    values = [jnp.ones_like(y)]
    if degree >= 1:
        values.append(y)
    for n in range(1, degree):
        values.append(((2 * n + 1) * y * values[n] - n * values[n - 1]) / (n + 1))
    norms = jnp.sqrt(2 * jnp.arange(degree + 1, dtype=y.dtype) + 1)
    return jnp.stack(values) * norms


def total_degree_indices(dimension: int, degree: int) -> np.ndarray:
    r"""All multi-indices $(i_1, \dots, i_q)$ with $i_1 + \dots + i_q \le d$.

    Ordered by total degree, then reverse-lexicographically, so row 0 is the constant
    polynomial and rows $1..q$ are the linear ones $L_1(p_j)$. Their number is
    $s = (q + d)! / (q!\, d!)$ (paper, eq. 11).

    **Returns:** a NumPy integer array of shape `(s, q)` (static data).
    """
    if not isinstance(dimension, int) or dimension < 1:
        raise ValueError(f"`dimension` must be a positive int, got {dimension!r}.")
    if not isinstance(degree, int) or degree < 0:
        raise ValueError(f"`degree` must be a non-negative int, got {degree!r}.")
    rows = []
    for total in range(degree + 1):
        # Compositions of `total` into `dimension` parts, via stars and bars.
        for bars in itertools.combinations(range(total + dimension - 1), dimension - 1):
            prev = -1
            parts = []
            for b in bars:
                parts.append(b - prev - 1)
                prev = b
            parts.append(total + dimension - 1 - prev - 1)
            rows.append(parts)
    out = np.asarray(rows, dtype=np.int32).reshape(-1, dimension)
    assert out.shape[0] == math.comb(dimension + degree, degree)
    return out


class LegendreBasis(eqx.Module):
    r"""The $s$ multivariate Legendre polynomials $\Phi_i(p) = \prod_j L_{i_j}(p_j)$ of
    total degree $\le d$ on $[0, 1]^q$ (paper, eq. 10), orthonormal in $L^2([0,1]^q)$.

    Call it on ONE point `p` of shape `(q,)`; it returns the `(s,)` basis values. Batch with
    `jax.vmap` (rows of the Vandermonde matrix $V$ of eq. 12).

    **Attributes:** `dimension` $q$, `degree` $d$ (static), `indices` the `(s, q)` integer
    multi-indices in the order of `total_degree_indices`.
    """

    dimension: int = eqx.field(static=True)
    degree: int = eqx.field(static=True)
    indices: Int[Array, "s q"]

    def __init__(self, dimension: int, degree: int):
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
        table = eqx.filter_vmap(lambda x: legendre_1d(x, self.degree))(p)  # (q, d+1)
        cols = jnp.arange(self.dimension)[None, :]
        return jnp.prod(table[cols, self.indices], axis=1)
