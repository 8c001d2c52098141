r"""Multistart L-BFGS maximisation of the log marginal likelihood (Frankel et al., eq. 12).

The paper tunes the kernel hyperparameters by maximising $\mathcal{L}$ from 20 random
starts. Here the starts (of one dataset, or of many with `fit_batched`) share a pool of
slots inside one `jit`: one `lax.while_loop` advances every slot with ONE batched
evaluation of the objective and its gradient per iteration (L-BFGS with a backtracking
Armijo search folded into the outer loop), and a slot whose start has finished takes the
next queued start; see `jaxsci.gp._pool.lbfgs_pool`. The objective is a function of the kernel's
inexact-array leaves (via `eqx.partition`), so any kernel works, including sums, products
and user kernels whose hyperparameters are stored as logarithms (fields `log_*`; others are
refused, see below). The fit ends by conditioning the GP on the data with the best kernel:
`Solution.value` is that `Posterior`.

**Prior box.** Start 0 is the given kernel (as scikit-learn does); starts 1..R-1 draw every
stored leaf independently and uniformly in $[\log a, \log b]$ with `prior_box = (a, b)`,
default $(10^{-5}, 10^{5})$: scikit-learn's default hyperparameter bounds, sampled the way
its `n_restarts_optimizer` does (uniform in log-space). All jaxsci kernels store positive
hyperparameters as logarithms, so this is a log-uniform prior on each of them.
Parameters of any sign (a coregionalisation matrix, a mean function's coefficients) are
*unconstrained*: their class lists them in `unconstrained_fields`; every start begins at
their given value and no bound applies to them. A kernel with any other floating-point
leaf (a field neither named `log_*` nor declared unconstrained) raises `ValueError`: its
starts would be meaningless, e.g. a variance of $\log 10^{-5} < 0$. With
`bounded=True` (default) the box also bounds the optimisation, like scikit-learn's
hyperparameter bounds (projected L-BFGS); with `bounded=False` it only places the starts.
"""

import math
from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import ArrayLike, Float, Int, PRNGKeyArray

from .._solution import RESULTS, Solution, raise_if_failed
from ..kernels import AbstractKernel
from .._checks import require_positive_int
from ._checks import (
    DEFAULT_NOISE,
    cast_kernel,
    check_data,
    check_jitter,
    check_kernel,
    check_kernel_values,
    check_log_parameters,
    log_parameter_mask,
)
from ._lml import _lml_and_rounding
from ._mean import check_mean, is_fitted_mean, mean_observations
from ._model import (
    check_normalize_y,
    expand,
    noise_diagonal,
    normalization,
    prepare_targets,
    resolve_noise,
    shift_rows,
)
from ._noise import Noise, total_noise
from ._pool import lbfgs_pool
from ._pool_size import _check_batch_size, _compact_tail, default_batch_size
from ._posterior import build_posterior

# `optimum_on_bound` threshold: the log marginal likelihood still rises by more than this
# per unit of a log-hyperparameter (a factor e in the hyperparameter) out of the box. An
# irrelevant ARD lengthscale held at 1e5 has a slope ~1e-4 there (measured: L gains 1e-4 in
# total from 1e5 to 1e9) and is not flagged; targets scaled by 1e6 hold the variance at 1e5
# with a slope ~1e7.
BOUND_SLOPE = 0.1


def _draw_starts(params, key, num_restarts: int, prior_box, mask):
    """Start 0 = `params`; starts 1..R-1 draw every log-parameter leaf (`mask` True)
    log-uniformly in the prior box and keep every unconstrained leaf at its given value."""
    lo, hi = (math.log(b) for b in prior_box)
    leaves, treedef = jtu.tree_flatten(params)
    keys = jr.split(key, max(len(leaves), 1))
    starts = []
    for leaf, k, is_log in zip(leaves, keys, mask):
        if is_log:
            draws = jr.uniform(k, (num_restarts - 1, *leaf.shape), leaf.dtype, lo, hi)
        else:
            draws = jnp.broadcast_to(leaf, (num_restarts - 1, *leaf.shape))
        starts.append(jnp.concatenate([leaf[None], draws]))
    return jtu.tree_unflatten(treedef, starts)


def _bounds(params, mask, prior_box, bounded):
    """Flat `(lower, upper)` for the projected L-BFGS: the log prior box on log-parameters
    (with `bounded`), unbounded for unconstrained leaves. Scalars when all leaves agree."""
    lo, hi = (math.log(v) for v in prior_box) if bounded else (-math.inf, math.inf)
    if all(mask):
        return lo, hi
    leaves = jtu.tree_leaves(params)  # ravel_pytree's order; NumPy: constants, not tracers
    full = lambda a, b: np.concatenate([
        np.full(math.prod(leaf.shape), a if m else b, leaf.dtype) for leaf, m in zip(leaves, mask)
    ])
    return full(lo, -math.inf), full(hi, math.inf)


def _problem(theta, dtype):
    """Partition the fitted pytree `theta = (kernel, noise log-variance or None, fitted
    mean or None)` into parameters and static parts, and the unravel of its flat vector."""
    theta = cast_kernel(theta, dtype)
    params, static = eqx.partition(theta, eqx.is_inexact_array)
    _, unravel = ravel_pytree(params)
    return params, static, unravel


def _model_at(theta, X, y_pre, which, noise, scale, normalize_y):
    """`(kernel, targets, total diagonal noise)` at the hyperparameters `theta`: the fitted
    mean's rows are subtracted from the precomputed `y_pre` (then divided by the fixed
    normalisation `scale`), a learned log-variance is added to the fixed noise. With
    neither (the default) this is `(kernel, y_pre, noise)`: no extra work."""
    kernel, log_variance, mean = theta
    z = y_pre
    if mean is not None:
        z = y_pre - mean_observations(mean, X, which, y_pre.shape)
        if normalize_y:
            z = z / expand(scale, z.ndim)
    if log_variance is not None:
        noise = total_noise(log_variance, noise, X.shape[0])
    return kernel, z, noise


def _negative_lml(flat, unravel, static, X, y, which, noise, jitter, scale=None, normalize_y=False):
    """`(-L, rounding error of L)` at the flattened hyperparameters (see `lml_and_rounding`)."""
    k, z, diag = _model_at(eqx.combine(unravel(flat), static), X, y, which, noise, scale, normalize_y)
    # data, `which` and noise were validated once by `fit`: no checks inside the loop
    lml, delta, _ = _lml_and_rounding(k, X, z, noise=diag, which=which, jitter=jitter, checked=True)
    return -lml, delta


def _assemble(flat, values, steps, conv, lsfail, evals, iters, grads, X, y, which, noise, scale, shift, unravel, static, jitter, bounds, model):
    """Solution for one dataset from its R starts' final points: the posterior of the best.

    `bounds = (lower, upper, gtol)` when the optimisation was bounded, else `None`: the
    best start is then `optimum_on_bound` if a bound holds a hyperparameter whose gradient
    (pointing out of the box) is larger than `max(gtol, BOUND_SLOPE)`, i.e. the likelihood
    still rises markedly beyond the box and the unconstrained optimum was not reached (e.g.
    targets of size 1e6 need a variance above the default box's 1e5). `model = (noise
    model template, fixed mean, normalize_y)`."""
    finals = jax.vmap(unravel)(flat)
    finite = jnp.isfinite(values)
    best = jnp.argmin(jnp.where(finite, values, jnp.inf))
    best_params = jtu.tree_map(lambda x: x[best], finals)
    noise_template, fixed_mean, normalize_y = model
    theta = eqx.combine(best_params, static)
    kernel, z, diag = _model_at(theta, X, y, which, noise, scale, normalize_y)
    noise_model = None
    if noise_template is not None:
        noise_model = eqx.tree_at(lambda m: (m.log_variance, m.fixed), noise_template, (theta[1], noise))
    posterior, _, spd = build_posterior(
        kernel, X, z, which, diag, jitter, noise_model=noise_model,
        mean=fixed_mean if theta[2] is None else theta[2],
        shift=shift if normalize_y else 0.0, scale=scale if normalize_y else 1.0,
    )
    if bounds is None:
        on_bound_all = jnp.zeros(values.shape, bool)
    else:
        lower, upper, gtol = bounds
        lower, upper = (np.reshape(b, (1, -1)) for b in (lower, upper))
        held = ((flat <= lower) & (grads > 0)) | ((flat >= upper) & (grads < 0))
        on_bound_all = jnp.any(held & (jnp.abs(grads) > max(gtol, BOUND_SLOPE)), axis=1)
    on_bound = on_bound_all[best]
    result = RESULTS.where(
        ~finite[best] | ~spd,
        RESULTS.singular,
        RESULTS.where(
            on_bound,
            RESULTS.optimum_on_bound,
            RESULTS.where(conv[best], RESULTS.successful, RESULTS.max_steps_reached),
        ),
    )
    lmls = -values
    return Solution(
        value=posterior,
        result=result,
        stats={
            "num_steps": steps[best],
            "log_marginal_likelihood": lmls[best],
            "best_start": best,
            "max_steps_all": jnp.max(steps),
            "num_iterations": iters,
            "on_bound": on_bound,
            "per_start": {
                "log_marginal_likelihoods": lmls,
                "num_steps": steps,
                "num_evaluations": evals,
                "converged": conv,
                "line_search_stalled": lsfail,
                "on_bound": on_bound_all,
                "kernels": eqx.combine(finals, static)[0],
            },
        },
    )


def _key_parts(keys):
    """(raw key data, rebuild) so that typed keys can pass through `custom_vmap`."""
    if jax.dtypes.issubdtype(keys.dtype, jax.dtypes.prng_key):
        impl = jr.key_impl(keys)
        return jr.key_data(keys), lambda data: jr.wrap_key_data(data, impl=impl)
    return keys, lambda data: data


def _fit_many(kernel, X, y, which, noise, keys, num_restarts, prior_box, max_steps, gtol, ftol, jitter, batch_size, bounded, noise_model=None, mean=None, normalize_y=False):
    """`b` datasets (leading axis of X, y, which, keys), all `b * R` starts in one pool.

    The pool is wrapped in `jax.custom_batching.custom_vmap`: when a caller `vmap`s `fit`
    (e.g. over the trials of a study) the batch axis is merged into the dataset axis, so the
    starts of all trials share ONE pool instead of running one lockstep pool per trial.
    The fitted parameters are those of `theta = (kernel, log-variance of noise_model,
    mean if it has fitted leaves)`; a fixed mean and the normalisation statistics (of the
    residual at the given mean) are applied to `y` once, before the pool.
    """
    b = X.shape[0]
    fitted_mean = is_fitted_mean(mean)
    log_variance = None if noise_model is None else noise_model.log_variance
    theta = (kernel, log_variance, mean if fitted_mean else None)
    fixed_mean = None if fitted_mean else mean
    params, static, unravel = _problem(theta, X.dtype)
    flat_k, _ = ravel_pytree(params)
    P = flat_k.shape[0]
    noise = jnp.asarray(noise if noise_model is None else noise_model.fixed, X.dtype)
    has_which = which is not None
    mask = (
        log_parameter_mask(kernel)
        + ([True] if log_variance is not None else [])
        + (log_parameter_mask(mean) if fitted_mean else [])
    )
    lower, upper = _bounds(params, mask, prior_box, bounded)

    def targets(X_, y_, w_):
        if not fitted_mean:
            z, shift, scale, _ = prepare_targets(y_, X_, w_, fixed_mean, normalize_y)
        elif normalize_y:
            shift, scale = normalization(y_ - mean_observations(mean, X_, w_, y_.shape), w_)
            z = y_ - shift_rows(shift, w_, y_.shape)
        else:
            z, shift, scale = y_, 0.0, 1.0
        per_output = () if y_.ndim == 1 else y_.shape[1:]
        as_arr = lambda v: jnp.broadcast_to(jnp.asarray(v, X_.dtype), per_output)
        return z, as_arr(shift), as_arr(scale)

    y, shift, scale = jax.vmap(targets)(X, y, which) if has_which else jax.vmap(lambda a, c: targets(a, c, None))(X, y)
    which = which if has_which else jnp.zeros(X.shape[:2], jnp.int32)
    keydata, rebuild = _key_parts(keys)

    @jax.custom_batching.custom_vmap
    def pool(flat_k, X, y, which, noise, scale, keydata):
        b = X.shape[0]
        starts = jax.vmap(lambda v, k: _draw_starts(unravel(v), k, num_restarts, prior_box, mask))(flat_k, rebuild(keydata))
        flat0 = jax.vmap(jax.vmap(lambda p: ravel_pytree(p)[0]))(starts).reshape(b * num_restarts, P)
        flat0 = jnp.clip(flat0, np.reshape(lower, (1, -1)), np.reshape(upper, (1, -1)))  # start 0 (the given kernel) may lie outside

        def one(v, i):
            w = which[i] if has_which else None
            (f, delta), g = jax.value_and_grad(_negative_lml, has_aux=True)(
                v, unravel, static, X[i], y[i], w, noise[i], jitter, scale[i], normalize_y
            )
            return f, g, delta

        def value_and_grad(v, pid):
            return jax.vmap(one)(v, pid // num_restarts)

        size = default_batch_size(b * num_restarts, X.shape[1]) if batch_size is None else batch_size
        size = min(size, b * num_restarts)
        flat, values, steps, conv, lsfail, evals, iters, grads = lbfgs_pool(
            value_and_grad, flat0, batch_size=size, max_steps=max_steps,
            gtol=gtol, ftol=ftol, lower=lower, upper=upper,
            compact=_compact_tail(b * num_restarts, size, X.shape[1]),
        )
        split = lambda a: a.reshape(b, num_restarts, *a.shape[1:])
        return (
            split(flat), split(values), split(steps), split(conv), split(lsfail), split(evals),
            jnp.full(b, iters), split(grads),
        )

    @pool.def_vmap
    def _pool_vmap(axis_size, in_batched, *args):
        args = [a if bt else jnp.broadcast_to(a, (axis_size, *a.shape)) for a, bt in zip(args, in_batched)]
        outs = pool(*(a.reshape(axis_size * a.shape[1], *a.shape[2:]) for a in args))
        outs = tuple(o.reshape(axis_size, -1, *o.shape[1:]) for o in outs)
        return outs, (True,) * len(outs)

    bcast = lambda a: jnp.broadcast_to(a, (b, *a.shape))
    noise = bcast(noise)
    outs = pool(bcast(flat_k), X, y, which, noise, scale, keydata)
    which = which if has_which else None
    bounds = (lower, upper, gtol) if bounded else None
    model = (noise_model, fixed_mean, normalize_y)
    assemble = lambda *a: _assemble(*a, unravel, static, jitter, bounds, model)
    return jax.vmap(assemble)(*outs, X, y, which, noise, scale, shift)


def _validate(kernel, X, y, which, noise, num_restarts, prior_box, max_steps, gtol, ftol, jitter, mean=None, normalize_y=False):
    """Tier-1 checks of the options and data; returns the data, the noise (a checked
    `Noise` model or `None`, and the fixed noise or `None`), the mean, jitter and the
    kernel (its leaves checked finite, tier 2)."""
    check_log_parameters(check_kernel(kernel))
    X, y, which = check_data(X, y, which)
    normalize_y = check_normalize_y(normalize_y)
    noise_model, noise = resolve_noise(noise, X, y)
    mean = check_mean(mean, X, y.shape)
    if is_fitted_mean(mean):
        log_parameter_mask(mean)  # refuses leaves neither `log_*` nor unconstrained
    jitter = check_jitter(jitter, X.dtype)
    require_positive_int(num_restarts, "num_restarts")
    require_positive_int(max_steps, "max_steps")
    for name, v in (("gtol", gtol), ("ftol", ftol)):
        if not isinstance(v, (int, float)) or not (0 <= v < math.inf):
            raise ValueError(f"`{name}` must be a finite Python number >= 0, got {v!r}.")
    ok = isinstance(prior_box, (tuple, list)) and len(prior_box) == 2
    if not ok or not all(isinstance(v, (int, float)) for v in prior_box) or not (0 < prior_box[0] < prior_box[1] < math.inf):
        raise ValueError(
            f"`prior_box` must be a pair of Python numbers (a, b) with 0 < a < b < inf, got "
            f"{prior_box!r}. The default is (1e-5, 1e5)."
        )
    kernel = check_kernel_values(kernel)
    return kernel, X, y, which, noise_model, noise, mean, jitter


@eqx.filter_jit
def fit(
    kernel: AbstractKernel,
    X: Float[ArrayLike, "n d"],
    y: Float[ArrayLike, "n *p"],
    *,
    key: PRNGKeyArray | None = None,
    noise: float | Float[ArrayLike, "*n"] | Noise = DEFAULT_NOISE,
    which: Int[ArrayLike, " n"] | None = None,
    mean: Callable | None = None,
    normalize_y: bool = False,
    fit_hyperparameters: bool = True,
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
    r"""Maximise the log marginal likelihood (eq. 12) over the kernel's hyperparameters and
    condition the GP on the data with the best kernel found.

    **Arguments:**

    - `kernel`: the starting kernel (start 0); its inexact-array leaves are optimised. They
      must be stored as logarithms (fields named `log_*`, as in `jaxsci.kernels`; the
      starts are drawn log-uniformly) or be declared unconstrained by the class attribute
      `unconstrained_fields` (started at the given value, never bounded); any other
      floating-point leaf raises `ValueError`.
    - `X (n, d)`, `y (n,)` or `(n, p)` (outputs share the kernel; objective = summed LML).
    - `key`: PRNG key for the random starts. `key=None` means *condition only*: no
      hyperparameter optimisation, exactly as `fit_hyperparameters=False` (this is how
      `jaxsci.mechanics`' fits document `key=None`).
    - `fit_hyperparameters`: `False` (or `key=None`) keeps `kernel`'s hyperparameters and
      only conditions on the data (no optimisation, `key` unused); the `Solution` has the
      same type, with `result` `successful`, `singular` (covariance not positive definite,
      or singular to working precision) or `nonfinite` (the kernel's Gram matrix has
      NaN/inf entries), and `stats = {"log_marginal_likelihood"}`.
    - `noise`, `which`, `jitter`: as in `condition` (noise is fixed, not fitted).
    - `num_restarts`: number of starts $R$ (paper: 20), all run together under `vmap`.
    - `prior_box`: `(a, b)`, the starts are log-uniform in $[a, b]$ (see module docs).
    - `max_steps`, `gtol`, `ftol`: L-BFGS stopping rules per start: at most `max_steps`
      iterations; stop when $\max_i |\partial_i (-\mathcal{L})| \le$ `gtol` or the relative
      decrease of $-\mathcal{L}$ is $\le$ `ftol` (scipy's L-BFGS-B defaults, as used by
      scikit-learn).
    - `bounded`: keep every (log-)hyperparameter inside the prior box during the
      optimisation too, as scikit-learn does with its hyperparameter bounds (projected
      L-BFGS, see `jaxsci.gp._pool.lbfgs_pool`); `False`: the box only places the starts. Default `True`:
      starts that drift towards zero or infinite lengthscales stop at the box instead of
      spending their steps there.
    - `batch_size`: number of starts evaluated together per iteration (default
      `default_batch_size(R, n)`: all 20 starts up to n = 125, 2 at n = 400).
      Starts run in a pool of that many slots, refilled as starts finish; once all have
      started the survivors are compacted into smaller batches (see `jaxsci.gp._pool.lbfgs_pool`). Every
      start's result is independent of `batch_size` up to rounding; only speed changes.
    - `throw`: raise at run time if the best start failed (else inspect `.result`).

    **Returns:** a `jaxsci.Solution` with `value` = the `Posterior` of the best kernel
    (`value.kernel`; the Cholesky factor and weights are computed once here, so there is no
    need to call `condition` again), `result`
    (`successful`; `singular` if every start gave a covariance that is not positive
    definite, or the best one is singular to working precision, e.g. duplicated points
    with `noise=1e-300, jitter=0`; `optimum_on_bound` if, with `bounded=True`, the best
    start is held on the prior box by a hyperparameter whose log-likelihood gradient
    (pointing out of the box) exceeds `max(gtol, 0.1)` (0.1 per unit of the log-parameter), e.g. targets of size 1e6 whose variance wants
    to exceed the box's 1e5: rescale `y` or widen `prior_box`; `max_steps_reached` if the
    best start did not converge), `stats` (`log_marginal_likelihood`,
    `num_steps`, `best_start`, `max_steps_all`, `num_iterations` = batched evaluations
    performed, `on_bound` (the flag behind `optimum_on_bound`), and `per_start`: `log_marginal_likelihoods (R,)` of every start's
    final point, `num_steps (R,)`, `num_evaluations (R,)` (objective evaluations per start,
    rejected line-search trials included), `converged (R,)`, `line_search_stalled (R,)`
    (counted as converged: the line search could not decrease $-\mathcal{L}$ by more than
    `ftol` relative, i.e. $-\mathcal{L}$ is minimal to its rounding noise), `on_bound (R,)`
    (each start's final point held on the prior box by a gradient above the threshold
    above), `kernels`: all final kernels stacked). `gp.summary(solution)` prints this as
    a table, with a warning when the best start is held on the box.

    `fit` is `vmap`-able over datasets, but `fit_batched` is faster: it pools the starts of
    all datasets (no dataset waits for another's slowest start).

    **Raises:** at trace time `ValueError`/`TypeError` for shapes, empty data, a kernel leaf
    not stored as a logarithm, and bad options (`num_restarts`, `max_steps` not positive
    ints; negative `gtol`/`ftol`/`jitter`; `prior_box` not `0 < a < b`; non-positive
    `noise`); at run time (`eqx.error_if`) for NaN/inf data or kernel hyperparameters; with
    `throw=True`, a failed `result` (above) raises at run time.
    """
    if not fit_hyperparameters or key is None:
        return _condition_only(kernel, X, y, which, noise, jitter, throw, mean, normalize_y)
    kernel, X, y, which, noise_model, noise, mean, jitter = _validate(
        kernel, X, y, which, noise, num_restarts, prior_box, max_steps, gtol, ftol, jitter,
        mean, normalize_y,
    )
    _check_batch_size(batch_size, num_restarts, X.shape[0])
    sols = _fit_many(
        kernel, X[None], y[None], None if which is None else which[None], noise, key[None],
        num_restarts, prior_box, max_steps, gtol, ftol, jitter, batch_size, bounded,
        noise_model, mean, normalize_y,
    )
    sol = jtu.tree_map(lambda a: a[0] if eqx.is_array(a) else a, sols)
    return raise_if_failed(sol, throw)


def _condition_only(kernel, X, y, which, noise, jitter, throw, mean=None, normalize_y=False):
    """`fit(..., fit_hyperparameters=False)` or `fit(..., key=None)`: the posterior of the
    given kernel (noise, mean), as a Solution (`nonfinite` if its Gram matrix is not
    finite, `singular` if the covariance is not positive definite)."""
    check_kernel(kernel)
    X, y, which = check_data(X, y, which)
    normalize_y = check_normalize_y(normalize_y)
    noise_model, noise = resolve_noise(noise, X, y)
    mean = check_mean(mean, X, y.shape)
    jitter = check_jitter(jitter, X.dtype)
    kernel = check_kernel_values(cast_kernel(kernel, X.dtype))
    z, shift, scale, _ = prepare_targets(y, X, which, mean, normalize_y)
    post, gram_ok, ok = build_posterior(
        kernel, X, z, which, noise_diagonal(noise_model, noise, X.shape[0]), jitter,
        noise_model=noise_model, mean=mean, shift=shift, scale=scale,
    )
    n, p = X.shape[0], post.weights.reshape(X.shape[0], -1).shape[1]
    log_diag = jnp.sum(jnp.log(jnp.diagonal(post.chol, axis1=-2, axis2=-1)))
    lml = (
        -0.5 * jnp.sum(z.reshape(n, p) * post.weights.reshape(n, p))
        - (p * log_diag if post.chol.ndim == 2 else log_diag)
        - 0.5 * n * p * math.log(2 * math.pi)
    )
    sol = Solution(
        value=post,
        result=RESULTS.where(
            ok, RESULTS.successful, RESULTS.where(gram_ok, RESULTS.singular, RESULTS.nonfinite)
        ),
        stats={"log_marginal_likelihood": jnp.where(ok, lml, -jnp.inf)},
    )
    return raise_if_failed(sol, throw)
