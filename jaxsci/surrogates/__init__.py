"""jaxsci.surrogates: POD, polynomial chaos (Legendre and any independent marginals, full or
sparse), cubature (Stroud-5, tensor Gauss, Smolyak), Sobol indices, neural surrogates and
weight-based sensitivity (see docs/surrogates.md)."""

from ._basis import PolynomialBasis as PolynomialBasis
from ._cubature import (
    CubatureRule as CubatureRule,
    gauss_rule as gauss_rule,
    smolyak_rule as smolyak_rule,
    stroud5 as stroud5,
)
from ._errors import error_statistics as error_statistics, l1_error as l1_error
from ._legendre import (
    LegendreBasis as LegendreBasis,
    legendre_1d as legendre_1d,
    total_degree_indices as total_degree_indices,
)
from ._marginals import (
    AbstractMarginal as AbstractMarginal,
    Beta as Beta,
    Gamma as Gamma,
    GaussianGerm as GaussianGerm,
    LogNormal as LogNormal,
    Normal as Normal,
    Uniform as Uniform,
)
from ._networks import (
    extend_network as extend_network,
    extended_network as extended_network,
    first_linear_layer as first_linear_layer,
    LinearInputNetwork as LinearInputNetwork,
    minmax_scaling as minmax_scaling,
    OutputScaling as OutputScaling,
    tanh_network as tanh_network,
    weight_sensitivity as weight_sensitivity,
)
from ._pod import energy_rank as energy_rank, POD as POD, pod as pod
from ._regression import (
    fit_polynomial as fit_polynomial,
    PolynomialChaos as PolynomialChaos,
    project_polynomial as project_polynomial,
    vandermonde as vandermonde,
)
from ._sobol import (
    norm_sobol_indices as norm_sobol_indices,
    sobol_indices as sobol_indices,
    SobolIndices as SobolIndices,
)
from ._sparse import fit_sparse_polynomial as fit_sparse_polynomial, LARS as LARS, OMP as OMP
from ._training import fit_network as fit_network
