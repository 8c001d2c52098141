r"""Backward-Euler time stepping of a full-order model with Newton's method.

Each step solves $r(x^n; x^{n-1}, \mu) = 0$ (`AbstractFOM.residual`) by Newton,
$x \leftarrow x - J^{-1} r$, with the model's own Jacobian solve (`solve_jacobian`), until
$\|r(x)\| \le$ `rtol` $\cdot \|r(x^{n-1})\|$ (relative to the residual of the initial guess
$x = x^{n-1}$, the NM-ROM paper's Newton tolerance 1e-8) or `max_newton` iterations (paper:
10). Steps are a `lax.scan`; gradients (forward and reverse mode) pass through each step by
implicit differentiation at the converged root (`lax.custom_root`, matrix-free GMRES on the
linearised residual); a batch of parameters is a `vmap` of this function.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx

from .._custom_types import Array, Float, Scalar
from .._solution import RESULTS, Solution, raise_if_failed
from ._fom import AbstractFOM, _check_mu


@eqx.filter_jit
def solve_fom(
    fom: AbstractFOM,
    mu: Scalar,
    *,
    rtol: float = 1e-8,
    max_newton: int = 10,
    throw: bool = True,
) -> Solution[Float[Array, "T N"]]:
    r"""The full-order trajectory $x^0, \dots, x^{n_{steps}}$ at parameter `mu`.

    **Arguments:**
    - `fom`: the model (`Burgers1D`, or any `AbstractFOM`).
    - `mu`: scalar parameter (vmap this function for a batch: one compiled program).
    - `rtol`: Newton's relative residual tolerance; `max_newton`: iterations per step.
    - `throw`: raise if some step's Newton did not converge; with `throw=False` check
      `sol.result` (`RESULTS.nonlinear_max_steps_reached`, or `nonfinite`).

    **Returns:** `Solution(value=(n_steps + 1, N) trajectory, result,
    stats={"newton_iterations": (n_steps,) iterations per step,
    "residual_norm": (n_steps,) final relative residual per step})`.
    """
    if not isinstance(fom, AbstractFOM):
        raise TypeError(f"`fom` must be an AbstractFOM (e.g. rom.Burgers1D()), got {type(fom).__name__}.")
    if not isinstance(max_newton, int) or max_newton < 1:
        raise ValueError(f"`max_newton` must be an int >= 1, got {max_newton!r}.")
    mu = _check_mu(mu)
    x0 = fom.initial_condition(mu)
    rtol = jnp.asarray(rtol, x0.dtype)

    def step(x_prev, _):
        r0 = jnp.linalg.norm(fom.residual(x_prev, x_prev, mu))
        scale = jnp.where(r0 > 0, r0, 1.0)

        def newton(f, guess):
            def cond(carry):
                _, _, rel, k = carry
                return (rel > rtol) & (k < max_newton) & jnp.isfinite(rel)

            def body(carry):
                x, r, _, k = carry
                x = x - fom.solve_jacobian(x, x_prev, mu, r)
                r = f(x)
                return x, r, jnp.linalg.norm(r) / scale, k + 1

            r_guess = f(guess)
            x, _, rel, k = jax.lax.while_loop(
                cond, body, (guess, r_guess, jnp.linalg.norm(r_guess) / scale, jnp.asarray(0))
            )
            return x, (k, rel)

        def tangent_solve(g, y):
            # J = I + O(dt/dx): well conditioned, so matrix-free GMRES on the linearisation
            op = lx.FunctionLinearOperator(g, jax.eval_shape(lambda: y))
            return lx.linear_solve(op, y, lx.GMRES(rtol=1e-12, atol=1e-12, restart=50)).value

        # Implicit differentiation of the converged step (reverse mode cannot go through
        # Newton's while_loop, and should not: d x^n = -J^{-1} d r at the root).
        x, (k, rel) = jax.lax.custom_root(
            lambda y: fom.residual(y, x_prev, mu), x_prev, newton, tangent_solve, has_aux=True
        )
        return x, (x, k, rel)

    _, (xs, iters, rel) = jax.lax.scan(step, x0, None, length=fom.n_steps)
    traj = jnp.concatenate([x0[None], xs])
    result = RESULTS.where(
        jnp.all(jnp.isfinite(rel)),
        RESULTS.where(jnp.all(rel <= rtol), RESULTS.successful, RESULTS.nonlinear_max_steps_reached),
        RESULTS.nonfinite,
    )
    sol = Solution(traj, result, {"newton_iterations": iters, "residual_norm": rel})
    return raise_if_failed(sol, throw)
