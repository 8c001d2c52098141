r"""Strain-energy GP ("potential-TBGP", Frankel et al., section 5).

A GP prior on the strain energy $\Phi(I_1, I_2, I_3)$ is conditioned on its gradient
$\nabla_I\Phi$ at the data, inferred from $(B, \sigma)$ pairs by the coefficient
extraction (eqs. 21-25) and eq. 33, plus the grounding datum $\Phi(3, 3, 1) = 0$ (eq. 34).
The block covariance of eqs. 37-38 comes from `jaxsci.gp` derivative observations (kernel
cross-derivatives by autodiff). Predictions (eq. 39, one weight vector) give $\Phi$ and
$\nabla_I\Phi$, hence the stress by eqs. 31-32. The stress is linear in $\nabla_I\Phi$,
$\sigma = J\,\nabla_I\Phi$, so its component-wise posterior variance is exact:
$\operatorname{Var}\sigma_{ij} = J_{ij}^T \Sigma J_{ij}$ with $\Sigma$ the $3\times3$
posterior covariance of $\nabla_I\Phi$.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .. import gp
from .._solution import Solution
from ..kernels import AbstractKernel
from ._coefficients import _extract_coefficients
from ._kinematics import _expand, _invariants, check_tensor, require_spd
from ._materials import (
    _coefficients_from_energy_gradient,
    _energy_gradient_from_coefficients,
    check_invariants,
)
from ._tbgp import _check_pairs, check_posterior, fit_gp_model, key_none_conditions

GROUND_INVARIANTS = (3.0, 3.0, 1.0)


class StrainEnergyGP(eqx.Module):
    """A fitted strain-energy GP: predicts $\\Phi$, $\\nabla_I\\Phi$ and the stress.

    Built by `fit_strain_energy_gp`; by hand, `posterior` must be a single-output
    `jaxsci.gp.Posterior` over the invariants: training points `(n, 3)`, weights `(n,)`
    (else `TypeError`/`ValueError` at construction)."""

    posterior: gp.Posterior

    def __check_init__(self):
        check_posterior(self.posterior, "StrainEnergyGP", 3, None, "invariants (I1, I2, I3)",
                        "one output, the strain energy Phi", "fit_strain_energy_gp")

    def energy(self, I: Float[ArrayLike, " 3"]) -> tuple[Float[Array, ""], Float[Array, " 3"], Float[Array, ""]]:
        r"""$(\Phi, \nabla_I\Phi, \operatorname{Var}\Phi)$ at one invariant point (eq. 39).

        **Raises:** `ValueError` (trace time) for a shape other than `(3,)`; at run time NaN/inf
        in `I` or $I_3 \le 0$ (not the invariants of a positive definite tensor)."""
        I = check_invariants(I)
        phi, grad, var, _ = gp.predict_value_and_grad(self.posterior, I[None, :])
        return phi[0], grad[0], var[0]

    def __call__(self, B: Float[ArrayLike, "3 3"]) -> tuple[Float[Array, "3 3"], Float[Array, "3 3"]]:
        r"""Predicted Cauchy stress `(3, 3)` at one `B` (eqs. 31-32) and its component-wise
        posterior variance `(3, 3)` (from the covariance of $\nabla_I\Phi$, module docs).

        **Raises:** `ValueError` (trace time) for a shape other than `(3, 3)`; at run time
        (tier 2) if `B` is not finite, symmetric and positive definite (`require_spd`)."""
        B = require_spd(check_tensor(B))
        I = _invariants(B)
        grad, cov = gp.predict(self.posterior, jnp.tile(I[None, :], (3, 1)), which=jnp.arange(3), full_cov=True)
        to_stress = lambda g: _expand(_coefficients_from_energy_gradient(I, g), B)
        J = jax.jacfwd(to_stress)(grad)  # (3, 3, 3): stress is linear in the gradient
        var = jnp.einsum("ijk,kl,ijl->ij", J, cov, J, precision=jax.lax.Precision.HIGHEST)
        return to_stress(grad), jnp.maximum(var, 0.0)


def energy_gradient_data(
    Bs: Float[ArrayLike, "n 3 3"], sigmas: Float[ArrayLike, "n 3 3"]
) -> tuple[Float[Array, "n 3"], Float[Array, "n 3"]]:
    r"""Invariants `(n, 3)` and inferred $\nabla_I\Phi$ `(n, 3)` from stress data (eq. 33).

    **Raises:** as `fit_strain_energy_gp`."""
    Bs, sigmas = _check_pairs(Bs, sigmas, positive_definite=True)
    I = jax.vmap(_invariants)(Bs)
    C = jax.vmap(_extract_coefficients)(Bs, sigmas)
    return I, jax.vmap(_energy_gradient_from_coefficients)(I, C)


@key_none_conditions
@eqx.filter_jit
def fit_strain_energy_gp(
    Bs: Float[ArrayLike, "n 3 3"],
    sigmas: Float[ArrayLike, "n 3 3"],
    *,
    key: PRNGKeyArray | None = None,
    kernel: AbstractKernel | None = None,
    fit_hyperparameters: bool = True,
    num_restarts: int = 20,
    noise: float = gp.DEFAULT_NOISE,
    throw: bool = True,
) -> Solution:
    r"""Fit the strain-energy GP to `(B, sigma)` pairs (section 5, eqs. 33-40).

    Observations: the grounding value $\Phi(3,3,1) = 0$ (eq. 34) then $3n$ partial
    derivatives. Hyperparameters maximise the log marginal likelihood of this joint
    observation vector. Arguments as `fit_tbgp` (every `B` must be positive definite;
    `key=None` conditions only).

    **Returns:** a `jaxsci.Solution` with `value` a `StrainEnergyGP`, and `result` and
    `stats` of `jaxsci.gp.fit`.

    **Raises:** as `fit_tbgp`, and at run time for a `B` that is not positive definite.
    """
    I, dphi = energy_gradient_data(Bs, sigmas)
    ground = jnp.asarray([GROUND_INVARIANTS], dtype=I.dtype)
    X, which, y = gp.gradient_observations(I, dphi, ground, jnp.zeros((1,), I.dtype))
    return fit_gp_model(
        StrainEnergyGP, kernel, X, y, key=key, which=which, num_restarts=num_restarts, noise=noise,
        fit_hyperparameters=fit_hyperparameters, throw=throw,
    )
