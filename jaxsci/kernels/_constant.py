r"""The constant kernel $k(x, x') = c$ (scikit-learn `ConstantKernel`)."""

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._base import AbstractKernel, check_pair, check_point_pair, check_points
from ._dot_product import scalar_log


class Constant(AbstractKernel):
    r"""Constant kernel $k(x, x') = c$, $c > 0$ stored as `log_value`.

    Equal to `sklearn.gaussian_process.kernels.ConstantKernel(constant_value=c)`. As a
    summand it models an unknown constant offset of prior variance $c$ (`k + Constant(c)`);
    as a factor, `Constant(c) * k` is `Scaled(k, c)` with the scale fitted in the same way.
    Its Gram matrix has rank one.
    """

    log_value: Float[Array, ""]

    def __init__(self, value: float | Float[ArrayLike, ""] = 1.0):
        self.log_value = scalar_log(value, "value")

    @property
    def value(self) -> Float[Array, ""]:
        return jnp.exp(self.log_value)

    def evaluate(self, x: Float[Array, " d"], y: Float[Array, " d"]) -> Float[Array, ""]:
        check_point_pair(x, y)
        dtype = jnp.result_type(x, y, self.log_value)
        return jnp.exp(self.log_value).astype(dtype)

    def __call__(self, X1: Float[ArrayLike, "n d"], X2: Float[ArrayLike, "m d"]) -> Float[Array, "n m"]:
        """The `(n, m)` matrix filled with $c$."""
        X1, X2 = check_pair(X1, X2)
        dtype = jnp.result_type(X1, X2, self.log_value)
        return jnp.broadcast_to(jnp.exp(self.log_value).astype(dtype), (X1.shape[0], X2.shape[0]))

    def diag(self, X: Float[ArrayLike, "n d"]) -> Float[Array, " n"]:
        r"""The vector of $c$, length `n`."""
        X = check_points(X, "X")
        dtype = jnp.result_type(X, self.log_value)
        return jnp.broadcast_to(jnp.exp(self.log_value).astype(dtype), (X.shape[0],))
