"""jaxsci.surrogates: POD, Legendre regression / polynomial chaos, cubature, Sobol indices,
neural surrogates and weight-based sensitivity (see docs/surrogates.md)."""

from ._cubature import CubatureRule as CubatureRule, stroud5 as stroud5
from ._errors import error_statistics as error_statistics, l1_error as l1_error
from ._legendre import (
    LegendreBasis as LegendreBasis,
    legendre_1d as legendre_1d,
    total_degree_indices as total_degree_indices,
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
from ._training import fit_network as fit_network
