r"""Linear-subspace ROMs: POD-Galerkin and LSPG on an affine subspace $x = x_{ref} + \Phi q$.

Both advance the reduced coordinates $q \in \mathbb{R}^{n_s}$ by backward Euler on the
full-order residual $r(x; x^{n-1}, \mu)$ of an `AbstractFOM` (Kim, Choi, Widemann & Zohdi,
JCP 451:110841, 2022, §3; review seed 002, §12):

- **Galerkin**: $\Phi^\top r(x_{ref} + \Phi q^n;\, x_{ref} + \Phi q^{n-1}) = 0$, solved by
  Newton in $\mathbb{R}^{n_s}$ (for orthonormal $\Phi$ this is
  $q^n - q^{n-1} - \Delta t\, \Phi^\top f(x_{ref} + \Phi q^n) = 0$);
- **LSPG**: $q^n = \arg\min_q \|r(x_{ref} + \Phi q;\, x_{ref} + \Phi q^{n-1})\|_2$, solved by
  Gauss-Newton (eq. 9 of the paper) with the $N \times n_s$ Jacobian $J_r \Phi$ from
  forward-mode autodiff ($n_s$ JVPs, never the $N \times N$ Jacobian).

$x_{ref}$ is the initial condition (snapshots are centred on it, as in the paper), so
$q^0 = 0$ and the initial state is reproduced exactly.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from .._custom_types import Array, Float, Scalar
from .._solution import RESULTS, Solution, raise_if_failed
from ._fom import AbstractFOM, _check_mu


def _check(fom, basis, mu, max_iterations):
    if not isinstance(fom, AbstractFOM):
        raise TypeError(f"`fom` must be an AbstractFOM (e.g. rom.Burgers1D()), got {type(fom).__name__}.")
    basis = jnp.asarray(basis)
    if basis.ndim != 2 or basis.shape[0] != fom.size or basis.shape[1] < 1:
        raise ValueError(
            f"`basis` must be an (N, n_s) matrix with N = fom.size = {fom.size}, got shape "
            f"{basis.shape}."
        )
    if not isinstance(max_iterations, int) or max_iterations < 1:
        raise ValueError(f"`max_iterations` must be an int >= 1, got {max_iterations!r}.")
    return basis, _check_mu(mu)


def _reduced_solve(fom, basis, mu, residual_fn, rtol, max_iterations):
    """Shared time loop: `residual_fn(q, q_prev) -> (vector whose root / LS minimum is q)`."""
    x_ref = fom.initial_condition(mu)
    basis = basis.astype(x_ref.dtype)
    q0 = jnp.zeros(basis.shape[1], x_ref.dtype)
    rtol = jnp.asarray(rtol, x_ref.dtype)

    def step(q_prev, _):
        r_fn = lambda q: residual_fn(x_ref, basis, q, q_prev)
        r0 = jnp.linalg.norm(r_fn(q_prev))
        scale = jnp.where(r0 > 0, r0, 1.0)

        def cond(c):
            _, dq, k = c
            return (k == 0) | ((dq > rtol) & (k < max_iterations) & jnp.isfinite(dq))

        def body(c):
            q, _, k = c
            jac, r = jax.jacfwd(lambda y: (lambda r: (r, r))(r_fn(y)), has_aux=True)(q)
            dq = jnp.linalg.lstsq(jac, -r)[0]   # Newton (square) or Gauss-Newton (tall)
            q = q + dq
            return q, jnp.linalg.norm(dq) / jnp.maximum(jnp.linalg.norm(q), 1.0), k + 1

        q, dq, k = jax.lax.while_loop(cond, body, (q_prev, jnp.asarray(jnp.inf, x_ref.dtype), jnp.asarray(0)))
        return q, (q, k, dq, jnp.linalg.norm(r_fn(q)) / scale)

    _, (qs, iters, dq, rel) = jax.lax.scan(step, q0, None, length=fom.n_steps)
    qs = jnp.concatenate([q0[None], qs])
    states = x_ref[None, :] + qs @ basis.T
    result = RESULTS.where(
        jnp.all(jnp.isfinite(dq)),
        RESULTS.where(jnp.all(dq <= rtol), RESULTS.successful, RESULTS.nonlinear_max_steps_reached),
        RESULTS.nonfinite,
    )
    stats = {"iterations": iters, "reduced_coordinates": qs, "relative_residual": rel}
    return Solution(states, result, stats)


@eqx.filter_jit
def galerkin_rom(
    fom: AbstractFOM,
    basis: Float[Array, "N n_s"],
    mu: Scalar,
    *,
    rtol: float = 1e-10,
    max_iterations: int = 10,
    throw: bool = True,
) -> Solution[Float[Array, "T N"]]:
    r"""POD-Galerkin ROM trajectory $x_{ref} + \Phi q^n$, $n = 0..n_{steps}$.

    **Arguments:** `fom`; `basis` $\Phi$ `(N, n_s)` with orthonormal columns (e.g.
    `surrogates.pod(snapshots - x_ref[:, None], rank=n_s).basis`); `mu`; Newton stops when
    the relative update is below `rtol` or after `max_iterations` per step.

    **Returns:** `Solution(value=(n_steps + 1, N) reconstructed states, result, stats=
    {"iterations", "reduced_coordinates" (n_steps + 1, n_s), "relative_residual"})`; a step
    that did not converge gives `RESULTS.nonlinear_max_steps_reached`.
    """
    basis, mu = _check(fom, basis, mu, max_iterations)

    def residual(x_ref, phi, q, q_prev):
        return phi.T @ fom.residual(x_ref + phi @ q, x_ref + phi @ q_prev, mu)

    return raise_if_failed(_reduced_solve(fom, basis, mu, residual, rtol, max_iterations), throw)


@eqx.filter_jit
def lspg_rom(
    fom: AbstractFOM,
    basis: Float[Array, "N n_s"],
    mu: Scalar,
    *,
    rtol: float = 1e-10,
    max_iterations: int = 10,
    throw: bool = True,
) -> Solution[Float[Array, "T N"]]:
    r"""LSPG ROM trajectory: Gauss-Newton on $\min_q \|r(x_{ref} + \Phi q)\|$ per step.

    Arguments and returns as `galerkin_rom`; `rtol` bounds the relative Gauss-Newton update.
    """
    basis, mu = _check(fom, basis, mu, max_iterations)

    def residual(x_ref, phi, q, q_prev):
        return fom.residual(x_ref + phi @ q, x_ref + phi @ q_prev, mu)

    return raise_if_failed(_reduced_solve(fom, basis, mu, residual, rtol, max_iterations), throw)


def relative_error(
    approx: Float[Array, "T N"], reference: Float[Array, "T N"]
) -> Float[Array, " T"]:
    r"""Relative $L^2$ error per time, $\|x_{rom}(t) - x_{fom}(t)\| / \|x_{fom}(t)\|$.

    The NM-ROM paper's tables report its mean and maximum over time.
    """
    approx, reference = jnp.asarray(approx), jnp.asarray(reference)
    if approx.shape != reference.shape or approx.ndim != 2:
        raise ValueError(
            f"`approx` and `reference` must be (T, N) trajectories of the same shape, got "
            f"{approx.shape} and {reference.shape}."
        )
    return jnp.linalg.norm(approx - reference, axis=1) / jnp.linalg.norm(reference, axis=1)
