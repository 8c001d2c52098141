r"""RODAS4: a stiffly accurate Rosenbrock method for $M y' = f(t, y)$ as a diffrax solver.

Coefficients: Hairer & Wanner, *Solving Ordinary Differential Equations II* (2nd ed.,
Springer 1996), Section VI.4, method RODAS (`rodas.f`, `METH = 1`, coefficient routine
`RODCOE`), including the dense-output coefficients `D21..D35`. The stage equations are
HW VI (4.8)-(4.10) in the transformed variables $u_i$:

$$\Big(\frac{1}{h\gamma} M - J\Big) u_i
  = f\Big(t_0 + \alpha_i h,\; y_0 + \sum_{j<i} a_{ij} u_j\Big)
  + \frac{1}{h} M \sum_{j<i} c_{ij} u_j + \gamma_i h\, \partial_t f(t_0, y_0),
\qquad y_1 = y_0 + \sum_i m_i u_i,$$

with $J = \partial_y f(t_0, y_0)$ by `jax.jacfwd`. The method is stiffly accurate
($m_i = a_{6i}$ for $i \le 5$, $m_6 = 1$), so $y_1$ satisfies the algebraic equations of an
index-1 DAE; the embedded order-3 solution is the stage-6 argument and the local error
estimate is $u_6$.
"""

from collections.abc import Callable
from typing import ClassVar

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, PyTree

from ._linsolve import lu_factor, lu_solve
from ._term import check_state, mass_aware, unwrap_mass


_BAD_Y0 = (
    "Rodas4: the initial state `y0` (or the mass matrix M) contains NaN or inf, so no step "
    "can be taken. Check y0 and M (for a circuit: its `initial_state(params)`, `mass(params)` "
    "and the parameter values) and pass finite values."
)


# --- coefficients of RODAS (Hairer-Wanner rodas.f, METH = 1) -----------------------------
_GAMMA = 0.25
_ALPHA = np.array([0.0, 0.386, 0.21, 0.63, 1.0, 1.0])
_GAMMA_I = np.array([0.25, -0.1043, 0.1035, -0.3620000000000023e-01, 0.0, 0.0])
_A = np.zeros((6, 6))
_A[1, 0] = 0.1544000000000000e01
_A[2, :2] = [0.9466785280815826e00, 0.2557011698983284e00]
_A[3, :3] = [0.3314825187068521e01, 0.2896124015972201e01, 0.9986419139977817e00]
_A[4, :4] = [
    0.1221224509226641e01,
    0.6019134481288629e01,
    0.1253708332932087e02,
    -0.6878860361058950e00,
]
_A[5, :5] = [*_A[4, :4], 1.0]
_C = np.zeros((6, 6))
_C[1, 0] = -0.5668800000000000e01
_C[2, :2] = [-0.2430093356833875e01, -0.2063599157091915e00]
_C[3, :3] = [-0.1073529058151375e00, -0.9594562251023355e01, -0.2047028614809616e02]
_C[4, :4] = [
    0.7496443313967647e01,
    -0.1024680431464352e02,
    -0.3399990352819905e02,
    0.1170890893206160e02,
]
_C[5, :5] = [
    0.8083246795921522e01,
    -0.7981132988064893e01,
    -0.3152159432874371e02,
    0.1631930543123136e02,
    -0.6058818238834054e01,
]
_M = np.array([*_A[4, :4], 1.0, 1.0])  # stiffly accurate: y1 = stage-6 argument + u6
_M_HAT = np.array([*_A[4, :4], 1.0, 0.0])  # embedded order 3: the stage-6 argument
# continuous extension (rodas.f CONT(.,3), CONT(.,4)); theta = (t - t0) / h
_D = np.array(
    [
        [
            0.1012623508344586e02,
            -0.7487995877610167e01,
            -0.3480091861555747e02,
            -0.7992771707568823e01,
            0.1025137723295662e01,
            0.0,
        ],
        [
            -0.6762803392801253e00,
            0.6087714651680015e01,
            0.1643084320892478e02,
            0.2476722511418386e02,
            -0.6594389125716872e01,
            0.0,
        ],
    ]
)

RODAS4_TABLEAU = dict(
    gamma=_GAMMA, alpha=_ALPHA, gamma_i=_GAMMA_I, a=_A, c=_C, m=_M, m_hat=_M_HAT, d=_D
)


class RodasInterpolation(dfx.AbstractLocalInterpolation):
    r"""The continuous extension of RODAS (HW VI.4, `rodas.f` `CONTRO`), order 3:

    $$y(t_0 + \theta h) = (1 - \theta) y_0 + \theta\big(y_1 + (1 - \theta)(d_1 + \theta d_2)\big),
    \qquad d_k = \sum_i D_{ki} u_i .$$

    It interpolates $y_0$ and $y_1$ exactly and is "stiff aware" (built from the stages,
    not from $f$, so it stays valid for the algebraic components of a DAE).
    """

    t0: Float[Array, ""]
    t1: Float[Array, ""]
    y0: PyTree[Array]
    y1: PyTree[Array]
    k: PyTree[Array]  # per leaf, shape (2, *leaf.shape): (d_1, d_2)

    def evaluate(self, t0, t1=None, left: bool = True):
        del left
        if t1 is not None:
            return jax.tree_util.tree_map(
                lambda a, b: b - a, self.evaluate(t0), self.evaluate(t1)
            )
        h = self.t1 - self.t0
        theta = jnp.where(h == 0, 0.0, (t0 - self.t0) / jnp.where(h == 0, 1.0, h))

        def _eval(y0, y1, k):
            th = theta.astype(y0.dtype)
            return (1 - th) * y0 + th * (y1 + (1 - th) * (k[0] + th * k[1]))

        return jax.tree_util.tree_map(_eval, self.y0, self.y1, self.k)


class Rodas4(dfx.AbstractAdaptiveSolver):
    r"""RODAS: 6-stage, order-4, stiffly accurate, L-stable Rosenbrock method with an
    embedded order-3 error estimate and an order-3 continuous extension.

    Solves $M y' = f(t, y, \text{args})$ for a [`jaxsci.dae.MassMatrixTerm`][] (constant,
    possibly singular $M$; index-1 DAEs) and $y' = f$ for any other diffrax term (e.g.
    `diffrax.ODETerm`, $M = I$). Use it like any diffrax solver:

    ```python
    sol = diffrax.diffeqsolve(term, Rodas4(), t0, t1, dt0, y0, args,
                              saveat=diffrax.SaveAt(ts=ts),
                              stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-8))
    ```

    The Jacobian $\partial_y f$ and $\partial_t f$ are computed by forward-mode autodiff at
    every step; each step makes one LU factorisation of $M/(h\gamma) - J$ and six solves.
    The state may be any pytree (it is flattened internally); the initial value of a DAE
    must be consistent (see [`jaxsci.dae.consistent_initial_state`][]).

    Coefficients: Hairer & Wanner (1996), Sec. VI.4, RODAS (`rodas.f`, `METH = 1`).

    **Raises / result codes:** a mass matrix whose size does not match `y0` raises
    `ValueError` when `diffeqsolve` traces the solver; a NaN/inf `y0` or mass matrix raises
    `EquinoxRuntimeError` at the start of the solve. Non-finite *trial* steps are rejected
    (the step shrinks); a NaN Jacobian at an accepted state (NaN parameters in `args`)
    therefore ends in `max_steps_reached` (`jaxsci.dae.simulate` / `sweep` refuse such
    parameters before solving).
    """

    term_structure: ClassVar = dfx.AbstractTerm
    interpolation_cls: ClassVar[Callable[..., RodasInterpolation]] = RodasInterpolation

    def order(self, terms):
        del terms
        return 4

    def error_order(self, terms):
        del terms
        return 4

    def init(self, terms, t0, t1, y0, args):
        del t0, t1
        y0_flat, _ = ravel_pytree(y0)
        mass = unwrap_mass(terms, args)
        if mass is not None:
            # Trace time: a mass matrix of the wrong size would otherwise surface as a raw
            # broadcasting error inside the step.
            check_state(y0, mass)
        # A NaN/inf initial state (or mass matrix) can never be stepped away from: every
        # step is rejected, and the controller's tolerance atol + rtol |y| is NaN, so no
        # failure code can be accepted either. Refuse it here, once per solve; the checked
        # zero is added to every step's result so that the check stays in the program.
        # (A per-step finiteness test of M, df/dy and df/dt, reporting `nonfinite`, cost a
        # circuit sweep ~3-5 %: NaN parameters are refused by `simulate` / `sweep` instead.)
        bad = ~jnp.all(jnp.isfinite(y0_flat))
        if mass is not None:
            bad = bad | ~jnp.all(jnp.isfinite(mass))
        token = jnp.zeros((), y0_flat.dtype)
        return eqx.error_if(token, bad, _BAD_Y0)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        del made_jump
        with mass_aware():  # this solver honours a MassMatrixTerm's M
            return self._step(terms, t0, t1, y0, args, solver_state)

    def _step(self, terms, t0, t1, y0, args, token=None):
        y0_flat, unravel = ravel_pytree(y0)
        dtype = y0_flat.dtype
        n = y0_flat.shape[0]
        control = terms.contr(t0, t1)
        h = jnp.asarray(t1 - t0, dtype)
        unit = control / jnp.where(h == 0, 1.0, h)  # +1, or -1 when integrating backwards

        def f(t, y_flat):
            out = terms.vf_prod(t, unravel(y_flat), args, unit)
            return ravel_pytree(out)[0].astype(dtype)

        mass = unwrap_mass(terms, args)
        mass = jnp.eye(n, dtype=dtype) if mass is None else mass.astype(dtype)
        t0_ = jnp.asarray(t0, dtype)
        dfdt, jac = jax.jacfwd(f, argnums=(0, 1))(t0_, y0_flat)
        h_safe = jnp.where(h == 0, jnp.finfo(dtype).tiny, h)
        w = mass / (h_safe * _GAMMA) - jac
        lu_piv = lu_factor(w)

        a = jnp.asarray(_A, dtype)
        c = jnp.asarray(_C, dtype)
        alpha = jnp.asarray(_ALPHA, dtype)
        gamma_i = jnp.asarray(_GAMMA_I, dtype)

        # The six stages as one loop over the tableau rows (rows of `a`, `c` are zero from
        # the stage index on, and so are the rows of `u` not yet computed): one compiled
        # copy of f and of the triangular solves instead of six, which cut XLA's compile
        # time of a circuit solve by ~40 % at the same run time.
        def stage(i, u):
            y_stage = y0_flat + a[i] @ u
            rhs = f(t0_ + alpha[i] * h, y_stage) + mass @ (c[i] @ u) / h_safe
            rhs = rhs + gamma_i[i] * h * dfdt
            return u.at[i].set(lu_solve(lu_piv, rhs))

        u = jax.lax.fori_loop(0, 6, stage, jnp.zeros((6, n), dtype))
        y1_flat = y0_flat + jnp.asarray(_M, dtype) @ u
        err_flat = u[5]
        finite = jnp.all(jnp.isfinite(y1_flat)) & jnp.all(jnp.isfinite(err_flat))
        # A non-finite trial step must be rejected, not propagated: an infinite error
        # estimate makes the PID controller shrink the step.
        y1_flat = jnp.where(finite, y1_flat, y0_flat)
        err_flat = jnp.where(finite, err_flat, jnp.inf)
        if token is not None:
            y1_flat = y1_flat + token
        dcoef = jnp.asarray(_D, dtype) @ u  # (2, n)
        dcoef = jnp.where(finite, dcoef, 0.0)
        y1 = unravel(y1_flat)
        k = jax.tree_util.tree_map(
            lambda a0, a1: jnp.stack([a0, a1]), unravel(dcoef[0]), unravel(dcoef[1])
        )
        dense_info = dict(y0=y0, y1=y1, k=k)
        return y1, unravel(err_flat), dense_info, token, dfx.RESULTS.successful

    def func(self, terms, t0, y0, args):
        # Used by diffrax only to pick the first step size: return an estimate of y'
        # (least-squares solution of M y' = f) rather than f itself.
        with mass_aware():
            fy = terms.vf(t0, y0, args)
        mass = unwrap_mass(terms, args)
        if mass is None:
            return fy
        f_flat, unravel = ravel_pytree(fy)
        yp = jnp.linalg.lstsq(mass.astype(f_flat.dtype), f_flat)[0]
        return unravel(yp)
