r"""Consistent initial values for index-1 DAEs $M y' = f(t, y)$ with constant $M$."""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, PyTree

from .._solution import RESULTS, Solution, raise_if_failed
from ._term import MassMatrixTerm, check_state, find_mass_term


def _split(mass: Float[Array, "n n"], rank_rtol: float):
    r"""SVD $M = U \Sigma V^\top$ and the mask of the nonzero singular values.

    The subspaces are treated as constant (`stop_gradient`): for circuit DAEs the null
    spaces of $M$ are structural (independent of the capacitances), and the SVD gradient is
    undefined at the repeated (zero) singular values anyway.
    """
    m = jax.lax.stop_gradient(mass)
    u, s, vt = jnp.linalg.svd(m)
    mask = s > rank_rtol * jnp.max(s)
    return u, vt, mask


def _residual(y, data):
    t0, y_ref, args, f, u, vt, mask = data
    diff = vt @ (y - y_ref)  # differential coordinates stay at their given values
    alg = u.T @ f(t0, y, args)  # algebraic equations U_0^T f = 0
    return jnp.where(mask, diff, alg)


@eqx.filter_jit
def consistent_initial_state(
    term: MassMatrixTerm,
    t0: Float[Array, ""] | float,
    y0: PyTree[Float[Array, "..."]],
    args: Any = None,
    *,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    max_steps: int = 50,
    rank_rtol: float = 1e-12,
    throw: bool = True,
) -> Solution:
    r"""Make the initial value of an index-1 DAE $M y' = f(t, y)$ consistent.

    With the SVD $M = U \Sigma V^\top$, $\Sigma = \operatorname{diag}(\sigma_1..\sigma_r,
    0..0)$, the DAE splits into differential coordinates $V_r^\top y$ and the algebraic
    equations $U_0^\top f(t, y) = 0$ (paper eq. (2): "the consistency conditions represent
    systems of algebraic equations"). This keeps the **differential part of `y0` fixed**
    and solves
    $$V_r^\top (y - y_0) = 0, \qquad U_0^\top f(t_0, y) = 0$$
    for $y$ by Newton's method (optimistix), whose Jacobian is nonsingular exactly when the
    DAE has index 1 at $y_0$. `rank_rtol` decides which singular values count as zero.

    **Arguments:** `term` (a `MassMatrixTerm`), `t0`, `y0` (any pytree; flattened size n),
    `args`, Newton tolerances `rtol`/`atol`/`max_steps`, `throw`.

    **Returns:** `Solution` with `value` the consistent $y(t_0)$ (structure of `y0`),
    `result` (`successful`, or optimistix's own failure code passed through: e.g.
    `nonlinear_max_steps_reached` or `nonlinear_divergence` when Newton did not converge,
    as for index > 1 or a bad guess; `nonfinite` if Newton stopped on a NaN/inf value),
    `stats = {"num_steps", "max_change"}` where `max_change` is
    $\max_i |y_i - y_{0,i}|$ (0 for an already consistent `y0`).

    **Raises:** `TypeError` if `term` is not a `MassMatrixTerm` or `y0` is not floating;
    `ValueError` if the size of `y0` does not match $M$ (trace time). NaN/inf in `y0` or
    $M$ give `result = nonfinite` (raised with `throw=True`).
    """
    term = find_mass_term(term)
    mass = term.mass_matrix(args)
    check_state(y0, mass)
    y_flat, unravel = ravel_pytree(y0)
    mass = mass.astype(y_flat.dtype)
    t0 = jnp.asarray(t0, y_flat.dtype)

    def f(t, y, a):
        return ravel_pytree(term.vector_field(t, unravel(y), a))[0]

    u, vt, mask = _split(mass, rank_rtol)
    sol = optx.root_find(
        _residual,
        optx.Newton(rtol=rtol, atol=atol),
        y_flat,
        (t0, y_flat, args, f, u, vt, mask),
        max_steps=max_steps,
        throw=False,
    )
    y = sol.value
    # optimistix's own code (nonlinear_max_steps_reached, nonlinear_divergence, singular,
    # ...) passes through; a "successful" solve with a non-finite value is `nonfinite`.
    result = RESULTS.promote(sol.result)
    bad_value = (result == RESULTS.successful) & ~jnp.all(jnp.isfinite(y))
    # NaN/inf in y0 or M: say so (rather than lineax's "non-finite input" to a solve).
    bad_input = ~(jnp.all(jnp.isfinite(y_flat)) & jnp.all(jnp.isfinite(mass)))
    result = RESULTS.where(bad_value | bad_input, RESULTS.nonfinite, result)
    out = Solution(
        value=unravel(y),
        result=result,
        stats={
            "num_steps": sol.stats["num_steps"],
            "max_change": jnp.max(jnp.abs(y - y_flat)),
        },
    )
    return raise_if_failed(out, throw)


@eqx.filter_jit
def require_consistent(
    term: MassMatrixTerm,
    t0: Float[Array, ""] | float,
    y0: PyTree[Float[Array, "..."]],
    args: Any = None,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    rank_rtol: float = 1e-12,
) -> PyTree[Float[Array, "..."]]:
    r"""Return `y0` unchanged if it is a consistent initial value, else raise.

    `y0` counts as consistent when the consistent value $y^*$ with the same differential
    part (see `consistent_initial_state`) satisfies
    $|y^*_i - y_{0,i}| \le \text{atol} + \text{rtol}\,|y_{0,i}|$ for every component; the
    test is made in the units of $y$, independent of the scaling of $f$. Raises an
    `EquinoxRuntimeError` (via `eqx.error_if`, works under `jit`) otherwise.
    """
    sol = consistent_initial_state(
        term, t0, y0, args, rank_rtol=rank_rtol, throw=False
    )
    y_flat = ravel_pytree(y0)[0]
    y_star = ravel_pytree(sol.value)[0]
    bad = jnp.any(jnp.abs(y_star - y_flat) > atol + rtol * jnp.abs(y_flat))
    bad = bad | (sol.result != RESULTS.successful)
    return eqx.error_if(
        y0,
        bad,
        "Inconsistent initial value for the DAE: the algebraic equations U_0^T f(t0, y0) "
        "= 0 do not hold at y0. Use jaxsci.dae.consistent_initial_state(term, t0, y0, "
        "args).value to project y0 onto the constraint manifold (its differential part is "
        "kept), or supply consistent initial values.",
    )
