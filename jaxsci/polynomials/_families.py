r"""Orthonormal polynomial families of the Askey scheme, their measures and Gauss rules.

Every family is orthonormal under a **probability** measure $\mu$:
$\int p_m p_n \,d\mu = \delta_{mn}$, $p_0 = 1$, with a positive leading coefficient. All
are evaluated by the same stable three-term recurrence of the orthonormal polynomials
(Gautschi, *Orthogonal Polynomials: Computation and Approximation*, 2004, eq. 1.3.13)

$$\sqrt{b_{n+1}}\,p_{n+1}(x) = (x - a_n)\,p_n(x) - \sqrt{b_n}\,p_{n-1}(x),\qquad
p_{-1} = 0,\ p_0 = 1,$$

with the monic recurrence coefficients $a_n$, $b_n$ of each family ($b_0 = 1$, the mass of
a probability measure). The $n$-point Gauss rule of $\mu$ is Golub-Welsch (Math. Comp. 23,
1969): its nodes are the eigenvalues of the Jacobi matrix
$J = \mathrm{tridiag}(\sqrt{b_k}, a_k, \sqrt{b_{k+1}})_{k<n}$, its weights the Christoffel
numbers $w_i = 1 / \sum_{k<n} p_k(x_i)^2$ (equal to the squared first eigenvector
components, but accurate to full relative precision for the tiny weights in the tails).

| family | measure $\mu$ | support | $a_n$ | $b_n$ ($n \ge 1$) |
|---|---|---|---|---|
| `Legendre(interval)` | uniform on $[l, h]$ | $[l, h]$ | $\frac{l+h}{2}$ | $\left(\frac{h-l}{2}\right)^2 \frac{n^2}{4n^2-1}$ |
| `Hermite()` | standard normal $N(0, 1)$ | $\mathbb{R}$ | $0$ | $n$ |
| `Laguerre(alpha)` | Gamma$(\alpha+1, 1)$, density $\propto x^\alpha e^{-x}$ | $[0, \infty)$ | $2n+\alpha+1$ | $n(n+\alpha)$ |
| `Jacobi(alpha, beta)` | density $\propto (1-x)^\alpha (1+x)^\beta$ | $[-1, 1]$ | see `Jacobi` | see `Jacobi` |

Hermite is the probabilists' $He_n/\sqrt{n!}$; Laguerre is $(-1)^n L^{(\alpha)}_n
\sqrt{n!\,\Gamma(\alpha+1)/\Gamma(n+\alpha+1)}$; Jacobi on $[-1, 1]$ follows the convention
of `scipy.special.roots_jacobi` (so $(1+x)/2 \sim$ Beta$(\beta+1, \alpha+1)$), and
`Jacobi(0, 0)` is `Legendre()`.
"""

import abc
import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from .._checks import check_key, require_positive_int
from .._misc import as_float_array
from ._legendre import _check, _check_degree, _check_indices, legendre

__all__ = ["AbstractFamily", "Hermite", "Jacobi", "Laguerre", "Legendre", "orthonormal_product"]


def _static_float(value, name: str, minimum: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a static real number, got {value!r:.60}.") from None
    if not np.isfinite(v) or v <= minimum:
        raise ValueError(
            f"`{name}` must be a finite number > {minimum:g} (the measure is not a "
            f"probability measure otherwise), got {value!r}."
        )
    return v


class AbstractFamily(eqx.Module):
    r"""An orthonormal polynomial family $\{p_n\}$ of a probability measure $\mu$ (module
    docstring), defined by its monic recurrence coefficients.

    Concrete families implement `recurrence`, `support` and `sample`; `evaluate` and
    `gauss` are shared.
    """

    @abc.abstractmethod
    def recurrence(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        r"""The monic recurrence coefficients $a_0..a_{n-1}$ and $b_0..b_{n-1}$ ($b_0 = 1$),
        as float64 NumPy arrays of shape `(n,)` (static data).

        **Arguments:**

        - `n`: how many coefficients, an int $\ge 1$.

        **Returns:** `(a, b)`.
        """

    @property
    @abc.abstractmethod
    def support(self) -> tuple[float, float]:
        """The support `(low, high)` of the measure (possibly infinite)."""

    @abc.abstractmethod
    def sample(self, key: jax.Array, shape: tuple[int, ...] = (), dtype=None) -> Array:
        r"""Samples of the measure $\mu$.

        **Arguments:**

        - `key`: a JAX PRNG key.
        - `shape`: the static output shape.
        - `dtype`: a float dtype (default: JAX's default float).

        **Returns:** an array of `shape`.
        """

    def evaluate(self, x: Float[ArrayLike, "*shape"], degree: int) -> Float[Array, "*shape m+1"]:
        r"""The orthonormal $p_0(x), \dots, p_m(x)$ by the three-term recurrence.

        **Arguments:**

        - `x`: points of any shape (pointwise core: not checked; a point outside the support
          gives the polynomial's value there, NaN stays in its row).
        - `degree`: the static maximal degree $m \ge 0$.

        **Returns:** the values, shape `x.shape + (degree + 1,)`, dtype of `x`.

        **Raises:** `ValueError` for a `degree` that is not a non-negative int; `TypeError`
        for a non-real `x`.
        """
        degree = _check_degree(degree)
        x = as_float_array(x, "x")
        a, b = self.recurrence(degree + 1)  # a_0..a_m, b_0..b_m: enough for p_0..p_m
        sb = np.sqrt(b)
        values = [jnp.ones_like(x)]
        if degree >= 1:
            values.append((x - float(a[0])) / float(sb[1]))
        for n in range(1, degree):
            # Python floats: weakly typed, so a float32 `x` stays float32
            an, bn, bn1 = float(a[n]), float(sb[n]), float(sb[n + 1])
            values.append(((x - an) * values[n] - bn * values[n - 1]) / bn1)
        return jnp.stack(values, axis=-1)

    def gauss(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        r"""The $n$-point Gauss rule of the measure: $\int f\,d\mu \approx \sum_i w_i f(x_i)$,
        exact for polynomials of degree $\le 2n - 1$ (Golub-Welsch, module docstring).

        **Arguments:**

        - `n`: the number of nodes, an int $\ge 1$.

        **Returns:** `(nodes, weights)`, float64 NumPy arrays of shape `(n,)`, nodes
        increasing, weights positive and summing to 1 (static data: `jnp.asarray` them).

        **Raises:** `TypeError` / `ValueError` if `n` is not an int $\ge 1$.
        """
        n = require_positive_int(n, "n")
        a, b = self.recurrence(n)
        off = np.sqrt(b[1:])
        jac = np.diag(a) + np.diag(off, 1) + np.diag(off, -1)
        nodes = np.linalg.eigvalsh(jac)
        # Christoffel numbers 1 / sum_k p_k(x_i)^2 from the same recurrence, in float64
        p_prev, p = np.zeros_like(nodes), np.ones_like(nodes)
        total = p**2
        for k in range(n - 1):
            p_prev, p = p, ((nodes - a[k]) * p - np.sqrt(b[k]) * p_prev) / np.sqrt(b[k + 1])
            total = total + p**2
        weights = 1.0 / total
        return nodes, weights / weights.sum()


class Legendre(AbstractFamily):
    r"""Orthonormal Legendre polynomials of the **uniform probability** measure on
    $[l, h]$: $p_n(x) = \sqrt{2n+1}\,P_n(y)$, $y = 2\frac{x - l}{h - l} - 1$.

    (Not the $L^2([l, h])$ normalisation of `legendre(..., orthonormal=True)`, which has the
    extra factor $(h - l)^{-1/2}$; on $[0, 1]$ the two coincide: the basis of
    `jaxsci.surrogates.LegendreBasis`.) Evaluated by the classical recurrence of `legendre`.

    **Arguments:**

    - `interval`: static `(l, h)`, finite with $h > l$ (default $[-1, 1]$).
    """

    interval: tuple[float, float] = eqx.field(static=True)

    def __init__(self, interval: tuple[float, float] = (-1.0, 1.0)):
        _, a, b = _check(0, interval)
        self.interval = (a, b)

    def recurrence(self, n):
        n = require_positive_int(n, "n")
        lo, hi = self.interval
        k = np.arange(n, dtype=np.float64)
        b = ((hi - lo) / 2) ** 2 * k**2 / (4 * k**2 - 1)
        b[0] = 1.0
        return np.full(n, (lo + hi) / 2), b

    @property
    def support(self):
        return self.interval

    def sample(self, key, shape=(), dtype=None):
        check_key(key)
        lo, hi = self.interval
        return jax.random.uniform(key, shape, dtype or jnp.result_type(float), lo, hi)

    def evaluate(self, x, degree):
        degree = _check_degree(degree)
        x = as_float_array(x, "x")
        out = legendre(x, degree, interval=self.interval)
        norms = np.sqrt(2 * np.arange(degree + 1) + 1.0)
        return out * norms.astype(out.dtype).reshape((1,) * x.ndim + (degree + 1,))


class Hermite(AbstractFamily):
    r"""Orthonormal probabilists' Hermite polynomials $p_n = He_n / \sqrt{n!}$ of the
    standard normal measure $N(0, 1)$: $p_{n+1} = (x\,p_n - \sqrt{n}\,p_{n-1})/\sqrt{n+1}$.
    """

    def recurrence(self, n):
        n = require_positive_int(n, "n")
        b = np.arange(n, dtype=np.float64)
        b[0] = 1.0
        return np.zeros(n), b

    @property
    def support(self):
        return (-math.inf, math.inf)

    def sample(self, key, shape=(), dtype=None):
        check_key(key)
        return jax.random.normal(key, shape, dtype or jnp.result_type(float))


class Laguerre(AbstractFamily):
    r"""Orthonormal generalised Laguerre polynomials of the Gamma$(\alpha + 1, 1)$ measure,
    density $x^\alpha e^{-x} / \Gamma(\alpha + 1)$ on $[0, \infty)$: monic recurrence
    $a_n = 2n + \alpha + 1$, $b_n = n (n + \alpha)$; $p_n = (-1)^n L_n^{(\alpha)}
    \sqrt{n!\,\Gamma(\alpha+1)/\Gamma(n+\alpha+1)}$ (positive leading coefficient).

    **Arguments:**

    - `alpha`: static $\alpha > -1$ (default 0: the exponential distribution). A
      Gamma$(k, \theta)$ variable $X$ is $\theta$ times a germ of `Laguerre(k - 1)`.
    """

    alpha: float = eqx.field(static=True)

    def __init__(self, alpha: float = 0.0):
        self.alpha = _static_float(alpha, "alpha", -1.0)

    def recurrence(self, n):
        n = require_positive_int(n, "n")
        k = np.arange(n, dtype=np.float64)
        b = k * (k + self.alpha)
        b[0] = 1.0
        return 2 * k + self.alpha + 1, b

    @property
    def support(self):
        return (0.0, math.inf)

    def sample(self, key, shape=(), dtype=None):
        check_key(key)
        return jax.random.gamma(key, self.alpha + 1, shape, dtype or jnp.result_type(float))


class Jacobi(AbstractFamily):
    r"""Orthonormal Jacobi polynomials on $[-1, 1]$ of the probability measure with
    density $\propto (1 - x)^\alpha (1 + x)^\beta$ (the weight of
    `scipy.special.roots_jacobi`), i.e. $(1 + x)/2 \sim$ Beta$(\beta + 1, \alpha + 1)$.

    Monic recurrence (Gautschi 2004, Table 1.1), with $\sigma = \alpha + \beta$:
    $a_0 = \frac{\beta - \alpha}{\sigma + 2}$,
    $a_n = \frac{\beta^2 - \alpha^2}{(2n + \sigma)(2n + \sigma + 2)}$,
    $b_1 = \frac{4 (1 + \alpha)(1 + \beta)}{(2 + \sigma)^2 (3 + \sigma)}$,
    $b_n = \frac{4 n (n + \alpha)(n + \beta)(n + \sigma)}{(2n + \sigma)^2 (2n + \sigma + 1)
    (2n + \sigma - 1)}$ ($n \ge 2$). A Beta$(a, b)$ variable on $[l, h]$ is
    $l + (h - l)(1 + \xi)/2$ with $\xi$ a germ of `Jacobi(b - 1, a - 1)`.

    **Arguments:**

    - `alpha`, `beta`: static, both $> -1$ (default 0, 0: uniform, the Legendre case).
    """

    alpha: float = eqx.field(static=True)
    beta: float = eqx.field(static=True)

    def __init__(self, alpha: float = 0.0, beta: float = 0.0):
        self.alpha = _static_float(alpha, "alpha", -1.0)
        self.beta = _static_float(beta, "beta", -1.0)

    def recurrence(self, n):
        n = require_positive_int(n, "n")
        al, be = self.alpha, self.beta
        s = al + be
        a = np.empty(n)
        b = np.empty(n)
        a[0] = (be - al) / (s + 2)
        b[0] = 1.0
        for k in range(1, n):
            a[k] = (be**2 - al**2) / ((2 * k + s) * (2 * k + s + 2))
            if k == 1:
                b[k] = 4 * (1 + al) * (1 + be) / ((2 + s) ** 2 * (3 + s))
            else:
                b[k] = (4 * k * (k + al) * (k + be) * (k + s)
                        / ((2 * k + s) ** 2 * (2 * k + s + 1) * (2 * k + s - 1)))
        return a, b

    @property
    def support(self):
        return (-1.0, 1.0)

    def sample(self, key, shape=(), dtype=None):
        check_key(key)
        dtype = dtype or jnp.result_type(float)
        return 2 * jax.random.beta(key, self.beta + 1, self.alpha + 1, shape, dtype) - 1


def orthonormal_product(
    x: Float[ArrayLike, " d"],
    indices: Int[ArrayLike, "s d"],
    families: Sequence[AbstractFamily],
    *,
    degree: int | None = None,
) -> Float[Array, " s"]:
    r"""Tensor-product orthonormal polynomials $\Psi_\beta(x) = \prod_{j=1}^d
    p^{(j)}_{\beta_j}(x_j)$ at ONE point, each coordinate with its own family
    $p^{(j)}$ (e.g. Hermite for a Gaussian input, Legendre for a uniform one), for every
    multi-index row $\beta$ of `indices`.

    Orthonormal under the product measure $\mu_1 \otimes \dots \otimes \mu_d$, so the
    polynomial-chaos variance and Sobol formulas are sums of squared coefficients.
    Generalises `legendre_product` (whose index checks it shares).

    **Arguments:**

    - `x`: one point `(d,)` (vmap for batches; values not checked, as in `legendre`).
    - `indices`: non-negative integers `(s, d)` (e.g. `total_degree_indices`,
      `hyperbolic_indices`).
    - `families`: a sequence of $d$ `AbstractFamily` instances, one per coordinate.
    - `degree`: the static maximal entry of `indices` (as in `legendre_product`).

    **Returns:** the `(s,)` values, dtype of `x`.

    **Raises:** as `legendre_product`, and `TypeError` / `ValueError` if `families` is not
    a sequence of $d$ families.
    """
    x = as_float_array(x, "x")
    if isinstance(families, AbstractFamily) or not isinstance(families, (tuple, list)):
        raise TypeError(
            f"`families` must be a tuple of one `AbstractFamily` per coordinate, got "
            f"{type(families).__name__}."
        )
    if not all(isinstance(f, AbstractFamily) for f in families):
        raise TypeError("`families` must hold `AbstractFamily` instances (e.g. `Hermite()`).")
    indices, degree = _check_indices(x, indices, degree, "orthonormal_product")
    if len(families) != x.shape[0]:
        raise ValueError(
            f"`families` must have one family per coordinate of `x` ({x.shape[0]}), got "
            f"{len(families)}."
        )
    # one table row per coordinate; coordinates sharing a family share one evaluation
    rows = [None] * x.shape[0]
    groups: dict = {}
    for j, fam in enumerate(families):
        groups.setdefault(fam, []).append(j)
    for fam, js in groups.items():
        table = fam.evaluate(x[np.asarray(js)], degree)  # (len(js), m+1)
        for pos, j in enumerate(js):
            rows[j] = table[pos]
    table = jnp.stack(rows)  # (d, m+1)
    return jnp.prod(table[np.arange(x.shape[0])[None, :], indices], axis=1)
