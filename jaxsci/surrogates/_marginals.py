r"""Independent input marginals and their isoprobabilistic maps onto polynomial-chaos germs.

A generalised polynomial chaos (Xiu & Karniadakis, SIAM J. Sci. Comput. 24, 2002, Table 4.1)
expands $f(X)$ in polynomials orthonormal under the law of a *germ* $\xi_j = T_j(X_j)$, one
per independent input. Each marginal maps its variable to the germ of its Askey family:

| marginal | germ $\xi = T(x)$ | family |
|---|---|---|
| `Uniform(low, high)` | $x$ | `Legendre((low, high))` |
| `Normal(mean, std)` | $(x - \text{mean})/\text{std}$ | `Hermite()` |
| `LogNormal(mu, sigma)` | $(\log x - \mu)/\sigma$ | `Hermite()` |
| `Gamma(shape, scale)` | $x / \text{scale}$ | `Laguerre(shape - 1)` |
| `Beta(a, b, low, high)` | $2\frac{x - l}{h - l} - 1$ | `Jacobi(b - 1, a - 1)` |
| `GaussianGerm(cdf, quantile)` | $\Phi^{-1}(F(x))$ (Rosenblatt / Nataf for one variable) | `Hermite()` |

The maps are exact (no polynomial of the germ is lost), so a polynomial of the germs is
orthonormal under the joint law of $X$. Parameters are static Python floats (they fix the
family and its recurrence): a marginal is structure, not data.
"""

import abc
import functools
import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_key, require_positive_int
from .._misc import default_floating_dtype
from ..polynomials import AbstractFamily, Hermite, Jacobi, Laguerre, Legendre


def _xp(x):
    """NumPy for NumPy input (static rules built without dispatching JAX ops), else jnp."""
    return np if isinstance(x, (np.ndarray, np.generic, float)) else jnp


def _param(value, name: str, *, positive: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a static real number, got {value!r:.60}.") from None
    if not math.isfinite(v):
        raise ValueError(f"`{name}` must be finite, got {value!r}.")
    if positive and not v > 0:
        raise ValueError(f"`{name}` must be > 0, got {value!r}.")
    return v


class AbstractMarginal(eqx.Module):
    r"""The law of one input variable $X$, with its germ map $\xi = T(x)$ onto the measure
    of a polynomial family (module docstring).

    Concrete marginals implement `family`, `to_germ`, `from_germ`, `support` and `sample`.
    """

    @property
    @abc.abstractmethod
    def family(self) -> AbstractFamily:
        """The orthonormal family of the germ's law."""

    @property
    @abc.abstractmethod
    def support(self) -> tuple[float, float]:
        """The support `(low, high)` of $X$ (possibly infinite)."""

    @abc.abstractmethod
    def to_germ(self, x: Float[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
        r"""The germ $\xi = T(x)$ (elementwise; values not checked)."""

    @abc.abstractmethod
    def from_germ(self, xi: Float[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
        r"""The inverse map $x = T^{-1}(\xi)$ (elementwise)."""

    def sample(self, key: jax.Array, n: int, dtype=None) -> Float[Array, " n"]:
        r"""`n` independent samples of $X$, as $T^{-1}$ of samples of the germ.

        **Arguments:**

        - `key`: a JAX PRNG key.
        - `n`: the static number of samples, an int $\ge 1$.
        - `dtype`: a float dtype (default: JAX's default float).

        **Returns:** shape `(n,)`.

        **Raises:** `TypeError` for a `key` that is not a PRNG key or a non-int `n`;
        `ValueError` for `n < 1`.
        """
        check_key(key)
        n = require_positive_int(n, "n")
        dtype = default_floating_dtype() if dtype is None else dtype
        return self.from_germ(self.family.sample(key, (n,), dtype)).astype(dtype)

    def contains(self, x: Float[ArrayLike, "*shape"]) -> Array:
        """Elementwise: `x` lies in the (closed) support."""
        lo, hi = self.support
        return (x >= lo) & (x <= hi)


class Uniform(AbstractMarginal):
    r"""$X \sim U[l, h]$; germ $\xi = x$, family `Legendre((l, h))`.

    **Arguments:** `low` $l$ (default 0), `high` $h > l$ (default 1), static floats.
    `Uniform()` on $[0, 1]$ is the input law of `LegendreBasis`.
    """

    low: float = eqx.field(static=True)
    high: float = eqx.field(static=True)

    def __init__(self, low: float = 0.0, high: float = 1.0):
        self.low, self.high = _param(low, "low"), _param(high, "high")
        if not self.high > self.low:
            raise ValueError(f"`high` must be > `low`, got low={low!r}, high={high!r}.")

    @property
    def family(self):
        return Legendre((self.low, self.high))

    @property
    def support(self):
        return (self.low, self.high)

    def to_germ(self, x):
        return _xp(x).asarray(x)

    def from_germ(self, xi):
        return _xp(xi).asarray(xi)


class Normal(AbstractMarginal):
    r"""$X \sim N(m, s^2)$; germ $\xi = (x - m)/s$, family `Hermite()`.

    **Arguments:** `mean` $m$ (default 0), `std` $s > 0$ (default 1), static floats.
    """

    mean: float = eqx.field(static=True)
    std: float = eqx.field(static=True)

    def __init__(self, mean: float = 0.0, std: float = 1.0):
        self.mean, self.std = _param(mean, "mean"), _param(std, "std", positive=True)

    @property
    def family(self):
        return Hermite()

    @property
    def support(self):
        return (-math.inf, math.inf)

    def to_germ(self, x):
        return (_xp(x).asarray(x) - self.mean) / self.std

    def from_germ(self, xi):
        return self.mean + self.std * _xp(xi).asarray(xi)


class LogNormal(AbstractMarginal):
    r"""$\log X \sim N(\mu, \sigma^2)$; germ $\xi = (\log x - \mu)/\sigma$, family
    `Hermite()`.

    **Arguments:** `mu` (default 0), `sigma` $> 0$ (default 1), static floats (the
    parameters of $\log X$, as `scipy.stats.lognorm(s=sigma, scale=exp(mu))`).
    """

    mu: float = eqx.field(static=True)
    sigma: float = eqx.field(static=True)

    def __init__(self, mu: float = 0.0, sigma: float = 1.0):
        self.mu, self.sigma = _param(mu, "mu"), _param(sigma, "sigma", positive=True)

    @property
    def family(self):
        return Hermite()

    @property
    def support(self):
        return (0.0, math.inf)

    def to_germ(self, x):
        xp = _xp(x)
        return (xp.log(xp.asarray(x)) - self.mu) / self.sigma

    def from_germ(self, xi):
        xp = _xp(xi)
        return xp.exp(self.mu + self.sigma * xp.asarray(xi))


class Gamma(AbstractMarginal):
    r"""$X \sim$ Gamma$(k, \theta)$, density $x^{k-1} e^{-x/\theta} / (\Gamma(k)\theta^k)$;
    germ $\xi = x/\theta$, family `Laguerre(k - 1)`.

    **Arguments:** `shape` $k > 0$, `scale` $\theta > 0$ (default 1), static floats.
    """

    shape: float = eqx.field(static=True)
    scale: float = eqx.field(static=True)

    def __init__(self, shape: float, scale: float = 1.0):
        self.shape = _param(shape, "shape", positive=True)
        self.scale = _param(scale, "scale", positive=True)

    @property
    def family(self):
        return Laguerre(self.shape - 1)

    @property
    def support(self):
        return (0.0, math.inf)

    def to_germ(self, x):
        return _xp(x).asarray(x) / self.scale

    def from_germ(self, xi):
        return self.scale * _xp(xi).asarray(xi)


class Beta(AbstractMarginal):
    r"""$X = l + (h - l) Y$, $Y \sim$ Beta$(a, b)$; germ $\xi = 2\frac{x - l}{h - l} - 1
    \in [-1, 1]$, family `Jacobi(b - 1, a - 1)` (scipy's `roots_jacobi` convention).

    **Arguments:** `a`, `b` $> 0$; `low` (default 0), `high` $>$ `low` (default 1); static
    floats.
    """

    a: float = eqx.field(static=True)
    b: float = eqx.field(static=True)
    low: float = eqx.field(static=True)
    high: float = eqx.field(static=True)

    def __init__(self, a: float, b: float, low: float = 0.0, high: float = 1.0):
        self.a, self.b = _param(a, "a", positive=True), _param(b, "b", positive=True)
        self.low, self.high = _param(low, "low"), _param(high, "high")
        if not self.high > self.low:
            raise ValueError(f"`high` must be > `low`, got low={low!r}, high={high!r}.")

    @property
    def family(self):
        return Jacobi(self.b - 1, self.a - 1)

    @property
    def support(self):
        return (self.low, self.high)

    def to_germ(self, x):
        return 2 * (_xp(x).asarray(x) - self.low) / (self.high - self.low) - 1

    def from_germ(self, xi):
        return self.low + (self.high - self.low) * (_xp(xi).asarray(xi) + 1) / 2


class GaussianGerm(AbstractMarginal):
    r"""Any continuous marginal with CDF $F$, mapped to a standard-normal germ
    $\xi = \Phi^{-1}(F(x))$, family `Hermite()` (the isoprobabilistic transform for a
    law without a natural Askey family, e.g. Gumbel or Weibull; Sudret 2008, section 2.3).

    The map is not polynomial, so a smooth model of $X$ may need a higher degree in $\xi$
    than with its natural family.

    **Arguments:**

    - `cdf`: $F$, a JAX-traceable elementwise callable.
    - `quantile`: $F^{-1}$, elementwise on $(0, 1)$.
    - `support`: static `(low, high)` of $X$ (default the real line).
    """

    cdf: Callable = eqx.field(static=True)
    quantile: Callable = eqx.field(static=True)
    bounds: tuple[float, float] = eqx.field(static=True)

    def __init__(self, cdf: Callable, quantile: Callable,
                 support: tuple[float, float] = (-math.inf, math.inf)):
        if not callable(cdf):
            raise TypeError(f"`cdf` must be callable, got {type(cdf).__name__}.")
        if not callable(quantile):
            raise TypeError(f"`quantile` must be callable, got {type(quantile).__name__}.")
        try:
            lo, hi = (float(v) for v in support)
        except (TypeError, ValueError):
            raise ValueError(f"`support` must be a pair (low, high), got {support!r}.") from None
        if not hi > lo:
            raise ValueError(f"`support` must have high > low, got {support!r}.")
        self.cdf, self.quantile, self.bounds = cdf, quantile, (lo, hi)

    @property
    def family(self):
        return Hermite()

    @property
    def support(self):
        return self.bounds

    def to_germ(self, x):
        return jss.ndtri(self.cdf(jnp.asarray(x)))

    def from_germ(self, xi):
        return self.quantile(jss.ndtr(jnp.asarray(xi)))


def check_marginals(marginals, name: str = "marginals") -> tuple[AbstractMarginal, ...]:
    """Tier 1: a non-empty sequence of `AbstractMarginal`s, as a tuple."""
    if isinstance(marginals, AbstractMarginal) or not isinstance(marginals, (tuple, list)):
        raise TypeError(
            f"`{name}` must be a tuple of one marginal per input (e.g. "
            f"`(Normal(0, 1), Uniform(0, 2))`), got {type(marginals).__name__}."
        )
    if len(marginals) == 0:
        raise ValueError(f"`{name}` is empty: give one marginal per input.")
    bad = [type(m).__name__ for m in marginals if not isinstance(m, AbstractMarginal)]
    if bad:
        raise TypeError(f"`{name}` must hold `AbstractMarginal` instances, got {bad}.")
    return tuple(marginals)


@functools.lru_cache(maxsize=256)
def _gauss_1d(marginal: AbstractMarginal, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The n-point Gauss rule of the marginal's law, in the variable x (float64 NumPy)."""
    xi, w = marginal.family.gauss(n)
    if isinstance(marginal, GaussianGerm):  # user callables: JAX, in float64
        with jax.enable_x64(True):
            x = np.asarray(marginal.from_germ(jnp.asarray(xi, jnp.float64)), np.float64)
    else:
        x = np.asarray(marginal.from_germ(xi), np.float64)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w
