r"""Multistart L-BFGS maximisation of the log marginal likelihood (Frankel et al., eq. 12).

The paper tunes the kernel hyperparameters by maximising $\mathcal{L}$ from 20 random
starts. Here every start runs at once, in lockstep: the starts are stacked along a leading
axis and one `lax.while_loop` advances all of them with ONE batched evaluation of the
objective and its gradient per iteration (L-BFGS with a backtracking Armijo search folded
into the outer loop; see `_lbfgs_lockstep`), inside one `jit`. The objective is a function of the kernel's inexact-array leaves (via
`eqx.partition`), so any kernel works, including sums, products and user kernels.

**Prior box.** Start 0 is the given kernel (as scikit-learn does); starts 1..R-1 draw every
stored leaf independently and uniformly in $[\log a, \log b]$ with `prior_box = (a, b)`,
default $(10^{-5}, 10^{5})$: scikit-learn's default hyperparameter bounds, sampled the way
its `n_restarts_optimizer` does (uniform in log-space). All jaxsci kernels store positive
hyperparameters as logarithms, so this is a log-uniform prior on each of them. The box only
places the starts; the optimisation itself is unconstrained in log-space.
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


def _lbfgs_lockstep(value_and_grad, x0, *, max_steps: int, gtol: float, ftol: float):
    r"""Minimise from `R` starts `x0 (R, P)` in lockstep: ONE batched objective evaluation
    per loop iteration.

    Each start carries its own L-BFGS memory and backtracking Armijo line search, but the
    line search is folded into the single outer `lax.while_loop` (a rejected trial halves
    that start's step for the next iteration) instead of being a nested loop. Nested
    `while_loop`s under `vmap` run every branch of every start in lockstep and cost ~20
    objective evaluations per iteration; this costs one. Stopping rules per start (scipy
    L-BFGS-B's): $\max_i|g_i| \le$ `gtol`, or relative decrease $\le$ `ftol`, or
    `max_steps` accepted steps, or the line search stalling at working precision (counted
    as converged; flagged in `lsfail`).
    """
    R, P = x0.shape
    dtype = x0.dtype
    f0, g0 = value_and_grad(x0)
    finite0 = jnp.isfinite(f0) & jnp.all(jnp.isfinite(g0), axis=1)
    f0 = jnp.where(finite0, f0, jnp.inf)
    g0 = jnp.where(finite0[:, None], g0, 0.0)
    gmax0 = jnp.max(jnp.abs(g0), axis=1)
    state = dict(
        x=x0, f=f0, g=g0, d=-g0,
        t=jnp.minimum(1.0, 1.0 / jnp.maximum(gmax0, 1e-12)).astype(dtype),
        S=jnp.zeros((R, MEMORY, P), dtype), Y=jnp.zeros((R, MEMORY, P), dtype),
        rho=jnp.zeros((R, MEMORY), dtype),
        nit=jnp.zeros(R, jnp.int32), nback=jnp.zeros(R, jnp.int32),
        done=~finite0 | (gmax0 <= gtol), conv=finite0 & (gmax0 <= gtol),
        lsfail=jnp.zeros(R, bool), it=jnp.array(0),
    )
    max_iters = max_steps * 4

    def cond(st):
        return jnp.any(~st["done"]) & (st["it"] < max_iters)

    def body(st):
        x, f, g, d, t = st["x"], st["f"], st["g"], st["d"], st["t"]
        xt = x + t[:, None] * d
        ft, gt = value_and_grad(xt)
        ok = jnp.isfinite(ft) & jnp.all(jnp.isfinite(gt), axis=1)
        gd = jnp.sum(g * d, axis=1)
        accept = ok & (ft <= f + ARMIJO_C1 * t * gd) & ~st["done"]
        reject = ~accept & ~st["done"]
        # memory update on accepted steps with positive curvature
        s = xt - x
        yv = gt - g
        sy = jnp.sum(s * yv, axis=1)
        good = accept & (sy > 1e-10 * jnp.sqrt(jnp.sum(s * s, 1) * jnp.sum(yv * yv, 1)))
        roll = lambda A, new: jnp.concatenate([A[:, 1:], new[:, None]], axis=1)
        S = jnp.where(good[:, None, None], roll(st["S"], s), st["S"])
        Y = jnp.where(good[:, None, None], roll(st["Y"], yv), st["Y"])
        rho = jnp.where(
            good[:, None], roll(st["rho"], 1.0 / jnp.where(good, sy, 1.0)), st["rho"]
        )
        x_new = jnp.where(accept[:, None], xt, x)
        f_new = jnp.where(accept, ft, f)
        g_new = jnp.where(accept[:, None], gt, g)
        d_acc = jax.vmap(_two_loop)(g_new, S, Y, rho)
        descent = jnp.sum(d_acc * g_new, axis=1) < 0
        d_acc = jnp.where(descent[:, None], d_acc, -g_new)
        d_new = jnp.where(accept[:, None], d_acc, d)
        t_new = jnp.where(accept, jnp.ones_like(t), 0.5 * t)
        nit = st["nit"] + accept
        nback = jnp.where(accept, 0, st["nback"] + reject)
        gmax = jnp.max(jnp.abs(g_new), axis=1)
        rel = (f - f_new) / jnp.maximum(jnp.maximum(jnp.abs(f), jnp.abs(f_new)), 1.0)
        # A line search that cannot decrease f even with step 2^-30 along a descent
        # direction means f is minimal to working precision (scipy reports this as
        # ABNORMAL_TERMINATION_IN_LNSRCH and scikit-learn keeps the point): count it as
        # converged, and record it in `lsfail`.
        lsfail = st["lsfail"] | (~st["done"] & (nback >= MAX_BACKTRACKS))
        conv_now = (accept & ((gmax <= gtol) | (rel <= ftol))) | (lsfail & ~st["done"])
        conv = st["conv"] | conv_now
        done = st["done"] | conv_now | (nit >= max_steps)
        return dict(
            x=x_new, f=f_new, g=g_new, d=d_new, t=t_new, S=S, Y=Y, rho=rho, nit=nit,
            nback=nback, done=done, conv=conv, lsfail=lsfail, it=st["it"] + 1,
        )

    st = jax.lax.while_loop(cond, body, state)
    return st["x"], st["f"], st["nit"], st["conv"], st["lsfail"]


def _fit(kernel, X, y, which, noise, key, num_restarts, prior_box, max_steps, gtol, ftol, jitter):
    kernel = cast_kernel(kernel, X.dtype)
    params, static = eqx.partition(kernel, eqx.is_inexact_array)

    def objective(p):
        k = eqx.combine(p, static)
        lml = log_marginal_likelihood(k, X, y, noise=noise, which=which, jitter=jitter)
        return -lml

    starts = _draw_starts(params, key, num_restarts, prior_box)
    _, unravel = ravel_pytree(params)
    flat0 = jax.vmap(lambda p: ravel_pytree(p)[0])(starts)
    vg = jax.vmap(jax.value_and_grad(lambda v: objective(unravel(v))))
    flat, values, steps, conv, lsfail = _lbfgs_lockstep(
        vg, flat0, max_steps=max_steps, gtol=gtol, ftol=ftol
    )
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
        },
        aux={
            "log_marginal_likelihoods": lmls,
            "num_steps": steps,
            "converged": conv,
            "line_search_stalled": lsfail,
            "kernels": eqx.combine(finals, static),
        },
    )


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
    - `throw`: raise at run time if the best start failed (else inspect `.result`).

    **Returns:** a `jaxsci.Solution` with `value` = the best kernel, `result`
    (`successful`, `max_steps_reached` if the best start did not converge, `singular` if
    every start gave a non-positive-definite covariance), `stats` (`log_marginal_likelihood`,
    `num_steps`, `best_start`) and `aux` (`log_marginal_likelihoods (R,)` of every start's
    final point, `num_steps (R,)`, `converged (R,)`, `line_search_stalled (R,)` (counted as
    converged: the line search could not decrease $-\mathcal{L}$ further at working
    precision), `kernels`: all final kernels stacked).

    `fit` is `vmap`-able over datasets; `fit_batched` does that for you.
    """
    X, y, which, noise = _validate(kernel, X, y, which, noise, num_restarts, prior_box)
    sol = _fit(kernel, X, y, which, noise, key, num_restarts, prior_box, max_steps, gtol, ftol, jitter)
    return raise_if_failed(sol, throw)


@eqx.filter_jit
def _fit_batched(kernel, X, y, which, noise, keys, num_restarts, prior_box, max_steps, gtol, ftol, jitter, throw):
    def one(X_, y_, w_, k_):
        sol = _fit(kernel, X_, y_, w_, noise, k_, num_restarts, prior_box, max_steps, gtol, ftol, jitter)
        return raise_if_failed(sol, throw)

    return jax.vmap(one, in_axes=(0, 0, None if which is None else 0, 0))(X, y, which, keys)


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
    sharding: jax.sharding.Sharding | None = None,
    throw: bool = True,
) -> Solution:
    r"""Fit `b` independent GPs (same kernel family and start) in one batched call.

    Equivalent to a loop of `fit(kernel, X[i], y[i], key=keys[i], ...)` with `keys =
    jr.split(key, b)`, but all `b * num_restarts` L-BFGS runs execute together (`vmap` over
    datasets of `vmap` over starts) inside one `jit`. `sharding`: an optional
    `jax.sharding.Sharding` for the leading (dataset) axis of `X`, `y` (e.g.
    `NamedSharding(mesh, P("data"))`) to spread the datasets over devices.

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
    keys = jr.split(key, X.shape[0])
    if sharding is not None:
        X, y, keys = jax.device_put((X, y, keys), sharding)
        if which is not None:
            which = jax.device_put(which, sharding)
    return _fit_batched(
        kernel, X, y, which, noise, keys, num_restarts, prior_box, max_steps, gtol, ftol, jitter, throw
    )
