"""jaxsci.train"""
from ._loop import (  # noqa: E402  (one training loop)
    fit as fit,
    layer_gradient_norms as layer_gradient_norms,
    make_step as make_step,
)
from ._trainers import (  # noqa: E402  (trainers of fit)
    AbstractTrainer as AbstractTrainer,
    Optax as Optax,
    Optimistix as Optimistix,
)
from ._armijo_fit import (  # noqa: E402  (Algorithm 6 as a trainer of fit)
    fit_sgd_armijo as fit_sgd_armijo,
    PerExampleLoss as PerExampleLoss,
    StochasticArmijo as StochasticArmijo,
)
from ._callbacks import (  # noqa: E402  (callbacks and stops of fit)
    AbstractCallback as AbstractCallback,
    AbstractStop as AbstractStop,
    LossWeights as LossWeights,
    ModifyModel as ModifyModel,
    Record as Record,
    TargetLoss as TargetLoss,
    UpdateArgs as UpdateArgs,
    ValidationPatience as ValidationPatience,
)
from ._linesearch import (  # noqa: E402  (full-batch line searches, issue 9)
    armijo_linesearch as armijo_linesearch,
    exact_linesearch as exact_linesearch,
    goldstein_linesearch as goldstein_linesearch,
    LineSearchState as LineSearchState,
    wolfe_linesearch as wolfe_linesearch,
)
from ._sgd import (  # noqa: E402  (momentum / Nesterov / Algorithm 4, issue 9)
    epoch_minibatches as epoch_minibatches,
    fluctuation_factor as fluctuation_factor,
    heavy_ball_coefficients as heavy_ball_coefficients,
    MomentumState as MomentumState,
    sgd_momentum as sgd_momentum,
)
from ._schedules import (  # noqa: E402  (step tuning, decay, annealing, issue 9)
    batch_size_schedule as batch_size_schedule,
    cosine_annealing as cosine_annealing,
    equivalent_batch_size as equivalent_batch_size,
    inverse_decay_schedule as inverse_decay_schedule,
    scale_by_stagnation_decay as scale_by_stagnation_decay,
    tune_initial_step as tune_initial_step,
)
from ._adaptive import (  # noqa: E402  (unified adaptive Algorithm 5, issue 9)
    AbstractSecondMoment as AbstractSecondMoment,
    adamx as adamx,
    ExponentialAverage as ExponentialAverage,
    nostalgic_adam as nostalgic_adam,
    NostalgicAverage as NostalgicAverage,
    SumOfSquares as SumOfSquares,
    unified_adaptive as unified_adaptive,
)
from ._stochastic import (  # noqa: E402  (SGD + stochastic Armijo, Algorithm 6, issue 9)
    norm_test_batch_size as norm_test_batch_size,
    stochastic_armijo as stochastic_armijo,
)
from ._newton import (  # noqa: E402  (Newton, stochastic Newton Algorithm 7, issue 9)
    hessian_matrix as hessian_matrix,
    newton_direction as newton_direction,
    stochastic_newton as stochastic_newton,
)
from ._lsgd_terms import (  # noqa: E402  (LSGD loss terms, issue 4)
    AbstractBasisOperator as AbstractBasisOperator,
    IdentityOperator as IdentityOperator,
    LinearCombination as LinearCombination,
    LSTerm as LSTerm,
    PartialDerivative as PartialDerivative,
)
from ._lsgd_solve import (  # noqa: E402  (LS step, issue 4)
    basis_losses as basis_losses,
    basis_matrices as basis_matrices,
    least_squares_head as least_squares_head,
    weighted_loss as weighted_loss,
)
from ._lsgd import (  # noqa: E402  (LSGD Algorithms 1-2, issue 4)
    hidden_parameters as hidden_parameters,
    joint_gd as joint_gd,
    LSGD as LSGD,
    lsgd as lsgd,
    lsgd_loss as lsgd_loss,
    lsgd_step as lsgd_step,
    two_phase_lsgd as two_phase_lsgd,
)
from ._trajectory import (  # noqa: E402  (trajectory recording, issue 8)
    from_per_layer as from_per_layer,
    from_per_neuron as from_per_neuron,
    optax_step as optax_step,
    per_layer as per_layer,
    per_neuron as per_neuron,
    record_trajectories as record_trajectories,
    record_trajectory as record_trajectory,
    Trajectory as Trajectory,
)
