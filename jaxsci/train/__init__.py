"""jaxsci.train: one training loop (`fit`), its trainers, callbacks and stops, LSGD, and
trajectory recording. See docs/training.md."""

from ._loop import (  # one training loop
    fit as fit,
    layer_gradient_norms as layer_gradient_norms,
    make_step as make_step,
)
from ._trainers import (  # trainers of fit
    AbstractTrainer as AbstractTrainer,
    Optax as Optax,
    Optimistix as Optimistix,
)
from ._armijo_fit import (  # Algorithm 6 as a trainer of fit
    fit_sgd_armijo as fit_sgd_armijo,
    PerExampleLoss as PerExampleLoss,
    StochasticArmijo as StochasticArmijo,
)
from ._callbacks import (  # callbacks and stops of fit
    AbstractCallback as AbstractCallback,
    AbstractStop as AbstractStop,
    LossWeights as LossWeights,
    ModifyModel as ModifyModel,
    Record as Record,
    TargetLoss as TargetLoss,
    UpdateArgs as UpdateArgs,
    ValidationPatience as ValidationPatience,
)
from ._lsgd_terms import (  # LSGD loss terms
    AbstractBasisOperator as AbstractBasisOperator,
    IdentityOperator as IdentityOperator,
    LinearCombination as LinearCombination,
    LSTerm as LSTerm,
    PartialDerivative as PartialDerivative,
)
from ._lsgd_solve import (  # LS step
    basis_losses as basis_losses,
    basis_matrices as basis_matrices,
    least_squares_head as least_squares_head,
    weighted_loss as weighted_loss,
)
from ._lsgd import (  # LSGD Algorithms 1-2
    hidden_parameters as hidden_parameters,
    joint_gd as joint_gd,
    LSGD as LSGD,
    lsgd as lsgd,
    lsgd_loss as lsgd_loss,
    lsgd_step as lsgd_step,
    two_phase_lsgd as two_phase_lsgd,
)
from ._trajectory import (  # trajectory recording
    from_per_layer as from_per_layer,
    from_per_neuron as from_per_neuron,
    optax_step as optax_step,
    per_layer as per_layer,
    per_neuron as per_neuron,
    record_trajectories as record_trajectories,
    record_trajectory as record_trajectory,
    Trajectory as Trajectory,
)
