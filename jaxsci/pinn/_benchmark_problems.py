r"""Standard PINN benchmark problems of the jaxpi study (Wang et al. 2023, arXiv 2308.08468):
Allen-Cahn and periodic advection with a large speed. Viscous Burgers is
`ViscousBurgers` in `_problems.py`. Reference data: `jaxsci.pinn._reference`.
"""

from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._problems import AbstractSpaceTime1DProblem
from ._sampling import Box, Uniform
from ._validate import scalar_param


def _allen_cahn_initial(x):
    return x**2 * jnp.cos(jnp.pi * x)


class AllenCahn(AbstractSpaceTime1DProblem):
    r"""Allen-Cahn equation in the setting of jaxpi (Wang et al. 2023, section 5.1, and
    Raissi et al. 2019):

    $$u_t - \epsilon u_{xx} + \rho\,(u^3 - u) = 0,\qquad (x, t) \in [-1, 1] \times [0, 1],
    \qquad u(x, 0) = x^2 \cos(\pi x),$$

    periodic in $x$ with period 2, $\epsilon = 10^{-4}$, $\rho = 5$. The only constraint set
    is `"ic"`: periodicity is meant to be built into the model
    (`PeriodicEmbedding(periods=(2.0, None))`), as in jaxpi. There is no closed form;
    `allen_cahn_reference` computes the reference solution (Fourier pseudo-spectral +
    ETDRK4).

    **Raises:** `ValueError` (`EquinoxRuntimeError` when traced) unless `diffusion` and
    `reaction` are finite scalars, `diffusion > 0`, `reaction >= 0`.
    """

    diffusion: Float[Array, ""]
    reaction: Float[Array, ""]
    domain: Box

    def __init__(self, diffusion: ArrayLike = 1e-4, reaction: ArrayLike = 5.0):
        self.diffusion = scalar_param(diffusion, "diffusion", lower=0.0, strict=True,
                                      what="the diffusion coefficient epsilon")
        self.reaction = scalar_param(reaction, "reaction", lower=0.0,
                                     what="the reaction rate rho")
        self.domain = Box([-1.0, 0.0], [1.0, 1.0])

    def residual_from_derivatives(self, u, ux, uxx, ut, x):
        eps = self.diffusion.astype(u.dtype)
        rho = self.reaction.astype(u.dtype)
        return ut - eps * uxx + rho * (u**3 - u)

    @property
    def constraint_names(self):
        return ("ic",)

    def constraint_value(self, name, x):
        if name == "ic":
            return _allen_cahn_initial(x[0])
        self._unknown(name)

    def sample_constraint(self, name, n, *, key, sampler=Uniform()):
        if name == "ic":
            return self.domain.sample_face(n, 1, 0, key=key, sampler=sampler)
        self._unknown(name)


class PeriodicAdvection(AbstractSpaceTime1DProblem):
    r"""Linear advection with a large constant speed, the jaxpi ablation problem (Wang et al.
    2023, section 5.1 and table 2; Krishnapriyan et al. 2021):

    $$u_t + c\, u_x = 0,\qquad (x, t) \in [0, 2\pi] \times [0, 1],\qquad u(x, 0) = u_0(x),$$

    periodic in $x$, $c = 50$, $u_0 = \sin$. `exact` is $u_0\big((x - c t) \bmod 2\pi\big)$.
    Constraint sets: `"ic"` ($t = 0$) and `"bc"` ($x = 0$, exact values; redundant when the
    model is periodic by a `PeriodicEmbedding(periods=(2 * pi, None))`).

    **Raises:** `ValueError` (`EquinoxRuntimeError` when traced) unless `speed` is a finite
    scalar; `TypeError` if `initial` is not callable.
    """

    speed: Float[Array, ""]
    initial: Callable = eqx.field(static=True)
    domain: Box

    def __init__(self, speed: ArrayLike = 50.0, initial: Callable = jnp.sin):
        self.speed = scalar_param(speed, "speed", what="the advection speed c")
        if not callable(initial):
            raise TypeError(f"`initial` must be a 2 pi-periodic callable u0(x), got "
                            f"{type(initial).__name__}.")
        self.initial = initial
        self.domain = Box([0.0, 0.0], [2 * np.pi, 1.0])

    def residual_from_derivatives(self, u, ux, uxx, ut, x):
        return ut + self.speed.astype(u.dtype) * ux

    def constraint_value(self, name, x):
        if name in ("ic", "bc"):
            return self.exact(x)
        self._unknown(name)

    def exact(self, x: Float[Array, "2"]) -> Float[Array, ""]:
        foot = jnp.mod(x[0] - self.speed.astype(x.dtype) * x[1], 2 * np.pi)
        return self.initial(foot)
