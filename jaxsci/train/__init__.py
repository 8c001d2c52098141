"""jaxsci.train"""
from ._loop import (  # noqa: E402  (full-batch training loop, issue 5)
    fit as fit,
    FitResult as FitResult,
    layer_gradient_norms as layer_gradient_norms,
    make_step as make_step,
)
from ._stochastic import (  # noqa: E402  (SGD + stochastic Armijo, Algorithm 6, issue 9)
    fit_sgd_armijo as fit_sgd_armijo,
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
    lsgd as lsgd,
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
