r"""The polynomial-chaos basis of independent inputs with arbitrary marginals.

$\Psi_\beta(x) = \prod_{j=1}^q p^{(j)}_{\beta_j}(T_j(x_j))$, with $T_j$ the germ map of the
$j$-th marginal and $p^{(j)}$ its orthonormal Askey family (`jaxsci.surrogates` marginals,
`jaxsci.polynomials` families): orthonormal under the joint law of $x$ (Xiu & Karniadakis
2002; Blatman & Sudret, J. Comput. Phys. 230, 2011, section 2). The uniform-Legendre basis
of [PNDS] eq. 10 is the special case `LegendreBasis(q, d)` = all `Uniform(0, 1)`, total
degree $d$.
"""

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from .._checks import check_key, require_positive_int
from .._misc import as_float_array
from ..polynomials import hyperbolic_indices, orthonormal_product
from ._marginals import AbstractMarginal, Uniform, check_marginals


class PolynomialBasis(eqx.Module):
    r"""The $s$ orthonormal polynomials $\Psi_\beta$, $\beta$ in a truncation set of
    degree $\le d$, of inputs with independent `marginals` (module docstring).

    Call it on ONE point `p` of shape `(q,)` (in the inputs' own units); it returns the
    `(s,)` basis values. Batch with `jax.vmap` (rows of the Vandermonde matrix).

    **Arguments:**

    - `marginals`: a tuple of $q$ marginals (`Uniform`, `Normal`, `LogNormal`, `Gamma`,
      `Beta`, `GaussianGerm`), one per input.
    - `degree`: the maximal degree $d \ge 0$ (static).
    - `q_norm`: the hyperbolic truncation exponent $0 < q \le 1$ (default 1: total degree;
      `jaxsci.polynomials.hyperbolic_indices`).
    - `indices`: optionally, an explicit `(s, q)` NumPy multi-index set (entries
      $\le$ `degree`) instead of the truncation; row 0 should be the constant.

    **Attributes:** `marginals`, `dimension` $q$, `degree` $d$, `indices` `(s, q)` in the
    graded order of `jaxsci.polynomials.total_degree_indices`, `size` $s$.

    **Raises:** `TypeError` / `ValueError` for bad `marginals`, `degree`, `q_norm` or
    `indices`; calling it on a point not of shape `(q,)` is a `ValueError`.
    """

    marginals: tuple[AbstractMarginal, ...]
    dimension: int = eqx.field(static=True)
    degree: int = eqx.field(static=True)
    indices: Int[Array, "s q"]

    def __init__(
        self,
        marginals: Sequence[AbstractMarginal],
        degree: int,
        *,
        q_norm: float = 1.0,
        indices=None,
    ):
        marginals = check_marginals(marginals)
        if indices is None:
            idx = hyperbolic_indices(len(marginals), degree, q_norm)
        else:
            idx = np.asarray(indices)
            if not np.issubdtype(idx.dtype, np.integer):
                raise TypeError(f"`indices` must be an integer array, got dtype {idx.dtype}.")
            if idx.ndim != 2 or idx.shape[1] != len(marginals) or idx.shape[0] == 0:
                raise ValueError(
                    f"`indices` must have shape (s, {len(marginals)}) with s >= 1, got "
                    f"{idx.shape}."
                )
            hyperbolic_indices(len(marginals), degree)  # validates `degree`
            if idx.min() < 0 or idx.max() > degree:
                raise ValueError(f"`indices` must hold integers in 0..degree = {degree}.")
        self.marginals = marginals
        self.dimension = len(marginals)
        self.degree = int(degree)
        self.indices = jnp.asarray(idx, dtype=jnp.int32)

    @property
    def size(self) -> int:
        """The number $s$ of basis polynomials."""
        return self.indices.shape[0]

    @property
    def families(self):
        """The germ family of each input (a tuple of `jaxsci.polynomials` families)."""
        return tuple(m.family for m in self.marginals)

    def __call__(self, p: Float[Array, " q"]) -> Float[Array, " s"]:
        p = as_float_array(p, "p")
        if p.shape != (self.dimension,):
            raise ValueError(
                f"`p` must have shape ({self.dimension},) (one point; vmap for batches), "
                f"got {p.shape}."
            )
        germ = jnp.stack([m.to_germ(p[j]) for j, m in enumerate(self.marginals)])
        return orthonormal_product(germ, self.indices, self.families, degree=self.degree)

    def sample(self, key: jax.Array, n: int, dtype=None) -> Float[Array, "n q"]:
        r"""`n` independent samples of the inputs, one column per marginal.

        **Arguments:** `key` a JAX PRNG key; `n` the static sample count $\ge 1$; `dtype`.

        **Returns:** shape `(n, q)`.
        """
        check_key(key)
        n = require_positive_int(n, "n")
        keys = jax.random.split(key, self.dimension)
        return jnp.stack(
            [m.sample(k, n, dtype) for m, k in zip(self.marginals, keys)], axis=1
        )

    def unit_cube(self) -> bool:
        """True if every marginal is `Uniform(0, 1)` (the [PNDS] Legendre basis)."""
        return all(isinstance(m, Uniform) and m.support == (0.0, 1.0) for m in self.marginals)


