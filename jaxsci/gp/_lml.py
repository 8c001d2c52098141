r"""Log marginal likelihood (model evidence) of a GP (Frankel et al., eq. 12)."""

import math

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int

from ..kernels import AbstractKernel
from ._checks import DEFAULT_NOISE, cast_kernel, check_data, check_kernel, check_noise
from ._posterior import diagonal_term, factorise, gram


def log_marginal_likelihood(
    kernel: AbstractKernel,
    X: Float[ArrayLike, "n d"],
    y: Float[ArrayLike, "n *p"],
    *,
    noise: float | Float[ArrayLike, "*n"] = DEFAULT_NOISE,
    which: Int[ArrayLike, " n"] | None = None,
    jitter: float | None = None,
) -> Float[Array, ""]:
    r"""$\mathcal{L} = \log p(y \mid X)$ (eq. 12), differentiable in the kernel's leaves:

    $$\mathcal{L} = -\tfrac12 y^T (K + \varepsilon^2 I)^{-1} y - \tfrac12 \log\lvert K +
    \varepsilon^2 I\rvert - \tfrac{n}{2}\log 2\pi.$$

    With `y (n, p)` the outputs share the kernel and $\mathcal{L}$ is the sum over outputs
    (as scikit-learn's `GaussianProcessRegressor`). `which` gives derivative observations
    (see `condition`); `noise` and `jitter` as in `condition`. Returns `-inf` if the
    covariance is not positive definite even after jitter (so optimisers step back).
    Not jitted itself: call it inside your own `jax.jit` / `jax.grad`.
    """
    check_kernel(kernel)
    X, y, which = check_data(X, y, which)
    noise = check_noise(noise, X.dtype, X.shape[0])
    kernel = cast_kernel(kernel, X.dtype)
    n = X.shape[0]
    K = gram(kernel, X, which, X, which)
    K = K + jnp.diag(jnp.broadcast_to(diagonal_term(noise, jitter, X.dtype), (n,)))
    Y = y.reshape(n, -1)
    chol, alpha = factorise(K, Y)
    p = Y.shape[1]
    data_fit = -0.5 * jnp.sum(Y * alpha)
    log_det = jnp.sum(jnp.log(jnp.diagonal(chol)))
    lml = data_fit - p * log_det - 0.5 * n * p * math.log(2 * math.pi)
    return jnp.where(jnp.isfinite(lml), lml, -jnp.inf)

