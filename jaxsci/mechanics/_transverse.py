r"""Transversely isotropic hyperelasticity: structure tensor, 6-tensor basis, materials.

Frankel et al. (first seed paper), section 7, eqs. 44-45. The second Piola-Kirchhoff
stress $S$ is a function of the right Cauchy-Green tensor $C = F^T F$ and a structure tensor
(eq. 44); for transverse isotropy about the unit fibre direction $g$, $G = g \otimes g$ and

$$S = \sum_{i=0}^{5} c_i A_i,\qquad A_i \in \{I,\ C,\ C^2,\ G,\ CG + GC,\ C^2 G + G C^2\}
\qquad\text{(eq. 45)}$$

with coefficients $c_i$ functions of the invariants. The paper lists the invariant set
$\{\operatorname{tr}C, \operatorname{tr}C^2, \operatorname{tr}C^3, \operatorname{tr}CG,
\operatorname{tr}C^2G\}$; we use the equivalent (polynomially inter-convertible) standard set

$$I_1 = \operatorname{tr}C,\ I_2 = \tfrac12[(\operatorname{tr}C)^2 - \operatorname{tr}C^2],\
I_3 = \det C,\ I_4 = g\cdot Cg = \operatorname{tr}(CG),\ I_5 = g \cdot C^2 g =
\operatorname{tr}(C^2 G),$$

all polynomial in the entries of $C$ and $g$ (finite gradients everywhere).

**Coefficients from data.** The paper: "the expansion gives six equations for the six
unknowns". We solve the least-squares problem $\min_c \lVert S - \sum_i c_i A_i\rVert_F$,
whose normal equations are the $6\times 6$ Gram system $\sum_j (A_i : A_j)\, c_j = A_i : S$.
The Gram matrix is singular whenever the basis degenerates (e.g. $g$ along an eigenvector of
$C$: every $A_i$ is then diagonal in $C$'s eigenbasis; or $C = \lambda I$), and badly
scaled near $C = I$ where $I, C, C^2$ are almost parallel. So (i) we expand in the shifted
basis $\{I, E, E^2, G, EG+GE, E^2G+GE^2\}$ with $E = C - \tfrac{I_1}{3} I$ and map back exactly
(the analogue of the Newton form used for the isotropic eq. 23), (ii) normalise the
columns (but not below $\epsilon^{1/4}$ of their natural size $1, \lVert C\rVert,
\lVert C\rVert^2$), and (iii) solve the Tikhonov-regularised problem
$\min \lVert \hat A d - s\rVert^2 + \tau^2\lVert d\rVert^2$ by QR of the stacked matrix
$[\hat A; \tau I]$ (`lineax.QR`; never forms the Gram matrix, full column rank by
construction, differentiable), $\tau = \epsilon_{mach}^{3/4}$. For a well-posed basis this is
the exact solution up to a relative bias $\tau^2/\sigma_{\min}^2$ (negligible down to
$\sigma_{\min} \sim 10^{-9}$ in float64); on degenerate directions it returns the
minimum-norm coefficients (as eqs. 24-25 set the redundant isotropic coefficients to zero)
instead of blowing up: round-off in $S$ moves a coefficient by at most
$\epsilon/(2\tau\,\epsilon^{1/4})\lVert S\rVert = \lVert S\rVert/2$. (A larger
$\tau = \sqrt{\epsilon}$ leaked its bias from the large coefficients into those of small
columns: coefficient errors up to 1 on near-degenerate samples, see docs/mechanics.md.)

**Materials.** Any strain energy $\Phi(I_1, \dots, I_5)$ gives $S = 2\,\partial\Phi/\partial C$
(autodiff over the full matrix, symmetrised); in closed form

$$S = 2\big[(\Phi_1 + I_1\Phi_2 + I_2\Phi_3) I - (\Phi_2 + I_1\Phi_3) C + \Phi_3 C^2 +
\Phi_4 G + \Phi_5 (CG + GC)\big],$$

using $I_3 C^{-1} = C^2 - I_1 C + I_2 I$ (Cayley-Hamilton), so $c_5 = 0$ for hyperelastic
materials; the sixth basis tensor is needed for general (non-potential) responses.

The TI GPs (TBGP and component GP) fitted on these are in `_transverse_gp`.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array, ArrayLike, Float

from .._misc import safe_norm
from ._kinematics import (
    _got,
    _invariants,
    _sym_to_vec,
    check,
    check_finite_value,
    check_tensor,
    check_vector,
    require_spd,
    require_symmetric,
)
from ._materials import MooneyRivlin, check_invariants, check_parameter, check_stress

_HIGHEST = jax.lax.Precision.HIGHEST
_SQRT2 = 2.0**0.5

EnergyFn5 = Callable[[Float[Array, " 5"]], Float[Array, ""]]

# ----------------------------------------------------------------------------- kinematics


def check_fibre(g: Float[ArrayLike, " 3"], name: str = "g") -> Float[Array, " 3"]:
    """Trace-time check that `g` is one 3-vector (DESIGN rule 6, tier 1)."""
    return check_vector(g, name, 3, "one unit fibre direction; vmap over a batch")


def require_unit(g, name: str = "g"):
    r"""Tier 2: `g` finite with $|\lVert g\rVert^2 - 1| \le 2\sqrt{\epsilon}$."""
    bad = ~(jnp.abs(jnp.sum(g * g) - 1.0) <= 2 * jnp.sqrt(jnp.finfo(g.dtype).eps))
    return check(
        g,
        bad,
        f"`{name}` is not a unit vector (or has NaN/inf){{got}}; pass g / jnp.linalg.norm(g).",
        lambda: _got(g),
    )


def _checked_pair(C, g, positive_definite=False):
    C, g = _common(check_tensor(C, "C"), check_fibre(g))
    return require_spd(C, "C", positive_definite), require_unit(g)


def _common(C, g):
    dtype = jnp.promote_types(C.dtype, g.dtype)
    return C.astype(dtype), g.astype(dtype)


def structure_tensor(g: Float[ArrayLike, " 3"]) -> Float[Array, "3 3"]:
    r"""$G = g \otimes g$ for a unit fibre direction $g$ (section 7).

    Raises at run time (tier 2) if $g$ has NaN/inf or $|\lVert g\rVert^2 - 1| > 2\sqrt{\epsilon}$: pass
    `g / jnp.linalg.norm(g)`.
    """
    return jnp.outer(*(require_unit(check_fibre(g)),) * 2)


def _transverse_invariants(C, g):
    G = jnp.outer(g, g)
    I4 = jnp.sum(G * C)  # tr(CG) = g.Cg
    I5 = jnp.sum(G * jnp.matmul(C, C, precision=_HIGHEST))  # tr(C^2 G) = g.C^2 g
    return jnp.concatenate([_invariants(C), jnp.stack([I4, I5])])


def transverse_invariants(C: Float[ArrayLike, "3 3"], g: Float[ArrayLike, " 3"]) -> Float[Array, " 5"]:
    r"""$(I_1, I_2, I_3, I_4, I_5)$ of $(C, G = g\otimes g)$: eq. 16 for $C$, then
    $I_4 = g\cdot Cg$, $I_5 = g\cdot C^2 g$ (section 7). Polynomial, smooth everywhere.

    **Raises:** `ValueError` (trace time) for shapes other than `(3, 3)` / `(3,)`; at run
    time (tier 2: `ValueError` eagerly, `EquinoxRuntimeError` under `jit`/`vmap`) NaN/inf,
    a non-symmetric `C` or a non-unit `g`."""
    return _transverse_invariants(*_checked_pair(C, g))


def _basis(C, G):
    eye = jnp.eye(3, dtype=C.dtype)
    C2 = jnp.matmul(C, C, precision=_HIGHEST)
    CG = jnp.matmul(C, G, precision=_HIGHEST)
    C2G = jnp.matmul(C2, G, precision=_HIGHEST)
    return jnp.stack([eye, C, C2, G, CG + CG.T, C2G + C2G.T])


def transverse_tensor_basis(C: Float[ArrayLike, "3 3"], g: Float[ArrayLike, " 3"]) -> Float[Array, "6 3 3"]:
    r"""$\{I, C, C^2, G, CG+GC, C^2G+GC^2\}$ (eq. 45), stacked on the leading axis.

    ($GC = (CG)^T$ and $GC^2 = (C^2G)^T$ for symmetric $C$.)

    **Raises:** as `transverse_invariants`."""
    C, g = _checked_pair(C, g)
    return _basis(C, jnp.outer(g, g))


def transverse_expand(
    coefficients: Float[ArrayLike, " 6"], C: Float[ArrayLike, "3 3"], g: Float[ArrayLike, " 3"]
) -> Float[Array, "3 3"]:
    r"""$S = \sum_{i=0}^5 c_i A_i$ (eq. 45).

    **Raises:** `ValueError` for `coefficients` not of shape `(6,)`, NaN/inf in them (tier
    2); as `transverse_invariants` for `C`, `g`."""
    c = check_finite_value(check_vector(coefficients, "coefficients", 6), "coefficients")
    A = transverse_tensor_basis(C, g)
    return jnp.tensordot(c.astype(A.dtype), A, axes=1, precision=_HIGHEST)


def _mandel(A):
    v = _sym_to_vec(A)
    return v * jnp.array([1.0, 1.0, 1.0, _SQRT2, _SQRT2, _SQRT2], v.dtype)


def transverse_extract_coefficients(
    C: Float[ArrayLike, "3 3"],
    g: Float[ArrayLike, " 3"],
    S: Float[ArrayLike, "3 3"],
    *,
    tau: float | None = None,
) -> Float[Array, " 6"]:
    r"""Coefficients $c$ of $S = \sum_i c_i A_i$ (eq. 45) for one $(C, g, S)$ triple.

    Regularised least squares in the Frobenius inner product (Mandel vectors), in the
    shifted basis $E = C - \tfrac{I_1}{3}I$, by QR of $[\hat A; \tau I]$ (module docs): exact
    for a linearly independent basis, bounded minimum-norm coefficients when it degenerates.
    `tau`: Tikhonov parameter relative to unit-norm basis columns, default
    $\epsilon_{mach}^{3/4}$ (raise it for noisy `S`). Pointwise: vmap over triples.

    **Raises:** as `transverse_invariants`; at run time NaN/inf or asymmetry in `S`, `tau`
    not positive and finite.
    """
    C, g = _checked_pair(C, g)
    S = require_symmetric(check_tensor(S, "S").astype(C.dtype), "S")
    if tau is not None:
        tau = check(
            jnp.asarray(tau, C.dtype),
            ~(jnp.isfinite(tau) & (jnp.asarray(tau) > 0)),
            "`tau` (the Tikhonov parameter) must be positive and finite{got}; leave it None "
            "for the default eps**0.75.",
            lambda: _got(tau),
        )
    return _transverse_extract_coefficients(C, g, S, tau)


def _transverse_extract_coefficients(C, g, S, tau=None):
    C = 0.5 * (C + C.T)
    G = jnp.outer(g, g)
    eps = jnp.finfo(C.dtype).eps
    tau = eps**0.75 if tau is None else tau
    m = jnp.trace(C) / 3.0
    A = jax.vmap(_mandel)(_basis(C - m * jnp.eye(3, dtype=C.dtype), G)).T  # (6 comps, 6 basis)
    # Columns are normalised for scale invariance, but not below eps^(1/4) of their natural
    # size: a vanishing column (E -> 0) is then not blown up to unit length, and round-off in
    # S (~eps |S|) can move a coefficient by at most eps / (2 tau floor) |S| = |S| / 2.
    n = jnp.sqrt(jnp.sum(C * C))
    ref = jnp.stack([1.0, n, n * n, 1.0, n, n * n]).astype(C.dtype)
    scale = jnp.maximum(safe_norm(A, axis=0), eps**0.25 * ref)
    aug = jnp.concatenate([A / scale[None, :], tau * jnp.eye(6, dtype=C.dtype)])
    rhs = jnp.concatenate([_mandel(0.5 * (S + S.T)), jnp.zeros(6, C.dtype)])
    d = lx.linear_solve(lx.MatrixLinearOperator(aug), rhs, lx.QR()).value / scale
    # Back to eq. 45's basis: E = C - mI, E^2 = C^2 - 2mC + m^2 I, EG+GE = (CG+GC) - 2mG,
    # E^2G+GE^2 = (C^2G+GC^2) - 2m(CG+GC) + 2m^2 G.
    return jnp.stack(
        [
            d[0] - m * d[1] + m * m * d[2],
            d[1] - 2 * m * d[2],
            d[2],
            d[3] - 2 * m * d[4] + 2 * m * m * d[5],
            d[4] - 2 * m * d[5],
            d[5],
        ]
    )


# ----------------------------------------------------------------------------- materials


class FibreReinforcedMooneyRivlin(eqx.Module):
    r"""A transversely isotropic strain energy: Mooney-Rivlin matrix (eq. 41) plus fibres,

    $$\Phi = \Phi_{MR}(I_1, I_2, I_3) + \frac{k_f}{2 a_f}\Big(e^{a_f (I_4 - 1)^2} - 1\Big)
    + \frac{k_s}{2}\,(I_5 - I_4^2).$$

    The fibre term is the Holzapfel-Gasser-Ogden exponential (active in tension and
    compression here, so the energy is smooth); $I_5 - I_4^2 = \lVert Cg\rVert^2 -
    (g\cdot Cg)^2 \ge 0$ measures fibre-matrix shear (zero when $g$ is an eigenvector of
    $C$). Both vanish with zero stress at $C = I$. Parameters: `matrix` (default
    `MooneyRivlin()`, MPa), `k_fibre` $k_f$ = 1.0 MPa, `a_fibre` $a_f$ = 1.0
    (dimensionless), `k_shear` $k_s$ = 0.1 MPa; illustrative values, not fitted to a
    tissue. Call with the invariants `(5,)` (`transverse_invariants`).

    **Raises:** `ValueError` (eagerly; `EquinoxRuntimeError` for traced parameters) unless
    `matrix` is a `MooneyRivlin`, `k_fibre`, `k_shear` $\ge 0$ and `a_fibre` $> 0$ (it
    divides), all finite; calling it at invariants with NaN/inf or $I_3 \le 0$ raises at
    run time.
    """

    matrix: MooneyRivlin = MooneyRivlin()
    k_fibre: float | Float[Array, ""] = 1.0
    a_fibre: float | Float[Array, ""] = 1.0
    k_shear: float | Float[Array, ""] = 0.1

    def __post_init__(self):
        if not isinstance(self.matrix, MooneyRivlin):
            raise TypeError(f"`matrix` must be a MooneyRivlin, got {type(self.matrix).__name__}.")
        self.k_fibre = check_parameter(self.k_fibre, "k_fibre", positive=False, what="fibre stiffness")
        self.a_fibre = check_parameter(self.a_fibre, "a_fibre", positive=True, what="fibre exponent")
        self.k_shear = check_parameter(self.k_shear, "k_shear", positive=False, what="fibre-shear stiffness")

    def __call__(self, I: Float[Array, " 5"]) -> Float[Array, ""]:
        I = check_invariants(I, size=5)
        I4, I5 = I[3], I[4]
        fibre = self.k_fibre / (2 * self.a_fibre) * jnp.expm1(self.a_fibre * (I4 - 1.0) ** 2)
        return self.matrix(I[:3]) + fibre + 0.5 * self.k_shear * (I5 - I4 * I4)


def transverse_pk2_stress(energy: EnergyFn5, C: Float[ArrayLike, "3 3"], g: Float[ArrayLike, " 3"]) -> Float[Array, "3 3"]:
    r"""Second Piola-Kirchhoff stress $S = 2\,\partial\Phi/\partial C$ by autodiff.

    `energy` is any callable on the invariants `(5,)` of `transverse_invariants`. $C$ must be
    symmetric positive definite and $g$ a unit vector.

    **Raises:** `ValueError` (trace time) for wrong shapes; at run time (tier 2) if `C` is
    not finite, symmetric and positive definite, `g` is not a unit vector, or the stress is
    not finite.
    """
    C, g = _checked_pair(C, g, positive_definite=True)
    dphi = jax.grad(lambda C_: energy(_transverse_invariants(C_, g)))(C)
    return check_stress(dphi + dphi.T, "PK2 stress")  # 2 * symmetric part


def transverse_coefficients_from_energy_gradient(
    I: Float[ArrayLike, " 5"], dphi: Float[ArrayLike, " 5"]
) -> Float[Array, " 6"]:
    r"""Coefficients of eq. 45 from $\nabla_I\Phi$ (module docs):
    $c = 2(\Phi_1 + I_1\Phi_2 + I_2\Phi_3,\ -\Phi_2 - I_1\Phi_3,\ \Phi_3,\ \Phi_4,\ \Phi_5,\ 0)$.

    **Raises:** `ValueError` (trace time) for shapes other than `(5,)`; at run time NaN/inf
    in `I` or `dphi`, or $I_3 \le 0$."""
    I = check_invariants(I, size=5)
    d = check_finite_value(check_vector(dphi, "dphi", 5, "dPhi/dI"), "dphi")
    return _transverse_coefficients(I, d)


def _transverse_coefficients(I, d):
    I1, I2 = I[0], I[1]
    return 2.0 * jnp.stack(
        [d[0] + I1 * d[1] + I2 * d[2], -d[1] - I1 * d[2], d[2], d[3], d[4], jnp.zeros_like(d[0])]
    )


def transverse_pk2_stress_closed_form(
    energy: EnergyFn5, C: Float[ArrayLike, "3 3"], g: Float[ArrayLike, " 3"]
) -> Float[Array, "3 3"]:
    """$S$ from the closed-form coefficients (cross-check of `transverse_pk2_stress`).

    **Raises:** as `transverse_pk2_stress`."""
    C, g = _checked_pair(C, g, positive_definite=True)
    I = _transverse_invariants(C, g)
    c = _transverse_coefficients(I, jax.grad(energy)(I))
    S = jnp.tensordot(c, _basis(C, jnp.outer(g, g)), axes=1, precision=_HIGHEST)
    return check_stress(S, "PK2 stress")
