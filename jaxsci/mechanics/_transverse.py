r"""Transversely isotropic hyperelasticity: structure tensor, 6-tensor basis, TI TBGP.

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
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import lineax as lx
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .. import gp
from .._checks import require_positive_int
from .._misc import as_float_array, safe_norm
from .._solution import Solution
from ..kernels import AbstractKernel
from ._kinematics import (
    _got,
    _invariants,
    _sym_to_vec,
    _vec_to_sym,
    check,
    check_finite_value,
    check_tensor,
    check_vector,
    require_spd,
    require_symmetric,
)
from ._materials import MooneyRivlin, check_invariants, check_parameter, check_stress
from ._sampling import _dtype, sample_finger_tensor
from ._study import _check_test_set, _check_trials, fit_and_score_trials
from ._tbgp import check_batch, check_posterior, fit_gp_model, key_none_conditions

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


# ----------------------------------------------------------------------------- GPs


def _check_triples(Cs, gs, Ss):
    Cs = check_batch(Cs, "Cs", (3, 3), "right Cauchy-Green tensors")
    gs, Ss = jnp.asarray(gs), jnp.asarray(Ss)
    if gs.shape != (Cs.shape[0], 3):
        raise ValueError(f"`gs` must have shape ({Cs.shape[0]}, 3) to match `Cs`, got {gs.shape}.")
    if Ss.shape != Cs.shape:
        raise ValueError(f"`Ss` must match `Cs` with shape {Cs.shape}, got {Ss.shape}.")
    Cs, gs, Ss = (as_float_array(a, n) for a, n in ((Cs, "Cs"), (gs, "gs"), (Ss, "Ss")))
    dtype = jnp.result_type(Cs.dtype, gs.dtype, Ss.dtype)
    Cs, gs, Ss = Cs.astype(dtype), gs.astype(dtype), Ss.astype(dtype)
    Cs = jax.vmap(lambda C: require_spd(C, "Cs"))(Cs)
    gs = jax.vmap(lambda g: require_unit(g, "gs"))(gs)
    Ss = jax.vmap(lambda S: require_symmetric(S, "Ss"))(Ss)
    return Cs, gs, Ss


class TransverseTensorBasisGP(eqx.Module):
    """A fitted TI TBGP: a GP posterior from the invariants `(5,)` to the coefficients `(6,)`.

    Built by `fit_transverse_tbgp`; by hand, `posterior` must be a `jaxsci.gp.Posterior`
    with training points `(n, 5)` and weights `(n, 6)` (else `TypeError`/`ValueError`)."""

    posterior: gp.Posterior

    def __check_init__(self):
        check_posterior(self.posterior, "TransverseTensorBasisGP", 5, 6,
                        "5 invariants (transverse_invariants)", "the 6 coefficients of eq. 45",
                        "fit_transverse_tbgp")

    def coefficients(
        self, C: Float[ArrayLike, "3 3"], g: Float[ArrayLike, " 3"]
    ) -> tuple[Float[Array, " 6"], Float[Array, ""]]:
        """Predicted coefficients `(6,)` of eq. 45 and their shared posterior variance.

        **Raises:** as `__call__`."""
        return self._coefficients(*_checked_pair(C, g, positive_definite=True))

    def _coefficients(self, C, g):
        mean, var = gp.predict(self.posterior, _transverse_invariants(C, g)[None, :])
        return mean[0], var[0]

    def __call__(
        self, C: Float[ArrayLike, "3 3"], g: Float[ArrayLike, " 3"]
    ) -> tuple[Float[Array, "3 3"], Float[Array, "3 3"]]:
        r"""Predicted $S$ `(3, 3)` (eq. 45) and its component-wise variance
        $v\sum_k (A_k)_{ij}^2$ at one $(C, g)$.

        **Raises:** `ValueError` (trace time) for shapes other than `(3, 3)` / `(3,)`; at run
        time (tier 2) NaN/inf, a `C` that is not symmetric positive definite (a right
        Cauchy-Green tensor, as the fit requires) or a non-unit `g`."""
        C, g = _checked_pair(C, g, positive_definite=True)
        c, v = self._coefficients(C, g)
        A = _basis(C, jnp.outer(g, g))
        return jnp.tensordot(c, A, axes=1, precision=_HIGHEST), v * jnp.sum(A * A, axis=0)


@key_none_conditions
@eqx.filter_jit
def fit_transverse_tbgp(
    Cs: Float[ArrayLike, "n 3 3"],
    gs: Float[ArrayLike, "n 3"],
    Ss: Float[ArrayLike, "n 3 3"],
    *,
    key: PRNGKeyArray | None = None,
    kernel: AbstractKernel | None = None,
    fit_hyperparameters: bool = True,
    num_restarts: int = 20,
    noise: float = gp.DEFAULT_NOISE,
    throw: bool = True,
) -> Solution:
    r"""Fit a transversely isotropic TBGP to `(C, g, S)` triples (section 7, eqs. 44-45).

    Coefficients are extracted per triple (`transverse_extract_coefficients`), the GP
    inputs are the five invariants, and the hyperparameters maximise the summed log
    marginal likelihood of the six outputs (`jaxsci.gp.fit`). Every $C$ is checked
    symmetric positive definite, every $S$ symmetric and every $g$ unit at run time.

    **Arguments:**

    - `Cs (n, 3, 3)`: right Cauchy-Green tensors; `gs (n, 3)`: unit fibre directions;
      `Ss (n, 3, 3)`: second Piola-Kirchhoff stresses.
    - `key`, `kernel`, `fit_hyperparameters`, `num_restarts`, `noise`, `throw`: as in
      `fit_tbgp` (default kernel eq. 5, noise $10^{-10}$; `fit_hyperparameters=False`
      or `key=None` only conditions).

    **Returns:** a `jaxsci.Solution` with `value` a `TransverseTensorBasisGP`, and `result`
    and `stats` of `jaxsci.gp.fit`.

    **Raises:** `ValueError` at trace time for wrong or mismatched shapes or `n = 0`; at run
    time (`EquinoxRuntimeError`) for NaN/inf, a `C` that is not symmetric positive definite,
    a non-unit `g` or a non-symmetric `S`.
    """
    Cs, gs, Ss = _check_triples(Cs, gs, Ss)
    X = jax.vmap(_transverse_invariants)(Cs, gs)
    Y = jax.vmap(_transverse_extract_coefficients)(Cs, gs, Ss)
    return fit_gp_model(
        TransverseTensorBasisGP, kernel, X, Y, key=key, num_restarts=num_restarts, noise=noise,
        fit_hyperparameters=fit_hyperparameters, throw=throw,
    )


def _component_input(C, g):
    return jnp.concatenate([_sym_to_vec(C), _sym_to_vec(jnp.outer(g, g))])


class TransverseComponentGP(eqx.Module):
    """Component-wise baseline: 6 components of `C` and 6 of `G` -> 6 components of `S`.

    Built by `fit_transverse_component_gp`; by hand, `posterior` must be a
    `jaxsci.gp.Posterior` with training points `(n, 12)` and weights `(n, 6)` (else
    `TypeError`/`ValueError`)."""

    posterior: gp.Posterior

    def __check_init__(self):
        check_posterior(self.posterior, "TransverseComponentGP", 12, 6,
                        "6 components of C and 6 of G = g g^T", "the 6 components of S",
                        "fit_transverse_component_gp")

    def __call__(
        self, C: Float[ArrayLike, "3 3"], g: Float[ArrayLike, " 3"]
    ) -> tuple[Float[Array, "3 3"], Float[Array, "3 3"]]:
        """Predicted `S (3, 3)` and component-wise variance at one `(C, g)`.

        **Raises:** as `TransverseTensorBasisGP.__call__` (`C` symmetric positive definite,
        `g` a unit vector)."""
        C, g = _checked_pair(C, g, positive_definite=True)
        mean, var = gp.predict(self.posterior, _component_input(C, g)[None, :])
        return _vec_to_sym(mean[0]), jnp.full((3, 3), var[0])


@key_none_conditions
@eqx.filter_jit
def fit_transverse_component_gp(
    Cs: Float[ArrayLike, "n 3 3"],
    gs: Float[ArrayLike, "n 3"],
    Ss: Float[ArrayLike, "n 3 3"],
    *,
    key: PRNGKeyArray | None = None,
    kernel: AbstractKernel | None = None,
    fit_hyperparameters: bool = True,
    num_restarts: int = 20,
    noise: float = gp.DEFAULT_NOISE,
    throw: bool = True,
) -> Solution:
    """Fit the component-wise baseline for TI data (12 inputs: `C` and `G = g g^T`; 6 outputs).

    Arguments as `fit_transverse_tbgp`. **Returns:** a `jaxsci.Solution` with `value` a
    `TransverseComponentGP`.
    """
    Cs, gs, Ss = _check_triples(Cs, gs, Ss)
    X = jax.vmap(_component_input)(Cs, gs)
    Y = jax.vmap(_sym_to_vec)(Ss)
    return fit_gp_model(
        TransverseComponentGP, kernel, X, Y, key=key, num_restarts=num_restarts, noise=noise,
        fit_hyperparameters=fit_hyperparameters, throw=throw,
    )


# ----------------------------------------------------------------------------- data, studies


def sample_fibre_direction(*, key: PRNGKeyArray, dtype=None) -> Float[Array, " 3"]:
    """A unit vector uniform on the sphere (normalised Gaussian).

    **Raises:** `TypeError` for a non-floating `dtype`."""
    dtype = _dtype(dtype)
    v = jr.normal(key, (3,), dtype)
    return v / jnp.linalg.norm(v)


def sample_transverse_deformation(
    *, key: PRNGKeyArray, low: float = 1.0, high: float = 1.5, dtype=None
) -> tuple[Float[Array, "3 3"], Float[Array, " 3"]]:
    r"""$(C, g)$ with $C = F^T F$, $F = R U$, $U = Q\operatorname{diag}(\sqrt{\lambda})Q^T$:
    $C = Q\operatorname{diag}(\lambda)Q^T$, $Q$ Haar on SO(3), $\lambda_i \sim U[$`low`,
    `high`$]$ (the law of $B$ in eqs. 42-43, reused via `sample_finger_tensor`), and $g$
    uniform on the sphere, independent of $C$."""
    kc, kg = jr.split(key)
    C = sample_finger_tensor(key=kc, low=low, high=high, dtype=dtype)
    return C, sample_fibre_direction(key=kg, dtype=C.dtype)


def sample_transverse_deformations(
    n: int, *, key: PRNGKeyArray, low: float = 1.0, high: float = 1.5, dtype=None
) -> tuple[Float[Array, "n 3 3"], Float[Array, "n 3"]]:
    """`n` independent `sample_transverse_deformation` draws: `(Cs (n, 3, 3), gs (n, 3))`.

    **Raises:** as `sample_finger_tensor`; `n` must be a Python int `>= 0`."""
    n = require_positive_int(n, "n", minimum=0)
    return jax.vmap(lambda k: sample_transverse_deformation(key=k, low=low, high=high, dtype=dtype))(
        jr.split(key, n)
    )


def transverse_stress_rmse(
    model, Cs: Float[Array, "m 3 3"], gs: Float[Array, "m 3"], Ss: Float[Array, "m 3 3"]
) -> Float[Array, ""]:
    r"""RMSE over the 6 independent components of $S$ at `m` test points (mean prediction of
    a `TransverseTensorBasisGP` or `TransverseComponentGP`).

    **Raises:** `ValueError` (trace time) unless the shapes are `(m, 3, 3)`, `(m, 3)`,
    `(m, 3, 3)` with `m >= 1`; at run time NaN/inf in `Ss`, and the model's checks."""
    Cs, gs, Ss = _check_test_set(
        (Cs, gs, Ss), ("Cs", "gs", "Ss"), ((3, 3), (3,), (3, 3)), ("test tensors", "fibre directions", "test stresses")
    )
    P = jax.vmap(lambda C, g: model(C, g)[0])(Cs, gs)
    d = jax.vmap(_sym_to_vec)(P - Ss)
    return jnp.sqrt(jnp.mean(d * d))


@eqx.filter_jit
def transverse_stress_rmse_trials(
    fit: Callable,
    Cs: Float[Array, "t n 3 3"],
    gs: Float[Array, "t n 3"],
    Ss: Float[Array, "t n 3 3"],
    Cs_test: Float[Array, "m 3 3"],
    gs_test: Float[Array, "m 3"],
    Ss_test: Float[Array, "m 3 3"],
    *,
    key: PRNGKeyArray,
    num_restarts: int = 20,
) -> Float[Array, " t"]:
    """Fit `t` independent models (`fit_transverse_tbgp` or `fit_transverse_component_gp`,
    called with `throw=False`) under one `vmap` and return their test RMSEs `(t,)`.

    **Raises:** as `stress_rmse_trials` (shapes `(t, n, 3, 3)`, `(t, n, 3)`, `(t, n, 3, 3)`)."""
    Cs, gs, Ss = _check_trials((Cs, gs, Ss), ("Cs", "gs", "Ss"), ((3, 3), (3,), (3, 3)))
    Cs_test, gs_test, Ss_test = _check_test_set(
        (Cs_test, gs_test, Ss_test), ("Cs_test", "gs_test", "Ss_test"), ((3, 3), (3,), (3, 3)),
        ("test tensors", "fibre directions", "test stresses"),
    )
    return fit_and_score_trials(
        fit, (Cs, gs, Ss), lambda model: transverse_stress_rmse(model, Cs_test, gs_test, Ss_test),
        key=key, num_restarts=num_restarts,
    )
