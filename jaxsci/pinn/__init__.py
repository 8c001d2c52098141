"""jaxsci.pinn: pointwise differential operators, PDE problems, exact Riemann solutions,
collocation sampling, named-term losses with adaptive weighting, loss-landscape slices."""

from ._flux import (
    AbstractFlux as AbstractFlux,
    BrooksCoreyFlux as BrooksCoreyFlux,
    BurgersFlux as BurgersFlux,
    ConcaveFlux as ConcaveFlux,
    ConvexFlux as ConvexFlux,
)
from ._landscape import (
    filter_normalized_direction as filter_normalized_direction,
    loss_surface as loss_surface,
    plot_loss_surface as plot_loss_surface,
)
from ._loss import (
    balance_weights as balance_weights,
    Collocation as Collocation,
    eq16_weights as eq16_weights,
    loss_terms as loss_terms,
    pinn_loss as pinn_loss,
    PINNArgs as PINNArgs,
    resample as resample,
    residuals as residuals,
    sample_collocation as sample_collocation,
    weighted_sum as weighted_sum,
)
from ._operators import (
    derivatives_1d as derivatives_1d,
    directional_derivative as directional_derivative,
    divergence as divergence,
    gradient as gradient,
    hessian as hessian,
    laplacian as laplacian,
    partial as partial,
    second_directional_derivative as second_directional_derivative,
    time_derivative as time_derivative,
)
from ._poisson_boltzmann import (
    HardConstraintModel as HardConstraintModel,
    PoissonBoltzmann as PoissonBoltzmann,
)
from ._problems import (
    AbstractPDEProblem as AbstractPDEProblem,
    AbstractSpaceTime1DProblem as AbstractSpaceTime1DProblem,
    LinearAdvection as LinearAdvection,
    RiemannProblem as RiemannProblem,
    ViscousBurgers as ViscousBurgers,
)
from ._taylor import (
    batch_derivatives_1d as batch_derivatives_1d,
    mlp_derivatives_1d as mlp_derivatives_1d,
    taylor_derivatives as taylor_derivatives,
)
from ._riemann import RiemannSolution as RiemannSolution, welge_tangent as welge_tangent
from ._sampling import (
    AbstractSampler as AbstractSampler,
    Box as Box,
    LatinHypercube as LatinHypercube,
    Sobol as Sobol,
    sobol_sequence as sobol_sequence,
    Uniform as Uniform,
)
# nPBE reference solver and molecule-like problems (issue 20)
from ._pbe_molecule import (
    MolecularPoissonBoltzmann as MolecularPoissonBoltzmann,
    RigidMotionPoissonBoltzmann as RigidMotionPoissonBoltzmann,
    rotation_matrix as rotation_matrix,
)
from ._pbe_reference import (
    debye_huckel_gaussian as debye_huckel_gaussian,
    node_grid as node_grid,
    solve_pbe as solve_pbe,
    solve_pbe_grid as solve_pbe_grid,
)

# issue 19 (helper pinnt): benchmark problems, references, training techniques
from ._benchmark_problems import (
    AllenCahn as AllenCahn,
    PeriodicAdvection as PeriodicAdvection,
)
from ._reference import (
    allen_cahn_reference as allen_cahn_reference,
    reference_grid as reference_grid,
)
from ._embeddings import (
    EmbeddedModel as EmbeddedModel,
    FourierFeatures as FourierFeatures,
    PeriodicEmbedding as PeriodicEmbedding,
)
from ._rwf import (
    FactorizedLinear as FactorizedLinear,
    random_weight_factorization as random_weight_factorization,
)
from ._weights import (
    grad_norm_weights as grad_norm_weights,
    ntk_traces as ntk_traces,
    ntk_weights as ntk_weights,
)
from ._causal import (
    causal_pinn_loss as causal_pinn_loss,
    causal_residual_loss as causal_residual_loss,
    causal_weights as causal_weights,
)
from ._adaptive import (
    rad_probabilities as rad_probabilities,
    rad_resample as rad_resample,
    rar_refine as rar_refine,
)
from ._distance import (
    BoxDistance as BoxDistance,
    DistanceConstrainedModel as DistanceConstrainedModel,
)
