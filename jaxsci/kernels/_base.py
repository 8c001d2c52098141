r"""Kernel interface: a pointwise `evaluate(x, y)`; Gram matrices by `jax.vmap` in one place.

Positive hyperparameters are stored unconstrained as their logarithm (`log_*` fields), so
every inexact-array leaf of a kernel is a free real number: the multistart fitter of
`jaxsci.gp.fit` optimises exactly those leaves, and its prior box is a box in log-space.
`gp.fit` therefore refuses a kernel with a floating-point leaf in a field not named `log_*`.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_nonempty, check_value
from .._misc import as_float_array

_HIGHEST = jax.lax.Precision.HIGHEST


def is_traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def log_positive(value: ArrayLike, name: str) -> Float[Array, "..."]:
    """`log(value)` after checking that `value` is positive and finite (tier 2: a
    `ValueError` at once for a concrete value, `eqx.error_if` under `jit`/`vmap`)."""
    arr = as_float_array(value, name)
    shown = "a traced value" if is_traced(arr) else repr(value)
    return check_value(
        jnp.log(arr),
        ~((arr > 0) & jnp.isfinite(arr)),
        f"`{name}` must be positive and finite, got {shown}. Pass a positive finite value "
        "(it is stored as its logarithm).",
    )


def check_point(x, name: str, d: int | None = None) -> Float[Array, " d"]:
    """Tier 1 for `evaluate`: one point of shape `(d,)`."""
    if jnp.ndim(x) != 1:
        raise ValueError(
            f"`{name}` must be a single point of shape (d,), got shape {jnp.shape(x)}. "
            "`evaluate` takes one pair of points; call the kernel itself, `kernel(X1, X2)`, "
            "for Gram matrices of (n, d) arrays."
        )
    return x


def check_point_pair(x, y) -> None:
    """Tier 1 for `evaluate(x, y)`: two points of the same shape `(d,)`."""
    check_point(x, "x")
    check_point(y, "y")
    if jnp.shape(x) != jnp.shape(y):
        raise ValueError(
            f"`x` and `y` must have the same dimension d, got shapes {jnp.shape(x)} and "
            f"{jnp.shape(y)}."
        )


def check_points(X, name: str) -> Float[Array, "n d"]:
    X = as_float_array(X, name)
    if X.ndim != 2:
        raise ValueError(
            f"`{name}` must be a 2-D array of points with shape (n, d), got shape {X.shape}. "
            "Reshape a single point with `x[None]` or 1-D data with `x[:, None]`."
        )
    check_nonempty(X, name)
    check_nonempty(X, name, axis=1, what="input dimensions (columns)")
    return X


def check_pair(X1, X2) -> tuple[Float[Array, "n d"], Float[Array, "m d"]]:
    X1 = check_points(X1, "X1")
    X2 = check_points(X2, "X2")
    if X1.shape[1] != X2.shape[1]:
        raise ValueError(
            f"`X1` and `X2` must have the same number of columns (input dimension d), "
            f"got shapes {X1.shape} and {X2.shape}."
        )
    return X1, X2


class AbstractKernel(eqx.Module):
    r"""A positive semi-definite covariance function $k(x, x')$.

    Subclasses implement only the pointwise `evaluate(x, y)` on two points of shape `(d,)`;
    the Gram matrix `kernel(X1, X2)` and its diagonal are built here by `jax.vmap`.
    Kernels combine: `k1 + k2` ([`Sum`][]), `k1 * k2` ([`Product`][]) and `c * k` for a
    positive number `c` ([`Scaled`][]).
    """

    @abc.abstractmethod
    def evaluate(self, x: Float[Array, " d"], y: Float[Array, " d"]) -> Float[Array, ""]:
        """Covariance $k(x, y)$ of two single points of shape `(d,)`."""

    def __call__(self, X1: Float[ArrayLike, "n d"], X2: Float[ArrayLike, "m d"]) -> Float[Array, "n m"]:
        r"""Gram matrix $K_{ij} = k(X_{1,i}, X_{2,j})$ of shape `(n, m)`."""
        X1, X2 = check_pair(X1, X2)
        row = jax.vmap(self.evaluate, in_axes=(None, 0))
        return jax.vmap(row, in_axes=(0, None))(X1, X2)

    def diag(self, X: Float[ArrayLike, "n d"]) -> Float[Array, " n"]:
        r"""The diagonal $k(X_i, X_i)$ of the Gram matrix, without forming it."""
        X = check_points(X, "X")
        return jax.vmap(lambda x: self.evaluate(x, x))(X)

    def __add__(self, other: "AbstractKernel") -> "Sum":
        if not isinstance(other, AbstractKernel):
            return NotImplemented
        return Sum(self, other)

    def __mul__(self, other) -> "AbstractKernel":
        if isinstance(other, AbstractKernel):
            return Product(self, other)
        if isinstance(other, (int, float)) or eqx.is_array_like(other):
            return Scaled(self, other)
        return NotImplemented

    def __rmul__(self, other) -> "AbstractKernel":
        return self.__mul__(other)


def _check_operands(name: str, k1, k2) -> None:
    for arg, k in (("k1", k1), ("k2", k2)):
        if not isinstance(k, AbstractKernel):
            raise TypeError(
                f"`{name}` combines two kernels; `{arg}` is a {type(k).__name__}, not an "
                "`AbstractKernel`. Use `c * kernel` (`Scaled`) to scale by a constant."
            )


class Sum(AbstractKernel):
    r"""$k(x, y) = k_1(x, y) + k_2(x, y)$."""

    k1: AbstractKernel
    k2: AbstractKernel

    def __check_init__(self):
        _check_operands("Sum", self.k1, self.k2)

    def evaluate(self, x: Float[Array, " d"], y: Float[Array, " d"]) -> Float[Array, ""]:
        check_point_pair(x, y)
        return self.k1.evaluate(x, y) + self.k2.evaluate(x, y)

    def __call__(self, X1: Float[ArrayLike, "n d"], X2: Float[ArrayLike, "m d"]) -> Float[Array, "n m"]:
        return self.k1(X1, X2) + self.k2(X1, X2)


class Product(AbstractKernel):
    r"""$k(x, y) = k_1(x, y)\,k_2(x, y)$ (a product of PSD kernels is PSD, Schur)."""

    k1: AbstractKernel
    k2: AbstractKernel

    def __check_init__(self):
        _check_operands("Product", self.k1, self.k2)

    def evaluate(self, x: Float[Array, " d"], y: Float[Array, " d"]) -> Float[Array, ""]:
        check_point_pair(x, y)
        return self.k1.evaluate(x, y) * self.k2.evaluate(x, y)

    def __call__(self, X1: Float[ArrayLike, "n d"], X2: Float[ArrayLike, "m d"]) -> Float[Array, "n m"]:
        return self.k1(X1, X2) * self.k2(X1, X2)


class Scaled(AbstractKernel):
    r"""$k(x, y) = c\,k_0(x, y)$ with $c > 0$ stored as `log_scale` $= \log c$.

    Scaling by a constant is how scikit-learn's `ConstantKernel(c) * RBF(l)` is written:
    `Scaled(ExpQuad(1.0, l), c)` (equivalently `c * ExpQuad(1.0, l)`).
    """

    kernel: AbstractKernel
    log_scale: Float[Array, ""]

    def __init__(self, kernel: AbstractKernel, scale: float | Float[ArrayLike, ""] = 1.0):
        if not isinstance(kernel, AbstractKernel):
            raise TypeError(f"`kernel` must be an AbstractKernel, got {type(kernel).__name__}.")
        self.kernel = kernel
        self.log_scale = log_positive(scale, "scale")

    @property
    def scale(self) -> Float[Array, ""]:
        return jnp.exp(self.log_scale)

    def evaluate(self, x: Float[Array, " d"], y: Float[Array, " d"]) -> Float[Array, ""]:
        check_point_pair(x, y)
        return jnp.exp(self.log_scale) * self.kernel.evaluate(x, y)

    def __call__(self, X1: Float[ArrayLike, "n d"], X2: Float[ArrayLike, "m d"]) -> Float[Array, "n m"]:
        return jnp.exp(self.log_scale) * self.kernel(X1, X2)
