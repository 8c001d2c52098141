r"""The periodic kernel (scikit-learn's `ExpSineSquared` times a variance).

$k = \sigma^2 \exp(-2\sin^2(\pi r/p)/\ell^2)$ with $r = \lVert x - x' \rVert$ is not written
through $r$ (whose derivative is undefined at $x = x'$) but through $u = (\pi r/p)^2$:
$g(u) = \sin^2\sqrt u$ is an entire function of $u$, and so are all its derivatives,

$$g'(u) = f_0(4u),\qquad f_n(t) = \frac{j_n(\sqrt t)}{(\sqrt t)^n},\qquad
f_n'(t) = -\tfrac12 f_{n+1}(t),$$

with $j_n$ the spherical Bessel functions ($f_0(t) = \sin\sqrt t/\sqrt t$; the recurrence
is $(z^{-1} d/dz)\,[z^{-n} j_n] = -z^{-n-1} j_{n+1}$, DLMF 10.51.3). `_sin2` and `_sph` are
`custom_jvp` functions on these identities, so derivatives of every order (those of
derivative observations, and their hyperparameter gradients) are exact and finite at
$x = x'$. $f_n$ is evaluated by its Taylor series (30 terms) for $\sqrt t < n + 3/2$ and by
the upward recurrence $f_{n+1} = ((2n+1) f_n - f_{n-1})/t$ from $f_{-1} = \cos\sqrt t$,
$f_0$ above (stable there).
"""

import functools
import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._misc import safe_sqrt
from ._base import AbstractKernel, check_pair, check_point_pair, log_positive
from ._stationary import _pairwise_scaled_sq_dist, _scaled_sq_dist

_SERIES_TERMS = 30


def _series_coefficients(n: int) -> list[float]:
    # f_n(t) = sum_k (-t/2)^k / (k! (2n+2k+1)!!)
    out, c = [], 1.0 / math.prod(range(1, 2 * n + 2, 2))
    for k in range(_SERIES_TERMS):
        out.append(c)
        c *= -0.5 / ((k + 1) * (2 * n + 2 * k + 3))
    return out


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _sph(n: int, t):
    r"""$f_n(t) = j_n(\sqrt t)/(\sqrt t)^n$ for $t \ge 0$, static $n \ge 0$."""
    switch = (n + 1.5) ** 2
    small = t < switch
    ts = jnp.where(small, t, 0.0)
    series = jnp.zeros_like(t)
    for c in reversed(_series_coefficients(n)):
        series = series * ts + c
    tl = jnp.where(small, switch, t)
    z = jnp.sqrt(tl)
    f_prev, f = jnp.cos(z), jnp.sin(z) / z
    for k in range(n):
        f_prev, f = f, ((2 * k + 1) * f - f_prev) / tl
    return jnp.where(small, series, f)


@_sph.defjvp
def _sph_jvp(n, primals, tangents):
    (t,), (dt,) = primals, tangents
    return _sph(n, t), -0.5 * _sph(n + 1, t) * dt


@jax.custom_jvp
def _sin2(u):
    r"""$\sin^2\sqrt u$ for $u \ge 0$, smooth in $u$ (derivative $f_0(4u)$)."""
    return jnp.sin(safe_sqrt(u)) ** 2


@_sin2.defjvp
def _sin2_jvp(primals, tangents):
    (u,), (du,) = primals, tangents
    return _sin2(u), _sph(0, 4.0 * u) * du


def _scalar(arr, name: str):
    if arr.ndim != 0:
        raise ValueError(f"`{name}` must be a scalar, got shape {arr.shape}.")
    return arr


class Periodic(AbstractKernel):
    r"""Periodic kernel: scikit-learn's `ExpSineSquared` times a variance,

    $$k(x, x') = \sigma^2 \exp\left(-\frac{2 \sin^2(\pi \lVert x - x' \rVert / p)}{\ell^2}\right)$$

    (MacKay 1998; Rasmussen & Williams eq. 4.31), `Periodic(variance=σ², lengthscale=ℓ,
    period=p)`, all scalars, stored as `log_variance`, `log_lengthscale`, `log_period`.
    scikit-learn: `ConstantKernel(σ²) * ExpSineSquared(length_scale=ℓ, periodicity=p)`.

    **Periodicity.** In 1-D, $k(x + p, x') = k(x, x')$ (in both arguments). As in
    scikit-learn, $r$ is the Euclidean distance, so in $d > 1$ the kernel is periodic in
    $r$ only: it is *not* periodic under a shift by $p$ along a coordinate axis (unless
    $x - x'$ is parallel to that axis), and it is not positive semi-definite in general
    (a radial kernel in $d \ge 2$ with $k(p) = k(0)$ cannot be, by Schoenberg's theorem;
    random Gram matrices do show negative eigenvalues). Use it on 1-D inputs; for
    several periodic inputs multiply 1-D periodic kernels of the separate coordinates.

    **Derivatives.** Written in $u = (\pi r/p)^2$ with exact `custom_jvp` rules (module
    docs), so the value/gradient and gradient/gradient covariances of derivative
    observations are exact at $x = x'$: there $\partial^2 k/\partial x_i \partial x'_j =
    \sigma^2 (4\pi^2 / p^2 \ell^2)\,\delta_{ij}$.
    """

    log_variance: Float[Array, ""]
    log_lengthscale: Float[Array, ""]
    log_period: Float[Array, ""]

    def __init__(
        self,
        variance: float | Float[ArrayLike, ""] = 1.0,
        lengthscale: float | Float[ArrayLike, ""] = 1.0,
        period: float | Float[ArrayLike, ""] = 1.0,
    ):
        self.log_variance = _scalar(log_positive(variance, "variance"), "variance")
        self.log_lengthscale = _scalar(log_positive(lengthscale, "lengthscale"), "lengthscale")
        self.log_period = _scalar(log_positive(period, "period"), "period")

    @property
    def variance(self) -> Float[Array, ""]:
        return jnp.exp(self.log_variance)

    @property
    def lengthscale(self) -> Float[Array, ""]:
        return jnp.exp(self.log_lengthscale)

    @property
    def period(self) -> Float[Array, ""]:
        return jnp.exp(self.log_period)

    def profile(self, r2: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        r"""$k$ as a function of the squared distance $r^2 = \lVert x - x' \rVert^2$."""
        u = (jnp.pi**2 * jnp.exp(-2.0 * self.log_period)) * r2
        return jnp.exp(self.log_variance - 2.0 * jnp.exp(-2.0 * self.log_lengthscale) * _sin2(u))

    def evaluate(self, x: Float[Array, " d"], y: Float[Array, " d"]) -> Float[Array, ""]:
        check_point_pair(x, y)
        return self.profile(_scaled_sq_dist(x, y, jnp.zeros((), x.dtype)))

    def __call__(self, X1: Float[ArrayLike, "n d"], X2: Float[ArrayLike, "m d"]) -> Float[Array, "n m"]:
        """Gram matrix as `profile` of all pairwise squared distances at once (equal to
        `evaluate` under `vmap`, cheaper to differentiate)."""
        X1, X2 = check_pair(X1, X2)
        return self.profile(_pairwise_scaled_sq_dist(X1, X2, jnp.zeros((), X1.dtype)))
