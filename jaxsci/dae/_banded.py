r"""Jacobian structures for the Rosenbrock step: dense (`DenseJacobian`) or banded
(`BandedJacobian`), and the banded linear algebra the latter needs.

A Rosenbrock step needs $J = \partial_y f(t_0, y_0)$, one factorisation of
$W = M/(h\gamma) - J$ and one solve with $W$ per stage. Dense, that is $n$ forward-mode
JVPs, an $O(n^3)$ LU and $O(n^2)$ solves: the whole cost of a step once $n$ is in the
hundreds (a method-of-lines discretisation, a long circuit ladder). When every equation
couples only neighbouring unknowns, $J$ and $M$ are **banded** (lower bandwidth $k_l$,
upper $k_u$: $J_{ij} = 0$ unless $-k_l \le j - i \le k_u$) and

- $J$ costs $k_l + k_u + 1$ JVPs instead of $n$: columns $j \equiv c \pmod{k_l+k_u+1}$
  never share a row of the band, so one JVP with the sum of their unit vectors recovers all
  of them (Curtis, Powell & Reid, *J. Inst. Maths Applics* 13, 1974: the CPR colouring of a
  banded pattern);
- $W$ is factorised by Gaussian elimination with partial pivoting inside the band
  (Golub & Van Loan, *Matrix Computations*, 4th ed., Alg. 4.3.5 / LAPACK `gbtrf`): the
  pivot row of column $k$ is searched among rows $k \dots k + k_l$, so $U$ gets upper
  bandwidth $k_l + k_u$, and the work is $O(n\,k_l(k_l + k_u))$;
- solves are $O(n(k_l + k_u))$.

Band storage here is by rows: `rows[i, m]` $= A_{i,\, i - k_l + m}$, $m = 0 \dots k_l + k_u$
(entries whose column falls outside $0 \dots n-1$ are zero).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int


def _band_columns(n: int, lower: int, upper: int) -> np.ndarray:
    """Column index of each band entry, `(n, lower + upper + 1)` (may be out of range)."""
    return np.arange(n)[:, None] - lower + np.arange(lower + upper + 1)[None, :]


def dense_to_band(a: Float[Array, "n n"], lower: int, upper: int) -> Float[Array, "n w"]:
    r"""The band rows of a dense matrix: `rows[i, m]` $= A_{i, i - k_l + m}$ (zero where
    the column is outside the matrix). Entries of `a` outside the band are dropped."""
    n = a.shape[0]
    cols = _band_columns(n, lower, upper)
    valid = (cols >= 0) & (cols < n)
    return jnp.where(valid, a[np.arange(n)[:, None], np.clip(cols, 0, n - 1)], 0.0)


def band_to_dense(rows: Float[Array, "n w"], lower: int, upper: int) -> Float[Array, "n n"]:
    """The dense matrix of band rows (the inverse of `dense_to_band` on banded matrices)."""
    n = rows.shape[0]
    cols = _band_columns(n, lower, upper)
    valid = (cols >= 0) & (cols < n)
    out = jnp.zeros((n, n), rows.dtype)
    r = np.broadcast_to(np.arange(n)[:, None], cols.shape)
    return out.at[r[valid], cols[valid]].set(rows[valid])


def outside_band(a: Float[Array, "n n"], lower: int, upper: int) -> Float[Array, ""]:
    """The largest magnitude of the entries of `a` outside the band (0 for a banded `a`)."""
    n = a.shape[0]
    d = np.arange(n)[None, :] - np.arange(n)[:, None]
    mask = (d < -lower) | (d > upper)
    return jnp.max(jnp.where(mask, jnp.abs(a), 0.0), initial=0.0)


def band_matvec(rows: Float[Array, "n w"], x: Float[Array, " n"], lower: int) -> Float[Array, " n"]:
    r"""$A x$ from the band rows of $A$."""
    n, w = rows.shape
    cols = _band_columns(n, lower, w - 1 - lower)
    valid = (cols >= 0) & (cols < n)
    xg = jnp.where(valid, x[np.clip(cols, 0, n - 1)], 0.0)
    return jnp.sum(rows * xg, axis=1)


def banded_jacobian(f, y: Float[Array, " n"], lower: int, upper: int) -> Float[Array, "n w"]:
    r"""The band rows of $\partial f / \partial y$ at `y` from $k_l + k_u + 1$ JVPs (CPR
    colouring). Exact when the Jacobian is banded; couplings outside the band would be
    folded into band entries, so the solver checks the pattern once (see
    `BandedJacobian.check`)."""
    n = y.shape[0]
    w = lower + upper + 1
    seeds = (np.arange(n)[None, :] % w == np.arange(w)[:, None]).astype(y.dtype)
    jvps = jax.vmap(lambda s: jax.jvp(f, (y,), (jnp.asarray(s),))[1])(seeds)  # (w, n)
    cols = _band_columns(n, lower, upper)
    valid = (cols >= 0) & (cols < n)
    colour = np.mod(cols, w)
    vals = jvps[colour, np.arange(n)[:, None]]
    return jnp.where(valid, vals, 0.0)


def band_lu_factor(
    rows: Float[Array, "n w"], lower: int
) -> tuple[Float[Array, "n u"], Float[Array, "n l"], Int[Array, " n"]]:
    r"""LU factorisation with partial pivoting of a banded matrix (GVL Alg. 4.3.5).

    Elimination runs over a window of rows $k \dots k + k_l$ and columns
    $k \dots k + k_l + k_u$ (everything step $k$ touches), carried through a `lax.scan`.

    **Returns** `(U, L, piv)`: `U[k]` the row $k$ of $U$ on columns $k \dots k + k_l + k_u$,
    `L[k]` the multipliers of column $k$ for the window rows below the pivot, `piv[k]`
    the window position of the pivot row swapped into row $k$.
    """
    n, w = rows.shape
    kl = lower
    width = kl + w  # kl + ku + 1 + kl: U's band plus the diagonal
    dtype = rows.dtype
    # the first window: rows 0..kl, columns 0..kl+ku; band entry m of row r is column
    # r - kl + m
    r = np.arange(kl + 1)[:, None]
    c = np.arange(width - kl)[None, :]
    m = c - r + kl
    ok = (m >= 0) & (m < w) & (r < n)
    win0 = jnp.where(ok, rows[np.minimum(r, n - 1), np.clip(m, 0, w - 1)], 0.0)
    pad = jnp.concatenate([rows, jnp.zeros((kl + 1, w), dtype)])

    def step(win, k):
        p = jnp.argmax(jnp.abs(win[:, 0]))
        top, prow = win[p], win[0]
        win = win.at[p].set(prow).at[0].set(top)
        # a zero pivot (singular W) leaves inf/NaN in the solution, which the solver
        # rejects as a non-finite trial step; it is not patched over
        mult = win[1:, 0] / win[0, 0]
        rest = win[1:] - mult[:, None] * win[0][None, :]
        incoming = pad[k + 1 + kl][None, :]
        nxt = jnp.concatenate(
            [jnp.concatenate([rest[:, 1:], jnp.zeros((kl, 1), dtype)], axis=1), incoming]
        )
        return nxt, (win[0], mult, p)

    _, (u, l, piv) = jax.lax.scan(step, win0, jnp.arange(n), unroll=8)
    return u, l, piv


def band_lu_solve(
    factor: tuple[Float[Array, "n u"], Float[Array, "n l"], Int[Array, " n"]],
    b: Float[Array, " n"],
) -> Float[Array, " n"]:
    r"""Solve $A x = b$ from `band_lu_factor(A)`: forward elimination with the recorded
    row swaps, then back substitution with $U$ (both `lax.scan`s)."""
    u, l, piv = factor
    n = b.shape[0]
    kl = l.shape[1]
    nu = u.shape[1] - 1
    bp = jnp.concatenate([b, jnp.zeros(kl + 1, b.dtype)])

    def forward(win, k):
        p = piv[k]
        top, prow = win[p], win[0]
        win = win.at[p].set(prow).at[0].set(top)
        rest = win[1:] - l[k] * win[0]
        return jnp.concatenate([rest, bp[k + 1 + kl][None]]), win[0]

    _, z = jax.lax.scan(forward, bp[: kl + 1], jnp.arange(n), unroll=8)

    def backward(xs, k):
        xk = (z[k] - u[k, 1:] @ xs) / u[k, 0]
        return jnp.concatenate([xk[None], xs])[:nu], xk

    _, x = jax.lax.scan(
        backward, jnp.zeros(nu, b.dtype), jnp.arange(n), reverse=True, unroll=8
    )
    return x


class AbstractJacobian(eqx.Module):
    r"""How a Rosenbrock step forms $J = \partial_y f$ and solves with
    $W = M/(h\gamma) - J$: [`jaxsci.dae.DenseJacobian`][] (default) or
    [`jaxsci.dae.BandedJacobian`][]."""


class DenseJacobian(AbstractJacobian):
    r"""$J$ by `jax.jacfwd` ($n$ JVPs) and a dense pivoted LU of $W$ (an unrolled
    elimination for $n \le 16$, LAPACK above): right for the handful of unknowns of a
    circuit. The default of every Rosenbrock solver."""


class BandedJacobian(AbstractJacobian):
    r"""A banded $J$ and $M$: $J_{ij} = M_{ij} = 0$ unless $-k_l \le j - i \le k_u$.

    $J$ is formed from $k_l + k_u + 1$ JVPs (CPR colouring) and $W$ is factorised by
    banded Gaussian elimination with partial pivoting, $O(n\,k_l (k_l + k_u))$, instead of
    $n$ JVPs and an $O(n^3)$ LU: for a method-of-lines DAE with hundreds of states the step
    gets an order of magnitude cheaper (docs/dae.md, "Banded Jacobians").

    **Arguments:**

    - `lower`, `upper`: the bandwidths $k_l, k_u \ge 0$ (a tridiagonal system: 1, 1; two
      unknowns per grid point interleaved with nearest-neighbour coupling: 3, 3).
    - `check` (default `True`): once per solve, at $(t_0, y_0)$, form the dense Jacobian and
      the mass matrix and raise `EquinoxRuntimeError` if either has an entry outside the
      band, since the coloured JVPs would otherwise fold such couplings silently into the
      band. It costs $n$ JVPs once; set `False` when the pattern is known (e.g. inside a
      large sweep after one checked solve).
    """

    lower: int = eqx.field(static=True)
    upper: int = eqx.field(static=True)
    check: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        for name in ("lower", "upper"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                raise ValueError(
                    f"BandedJacobian: `{name}` must be a non-negative int (a bandwidth), "
                    f"got {v!r}."
                )
