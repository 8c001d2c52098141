"""Variance-based sensitivity: Sobol indices from polynomial-chaos coefficients.

[PNDS] section 2.4, eqs. 13-18; Sudret (Reliab. Eng. Syst. Saf. 93, 2008, eqs. 34-38) for
first-order and interaction indices of any orthonormal basis.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import check_value
from ._cubature import CubatureRule
from ._basis import PolynomialBasis
from ._legendre import LegendreBasis
from ._regression import PolynomialChaos, project_polynomial


class SobolIndices(eqx.Module):
    r"""Mean, variance and Sobol indices of each output of a PCE.

    **Attributes** (`r` outputs, `q` parameters):
    `mean` $\hat f_1$ shape `(r,)`; `variance` $V(f) = \sum_{i>1} |\hat f_i|^2$ (eq. 13 for
    the truncated expansion) shape `(r,)`; `first_order` $S_j$ shape `(q, r)`;
    `total` $S_j^T = V_j / V$ (eqs. 16-17) shape `(q, r)`; `second_order` the closed
    interaction indices $S_{jk}$ (variance of the terms depending on exactly $p_j$ and
    $p_k$, over $V$; symmetric, zero diagonal) shape `(q, q, r)`, or `None`.
    """

    mean: Float[Array, " r"]
    variance: Float[Array, " r"]
    first_order: Float[Array, "q r"]
    total: Float[Array, "q r"]
    second_order: Float[Array, "q q r"] | None = None

    def __check_init__(self):
        shapes = {n: jnp.shape(getattr(self, n)) for n in ("mean", "variance", "first_order", "total")}
        r_shape = shapes["mean"]
        if len(r_shape) != 1:
            raise ValueError(f"`mean` must have shape (r,) (one entry per output), got {r_shape}.")
        if shapes["variance"] != r_shape:
            raise ValueError(
                f"`variance` must have the shape of `mean` {r_shape}, got {shapes['variance']}."
            )
        qr = shapes["first_order"]
        if len(qr) != 2 or qr[1] != r_shape[0]:
            raise ValueError(
                f"`first_order` must have shape (q, {r_shape[0]}) (one row per parameter, one "
                f"column per output), got {qr}."
            )
        if shapes["total"] != qr:
            raise ValueError(
                f"`total` must have the shape of `first_order` {qr}, got {shapes['total']}."
            )
        if self.second_order is not None and len(qr) == 2:
            want = (qr[0], qr[0], qr[1])
            if jnp.shape(self.second_order) != want:
                raise ValueError(
                    f"`second_order` must have shape {want}, got "
                    f"{jnp.shape(self.second_order)}."
                )


@eqx.filter_jit
def sobol_indices(pce: PolynomialChaos) -> SobolIndices:
    r"""Sobol indices of every output of a PCE in any orthonormal basis (eqs. 13-17):
    `LegendreBasis` or a `PolynomialBasis` of arbitrary independent marginals (Hermite,
    Laguerre, Jacobi germs, ...), full or sparse (zero coefficients of unselected terms).

    With $I_j = \{i : \Phi_i \text{ non-constant in } p_j\}$, the total-effect partial
    variance is $V_j = \sum_{i \in I_j} |\hat f_i|^2$ (eq. 16) and $S_j^T = V_j/V$ (eq. 17);
    the first-order index sums only over the $\Phi_i$ depending on $p_j$ alone (Sudret
    2008), the interaction index $S_{jk}$ over those depending on exactly $p_j$ and $p_k$.
    The mean is the coefficient of the constant term. $V$ is the variance of the
    (truncated) expansion, so $0 \le S_j \le S_j^T \le 1$.

    **Constant outputs.** The indices $V_j / V$ are undefined when $V = 0$. An output whose
    variance is zero *to rounding* -- $V \le s\,(100\,\varepsilon)^2 \sum_i |\hat f_i|^2$
    ($\varepsilon$ the machine epsilon; i.e. the non-constant coefficients are at the
    rounding level of the largest one, e.g. a PCE fitted to constant data) -- gets
    **all-zero** first-order and total indices (it depends on no parameter), and its
    `variance` is reported as exactly 0. Without this, rounding noise (a variance of
    1e-31 for a constant of order 1) gave O(1) indices.

    **Arguments:** `pce` with coefficients `(s, r)`.

    **Returns:** `SobolIndices` (indices shape `(q, r)`, `second_order` `(q, q, r)`).

    **Raises:** `ValueError` (trace time) if the coefficients are not `(s, r)` with
    `s = pce.basis.size`; `EquinoxRuntimeError` if they contain NaN/inf.
    """
    coeffs = jnp.asarray(pce.coefficients)
    s_basis = pce.basis.indices.shape[0]
    if coeffs.ndim != 2 or coeffs.shape[0] != s_basis:
        raise ValueError(
            f"`pce.coefficients` must have shape ({s_basis}, r) (one row per basis "
            f"polynomial), got {coeffs.shape}."
        )
    coeffs = check_value(
        coeffs,
        ~jnp.isfinite(coeffs),
        "`pce.coefficients` contain NaN or inf; the fitted surrogate is unusable. Check the "
        "data it was fitted to (`fit_polynomial` / `project_polynomial` values).",
    )
    c2 = coeffs**2  # (s, r)
    idx = pce.basis.indices  # (s, q)
    depends = idx > 0
    order = jnp.sum(depends, axis=1, keepdims=True)
    only = depends & (order == 1)
    pair = (depends & (order == 2)).astype(c2.dtype)  # (s, q)
    nonconst = jnp.any(depends, axis=1)
    variance = jnp.sum(jnp.where(nonconst[:, None], c2, 0), axis=0)
    partial_total = jnp.dot(depends.T.astype(c2.dtype), c2, precision=jax.lax.Precision.HIGHEST)
    partial_first = jnp.dot(only.T.astype(c2.dtype), c2, precision=jax.lax.Precision.HIGHEST)
    partial_pair = jnp.einsum(
        "sj,sk,sr->jkr", pair, pair, c2, precision=jax.lax.Precision.HIGHEST
    )
    partial_pair = partial_pair * (1 - jnp.eye(idx.shape[1], dtype=c2.dtype))[:, :, None]
    eps = jnp.finfo(c2.dtype).eps
    energy = jnp.sum(c2, axis=0)
    constant = variance <= c2.shape[0] * (100 * eps) ** 2 * energy  # (r,), incl. all-zero
    safe = jnp.where(constant, 1.0, variance)
    mean = jnp.sum(jnp.where(nonconst[:, None], 0, coeffs), axis=0)
    return SobolIndices(
        mean=mean,
        variance=jnp.where(constant, 0.0, variance),
        first_order=jnp.where(constant[None], 0.0, partial_first / safe[None]),
        total=jnp.where(constant[None], 0.0, partial_total / safe[None]),
        second_order=jnp.where(constant[None, None], 0.0, partial_pair / safe[None, None]),
    )


@eqx.filter_jit
def norm_sobol_indices(
    values: Float[Array, "n r"], rule: CubatureRule, degree: int = 2
) -> SobolIndices:
    r"""Sobol indices of $f(p) = \sum_{i=1}^r \hat a_i(p)^2$ (eq. 18), non-intrusively.

    `values[k]` $= \hat a(x_k)$ at the cubature nodes (from the exact mapping $\Gamma$ of
    eq. 8, a neural network or a polynomial surrogate). The PCE of $f$ up to total degree
    `degree` is obtained by cubature (eq. 15; [PNDS] section 4.1 uses Stroud-5 and
    degree 2, exact for $f$ of degree $\le 3$), then `sobol_indices`. The basis is
    `LegendreBasis` for a unit-cube rule (`stroud5`), the `PolynomialBasis` of
    `rule.marginals` for `gauss_rule` / `smolyak_rule`.

    **Arguments:** `values` shape `(n, r)`; `rule` with `n` nodes; `degree` static int.

    **Returns:** `SobolIndices` with `r = 1` (indices shape `(q, 1)`).
    """
    values = jnp.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"`values` must have shape (n, r), got {values.shape}.")
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 0:
        raise ValueError(f"`degree` must be an int >= 0, got {degree!r}.")
    f = jnp.sum(values**2, axis=1)
    if rule.marginals is None:
        basis = LegendreBasis(rule.nodes.shape[1], degree)
    else:
        basis = PolynomialBasis(rule.marginals, degree)
    return sobol_indices(project_polynomial(basis, rule, f))
