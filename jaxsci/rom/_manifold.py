r"""Nonlinear-manifold ROMs: NM-Galerkin and NM-LSPG on $x = x_{off} + g(\hat x)$.

Kim, Choi, Widemann & Zohdi (JCP 451:110841, 2022, §3; review seed 002, §12). With a
decoder $g$ (`AbstractManifold`: a `MaskedAutoencoder`, or a `LinearManifold` for the
LS-ROMs) and the backward-Euler residual $r(x; x^{n-1}, \mu) = x - x^{n-1} - \Delta t\,
f(x;\mu)$ of an `AbstractFOM`:

- **NM-Galerkin** (eq. 15, time-discretised by backward Euler): $\dot{\hat x} = J_g(\hat
  x)^+ f(x_{off} + g(\hat x))$, i.e. per step the $n_s$ equations
  $\hat x^n - \hat x^{n-1} + J_g(\hat x^n)^+\, r(x^n; x^n, \mu) = 0$ (because
  $r(x; x, \mu) = -\Delta t f(x)$), solved by Newton with the exact autodiff Jacobian;
  $J_g^+ v = (J_g^\top J_g)^{-1} J_g^\top v$, $J_g$ by `jax.jacfwd` ($n_s$ JVPs).
- **NM-LSPG** (eqs. 18-20): $\hat x^n = \arg\min_{\hat x} \|r(x_{off} + g(\hat x);\,
  x_{off} + g(\hat x^{n-1}), \mu)\|_2$ by Gauss-Newton, the $N \times n_s$ Jacobian
  $J_r J_g$ from $n_s$ forward-mode JVPs.

The initial latent state is $\hat x^0 = h(0)$ (snapshots are centred on the initial
condition $x^0(\mu)$) and the offset $x_{off} = x^0 - g(\hat x^0)$, so the ROM reproduces
$x^0$ exactly (jaxsci's choice; the paper sets $x_{ref} = x^0$ and accepts the
reconstruction error $g(h(0)) \ne 0$). Steps are a `lax.scan`, iterations a `while_loop`;
a batch of parameters is a `vmap`.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from .._custom_types import Array, Float, Scalar
from .._solution import RESULTS, Solution, raise_if_failed
from ._autoencoder import AbstractManifold
from ._fom import AbstractFOM, _check_mu


def _check(fom, manifold, mu, max_iterations):
    if not isinstance(fom, AbstractFOM):
        raise TypeError(f"`fom` must be an AbstractFOM (e.g. rom.Burgers1D()), got {type(fom).__name__}.")
    if not isinstance(manifold, AbstractManifold):
        raise TypeError(
            f"`manifold` must be an AbstractManifold (rom.MaskedAutoencoder or rom.LinearManifold), "
            f"got {type(manifold).__name__}."
        )
    if manifold.size != fom.size:
        raise ValueError(f"`manifold` decodes to N = {manifold.size} entries but fom.size = {fom.size}.")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or max_iterations < 1:
        raise ValueError(f"`max_iterations` must be an int >= 1, got {max_iterations!r}.")
    return _check_mu(mu)


def _cast(manifold, dtype):
    return jax.tree_util.tree_map(lambda a: a.astype(dtype) if eqx.is_inexact_array(a) else a, manifold)


def _initial(fom, manifold, mu):
    """`(manifold cast to the state dtype, xhat0 = h(0), x0)`."""
    x0 = fom.initial_condition(mu)
    manifold = _cast(manifold, x0.dtype)
    xhat0 = manifold.encode(jnp.zeros_like(x0))
    return manifold, xhat0, x0


def latent_trajectory(step_residual, prepare, xhat0, n_steps, rtol, max_iterations):
    """Backward-Euler steps of a latent (Gauss-)Newton solve, shared by every manifold ROM.

    `prepare(xhat_prev) -> ctx` holds what a step needs of the previous state (computed once
    per step); `step_residual(xhat, ctx)` is the vector whose root (square) or least-squares
    minimum (tall) is the new latent state.
    """
    rtol = jnp.asarray(rtol, xhat0.dtype)

    def step(xhat_prev, _):
        ctx = prepare(xhat_prev)
        r_fn = lambda y: step_residual(y, ctx)
        r0 = jnp.linalg.norm(r_fn(xhat_prev))
        scale = jnp.where(r0 > 0, r0, 1.0)

        def cond(c):
            _, d, k = c
            return (k == 0) | ((d > rtol) & (k < max_iterations) & jnp.isfinite(d))

        def body(c):
            y, _, k = c
            jac, r = jax.jacfwd(lambda z: (lambda v: (v, v))(r_fn(z)), has_aux=True)(y)
            dy = jnp.linalg.lstsq(jac, -r)[0]
            y = y + dy
            return y, jnp.linalg.norm(dy) / jnp.maximum(jnp.linalg.norm(y), 1.0), k + 1

        y, d, k = jax.lax.while_loop(cond, body, (xhat_prev, jnp.asarray(jnp.inf, xhat0.dtype), jnp.asarray(0)))
        return y, (y, k, d, jnp.linalg.norm(r_fn(y)) / scale)

    _, (ys, iters, d, rel) = jax.lax.scan(step, xhat0, None, length=n_steps)
    ys = jnp.concatenate([xhat0[None], ys])
    result = RESULTS.where(
        jnp.all(jnp.isfinite(d)),
        RESULTS.where(jnp.all(d <= rtol), RESULTS.successful, RESULTS.nonlinear_max_steps_reached),
        RESULTS.nonfinite,
    )
    return ys, result, {"iterations": iters, "relative_residual": rel}


def finish(manifold, offset, ys, result, stats, reconstruct, throw):
    stats = dict(stats, latent=ys)
    value = jax.vmap(lambda y: offset + manifold.decode(y))(ys) if reconstruct else ys
    return raise_if_failed(Solution(value, result, stats), throw)




@eqx.filter_jit
def nm_lspg_rom(
    fom: AbstractFOM,
    manifold: AbstractManifold,
    mu: Scalar,
    *,
    rtol: float = 1e-10,
    max_iterations: int = 10,
    reconstruct: bool = True,
    throw: bool = True,
) -> Solution[Float[Array, "T N"]]:
    r"""NM-LSPG trajectory: per step Gauss-Newton on $\min_{\hat x}
    \|r(x_{off} + g(\hat x);\, x_{off} + g(\hat x^{n-1}), \mu)\|$ (paper eqs. 18-20).

    **Arguments:** `fom`; `manifold` (decoder $g$, encoder $h$); `mu`; Gauss-Newton stops at
    a relative update below `rtol` or after `max_iterations`; `reconstruct`; `throw`.

    **Returns:** `Solution(value=(n_steps + 1, N) states` $x_{off} + g(\hat x^n)$ (or the
    `(n_steps + 1, n_s)` latent trajectory with `reconstruct=False`), `result, stats=
    {"latent", "iterations" per step, "relative_residual" per step})`; a step that did not
    converge gives `RESULTS.nonlinear_max_steps_reached` (raised with `throw=True`).
    """
    mu = _check(fom, manifold, mu, max_iterations)
    manifold, xhat0, x0 = _initial(fom, manifold, mu)
    offset = x0 - manifold.decode(xhat0)
    state = lambda y: offset + manifold.decode(y)
    ys, result, stats = latent_trajectory(
        lambda y, x_prev: fom.residual(state(y), x_prev, mu), state, xhat0, fom.n_steps, rtol,
        max_iterations)
    return finish(manifold, offset, ys, result, stats, reconstruct, throw)


def _pinv_apply(jac, v):
    # (J^T J)^{-1} J^T v: n_s x n_s normal equations, smooth to differentiate for Newton
    return jnp.linalg.solve(jac.T @ jac, jac.T @ v)


@eqx.filter_jit
def nm_galerkin_rom(
    fom: AbstractFOM,
    manifold: AbstractManifold,
    mu: Scalar,
    *,
    rtol: float = 1e-10,
    max_iterations: int = 10,
    reconstruct: bool = True,
    throw: bool = True,
) -> Solution[Float[Array, "T N"]]:
    r"""NM-Galerkin trajectory: backward Euler on $\dot{\hat x} = J_g(\hat x)^+ f(x_{off} +
    g(\hat x))$ (paper eq. 15), Newton on
    $\hat x^n - \hat x^{n-1} + J_g(\hat x^n)^+ r(x^n; x^n, \mu) = 0$.

    Arguments as `nm_lspg_rom`.

    **Returns:** `Solution(value=(n_steps + 1, N) states` $x_{off} + g(\hat x^n)$ (or the
    `(n_steps + 1, n_s)` latent trajectory with `reconstruct=False`), `result, stats=
    {"latent", "iterations" per step, "relative_residual" per step})`; a step that did not
    converge gives `RESULTS.nonlinear_max_steps_reached` (raised with `throw=True`).
    """
    mu = _check(fom, manifold, mu, max_iterations)
    manifold, xhat0, x0 = _initial(fom, manifold, mu)
    offset = x0 - manifold.decode(xhat0)

    def residual(y, y_prev):
        x = offset + manifold.decode(y)
        jac = jax.jacfwd(manifold.decode)(y)
        return y - y_prev + _pinv_apply(jac, fom.residual(x, x, mu))

    ys, result, stats = latent_trajectory(residual, lambda y: y, xhat0, fom.n_steps, rtol, max_iterations)
    return finish(manifold, offset, ys, result, stats, reconstruct, throw)
