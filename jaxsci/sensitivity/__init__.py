"""jaxsci.sensitivity: sampling-based global sensitivity analysis (see docs/sensitivity.md).

Monte-Carlo Sobol indices (Saltelli sampling on a scrambled Sobol' sequence; Saltelli-2010,
Jansen and second-order estimators; bootstrap confidence intervals), Morris elementary
effects and FAST / eFAST, for models with many outputs at once, vmapped, chunked and
shardable. Sobol indices from polynomial-chaos coefficients live in `jaxsci.surrogates`.
"""
