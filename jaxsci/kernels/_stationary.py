r"""Stationary kernels: squared exponential (paper eq. 5 and lengthscale form), Matern, RQ.

All positive hyperparameters are stored as logarithms; the constructors take the positive
values and the properties (`variance`, `lengthscale`, ...) return them. Lengthscales may be
a scalar or an ARD vector of shape `(d,)`.

The Matern 3/2 and 5/2 profiles are written as functions of the scaled squared distance
$u = \nu' r^2$ with hand-derived `custom_jvp` rules, so their derivatives (and the
second cross-derivatives needed by derivative observations, paper eqs. 35-36) are exact
and finite at $x = x'$, where the naive $\sqrt{u}$ chain rule gives $0 \cdot \infty$.
"""

import abc

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._misc import safe_sqrt, sq_dist
from ._base import AbstractKernel, check_pair, check_point_pair, log_positive

_HIGHEST = jax.lax.Precision.HIGHEST


def _scaled_sq_dist(x, y, log_lengthscale) -> Float[Array, ""]:
    if log_lengthscale.ndim == 1 and log_lengthscale.shape[0] != x.shape[0]:
        raise ValueError(
            f"ARD `lengthscale` has shape {log_lengthscale.shape} but the points have "
            f"dimension d={x.shape[0]}; pass a scalar or a vector of length d."
        )
    diff = (x - y) * jnp.exp(-log_lengthscale)
    return jnp.sum(diff * diff)


def _pairwise_scaled_sq_dist(X1, X2, log_lengthscale) -> Float[Array, "n m"]:
    r"""$r^2_{ij} = \sum_k (X_{1,ik} - X_{2,jk})^2 / \ell_k^2$ for all pairs at once.

    The squared differences do not depend on the hyperparameters, so $r^2$ is one
    contraction `(n, m, d) @ (d,)` with the weights $\ell_k^{-2}$ and its reverse-mode
    derivative is the transposed contraction. The same numbers as the pointwise
    `_scaled_sq_dist` under a double `vmap`, but XLA:CPU runs the reverse pass of that
    double `vmap` much slower (over an order of magnitude for n = 50, d = 6).
    """
    d = X1.shape[1]
    if log_lengthscale.ndim == 1 and log_lengthscale.shape[0] != d:
        raise ValueError(
            f"ARD `lengthscale` has shape {log_lengthscale.shape} but the points have "
            f"dimension d={d}; pass a scalar or a vector of length d."
        )
    diff = X1[:, None, :] - X2[None, :, :]
    weights = jnp.broadcast_to(jnp.exp(-2.0 * log_lengthscale), (d,))
    return jnp.einsum("nmd,d->nm", diff * diff, weights, precision=_HIGHEST)


class _LengthscaleKernel(AbstractKernel):
    log_variance: Float[Array, ""]
    log_lengthscale: Float[Array, "*d"]

    def __init__(
        self,
        variance: float | Float[ArrayLike, ""] = 1.0,
        lengthscale: float | Float[ArrayLike, "*d"] = 1.0,
    ):
        self.log_variance = log_positive(variance, "variance")
        self.log_lengthscale = log_positive(lengthscale, "lengthscale")
        if self.log_variance.ndim != 0:
            raise ValueError(f"`variance` must be a scalar, got shape {self.log_variance.shape}.")
        if self.log_lengthscale.ndim > 1:
            raise ValueError(
                "`lengthscale` must be a scalar or an ARD vector of shape (d,), got shape "
                f"{self.log_lengthscale.shape}."
            )

    @property
    def variance(self) -> Float[Array, ""]:
        return jnp.exp(self.log_variance)

    @property
    def lengthscale(self) -> Float[Array, "*d"]:
        return jnp.exp(self.log_lengthscale)

    @abc.abstractmethod
    def profile(self, r2: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        r"""$k$ as a function of the scaled squared distance $r^2$ (elementwise)."""

    def evaluate(self, x: Float[Array, " d"], y: Float[Array, " d"]) -> Float[Array, ""]:
        check_point_pair(x, y)
        return self.profile(_scaled_sq_dist(x, y, self.log_lengthscale))

    def __call__(self, X1: Float[ArrayLike, "n d"], X2: Float[ArrayLike, "m d"]) -> Float[Array, "n m"]:
        r"""Gram matrix, computed as `profile` of all pairwise $r^2$ at once (equal to the
        pointwise definition; see `_pairwise_scaled_sq_dist` for why)."""
        X1, X2 = check_pair(X1, X2)
        return self.profile(_pairwise_scaled_sq_dist(X1, X2, self.log_lengthscale))


class SquaredExponential(AbstractKernel):
    r"""The paper's squared-exponential kernel (Frankel et al., eq. 5):

    $$k(x, x') = \theta_1 \exp\left(-\theta_2 \lVert x - x' \rVert^2\right)$$

    with scale $\theta_1 > 0$ and inverse-square length $\theta_2 > 0$, stored as
    `log_theta1`, `log_theta2`. Equals `ExpQuad(theta1, 1 / sqrt(2 theta2))`.
    """

    log_theta1: Float[Array, ""]
    log_theta2: Float[Array, ""]

    def __init__(self, theta1: float | Float[ArrayLike, ""] = 1.0, theta2: float | Float[ArrayLike, ""] = 1.0):
        self.log_theta1 = log_positive(theta1, "theta1")
        self.log_theta2 = log_positive(theta2, "theta2")

    @property
    def theta1(self) -> Float[Array, ""]:
        return jnp.exp(self.log_theta1)

    @property
    def theta2(self) -> Float[Array, ""]:
        return jnp.exp(self.log_theta2)

    def evaluate(self, x: Float[Array, " d"], y: Float[Array, " d"]) -> Float[Array, ""]:
        check_point_pair(x, y)
        return jnp.exp(self.log_theta1 - jnp.exp(self.log_theta2) * sq_dist(x, y))

    def __call__(self, X1: Float[ArrayLike, "n d"], X2: Float[ArrayLike, "m d"]) -> Float[Array, "n m"]:
        """Gram matrix from all pairwise squared distances at once (same values as
        `evaluate` under `vmap`, much cheaper to differentiate on CPU)."""
        X1, X2 = check_pair(X1, X2)
        r2 = _pairwise_scaled_sq_dist(X1, X2, jnp.zeros((), X1.dtype))
        return jnp.exp(self.log_theta1 - jnp.exp(self.log_theta2) * r2)


class ExpQuad(_LengthscaleKernel):
    r"""Squared-exponential kernel in lengthscale form (scikit-learn `C * RBF`):

    $$k(x, x') = \sigma^2 \exp\left(-\tfrac12 \sum_i (x_i - x'_i)^2 / \ell_i^2\right),$$

    `ExpQuad(variance=σ², lengthscale=ℓ)`, `ℓ` scalar or ARD vector `(d,)`.
    """

    def profile(self, r2: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        return jnp.exp(self.log_variance - 0.5 * r2)


class Matern12(_LengthscaleKernel):
    r"""Matern-1/2 (exponential) kernel $k = \sigma^2 e^{-r}$, $r = \lVert (x - x')/\ell \rVert$.

    Its sample paths are not differentiable, so it cannot be used with derivative
    observations; the gradient of $r$ at $x = x'$ is taken as 0 (safe square root).
    """

    def profile(self, r2: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        return jnp.exp(self.log_variance - safe_sqrt(r2))


@jax.custom_jvp
def _m32(u):
    s = safe_sqrt(u)
    return (1.0 + s) * jnp.exp(-s)


@_m32.defjvp
def _m32_jvp(primals, tangents):
    (u,), (du,) = primals, tangents
    s = safe_sqrt(u)
    # d/du (1 + sqrt u) e^{-sqrt u} = -e^{-sqrt u} / 2 : finite at u = 0.
    return _m32(u), -0.5 * jnp.exp(-s) * du


@jax.custom_jvp
def _m52_prime(u):
    s = safe_sqrt(u)
    return -(1.0 + s) * jnp.exp(-s) / 6.0


@_m52_prime.defjvp
def _m52_prime_jvp(primals, tangents):
    (u,), (du,) = primals, tangents
    return _m52_prime(u), jnp.exp(-safe_sqrt(u)) / 12.0 * du


@jax.custom_jvp
def _m52(u):
    s = safe_sqrt(u)
    return (1.0 + s + u / 3.0) * jnp.exp(-s)


@_m52.defjvp
def _m52_jvp(primals, tangents):
    (u,), (du,) = primals, tangents
    return _m52(u), _m52_prime(u) * du


class Matern32(_LengthscaleKernel):
    r"""Matern-3/2 kernel $k = \sigma^2 (1 + \sqrt3 r) e^{-\sqrt3 r}$, $r = \lVert (x - x')/\ell \rVert$.

    Once mean-square differentiable: value/gradient cross-covariances are exact.
    """

    def profile(self, r2: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        return jnp.exp(self.log_variance) * _m32(3.0 * r2)


class Matern52(_LengthscaleKernel):
    r"""Matern-5/2 kernel $k = \sigma^2 (1 + \sqrt5 r + \tfrac53 r^2) e^{-\sqrt5 r}$.

    Twice mean-square differentiable; derivatives of all orders used by derivative
    observations are exact at $x = x'$.
    """

    def profile(self, r2: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        return jnp.exp(self.log_variance) * _m52(5.0 * r2)


class RationalQuadratic(_LengthscaleKernel):
    r"""Rational-quadratic kernel (scikit-learn `RationalQuadratic`, isotropic or ARD):

    $$k(x, x') = \sigma^2 \left(1 + \frac{r^2}{2\alpha}\right)^{-\alpha},\quad
    r^2 = \sum_i (x_i - x'_i)^2/\ell_i^2,$$

    a scale mixture of squared exponentials; $\alpha > 0$ stored as `log_alpha`.
    """

    log_alpha: Float[Array, ""]

    def __init__(
        self,
        variance: float | Float[ArrayLike, ""] = 1.0,
        lengthscale: float | Float[ArrayLike, "*d"] = 1.0,
        alpha: float | Float[ArrayLike, ""] = 1.0,
    ):
        super().__init__(variance, lengthscale)
        self.log_alpha = log_positive(alpha, "alpha")

    @property
    def alpha(self) -> Float[Array, ""]:
        return jnp.exp(self.log_alpha)

    def profile(self, r2: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        alpha = jnp.exp(self.log_alpha)
        return jnp.exp(self.log_variance - alpha * jnp.log1p(r2 / (2.0 * alpha)))

