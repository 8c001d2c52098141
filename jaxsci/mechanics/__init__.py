"""jaxsci.mechanics: tensor kinematics, hyperelastic materials and tensor-basis GPs.

Implements Frankel et al. (first seed paper), sections 4-7 (transverse isotropy: section 7,
eqs. 44-45). See docs/mechanics.md.

Naming: the isotropic family works on the Finger tensor $B$ and Cauchy stress `sigma`
(`invariants(B)`, `tensor_basis(B)`, `expand(c, B)`, `extract_coefficients(B, sigma)`,
`cauchy_stress(energy, B)`, `fit_tbgp(Bs, sigmas)`); the transversely isotropic family
carries `transverse_` (`Transverse` for classes) and works on the right Cauchy-Green tensor
$C$, the fibre direction $g$ and the second Piola-Kirchhoff stress `S`, in the same argument
order (`transverse_invariants(C, g)`, `transverse_tensor_basis(C, g)`,
`transverse_expand(c, C, g)`, `transverse_extract_coefficients(C, g, S)`,
`transverse_pk2_stress(energy, C, g)`, `fit_transverse_tbgp(Cs, gs, Ss)`). Every fitted
model returns `(mean, var)` of the stress; every fit returns a `jaxsci.Solution` of a model.

Hexahedral quadrature (Oishi & Yagawa 2017, review section 2.3.1; docs/quadrature.md):
Gauss-Legendre rules, the trilinear hexahedron, linear-elastic element stiffness with
corrected weights, the error of eq. 401 / 402 and the Method 1 / Method 2 training labels.
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
    cauchy_stress as cauchy_stress,
    cauchy_stress_closed_form as cauchy_stress_closed_form,
    MooneyRivlin as MooneyRivlin,
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
    FibreReinforcedMooneyRivlin as FibreReinforcedMooneyRivlin,
    structure_tensor as structure_tensor,
    transverse_coefficients_from_energy_gradient as transverse_coefficients_from_energy_gradient,
    transverse_expand as transverse_expand,
    transverse_extract_coefficients as transverse_extract_coefficients,
    transverse_invariants as transverse_invariants,
    transverse_pk2_stress as transverse_pk2_stress,
    transverse_pk2_stress_closed_form as transverse_pk2_stress_closed_form,
    transverse_tensor_basis as transverse_tensor_basis,
)
from ._transverse_gp import (
    fit_transverse_component_gp as fit_transverse_component_gp,
    fit_transverse_tbgp as fit_transverse_tbgp,
    sample_fibre_direction as sample_fibre_direction,
    sample_transverse_deformation as sample_transverse_deformation,
    sample_transverse_deformations as sample_transverse_deformations,
    transverse_stress_rmse as transverse_stress_rmse,
    transverse_stress_rmse_trials as transverse_stress_rmse_trials,
    TransverseComponentGP as TransverseComponentGP,
    TransverseTensorBasisGP as TransverseTensorBasisGP,
)
from ._hexahedron import (
    element_stiffness as element_stiffness,
    element_stiffnesses as element_stiffnesses,
    error_ratio as error_ratio,
    gauss_legendre as gauss_legendre,
    hex_jacobian as hex_jacobian,
    hex_shape_derivatives as hex_shape_derivatives,
    hex_shape_functions as hex_shape_functions,
    IsotropicElasticity as IsotropicElasticity,
    point_stiffnesses as point_stiffnesses,
    quadrature_error as quadrature_error,
    tensor_gauss_legendre as tensor_gauss_legendre,
)
from ._quadrature import (
    distorted_hexahedra as distorted_hexahedra,
    minimum_order as minimum_order,
    normalised_coordinates as normalised_coordinates,
    quadrature_errors as quadrature_errors,
    search_correction_factors as search_correction_factors,
)
from ._study import (
    stress_rmse as stress_rmse,
    stress_rmse_trials as stress_rmse_trials,
)
# elastoplasticity (return mapping), loading paths and the elastica beam (issue 18, "plast")
from ._loading_paths import (
    cyclic_strain_path as cyclic_strain_path,
    random_strain_path as random_strain_path,
)
from ._plasticity import (
    consistent_tangent as consistent_tangent,
    initial_state as initial_state,
    J2Plasticity as J2Plasticity,
    PlasticState as PlasticState,
    Plasticity1D as Plasticity1D,
    return_map as return_map,
    stress_path as stress_path,
    yield_function as yield_function,
)
from ._elastica import (
    cantilever_shape as cantilever_shape,
    Elastica as Elastica,
    point_cantilever as point_cantilever,
    solve_cantilever as solve_cantilever,
)
