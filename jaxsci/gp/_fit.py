r"""Multistart L-BFGS maximisation of the log marginal likelihood (Frankel et al., eq. 12).

The paper tunes the kernel hyperparameters by maximising $\mathcal{L}$ from 20 random
starts. Here every start runs at once: the starts are stacked along a leading axis and one
`optax.lbfgs` loop (zoom line search, `lax.while_loop`) is `vmap`ped over them inside one
`jit`. The objective is a function of the kernel's inexact-array leaves (via
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
import optax
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from .._solution import RESULTS, Solution, raise_if_failed
from ..kernels import AbstractKernel
from ._checks import DEFAULT_NOISE, cast_kernel, check_data, check_kernel, check_noise
from ._lml import log_marginal_likelihood

MAX_LINESEARCH_STEPS = 6


def _draw_starts(params, key, num_restarts: int, prior_box):
    lo, hi = (math.log(b) for b in prior_box)
    leaves, treedef = jtu.tree_flatten(params)
    keys = jr.split(key, max(len(leaves), 1))
    starts = []
    for leaf, k in zip(leaves, keys):
        draws = jr.uniform(k, (num_restarts - 1, *leaf.shape), leaf.dtype, lo, hi)
        starts.append(jnp.concatenate([leaf[None], draws]))
    return jtu.tree_unflatten(treedef, starts)


def _lbfgs_run(objective, params0, *, max_steps: int, gtol: float, ftol: float):
    """Minimise `objective` from one start; returns (params, value, num_steps, converged)."""
    solver = optax.lbfgs(
        linesearch=optax.scale_by_zoom_linesearch(max_linesearch_steps=MAX_LINESEARCH_STEPS)
    )
    value_and_grad = optax.value_and_grad_from_state(objective)
    state0 = solver.init(params0)
    v0, g0 = jax.value_and_grad(objective)(params0)

    def cond(carry):
        _, _, v, g, _, step, conv = carry
        return (step < max_steps) & ~conv & jnp.isfinite(v)

    def body(carry):
        params, state, v, g, _, step, _ = carry
        updates, state = solver.update(
            g, state, params, value=v, grad=g, value_fn=objective
        )
        params = optax.apply_updates(params, updates)
        v_new, g_new = value_and_grad(params, state=state)
        gmax = jnp.max(jnp.stack([jnp.max(jnp.abs(x)) for x in jtu.tree_leaves(g_new)]))
        decrease = (v - v_new) / jnp.maximum(jnp.maximum(jnp.abs(v), jnp.abs(v_new)), 1.0)
        conv = (gmax <= gtol) | (decrease <= ftol)
        return params, state, v_new, g_new, v, step + 1, conv

    carry = (params0, state0, v0, g0, v0, jnp.array(0), jnp.array(False))
    params, _, v, _, _, steps, conv = jax.lax.while_loop(cond, body, carry)
    return params, v, steps, conv


def _fit(kernel, X, y, which, noise, key, num_restarts, prior_box, max_steps, gtol, ftol, jitter):
    kernel = cast_kernel(kernel, X.dtype)
    params, static = eqx.partition(kernel, eqx.is_inexact_array)

    def objective(p):
        k = eqx.combine(p, static)
        lml = log_marginal_likelihood(k, X, y, noise=noise, which=which, jitter=jitter)
        return -lml

    starts = _draw_starts(params, key, num_restarts, prior_box)
    run = lambda p0: _lbfgs_run(objective, p0, max_steps=max_steps, gtol=gtol, ftol=ftol)
    finals, values, steps, conv = jax.vmap(run)(starts)
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
    final point, `num_steps (R,)`, `converged (R,)`, `kernels`: all final kernels stacked).

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
