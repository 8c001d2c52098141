"""jaxsci.sensitivity: sampling-based global sensitivity analysis (see docs/sensitivity.md).

Monte-Carlo Sobol indices (Saltelli sampling on a scrambled Sobol' sequence; Saltelli-2010,
Jansen and second-order estimators; bootstrap confidence intervals), Morris elementary
effects and FAST / eFAST, for models with many outputs at once, vmapped, chunked and
shardable. Sobol indices from polynomial-chaos coefficients live in `jaxsci.surrogates`.
"""

from ._sampling import saltelli_sample as saltelli_sample, sobol_sequence as sobol_sequence
from ._evaluate import evaluate_samples as evaluate_samples
from ._sobol_mc import (
    saltelli_indices as saltelli_indices,
    SaltelliIndices as SaltelliIndices,
    sobol_analysis as sobol_analysis,
)
