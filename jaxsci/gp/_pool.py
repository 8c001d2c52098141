r"""A pool of batched L-BFGS runs: many independent minimisations, one batched objective
evaluation per loop iteration, slots refilled from a queue as problems finish.

Used by `jaxsci.gp.fit` for its multistart hyperparameter search (Frankel et al., eq. 12,
20 starts); independent of GPs: any batched `value_and_grad(x (B, P), pid (B,))`.
"""

import jax
import jax.numpy as jnp
import numpy as np
import jax.tree_util as jtu

# L-BFGS constants: memory size, Armijo constant, backtracking limit.
MEMORY = 10
ARMIJO_C1 = 1e-4
MAX_BACKTRACKS = 30


def _two_loop(g, S, Y, rho):
    """L-BFGS two-loop recursion -H g; memory rows with rho == 0 are inactive.

    Both loops are `lax.scan`s over the memory rows rather than unrolled Python loops: the
    unrolled form put 4 x MEMORY slices and dot products into every compiled copy of the
    pool body, which cost ~0.5 s of XLA compile time per `fit` at no run-time gain."""

    def first(q, row):
        s, y, r = row
        a = r * jnp.dot(s, q)
        return q - a * y, a

    q, alphas = jax.lax.scan(first, g, (S, Y, rho), reverse=True)
    sy, yy = jnp.dot(S[-1], Y[-1]), jnp.dot(Y[-1], Y[-1])
    gamma = jnp.where(rho[-1] > 0, sy / jnp.where(yy > 0, yy, 1.0), 1.0)

    def second(r, row):
        s, y, rh, a = row
        b = rh * jnp.dot(y, r)
        return r + (a - b) * s, None

    r, _ = jax.lax.scan(second, gamma * q, (S, Y, rho, alphas))
    return -r


def _phase_sizes(num_problems: int, batch_size: int, compact: bool = True) -> tuple[int, ...]:
    """Slot counts of the pool's phases: `batch_size`, then (if `compact`) 8x fewer (at
    least 2) for the tail. At most two phases: each phase is another compiled copy of the
    loop body, and XLA's compile time grows faster than linearly with their number."""
    first = min(batch_size, num_problems)
    return (first,) if (first <= 4 or not compact) else (first, max(first // 8, 2))


def lbfgs_pool(value_and_grad, x0, *, batch_size: int, max_steps: int, gtol: float, ftol: float, lower=-jnp.inf, upper=jnp.inf, compact: bool = True):
    r"""Minimise `N` problems with starts `x0 (N, P)`: ONE batched objective evaluation per
    loop iteration over a pool of slots, refilled from a queue as problems finish.

    `value_and_grad(x (B, P), pid (B,))` evaluates problem `pid[b]` at `x[b]` for every slot
    (`pid` selects the dataset, so one pool serves many datasets) and returns `(f, g)`, or
    `(f, g, err)` with `err (B,)` an estimate of the absolute rounding error of `f` (used
    by the noise-floor stop below). Each problem carries its
    own L-BFGS memory and backtracking Armijo line search, folded into the outer loop (a
    rejected trial shrinks that problem's step for the next iteration) instead of nested
    loops: nested `while_loop`s under `vmap` run every branch in lockstep and cost ~20
    evaluations per iteration; this costs one. A finished problem's slot is immediately given
    the next queued problem (its first iteration evaluates the start point), so the batch
    stays full and no slot waits for the slowest start, as plain lockstep would. Once the queue
    is empty and at most `B/8` problems are left, they are compacted into `B/8` slots
    (`_phase_sizes`) so the tail of slow starts runs on a small batch. `compact=False` keeps
    one phase: one compiled copy of the loop body instead of two, for problems so cheap
    that compile time outweighs the tail's savings.

    Box constraints `lower <= x <= upper` (scalars or per-variable arrays `(P,)`; infinite = unbounded) are handled by
    projection, as in L-BFGS-B: trial points are clipped to the box, variables held at a
    bound by the gradient are frozen in the direction, and the gradient in the stopping
    rule is the projected one, $P(x - g) - x$.

    Stopping rules per problem (scipy L-BFGS-B's): $\max_i |(\text{projected } g)_i| \le$ `gtol`, or relative
    decrease $\le$ `ftol`, or `max_steps` accepted steps, or `4 max_steps` evaluations, or
    the line search stalling (counted as converged; flagged `lsfail`): a rejected trial whose
    predicted decrease is already below the `ftol` test or below the reported rounding
    error `err` (at the current or the trial point), or `MAX_BACKTRACKS` rejections in a
    row. The first is the noise floor of an objective known only to rounding (a GP with
    tiny noise: $-\mathcal{L}$ of an ill-conditioned $K$ is accurate to about
    $\operatorname{cond}(K)\,\epsilon$); backtracking further samples that noise.
    Returns `(x, f, nit, conv, lsfail, evals, iterations, g)`, per problem except
    `iterations` (the number of batched evaluations); `g` is the (unprojected) gradient at
    each final `x` (zero if that start's first evaluation was not finite), from which a
    caller can tell an optimum held on a bound.
    Problems are independent: the result of each is the same for any `batch_size`, up to the
    rounding of differently-sized batched kernels (visible only where a start stalls in a
    numerically flat region of the objective).
    """
    N, P = x0.shape
    dtype = x0.dtype
    sizes = _phase_sizes(N, batch_size, compact)
    B = sizes[0]
    max_evals = 4 * max_steps
    out = dict(
        x=x0, f=jnp.full(N, jnp.inf, dtype), nit=jnp.zeros(N, jnp.int32),
        conv=jnp.zeros(N, bool), lsfail=jnp.zeros(N, bool), evals=jnp.zeros(N, jnp.int32),
        g=jnp.zeros((N, P), dtype),
    )
    slots = dict(
        pid=jnp.arange(B), x=x0[:B], f=jnp.zeros(B, dtype), g=jnp.zeros((B, P), dtype),
        d=jnp.zeros((B, P), dtype), t=jnp.zeros(B, dtype),
        S=jnp.zeros((B, MEMORY, P), dtype), Y=jnp.zeros((B, MEMORY, P), dtype),
        rho=jnp.zeros((B, MEMORY), dtype), nit=jnp.zeros(B, jnp.int32),
        nback=jnp.zeros(B, jnp.int32), evals=jnp.zeros(B, jnp.int32),
        lsfail=jnp.zeros(B, bool), fresh=jnp.ones(B, bool), active=jnp.ones(B, bool),
        err=jnp.zeros(B, dtype),
    )
    state = dict(slots=slots, out=out, next=jnp.array(B), it=jnp.array(0))

    # vector bounds (P,) (unconstrained leaves beside log-parameters) act on rows of (B, P)
    lower, upper = (b if np.ndim(b) == 0 else np.asarray(b, dtype)[None] for b in (lower, upper))
    clip = lambda v: jnp.clip(v, lower, upper)

    def held(x, g):
        # components a bound holds fixed: at the bound with the gradient pushing outwards
        return ((x <= lower) & (g > 0)) | ((x >= upper) & (g < 0))

    def free_gradient(x, g):
        return jnp.where(held(x, g), 0.0, g)

    def projected_gmax(x, g):
        return jnp.max(jnp.abs(clip(x - g) - x), axis=1)

    def body(st):
        sl, out = st["slots"], st["out"]
        x, f, g, d, t, fresh, active = (sl[k] for k in ("x", "f", "g", "d", "t", "fresh", "active"))
        xt = jnp.where(fresh[:, None], x, clip(x + t[:, None] * d))
        res = value_and_grad(xt, sl["pid"])
        ft, gt = res[0], res[1]
        # absolute rounding error of f at the trial point, if the objective reports one
        et = jnp.where(jnp.isfinite(res[2]), res[2], 0.0).astype(dtype) if len(res) > 2 else jnp.zeros_like(ft)
        ok = jnp.isfinite(ft) & jnp.all(jnp.isfinite(gt), axis=1)
        evals = sl["evals"] + active
        # -- a fresh slot: this was its start point's evaluation
        f0 = jnp.where(ok, ft, jnp.inf)
        g0 = jnp.where(ok[:, None], gt, 0.0)
        gf0 = free_gradient(x, g0)
        gmax0 = projected_gmax(x, g0)
        t0 = jnp.minimum(1.0, 1.0 / jnp.maximum(jnp.max(jnp.abs(gf0), axis=1), 1e-12)).astype(dtype)
        conv0 = ok & (gmax0 <= gtol)
        done0 = ~ok | conv0
        # -- a running slot: Armijo test of the (projected) trial step, L-BFGS update if accepted
        run = active & ~fresh
        pred = jnp.sum(g * (xt - x), axis=1)  # = t g.d without projection
        accept = run & ok & (ft <= f + ARMIJO_C1 * pred)
        reject = run & ~accept
        s = xt - x
        yv = gt - g
        sy = jnp.sum(s * yv, axis=1)
        good = accept & (sy > 1e-10 * jnp.sqrt(jnp.sum(s * s, 1) * jnp.sum(yv * yv, 1)))
        roll = lambda A, new: jnp.concatenate([A[:, 1:], new[:, None]], axis=1)
        S = jnp.where(good[:, None, None], roll(sl["S"], s), sl["S"])
        Y = jnp.where(good[:, None, None], roll(sl["Y"], yv), sl["Y"])
        rho = jnp.where(good[:, None], roll(sl["rho"], 1.0 / jnp.where(good, sy, 1.0)), sl["rho"])
        x_run = jnp.where(accept[:, None], xt, x)
        err_run = jnp.where(accept, et, sl["err"])
        f_run = jnp.where(accept, ft, f)
        g_run = jnp.where(accept[:, None], gt, g)
        held_run = held(x_run, g_run)
        gf_run = jnp.where(held_run, 0.0, g_run)
        d_acc = jnp.where(held_run, 0.0, jax.vmap(_two_loop)(gf_run, S, Y, rho))
        descent = jnp.sum(d_acc * gf_run, axis=1) < 0
        d_acc = jnp.where(descent[:, None], d_acc, -gf_run)
        d_run = jnp.where(accept[:, None], d_acc, d)
        # Backtracking: minimiser of the quadratic through f, f'(0) = pred / t and f(t),
        # safeguarded to [t/10, t/2] (plain halving if the trial was not finite).
        curv = ft - f - pred
        use_quad = ok & (curv > 0) & (pred < 0)
        t_quad = jnp.where(use_quad, -pred * t / (2.0 * jnp.where(use_quad, curv, 1.0)), 0.5 * t)
        t_back = jnp.clip(t_quad, 0.1 * t, 0.5 * t)
        t_run = jnp.where(accept, jnp.ones_like(t), t_back)
        nit = sl["nit"] + accept
        nback = jnp.where(accept, 0, sl["nback"] + reject)
        gmax = projected_gmax(x_run, g_run)
        rel = (f - f_run) / jnp.maximum(jnp.maximum(jnp.abs(f), jnp.abs(f_run)), 1.0)
        # A line search that cannot decrease f even with a step ~1e-30 along a descent
        # direction means f is minimal to working precision (scipy reports this as
        # ABNORMAL_TERMINATION_IN_LNSRCH and scikit-learn keeps the point): count it as
        # converged, and record it in `lsfail`.
        # Noise floor: a rejected trial whose predicted decrease -pred is already below the
        # `ftol` test (relative to |f|), or below the rounding error of f that the objective
        # reports, cannot produce a step that resolves progress; near the optimum of an
        # ill-conditioned objective (a GP with tiny noise, whose -L is accurate only to
        # ~cond(K) eps) further backtracking only samples rounding noise. Stop there
        # (flagged in `lsfail` like a stalled search).
        resolved = jnp.maximum(ftol * jnp.maximum(jnp.abs(f), 1.0), jnp.maximum(et, sl["err"]))
        floor = reject & (-pred <= resolved)
        stall = run & ((nback >= MAX_BACKTRACKS) | floor)
        conv_run = (accept & ((gmax <= gtol) | (rel <= ftol))) | stall
        done_run = conv_run | (nit >= max_steps) | (evals >= max_evals)
        # -- merge
        sel = lambda a, b: jnp.where(fresh.reshape(-1, *([1] * (a.ndim - 1))), a, b)
        x_new = sel(x, x_run)
        f_new = sel(f0, f_run)
        g_new = sel(g0, g_run)
        d_new = sel(-gf0, d_run)
        t_new = sel(t0, t_run)
        err_new = sel(jnp.where(ok, et, 0.0), err_run)
        lsfail = sl["lsfail"] | stall
        conv = sel(conv0, conv_run)
        finish = active & sel(done0, done_run)
        # -- write finished problems out, refill their slots from the queue
        idx = jnp.where(finish, sl["pid"], N)
        out = dict(
            x=out["x"].at[idx].set(x_new, mode="drop"),
            f=out["f"].at[idx].set(f_new, mode="drop"),
            nit=out["nit"].at[idx].set(nit, mode="drop"),
            conv=out["conv"].at[idx].set(conv, mode="drop"),
            lsfail=out["lsfail"].at[idx].set(lsfail, mode="drop"),
            evals=out["evals"].at[idx].set(evals, mode="drop"),
            g=out["g"].at[idx].set(g_new, mode="drop"),
        )
        new_pid = st["next"] + jnp.cumsum(finish) - 1
        load = finish & (new_pid < N)
        pid = jnp.where(load, new_pid, sl["pid"])
        x_load = x0[jnp.clip(new_pid, 0, N - 1)]
        zero = lambda a: jnp.where(load.reshape(-1, *([1] * (a.ndim - 1))), jnp.zeros_like(a), a)
        slots = dict(
            pid=pid, x=jnp.where(load[:, None], x_load, x_new), f=f_new, g=g_new, d=d_new,
            t=t_new, S=zero(S), Y=zero(Y), rho=zero(rho), nit=zero(nit), nback=zero(nback),
            evals=zero(evals), lsfail=zero(lsfail), fresh=load,
            active=jnp.where(finish, load, active), err=zero(err_new),
        )
        return dict(slots=slots, out=out, next=st["next"] + jnp.sum(finish), it=st["it"] + 1)

    for i, size in enumerate(sizes):
        next_size = sizes[i + 1] if i + 1 < len(sizes) else 0

        def cond(st, next_size=next_size):
            n_active = jnp.sum(st["slots"]["active"])
            queue_empty = st["next"] >= N
            return (n_active > 0) & ~(queue_empty & (n_active <= next_size))

        state = jax.lax.while_loop(cond, body, state)
        if next_size:
            # compact: the (at most next_size) active slots first, keep next_size slots
            order = jnp.argsort(~state["slots"]["active"], stable=True)[:next_size]
            state = dict(state, slots=jtu.tree_map(lambda a: a[order], state["slots"]))
    out = state["out"]
    return out["x"], out["f"], out["nit"], out["conv"], out["lsfail"], out["evals"], state["it"], out["g"]
