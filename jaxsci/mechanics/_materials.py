r"""Hyperelastic materials: strain energy $\Phi(I_1, I_2, I_3)$ to Cauchy stress.

Frankel et al., section 5: $\sigma = \frac{2}{\sqrt{I_3}} B \frac{\partial\Phi}{\partial B}$
(eq. 28), which by the chain rule and $\partial I_1/\partial B = I$,
$\partial I_2/\partial B = I_1 I - B$, $\partial I_3/\partial B = I_3 B^{-1}$ (eq. 30) becomes

$$\sigma = \frac{2}{\sqrt{I_3}}\Big[I_3\frac{\partial\Phi}{\partial I_3} I +
\Big(\frac{\partial\Phi}{\partial I_1} + I_1\frac{\partial\Phi}{\partial I_2}\Big) B -
\frac{\partial\Phi}{\partial I_2} B^2\Big]\qquad\text{(eq. 31)},$$

i.e. tensor-basis coefficients (eq. 32), inverted by eq. 33.

Strain energies (`MooneyRivlin`, and `FibreReinforcedMooneyRivlin` for transverse isotropy)
are callables on the invariants returning $\Phi$; they are materials, not models: the stress
is `cauchy_stress(energy, B)` (isotropic: Cauchy stress from the Finger tensor $B$) or
`transverse_pk2_stress(energy, C, g)` (second Piola-Kirchhoff stress from the right
Cauchy-Green tensor $C$).
"""

from collections.abc import Callable

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_value, is_concrete
from ._kinematics import (
    _expand,
    _got,
    _invariants,
    check,
    check_finite_value,
    check_tensor,
    check_vector,
    require_spd,
)

_HIGHEST = jax.lax.Precision.HIGHEST

EnergyFn = Callable[[Float[Array, " 3"]], Float[Array, ""]]


def check_parameter(x, name: str, *, positive: bool, what: str):
    """Tier 2 check of a material parameter (a Python float or an array, possibly traced):
    finite and `> 0` (`positive`) or `>= 0`. Returns `x` to store (thread it onward)."""
    word = "> 0" if positive else ">= 0"
    message = f"`{name}` ({what}) must be finite and {word}, got {{}}; use a value in that range."
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        # Python scalars are checked without touching JAX (materials are built at import).
        ok = math.isfinite(x) and (x > 0 if positive else x >= 0)
        if not ok:
            raise ValueError(message.format(x))
        return x
    arr = jnp.asarray(x)
    bad = ~(jnp.isfinite(arr) & ((arr > 0) if positive else (arr >= 0)))
    got = np.asarray(arr) if is_concrete(arr) else "a traced value"
    return check_value(x, bad, message.format(got))


class MooneyRivlin(eqx.Module):
    r"""Compressible Mooney-Rivlin strain energy (eq. 41):

    $$\Phi = k_1 (I_3^{-1/3} I_1 - 3) + k_2 (I_3^{-2/3} I_2 - 3) + k_3 (I_3^{1/2} - 1)^2.$$

    Defaults (MPa): $k_1 = 0.162$, $k_2 = 0.0059$, $k_3 = 10$ (Marckmann and Verron 2006), as in
    the paper. Call with the invariants `(3,)`.

    **Raises:** `ValueError` (eagerly; `EquinoxRuntimeError` when the parameters are traced,
    under `jit`/`vmap`) unless $k_1, k_2 \ge 0$, $k_1 + k_2 > 0$ (positive shear modulus
    $2(k_1 + k_2)$; polyconvex range) and $k_3 > 0$ (volumetric stiffness), all finite.
    Calling it at invariants with NaN/inf or $I_3 \le 0$ raises at run time.
    """

    k1: float | Float[Array, ""] = 0.162
    k2: float | Float[Array, ""] = 0.0059
    k3: float | Float[Array, ""] = 10.0

    # __post_init__ rather than __check_init__: a traced check must be threaded into the
    # stored field, else jit removes it as dead code.
    def __post_init__(self):
        self.k1 = check_parameter(self.k1, "k1", positive=False, what="isochoric I1 modulus")
        self.k2 = check_parameter(self.k2, "k2", positive=False, what="isochoric I2 modulus")
        self.k3 = check_parameter(self.k3, "k3", positive=True, what="volumetric modulus")
        both = (self.k1, self.k2)
        if all(isinstance(k, (int, float)) for k in both):
            if not self.k1 + self.k2 > 0:
                raise ValueError(
                    f"`k1` + `k2` (half the shear modulus) must be > 0, got {self.k1} + {self.k2}; "
                    "make at least one of them positive."
                )
        else:
            self.k1 = check_value(
                self.k1,
                ~(jnp.asarray(self.k1) + jnp.asarray(self.k2) > 0),
                "`k1` + `k2` (half the shear modulus) must be > 0; make at least one of them positive.",
            )

    def __call__(self, I: Float[Array, " 3"]) -> Float[Array, ""]:
        I = check_invariants(I)
        I1, I2, I3 = I[0], I[1], I[2]
        return (
            self.k1 * (I3 ** (-1.0 / 3.0) * I1 - 3.0)
            + self.k2 * (I3 ** (-2.0 / 3.0) * I2 - 3.0)
            + self.k3 * (jnp.sqrt(I3) - 1.0) ** 2
        )


def check_invariants(I, name: str = "I", size: int = 3):
    """`(size,)` invariants of a positive definite tensor: finite, with $I_3 > 0$."""
    I = check_finite_value(check_vector(I, name, size, "the invariants I1, I2, I3, ..."), name)
    return check(
        I,
        ~(I[2] > 0),
        f"`{name}[2]` = I3 = det must be > 0 (invariants of a positive definite tensor){{got}}; "
        "compute them with `invariants(B)` of a Finger tensor B = F F^T.",
        lambda: _got(I),
    )


def _coefficients_from_energy_gradient(I, dphi):
    I1, I3 = I[0], I[2]
    r = 2.0 / jnp.sqrt(I3)
    return jnp.stack([r * I3 * dphi[2], r * (dphi[0] + I1 * dphi[1]), -r * dphi[1]])


def coefficients_from_energy_gradient(
    I: Float[ArrayLike, " 3"], dphi: Float[ArrayLike, " 3"]
) -> Float[Array, " 3"]:
    r"""Tensor-basis coefficients from $\nabla_I \Phi$ (eq. 32).

    **Raises:** `ValueError` (trace time) for shapes other than `(3,)`; at run time NaN/inf
    in `I` or `dphi`, or $I_3 \le 0$.
    """
    I = check_invariants(I)
    dphi = check_finite_value(check_vector(dphi, "dphi", 3, "dPhi/dI"), "dphi")
    return _coefficients_from_energy_gradient(I, dphi)


def _energy_gradient_from_coefficients(I, c):
    I1, I3 = I[0], I[2]
    h = 0.5 * jnp.sqrt(I3)
    return jnp.stack([h * (c[1] + c[2] * I1), -h * c[2], c[0] / (2.0 * jnp.sqrt(I3))])


def energy_gradient_from_coefficients(
    I: Float[ArrayLike, " 3"], c: Float[ArrayLike, " 3"]
) -> Float[Array, " 3"]:
    r"""$\nabla_I \Phi$ from tensor-basis coefficients (eq. 33):
    $\partial_1\Phi = \tfrac{\sqrt{I_3}}{2}(c_1 + c_2 I_1)$,
    $\partial_2\Phi = -\tfrac{\sqrt{I_3}}{2} c_2$, $\partial_3\Phi = c_0 / (2\sqrt{I_3})$.

    **Raises:** as `coefficients_from_energy_gradient`.
    """
    I = check_invariants(I)
    c = check_finite_value(check_vector(c, "c", 3, "tensor-basis coefficients"), "c")
    return _energy_gradient_from_coefficients(I, c)


def check_stress(s, what: str):
    """Run-time check that the stress a user-supplied `energy` produced is finite."""
    return check(
        s,
        ~jnp.all(jnp.isfinite(s)),
        f"`energy` gave a NaN/inf {what} at this deformation{{got}}; check the energy's "
        "parameters and that it is finite (and differentiable) near the given invariants.",
        lambda: _got(s),
    )


def cauchy_stress(energy: EnergyFn, B: Float[ArrayLike, "3 3"]) -> Float[Array, "3 3"]:
    r"""Cauchy stress of a strain energy by autodiff through eq. 28.

    $\partial\Phi/\partial B$ is taken with `jax.grad` of $\Phi(I_1(B), I_2(B), I_3(B))$ over
    the full matrix, then $\sigma = 2 I_3^{-1/2} B\, \partial\Phi/\partial B$ (symmetrised
    to remove round-off). `energy` is any callable on the invariants `(3,)`.

    **Raises:** `ValueError` (trace time) for a shape other than `(3, 3)`; at run time
    (tier 2: `ValueError` eagerly, `EquinoxRuntimeError` under `jit`/`vmap`) if `B` is not
    finite, symmetric and positive definite (`require_spd`; e.g. $\det B < 0$), or the
    stress is not finite.
    """
    B = require_spd(check_tensor(B))
    dphi_dB = jax.grad(lambda B_: energy(_invariants(B_)))(B)
    s = 2.0 / jnp.sqrt(jnp.linalg.det(B)) * jnp.matmul(B, dphi_dB, precision=_HIGHEST)
    return check_stress(0.5 * (s + s.T), "Cauchy stress")


def cauchy_stress_closed_form(energy: EnergyFn, B: Float[ArrayLike, "3 3"]) -> Float[Array, "3 3"]:
    r"""Cauchy stress by the closed form eq. 31 (cross-check of `cauchy_stress`).

    **Raises:** as `cauchy_stress`.
    """
    B = require_spd(check_tensor(B))
    I = _invariants(B)
    s = _expand(_coefficients_from_energy_gradient(I, jax.grad(energy)(I)), B)
    return check_stress(s, "Cauchy stress")
