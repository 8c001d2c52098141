r"""Multistart L-BFGS maximisation of the log marginal likelihood (Frankel et al., eq. 12).

The paper tunes the kernel hyperparameters by maximising $\mathcal{L}$ from 20 random
starts. Here the starts (of one dataset, or of many with `fit_batched`) share a pool of
slots inside one `jit`: one `lax.while_loop` advances every slot with ONE batched
evaluation of the objective and its gradient per iteration (L-BFGS with a backtracking
Armijo search folded into the outer loop), and a slot whose start has finished takes the
next queued start; see `_lbfgs_pool`. The objective is a function of the kernel's
inexact-array leaves (via `eqx.partition`), so any kernel works, including sums, products
and user kernels.

**Prior box.** Start 0 is the given kernel (as scikit-learn does); starts 1..R-1 draw every
stored leaf independently and uniformly in $[\log a, \log b]$ with `prior_box = (a, b)`,
default $(10^{-5}, 10^{5})$: scikit-learn's default hyperparameter bounds, sampled the way
its `n_restarts_optimizer` does (uniform in log-space). All jaxsci kernels store positive
hyperparameters as logarithms, so this is a log-uniform prior on each of them. With
`bounded=True` (default) the box also bounds the optimisation, like scikit-learn's
hyperparameter bounds (projected L-BFGS); with `bounded=False` it only places the starts.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from .._solution import RESULTS, Solution, raise_if_failed
from ..kernels import AbstractKernel
from ._checks import DEFAULT_NOISE, cast_kernel, check_data, check_kernel, check_noise
from ._lml import log_marginal_likelihood

# Lockstep L-BFGS constants: memory size, Armijo constant, backtracking limits.
MEMORY = 10
ARMIJO_C1 = 1e-4
MAX_BACKTRACKS = 30
# Default number of pool slots of `fit_batched` (see `_lbfgs_pool`).
DEFAULT_POOL = 128


def _draw_starts(params, key, num_restarts: int, prior_box):
    lo, hi = (math.log(b) for b in prior_box)
    leaves, treedef = jtu.tree_flatten(params)
    keys = jr.split(key, max(len(leaves), 1))
    starts = []
    for leaf, k in zip(leaves, keys):
        draws = jr.uniform(k, (num_restarts - 1, *leaf.shape), leaf.dtype, lo, hi)
        starts.append(jnp.concatenate([leaf[None], draws]))
    return jtu.tree_unflatten(treedef, starts)


def _two_loop(g, S, Y, rho):
    """L-BFGS two-loop recursion -H g; memory rows with rho == 0 are inactive."""
    q = g
    alphas = []
    for i in reversed(range(S.shape[0])):
        a = rho[i] * jnp.dot(S[i], q)
        q = q - a * Y[i]
        alphas.append(a)
    alphas = alphas[::-1]
    sy, yy = jnp.dot(S[-1], Y[-1]), jnp.dot(Y[-1], Y[-1])
    gamma = jnp.where(rho[-1] > 0, sy / jnp.where(yy > 0, yy, 1.0), 1.0)
    r = gamma * q
    for i in range(S.shape[0]):
        b = rho[i] * jnp.dot(Y[i], r)
        r = r + (alphas[i] - b) * S[i]
    return -r


def _phase_sizes(num_problems: int, batch_size: int) -> tuple[int, ...]:
    """Slot counts of the pool's phases: `batch_size`, then 8x fewer (at least 2) for the
    tail. Only two phases: each phase is another compiled copy of the loop body, and XLA's
    compile time grows faster than linearly with their number (measured: 1 phase 12 s,
    2 phases 16-22 s, 3 phases 38 s for one small `fit`, on a loaded 2-core machine)."""
    first = min(batch_size, num_problems)
    return (first,) if first <= 4 else (first, max(first // 8, 2))


def _lbfgs_pool(value_and_grad, x0, *, batch_size: int, max_steps: int, gtol: float, ftol: float, lower=-jnp.inf, upper=jnp.inf):
    r"""Minimise `N` problems with starts `x0 (N, P)`: ONE batched objective evaluation per
    loop iteration over a pool of slots, refilled from a queue as problems finish.

    `value_and_grad(x (B, P), pid (B,))` evaluates problem `pid[b]` at `x[b]` for every slot
    (`pid` selects the dataset, so one pool serves many datasets). Each problem carries its
    own L-BFGS memory and backtracking Armijo line search, folded into the outer loop (a
    rejected trial shrinks that problem's step for the next iteration) instead of nested
    loops: nested `while_loop`s under `vmap` run every branch in lockstep and cost ~20
    evaluations per iteration; this costs one. A finished problem's slot is immediately given
    the next queued problem (its first iteration evaluates the start point), so the batch
    stays full and no slot waits for the slowest start, as plain lockstep would. Once the queue
    is empty and at most `B/8` problems are left, they are compacted into `B/8` slots
    (`_phase_sizes`) so the tail of slow starts runs on a small batch.

    Box constraints `lower <= x <= upper` (scalars; infinite = unbounded) are handled by
    projection, as in L-BFGS-B: trial points are clipped to the box, variables held at a
    bound by the gradient are frozen in the direction, and the gradient in the stopping
    rule is the projected one, $P(x - g) - x$.

    Stopping rules per problem (scipy L-BFGS-B's): $\max_i |(\text{projected } g)_i| \le$ `gtol`, or relative
    decrease $\le$ `ftol`, or `max_steps` accepted steps, or `4 max_steps` evaluations, or
    the line search stalling at working precision (counted as converged; flagged `lsfail`).
    Problems are independent: the result of each is the same for any `batch_size`, up to the
    rounding of differently-sized batched kernels (visible only where a start stalls in a
    numerically flat region of the objective).
    """
    N, P = x0.shape
    dtype = x0.dtype
    sizes = _phase_sizes(N, batch_size)
    B = sizes[0]
    max_evals = 4 * max_steps
    out = dict(
        x=x0, f=jnp.full(N, jnp.inf, dtype), nit=jnp.zeros(N, jnp.int32),
        conv=jnp.zeros(N, bool), lsfail=jnp.zeros(N, bool),
    )
    slots = dict(
        pid=jnp.arange(B), x=x0[:B], f=jnp.zeros(B, dtype), g=jnp.zeros((B, P), dtype),
        d=jnp.zeros((B, P), dtype), t=jnp.zeros(B, dtype),
        S=jnp.zeros((B, MEMORY, P), dtype), Y=jnp.zeros((B, MEMORY, P), dtype),
        rho=jnp.zeros((B, MEMORY), dtype), nit=jnp.zeros(B, jnp.int32),
        nback=jnp.zeros(B, jnp.int32), evals=jnp.zeros(B, jnp.int32),
        lsfail=jnp.zeros(B, bool), fresh=jnp.ones(B, bool), active=jnp.ones(B, bool),
    )
    state = dict(slots=slots, out=out, next=jnp.array(B), it=jnp.array(0))

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
        ft, gt = value_and_grad(xt, sl["pid"])
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
        stall = run & (nback >= MAX_BACKTRACKS)
        conv_run = (accept & ((gmax <= gtol) | (rel <= ftol))) | stall
        done_run = conv_run | (nit >= max_steps) | (evals >= max_evals)
        # -- merge
        sel = lambda a, b: jnp.where(fresh.reshape(-1, *([1] * (a.ndim - 1))), a, b)
        x_new = sel(x, x_run)
        f_new = sel(f0, f_run)
        g_new = sel(g0, g_run)
        d_new = sel(-gf0, d_run)
        t_new = sel(t0, t_run)
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
            active=jnp.where(finish, load, active),
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
    return out["x"], out["f"], out["nit"], out["conv"], out["lsfail"], state["it"]


def _problem(kernel, X, which, noise, jitter):
    """Flattened objective -L(params) for one dataset, and the pieces to rebuild kernels."""
    kernel = cast_kernel(kernel, X.dtype)
    params, static = eqx.partition(kernel, eqx.is_inexact_array)
    _, unravel = ravel_pytree(params)
    return params, static, unravel


def _negative_lml(flat, unravel, static, X, y, which, noise, jitter):
    k = eqx.combine(unravel(flat), static)
    return -log_marginal_likelihood(k, X, y, noise=noise, which=which, jitter=jitter)


def _assemble(flat, values, steps, conv, lsfail, iters, unravel, static):
    """Solution for one dataset from its R starts' final points."""
    finals = jax.vmap(unravel)(flat)
    finite = jnp.isfinite(values)
    best = jnp.argmin(jnp.where(finite, values, jnp.inf))
    best_params = jtu.tree_map(lambda x: x[best], finals)
    result = RESULTS.where(
        ~finite[best],
        RESULTS.singular,
        RESULTS.where(conv[best], RESULTS.successful, RESULTS.max_steps_reached),
    )
    lmls = -values
    return Solution(
        value=eqx.combine(best_params, static),
        result=result,
        stats={
            "num_steps": steps[best],
            "log_marginal_likelihood": lmls[best],
            "best_start": best,
            "max_steps_all": jnp.max(steps),
            "num_iterations": iters,
        },
        aux={
            "log_marginal_likelihoods": lmls,
            "num_steps": steps,
            "converged": conv,
            "line_search_stalled": lsfail,
            "kernels": eqx.combine(finals, static),
        },
    )


def _key_parts(keys):
    """(raw key data, rebuild) so that typed keys can pass through `custom_vmap`."""
    if jax.dtypes.issubdtype(keys.dtype, jax.dtypes.prng_key):
        impl = jr.key_impl(keys)
        return jr.key_data(keys), lambda data: jr.wrap_key_data(data, impl=impl)
    return keys, lambda data: data


def _fit_many(kernel, X, y, which, noise, keys, num_restarts, prior_box, max_steps, gtol, ftol, jitter, batch_size, bounded):
    """`b` datasets (leading axis of X, y, which, keys), all `b * R` starts in one pool.

    The pool is wrapped in `jax.custom_batching.custom_vmap`: when a caller `vmap`s `fit`
    (e.g. over the trials of a study) the batch axis is merged into the dataset axis, so the
    starts of all trials share ONE pool instead of running one lockstep pool per trial.
    """
    b = X.shape[0]
    params, static, unravel = _problem(kernel, X[0], None, noise, jitter)
    flat_k, _ = ravel_pytree(params)
    P = flat_k.shape[0]
    noise = jnp.asarray(noise, X.dtype)
    has_which = which is not None
    which = which if has_which else jnp.zeros(X.shape[:2], jnp.int32)
    keydata, rebuild = _key_parts(keys)
    lower, upper = (math.log(v) for v in prior_box) if bounded else (-math.inf, math.inf)

    @jax.custom_batching.custom_vmap
    def pool(flat_k, X, y, which, noise, keydata):
        b = X.shape[0]
        starts = jax.vmap(lambda v, k: _draw_starts(unravel(v), k, num_restarts, prior_box))(flat_k, rebuild(keydata))
        flat0 = jax.vmap(jax.vmap(lambda p: ravel_pytree(p)[0]))(starts).reshape(b * num_restarts, P)
        flat0 = jnp.clip(flat0, lower, upper)  # start 0 (the given kernel) may lie outside

        def one(v, i):
            w = which[i] if has_which else None
            return jax.value_and_grad(_negative_lml)(v, unravel, static, X[i], y[i], w, noise[i], jitter)

        def value_and_grad(v, pid):
            return jax.vmap(one)(v, pid // num_restarts)

        size = default_batch_size(b * num_restarts, X.shape[1]) if batch_size is None else batch_size
        flat, values, steps, conv, lsfail, iters = _lbfgs_pool(
            value_and_grad, flat0, batch_size=min(size, b * num_restarts), max_steps=max_steps,
            gtol=gtol, ftol=ftol, lower=lower, upper=upper,
        )
        split = lambda a: a.reshape(b, num_restarts, *a.shape[1:])
        return split(flat), split(values), split(steps), split(conv), split(lsfail), jnp.full(b, iters)

    @pool.def_vmap
    def _pool_vmap(axis_size, in_batched, *args):
        args = [a if bt else jnp.broadcast_to(a, (axis_size, *a.shape)) for a, bt in zip(args, in_batched)]
        outs = pool(*(a.reshape(axis_size * a.shape[1], *a.shape[2:]) for a in args))
        outs = tuple(o.reshape(axis_size, -1, *o.shape[1:]) for o in outs)
        return outs, (True,) * len(outs)

    bcast = lambda a: jnp.broadcast_to(a, (b, *a.shape))
    flat, values, steps, conv, lsfail, iters = pool(bcast(flat_k), X, y, which, bcast(noise), keydata)
    return jax.vmap(lambda *a: _assemble(*a, unravel, static))(flat, values, steps, conv, lsfail, iters)


def _validate(kernel, X, y, which, noise, num_restarts, prior_box):
    check_kernel(kernel)
    X, y, which = check_data(X, y, which)
    noise = check_noise(noise, X.dtype, X.shape[0])
    if not isinstance(num_restarts, int) or num_restarts < 1:
        raise ValueError(f"`num_restarts` must be a positive int, got {num_restarts!r}.")
    a, b = prior_box
    if not (0 < a < b < math.inf):
        raise ValueError(f"`prior_box` must be (a, b) with 0 < a < b, got {prior_box!r}.")
    return X, y, which, noise


@eqx.filter_jit
def fit(
    kernel: AbstractKernel,
    X: Float[ArrayLike, "n d"],
    y: Float[ArrayLike, "n *p"],
    *,
    key: PRNGKeyArray,
    noise: float | Float[ArrayLike, "*n"] = DEFAULT_NOISE,
    which: Int[ArrayLike, " n"] | None = None,
    num_restarts: int = 20,
    prior_box: tuple[float, float] = (1e-5, 1e5),
    max_steps: int = 200,
    gtol: float = 1e-5,
    ftol: float = 2.2e-9,
    jitter: float | None = None,
    bounded: bool = True,
    batch_size: int | None = None,
    throw: bool = True,
) -> Solution:
    r"""Maximise the log marginal likelihood (eq. 12) over the kernel's hyperparameters.

    **Arguments:**

    - `kernel`: the starting kernel (start 0); its inexact-array leaves are optimised.
    - `X (n, d)`, `y (n,)` or `(n, p)` (outputs share the kernel; objective = summed LML).
    - `key`: PRNG key for the random starts.
    - `noise`, `which`, `jitter`: as in `condition` (noise is fixed, not fitted).
    - `num_restarts`: number of starts $R$ (paper: 20), all run together under `vmap`.
    - `prior_box`: `(a, b)`, the starts are log-uniform in $[a, b]$ (see module docs).
    - `max_steps`, `gtol`, `ftol`: L-BFGS stopping rules per start: at most `max_steps`
      iterations; stop when $\max_i |\partial_i (-\mathcal{L})| \le$ `gtol` or the relative
      decrease of $-\mathcal{L}$ is $\le$ `ftol` (scipy's L-BFGS-B defaults, as used by
      scikit-learn).
    - `bounded`: keep every (log-)hyperparameter inside the prior box during the
      optimisation too, as scikit-learn does with its hyperparameter bounds (projected
      L-BFGS, see `_lbfgs_pool`); `False`: the box only places the starts. Default `True`:
      starts that drift towards zero or infinite lengthscales stop at the box instead of
      spending their steps there.
    - `batch_size`: number of starts evaluated together per iteration (default
      `default_batch_size(R, n)`: all 20 starts up to n = 125, 2 at n = 400).
      Starts run in a pool of that many slots, refilled as starts finish; once all have
      started the survivors are compacted into smaller batches (see `_lbfgs_pool`). Every
      start's result is independent of `batch_size` up to rounding; only speed changes.
    - `throw`: raise at run time if the best start failed (else inspect `.result`).

    **Returns:** a `jaxsci.Solution` with `value` = the best kernel, `result`
    (`successful`, `max_steps_reached` if the best start did not converge, `singular` if
    every start gave a non-positive-definite covariance), `stats` (`log_marginal_likelihood`,
    `num_steps`, `best_start`, `max_steps_all`, `num_iterations` = batched evaluations
    performed) and `aux` (`log_marginal_likelihoods (R,)` of every start's
    final point, `num_steps (R,)`, `converged (R,)`, `line_search_stalled (R,)` (counted as
    converged: the line search could not decrease $-\mathcal{L}$ further at working
    precision), `kernels`: all final kernels stacked).

    `fit` is `vmap`-able over datasets, but `fit_batched` is faster: it pools the starts of
    all datasets (no dataset waits for another's slowest start).
    """
    X, y, which, noise = _validate(kernel, X, y, which, noise, num_restarts, prior_box)
    _check_batch_size(batch_size, num_restarts, X.shape[0])
    sols = _fit_many(
        kernel, X[None], y[None], None if which is None else which[None], noise, key[None],
        num_restarts, prior_box, max_steps, gtol, ftol, jitter, batch_size, bounded,
    )
    sol = jtu.tree_map(lambda a: a[0], sols)
    return raise_if_failed(sol, throw)


@eqx.filter_jit
def _fit_batched(kernel, X, y, which, noise, keys, num_restarts, prior_box, max_steps, gtol, ftol, jitter, batch_size, bounded, throw, mesh_axis):
    def run(X_, y_, w_, k_):
        sols = _fit_many(
            kernel, X_, y_, w_, noise, k_, num_restarts, prior_box, max_steps, gtol, ftol, jitter, batch_size, bounded
        )
        return jax.vmap(lambda s: raise_if_failed(s, throw))(sols)

    if mesh_axis is None:
        return run(X, y, which, keys)
    # one pool per device, on its own block of datasets (no cross-device gathers)
    mesh, axis = mesh_axis
    spec = jax.sharding.PartitionSpec(axis)
    return jax.shard_map(run, mesh=mesh, in_specs=(spec, spec, spec, spec), out_specs=spec, check_vma=False)(
        X, y, which, keys
    )


def default_batch_size(num_problems: int, n: int) -> int:
    r"""Default pool size: `min(num_problems, 128 (50 / n)^2)`, at least 2.

    Small GPs are overhead-bound, so many evaluations per iteration pay off (128 slots of
    n = 50 is the measured sweet spot on a 2-core CPU: larger batches fall out of cache).
    Large GPs are bound by their O(n^3) Cholesky work, which batching does not speed up,
    while every slot holding a finished start wastes that work: few slots, refilled."""
    return max(1, min(num_problems, max(2, int(DEFAULT_POOL * (50.0 / n) ** 2))))


def _check_batch_size(batch_size, num_problems, n):
    if batch_size is None:
        return default_batch_size(num_problems, n)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int or None, got {batch_size!r}.")
    return min(batch_size, num_problems)


def fit_batched(
    kernel: AbstractKernel,
    X: Float[ArrayLike, "b n d"],
    y: Float[ArrayLike, "b n *p"],
    *,
    key: PRNGKeyArray,
    noise: float = DEFAULT_NOISE,
    which: Int[ArrayLike, "b n"] | None = None,
    num_restarts: int = 20,
    prior_box: tuple[float, float] = (1e-5, 1e5),
    max_steps: int = 200,
    gtol: float = 1e-5,
    ftol: float = 2.2e-9,
    jitter: float | None = None,
    bounded: bool = True,
    batch_size: int | None = None,
    sharding: jax.sharding.NamedSharding | None = None,
    throw: bool = True,
) -> Solution:
    r"""Fit `b` independent GPs (same kernel family and start) in one batched call.

    Equivalent to a loop of `fit(kernel, X[i], y[i], key=keys[i], ...)` with `keys =
    jr.split(key, b)`, but all `b * num_restarts` L-BFGS runs share one pool inside one
    `jit`: `batch_size` slots (default `default_batch_size(b * num_restarts, n)`: 128 for n = 50) are evaluated together
    per iteration, and a slot whose start has finished takes the next queued start (of any
    dataset), so the batch stays full and nobody waits for the slowest start.
    `sharding`: an optional `jax.sharding.NamedSharding` for the leading (dataset) axis
    (e.g. `NamedSharding(mesh, P("data"))`): the datasets are split into one block per
    device (`b` must be divisible by the number of devices), each device running its own
    pool (`jax.shard_map`). `vmap`ping `fit` over datasets also pools all their starts
    (a `custom_vmap` rule), so `jax.vmap(gp.fit)` and `fit_batched` cost the same.

    **Returns:** a `Solution` whose every leaf has a leading axis `b`.
    """
    X = jnp.asarray(X)
    y = jnp.asarray(y)
    if X.ndim != 3 or y.ndim not in (2, 3) or y.shape[:2] != X.shape[:2]:
        raise ValueError(
            "`X` must have shape (b, n, d) and `y` shape (b, n) or (b, n, p), got shapes "
            f"{X.shape} and {y.shape}."
        )
    if which is not None:
        which = jnp.asarray(which)
        if which.shape != X.shape[:2]:
            raise ValueError(f"`which` must have shape (b, n) = {X.shape[:2]}, got {which.shape}.")
    _validate(kernel, X[0], y[0], None if which is None else which[0], noise, num_restarts, prior_box)
    b = X.shape[0]
    keys = jr.split(key, b)
    mesh_axis = None
    if sharding is not None:
        spec = getattr(sharding, "spec", None)
        if not isinstance(sharding, jax.sharding.NamedSharding) or not spec or spec[0] is None:
            raise TypeError(
                "`sharding` must be a jax.sharding.NamedSharding that partitions the leading "
                f"(dataset) axis, e.g. NamedSharding(mesh, PartitionSpec('data')); got {sharding!r}."
            )
        mesh_axis = (sharding.mesh, spec[0])
        groups = sharding.mesh.shape[spec[0]] if isinstance(spec[0], str) else math.prod(sharding.mesh.shape[a] for a in spec[0])
        if b % groups:
            raise ValueError(
                f"With `sharding` over {groups} devices the number of datasets b = {b} must be "
                "divisible by the number of devices; pad the batch or use fewer devices."
            )
        X, y, keys = jax.device_put((X, y, keys), sharding)
        if which is not None:
            which = jax.device_put(which, sharding)
    _check_batch_size(batch_size, b * num_restarts, X.shape[1])
    return _fit_batched(
        kernel, X, y, which, noise, keys, num_restarts, prior_box, max_steps, gtol, ftol, jitter,
        batch_size, bounded, throw, mesh_axis,
    )
