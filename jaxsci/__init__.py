"""jaxsci: functional, differentiable scientific machine learning on JAX pytrees.

This file is a table of contents: each sub-namespace owns one concept (see docs/index.md).
`jaxsci.testing` (hypothesis strategies) is imported explicitly, since hypothesis is a
test-only dependency.
"""

from . import (
    dae as dae,
    diagnostics as diagnostics,
    gp as gp,
    init as init,
    kernels as kernels,
    koopman as koopman,
    mechanics as mechanics,
    nn as nn,
    optim as optim,
    pinn as pinn,
    polynomials as polynomials,
    rom as rom,
    sensitivity as sensitivity,
    surrogates as surrogates,
    train as train,
)
from ._cache import (
    default_cache_dir as default_cache_dir,
    enable_compilation_cache as enable_compilation_cache,
)
from ._solution import RESULTS as RESULTS, Solution as Solution

__version__ = "0.1.0"
