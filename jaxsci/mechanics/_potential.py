r"""Strain-energy GP ("potential-TBGP", Frankel et al., section 5).

A GP prior on the strain energy $\Phi(I_1, I_2, I_3)$ is conditioned on its gradient
$\nabla_I\Phi$ at the data, inferred from $(B, \sigma)$ pairs by the coefficient
extraction (eqs. 21-25) and eq. 33, plus the grounding datum $\Phi(3, 3, 1) = 0$ (eq. 34).
The block covariance of eqs. 37-38 comes from `jaxsci.gp` derivative observations (kernel
cross-derivatives by autodiff). Predictions (eq. 39, one weight vector) give $\Phi$ and
$\nabla_I\Phi$, hence the stress by eqs. 31-32.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .. import gp
from ..kernels import AbstractKernel, SquaredExponential
from ._coefficients import extract_coefficients
from ._kinematics import check_tensor, expand, invariants
from ._materials import coefficients_from_energy_gradient, energy_gradient_from_coefficients
from ._tbgp import _check_pairs

GROUND_INVARIANTS = (3.0, 3.0, 1.0)


class StrainEnergyGP(eqx.Module):
    """A fitted strain-energy GP: predicts $\\Phi$, $\\nabla_I\\Phi$ and the stress."""

    posterior: gp.Posterior

    def energy(self, I: Float[ArrayLike, " 3"]) -> tuple[Float[Array, ""], Float[Array, " 3"], Float[Array, ""]]:
        r"""$(\Phi, \nabla_I\Phi, \operatorname{Var}\Phi)$ at one invariant point (eq. 39)."""
        I = jnp.asarray(I)
        if I.shape != (3,):
            raise ValueError(f"`I` must have shape (3,), got {I.shape}.")
        phi, grad, var, _ = gp.predict_value_and_grad(self.posterior, I[None, :])
        return phi[0], grad[0], var[0]

    def __call__(self, B: Float[ArrayLike, "3 3"]) -> Float[Array, "3 3"]:
        """Predicted Cauchy stress at one `B` (eqs. 31-32)."""
        B = check_tensor(B)
        I = invariants(B)
        _, grad, _ = self.energy(I)
        return expand(coefficients_from_energy_gradient(I, grad), B)


def energy_gradient_data(
    Bs: Float[ArrayLike, "n 3 3"], sigmas: Float[ArrayLike, "n 3 3"]
) -> tuple[Float[Array, "n 3"], Float[Array, "n 3"]]:
    r"""Invariants `(n, 3)` and inferred $\nabla_I\Phi$ `(n, 3)` from stress data (eq. 33)."""
    Bs, sigmas = _check_pairs(Bs, sigmas, positive_definite=True)
    I = jax.vmap(invariants)(Bs)
    C = jax.vmap(extract_coefficients)(Bs, sigmas)
    return I, jax.vmap(energy_gradient_from_coefficients)(I, C)


@eqx.filter_jit
def fit_strain_energy_gp(
    Bs: Float[ArrayLike, "n 3 3"],
    sigmas: Float[ArrayLike, "n 3 3"],
    *,
    key: PRNGKeyArray | None,
    kernel: AbstractKernel | None = None,
    num_restarts: int = 20,
    noise: float = gp.DEFAULT_NOISE,
    throw: bool = True,
) -> StrainEnergyGP:
    r"""Fit the strain-energy GP to `(B, sigma)` pairs (section 5, eqs. 33-40).

    Observations: the grounding value $\Phi(3,3,1) = 0$ (eq. 34) then $3n$ partial
    derivatives. Hyperparameters maximise the log marginal likelihood of this joint
    observation vector (`key=None`: keep `kernel`'s). Default kernel: eq. 5.
    """
    kernel = SquaredExponential() if kernel is None else kernel
    I, dphi = energy_gradient_data(Bs, sigmas)
    ground = jnp.asarray([GROUND_INVARIANTS], dtype=I.dtype)
    X, which, y = gp.gradient_observations(I, dphi, ground, jnp.zeros((1,), I.dtype))
    if key is None:
        post = gp.condition(kernel, X, y, which=which, noise=noise)
    else:
        sol = gp.fit(
            kernel, X, y, which=which, key=key, num_restarts=num_restarts, noise=noise, throw=throw
        )
        post = gp.condition(sol.value, X, y, which=which, noise=noise)
    return StrainEnergyGP(post)
