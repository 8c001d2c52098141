"""jaxsci.mechanics: tensor kinematics, hyperelastic materials and tensor-basis GPs.

Implements Frankel et al. (first seed paper), sections 4-7 (transverse isotropy: section 7,
eqs. 44-45). See docs/mechanics.md.
"""

from ._coefficients import (
    coefficients_from_eigenvalues as coefficients_from_eigenvalues,
    extract_coefficients as extract_coefficients,
    isotropic_function as isotropic_function,
)
from ._kinematics import (
    expand as expand,
    invariants as invariants,
    require_spd as require_spd,
    sym_to_vec as sym_to_vec,
    tensor_basis as tensor_basis,
    vec_to_sym as vec_to_sym,
)
from ._materials import (
    coefficients_from_energy_gradient as coefficients_from_energy_gradient,
    energy_gradient_from_coefficients as energy_gradient_from_coefficients,
    MooneyRivlin as MooneyRivlin,
    stress as stress,
    stress_closed_form as stress_closed_form,
)
from ._potential import (
    energy_gradient_data as energy_gradient_data,
    fit_strain_energy_gp as fit_strain_energy_gp,
    GROUND_INVARIANTS as GROUND_INVARIANTS,
    StrainEnergyGP as StrainEnergyGP,
)
from ._sampling import (
    sample_finger_tensor as sample_finger_tensor,
    sample_finger_tensors as sample_finger_tensors,
    sample_rotation as sample_rotation,
    sample_symmetric_uniform as sample_symmetric_uniform,
)
from ._tbgp import (
    ComponentGP as ComponentGP,
    fit_component_gp as fit_component_gp,
    fit_tbgp as fit_tbgp,
    TensorBasisGP as TensorBasisGP,
)
from ._transverse import (
    extract_transverse_coefficients as extract_transverse_coefficients,
    FibreReinforcedMooneyRivlin as FibreReinforcedMooneyRivlin,
    fit_transverse_component_gp as fit_transverse_component_gp,
    fit_transverse_tbgp as fit_transverse_tbgp,
    sample_fibre_direction as sample_fibre_direction,
    sample_transverse_deformation as sample_transverse_deformation,
    sample_transverse_deformations as sample_transverse_deformations,
    structure_tensor as structure_tensor,
    transverse_coefficients_from_energy_gradient as transverse_coefficients_from_energy_gradient,
    transverse_expand as transverse_expand,
    transverse_invariants as transverse_invariants,
    transverse_stress as transverse_stress,
    transverse_stress_closed_form as transverse_stress_closed_form,
    transverse_stress_rmse as transverse_stress_rmse,
    transverse_stress_rmse_trials as transverse_stress_rmse_trials,
    transverse_tensor_basis as transverse_tensor_basis,
    TransverseComponentGP as TransverseComponentGP,
    TransverseTensorBasisGP as TransverseTensorBasisGP,
)
from ._study import (
    predict_stress as predict_stress,
    stress_rmse as stress_rmse,
    stress_rmse_trials as stress_rmse_trials,
)
