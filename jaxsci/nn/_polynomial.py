r"""Polynomial spaces $\pi_m(\mathbb{R}^d)$ of total degree $m$ in a Legendre basis."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..polynomials import legendre_product, total_degree_indices
from ._base import check_box, check_point

__all__ = ["LegendreSpace"]


class LegendreSpace(eqx.Module):
    r"""Basis $\{P_\beta\}_{|\beta| \le m}$ of $\pi_m(\mathbb{R}^d)$ (eq. 16, $V$):
    $$P_\beta(x) = \prod_{j=1}^d P_{\beta_j}(t_j), \qquad
    t = 2\frac{x - \text{lo}}{\text{hi} - \text{lo}} - 1,$$
    tensor-product Legendre polynomials on the box `[lo, hi]`, well conditioned there, in
    the graded order of `jaxsci.polynomials.total_degree_indices`.
    $\dim V = \binom{m + d}{d}$.

    **Arguments:** `in_size` $d$, `degree` $m \ge 0$, `box=(lo, hi)` (scalars or `(d,)`).

    Outside the box the polynomials grow like $|t|^m$; where that exceeds the dtype's range
    (e.g. float32, $m=6$, $|x|\approx10^6$ on the unit box) they are $\pm\infty$.

    **Raises:** `ValueError` for an `in_size` that is not a positive int, a `degree` that is
    not a non-negative int, or a `box` that is not finite with `hi > lo` or has the wrong
    shape; `ValueError` at trace time when called on anything but ONE point of shape `(d,)`.
    """

    lo: tuple[float, ...] = eqx.field(static=True)
    hi: tuple[float, ...] = eqx.field(static=True)
    in_size: int = eqx.field(static=True)
    degree: int = eqx.field(static=True)
    indices: tuple[tuple[int, ...], ...] = eqx.field(static=True)

    def __init__(
        self, in_size: int, degree: int, *, box: tuple[ArrayLike, ArrayLike] = (0.0, 1.0)
    ):
        if not isinstance(in_size, int) or in_size < 1:
            raise ValueError(f"`in_size` must be a positive int, got {in_size!r}.")
        if not isinstance(degree, int) or degree < 0:
            raise ValueError(f"`degree` must be a non-negative int, got {degree!r}.")
        # Static floats: the box is part of the space, not a trainable parameter.
        lo, hi = check_box(box, in_size)
        self.lo = tuple(float(v) for v in lo)
        self.hi = tuple(float(v) for v in hi)
        self.in_size = in_size
        self.degree = degree
        self.indices = tuple(map(tuple, total_degree_indices(in_size, degree).tolist()))

    @property
    def dim(self) -> int:
        r"""$\dim \pi_m(\mathbb{R}^d)$."""
        return len(self.indices)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " dim"]:
        r"""$(P_\beta(x))_\beta$ at one point, shape `(dim,)`."""
        check_point(x, self.in_size)
        lo, hi = jnp.asarray(self.lo, x.dtype), jnp.asarray(self.hi, x.dtype)
        t = 2.0 * (x - lo) / (hi - lo) - 1.0
        return legendre_product(t, np.asarray(self.indices, np.int32), degree=self.degree)
