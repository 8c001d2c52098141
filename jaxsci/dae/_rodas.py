r"""Rosenbrock methods for $M y' = f(t, y)$ as diffrax solvers: one stage loop
(`AbstractRosenbrock`) for every tableau of `jaxsci.dae._tableau` (Rodas4, Rodas4P,
Rodas4P2, Rodas5P, ROS3P).

The stage equations are Hairer & Wanner, *Solving ODEs II* (1996), VI (4.8)-(4.10), in the
transformed variables $u_i$:

$$\Big(\frac{1}{h\gamma} M - J\Big) u_i
  = f\Big(t_0 + \alpha_i h,\; y_0 + \sum_{j<i} a_{ij} u_j\Big)
  + \frac{1}{h} M \sum_{j<i} c_{ij} u_j + \gamma_i h\, \partial_t f(t_0, y_0),
\qquad y_1 = y_0 + \sum_i m_i u_i,$$

with $J = \partial_y f(t_0, y_0)$ by `jax.jacfwd`, one LU factorisation per step and one
solve per stage. For a stiffly accurate method ($m_i = a_{si}$, $i < s$, $m_s = 1$) $y_1$
satisfies the algebraic equations of an index-1 DAE. The local error estimate is
$\sum_i (m_i - \hat m_i) u_i$.
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

from ._banded import (
    AbstractJacobian,
    band_lu_factor,
    band_lu_solve,
    band_matvec,
    banded_jacobian,
    BandedJacobian,
    dense_to_band,
    DenseJacobian,
    outside_band,
)
from ._linsolve import lu_factor, lu_solve
from ._tableau import RODAS4, RODAS4P, RODAS4P2, RODAS5P, ROS3P, RosenbrockTableau
from ._term import check_state, mass_aware, unwrap_mass


_OUTSIDE_BAND = (
    "Rosenbrock solver with BandedJacobian(lower, upper): the Jacobian df/dy at (t0, y0) or "
    "the mass matrix has a nonzero entry outside the declared band, so the coloured "
    "Jacobian would be wrong. Declare wider bandwidths (or reorder the unknowns so that "
    "couplings are near the diagonal), or use DenseJacobian()."
)

_BAD_Y0 = (
    "Rosenbrock solver: the initial state `y0` (or the mass matrix M) contains NaN or inf, so no step "
    "can be taken. Check y0 and M (for a circuit: its `initial_state(params)`, `mass(params)` "
    "and the parameter values) and pass finite values."
)


class RodasInterpolation(dfx.AbstractLocalInterpolation):
    r"""The continuous extension of a Rosenbrock step (HW VI.4, `rodas.f` `CONTRO`, and
    Steinebach 2023 for Rodas5P), built from its stages:

    $$y(t_0 + \theta h) = (1 - \theta) y_0 + \theta\Big(y_1 + (1 - \theta)\big(d_1 +
    \theta(d_2 + \theta(d_3 + \dots))\big)\Big), \qquad d_k = \sum_i D_{ki} u_i ,$$

    of order 3 for the RODAS4 family, 4 for Rodas5P; with no rows $d_k$ (ROS3P) the linear
    interpolant. It interpolates $y_0$ and $y_1$ exactly and is "stiff aware" (built from
    the stages, not from $f$, so it stays valid for the algebraic components of a DAE).
    """

    t0: Float[Array, ""]
    t1: Float[Array, ""]
    y0: PyTree[Array]
    y1: PyTree[Array]
    k: PyTree[Array]  # per leaf, shape (r, *leaf.shape): (d_1, ..., d_r)

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
            if k.shape[0] == 0:
                return (1 - th) * y0 + th * y1
            inner = k[-1]
            for j in range(k.shape[0] - 2, -1, -1):  # Horner in theta
                inner = k[j] + th * inner
            return (1 - th) * y0 + th * (y1 + (1 - th) * inner)

        return jax.tree_util.tree_map(_eval, self.y0, self.y1, self.k)


class AbstractRosenbrock(dfx.AbstractAdaptiveSolver):
    r"""A Rosenbrock method for $M y' = f(t, y, \text{args})$ given by its `tableau` (a class
    attribute, `jaxsci.dae._tableau.RosenbrockTableau`); the concrete methods are `Rodas4`,
    `Rodas4P`, `Rodas4P2`, `Rodas5P` and `ROS3P`. All share this one stage loop.

    Solves $M y' = f(t, y, \text{args})$ for a [`jaxsci.dae.MassMatrixTerm`][] (constant,
    possibly singular $M$; index-1 DAEs) and $y' = f$ for any other diffrax term (e.g.
    `diffrax.ODETerm`, $M = I$). The Jacobian $\partial_y f$ and $\partial_t f$ are computed
    by forward-mode autodiff at every step; each step makes one LU factorisation of
    $M/(h\gamma) - J$ and one solve per stage. The state may be any pytree (it is flattened
    internally); the initial value of a DAE must be consistent (see
    [`jaxsci.dae.consistent_initial_state`][]).

    **Raises / result codes:** a mass matrix whose size does not match `y0` raises
    `ValueError` when `diffeqsolve` traces the solver; a NaN/inf `y0` or mass matrix raises
    `EquinoxRuntimeError` at the start of the solve. Non-finite *trial* steps are rejected
    (the step shrinks); a NaN Jacobian at an accepted state (NaN parameters in `args`)
    therefore ends in `max_steps_reached` (`jaxsci.dae.simulate` / `sweep` refuse such
    parameters before solving).

    **Arguments** (of every concrete method):

    - `jacobian`: how $J$ is formed and $W$ solved: [`jaxsci.dae.DenseJacobian`][]
      (default; `jax.jacfwd` and a dense LU) or [`jaxsci.dae.BandedJacobian`][]`(lower,
      upper)` for banded $J$ and $M$ ($k_l + k_u + 1$ JVPs and a banded LU; large
      method-of-lines systems).
    """

    jacobian: AbstractJacobian = DenseJacobian()
    tableau: ClassVar[RosenbrockTableau]
    term_structure: ClassVar = dfx.AbstractTerm
    interpolation_cls: ClassVar[Callable[..., RodasInterpolation]] = RodasInterpolation

    def order(self, terms):
        del terms
        return self.tableau.order

    def error_order(self, terms):
        # the error estimate y1 - y1_hat is O(h^(embedded order + 1))
        del terms
        return self.tableau.embedded_order + 1

    def init(self, terms, t0, t1, y0, args):
        del t1
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
        token = eqx.error_if(token, bad, _BAD_Y0)
        if isinstance(self.jacobian, BandedJacobian) and self.jacobian.check:
            kl, ku = self.jacobian.lower, self.jacobian.upper
            _, unravel = ravel_pytree(y0)
            dtype = y0_flat.dtype

            def f(y_flat):
                with mass_aware():
                    out = terms.vf(t0, unravel(y_flat), args)
                return ravel_pytree(out)[0].astype(dtype)

            jac = jax.jacfwd(f)(y0_flat)
            off = outside_band(jac, kl, ku)
            if mass is not None:
                off = jnp.maximum(off, outside_band(mass.astype(dtype), kl, ku))
            token = eqx.error_if(token, off > 0, _OUTSIDE_BAND)
        return token

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
        t0_ = jnp.asarray(t0, dtype)
        h_safe = jnp.where(h == 0, jnp.finfo(dtype).tiny, h)
        if isinstance(self.jacobian, BandedJacobian):
            kl, ku = self.jacobian.lower, self.jacobian.upper
            if mass is None:
                mass_rows = jnp.zeros((n, kl + ku + 1), dtype).at[:, kl].set(1.0)
            else:
                mass_rows = dense_to_band(mass.astype(dtype), kl, ku)
            dfdt = jax.jvp(lambda t: f(t, y0_flat), (t0_,), (jnp.ones((), dtype),))[1]
            jac_rows = banded_jacobian(lambda y: f(t0_, y), y0_flat, kl, ku)
            factor = band_lu_factor(mass_rows / (h_safe * self.tableau.gamma) - jac_rows, kl)

            def solve(b):
                return band_lu_solve(factor, b)

            def mass_times(v):
                return band_matvec(mass_rows, v, kl)
        else:
            mass = jnp.eye(n, dtype=dtype) if mass is None else mass.astype(dtype)
            dfdt, jac = jax.jacfwd(f, argnums=(0, 1))(t0_, y0_flat)
            lu_piv = lu_factor(mass / (h_safe * self.tableau.gamma) - jac)

            def solve(b):
                return lu_solve(lu_piv, b)

            def mass_times(v):
                return mass @ v

        tab = self.tableau
        stages = tab.num_stages
        a = jnp.asarray(tab.a, dtype)
        c = jnp.asarray(tab.c, dtype)
        alpha = jnp.asarray(tab.alpha, dtype)
        gamma_i = jnp.asarray(tab.gamma_i, dtype)

        # The stages as one loop over the tableau rows (rows of `a`, `c` are zero from
        # the stage index on, and so are the rows of `u` not yet computed): one compiled
        # copy of f and of the triangular solves instead of one per stage, which cut XLA's
        # compile time of a circuit solve by ~40 % at the same run time.
        def stage(i, u):
            y_stage = y0_flat + a[i] @ u
            rhs = f(t0_ + alpha[i] * h, y_stage) + mass_times(c[i] @ u) / h_safe
            rhs = rhs + gamma_i[i] * h * dfdt
            return u.at[i].set(solve(rhs))

        u = jax.lax.fori_loop(0, stages, stage, jnp.zeros((stages, n), dtype))
        y1_flat = y0_flat + jnp.asarray(tab.m, dtype) @ u
        err_flat = jnp.asarray(tab.m - tab.m_hat, dtype) @ u
        finite = jnp.all(jnp.isfinite(y1_flat)) & jnp.all(jnp.isfinite(err_flat))
        # A non-finite trial step must be rejected, not propagated: an infinite error
        # estimate makes the PID controller shrink the step.
        y1_flat = jnp.where(finite, y1_flat, y0_flat)
        err_flat = jnp.where(finite, err_flat, jnp.inf)
        if token is not None:
            y1_flat = y1_flat + token
        dcoef = jnp.asarray(tab.dense, dtype) @ u  # (r, n)
        dcoef = jnp.where(finite, dcoef, 0.0)
        y1 = unravel(y1_flat)
        rows = [unravel(dcoef[j]) for j in range(dcoef.shape[0])]
        if rows:
            k = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *rows)
        else:
            k = jax.tree_util.tree_map(lambda a: jnp.zeros((0, *jnp.shape(a)), dtype), y0)
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


class Rodas4(AbstractRosenbrock):
    r"""RODAS (Hairer & Wanner 1996, Sec. VI.4, `rodas.f`, `METH = 1`): 6 stages, order 4,
    stiffly accurate, L-stable, embedded order 3, continuous extension of order 3. The
    default solver of `jaxsci.dae.simulate` / `sweep`.
    """

    tableau: ClassVar[RosenbrockTableau] = RODAS4


class Rodas4P(AbstractRosenbrock):
    r"""RODAS4P (Steinebach 1995): 6 stages, order 4(3), stiffly accurate, L-stable, built to
    avoid the order reduction of RODAS on index-1 DAEs and semi-discretised PDEs (B-conditions
    of order 4); continuous extension of order 3.
    """

    tableau: ClassVar[RosenbrockTableau] = RODAS4P


class Rodas4P2(AbstractRosenbrock):
    r"""RODAS4P2 (Steinebach 2020): 6 stages, order 4(3), stiffly accurate; RODAS4P with
    improved dense output and smaller error constants for DAEs; continuous extension of
    order 3.
    """

    tableau: ClassVar[RosenbrockTableau] = RODAS4P2


class Rodas5P(AbstractRosenbrock):
    r"""RODAS5P (Steinebach 2023): 8 stages, order 5(4), stiffly accurate, L-stable, with a
    continuous extension of order 4 — the recommended method for tight tolerances.
    """

    tableau: ClassVar[RosenbrockTableau] = RODAS5P


class ROS3P(AbstractRosenbrock):
    r"""ROS3P (Lang & Verwer 2001): 3 stages, order 3(2), A-stable, not stiffly accurate
    (so $y_1$ satisfies algebraic equations only to the error tolerance): cheap steps for
    loose tolerances and parabolic PDEs. Dense output is the linear interpolant between
    step ends (error $O(h^2)$; no continuous extension is published): make the saved
    times step ends (`PIDController(step_ts=ts)`) when output between steps matters.
    """

    tableau: ClassVar[RosenbrockTableau] = ROS3P
