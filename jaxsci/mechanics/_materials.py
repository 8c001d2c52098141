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

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._kinematics import check_tensor, expand, invariants

_HIGHEST = jax.lax.Precision.HIGHEST

EnergyFn = Callable[[Float[Array, " 3"]], Float[Array, ""]]


class MooneyRivlin(eqx.Module):
    r"""Compressible Mooney-Rivlin strain energy (eq. 41):

    $$\Phi = k_1 (I_3^{-1/3} I_1 - 3) + k_2 (I_3^{-2/3} I_2 - 3) + k_3 (I_3^{1/2} - 1)^2.$$

    Defaults (MPa): $k_1 = 0.162$, $k_2 = 0.0059$, $k_3 = 10$ (Marckmann and Verron 2006), as in
    the paper. Call with the invariants `(3,)`.
    """

    k1: float | Float[Array, ""] = 0.162
    k2: float | Float[Array, ""] = 0.0059
    k3: float | Float[Array, ""] = 10.0

    def __call__(self, I: Float[Array, " 3"]) -> Float[Array, ""]:
        I1, I2, I3 = I[0], I[1], I[2]
        return (
            self.k1 * (I3 ** (-1.0 / 3.0) * I1 - 3.0)
            + self.k2 * (I3 ** (-2.0 / 3.0) * I2 - 3.0)
            + self.k3 * (jnp.sqrt(I3) - 1.0) ** 2
        )


def coefficients_from_energy_gradient(
    I: Float[ArrayLike, " 3"], dphi: Float[ArrayLike, " 3"]
) -> Float[Array, " 3"]:
    r"""Tensor-basis coefficients from $\nabla_I \Phi$ (eq. 32)."""
    I = jnp.asarray(I)
    dphi = jnp.asarray(dphi)
    I1, I3 = I[0], I[2]
    r = 2.0 / jnp.sqrt(I3)
    return jnp.stack([r * I3 * dphi[2], r * (dphi[0] + I1 * dphi[1]), -r * dphi[1]])


def energy_gradient_from_coefficients(
    I: Float[ArrayLike, " 3"], c: Float[ArrayLike, " 3"]
) -> Float[Array, " 3"]:
    r"""$\nabla_I \Phi$ from tensor-basis coefficients (eq. 33):
    $\partial_1\Phi = \tfrac{\sqrt{I_3}}{2}(c_1 + c_2 I_1)$,
    $\partial_2\Phi = -\tfrac{\sqrt{I_3}}{2} c_2$, $\partial_3\Phi = c_0 / (2\sqrt{I_3})$."""
    I = jnp.asarray(I)
    c = jnp.asarray(c)
    I1, I3 = I[0], I[2]
    h = 0.5 * jnp.sqrt(I3)
    return jnp.stack([h * (c[1] + c[2] * I1), -h * c[2], c[0] / (2.0 * jnp.sqrt(I3))])


def cauchy_stress(energy: EnergyFn, B: Float[ArrayLike, "3 3"]) -> Float[Array, "3 3"]:
    r"""Cauchy stress of a strain energy by autodiff through eq. 28.

    $\partial\Phi/\partial B$ is taken with `jax.grad` of $\Phi(I_1(B), I_2(B), I_3(B))$ over
    the full matrix, then $\sigma = 2 I_3^{-1/2} B\, \partial\Phi/\partial B$ (symmetrised
    to remove round-off). `energy` is any callable on the invariants `(3,)`.
    """
    B = check_tensor(B)
    dphi_dB = jax.grad(lambda B_: energy(invariants(B_)))(B)
    s = 2.0 / jnp.sqrt(jnp.linalg.det(B)) * jnp.matmul(B, dphi_dB, precision=_HIGHEST)
    return 0.5 * (s + s.T)


def cauchy_stress_closed_form(energy: EnergyFn, B: Float[ArrayLike, "3 3"]) -> Float[Array, "3 3"]:
    r"""Cauchy stress by the closed form eq. 31 (cross-check of `cauchy_stress`)."""
    B = check_tensor(B)
    I = invariants(B)
    return expand(coefficients_from_energy_gradient(I, jax.grad(energy)(I)), B)
