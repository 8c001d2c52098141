r"""Molecule-like nPBE problems: piecewise permittivity and screening, rigid motions (seed 003).

Seed 003 (Dogra), first display: for a charge set $x_n(\omega)$ of valences $z_n$,
$$-\nabla\cdot(\xi(x,\omega)\nabla\phi) + \kappa^2(x,\omega)\sinh\phi
= C\sum_n z_n\,\delta(x - x_n(\omega)),\quad (x,\omega)\in K_1\times K_2,\qquad
\phi = g \text{ on } \partial K_1,$$
with $C = 4\pi e_c^2/(k_BT)$ and the seed's boundary data
$g(x,\omega) = \frac{C}{4\pi}\sum_n z_n\frac{e^{-\lambda|x - x_n|}}{\xi_w|x - x_n|}$
(the Debye-Hueckel potential of the charges in the solvent, permittivity $\xi_w$, screening
$\kappa_w$; the seed's $\kappa$ in $g$ is the inverse Debye length
$\lambda = \kappa_w/\sqrt{\xi_w}$ of the equation as written, the two coincide for
$\xi_w = 1$). Here the Dirac masses are Gaussians of width $\sigma$ (the seed's
$\rho\in L^2$) and $|x - x_n|$ in $g$ is regularised to $\sqrt{|x - x_n|^2 + \sigma^2}$,
so that $g$ is a smooth extension into the box for the output parametrisation
$\Phi_N = g + (1 - e^{-d^2})\hat\Phi$ (equal to the seed's $g$ on $\partial K_1$ up to a
relative $O(\sigma^2/|x - x_n|^2)$).

The molecule is the union of balls of radius $a$ about the charges, smoothed by a tanh of
the distance: the solvent indicator is
$s(x) = \prod_n \tfrac12\big(1 + \tanh\frac{|x - x_n|^2 - a^2}{2aw}\big)$ (a tanh of
$|x - x_n| - a$ over the width $w$ near the surface, and smooth at the centres), and
$\xi = \xi_m + (\xi_w - \xi_m)s$, $\kappa^2 = \kappa_w^2 s$ (no ions inside the molecule).
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ._operators import divergence, gradient
from ._problems import AbstractPDEProblem
from ._sampling import AbstractSampler, Box, Uniform
from ._validate import finite_array, scalar_param


def rotation_matrix(rotvec: Float[Array, "3"]) -> Float[Array, "3 3"]:
    r"""Rodrigues' formula $R = I + \frac{\sin\theta}{\theta}K + \frac{1-\cos\theta}{\theta^2}K^2$
    for the rotation vector $v$ ($\theta = |v|$, $K$ the cross-product matrix of $v$);
    written with `sinc` so that it and its derivatives are exact at $v = 0$."""
    if rotvec.shape != (3,):
        raise ValueError(f"`rotvec` must have shape (3,), got {rotvec.shape}.")
    th2 = jnp.sum(rotvec**2)
    # sinc(t/pi) = sin t / t; both coefficients are even in theta, so the |v| kink never shows
    th = jnp.sqrt(jnp.where(th2 > 0, th2, 1.0))
    th = jnp.where(th2 > 0, th, 0.0)
    a = jnp.sinc(th / jnp.pi)
    b = 0.5 * jnp.sinc(th / (2 * jnp.pi)) ** 2
    x, y, z = rotvec
    zero = jnp.zeros_like(x)
    k = jnp.stack([jnp.stack([zero, -z, y]), jnp.stack([z, zero, -x]),
                   jnp.stack([-y, x, zero])])
    return jnp.eye(3, dtype=rotvec.dtype) + a * k + b * (k @ k)


class MolecularPoissonBoltzmann(AbstractPDEProblem):
    r"""The nPBE for a fixed molecule in a box (module docstring): piecewise smoothed
    permittivity and screening, Gaussian charges, the seed's Debye-Hueckel $g$ on the faces.

    **Arguments:** `positions` `(N, 3)` charge centres $x_n$; `charges` `(N,)` valences
    $z_n$; `radius` $a$ of the atom balls; `width` $w$ of the tanh smoothing; `xi_in`
    $\xi_m$ and `xi_out` $\xi_w$ (permittivity inside / outside); `kappa` $\kappa_w$ (screening
    outside; zero inside); `strength` $C$; `sigma` the charge width; `domain` a 3-D `Box`
    (default $[-1, 1]^3$). One constraint set, `"bc"` (the box faces).

    The residual is the seed's pointwise loss
    $l = \nabla\cdot(\xi\nabla\Phi) - \kappa^2\sinh\Phi + C\sum_n z_n\rho_\sigma(x - x_n)$;
    `solve_pbe(problem, n)` gives the finite-volume reference solution.
    """

    positions: Float[Array, "N 3"]
    charges: Float[Array, " N"]
    radius: Float[Array, ""]
    width: Float[Array, ""]
    xi_in: Float[Array, ""]
    xi_out: Float[Array, ""]
    kappa: Float[Array, ""]
    strength: Float[Array, ""]
    sigma: Float[Array, ""]
    domain: Box

    def __init__(
        self,
        positions: ArrayLike,
        charges: ArrayLike,
        *,
        radius: ArrayLike = 0.3,
        width: ArrayLike = 0.1,
        xi_in: ArrayLike = 1.0,
        xi_out: ArrayLike = 4.0,
        kappa: ArrayLike = 1.0,
        strength: ArrayLike = 1.0,
        sigma: ArrayLike = 0.1,
        domain: Box | None = None,
    ):
        positions = jnp.asarray(positions, dtype=float)
        charges = jnp.asarray(charges, dtype=float)
        if positions.ndim != 2 or positions.shape[1] != 3 or positions.shape[0] == 0:
            raise ValueError(
                f"`positions` must have shape (N, 3) with N >= 1, got {positions.shape}."
            )
        if charges.shape != positions.shape[:1]:
            raise ValueError(
                f"`charges` must have shape ({positions.shape[0]},) to match `positions`, got "
                f"{charges.shape}."
            )
        self.positions = finite_array(positions, "positions")
        self.charges = finite_array(charges, "charges")
        self.radius = scalar_param(radius, "radius", lower=0.0, strict=True,
                                   what="the atom radius")
        self.width = scalar_param(width, "width", lower=0.0, strict=True,
                                  what="the interface smoothing width")
        self.xi_in = scalar_param(xi_in, "xi_in", lower=0.0, strict=True,
                                  what="the permittivity inside the molecule")
        self.xi_out = scalar_param(xi_out, "xi_out", lower=0.0, strict=True,
                                   what="the solvent permittivity")
        self.kappa = scalar_param(kappa, "kappa", lower=0.0, what="the solvent Debye parameter")
        self.strength = scalar_param(strength, "strength", what="C = 4 pi e_c^2 / (k_B T)")
        self.sigma = scalar_param(sigma, "sigma", lower=0.0, strict=True,
                                  what="the charge smoothing width")
        self.domain = Box([-1.0] * 3, [1.0] * 3) if domain is None else domain
        if not isinstance(self.domain, Box) or self.domain.dim != 3:
            raise ValueError(f"`domain` must be a 3-D Box, got {self.domain!r}.")

    def _r2(self, x):
        return jnp.sum((x[None, :] - self.positions.astype(x.dtype)) ** 2, axis=-1)

    def solvent_fraction(self, x: Float[Array, "3"]) -> Float[Array, ""]:
        r"""The smoothed solvent indicator $s(x)\in(0, 1)$ (1 far from the molecule)."""
        a, w = self.radius.astype(x.dtype), self.width.astype(x.dtype)
        return jnp.prod(0.5 * (1 + jnp.tanh((self._r2(x) - a**2) / (2 * a * w))))

    def permittivity(self, x: Float[Array, "3"]) -> Float[Array, ""]:
        r"""$\xi(x) = \xi_m + (\xi_w - \xi_m)s(x)$."""
        return self.xi_in + (self.xi_out - self.xi_in) * self.solvent_fraction(x)

    def kappa_sq(self, x: Float[Array, "3"]) -> Float[Array, ""]:
        r"""$\kappa^2(x) = \kappa_w^2 s(x)$."""
        return self.kappa**2 * self.solvent_fraction(x)

    def source(self, x: Float[Array, "3"]) -> Float[Array, ""]:
        r"""Smoothed charge density $C\sum_n z_n\rho_\sigma(x - x_n)$."""
        s = self.sigma.astype(x.dtype)
        rho = jnp.exp(-self._r2(x) / (2 * s**2)) / (2 * jnp.pi * s**2) ** 1.5
        return self.strength * jnp.sum(self.charges * rho)

    def boundary_value(self, x: Float[Array, "3"]) -> Float[Array, ""]:
        r"""The seed's $g(x)$ with $|x - x_n|$ regularised by $\sigma$ (module docstring)."""
        r = jnp.sqrt(self._r2(x) + self.sigma**2)
        lam = self.kappa / jnp.sqrt(self.xi_out)
        terms = self.charges * jnp.exp(-lam * r) / (self.xi_out * r)
        return self.strength / (4 * jnp.pi) * jnp.sum(terms)

    def residual(self, model: Callable, x: Float[Array, "3"]) -> Float[Array, ""]:
        flux = lambda y: self.permittivity(y) * gradient(model, y)
        return divergence(flux, x) - self.kappa_sq(x) * jnp.sinh(model(x)) + self.source(x)

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

    def sq_distance(self, x: Float[Array, "3"]) -> Float[Array, ""]:
        r"""Polynomial squared-distance-like function vanishing on the box faces (as
        `PoissonBoltzmann.box_sq_distance`), for `HardConstraintModel`."""
        lo, hi = self.domain.lower.astype(x.dtype), self.domain.upper.astype(x.dtype)
        w = hi - lo
        return jnp.prod(4 * (x - lo) * (hi - x) / w**2) * jnp.min(w) ** 2 / 4


class RigidMotionPoissonBoltzmann(AbstractPDEProblem):
    r"""The 9-input nPBE of seed 003: $\phi(x, \omega)$, $x\in K_1$, $\omega\in K_2\subset
    \mathbb{R}^6$, for a molecule moved rigidly,
    $x_n(\omega) = R(\omega_{1:3})\,x_n^0 + \omega_{4:6}$ ($R$ by Rodrigues' formula from the
    rotation vector $\omega_{1:3}$, `rotation_matrix`).

    **Arguments:** `molecule` a `MolecularPoissonBoltzmann` in its reference pose (charges
    $x_n^0$, materials, box $K_1$); `max_rotation` the bound $|\omega_i|\le$ `max_rotation`
    on the rotation-vector components; `max_translation` the bound on the translation
    components. `domain` is the 9-D box $K_1\times K_2$; the constraint set `"bc"` is
    $\partial K_1\times K_2$ (points $(x,\omega)$ with $x$ on a face of $K_1$).

    The residual at $(x,\omega)$ is that of `at(omega)` in $x$ only; `sq_distance` vanishes
    on $\partial K_1\times K_2$.
    """

    molecule: MolecularPoissonBoltzmann
    max_rotation: Float[Array, ""]
    max_translation: Float[Array, ""]
    domain: Box

    def __init__(self, molecule: MolecularPoissonBoltzmann, *,
                 max_rotation: ArrayLike = 0.5, max_translation: ArrayLike = 0.2):
        if not isinstance(molecule, MolecularPoissonBoltzmann):
            raise TypeError(
                f"`molecule` must be a MolecularPoissonBoltzmann, got {type(molecule).__name__}."
            )
        self.molecule = molecule
        self.max_rotation = scalar_param(max_rotation, "max_rotation", lower=0.0,
                                         what="the bound on the rotation-vector components")
        self.max_translation = scalar_param(max_translation, "max_translation", lower=0.0,
                                            what="the bound on the translation components")
        lo, hi = molecule.domain.lower, molecule.domain.upper
        r = jnp.full(3, jnp.maximum(self.max_rotation, 1e-12))
        t = jnp.full(3, jnp.maximum(self.max_translation, 1e-12))
        self.domain = Box(jnp.concatenate([lo, -r, -t]), jnp.concatenate([hi, r, t]))

    def charge_positions(self, omega: Float[Array, "6"]) -> Float[Array, "N 3"]:
        r"""$x_n(\omega) = R(\omega_{1:3})x_n^0 + \omega_{4:6}$."""
        if omega.shape != (6,):
            raise ValueError(f"`omega` must have shape (6,), got {omega.shape}.")
        rot = rotation_matrix(omega[:3])
        return self.molecule.positions.astype(omega.dtype) @ rot.T + omega[None, 3:]

    def at(self, omega: Float[Array, "6"]) -> MolecularPoissonBoltzmann:
        """The fixed-pose problem for orientation/translation `omega` (for `solve_pbe`)."""
        return eqx.tree_at(lambda m: m.positions, self.molecule, self.charge_positions(omega))

    def _split(self, p):
        if p.shape != (9,):
            raise ValueError(f"a point of this problem has shape (9,) = (x, omega), got "
                             f"{p.shape}.")
        return p[:3], p[3:]

    def boundary_value(self, p: Float[Array, "9"]) -> Float[Array, ""]:
        r"""$g(x, \omega)$."""
        x, w = self._split(p)
        return self.at(w).boundary_value(x)

    def residual(self, model: Callable, p: Float[Array, "9"]) -> Float[Array, ""]:
        x, w = self._split(p)
        return self.at(w).residual(lambda y: model(jnp.concatenate([y, w])), x)

    @property
    def constraint_names(self):
        return ("bc",)

    def constraint_value(self, name, p):
        if name == "bc":
            return self.boundary_value(p)
        self._unknown(name)

    def sample_constraint(self, name: str, n: int, *, key: PRNGKeyArray,
                          sampler: AbstractSampler = Uniform()) -> Float[Array, "n 9"]:
        if name != "bc":
            self._unknown(name)
        kx, kw = jr.split(key)
        x = self.molecule.domain.sample_boundary(n, key=kx, sampler=sampler)
        w = Box(self.domain.lower[3:], self.domain.upper[3:]).sample(n, key=kw, sampler=sampler)
        return jnp.concatenate([x, w.astype(x.dtype)], axis=1)

    def sq_distance(self, p: Float[Array, "9"]) -> Float[Array, ""]:
        r"""$d^2$ of the spatial box, vanishing on $\partial K_1\times K_2$."""
        x, _ = self._split(p)
        return self.molecule.sq_distance(x)
