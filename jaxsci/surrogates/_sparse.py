r"""Sparse polynomial chaos: greedy term selection with the leave-one-out error.

Blatman & Sudret, "Adaptive sparse polynomial chaos expansion based on least angle
regression", J. Comput. Phys. 230 (2011) 2345-2367: a path of growing active sets
$\mathcal{A}_1 \subset \mathcal{A}_2 \subset \dots$ of the candidate basis is built by
least-angle regression (section 4.1; Efron, Hastie, Johnstone & Tibshirani, Ann. Stat. 32,
2004) or orthogonal matching pursuit (Pati, Rezaiifar & Krishnaprasad 1993); on each active
set the coefficients are refitted by ordinary least squares (the "hybrid LARS" of section
4.2) and scored by the leave-one-out error in closed form (eq. 41)

$$\varepsilon_{\rm LOO} = \frac{1}{k\,\widehat{\mathrm{Var}}(y)} \sum_{i=1}^{k}
\left(\frac{y_i - \hat y(x_i)}{1 - h_i}\right)^2,\qquad
h_i = \left[V_{\mathcal A}(V_{\mathcal A}^\top V_{\mathcal A})^{-1}
V_{\mathcal A}^\top\right]_{ii},$$

with $h_i$ the diagonal of the hat matrix (here $h_i = \sum_t Q_{it}^2$ from an
incremental Gram-Schmidt factorisation $V_{\mathcal A} = QR$). The active set with the
smallest $\varepsilon_{\rm LOO}$ is returned. The constant term is always in the model.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
from jaxtyping import Array, Float

from .._checks import as_float_array, check_value
from .._solution import raise_if_failed, RESULTS, Solution
from ._basis import PolynomialBasis
from ._regression import PolynomialChaos, vandermonde

_HI = jax.lax.Precision.HIGHEST


class OMP(eqx.Module):
    r"""Orthogonal matching pursuit: add the candidate most correlated with the current
    least-squares residual, $j = \arg\max_{j \notin \mathcal A} |v_j^\top r| / \|v_j\|$,
    then refit on $\mathcal A \cup \{j\}$ (a choice of `fit_sparse_polynomial`).
    """


class LARS(eqx.Module):
    r"""Least-angle regression (Efron et al. 2004, section 2): move the fit along the
    equiangular direction of the active (centred, normalised) candidates until an inactive
    one is as correlated with the residual, and add that one (a choice of
    `fit_sparse_polynomial`; Blatman & Sudret 2011 use its order of entry, "hybrid LARS").
    """


def _select_path(v, y, const, m, lars: bool):
    """One output: the greedy path of at most `m` terms. Returns (coef (s,), active (s,),
    loo path (m,))."""
    k, s = v.shape
    dtype = v.dtype
    tiny = jnp.finfo(dtype).tiny
    eps = jnp.finfo(dtype).eps
    colnorm = jnp.sqrt(jnp.sum(v**2, axis=0))
    vn = v / jnp.where(colnorm > 0, colnorm, 1)[None]
    var_y = jnp.var(y)
    denom = jnp.maximum(var_y, eps**2 * jnp.mean(y**2) + tiny)
    # centred, normalised candidates for LARS (the constant is handled by the centring)
    xc = v - jnp.mean(v, axis=0, keepdims=True)
    xnorm = jnp.sqrt(jnp.sum(xc**2, axis=0))
    eligible = (xnorm > 100 * eps * jnp.maximum(colnorm, tiny)) & ~const
    xc = xc / jnp.where(eligible, xnorm, 1)[None]
    yc = y - jnp.mean(y)

    def ls_state(q):
        qty = jnp.dot(q.T, y, precision=_HI)
        resid = y - jnp.dot(q, qty, precision=_HI)
        return qty, resid

    def add(carry, t, j):
        q, r, order, active, done, loo = carry
        col = vn[:, j]
        proj = jnp.dot(q.T, col, precision=_HI)
        w = col - jnp.dot(q, proj, precision=_HI)
        proj2 = jnp.dot(q.T, w, precision=_HI)  # second Gram-Schmidt pass (CGS2)
        w = w - jnp.dot(q, proj2, precision=_HI)
        nrm = jnp.sqrt(jnp.sum(w**2))
        dependent = (nrm < 1e3 * eps) | active[j]
        done = done | dependent
        ok = ~done
        q = jnp.where(ok, q.at[:, t].set(w / jnp.where(nrm > 0, nrm, 1)), q)
        rcol = (proj + proj2).at[t].set(nrm)
        rcol = jnp.where(jnp.arange(m) <= t, rcol, 0)
        r = jnp.where(ok, r.at[:, t].set(rcol), r)
        order = jnp.where(ok, order.at[t].set(j), order)
        active = jnp.where(ok, active.at[j].set(True), active)
        h = jnp.sum(q**2, axis=1)
        _, resid = ls_state(q)
        hmax = jnp.max(h)
        err = jnp.mean((resid / jnp.where(h < 1, 1 - h, 1)) ** 2) / denom
        err = jnp.where(ok & (hmax < 1 - 1e3 * eps), err, jnp.inf)
        return (q, r, order, active, done, loo.at[t].set(err))

    def lars_move(order, filled, active, mu):
        # the active LARS variables by slot (the order of entry; the constant's slot and
        # empty slots are masked), so the equiangular system is (M, M), not (s, s)
        slot = filled & eligible[order]
        xa = xc[:, order] * slot[None].astype(dtype)  # (k, M)
        c = jnp.dot(xc.T, yc - mu, precision=_HI)  # (s,)
        ca = c[order]
        big_c = jnp.max(jnp.where(slot, jnp.abs(ca), 0))
        sgn = jnp.where(slot, jnp.sign(ca), 0)
        # SPD (unit diagonal for the masked slots): Cholesky, with a relative jitter
        gram = jnp.dot(xa.T, xa, precision=_HI) + jnp.diag(1 - slot.astype(dtype))
        chol = jnp.linalg.cholesky(gram + 1e3 * eps * jnp.eye(m, dtype=dtype))
        g_s = jsl.cho_solve((chol, True), sgn)
        big_a = 1 / jnp.sqrt(jnp.maximum(jnp.dot(sgn, g_s), tiny))
        u = jnp.dot(xa, big_a * g_s, precision=_HI)
        a = jnp.dot(xc.T, u, precision=_HI)
        cand = eligible & ~active
        g1 = (big_c - c) / (big_a - a)
        g2 = (big_c + c) / (big_a + a)
        floor = 1e3 * eps * jnp.maximum(big_c, tiny)
        g1 = jnp.where(cand & (g1 > floor), g1, jnp.inf)
        g2 = jnp.where(cand & (g2 > floor), g2, jnp.inf)
        gam = jnp.minimum(g1, g2)
        nxt = jnp.argmin(gam)
        step = jnp.where(jnp.isfinite(gam[nxt]), gam[nxt], big_c / big_a)
        return mu + step * u, nxt, jnp.any(jnp.isfinite(gam))

    c0 = jnp.argmax(const)
    carry = (jnp.zeros((k, m), dtype), jnp.zeros((m, m), dtype), jnp.zeros(m, jnp.int32),
             jnp.zeros(s, bool), jnp.array(False), jnp.full(m, jnp.inf, dtype))
    c_first = jnp.where(eligible, jnp.abs(jnp.dot(xc.T, yc, precision=_HI)), -1)

    def body(t, state):
        # step 0 adds the constant; LARS moves only once a LARS variable is active
        carry, mu, nxt, alive = state
        q, _, _, active, done, _ = carry
        if lars:
            j = nxt
        else:
            _, resid = ls_state(q)
            score = jnp.abs(jnp.dot(vn.T, resid, precision=_HI))
            j = jnp.argmax(jnp.where(active | (colnorm <= 0), -1, score))
        j = jnp.where(t == 0, c0, j).astype(jnp.int32)
        carry = add(carry[:4] + (done | ~alive,) + carry[5:], t, j)
        if lars:
            filled = (jnp.arange(m) <= t) & jnp.isfinite(carry[5])
            mu_new, nxt_new, more = lars_move(carry[2], filled, carry[3], mu)
            first = t == 0
            mu = jnp.where(first, mu, mu_new)
            nxt = jnp.where(first, nxt, nxt_new)
            alive = alive & (first | more)
        return carry, mu, nxt, alive

    state = (carry, jnp.zeros_like(y), jnp.argmax(c_first), jnp.any(eligible) | (m == 1))
    carry, _, _, _ = jax.lax.fori_loop(0, m, body, state)
    q, r, order, _, _, loo = carry
    best = jnp.argmin(loo)
    keep = jnp.arange(m) <= best
    r_m = jnp.where(keep[:, None] & keep[None, :], r, jnp.eye(m, dtype=dtype))
    qty = jnp.where(keep, jnp.dot(q.T, y, precision=_HI), 0)
    c_slot = jsl.solve_triangular(r_m, qty, lower=False)
    c_slot = jnp.where(keep, c_slot, 0)
    scale = jnp.where(colnorm > 0, colnorm, 1)
    coef = jnp.zeros(s, dtype).at[order].add(jnp.where(keep, c_slot, 0) / scale[order])
    selected = jnp.zeros(s, bool).at[order].max(keep)
    return coef, selected, loo


@eqx.filter_jit
def fit_sparse_polynomial(
    basis: PolynomialBasis,
    points: Float[Array, "k q"],
    values: Float[Array, "k r"],
    *,
    method: OMP | LARS = LARS(),
    max_terms: int | None = None,
    throw: bool = True,
) -> Solution[PolynomialChaos]:
    r"""Sparse PCE of every output: greedy selection of terms of the candidate `basis`
    by `method` with the leave-one-out error choosing the sparsity (module docstring;
    Blatman & Sudret 2011). Works with fewer samples than candidate terms ($k < s$).

    One jitted program: the path has the static length $M$ = `max_terms`, run by
    `lax.fori_loop`, and the outputs are `vmap`ped (each output gets its own terms).

    **Arguments:**

    - `basis`: the candidate `PolynomialBasis` (any marginals; total-degree or
      hyperbolic truncation).
    - `points`: `(k, q)` samples in the inputs' support; `values`: `(k, r)` or `(k,)`.
    - `method`: `LARS()` (default) or `OMP()`.
    - `max_terms`: the longest path $M$ (static int $\ge 1$; default and cap
      $\min(s, k - 1)$, since the leave-one-out error needs $k > M$).
    - `throw`: raise on failure (default) or report it in `result`.

    **Returns:** a `Solution` whose `value` is a `PolynomialChaos` on the full candidate
    basis (coefficients `(s, r)`, zero for unselected terms, so `sobol_indices` applies
    as is); `stats`: `"loo_error"` `(r,)` the relative LOO error of the chosen model,
    `"selected"` `(s, r)` bool, `"num_terms"` `(r,)`, `"loo_path"` `(M, r)` (inf where
    the path stopped: a numerically dependent candidate).

    **Raises:** `ValueError` (trace time) for wrong shapes, $k < 2$, a bad `max_terms`;
    `TypeError` for a bad `method`; a value check for NaN/inf or out-of-support
    `points` / `values`. `RESULTS.nonfinite` if no finite LOO error was found.
    """
    if not isinstance(method, (OMP, LARS)):
        raise TypeError(f"`method` must be `LARS()` or `OMP()`, got {type(method).__name__}.")
    values = as_float_array(values, "values")
    if values.ndim == 1:
        values = values[:, None]
    v = vandermonde(basis, points)
    k, s = v.shape
    if values.ndim != 2 or values.shape[0] != k:
        raise ValueError(f"`values` must have shape ({k}, r), got {values.shape}.")
    if k < 2:
        raise ValueError(f"`points` must hold at least 2 samples (leave-one-out), got k = {k}.")
    cap = min(s, k - 1)
    if max_terms is None:
        m = cap
    elif isinstance(max_terms, bool) or not isinstance(max_terms, int) or max_terms < 1:
        raise ValueError(f"`max_terms` must be an int >= 1 (or None), got {max_terms!r}.")
    else:
        m = min(max_terms, cap)
    values = check_value(
        values,
        ~jnp.isfinite(values),
        "`values` contain NaN or inf; drop those samples (rows of `points` and `values`).",
    )
    dtype = jnp.result_type(v.dtype, values.dtype)
    v = v.astype(dtype)
    const = jnp.all(basis.indices == 0, axis=1)
    lars = isinstance(method, LARS)
    values = values.astype(dtype)
    if values.shape[1] == 1:  # one output: no batching (a smaller program to compile)
        coef, selected, loo = (a[:, None] for a in _select_path(v, values[:, 0], const, m, lars))
    else:
        coef, selected, loo = jax.vmap(
            lambda y: _select_path(v, y, const, m, lars), in_axes=1, out_axes=1
        )(values)
    loo_best = jnp.min(loo, axis=0)
    result = RESULTS.where(
        jnp.all(jnp.isfinite(loo_best)), RESULTS.successful, RESULTS.nonfinite
    )
    sol = Solution(
        value=PolynomialChaos(basis=basis, coefficients=coef),
        result=result,
        stats={
            "loo_error": loo_best,
            "selected": selected,
            "num_terms": jnp.sum(selected, axis=0),
            "loo_path": loo,
        },
    )
    return raise_if_failed(sol, throw)
