r"""Dot-product kernels (not stationary): scikit-learn's `DotProduct` and its powers.

$k(x, x') = \sigma^2 (\sigma_0^2 + x \cdot x')^q$ is the covariance of Bayesian linear
($q = 1$) or polynomial regression (Rasmussen & Williams eqs. 4.22, 4.25); the Gram matrix
is one matrix product, `X1 @ X2.T`, at `precision=HIGHEST`.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._base import AbstractKernel, check_pair, check_point_pair, check_points, log_positive

_HIGHEST = jax.lax.Precision.HIGHEST


def scalar_log(value, name: str) -> Float[Array, ""]:
    """`log(value)` for a positive finite scalar hyperparameter (tiers 1 and 2)."""
    out = log_positive(value, name)
    if out.ndim != 0:
        raise ValueError(f"`{name}` must be a scalar, got shape {out.shape}.")
    return out


def _check_degree(degree) -> int:
    if isinstance(degree, bool):
        raise TypeError(f"`degree` must be a positive Python int, got a bool ({degree!r}).")
    if not isinstance(degree, (int, np.integer)):
        raise TypeError(
            f"`degree` must be a positive Python int (static: the power is unrolled), got "
            f"{type(degree).__name__} ({degree!r:.60})."
        )
    if degree < 1:
        raise ValueError(f"`degree` must be a positive int, got {degree}. Use `Constant` for degree 0.")
    return int(degree)


class _AbstractDotProduct(AbstractKernel):
    log_sigma0: eqx.AbstractVar[Float[Array, ""]]
    log_variance: eqx.AbstractVar[Float[Array, ""]]

    @property
    def sigma0(self) -> Float[Array, ""]:
        return jnp.exp(self.log_sigma0)

    @property
    def variance(self) -> Float[Array, ""]:
        return jnp.exp(self.log_variance)

    @abc.abstractmethod
    def _power(self, dot):
        r"""The kernel as a function of $\sigma_0^2 + x \cdot x'$, before the variance."""

    def evaluate(self, x: Float[Array, " d"], y: Float[Array, " d"]) -> Float[Array, ""]:
        check_point_pair(x, y)
        dot = jnp.exp(2.0 * self.log_sigma0) + jnp.dot(x, y, precision=_HIGHEST)
        return jnp.exp(self.log_variance) * self._power(dot)

    def __call__(self, X1: Float[ArrayLike, "n d"], X2: Float[ArrayLike, "m d"]) -> Float[Array, "n m"]:
        """Gram matrix from one matrix product `X1 @ X2.T` (equal to `evaluate` under `vmap`)."""
        X1, X2 = check_pair(X1, X2)
        dot = jnp.exp(2.0 * self.log_sigma0) + jnp.matmul(X1, X2.T, precision=_HIGHEST)
        return jnp.exp(self.log_variance) * self._power(dot)

    def diag(self, X: Float[ArrayLike, "n d"]) -> Float[Array, " n"]:
        r"""$k(X_i, X_i)$ from the squared norms (no Gram matrix)."""
        X = check_points(X, "X")
        dot = jnp.exp(2.0 * self.log_sigma0) + jnp.sum(X * X, axis=1)
        return jnp.exp(self.log_variance) * self._power(dot)


class DotProduct(_AbstractDotProduct):
    r"""Dot-product (linear) kernel, scikit-learn's `DotProduct`, times a variance:

    $$k(x, x') = \sigma^2 (\sigma_0^2 + x \cdot x'),$$

    `DotProduct(sigma0=σ₀, variance=σ²)`, stored as `log_sigma0`, `log_variance`. With the
    default `variance=1` it equals `sklearn.gaussian_process.kernels.DotProduct(sigma_0=σ₀)`;
    `DotProduct(σ₀, σ²)` equals `ConstantKernel(σ²) * DotProduct(σ₀)`. Not stationary (no
    lengthscale): a GP with this kernel is Bayesian linear regression with an intercept of
    prior variance $\sigma^2\sigma_0^2$ and weights of prior variance $\sigma^2$.
    """

    log_sigma0: Float[Array, ""]
    log_variance: Float[Array, ""]

    def __init__(self, sigma0: float | Float[ArrayLike, ""] = 1.0, variance: float | Float[ArrayLike, ""] = 1.0):
        self.log_sigma0 = scalar_log(sigma0, "sigma0")
        self.log_variance = scalar_log(variance, "variance")

    def _power(self, dot):
        return dot


class Polynomial(_AbstractDotProduct):
    r"""Polynomial kernel of integer degree $q \ge 1$:

    $$k(x, x') = \sigma^2 (\sigma_0^2 + x \cdot x')^q,$$

    `Polynomial(degree=q, sigma0=σ₀, variance=σ²)`, stored as `log_sigma0`, `log_variance`;
    `degree` is a static Python int (not fitted). scikit-learn:
    `ConstantKernel(σ²) * DotProduct(σ₀) ** q`. `Polynomial(1, σ₀, σ²)` equals
    `DotProduct(σ₀, σ²)`.
    """

    degree: int = eqx.field(static=True)
    log_sigma0: Float[Array, ""]
    log_variance: Float[Array, ""]

    def __init__(
        self,
        degree: int,
        sigma0: float | Float[ArrayLike, ""] = 1.0,
        variance: float | Float[ArrayLike, ""] = 1.0,
    ):
        self.degree = _check_degree(degree)
        self.log_sigma0 = scalar_log(sigma0, "sigma0")
        self.log_variance = scalar_log(variance, "variance")

    def _power(self, dot):
        return dot**self.degree
