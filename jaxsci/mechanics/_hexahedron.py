r"""8-node trilinear hexahedra: Gauss-Legendre rules, shape functions, linear-elastic element
stiffness with corrected quadrature weights (Oishi & Yagawa, *Computational mechanics
enhanced by deep learning*, CMAME 327 (2017); the deep-learning review, section 2.3.1).

Reference element $[-1, 1]^3$, node $a$ at $\hat\xi_a = (\mp1, \mp1, \mp1)$ in the order
$(-,-,-), (+,-,-), (+,+,-), (-,+,-), (-,-,+), (+,-,+), (+,+,+), (-,+,+)$, shape functions
$N_a(\xi) = \tfrac18 \prod_k (1 + \hat\xi_{a,k} \xi_k)$. Degrees of freedom are node-major
$(u_{0x}, u_{0y}, u_{0z}, u_{1x}, \dots)$, so the stiffness is $24 \times 24$:

$$K = \sum_g w_g\, r_g\, B_g^T D B_g \det J_g$$

with $D$ the isotropic elasticity matrix, $w_g$ the tensor Gauss-Legendre weights and $r_g$
optional correction factors (Method 2 of Oishi & Yagawa: $w^{opt}_g = r_g w^{GL}_g$).
Everything is pointwise in one element; batch with `jax.vmap` or `element_stiffnesses`.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_value, is_concrete, require_positive_int

_HIGHEST = jax.lax.Precision.HIGHEST
# reference coordinates of the 8 nodes (see the module docstring)
_CORNERS = np.array(
    [[-1, -1, -1], [1, -1, -1], [1, 1, -1], [-1, 1, -1],
     [-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]], dtype=np.float64
)
UNIT_CUBE = (_CORNERS + 1.0) / 2.0


def gauss_legendre(q: int, dtype=None) -> tuple[Float[Array, " q"], Float[Array, " q"]]:
    r"""The $q$-point Gauss-Legendre rule on $[-1, 1]$: `(points, weights)`, exact for
    polynomials of degree $\le 2q - 1$ (built with `numpy.polynomial.legendre.leggauss` at
    trace time)."""
    q = require_positive_int(q, "q")
    x, w = np.polynomial.legendre.leggauss(q)
    dtype = jnp.result_type(float) if dtype is None else dtype
    return jnp.asarray(x, dtype), jnp.asarray(w, dtype)


def tensor_gauss_legendre(q: int, dtype=None) -> tuple[Float[Array, "p 3"], Float[Array, " p"]]:
    r"""The $q \times q \times q$ tensor Gauss-Legendre rule on $[-1, 1]^3$, $p = q^3$ points
    (first coordinate fastest), weights $w_i w_j w_k$; exact for every monomial
    $\xi^a \eta^b \zeta^c$ with $a, b, c \le 2q - 1$."""
    q = require_positive_int(q, "q")
    x, w = np.polynomial.legendre.leggauss(q)
    pts = np.stack(np.meshgrid(x, x, x, indexing="ij")[::-1], axis=-1).reshape(-1, 3)
    wts = np.einsum("i,j,k->ijk", w, w, w).reshape(-1)
    dtype = jnp.result_type(float) if dtype is None else dtype
    return jnp.asarray(pts, dtype), jnp.asarray(wts, dtype)


def _check_xi(xi):
    xi = jnp.asarray(xi)
    if xi.shape != (3,):
        raise ValueError(
            f"`xi` must be one reference point of shape (3,), got shape {xi.shape}; vmap for "
            "many points."
        )
    if not jnp.issubdtype(xi.dtype, jnp.floating):
        xi = xi.astype(jnp.result_type(float))
    return xi


def hex_shape_functions(xi: Float[ArrayLike, " 3"]) -> Float[Array, " 8"]:
    r"""Trilinear shape functions $N_a(\xi) = \tfrac18\prod_k(1 + \hat\xi_{a,k}\xi_k)$ at one
    reference point `xi` (3,)."""
    xi = _check_xi(xi)
    c = jnp.asarray(_CORNERS, xi.dtype)
    return jnp.prod(1.0 + c * xi[None, :], axis=1) / 8.0


def hex_shape_derivatives(xi: Float[ArrayLike, " 3"]) -> Float[Array, "8 3"]:
    r"""$\partial N_a / \partial \xi_k$ (8, 3) at one reference point `xi` (3,)."""
    xi = _check_xi(xi)
    c = jnp.asarray(_CORNERS, xi.dtype)
    f = 1.0 + c * xi[None, :]  # (8, 3)
    cols = [c[:, 0] * f[:, 1] * f[:, 2], c[:, 1] * f[:, 0] * f[:, 2], c[:, 2] * f[:, 0] * f[:, 1]]
    return jnp.stack(cols, axis=1) / 8.0


def _check_nodes(nodes, name="nodes"):
    nodes = jnp.asarray(nodes)
    if nodes.shape != (8, 3):
        raise ValueError(
            f"`{name}` must be the (8, 3) nodal coordinates of one hexahedron, got shape "
            f"{nodes.shape}; vmap (or use `element_stiffnesses`) for many elements."
        )
    if not jnp.issubdtype(nodes.dtype, jnp.floating):
        nodes = nodes.astype(jnp.result_type(float))
    return nodes


def hex_jacobian(nodes: Float[ArrayLike, "8 3"], xi: Float[ArrayLike, " 3"]) -> Float[Array, "3 3"]:
    r"""Jacobian $J_{kl} = \partial x_l / \partial \xi_k = \sum_a \partial_k N_a\, x_{a,l}$
    of the map from the reference cube at `xi`; $\det J > 0$ for a valid element."""
    nodes = _check_nodes(nodes)
    return jnp.matmul(hex_shape_derivatives(xi).T.astype(nodes.dtype), nodes, precision=_HIGHEST)


class IsotropicElasticity(eqx.Module):
    r"""Isotropic linear elasticity: Young's modulus $E$ and Poisson's ratio $\nu$,
    $\lambda = E\nu / ((1+\nu)(1-2\nu))$, $\mu = E / (2(1+\nu))$; `matrix()` is the Voigt
    $6\times6$ $D$ (order $xx, yy, zz, yz, xz, xy$, engineering shear strains)."""

    youngs_modulus: Float[ArrayLike, ""] = 1.0
    poisson_ratio: Float[ArrayLike, ""] = 0.3

    def __check_init__(self):
        e, nu = self.youngs_modulus, self.poisson_ratio
        if is_concrete((e, nu)):
            if not (float(e) > 0 and -1.0 < float(nu) < 0.5):
                raise ValueError(
                    "`youngs_modulus` must be > 0 and `poisson_ratio` in (-1, 0.5), got "
                    f"{float(e)}, {float(nu)}; e.g. IsotropicElasticity(1.0, 0.3)."
                )

    def lame(self) -> tuple[Float[Array, ""], Float[Array, ""]]:
        r"""$(\lambda, \mu)$."""
        e, nu = jnp.asarray(self.youngs_modulus), jnp.asarray(self.poisson_ratio)
        bad = ~((e > 0) & (nu > -1) & (nu < 0.5))
        e = check_value(e, bad, "`youngs_modulus` must be > 0 and `poisson_ratio` in (-1, 0.5).")
        return e * nu / ((1 + nu) * (1 - 2 * nu)), e / (2 * (1 + nu))

    def matrix(self) -> Float[Array, "6 6"]:
        r"""$D = \lambda\, m m^T + \mu\, \mathrm{diag}(2, 2, 2, 1, 1, 1)$, $m = (1,1,1,0,0,0)$."""
        lam, mu = self.lame()
        m = jnp.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0], jnp.result_type(lam))
        return lam * m[:, None] * m[None, :] + mu * jnp.diag(
            jnp.array([2.0, 2.0, 2.0, 1.0, 1.0, 1.0], jnp.result_type(lam)))


def _check_material(material):
    if not isinstance(material, IsotropicElasticity):
        raise TypeError(
            "`material` must be a `jaxsci.mechanics.IsotropicElasticity`, got "
            f"{type(material).__name__}."
        )


def _cofactors(jac):
    """Cofactor matrices (..., 3, 3) of 3x3 matrices: row k is the cross product of the
    other two rows, so that det = <row 0, cof row 0> and inv = cof^T / det."""
    r0, r1, r2 = jac[..., 0, :], jac[..., 1, :], jac[..., 2, :]
    return jnp.stack([jnp.cross(r1, r2), jnp.cross(r2, r0), jnp.cross(r0, r1)], axis=-2)


def _det3(jac):
    return jnp.sum(jac[..., 0, :] * _cofactors(jac)[..., 0, :], axis=-1)


def _point_gradients(nodes, pts):
    """Physical shape-function gradients (p, 8, 3) and det J (p,) at reference points."""
    dn = jax.vmap(hex_shape_derivatives)(pts).astype(nodes.dtype)  # (p, 8, 3)
    jac = jnp.einsum("pak,al->pkl", dn, nodes, precision=_HIGHEST)
    # closed-form 3x3 inverse (adjugate / det): exact to rounding for the well-conditioned
    # Jacobians of valid elements, and a fraction of LU's cost when p = 27,000
    cof = _cofactors(jac)
    det = jnp.sum(jac[:, 0, :] * cof[:, 0, :], axis=-1)
    # dN_a/dx_l = sum_k dN_a/dxi_k (J^{-1})_{lk}, J^{-1} = cof^T / det
    grads = jnp.einsum("pak,pkl->pal", dn, cof, precision=_HIGHEST) / det[:, None, None]
    return grads, det


def _checked_gradients(nodes, pts):
    grads, det = _point_gradients(nodes, pts)
    # `~(det > 0)` rather than `det <= 0` so that NaN/inf coordinates are refused too
    det = check_value(det, ~(det > 0), "`nodes` give an inverted or non-finite element (det J "
                      "<= 0 or NaN at a quadrature point): check the node order, the "
                      "distortion and for NaN coordinates.")
    return grads, det


def _stiffness_from(grads, c, lam, mu):
    r"""$\sum_g c_g B_g^T D B_g$ through the isotropic identity
    $K_{ai,bj} = \sum_g c_g(\lambda G_{ai}G_{bj} + \mu G_{aj}G_{bi} + \mu\delta_{ij} G_a\cdot G_b)$,
    one (24 x p) (p x 24) product instead of p products with $D$ (6x fewer flops)."""
    g = grads.reshape(grads.shape[0], 24)
    a = jnp.matmul(g.T * c[None, :], g, precision=_HIGHEST).reshape(8, 3, 8, 3)
    dots = jnp.einsum("akbk->ab", a)
    eye = jnp.eye(3, dtype=a.dtype)
    k = lam * a + mu * jnp.swapaxes(a, 1, 3) + mu * dots[:, None, :, None] * eye[None, :, None, :]
    return k.reshape(24, 24)


def element_stiffness(
    nodes: Float[ArrayLike, "8 3"],
    material: IsotropicElasticity,
    q: int = 2,
    weights_factor: Float[ArrayLike, " p"] | None = None,
) -> Float[Array, "24 24"]:
    r"""Stiffness $K = \sum_g r_g w_g B_g^T D B_g \det J_g$ (24, 24) of one hexahedron with
    the $q^3$-point Gauss-Legendre rule.

    **Arguments:** `nodes` (8, 3) physical node coordinates (reference order of the module
    docstring); `material` an `IsotropicElasticity`; `q` points per direction (static);
    `weights_factor` optional $(q^3,)$ correction factors $r_g$ (Oishi & Yagawa Method 2:
    $w^{opt}_g = r_g w^{GL}_g$; the order of `tensor_gauss_legendre(q)`), default all ones.
    Differentiable in `nodes`, the material and `weights_factor`.
    """
    nodes = _check_nodes(nodes)
    _check_material(material)
    q = require_positive_int(q, "q")
    pts, w = tensor_gauss_legendre(q, nodes.dtype)
    if weights_factor is not None:
        r = jnp.asarray(weights_factor)
        if r.shape != (q**3,):
            raise ValueError(
                f"`weights_factor` must have shape ({q**3},) (one factor per point of the "
                f"{q}x{q}x{q} rule), got shape {r.shape}."
            )
        w = w * r
    grads, det = _checked_gradients(nodes, pts)
    lam, mu = material.lame()
    return _stiffness_from(grads, w * det, lam, mu)


def point_stiffnesses(
    nodes: Float[ArrayLike, "8 3"], material: IsotropicElasticity, q: int = 2
) -> Float[Array, "p 24 24"]:
    r"""The $p = q^3$ weighted point contributions $K_g = w_g B_g^T D B_g \det J_g$, so that
    $K(r) = \sum_g r_g K_g$ is linear in the correction factors (used by the random search)."""
    nodes = _check_nodes(nodes)
    _check_material(material)
    q = require_positive_int(q, "q")
    pts, w = tensor_gauss_legendre(q, nodes.dtype)
    grads, det = _checked_gradients(nodes, pts)
    lam, mu = material.lame()
    return jax.vmap(lambda g, c: _stiffness_from(g[None], c[None], lam, mu))(grads, w * det)


def element_stiffnesses(
    nodes: Float[ArrayLike, "n 8 3"],
    material: IsotropicElasticity,
    q: int = 2,
    chunk_size: int = 64,
) -> Float[Array, "n 24 24"]:
    r"""`element_stiffness` for many elements (n, 8, 3), vmapped in chunks of `chunk_size`
    elements (`lax.map(..., batch_size=)`) so that memory stays at
    $\approx$ `chunk_size` $\cdot q^3 \cdot 24 \cdot 8$ bytes whatever $n$ is."""
    nodes = jnp.asarray(nodes)
    if nodes.ndim != 3 or nodes.shape[1:] != (8, 3):
        raise ValueError(f"`nodes` must have shape (n, 8, 3), got shape {nodes.shape}.")
    chunk_size = require_positive_int(chunk_size, "chunk_size")
    return jax.lax.map(lambda x: element_stiffness(x, material, q), nodes, batch_size=chunk_size)


def _check_pair(k, k_ref):
    k, k_ref = jnp.asarray(k), jnp.asarray(k_ref)
    if k.shape[-2:] != k_ref.shape[-2:] or k.ndim < 2 or k.shape[-1] != k.shape[-2]:
        raise ValueError(
            f"`K` and `K_ref` must be square matrices of the same size, got shapes {k.shape} "
            f"and {k_ref.shape}."
        )
    return k, k_ref


def quadrature_error(K: Float[ArrayLike, "m m"], K_ref: Float[ArrayLike, "m m"]) -> Float[Array, ""]:
    r"""Oishi & Yagawa's error (review eq. 401):
    $e = \sum_{ij} |k_{ij} - k^{ref}_{ij}| \,/\, \max_{ij} |k^{ref}_{ij}|$, with $k^{ref}$
    the $q_{max} = 30$ integral."""
    K, K_ref = _check_pair(K, K_ref)
    if K.shape != K_ref.shape:
        raise ValueError(f"`K` {K.shape} and `K_ref` {K_ref.shape} must have the same shape.")
    return jnp.sum(jnp.abs(K - K_ref)) / jnp.max(jnp.abs(K_ref))


def error_ratio(
    nodes: Float[ArrayLike, "8 3"],
    material: IsotropicElasticity,
    weights_factor: Float[ArrayLike, " 8"],
    K_ref: Float[ArrayLike, "24 24"] | None = None,
    reference_order: int = 30,
) -> Float[Array, ""]:
    r"""$R_{error}$ (review eq. 402): $e(K^{2\times2\times2}(r)) / e(K^{2\times2\times2})$,
    the error with the corrected weights $r_g w_g$ over the error of plain 2x2x2 Gauss;
    $< 1$ means the factors improve the integral. `K_ref` (the $q_{max}$ stiffness) is
    computed with `reference_order` points per direction when not given."""
    nodes = _check_nodes(nodes)
    if K_ref is None:
        K_ref = element_stiffness(nodes, material, reference_order)
    plain = quadrature_error(element_stiffness(nodes, material, 2), K_ref)
    return quadrature_error(element_stiffness(nodes, material, 2, weights_factor), K_ref) / plain
