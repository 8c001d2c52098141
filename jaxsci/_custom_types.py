"""jaxtyping aliases shared by every sub-package.

Shape strings follow one convention throughout jaxsci: `n` data points, `m` prediction
points, `d` input dimension, `p` outputs / parameters, `k` samples or basis functions.
"""

from typing import Any, Callable, TypeAlias

import jax
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray, PyTree

Scalar: TypeAlias = Float[Array, ""]
ScalarLike: TypeAlias = Float[ArrayLike, ""] | float
Point: TypeAlias = Float[Array, " d"]
Points: TypeAlias = Float[Array, "n d"]
Vector: TypeAlias = Float[Array, " n"]
Matrix: TypeAlias = Float[Array, "n m"]
Tensor3: TypeAlias = Float[Array, "3 3"]
Key: TypeAlias = PRNGKeyArray
Params: TypeAlias = PyTree[Any]
Sharding: TypeAlias = jax.sharding.Sharding
PointFn: TypeAlias = Callable[[Point], Float[Array, "..."]]

__all__ = [
    "Array",
    "ArrayLike",
    "Bool",
    "Float",
    "Int",
    "Key",
    "Matrix",
    "Params",
    "Point",
    "PointFn",
    "Points",
    "PRNGKeyArray",
    "PyTree",
    "Scalar",
    "ScalarLike",
    "Sharding",
    "Tensor3",
    "Vector",
]
