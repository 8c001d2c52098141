"""jaxsci.sensitivity: sampling-based global sensitivity analysis (see docs/sensitivity.md).

Monte-Carlo Sobol indices (Saltelli sampling on a scrambled Sobol' sequence; Saltelli-2010,
Jansen and second-order estimators; bootstrap confidence intervals), Morris elementary
effects and FAST / eFAST, for models with many outputs at once, vmapped, chunked and
shardable. Sobol indices from polynomial-chaos coefficients live in `jaxsci.surrogates`.
"""

from ._morris import morris_analyze as morris_analyze, MorrisIndices as MorrisIndices
from ._morris_design import (
    morris_sample as morris_sample,
    morris_trajectories as morris_trajectories,
    select_trajectories_brute as select_trajectories_brute,
    select_trajectories_local as select_trajectories_local,
    trajectory_distances as trajectory_distances,
)
from ._fast import (
    fast_analyze as fast_analyze,
    fast_curves as fast_curves,
    fast_frequencies as fast_frequencies,
    fast_sample as fast_sample,
    FASTIndices as FASTIndices,
)
from ._sampling import saltelli_sample as saltelli_sample, sobol_sequence as sobol_sequence
from ._evaluate import evaluate_samples as evaluate_samples
from ._sobol_mc import (
    saltelli_indices as saltelli_indices,
    SaltelliIndices as SaltelliIndices,
    sobol_analysis as sobol_analysis,
)
