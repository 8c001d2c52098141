r"""Discrete empirical interpolation (DEIM) and its oversampled (gappy-POD) form.

For a basis $U \in \mathbb{R}^{N \times m}$ (e.g. POD modes of residual or nonlinear-term
snapshots), DEIM picks rows $p_1, \dots, p_m$ greedily (Chaturantabut & Sorensen, SIAM J.
Sci. Comput. 32:2737, 2010, Algorithm 1): $p_1 = \arg\max_i |u_{1,i}|$, then for each next
basis vector $u_\ell$ the row where the interpolant of $u_\ell$ on the rows chosen so far errs
most, $p_\ell = \arg\max_i |u_\ell - U_{:\ell}(P^\top U_{:\ell})^{-1}P^\top u_\ell|_i$.

With `n_samples` $k > m$ (oversampling, used by the NM-ROM paper's hyper-reduction: e.g. 31
basis vectors and 47 samples in 1-D) the greedy pass continues over the basis vectors
cyclically, each time taking the not-yet-sampled row where the least-squares (gappy-POD)
reconstruction $U (P^\top U)^+ P^\top u_\ell$ errs most. This is jaxsci's choice of
oversampling rule (a deterministic greedy gappy-POD selection); it reduces to DEIM at
$k = m$. The oblique projector $(P^\top U)^+$ (`gappy_projector`) reconstructs any vector
in the span of $U$ exactly from its sampled rows.
"""

import jax
import jax.numpy as jnp

from .._custom_types import Array, Float, Int


def _check_basis(basis) -> Float[Array, "N m"]:
    basis = jnp.asarray(basis)
    if basis.ndim != 2 or basis.shape[1] < 1 or basis.shape[0] < basis.shape[1]:
        raise ValueError(
            f"`basis` must be an (N, m) matrix with 1 <= m <= N (columns = basis vectors), "
            f"got shape {basis.shape}."
        )
    if not jnp.issubdtype(basis.dtype, jnp.floating):
        basis = basis.astype(jnp.result_type(float))
    return basis


def deim_indices(basis: Float[Array, "N m"], n_samples: int | None = None) -> Int[Array, " k"]:
    r"""Rows sampled by DEIM (`n_samples` = m, the default) or greedy gappy POD (k > m).

    **Arguments:** `basis` $U$ `(N, m)`; `n_samples` $k$, an int in $[m, N]$.

    **Returns:** `k` distinct row indices, in the order chosen.
    """
    basis = _check_basis(basis)
    n, m = basis.shape
    k = m if n_samples is None else n_samples
    if isinstance(k, bool) or not isinstance(k, int) or not m <= k <= n:
        raise ValueError(f"`n_samples` must be an int in [m, N] = [{m}, {n}], got {n_samples!r}.")

    def body(l, carry):
        idx, taken = carry
        j = l % m
        cols = jnp.arange(m) < jnp.minimum(l, m)       # basis vectors already interpolated
        rows = jnp.arange(k) < l                       # rows already chosen
        ub = jnp.where(cols[None, :], basis, 0.0)
        pu = jnp.where(rows[:, None], ub[idx], 0.0)    # (k, m): sampled rows, padded by zeros
        coef = jnp.linalg.lstsq(pu, jnp.where(rows, basis[idx, j], 0.0))[0]
        err = jnp.abs(basis[:, j] - ub @ coef)
        p = jnp.argmax(jnp.where(taken, -1.0, err))
        return idx.at[l].set(p.astype(idx.dtype)), taken.at[p].set(True)

    idx0 = jnp.zeros(k, dtype=jnp.int32)
    taken0 = jnp.zeros(n, dtype=bool)
    idx, _ = jax.lax.fori_loop(0, k, body, (idx0, taken0))
    return idx


def gappy_projector(basis: Float[Array, "N m"], rows: Int[Array, " k"]) -> Float[Array, "m k"]:
    r"""$(P^\top U)^+$: coefficients of the least-squares fit of $U a$ to values at `rows`.

    `basis @ gappy_projector(basis, rows) @ v[rows]` reconstructs `v` (exactly when `v` is
    in the span of `basis`; with k = m this is the DEIM interpolant).
    """
    basis = _check_basis(basis)
    rows = jnp.asarray(rows)
    if rows.ndim != 1 or rows.shape[0] < basis.shape[1] or not jnp.issubdtype(rows.dtype, jnp.integer):
        raise ValueError(
            f"`rows` must be a 1-D integer array of at least m = {basis.shape[1]} row indices, "
            f"got shape {rows.shape}, dtype {rows.dtype}."
        )
    return jnp.linalg.pinv(basis[rows])
