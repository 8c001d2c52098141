r"""Nonlinear Poisson-Boltzmann equation with smoothed point charges (seed 003, Dogra).

$$-\nabla\cdot(\xi \nabla\phi) + \kappa^2 \sinh\phi = C \sum_{n=1}^N z_n\, \delta(x - x_n)
\ \text{in } K,\qquad \phi = g \text{ on } \partial K,$$

with $C = 4\pi e_c^2/(k_B T)$ (`strength`), constant permittivity $\xi$ and Debye parameter
$\kappa$. The Dirac masses are replaced by normalised Gaussians
$\rho_\sigma(r) = (2\pi\sigma^2)^{-3/2} e^{-r^2/(2\sigma^2)}$ (the $\rho \in L^2$ of the
seed's pointwise loss) and the boundary data are the Debye-Hueckel superposition
$g(x) = \frac{C}{4\pi} \sum_n z_n \frac{e^{-\kappa |x - x_n|}}{\xi |x - x_n|}$.

The residual is the seed's pointwise loss
$l(x) = \xi\Delta\Phi - \kappa^2\sinh\Phi + C\sum_n z_n \rho_\sigma(x - x_n)$.
"""

from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._misc import safe_norm
from ._operators import laplacian
from ._validate import finite_array, scalar_param
from ._problems import AbstractPDEProblem
from ._sampling import Box, Uniform


class PoissonBoltzmann(AbstractPDEProblem):
    r"""The nPBE on a box (see module docstring).

    **Arguments:** `positions` `(N, 3)` charge centres, `charges` `(N,)` valences $z_n$,
    `kappa`, `xi`, `strength` ($C$), `sigma` (charge smoothing width), `domain` (a 3-D
    `Box`, default $[-1, 1]^3$). One constraint set, `"bc"` (the box faces).
    """

    positions: Float[Array, "N 3"]
    charges: Float[Array, " N"]
    kappa: Float[Array, ""]
    xi: Float[Array, ""]
    strength: Float[Array, ""]
    sigma: Float[Array, ""]
    domain: Box

    def __init__(
        self,
        positions: ArrayLike,
        charges: ArrayLike,
        *,
        kappa: ArrayLike = 1.0,
        xi: ArrayLike = 1.0,
        strength: ArrayLike = 1.0,
        sigma: ArrayLike = 0.1,
        domain: Box | None = None,
    ):
        positions = jnp.asarray(positions, dtype=float)
        charges = jnp.asarray(charges, dtype=float)
        if positions.ndim != 2 or positions.shape[1] != 3:
            raise ValueError(f"`positions` must have shape (N, 3), got {positions.shape}.")
        if charges.shape != positions.shape[:1]:
            raise ValueError(
                f"`charges` must have shape ({positions.shape[0]},) to match `positions`, got "
                f"{charges.shape}."
            )
        if positions.shape[0] == 0:
            raise ValueError(
                "`positions` is empty (shape (0, 3)): give at least one charge centre."
            )
        self.positions = finite_array(positions, "positions")
        self.charges = finite_array(charges, "charges")
        self.kappa = scalar_param(kappa, "kappa", lower=0.0, what="the Debye parameter")
        self.xi = scalar_param(xi, "xi", lower=0.0, strict=True, what="the permittivity")
        self.strength = scalar_param(strength, "strength", what="C = 4 pi e_c^2 / (k_B T)")
        self.sigma = scalar_param(
            sigma, "sigma", lower=0.0, strict=True, what="the charge smoothing width"
        )
        self.domain = Box([-1.0] * 3, [1.0] * 3) if domain is None else domain
        if not isinstance(self.domain, Box) or self.domain.dim != 3:
            raise ValueError(f"`domain` must be a 3-D Box, got dimension {self.domain.dim}.")

    def source(self, x: Float[Array, "3"]) -> Float[Array, ""]:
        r"""Smoothed charge density $C \sum_n z_n \rho_\sigma(x - x_n)$."""
        s = self.sigma.astype(x.dtype)
        r2 = jnp.sum((x[None, :] - self.positions.astype(x.dtype)) ** 2, axis=-1)
        rho = jnp.exp(-r2 / (2 * s**2)) / (2 * jnp.pi * s**2) ** 1.5
        return self.strength.astype(x.dtype) * jnp.sum(self.charges.astype(x.dtype) * rho)

    def boundary_value(self, x: Float[Array, "3"]) -> Float[Array, ""]:
        r"""Debye-Hueckel boundary data $g(x)$ (smooth away from the charges)."""
        r = safe_norm(x[None, :] - self.positions.astype(x.dtype), axis=-1)
        r = jnp.maximum(r, self.sigma.astype(x.dtype))
        terms = self.charges * jnp.exp(-self.kappa * r) / (self.xi * r)
        return self.strength.astype(x.dtype) / (4 * jnp.pi) * jnp.sum(terms)

    def residual(self, model, x):
        phi = model(x)
        lap = laplacian(model, x)
        return self.xi * lap - self.kappa**2 * jnp.sinh(phi) + self.source(x)

    @property
    def constraint_names(self):
        return ("bc",)

    def constraint_value(self, name, x):
        if name == "bc":
            return self.boundary_value(x)
        self._unknown(name)

    def sample_constraint(self, name, n, *, key, sampler=Uniform()):
        if name == "bc":
            return self.domain.sample_boundary(n, key=key, sampler=sampler)
        self._unknown(name)

    def box_sq_distance(self, x: Float[Array, "3"]) -> Float[Array, ""]:
        r"""Smooth squared-distance-like function vanishing exactly on the box faces,
        $d^2(x) = \frac{\min_i w_i^2}{4} \prod_i \frac{4 (x_i - \ell_i)(u_i - x_i)}{w_i^2}$,
        $w_i = u_i - \ell_i$ (equal to the squared half-width at the centre). A polynomial,
        so its derivatives of every order are finite everywhere (a true distance, or the
        square root of this, has infinite curvature at the faces and corners)."""
        lo, hi = self.domain.lower.astype(x.dtype), self.domain.upper.astype(x.dtype)
        w = hi - lo
        return jnp.prod(4 * (x - lo) * (hi - x) / w**2) * jnp.min(w) ** 2 / 4


class HardConstraintModel(eqx.Module):
    r"""Constraint-enforcing output parametrisation (seed 003):

    $$\Phi_N(x) = g(x) + \big(1 - e^{-d(x)^2 / \ell^2}\big)\, \hat\Phi(x),$$

    so $\Phi_N = g$ wherever the squared-distance-like function $d^2$ vanishes (the
    constraint set),
    whatever the network $\hat\Phi$ outputs. The seed evaluates $g$ at the nearest sampled
    constraint point; we evaluate a smooth extension of $g$ at $x$ itself (identical on the
    constraint set and without the kinks of a nearest-point projection, which would put
    spurious curvature into the Laplacian of the residual). `length` is $\ell$ (default 1,
    the seed's choice).

    **Arguments:** `network` a model on one point returning a scalar (or shape-(1,) array);
    `boundary` $g$; `sq_distance` $d^2$ (pass the square directly so that no square root
    spoils the derivatives at the constraint set, e.g. `PoissonBoltzmann.box_sq_distance`);
    both pointwise callables.
    """

    network: Callable
    boundary: Callable
    sq_distance: Callable
    length: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        for name in ("network", "boundary", "sq_distance"):
            if not callable(getattr(self, name)):
                raise TypeError(f"`{name}` must be a callable on one point, got "
                                f"{type(getattr(self, name)).__name__}.")
        if not (isinstance(self.length, (int, float)) and np.isfinite(self.length)
                and self.length > 0):
            raise ValueError(f"`length` must be a finite positive Python float, got {self.length!r}.")

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        out = jnp.reshape(self.network(x), ())
        d2 = self.sq_distance(x)
        return self.boundary(x) + (-jnp.expm1(-d2 / self.length**2)) * out

