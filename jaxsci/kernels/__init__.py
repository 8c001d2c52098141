"""jaxsci.kernels: covariance kernels with a pointwise `evaluate(x, y)`.

Gram matrices come from `kernel(X1, X2)` (double `vmap` of `evaluate` in `AbstractKernel`;
stationary, periodic and dot-product kernels override it with an equal all-pairs form whose
reverse pass is much cheaper on CPU, and sums/products/scalings combine their children's
Grams); kernels add, multiply and scale. Positive hyperparameters are stored as logarithms
(`log_*` fields). Kernels with a scikit-learn counterpart equal it (tested): see
docs/gp.md for the table.
"""

from ._base import (
    AbstractKernel as AbstractKernel,
    Product as Product,
    Scaled as Scaled,
    Sum as Sum,
)
from ._constant import Constant as Constant
from ._dot_product import DotProduct as DotProduct, Polynomial as Polynomial
from ._matern import Matern as Matern
from ._periodic import Periodic as Periodic
from ._stationary import (
    ExpQuad as ExpQuad,
    Matern12 as Matern12,
    Matern32 as Matern32,
    Matern52 as Matern52,
    RationalQuadratic as RationalQuadratic,
    SquaredExponential as SquaredExponential,
)
