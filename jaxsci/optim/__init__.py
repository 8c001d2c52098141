"""jaxsci.optim: the optimisers of Vu-Quoc & Humer (2023), Sections 6.2-6.7, as optax
transformations (line searches, momentum, schedules, adaptive methods, Newton, stochastic
Armijo). Each one composes with `optax.chain`; `jaxsci.train` runs them."""

from ._linesearch import (
    armijo_linesearch as armijo_linesearch,
    exact_linesearch as exact_linesearch,
    goldstein_linesearch as goldstein_linesearch,
    LineSearchState as LineSearchState,
    wolfe_linesearch as wolfe_linesearch,
)
from ._sgd import (
    epoch_minibatches as epoch_minibatches,
    fluctuation_factor as fluctuation_factor,
    heavy_ball_coefficients as heavy_ball_coefficients,
    MomentumState as MomentumState,
    sgd_momentum as sgd_momentum,
)
from ._schedules import (
    batch_size_schedule as batch_size_schedule,
    cosine_annealing as cosine_annealing,
    equivalent_batch_size as equivalent_batch_size,
    inverse_decay_schedule as inverse_decay_schedule,
    scale_by_stagnation_decay as scale_by_stagnation_decay,
    StagnationDecayState as StagnationDecayState,
    tune_initial_step as tune_initial_step,
)
from ._adaptive import (
    AbstractSecondMoment as AbstractSecondMoment,
    adamx as adamx,
    AdaptiveState as AdaptiveState,
    ExponentialAverage as ExponentialAverage,
    nostalgic_adam as nostalgic_adam,
    NostalgicAverage as NostalgicAverage,
    SumOfSquares as SumOfSquares,
    unified_adaptive as unified_adaptive,
)
from ._stochastic import (
    norm_test_batch_size as norm_test_batch_size,
    stochastic_armijo as stochastic_armijo,
    StochasticArmijoState as StochasticArmijoState,
)
from ._newton import (
    hessian_matrix as hessian_matrix,
    newton_direction as newton_direction,
    NewtonState as NewtonState,
    stochastic_newton as stochastic_newton,
)
