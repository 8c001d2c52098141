"""jaxsci.polynomials: multi-indices and orthogonal polynomials, shared by `jaxsci.nn`
(Legendre spaces of POUnets), `jaxsci.surrogates` (polynomial chaos) and `jaxsci.koopman`
(monomial dictionaries).

One ordering of multi-indices everywhere (`total_degree_indices`, `hyperbolic_indices`):
graded by total degree, then reverse-lexicographic, so the first coordinate varies slowest:
$1, x_1, \\dots, x_d, x_1^2, x_1 x_2, \\dots$. The Askey families (`Legendre`, `Hermite`,
`Laguerre`, `Jacobi`) are orthonormal under probability measures and carry their Gauss
rules (`family.gauss(n)`); `orthonormal_product` mixes them per coordinate.
"""

from ._families import (
    AbstractFamily as AbstractFamily,
    Hermite as Hermite,
    Jacobi as Jacobi,
    Laguerre as Laguerre,
    Legendre as Legendre,
    orthonormal_product as orthonormal_product,
)
from ._legendre import legendre as legendre, legendre_product as legendre_product
from ._multi_index import (
    hyperbolic_indices as hyperbolic_indices,
    total_degree_indices as total_degree_indices,
)
