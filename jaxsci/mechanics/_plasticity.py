r"""Rate-independent small-strain elastoplasticity by radial return mapping.

Simo & Hughes, *Computational Inelasticity* (Springer 1998): 1-D plasticity with combined
linear isotropic and kinematic hardening (chapter 1, the 1-D return-mapping box) and 3-D J2
(von Mises) plasticity with the same hardening (Box 3.1, the radial return; Box 3.2, the
algorithmic consistent tangent). Review seed §11 (Wang & Sun 2018) uses
such path-dependent stress-strain data for an LSTM surrogate.

One strain increment at one material point: `return_map(material, state, strain_new) ->
(stress, new_state)`, with the strain **total** (not the increment) at the end of the step;
`stress_path(material, strains)` drives a whole path by `jax.lax.scan`; batches of paths by
`jax.vmap` over `strains`. The state is a `PlasticState` (plastic strain $\varepsilon^p$,
equivalent plastic strain $\alpha$, back stress $\beta$).

1-D (Simo & Hughes ch. 1; $E$ Young's modulus, $\sigma_y$ initial yield stress, $K$ isotropic and $H$
kinematic hardening moduli):
$$\sigma^{tr} = E(\varepsilon_{n+1} - \varepsilon^p_n),\ \xi^{tr} = \sigma^{tr} - \beta_n,\
f^{tr} = |\xi^{tr}| - (\sigma_y + K\alpha_n),\
\Delta\gamma = \frac{\langle f^{tr}\rangle}{E + K + H},$$
$$\sigma = \sigma^{tr} - E\Delta\gamma\,\mathrm{sign}\,\xi^{tr},\
\varepsilon^p \mathrel{+}= \Delta\gamma\,\mathrm{sign}\,\xi^{tr},\
\beta \mathrel{+}= H\Delta\gamma\,\mathrm{sign}\,\xi^{tr},\ \alpha \mathrel{+}= \Delta\gamma.$$
Uniaxial monotonic response: $\sigma = \sigma_y + \frac{E(K+H)}{E+K+H}(\varepsilon - \sigma_y/E)$
beyond yield; consistent tangent $E(K+H)/(E+K+H)$ on plastic steps, $E$ on elastic ones.

3-D J2 (Box 3.1; shear modulus $\mu$, bulk modulus $\kappa$; $\mathrm{dev}$ the deviator):
$$s^{tr} = 2\mu\,\mathrm{dev}(\varepsilon_{n+1} - \varepsilon^p_n),\ \xi^{tr} = s^{tr} -
\beta_n,\ f^{tr} = \|\xi^{tr}\| - \sqrt{2/3}\,(\sigma_y + K\alpha_n),\
\Delta\gamma = \frac{\langle f^{tr}\rangle}{2\mu + \tfrac23(K + H)},\ n = \xi^{tr}/\|\xi^{tr}\|,$$
$$\sigma = \kappa\,\mathrm{tr}(\varepsilon_{n+1})\,1 + s^{tr} - 2\mu\Delta\gamma\,n,\
\varepsilon^p \mathrel{+}= \Delta\gamma\,n,\ \alpha \mathrel{+}= \sqrt{2/3}\,\Delta\gamma,\
\beta \mathrel{+}= \tfrac23 H\Delta\gamma\,n.$$
Under uniaxial stress it reproduces the 1-D model with the same $E, \sigma_y, K, H$.
Consistent tangent (Box 3.2): $\mathbb C = \kappa\,1\otimes1 + 2\mu\theta\,\mathbb I_{dev}
- 2\mu\bar\theta\,n\otimes n$, $\theta = 1 - 2\mu\Delta\gamma/\|\xi^{tr}\|$,
$\bar\theta = (1 + (K+H)/(3\mu))^{-1} - (1 - \theta)$.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_value
from .._misc import safe_norm
from ._kinematics import check_finite_value, check_tensor, require_symmetric
from ._materials import check_parameter

_SQRT23 = (2.0 / 3.0) ** 0.5


class PlasticState(eqx.Module):
    r"""Internal variables of one material point: plastic strain `eps_p` ($\varepsilon^p$),
    equivalent plastic strain `alpha` ($\alpha \ge 0$, drives isotropic hardening) and back
    stress `beta` ($\beta$, kinematic hardening). Scalars in 1-D, `(3, 3)` symmetric
    (`alpha` a scalar) in 3-D. Build the virgin state with `initial_state(material)`.
    """

    eps_p: Float[Array, "*t"]
    alpha: Float[Array, ""]
    beta: Float[Array, "*t"]


def _params(m, names):
    for name, positive, what in names:
        setattr(m, name, check_parameter(getattr(m, name), name, positive=positive, what=what))


_COMMON = [
    ("E", True, "Young's modulus"),
    ("sigma_y", True, "initial yield stress"),
    ("K", False, "linear isotropic hardening modulus"),
    ("H", False, "linear kinematic hardening modulus"),
]


class Plasticity1D(eqx.Module):
    r"""1-D rate-independent plasticity, linear isotropic (`K`) + kinematic (`H`) hardening
    (Simo & Hughes ch. 1). `H = 0`: purely isotropic; `K = 0`: purely kinematic
    (Prager), showing the Bauschinger effect (reverse yield at $\sigma_{max} - 2\sigma_y$).
    Defaults (MPa): steel-like $E = 200\,000$, $\sigma_y = 250$, $K = 5000$, $H = 5000$.

    **Raises:** `ValueError` (eagerly; `EquinoxRuntimeError` when traced) unless $E,
    \sigma_y > 0$ and $K, H \ge 0$, all finite.
    """

    E: float | Float[Array, ""] = 200_000.0
    sigma_y: float | Float[Array, ""] = 250.0
    K: float | Float[Array, ""] = 5000.0
    H: float | Float[Array, ""] = 5000.0

    def __post_init__(self):
        _params(self, _COMMON)


class J2Plasticity(eqx.Module):
    r"""3-D small-strain J2 (von Mises) plasticity with linear isotropic (`K`) and linear
    kinematic (`H`, Prager) hardening, isotropic elasticity ($E$, Poisson ratio $\nu$);
    radial return of Simo & Hughes Box 3.1. Defaults as `Plasticity1D`, $\nu = 0.3$.

    **Raises:** `ValueError` (eagerly; `EquinoxRuntimeError` when traced) unless $E,
    \sigma_y > 0$, $K, H \ge 0$ and $-1 < \nu < 1/2$, all finite.
    """

    E: float | Float[Array, ""] = 200_000.0
    nu: float | Float[Array, ""] = 0.3
    sigma_y: float | Float[Array, ""] = 250.0
    K: float | Float[Array, ""] = 5000.0
    H: float | Float[Array, ""] = 5000.0

    def __post_init__(self):
        _params(self, _COMMON)
        nu = jnp.asarray(self.nu) if not isinstance(self.nu, (int, float)) else self.nu
        msg = "`nu` (Poisson ratio) must be finite and in (-1, 0.5), got {}; use a value in that range."
        if isinstance(nu, (int, float)) and not isinstance(nu, bool):
            if not -1.0 < nu < 0.5:
                raise ValueError(msg.format(nu))
        else:
            self.nu = check_value(self.nu, ~((nu > -1.0) & (nu < 0.5)), msg.format("a traced or array value"))

    @property
    def mu(self):
        return self.E / (2.0 * (1.0 + self.nu))

    @property
    def kappa(self):
        return self.E / (3.0 * (1.0 - 2.0 * self.nu))


def _check_material(material, fn: str):
    if not isinstance(material, (Plasticity1D, J2Plasticity)):
        raise TypeError(
            f"`material` of `{fn}` must be a `Plasticity1D` or a `J2Plasticity`, got "
            f"{type(material).__name__}."
        )


def initial_state(material: Plasticity1D | J2Plasticity, dtype=None) -> PlasticState:
    """The virgin `PlasticState` (all zero) of `material`: scalars for `Plasticity1D`, `(3, 3)`
    tensors for `J2Plasticity`. `dtype` defaults to JAX's default float (float64 with x64)."""
    _check_material(material, "initial_state")
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"`dtype` of `initial_state` must be a floating dtype, got {dtype}.")
    shape = () if isinstance(material, Plasticity1D) else (3, 3)
    z = jnp.zeros(shape, dtype)
    return PlasticState(z, jnp.zeros((), dtype), z)


def _check_state(material, state, dtype):
    if not isinstance(state, PlasticState):
        raise TypeError(
            f"`state` must be a `PlasticState` (start from `initial_state(material)`), got "
            f"{type(state).__name__}."
        )
    shape = () if isinstance(material, Plasticity1D) else (3, 3)
    for name in ("eps_p", "beta"):
        got = jnp.shape(getattr(state, name))
        if got != shape:
            raise ValueError(
                f"`state.{name}` must have shape {shape} for a {type(material).__name__}, got "
                f"{got}; build the state with `initial_state(material)`."
            )
    if jnp.shape(state.alpha) != ():
        raise ValueError(f"`state.alpha` must be a scalar, got shape {jnp.shape(state.alpha)}.")
    return jax.tree.map(lambda x: jnp.asarray(x, dtype), state)


def _check_strain(material, strain, name="strain_new"):
    if isinstance(material, Plasticity1D):
        strain = jnp.asarray(strain)
        if strain.shape != ():
            raise ValueError(
                f"`{name}` must be a scalar (the total 1-D strain) for a `Plasticity1D`, got "
                f"shape {strain.shape}; `stress_path` runs a whole path."
            )
        if not jnp.issubdtype(strain.dtype, jnp.floating):
            strain = strain.astype(jnp.result_type(float))
        return check_finite_value(strain, name)
    strain = check_tensor(strain, name)
    return require_symmetric(strain, name)


def _return_map_1d(m, state, eps):
    sig_tr = m.E * (eps - state.eps_p)
    xi = sig_tr - state.beta
    f_tr = jnp.abs(xi) - (m.sigma_y + m.K * state.alpha)
    dgamma = jnp.maximum(f_tr, 0.0) / (m.E + m.K + m.H)
    sgn = jnp.sign(xi)
    stress = sig_tr - m.E * dgamma * sgn
    new = PlasticState(state.eps_p + dgamma * sgn, state.alpha + dgamma, state.beta + m.H * dgamma * sgn)
    return stress, new


def _dev(a):
    return a - jnp.trace(a) / 3.0 * jnp.eye(3, dtype=a.dtype)


def _return_map_3d(m, state, eps):
    mu, kappa = m.mu, m.kappa
    s_tr = 2.0 * mu * _dev(eps - state.eps_p)
    xi = s_tr - state.beta
    nrm = safe_norm(xi)
    f_tr = nrm - _SQRT23 * (m.sigma_y + m.K * state.alpha)
    dgamma = jnp.maximum(f_tr, 0.0) / (2.0 * mu + 2.0 / 3.0 * (m.K + m.H))
    # Where f_tr <= 0 (in particular at xi = 0) dgamma = 0, and n is never used; the guard keeps
    # its gradient finite there.
    n = xi / jnp.where(nrm > 0, nrm, 1.0)
    stress = kappa * jnp.trace(eps) * jnp.eye(3, dtype=eps.dtype) + s_tr - 2.0 * mu * dgamma * n
    new = PlasticState(
        state.eps_p + dgamma * n,
        state.alpha + _SQRT23 * dgamma,
        state.beta + 2.0 / 3.0 * m.H * dgamma * n,
    )
    return stress, new


def _return_map(material, state, strain):
    if isinstance(material, Plasticity1D):
        return _return_map_1d(material, state, strain)
    return _return_map_3d(material, state, strain)


def return_map(
    material: Plasticity1D | J2Plasticity,
    state: PlasticState,
    strain_new: Float[ArrayLike, ""] | Float[ArrayLike, "3 3"],
) -> tuple[Float[Array, ""] | Float[Array, "3 3"], PlasticState]:
    r"""One strain-driven step of the radial return (Simo & Hughes ch. 1 in 1-D, Box 3.1 in
    3-D): given the converged `state` at $t_n$ and the total strain `strain_new` at $t_{n+1}$
    (a scalar for `Plasticity1D`, a symmetric `(3, 3)` tensor for `J2Plasticity`), returns
    `(stress, new_state)`. The elastic predictor is returned unchanged when the trial yield
    function is $\le 0$. Differentiable: `jax.grad`/`jax.jacfwd` of the stress with respect to
    `strain_new` is the algorithmic consistent tangent (`consistent_tangent`).

    **Raises:** `TypeError` for a `material` that is not a plasticity model or a `state` that is
    not a `PlasticState`; `ValueError` (trace time) for wrong shapes; at run time
    (`ValueError` eagerly, `EquinoxRuntimeError` under `jit`) NaN/inf or (3-D) a non-symmetric
    strain.
    """
    _check_material(material, "return_map")
    strain_new = _check_strain(material, strain_new)
    state = _check_state(material, state, strain_new.dtype)
    return _return_map(material, state, strain_new)


def stress_path(
    material: Plasticity1D | J2Plasticity,
    strains: Float[ArrayLike, " steps"] | Float[ArrayLike, "steps 3 3"],
    state0: PlasticState | None = None,
) -> tuple[Float[Array, " steps"] | Float[Array, "steps 3 3"], PlasticState]:
    r"""Stress along a strain path: `return_map` step after step under `jax.lax.scan`.

    **Arguments:** `strains` the total strain at each step, `(steps,)` for `Plasticity1D`,
    `(steps, 3, 3)` for `J2Plasticity` (the path starts from `state0`, default the virgin
    state, so `strains[0]` is the first increment's end point); `state0` a `PlasticState`.

    **Returns:** `(stresses, states)`: the stress after every step (same shape as `strains`)
    and the `PlasticState` after every step, stacked on a leading `steps` axis. Batch many
    paths with `jax.vmap(lambda e: stress_path(material, e))`.

    **Raises:** as `return_map` (shape errors name `strains`).
    """
    _check_material(material, "stress_path")
    strains = jnp.asarray(strains)
    want = 1 if isinstance(material, Plasticity1D) else 3
    shape = "(steps,)" if want == 1 else "(steps, 3, 3)"
    if strains.ndim != want or (want == 3 and strains.shape[1:] != (3, 3)) or strains.shape[0] == 0:
        raise ValueError(
            f"`strains` must have shape {shape} (at least one step) for a "
            f"{type(material).__name__}, got shape {strains.shape}; vmap over a batch of paths."
        )
    if not jnp.issubdtype(strains.dtype, jnp.floating):
        strains = strains.astype(jnp.result_type(float))
    strains = check_finite_value(strains, "strains")
    if want == 3:
        asym = jnp.max(jnp.abs(strains - jnp.swapaxes(strains, 1, 2)))
        tol = 100 * jnp.finfo(strains.dtype).eps * jnp.maximum(jnp.max(jnp.abs(strains)), 1.0)
        strains = check_value(strains, ~(asym <= tol),
                              "`strains` are not symmetric tensors; pass 0.5 * (e + e^T) per step.")
    state0 = initial_state(material, strains.dtype) if state0 is None else state0
    state0 = _check_state(material, state0, strains.dtype)

    return _scan_path(material, state0, strains)


# One compiled program per (material structure, path shape): eager calls of `stress_path`
# would otherwise re-trace and re-compile the scan every time.
@eqx.filter_jit
def _scan_path(material, state0, strains):
    def step(state, eps):
        stress, new = _return_map(material, state, eps)
        return new, (stress, new)

    _, (stresses, states) = jax.lax.scan(step, state0, strains)
    return stresses, states


def yield_function(
    material: Plasticity1D | J2Plasticity,
    stress: Float[ArrayLike, ""] | Float[ArrayLike, "3 3"],
    state: PlasticState,
) -> Float[Array, ""]:
    r"""The yield function $f(\sigma, \alpha, \beta)$: $|\sigma - \beta| - (\sigma_y + K\alpha)$
    in 1-D, $\|\mathrm{dev}\,\sigma - \beta\| - \sqrt{2/3}(\sigma_y + K\alpha)$ in 3-D (Simo &
    Hughes ch. 1 and 2). Admissible states have $f \le 0$; after a plastic step of
    `return_map`, $f = 0$ (consistency).

    **Raises:** as `return_map` (the stress in place of the strain, named `stress`).
    """
    _check_material(material, "yield_function")
    stress = _check_strain(material, stress, "stress")
    state = _check_state(material, state, stress.dtype)
    if isinstance(material, Plasticity1D):
        return jnp.abs(stress - state.beta) - (material.sigma_y + material.K * state.alpha)
    return safe_norm(_dev(stress) - state.beta) - _SQRT23 * (material.sigma_y + material.K * state.alpha)


def consistent_tangent(
    material: Plasticity1D | J2Plasticity,
    state: PlasticState,
    strain_new: Float[ArrayLike, ""] | Float[ArrayLike, "3 3"],
) -> Float[Array, ""] | Float[Array, "3 3 3 3"]:
    r"""Algorithmic (consistent) tangent $d\sigma_{n+1}/d\varepsilon_{n+1}$ of `return_map`
    in closed form: $E$ or $E(K+H)/(E+K+H)$ in 1-D; Simo & Hughes Box 3.2 in 3-D,
    $\mathbb C_{ijkl}$ `(3, 3, 3, 3)` with minor symmetries (it acts on symmetric strain
    increments; `jax.jacfwd` of `return_map` gives the same tensor up to symmetrisation in
    $kl$).

    **Raises:** as `return_map`.
    """
    _check_material(material, "consistent_tangent")
    strain_new = _check_strain(material, strain_new)
    state = _check_state(material, state, strain_new.dtype)
    m = material
    if isinstance(m, Plasticity1D):
        xi = m.E * (strain_new - state.eps_p) - state.beta
        plastic = jnp.abs(xi) - (m.sigma_y + m.K * state.alpha) > 0
        return jnp.where(plastic, m.E * (m.K + m.H) / (m.E + m.K + m.H), m.E * jnp.ones_like(xi))
    mu, kappa = m.mu, m.kappa
    dt = strain_new.dtype
    xi = 2.0 * mu * _dev(strain_new - state.eps_p) - state.beta
    nrm = safe_norm(xi)
    f_tr = nrm - _SQRT23 * (m.sigma_y + m.K * state.alpha)
    dgamma = jnp.maximum(f_tr, 0.0) / (2.0 * mu + 2.0 / 3.0 * (m.K + m.H))
    n = xi / jnp.where(nrm > 0, nrm, 1.0)
    theta = 1.0 - 2.0 * mu * dgamma / jnp.where(nrm > 0, nrm, 1.0)
    theta_bar = jnp.where(f_tr > 0, 1.0 / (1.0 + (m.K + m.H) / (3.0 * mu)) - (1.0 - theta), 0.0)
    eye = jnp.eye(3, dtype=dt)
    one_one = jnp.einsum("ij,kl->ijkl", eye, eye)
    sym = 0.5 * (jnp.einsum("ik,jl->ijkl", eye, eye) + jnp.einsum("il,jk->ijkl", eye, eye))
    dev4 = sym - one_one / 3.0
    return kappa * one_one + 2.0 * mu * theta * dev4 - 2.0 * mu * theta_bar * jnp.einsum("ij,kl->ijkl", n, n)
