r"""PDE problems as Modules: a pointwise residual, constraint data and exact solutions.

Every problem implements `residual(model, x)` for ONE collocation point and names its
constraint sets (`"ic"`, `"bc"`, ...) with `constraint_value(name, x)` (the target value) and
`sample_constraint(name, n, key=..., sampler=...)` (where the points live). `exact(x)` is the
known solution or raises `NotImplementedError`. Space-time points are $(x, t)$.
"""

import abc
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._checks import as_float_array, check_value, require_positive_int
from ._burgers import burgers_exact
from ._flux import AbstractFlux
from ._validate import scalar_param
from ._operators import derivatives_1d
from ._riemann import RiemannSolution
from ._sampling import AbstractSampler, Box, Uniform
from ._chunked import autodiff_chunk_vjp, chunked_mse
from ._taylor import _is_plain_mlp, batch_derivatives_1d, mlp_sq_residual_vjp

DEFAULT_CHUNK_SIZE = 512


class AbstractPDEProblem(eqx.Module):
    """A PDE on `domain` with named constraint sets."""

    domain: eqx.AbstractVar[Box]

    @abc.abstractmethod
    def residual(self, model: Callable, x: Float[Array, " d"]) -> Float[Array, ""]:
        """PDE residual $r(x)$ of `model` at one point (zero for the exact solution)."""

    @property
    @abc.abstractmethod
    def constraint_names(self) -> tuple[str, ...]:
        """Names of the constraint sets, e.g. `("ic", "bc")`."""

    @abc.abstractmethod
    def constraint_value(self, name: str, x: Float[Array, " d"]) -> Float[Array, ""]:
        """Target value of constraint `name` at one point of that set."""

    @abc.abstractmethod
    def sample_constraint(
        self, name: str, n: int, *, key: PRNGKeyArray, sampler: AbstractSampler = Uniform()
    ) -> Float[Array, "n d"]:
        """`n` points of constraint set `name`."""

    def residuals(self, model: Callable, points: Float[Array, "n d"]) -> Float[Array, " n"]:
        """Residual at a batch of points (default: `vmap` of `residual`;
        `AbstractSpaceTime1DProblem`s use the Taylor-mode MLP path of
        `batch_derivatives_1d` when they can)."""
        return jax.vmap(lambda x: self.residual(model, x))(points)

    def residual_mse(
        self, model: Callable, points: Float[Array, "n d"], *,
        chunk_size: int | None = DEFAULT_CHUNK_SIZE,
    ) -> Float[Array, ""]:
        r"""Residual loss $L_r = \frac{1}{n}\sum_i r(x_i)^2$ (Fuks & Tchelepi eq. 16).

        With an int `chunk_size` (default 512) the points are processed that many at a time
        and the gradient is accumulated chunk by chunk inside a `jax.custom_vjp`
        (`jaxsci.pinn._chunked`: cache-sized working set; for an
        `AbstractSpaceTime1DProblem` on a plain MLP the chunk gradient is the hand-written
        Taylor-mode reverse pass).
        Reverse mode and `vmap` only; `chunk_size=None` gives the plain expression
        `mean(residuals(model, points) ** 2)`, differentiable in every mode (use it for
        Hessians / forward mode). Both agree to float rounding.
        """
        if not hasattr(points, "ndim") or points.ndim != 2 or points.shape[0] == 0:
            raise ValueError(
                f"`points` must be a non-empty (n, d) array of residual points, got shape "
                f"{getattr(points, 'shape', type(points))}."
            )
        if chunk_size is None:
            return jnp.mean(self.residuals(model, points) ** 2)
        return chunked_mse(
            lambda pr, m, x, w: pr._chunk_vjp(m, x, w), self, model, points, chunk_size
        )

    def _chunk_vjp(self, model, x, w):
        return autodiff_chunk_vjp(self, model, x, w)

    def exact(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        """Exact solution at one point, where known."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form solution.")

    def _unknown(self, name):
        raise ValueError(
            f"unknown constraint {name!r} for {type(self).__name__}; expected one of "
            f"{self.constraint_names}."
        )


class AbstractSpaceTime1DProblem(AbstractPDEProblem):
    r"""A PDE in one space dimension and time whose residual depends on the model only
    through $(u, u_x, u_{xx}, u_t)$ at $(x, t)$: the way for a user problem to opt in to the
    Taylor-mode fast path.

    A subclass implements `residual_from_derivatives(u, ux, uxx, ut, x)` (elementwise, for
    arrays of points `x` of shape `(..., 2)`), `domain`, and `constraint_value(name, x)`
    for the constraint sets `"ic"` ($t = t_0$) and `"bc"` ($x = x_0$), which are sampled on
    those faces of `domain` (override `constraint_names` / `sample_constraint` for others).
    It then gets

    - `residual(model, x)` at one point (nested `jvp`, any model);
    - `residuals(model, points)` by `batch_derivatives_1d`: the Taylor-mode forward pass
      for a plain MLP (`jaxsci.nn.MLP` or `eqx.nn.MLP`), `vmap` otherwise;
    - `residual_mse(model, points)` whose chunk gradient is the hand-written Taylor-mode
      reverse pass for a plain MLP (see `mlp_derivatives_1d`), autodiff otherwise.

    `RiemannProblem`, `LinearAdvection` and `ViscousBurgers` are built this way.
    """

    @abc.abstractmethod
    def residual_from_derivatives(
        self,
        u: Float[Array, "*n"],
        ux: Float[Array, "*n"],
        uxx: Float[Array, "*n"],
        ut: Float[Array, "*n"],
        x: Float[Array, "*n 2"],
    ) -> Float[Array, "*n"]:
        """Residual from the derivatives at (arrays of) points `x` (`(..., 2)`)."""

    def residual(self, model, x):
        return self.residual_from_derivatives(*derivatives_1d(model, x), x)

    def residuals(self, model, points):
        return self.residual_from_derivatives(*batch_derivatives_1d(model, points), points)

    def _chunk_vjp(self, model, x, w):
        if _is_plain_mlp(model):
            return mlp_sq_residual_vjp(self, model, x, w)
        return autodiff_chunk_vjp(self, model, x, w)

    @property
    def constraint_names(self):
        return ("ic", "bc")

    def sample_constraint(self, name, n, *, key, sampler=Uniform()):
        if name == "ic":
            return self.domain.sample_face(n, 1, 0, key=key, sampler=sampler)
        if name == "bc":
            return self.domain.sample_face(n, 0, 0, key=key, sampler=sampler)
        self._unknown(name)


class RiemannProblem(AbstractSpaceTime1DProblem):
    r"""Scalar conservation law with Riemann data (Fuks & Tchelepi eqs. 17, 18, 22):

    $$u_t + f'(u)\, u_x = \epsilon\, u_{xx}, \quad (x, t) \in [0, 1]^2,\qquad
    u(x, 0) = u_R,\ u(0, t) = u_L.$$

    The residual is eq. (22) (eq. (17) in non-conservative form when $\epsilon = 0$).
    `exact` is the inviscid entropy solution ($\epsilon = 0$, `RiemannSolution`), the
    reference the paper measures the errors against for every $\epsilon$.
    """

    flux: AbstractFlux
    epsilon: Float[Array, ""]
    u_left: Float[Array, ""]
    u_right: Float[Array, ""]
    domain: Box

    def __init__(
        self,
        flux: AbstractFlux,
        epsilon: ArrayLike = 0.0,
        u_left: ArrayLike = 1.0,
        u_right: ArrayLike = 0.0,
        domain: Box | None = None,
    ):
        if not isinstance(flux, AbstractFlux):
            raise TypeError(f"`flux` must be an AbstractFlux, got {type(flux).__name__}.")
        self.flux = flux
        self.epsilon = scalar_param(
            epsilon, "epsilon", lower=0.0, what="the diffusion coefficient",
            hint="Use 0 for the inviscid problem.",
        )
        self.u_left = scalar_param(u_left, "u_left", what="the injected state")
        self.u_right = scalar_param(u_right, "u_right", what="the initial state")
        if domain is not None and not (isinstance(domain, Box) and domain.dim == 2):
            raise ValueError(f"`domain` must be a 2-D Box over (x, t), got {domain!r}.")
        self.domain = Box([0.0, 0.0], [1.0, 1.0]) if domain is None else domain

    def residual_from_derivatives(self, u, ux, uxx, ut, x):
        return ut + self.flux.derivative(u) * ux - self.epsilon.astype(u.dtype) * uxx

    def constraint_value(self, name, x):
        if name == "ic":
            return self.u_right.astype(x.dtype)
        if name == "bc":
            return self.u_left.astype(x.dtype)
        self._unknown(name)

    def exact(self, x):
        return RiemannSolution(self.flux, self.u_left, self.u_right)(x)


def _bump(x):
    return jnp.exp(-(((x - 0.3) / 0.08) ** 2))


class LinearAdvection(AbstractSpaceTime1DProblem):
    r"""Linear transport $u_t + a(x)\, u_x = 0$ with $a(x) = a_0 + a_1 x$ on $[0, 1]^2$,
    $u(x, 0) = u_0(x)$, inflow data at $x = 0$ from the exact solution (LSGD paper, seed 001,
    eqs. 14-15: $a = 1$ gives $u = u_0(x - t)$, $a = x$ gives $u = u_0(x e^{-t})$).

    Along the characteristics $\dot x = a_0 + a_1 x$, so the foot is
    $x_0 = x - a_0 t$ ($a_1 = 0$) or $x_0 = (x + a_0/a_1) e^{-a_1 t} - a_0/a_1$.
    `initial` defaults to the bump $\exp(-((x - 0.3)/0.08)^2)$.
    """

    a0: float = eqx.field(static=True)
    a1: float = eqx.field(static=True)
    initial: Callable = eqx.field(static=True)
    domain: Box

    def __init__(self, a0: float = 1.0, a1: float = 0.0, initial: Callable = _bump):
        for name, v in (("a0", a0), ("a1", a1)):
            if isinstance(v, jax.core.Tracer) or np.ndim(v) != 0 or not np.issubdtype(
                np.asarray(v).dtype, np.number
            ):
                raise TypeError(
                    f"`{name}` is a static Python float (it selects the characteristic "
                    f"formula), got {type(v).__name__}; build LinearAdvection outside jit."
                )
            if not np.isfinite(float(v)):
                raise ValueError(f"`{name}` must be finite, got {float(v)}.")
        if not callable(initial):
            raise TypeError(f"`initial` must be a callable u0(x), got {type(initial).__name__}.")
        self.a0 = float(a0)
        self.a1 = float(a1)
        self.initial = initial
        self.domain = Box([0.0, 0.0], [1.0, 1.0])

    def velocity(self, x: Float[Array, ""]) -> Float[Array, ""]:
        return self.a0 + self.a1 * x

    def foot(self, point: Float[Array, "2"]) -> Float[Array, ""]:
        """Foot $x_0$ of the characteristic through $(x, t)$."""
        x, t = point[0], point[1]
        if self.a1 == 0.0:
            return x - self.a0 * t
        c = self.a0 / self.a1
        return (x + c) * jnp.exp(-self.a1 * t) - c

    def residual_from_derivatives(self, u, ux, uxx, ut, x):
        return ut + self.velocity(x[..., 0]) * ux

    def constraint_value(self, name, x):
        if name in ("ic", "bc"):
            return self.exact(x)
        self._unknown(name)

    def exact(self, x):
        return self.initial(self.foot(x))


class ViscousBurgers(AbstractSpaceTime1DProblem):
    r"""$u_t + u u_x = \nu u_{xx}$ on $[-1, 1] \times [0, 1]$, $u(x, 0) = -\sin(\pi x)$,
    $u(\pm 1, t) = 0$ (Raissi et al. 2019; Fuks & Tchelepi section 4.2.2 compare with
    $\nu = 0.01/\pi$).

    `exact` is the Cole-Hopf solution
    $u = -\int \sin(\pi y)\, e^{-\Phi(y)/(2\nu)} dy / \int e^{-\Phi(y)/(2\nu)} dy$,
    $\Phi(y) = (x - y)^2/(2t) + \cos(\pi y)/\pi$, for **every** $\nu > 0$: Gauss-Legendre
    rules of `n_quad` nodes on windows around the (one or two) minimisers of $\Phi$, found by
    bisection, for $\nu < 1/4$; the Fourier-Bessel series of the heat solution for
    $\nu \ge 1/4$ (details in `jaxsci/pinn/_burgers.py`). Valid range: any $\nu > 0$,
    $0 \le t \le 1$ (the problem's time interval), any $x$ (the solution is 2-periodic);
    accurate to about 1e-11 in float64 (checked against adaptive `scipy.integrate.quad` for
    $\nu$ from $10^{-10}$ to $100$, including the shock at $x = 0$), about 1e-6 in float32
    away from the shock (within a few $\nu$ of it the float32 error is its resolution of the
    shock position, up to ~1e-4 at $\nu = 10^{-4}$).
    `exact` works under `jit`, `vmap` and `grad` / `jvp` (its $x$, $t$ and $\nu$
    derivatives are those of the integral).

    **Raises:** `ValueError` (or `EquinoxRuntimeError` when traced) if `nu` is not finite
    and positive; `ValueError` if `n_quad < 8`; `exact` refuses a point that is not of
    shape `(2,)` (`ValueError`) or has $t \notin [0, 1]$ or a non-finite entry
    (`ValueError` / `EquinoxRuntimeError`).
    """

    nu: Float[Array, ""]
    domain: Box
    nodes: Float[Array, " q"]
    weights: Float[Array, " q"]

    def __init__(self, nu: ArrayLike = 0.01 / np.pi, n_quad: int = 128):
        nu = as_float_array(nu, "nu")
        if nu.ndim != 0:
            raise ValueError(f"`nu` must be a scalar viscosity, got shape {nu.shape}.")
        n_quad = require_positive_int(n_quad, "n_quad", minimum=8)
        self.nu = check_value(
            nu, ~(jnp.isfinite(nu) & (nu > 0)),
            "`nu` must be a finite positive viscosity; got a value <= 0 or non-finite "
            "(use a small positive nu, e.g. 1e-6, for a nearly inviscid problem).",
        )
        self.domain = Box([-1.0, 0.0], [1.0, 1.0])
        z, w = np.polynomial.legendre.leggauss(n_quad)
        self.nodes = jnp.asarray(z, dtype=float)
        self.weights = jnp.asarray(w, dtype=float)

    def residual_from_derivatives(self, u, ux, uxx, ut, x):
        return ut + u * ux - self.nu.astype(u.dtype) * uxx

    def constraint_value(self, name, x):
        if name == "ic":
            return -jnp.sin(jnp.pi * x[0])
        if name == "bc":
            return jnp.zeros((), x.dtype)
        self._unknown(name)

    def sample_constraint(self, name, n, *, key, sampler=Uniform()):
        if name == "ic":
            return self.domain.sample_face(n, 1, 0, key=key, sampler=sampler)
        if name == "bc":
            pts = self.domain.sample(n, key=key, sampler=sampler)
            side = jnp.where(jnp.arange(n) % 2 == 0, -1.0, 1.0).astype(pts.dtype)
            return pts.at[:, 0].set(side)
        self._unknown(name)

    def exact(self, x):
        x = jnp.asarray(x)
        if x.shape != (2,) or not jnp.issubdtype(x.dtype, jnp.floating):
            raise ValueError(
                f"`x` must be ONE floating point (x, t) of shape (2,), got shape {x.shape} "
                f"and dtype {x.dtype}; use jax.vmap(problem.exact) for a batch."
            )
        x = check_value(
            x, ~jnp.all(jnp.isfinite(x)) | (x[1] < 0) | (x[1] > 1),
            "`x` = (x, t) must be finite with 0 <= t <= 1 (the time interval on which "
            "ViscousBurgers.exact is valid); drop or clip such points.",
        )
        xx, t = x[0], x[1]
        positive = t > 0
        t_safe = jnp.where(positive, t, jnp.ones_like(t))
        u = burgers_exact(
            xx, t_safe, self.nu.astype(x.dtype), self.nodes.astype(x.dtype),
            self.weights.astype(x.dtype),
        )
        return jnp.where(positive, u, -jnp.sin(jnp.pi * xx))
