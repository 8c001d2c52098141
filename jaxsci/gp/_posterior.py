r"""Exact GP conditioning and prediction (Frankel et al., section 3, eqs. 9-11; eq. 39-40).

The training covariance $K + \varepsilon^2 I$ is factorised once, $K + \varepsilon^2 I = U^T U$
(upper Cholesky from `lineax.Cholesky`), and the weights $w = (K + \varepsilon^2 I)^{-1} y$ are
stored. Observations may be function values or partial derivatives (`which`, see
`derivative_gram`); the same weights then predict values and gradients (eq. 39).
"""

from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy as jsp
import lineax as lx
from jaxtyping import Array, ArrayLike, Float, Int

from .._checks import check_nonempty
from .._misc import as_float_array, check_finite, jitter_for
from ..kernels import AbstractKernel
from ._checks import (
    DEFAULT_NOISE,
    cast_kernel,
    check_data,
    check_jitter,
    check_kernel,
    check_kernel_values,
    check_which,
)
from ._derivative import _derivative_gram, _observation_covariance
from ._mean import check_mean, mean_observations
from ._model import (
    check_normalize_y,
    expand,
    learned_level,
    noise_diagonal,
    prepare_targets,
    resolve_noise,
    shift_rows,
)
from ._noise import Noise

_HIGHEST = jax.lax.Precision.HIGHEST


def gram(kernel: AbstractKernel, X1, which1, X2, which2) -> Float[Array, "n m"]:
    """Value Gram `kernel(X1, X2)`, or the derivative-observation Gram when `which` given."""
    if which1 is None and which2 is None:
        return kernel(X1, X2)
    if which1 is None:
        which1 = jnp.full(X1.shape[0], -1)
    if which2 is None:
        which2 = jnp.full(X2.shape[0], -1)
    return _derivative_gram(kernel, X1, which1, X2, which2)


def diagonal_term(noise, jitter, dtype) -> Float[Array, "*n"]:
    """`max(noise, jitter)`: the jitter is a floor on what is added to the diagonal."""
    jitter = jitter_for(dtype) if jitter is None else jitter
    return jnp.maximum(noise, jnp.asarray(jitter, dtype))


def unresolved(K_diag_max, diag_min, pivot_sq_min, n: int, dtype):
    r"""Whether a Cholesky factorisation of $K + D$ is singular to working precision.

    A singular $K$ (e.g. duplicated points) is made positive definite only by the diagonal
    term $D = \max(\varepsilon^2, \text{jitter})$. If $D$ is below the rounding level
    of $K$'s diagonal ($\min D < \epsilon \max_i K_{ii}$, e.g. `noise=1e-300, jitter=0`),
    the factorisation may still "succeed" on rounding noise, with pivots $U_{jj}^2$ of the
    size of the Cholesky backward error $n \epsilon \max_i K_{ii}$, and a meaningless
    solve and log-determinant. That case is reported as singular. With the default noise
    and jitter (1e-10 in float64) it cannot arise for $\max_i K_{ii} < 4.5 \cdot 10^5$.
    """
    eps = jnp.finfo(dtype).eps
    return (diag_min < eps * K_diag_max) & (pivot_sq_min < n * eps * K_diag_max)


def cholesky_factor(K: Float[Array, "n n"]) -> Float[Array, "n n"]:
    r"""Upper Cholesky factor $U$ ($K = U^T U$) of the (jittered) SPD matrix (lineax).

    An indefinite matrix gives a NaN factor (detected by the callers).
    """
    operator = lx.MatrixLinearOperator(K, lx.positive_semidefinite_tag)
    factor, _ = lx.Cholesky().init(operator, {})
    return factor


def factorise(
    K: Float[Array, "n n"], Y: Float[Array, "n p"]
) -> tuple[Float[Array, "n n"], Float[Array, "n p"]]:
    r"""Upper Cholesky factor $U$ of the (jittered) SPD matrix and $K^{-1} Y$.

    An indefinite matrix gives a NaN factor (detected by the callers).
    """
    factor = cholesky_factor(K)
    # Solve with the factor directly rather than `lx.linear_solve`: lineax raises inside
    # its JVP on non-finite output, but the optimiser must be able to visit hyperparameters
    # whose covariance is numerically indefinite (objective -inf) and step back.
    weights = jsp.linalg.cho_solve((factor, False), Y)
    return factor, weights


class Posterior(eqx.Module):
    r"""A GP conditioned on data: everything needed to predict (eqs. 9-11).

    Attributes: `kernel`; training points `X (n, d)`; `which (n,)` or `None` (all values);
    upper Cholesky factor `chol (n, n)` of $K + \varepsilon^2 I$ (`(p, n, n)`, one per
    output, with a per-output learned noise variance); `weights (n,)` or `(n, p)` $= (K +
    \varepsilon^2 I)^{-1} z$ with $z$ the targets the GP models ($y$ by default); `noise`
    the total diagonal noise $\varepsilon^2$ (scalar or `(n,)`; `(p, n)` per output);
    `noise_model`: the `gp.Noise` used (fitted by `gp.fit`) or `None` for a fixed `noise=`;
    `mean`: the prior mean function (`None` = zero); `y_shift`, `y_scale`: the
    `normalize_y` shift and scale (scalars or `(p,)`; 0 and 1 without normalisation).
    """

    kernel: AbstractKernel
    X: Float[Array, "n d"]
    which: Int[Array, " n"] | None
    chol: Float[Array, "*p n n"]
    weights: Float[Array, "n *p"]
    noise: Float[Array, "*pn"]
    noise_model: Noise | None = None
    mean: Callable | None = None
    y_shift: float | Float[Array, "*p"] = 0.0
    y_scale: float | Float[Array, "*p"] = 1.0


@eqx.filter_jit
def condition(
    kernel: AbstractKernel,
    X: Float[ArrayLike, "n d"],
    y: Float[ArrayLike, "n *p"],
    *,
    noise: float | Float[ArrayLike, "*n"] | Noise = DEFAULT_NOISE,
    which: Int[ArrayLike, " n"] | None = None,
    jitter: float | None = None,
    mean: Callable | None = None,
    normalize_y: bool = False,
) -> Posterior:
    r"""Condition a GP prior $f \sim GP(m, k)$ (zero mean by default) on data (eqs. 7-9).

    **Arguments:**

    - `kernel`: any `jaxsci.kernels.AbstractKernel`.
    - `X`: training points `(n, d)`.
    - `y`: observations `(n,)`, or `(n, p)` for `p` outputs sharing one kernel.
    - `noise`: the noise variance $\varepsilon^2 > 0$, scalar or `(n,)`; default `1e-10`,
      the paper's regulariser for noise-free data. Or a `gp.Noise` (learned variance, shared
      or one per output, plus a fixed part): its current value is used here; `fit` learns
      it. A per-output variance factorises one covariance per output (`chol (p, n, n)`).
    - `which`: optional `(n,)` integers, `-1` for a value and `i` for $\partial f/\partial
      x_i$ (derivative observations, eqs. 35-40). `None`: all values.
    - `jitter`: floor on the diagonal term, default `jaxsci._misc.jitter_for(dtype)` (1e-10
      in float64, 1e-6 in float32); the matrix factorised is $K + \max(\varepsilon^2,
      \text{jitter}) I$.
    - `mean`: prior mean, a callable of one point `m(x (d,)) -> scalar or (p,)`
      (`gp.ConstantMean`, `gp.LinearMean`, any function); the GP models $y - m(X)$
      (derivative rows: $y - \partial_i m$). `None`: zero mean.
    - `normalize_y`: standardise the residual targets per output (scikit-learn's
      `normalize_y=True`, see `jaxsci.gp._model`); `predict` undoes it. With it, `noise` is
      the variance of the normalised targets (as scikit-learn's `alpha`).

    **Returns:** a `Posterior`.

    **Raises:** `ValueError`/`TypeError` at trace time for shapes, empty data, a bad
    Python `noise`/`jitter`, a `Noise` whose variance or `fixed` part has the wrong shape,
    a `mean` that is not callable or returns the wrong shape, a non-bool `normalize_y`;
    at run time (`eqx.error_if`) for NaN/inf data, a NaN/inf
    kernel hyperparameter, a Gram matrix with NaN/inf entries (hyperparameters that
    overflow, e.g. `log_variance=800`), or a covariance that is not positive definite even
    after jitter, or singular to working precision (see `unresolved`).
    """
    check_kernel(kernel)
    X, y, which = check_data(X, y, which)
    normalize_y = check_normalize_y(normalize_y)
    noise_model, noise = resolve_noise(noise, X, y)
    mean = check_mean(mean, X, y.shape)
    jitter = check_jitter(jitter, X.dtype)
    kernel = check_kernel_values(cast_kernel(kernel, X.dtype))
    z, shift, scale, _ = prepare_targets(y, X, which, mean, normalize_y)
    post, gram_ok, spd = build_posterior(
        kernel, X, z, which, noise_diagonal(noise_model, noise, X.shape[0]), jitter,
        noise_model=noise_model, mean=mean, shift=shift, scale=scale,
    )
    chol = eqx.error_if(
        post.chol,
        ~gram_ok,
        "The kernel's Gram matrix has NaN or inf entries: its hyperparameters overflow (e.g. "
        "exp(log_variance) = inf) or the kernel is not finite on these points. Use "
        "hyperparameters of moderate size (rescale `y` instead of the variance).",
    )
    chol = eqx.error_if(
        chol,
        ~spd,
        "The GP covariance K + noise*I is not positive definite even after jitter, or is "
        "singular to working precision. Increase `noise` or `jitter`, remove duplicated "
        "points, or use float64.",
    )
    return eqx.tree_at(lambda p: p.chol, post, chol)


def build_posterior(
    kernel, X, y, which, noise, jitter, *, noise_model=None, mean=None, shift=0.0, scale=1.0
) -> tuple[Posterior, Array, Array]:
    """`condition` on validated inputs (`y`: the targets the GP models, `noise`: the total
    diagonal noise, `(p, n)` for a per-output variance), without the run-time checks:
    returns the posterior, whether the Gram matrix is finite and whether the factorisation
    is usable (finite and not singular to working precision, `unresolved`). Used by `fit`,
    which reports a failure as a result code instead of raising."""
    n = X.shape[0]
    K = gram(kernel, X, which, X, which)
    gram_ok = jnp.all(jnp.isfinite(K))
    extra = dict(noise_model=noise_model, mean=mean, y_shift=shift, y_scale=scale)
    if jnp.ndim(noise) == 2:  # one learned variance per output: one factorisation each
        return _build_per_output(K, gram_ok, kernel, X, y, which, noise, jitter, extra)
    diag = jnp.broadcast_to(diagonal_term(noise, jitter, X.dtype), (n,))
    # never hand LAPACK a non-finite matrix; the result is flagged by `gram_ok`
    K = jnp.where(gram_ok, K, jnp.eye(n, dtype=K.dtype)) + jnp.diag(diag)
    chol, weights = factorise(K, y.reshape(n, -1))
    pivots = jnp.diagonal(chol)
    spd = (
        gram_ok
        & jnp.all(jnp.isfinite(chol))
        & jnp.all(jnp.isfinite(weights))
        & ~unresolved(jnp.max(jnp.diagonal(K) - diag), jnp.min(diag), jnp.min(pivots * pivots), n, X.dtype)
    )
    return Posterior(kernel, X, which, chol, weights.reshape(y.shape), noise, **extra), gram_ok, spd


def _build_per_output(K, gram_ok, kernel, X, y, which, noise, jitter, extra):
    n = X.shape[0]
    diag = jnp.broadcast_to(diagonal_term(noise, jitter, X.dtype), noise.shape)
    K0 = jnp.where(gram_ok, K, jnp.eye(n, dtype=K.dtype))
    k_max = jnp.max(jnp.diagonal(K0))

    def one(d, yj):
        chol, w = factorise(K0 + jnp.diag(d), yj[:, None])
        pivots = jnp.diagonal(chol)
        ok = (
            jnp.all(jnp.isfinite(chol))
            & jnp.all(jnp.isfinite(w))
            & ~unresolved(k_max, jnp.min(d), jnp.min(pivots * pivots), n, X.dtype)
        )
        return chol, w[:, 0], ok

    chol, W, ok = jax.vmap(one)(diag, y.T)
    spd = gram_ok & jnp.all(ok)
    return Posterior(kernel, X, which, chol, W.T, noise, **extra), gram_ok, spd


@eqx.filter_jit
def predict(
    posterior: Posterior,
    Xs: Float[ArrayLike, "m d"],
    *,
    which: Int[ArrayLike, " m"] | None = None,
    full_cov: bool = False,
    include_noise: bool = False,
) -> tuple[Float[Array, "m *p"], Float[Array, "m *mp"]]:
    r"""Posterior mean and variance at `Xs` (eqs. 9-11).

    $$\mu_* = m(X_*) + K_* w,\qquad \Sigma_* = K_{**} - K_* (K + \varepsilon^2 I)^{-1} K_*^T
    \;[+\,\sigma^2_\text{new} I \text{ if } \texttt{include\_noise}]\ \text{(eq. 11)}.$$

    `which (m,)` selects values (-1) or partial derivatives (i) at the prediction points
    (eq. 39; the prior mean then contributes $\partial_i m$). Returns the mean, shape `(m,)`
    or `(m, p)`, and the variance `(m,)` (or the covariance `(m, m)` if `full_cov`),
    shared by all outputs; when the outputs' variances differ (a per-output `gp.Noise`, or
    `normalize_y=True` with `p` outputs) it is `(m, p)` (covariance `(m, m, p)`, as
    scikit-learn). With `normalize_y` the shift and scale are undone: $\mu = m_* + s +
    c\,\mu_z$ (the shift on value rows only), $\sigma^2 = c^2 \sigma^2_z$.

    `include_noise`: $\sigma^2_\text{new}$ is the learned variance of a `gp.Noise` (per
    output; its `fixed` part belongs to the training rows and is not added: this is
    scikit-learn's predictive variance with a `WhiteKernel`, whose `kernel.diag` includes
    the white level while `alpha` is not added), else the mean of the fixed `noise`.
    Variances are clipped at 0 before the noise is added.

    **Raises:** `ValueError` at trace time if `Xs` is not `(m, d)` with the training `d` or
    is empty; at run time (`eqx.error_if`) for NaN/inf in `Xs` or a `which` entry outside
    `[-1, d)`.
    """
    Xs = _check_test_points(posterior, Xs)
    Xs = check_finite(Xs.astype(posterior.X.dtype), "Xs")
    which = check_which(which, Xs, "which")
    kernel, X, wtr = posterior.kernel, posterior.X, posterior.which
    Ks = gram(kernel, Xs, which, X, wtr)
    mean = jnp.tensordot(Ks, posterior.weights, axes=1, precision=_HIGHEST)
    per_output = posterior.chol.ndim == 3
    if per_output:
        V = jax.vmap(lambda U: jsp.linalg.solve_triangular(U, Ks.T, trans="T", lower=False))(posterior.chol)
    else:
        V = jsp.linalg.solve_triangular(posterior.chol, Ks.T, trans="T", lower=False)
    noise = learned_level(posterior.noise_model, posterior.noise) if include_noise else 0.0
    if full_cov:
        Kss = gram(kernel, Xs, which, Xs, which)
        eye = jnp.eye(Xs.shape[0], dtype=Kss.dtype)
        if per_output:
            cov = Kss[..., None] - jnp.einsum("pnm,pnk->mkp", V, V, precision=_HIGHEST)
            cov = cov + eye[..., None] * expand(noise, 3)
        else:
            cov = Kss - jnp.matmul(V.T, V, precision=_HIGHEST)
            cov = cov + noise * eye
        return _undo(posterior, Xs, which, mean, cov, 3)
    if which is None:
        kss = kernel.diag(Xs)
    else:
        point_var = lambda x, w: _observation_covariance(kernel, x, w, x, w)
        kss = jax.vmap(point_var)(Xs, which)
    if per_output:
        var = kss[:, None] - jnp.sum(V * V, axis=1).T
        var = jnp.maximum(var, 0.0) + expand(noise, 2)
    else:
        var = kss - jnp.sum(V * V, axis=0)
        var = jnp.maximum(var, 0.0) + noise
    return _undo(posterior, Xs, which, mean, var, 2)


def _undo(posterior, Xs, which, mean, var, var_ndim_per_output):
    """Undo `normalize_y` (scale and shift) and add the prior mean back. Nothing to do
    (no work) for a default posterior."""
    shift, scale = posterior.y_shift, posterior.y_scale
    if not (isinstance(scale, float) and scale == 1.0 and isinstance(shift, float) and shift == 0.0):
        scale_arr = jnp.asarray(scale, mean.dtype)
        mean = mean * expand(scale_arr, mean.ndim) + shift_rows(jnp.asarray(shift, mean.dtype), which, mean.shape)
        if scale_arr.ndim == 1 and var.ndim < var_ndim_per_output:
            var = var[..., None]  # outputs now differ: (m, p) / (m, m, p)
        var = var * expand(scale_arr * scale_arr, var.ndim)
    if posterior.mean is not None:
        mean = mean + mean_observations(posterior.mean, Xs, which, mean.shape)
    return mean, var


@eqx.filter_jit
def predict_value_and_grad(
    posterior: Posterior, Xs: Float[ArrayLike, "m d"]
) -> tuple[Float[Array, " m"], Float[Array, "m d"], Float[Array, " m"], Float[Array, "m d"]]:
    r"""Predicted value, gradient and their variances at `Xs` (eq. 39, same weights).

    For single-output posteriors (`y` of shape `(n,)`). Returns `(mean (m,), grad (m, d),
    var (m,), grad_var (m, d))`. Raises as `predict`.
    """
    Xs = _check_test_points(posterior, Xs)
    if posterior.weights.ndim != 1:
        raise ValueError(
            "`predict_value_and_grad` needs a single-output posterior (y of shape (n,)), got "
            f"weights of shape {posterior.weights.shape}; condition each output separately."
        )
    m, d = Xs.shape
    Xrep = jnp.repeat(Xs, d + 1, axis=0)
    which = jnp.tile(jnp.arange(-1, d), m)
    mean, var = predict(posterior, Xrep, which=which)
    mean = mean.reshape(m, d + 1)
    var = var.reshape(m, d + 1)
    return mean[:, 0], mean[:, 1:], var[:, 0], var[:, 1:]


def _check_test_points(posterior: Posterior, Xs) -> Float[Array, "m d"]:
    if not isinstance(posterior, Posterior):
        raise TypeError(
            f"`posterior` must be a jaxsci.gp.Posterior (from `gp.condition` or `gp.fit(...).value`), "
            f"got {type(posterior).__name__}."
        )
    Xs = as_float_array(Xs, "Xs")
    d = posterior.X.shape[1]
    if Xs.ndim != 2 or Xs.shape[1] != d:
        raise ValueError(
            f"`Xs` must have shape (m, {d}) like the training points, got shape {Xs.shape}. "
            "Use `Xs[None]` for a single point."
        )
    check_nonempty(Xs, "Xs", what="prediction points")
    return Xs
