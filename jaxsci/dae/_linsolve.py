r"""LU factorisation with partial pivoting for the small dense systems of Rosenbrock steps.

For the handful of unknowns of a circuit (n <= 16) an unrolled elimination in plain
`jnp` operations vectorises across a `vmap` batch as whole-array arithmetic and is
several times cheaper on CPU than batched LAPACK calls (5 x 5 systems, batch 250, one
factorisation + six solves: about 3x). Larger systems use
`jax.scipy.linalg.lu_factor`.
"""

import jax.numpy as jnp
import jax.scipy.linalg as jsl
from jaxtyping import Array, Float, Int

SMALL = 16


def lu_factor(a: Float[Array, "n n"]) -> tuple[Float[Array, "n n"], Int[Array, " n"]]:
    r"""$P A = L U$ (unit lower $L$ and $U$ packed in one matrix) and the row order."""
    n = a.shape[0]
    if n > SMALL:
        lu, piv = jsl.lu_factor(a)
        perm = jnp.arange(n)
        for k in range(n):  # LAPACK pivots are sequential swaps; turn them into an order
            pk = piv[k]
            pk_val = perm[pk]
            perm = perm.at[pk].set(perm[k]).at[k].set(pk_val)
        return lu, perm
    rows = jnp.arange(n)
    perm = rows
    for k in range(n - 1):
        p = k + jnp.argmax(jnp.abs(a[k:, k]))
        swap = jnp.where(rows == k, p, jnp.where(rows == p, k, rows))
        a = a[swap]
        perm = perm[swap]
        lcol = a[k + 1 :, k] / a[k, k]
        a = a.at[k + 1 :, k].set(lcol)
        a = a.at[k + 1 :, k + 1 :].add(-lcol[:, None] * a[k, k + 1 :][None, :])
    return a, perm


def lu_solve(
    lu_perm: tuple[Float[Array, "n n"], Int[Array, " n"]], b: Float[Array, " n"]
) -> Float[Array, " n"]:
    r"""Solve $A x = b$ from `lu_factor(A)`."""
    lu, perm = lu_perm
    n = lu.shape[0]
    y = b[perm]
    if n > SMALL:
        y = jsl.solve_triangular(lu, y, lower=True, unit_diagonal=True)
        return jsl.solve_triangular(lu, y, lower=False)
    ys = []
    for i in range(n):
        acc = y[i]
        for j in range(i):
            acc = acc - lu[i, j] * ys[j]
        ys.append(acc)
    xs = [None] * n
    for i in reversed(range(n)):
        acc = ys[i]
        for j in range(i + 1, n):
            acc = acc - lu[i, j] * xs[j]
        xs[i] = acc / lu[i, i]
    return jnp.stack(xs)
