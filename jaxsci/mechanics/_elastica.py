r"""Planar inextensible elastica cantilever: shooting solve and tip pointing control.

The review seed's abstract names "positioning and pointing control of a large-deformable
beam" as a use of deep-learning-framework autodiff; the seed gives no equations, so this is
our own specification (review_inventory.md, "Positioning and pointing control"). A
cantilever of length $L$ and bending stiffness $EI$, clamped at $s = 0$, carries a dead tip
force $(F_x, F_y)$ (global axes) and a tip moment $M$. With arc length $s$, tangent angle
$\theta$ and bending moment $m$:

$$x' = \cos\theta,\quad y' = \sin\theta,\quad EI\,\theta' = m,\quad
m' = F_x\sin\theta - F_y\cos\theta,$$

i.e. $EI\,\theta'' + F_y\cos\theta - F_x\sin\theta = 0$, with $x = y = \theta = 0$ at $s = 0$
and $m(L) = M$. The boundary-value problem is solved by shooting on $m(0)$: diffrax
(`Dopri8`, `rtol = atol = 1e-12`, in the scaled variables $s/L$, $mL/EI$, $FL^2/EI$) inside
an `optimistix.Newton` root find. The pointing problem (loads that put the tip at a target
$(x, y, \theta)$) is an outer `optimistix.LevenbergMarquardt` least-squares solve around it.

Derivatives: the ODE solve is forward-mode (`diffrax.ForwardMode`), as Newton and
Levenberg-Marquardt need Jacobian-vector products; the tip map is wrapped in a `custom_jvp`
whose tangent is the $5\times5$ Jacobian (in $EI, L, F_x, F_y, M$, from `jax.jacfwd` through
the implicit root-find adjoint) times the input tangent, so, the tangent being linear,
`jax.grad`/`jax.jacrev` work too.

Analytic check: a pure end moment bends the beam into a circular arc of curvature $M/EI$,
tip angle $\theta_L = ML/EI$, tip $(EI/M)(\sin\theta_L, 1 - \cos\theta_L)$.
"""

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_value, require_positive_int
from .._solution import RESULTS, Solution, raise_if_failed
from ._kinematics import check_finite_value, check_vector
from ._materials import check_parameter

_TOL = 1e-12


class Elastica(eqx.Module):
    r"""A planar inextensible elastica cantilever: bending stiffness `EI` ($EI > 0$) and
    length `L` ($L > 0$), clamped at $s = 0$ along the $x$ axis.

    **Raises:** `ValueError` (eagerly; `EquinoxRuntimeError` when traced) unless both are
    finite and > 0.
    """

    EI: float | Float[Array, ""] = 1.0
    L: float | Float[Array, ""] = 1.0

    def __post_init__(self):
        self.EI = check_parameter(self.EI, "EI", positive=True, what="bending stiffness")
        self.L = check_parameter(self.L, "L", positive=True, what="length")


def _rhs(s, y, args):
    fx, fy = args
    th, m = y[2], y[3]
    return jnp.stack([jnp.cos(th), jnp.sin(th), m, fx * jnp.sin(th) - fy * jnp.cos(th)])


def _integrate(m0, fx, fy, saveat):
    y0 = jnp.stack([jnp.zeros_like(m0), jnp.zeros_like(m0), jnp.zeros_like(m0), m0])
    return dfx.diffeqsolve(
        dfx.ODETerm(_rhs), dfx.Dopri8(), 0.0, 1.0, 0.1, y0, args=(fx, fy), saveat=saveat,
        stepsize_controller=dfx.PIDController(rtol=_TOL, atol=_TOL),
        adjoint=dfx.ForwardMode(), max_steps=4096, throw=False,
    )


def _shoot(p):
    """Scaled shooting solve; `p = (EI, L, Fx, Fy, M)`. Returns (m0_hat, fx, fy, end, ok)."""
    EI, L, Fx, Fy, M = p[0], p[1], p[2], p[3], p[4]
    fx, fy, mL = Fx * L**2 / EI, Fy * L**2 / EI, M * L / EI

    def residual(m0, _):
        return _integrate(m0, fx, fy, dfx.SaveAt(t1=True)).ys[-1, 3] - mL

    # Linear (small-deflection) beam theory: m(0) = M + Fy L.
    root = optx.root_find(residual, optx.Newton(rtol=_TOL, atol=_TOL), mL + fy, max_steps=64,
                          throw=False)
    ode = _integrate(root.value, fx, fy, dfx.SaveAt(t1=True))
    ok = (root.result == optx.RESULTS.successful) & (ode.result == dfx.RESULTS.successful)
    return root.value, fx, fy, ode.ys[-1], ok


def _tip_core(p):
    L = p[1]
    m0, _, _, yL, ok = _shoot(p)
    return jnp.stack([L * yL[0], L * yL[1], yL[2], m0 * p[0] / L, jnp.where(ok, 0.0, 1.0)])


@jax.custom_jvp
def _tip(p):
    return _tip_core(p)


@_tip.defjvp
def _tip_jvp(primals, tangents):
    (p,), (t,) = primals, tangents
    out = _tip_core(p)
    J = jax.jacfwd(_tip_core)(p).at[4].set(0.0)
    return out, J @ t


def _check_beam(beam, fn):
    if not isinstance(beam, Elastica):
        raise TypeError(f"`beam` of `{fn}` must be an `Elastica`, got {type(beam).__name__}.")


def _check_loads(loads, name="loads"):
    loads = check_vector(loads, name, 3, "the tip loads (Fx, Fy, M)")
    return check_finite_value(loads, name)


def _params(beam, loads):
    dt = loads.dtype
    return jnp.concatenate([jnp.stack([jnp.asarray(beam.EI, dt), jnp.asarray(beam.L, dt)]), loads])


def solve_cantilever(
    beam: Elastica, loads: Float[ArrayLike, " 3"], *, throw: bool = True
) -> Solution[Float[Array, " 3"]]:
    r"""Tip pose of the cantilever under tip loads `loads` $= (F_x, F_y, M)$ `(3,)`.

    **Returns:** a `Solution` whose `value` is the tip pose $(x(L), y(L), \theta(L))$ `(3,)`;
    `stats["root_moment"]` is the clamp moment $m(0)$. `result` is
    `RESULTS.nonlinear_solve_failed` if the shooting Newton iteration or the ODE solve failed
    (very large loads, where the elastica has several equilibria, may need continuation).
    Differentiable in `loads` and the beam parameters (forward and reverse mode).

    **Raises:** `TypeError` unless `beam` is an `Elastica`; `ValueError` (trace time) unless
    `loads` has shape `(3,)`; NaN/inf loads at run time; with `throw=True` a failed solve.
    """
    _check_beam(beam, "solve_cantilever")
    loads = _check_loads(loads)
    out = _tip_jit(beam, loads)
    result = RESULTS.where(out[4] == 0.0, RESULTS.successful, RESULTS.nonlinear_solve_failed)
    return raise_if_failed(Solution(out[:3], result, {"root_moment": out[3]}), throw)


# Compiled once per beam structure and dtype (eager calls would otherwise re-trace the solve).
@eqx.filter_jit
def _tip_jit(beam, loads):
    return _tip(_params(beam, loads))


def cantilever_shape(
    beam: Elastica, loads: Float[ArrayLike, " 3"], n_points: int = 65
) -> Float[Array, "n_points 4"]:
    r"""The deformed cantilever at `n_points` equally spaced arc lengths $s \in [0, L]$:
    rows $(x, y, \theta, m)$ (in the units of `beam` and `loads`). Same solve and errors as
    `solve_cantilever` (`n_points` an int >= 2); not differentiated (use the tip pose).
    """
    _check_beam(beam, "cantilever_shape")
    n_points = require_positive_int(n_points, "n_points", 2)
    loads = _check_loads(loads)
    p = _params(beam, loads)
    m0, fx, fy, _, ok = _shoot(p)
    ys = _integrate(m0, fx, fy, dfx.SaveAt(ts=jnp.linspace(0.0, 1.0, n_points, dtype=loads.dtype))).ys
    scale = jnp.stack([p[1], p[1], jnp.ones_like(p[1]), p[0] / p[1]])
    ys = ys * scale[None, :]
    return check_value(ys, ~ok, "the shooting solve of `cantilever_shape` failed; try smaller loads.")


def point_cantilever(
    beam: Elastica,
    target: Float[ArrayLike, " 3"],
    loads0: Float[ArrayLike, " 3"] | None = None,
    *,
    rtol: float = 1e-12,
    atol: float = 1e-12,
    max_steps: int = 100,
    throw: bool = True,
) -> Solution[Float[Array, " 3"]]:
    r"""Tip loads $(F_x, F_y, M)$ that put the cantilever's tip at `target` $= (x, y,
    \theta)$ `(3,)` ("positioning and pointing"): `optimistix.LevenbergMarquardt` on the
    residual $r = (x_L/L - x^*/L,\ y_L/L - y^*/L,\ \theta_L - \theta^*)$, each evaluation a
    shooting solve (`solve_cantilever`).

    `loads0` defaults to the pure end moment that reaches the target angle, $(0, 0,
    EI\theta^*/L)$ (a circular arc): unlike small-deflection beam theory it starts in the right
    rotation regime for large tip angles.

    **Returns:** a `Solution` with `value` the loads `(3,)`, `stats` `"residual"` ($\|r\|$),
    `"tip"` (the reached pose) and `"num_steps"`; `result` from optimistix (promoted).

    **Raises:** `TypeError`/`ValueError` for a wrong `beam` or shapes; at run time NaN/inf, or
    a target position out of reach ($x^{*2} + y^{*2} > L^2$; the beam is inextensible); with
    `throw=True` a failed solve.
    """
    _check_beam(beam, "point_cantilever")
    max_steps = require_positive_int(max_steps, "max_steps")
    target = check_finite_value(check_vector(target, "target", 3, "the tip pose (x, y, theta)"), "target")
    L, EI = jnp.asarray(beam.L, target.dtype), jnp.asarray(beam.EI, target.dtype)
    target = check_value(
        target, target[0] ** 2 + target[1] ** 2 > L**2,
        "`target` tip position is farther from the clamp than the beam length `L`; an "
        "inextensible beam cannot reach it: pick |(x, y)| <= L.",
    )
    if loads0 is None:
        loads0 = jnp.stack([jnp.zeros_like(L), jnp.zeros_like(L), EI * target[2] / L])
    loads0 = _check_loads(loads0, "loads0")
    sol, result, stats = _point(beam, target, loads0, rtol, atol, max_steps)
    return raise_if_failed(Solution(sol, result, stats), throw)


@eqx.filter_jit
def _point(beam, target, loads0, rtol, atol, max_steps):
    L = jnp.asarray(beam.L, target.dtype)
    scale = jnp.stack([L, L, jnp.ones_like(L)])

    def residual(loads, _):
        return (_tip(_params(beam, loads))[:3] - target) / scale

    sol = optx.least_squares(residual, optx.LevenbergMarquardt(rtol=rtol, atol=atol), loads0,
                             max_steps=max_steps, throw=False)
    out = _tip(_params(beam, sol.value))
    r = (out[:3] - target) / scale
    result = RESULTS.where(out[4] == 0.0, RESULTS.promote(sol.result), RESULTS.nonlinear_solve_failed)
    stats = {"residual": jnp.sqrt(jnp.sum(r**2)), "tip": out[:3], "num_steps": sol.stats["num_steps"]}
    return sol.value, result, stats
