r"""Hyper-reduced NM-LSPG (NM-LSPG-HR): gappy POD of the residual at DEIM-sampled rows.

Kim, Choi, Widemann & Zohdi (JCP 451:110841, 2022, §4.2, eqs. 21-24; review seed 002, §12):

1. residual snapshots $r(x^{(k)}; x^{n-1}, \mu)$ of the full-order Newton solve at the
   training parameters, **including the intermediate Newton iterates** $x^{(k)}$
   (`residual_snapshots`);
2. a residual basis $\Phi_r \in \mathbb{R}^{N \times m}$ from their SVD (e.g.
   `surrogates.pod`), sample rows $Z$ by DEIM with oversampling (`deim_indices(Phi_r, k)`,
   $k \ge m$);
3. per backward-Euler step, Gauss-Newton on
   $\min_{\hat x} \|(Z^\top \Phi_r)^+ Z^\top r(x_{off} + g(\hat x); x^{n-1}, \mu)\|_2$.

Only the sampled residual rows are evaluated (`AbstractFOM.residual_rows`), from the state
entries their stencils touch, and those entries are decoded by `decode_rows`: for the
masked autoencoder a subnetwork of $b$ hidden units per entry (§4.2, Fig. 4). The online
cost is independent of N. With a `LinearManifold` the same solver is LS-LSPG-HR.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._custom_types import Array, Bool, Float, Int, Scalar
from ._autoencoder import AbstractManifold
from ._deim import deim_indices, gappy_projector
from ._fom import AbstractFOM, _check_mu
from ._manifold import _check, _initial, finish, latent_trajectory


class HyperReduction(eqx.Module):
    r"""Sampled residual rows and what evaluating them needs (build with `hyper_reduction`).

    **Attributes:** `rows` $Z$ `(k,)`; `entries` `(p,)`, the state entries the rows'
    stencils touch (sorted, unique, the rows included); `stencil_local` `(k, s)` and
    `rows_local` `(k,)`, positions in `entries`; `projector` $(Z^\top\Phi_r)^+$ `(m, k)`.
    """

    rows: Int[Array, " k"]
    entries: Int[Array, " p"]
    stencil_local: Int[Array, "k s"]
    rows_local: Int[Array, " k"]
    projector: Float[Array, "m k"]


def hyper_reduction(
    fom: AbstractFOM, residual_basis: Float[Array, "N m"], n_samples: int | None = None
) -> HyperReduction:
    r"""DEIM / oversampled gappy-POD sampling of the residual basis $\Phi_r$ for `fom`.

    **Arguments:** `fom`; `residual_basis` $\Phi_r$ `(N, m)`; `n_samples` $k \in [m, N]$
    (default m; the paper's 1-D NM-LSPG-HR: m = 31, k = 47).

    Runs eagerly (the set of touched entries fixes array shapes), not under `jit`.
    """
    if not isinstance(fom, AbstractFOM):
        raise TypeError(f"`fom` must be an AbstractFOM (e.g. rom.Burgers1D()), got {type(fom).__name__}.")
    residual_basis = jnp.asarray(residual_basis)
    if residual_basis.ndim != 2 or residual_basis.shape[0] != fom.size:
        raise ValueError(
            f"`residual_basis` must be an (N, m) matrix with N = fom.size = {fom.size}, got "
            f"shape {residual_basis.shape}."
        )
    rows = deim_indices(residual_basis, n_samples)
    stencil = np.asarray(fom.stencil(rows))
    rows_np = np.asarray(rows)
    entries = np.unique(np.concatenate([rows_np, stencil.ravel()]))
    return HyperReduction(
        rows=rows,
        entries=jnp.asarray(entries),
        stencil_local=jnp.asarray(np.searchsorted(entries, stencil)),
        rows_local=jnp.asarray(np.searchsorted(entries, rows_np)),
        projector=gappy_projector(residual_basis, rows),
    )


@eqx.filter_jit
def residual_snapshots(
    fom: AbstractFOM, mu: Scalar, *, rtol: float = 1e-8, max_newton: int = 10
) -> tuple[Float[Array, "S N"], Bool[Array, " S"]]:
    r"""Residuals at every full-order Newton iterate, $S$ = `n_steps * max_newton` slots.

    Re-runs `solve_fom`'s Newton iteration (same start $x^{n-1}$, same stopping rule) and
    records $r(x^{(k)}; x^{n-1}, \mu)$ before each Newton update, the initial guess's
    included, the converged one not (it is ~0).

    **Returns:** `(residuals (S, N), valid (S,))`: use `residuals[valid]` (outside jit).
    """
    if not isinstance(fom, AbstractFOM):
        raise TypeError(f"`fom` must be an AbstractFOM (e.g. rom.Burgers1D()), got {type(fom).__name__}.")
    if isinstance(max_newton, bool) or not isinstance(max_newton, int) or max_newton < 1:
        raise ValueError(f"`max_newton` must be an int >= 1, got {max_newton!r}.")
    mu = _check_mu(mu)
    x0 = fom.initial_condition(mu)
    rtol = jnp.asarray(rtol, x0.dtype)

    def step(x_prev, _):
        r = fom.residual(x_prev, x_prev, mu)
        scale = jnp.where(jnp.linalg.norm(r) > 0, jnp.linalg.norm(r), 1.0)

        def newton(c, _):
            x, r, done = c
            keep = ~done & (jnp.linalg.norm(r) / scale > rtol)
            x_new = jnp.where(keep, x - fom.solve_jacobian(x, x_prev, mu, r), x)
            r_new = fom.residual(x_new, x_prev, mu)
            return (x_new, r_new, done | ~keep), (r, keep)

        (x, _, _), (rs, valid) = jax.lax.scan(newton, (x_prev, r, jnp.asarray(False)), None, length=max_newton)
        return x, (rs, valid)

    _, (rs, valid) = jax.lax.scan(step, x0, None, length=fom.n_steps)
    return rs.reshape(-1, fom.size), valid.reshape(-1)


@eqx.filter_jit
def nm_lspg_hr_rom(
    fom: AbstractFOM,
    manifold: AbstractManifold,
    hyper: HyperReduction,
    mu: Scalar,
    *,
    rtol: float = 1e-10,
    max_iterations: int = 10,
    reconstruct: bool = True,
    throw: bool = True,
):
    r"""NM-LSPG-HR trajectory: per step Gauss-Newton on
    $\min_{\hat x} \|(Z^\top\Phi_r)^+ Z^\top r(x_{off} + g(\hat x); x^{n-1}, \mu)\|$
    (paper eq. 24), decoding only `hyper.entries`.

    **Arguments:** `fom`; `manifold`; `hyper` (from `hyper_reduction`); `mu`; `rtol`,
    `max_iterations`, `reconstruct`, `throw` as `nm_lspg_rom`. With all rows sampled and
    $\Phi_r = I$ it is NM-LSPG.

    **Returns:** as `nm_lspg_rom` (with `reconstruct=True` the full states are decoded
    once, after the time loop; the online loop itself never touches N entries).
    """
    mu = _check(fom, manifold, mu, max_iterations)
    if not isinstance(hyper, HyperReduction):
        raise TypeError(f"`hyper` must be a HyperReduction (from rom.hyper_reduction), got {type(hyper).__name__}.")
    if hyper.projector.shape[1] != hyper.rows.shape[0]:
        raise ValueError(f"`hyper`: projector {hyper.projector.shape} does not match {hyper.rows.shape[0]} rows.")
    manifold, xhat0, x0 = _initial(fom, manifold, mu)
    projector = hyper.projector.astype(x0.dtype)
    offset_local = x0[hyper.entries] - manifold.decode_rows(xhat0, hyper.entries)
    local = lambda y: offset_local + manifold.decode_rows(y, hyper.entries)

    def residual(y, x_prev_rows):
        x = local(y)
        return projector @ fom.residual_rows(hyper.rows, x[hyper.stencil_local], x_prev_rows, mu)

    ys, result, stats = latent_trajectory(
        residual, lambda y: local(y)[hyper.rows_local], xhat0, fom.n_steps, rtol, max_iterations)
    offset = x0 - manifold.decode(xhat0) if reconstruct else None
    return finish(manifold, offset, ys, result, stats, reconstruct, throw)
