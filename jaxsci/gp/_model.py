r"""The observation model around the GP: noise (fixed or learned), prior mean, normalised
targets. Shared by `condition`, `log_marginal_likelihood`, `fit` and `fit_batched`.

With `normalize_y=True` the GP models the standardised residual (scikit-learn's
`GaussianProcessRegressor(normalize_y=True)` for the zero mean):

$$z_a = \frac{y_a - m_a - s\,[\text{row } a \text{ is a value}]}{c},\qquad
s = \operatorname{mean}_{a \in V} (y_a - m_a),\quad c = \operatorname{std}_{a \in V}(y_a - m_a),$$

per output, over the value rows $V$ (derivative rows are only divided by $c$; a std below
$10\epsilon$ is replaced by 1, as scikit-learn's `_handle_zeros_in_scale`). Predictions are
$\mu = m_* + s + c\,\mu_z$, $\sigma^2 = c^2 \sigma_z^2$.
"""

import jax
import jax.numpy as jnp

from ._checks import check_noise
from ._mean import mean_observations
from ._noise import Noise, check_noise_model, total_noise


def check_normalize_y(normalize_y) -> bool:
    """Tier 1: `normalize_y` is a Python bool (a traced or array value would make the
    model's structure data-dependent)."""
    if not isinstance(normalize_y, bool):
        raise TypeError(
            f"`normalize_y` must be a Python bool (True or False), got "
            f"{type(normalize_y).__name__} ({normalize_y!r:.40})."
        )
    return normalize_y


def resolve_noise(noise, X, y):
    """`(noise_model, noise)`: a `Noise` checked against the data and `None`, or `None`
    and the checked fixed noise (scalar or `(n,)`, exactly as before `Noise` existed)."""
    n = X.shape[0]
    if isinstance(noise, Noise):
        p = None if y.ndim == 1 else y.shape[1]
        return check_noise_model(noise, X.dtype, n, p), None
    return None, check_noise(noise, X.dtype, n)


def noise_diagonal(noise_model, noise, n: int):
    """The total diagonal noise: `noise` itself, or `exp(log_variance) + fixed` of the
    model (shape `()`/`(n,)` shared, `(p, n)` per output)."""
    if noise_model is None:
        return noise
    return total_noise(noise_model.log_variance, noise_model.fixed, n)


def learned_level(noise_model, noise):
    """The noise variance added by `predict(include_noise=True)`: the learned variance of
    a `Noise` (per output: `(p,)`; its fixed part belongs to the training rows), else the
    mean of the fixed noise (as before)."""
    if noise_model is None:
        return jnp.mean(noise)
    return jnp.exp(noise_model.log_variance)


def normalization(R, which):
    """Shift and scale (per output) of the residuals `R (n,)`/`(n, p)` over the value rows."""
    if which is None:
        shift = jnp.mean(R, axis=0)
        scale = jnp.std(R, axis=0)
    else:
        w = (which < 0).astype(R.dtype).reshape(-1, *([1] * (R.ndim - 1)))
        count = jnp.maximum(jnp.sum(w), 1.0)
        shift = jnp.sum(w * R, axis=0) / count
        dev = w * (R - shift)
        scale = jnp.sqrt(jnp.sum(dev * dev, axis=0) / count)
    scale = jnp.where(scale < 10 * jnp.finfo(R.dtype).eps, jnp.ones_like(scale), scale)
    return shift, scale


def shift_rows(shift, which, y_shape):
    """`shift` on value rows, 0 on derivative rows, broadcast to `y_shape`."""
    s = jnp.broadcast_to(shift, y_shape[1:])[None]
    if which is None:
        return jnp.broadcast_to(s, y_shape)
    value = (which < 0).reshape(-1, *([1] * (len(y_shape) - 1)))
    return jnp.where(value, s, jnp.zeros_like(s))


def expand(a, ndim: int):
    """`a` (per output, `()` or `(p,)`) with leading unit axes to `ndim` dimensions."""
    return jnp.reshape(a, (1,) * (ndim - jnp.ndim(a)) + jnp.shape(a))


def prepare_targets(y, X, which, mean, normalize_y: bool):
    """`(z, shift, scale, M)`: the targets the GP models, their normalisation and the
    prior-mean rows `M` (`None` without a mean). Default (no mean, no normalisation):
    `(y, 0.0, 1.0, None)` with no work at all."""
    M = None if mean is None else mean_observations(mean, X, which, y.shape)
    R = y if M is None else y - M
    if not normalize_y:
        return R, 0.0, 1.0, M
    # statistics of the residual at the given mean, constants for the mean's leaves
    shift, scale = normalization(R if M is None else y - jax.lax.stop_gradient(M), which)
    z = (R - shift_rows(shift, which, y.shape)) / expand(scale, y.ndim)
    return z, shift, scale, M
