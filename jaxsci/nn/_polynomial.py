r"""Polynomial spaces $\pi_m(\mathbb{R}^d)$ of total degree $m$ in a Legendre basis."""

import itertools

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._base import check_point

__all__ = ["LegendreSpace", "legendre", "total_degree_indices"]


def total_degree_indices(in_size: int, degree: int) -> tuple[tuple[int, ...], ...]:
    r"""All multi-indices $\beta \in \mathbb{N}^d$ with $|\beta| \le m$, graded order."""
    idx = [b for b in itertools.product(range(degree + 1), repeat=in_size) if sum(b) <= degree]
    return tuple(sorted(idx, key=lambda b: (sum(b), tuple(-v for v in b))))


def legendre(t: Float[Array, "..."], degree: int) -> Float[Array, "... m+1"]:
    r"""Legendre polynomials $P_0(t), \dots, P_m(t)$ by the three-term recurrence
    $(n+1) P_{n+1} = (2n+1)\, t P_n - n P_{n-1}$ (orthogonal on $[-1, 1]$)."""
    out = [jnp.ones_like(t)]
    if degree >= 1:
        out.append(t)
    for n in range(1, degree):
        out.append(((2 * n + 1) * t * out[n] - n * out[n - 1]) / (n + 1))
    return jnp.stack(out, axis=-1)


class LegendreSpace(eqx.Module):
    r"""Basis $\{P_\beta\}_{|\beta| \le m}$ of $\pi_m(\mathbb{R}^d)$ (eq. 16, $V$):
    $$P_\beta(x) = \prod_{j=1}^d P_{\beta_j}(t_j), \qquad
    t = 2\frac{x - \text{lo}}{\text{hi} - \text{lo}} - 1,$$
    tensor-product Legendre polynomials on the box `[lo, hi]`, well conditioned there.
    $\dim V = \binom{m + d}{d}$.

    **Arguments:** `in_size` $d$, `degree` $m \ge 0$, `box=(lo, hi)` (scalars or `(d,)`).
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
        lo = np.broadcast_to(np.asarray(box[0], np.float64), (in_size,))
        hi = np.broadcast_to(np.asarray(box[1], np.float64), (in_size,))
        self.lo = tuple(float(v) for v in lo)
        self.hi = tuple(float(v) for v in hi)
        if np.any(hi <= lo):
            raise ValueError(f"`box` must have hi > lo in every coordinate, got {box!r}.")
        self.in_size = in_size
        self.degree = degree
        self.indices = total_degree_indices(in_size, degree)

    @property
    def dim(self) -> int:
        r"""$\dim \pi_m(\mathbb{R}^d)$."""
        return len(self.indices)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " dim"]:
        r"""$(P_\beta(x))_\beta$ at one point, shape `(dim,)`."""
        check_point(x, self.in_size)
        lo, hi = jnp.asarray(self.lo, x.dtype), jnp.asarray(self.hi, x.dtype)
        t = 2.0 * (x - lo) / (hi - lo) - 1.0
        table = legendre(t, self.degree)  # (d, m+1)
        idx = np.asarray(self.indices)  # (dim, d)
        return jnp.prod(table[np.arange(self.in_size)[None, :], idx], axis=1)
