"""Polynomial regression / polynomial chaos expansions in the Legendre basis.

[PNDS] section 2.3 (eqs. 9-12: least squares with one QR factorisation of the Vandermonde
matrix shared by all right-hand sides) and section 2.4 (eq. 15: PCE coefficients as inner
products, evaluated by cubature).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
from jaxtyping import Array, Float

from .._checks import check_value
from .._misc import as_float_array
from ._cubature import CubatureRule
from ._basis import PolynomialBasis


class PolynomialChaos(eqx.Module):
    r"""$\tilde a(p) = \sum_{i=1}^{s} c_i \Phi_i(p)$ with vector coefficients
    $c_i \in \mathbb{R}^r$ (eq. 9). A callable on one point `p` of shape `(q,)`.

    **Attributes:** `basis` a `PolynomialBasis` (e.g. `LegendreBasis(q, d)`); `coefficients` shape `(s, r)` (row $i$ is
    $c_i^\top$, so column $\ell$ is $z_\ell$ of eq. 12).
    """

    basis: PolynomialBasis
    coefficients: Float[Array, "s r"]

    def __call__(self, p: Float[Array, " q"]) -> Float[Array, " r"]:
        phi = self.basis(p)
        return jnp.dot(
            phi.astype(self.coefficients.dtype),
            self.coefficients,
            precision=jax.lax.Precision.HIGHEST,
        )


def vandermonde(basis: PolynomialBasis, points: Float[Array, "k q"]) -> Float[Array, "k s"]:
    r"""$V_{ji} = \Phi_i(p^{(j)})$ (the matrix of eq. 12).

    **Raises:** `ValueError` for a wrong shape or an empty `points` (trace time); NaN/inf
    points or points outside the support of the marginals ($[0, 1]^q$ for
    `LegendreBasis`; value check: `ValueError` eagerly, `EquinoxRuntimeError` under `jit`;
    the basis is orthonormal under the inputs' law only, and outside its support a fit
    extrapolates).
    """
    points = as_float_array(points, "points")
    if points.ndim != 2 or points.shape[1] != basis.dimension:
        raise ValueError(
            f"`points` must have shape (k, {basis.dimension}), got {points.shape}."
        )
    if points.shape[0] == 0:
        raise ValueError(f"`points` is empty (shape {points.shape}): give at least one point.")
    points = check_value(
        points,
        ~jnp.isfinite(points),
        "`points` contain NaN or inf; give finite sample points in the support of the "
        "inputs ([0, 1]^q for LegendreBasis).",
    )
    points = check_domain(basis, points)
    return jax.vmap(basis)(points)


def check_domain(basis: PolynomialBasis, points: Float[Array, "k q"]) -> Float[Array, "k q"]:
    """Value check: every column of `points` lies in the support of its marginal."""
    if basis.unit_cube():
        return check_value(
            points,
            (points < 0) | (points > 1),
            "`points` lie outside [0, 1]^q, the domain of the Legendre basis. Map the samples "
            "to the unit cube first (e.g. with jaxsci.dae.ParameterBox.inverse or (p - low) / "
            "(high - low)).",
        )
    outside = jnp.stack([~m.contains(points[:, j]) for j, m in enumerate(basis.marginals)], 1)
    supports = ", ".join(f"[{m.support[0]:g}, {m.support[1]:g}]" for m in basis.marginals)
    return check_value(
        points,
        outside,
        f"`points` lie outside the supports of the marginals ({supports}); give samples of "
        "the inputs in their own units (e.g. `basis.sample(key, n)`).",
    )


@eqx.filter_jit
def fit_polynomial(
    basis: PolynomialBasis,
    points: Float[Array, "k q"],
    values: Float[Array, "k r"],
) -> PolynomialChaos:
    r"""Least-squares polynomial regression (eq. 12) for all outputs at once.

    Solves $\min_{z_\ell} \|V z_\ell - b_\ell\|_2$ for $\ell = 1..r$ with ONE reduced QR
    factorisation $V = QR$ ($V$ is `(k, s)`, $k \ge s$): $Z = R^{-1} Q^\top B$. With
    $k = s$ this is interpolation (the paper's degree-4 case).

    **Arguments:** `basis` ($q$, $d$; any marginals); `points` $p^{(j)}$ in the support
    of the inputs ($[0,1]^q$ for `LegendreBasis`), shape `(k, q)`;
    `values` $B$ with rows $\hat a(p^{(j)})^\top$, shape `(k, r)` (or `(k,)` for one output).

    **Returns:** a `PolynomialChaos` (coefficients `(s, r)`, or `(s, 1)` for 1-D values).
    **Raises:** `ValueError` if $k < s$ or the shapes disagree (trace time);
    `EquinoxRuntimeError` (value checks, run time) for NaN/inf `points` or `values`,
    points outside $[0, 1]^q$, and a numerically rank-deficient $V$ (duplicated points).
    """
    values = as_float_array(values, "values")
    if values.ndim == 1:
        values = values[:, None]
    values = check_value(
        values,
        ~jnp.isfinite(values),
        "`values` contain NaN or inf (e.g. failed DAE samples); drop those rows (and "
        "their points) before fitting.",
    )
    v = vandermonde(basis, points)
    k, s = v.shape
    if values.ndim != 2 or values.shape[0] != k:
        raise ValueError(f"`values` must have shape ({k}, r), got {values.shape}.")
    if k < s:
        raise ValueError(
            f"degree {basis.degree} in {basis.dimension} variables has s = {s} basis "
            f"polynomials but only k = {k} samples were given; add samples or lower the "
            "degree (eq. 12 needs k >= s)."
        )
    v = v.astype(jnp.result_type(v.dtype, values.dtype))
    q, r = jnp.linalg.qr(v, mode="reduced")
    diag = jnp.abs(jnp.diagonal(r))
    tol = 100 * jnp.finfo(v.dtype).eps * jnp.max(diag) * max(k, s)
    r = eqx.error_if(
        r,
        jnp.min(diag) <= tol,
        "The Vandermonde matrix is rank deficient (duplicated or degenerate sample "
        "points); use more distinct samples or a lower degree.",
    )
    rhs = jnp.dot(q.T, values.astype(v.dtype), precision=jax.lax.Precision.HIGHEST)
    coeffs = jsl.solve_triangular(r, rhs, lower=False)
    return PolynomialChaos(basis=basis, coefficients=coeffs)


@eqx.filter_jit
def project_polynomial(
    basis: PolynomialBasis,
    rule: CubatureRule,
    values: Float[Array, "n r"],
) -> PolynomialChaos:
    r"""PCE coefficients by cubature, $\hat f_i = \langle f, \Phi_i \rangle \approx
    \sum_k w_k f(x_k) \Phi_i(x_k)$ (eq. 15; the non-intrusive method of [PNDS] section 4.1).

    Exact when $f \Phi_i$ is a polynomial of total degree at most the rule's degree (5 for
    `stroud5`), e.g. `basis.degree = 2` and $f$ of degree $\le 3$.

    **Arguments:** `basis`; `rule` with `n` nodes in `q = basis.dimension` variables;
    `values[k] = f(rule.nodes[k])`, shape `(n, r)` or `(n,)`.

    **Returns:** a `PolynomialChaos` with coefficients `(s, r)`.

    **Raises:** `ValueError` (trace time) if `values` does not have one row per node;
    `EquinoxRuntimeError` for NaN/inf `values`.
    """
    values = as_float_array(values, "values")
    if values.ndim == 1:
        values = values[:, None]
    values = check_value(
        values,
        ~jnp.isfinite(values),
        "`values` contain NaN or inf; the cubature sum would be NaN. Check the surrogate "
        "evaluated at the nodes.",
    )
    v = vandermonde(basis, rule.nodes)
    if values.ndim != 2 or values.shape[0] != v.shape[0]:
        raise ValueError(
            f"`values` must have shape ({v.shape[0]}, r) (one row per node), got "
            f"{values.shape}."
        )
    weighted = v * rule.weights[:, None]
    coeffs = jnp.dot(weighted.T, values, precision=jax.lax.Precision.HIGHEST)
    return PolynomialChaos(basis=basis, coefficients=coeffs)
