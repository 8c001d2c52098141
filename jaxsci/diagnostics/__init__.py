"""jaxsci.diagnostics: dead / active ReLU neurons and trainability (Shin & Karniadakis 2020)."""

from ._states import (
    ACTIVE as ACTIVE,
    PERMANENT as PERMANENT,
    TENTATIVE as TENTATIVE,
    first_layer_dead as first_layer_dead,
    hidden_params as hidden_params,
    neuron_states as neuron_states,
    neuron_states_1d as neuron_states_1d,
    neuron_states_sampled as neuron_states_sampled,
    permanently_dead as permanently_dead,
    sample_ball as sample_ball,
    state_counts as state_counts,
)
from ._sweep import (
    active_distribution as active_distribution,
    born_dead_fraction as born_dead_fraction,
    empirical_trainability as empirical_trainability,
    init_statistics as init_statistics,
    transition_matrix as transition_matrix,
)
from ._theory import (
    born_dead_probability as born_dead_probability,
    born_dead_probability_bounds as born_dead_probability_bounds,
    corollary1_bound as corollary1_bound,
    expected_active as expected_active,
    expected_active_lower_bound as expected_active_lower_bound,
    first_layer_active_distribution as first_layer_active_distribution,
    second_layer_transition as second_layer_transition,
    theorem2_condition as theorem2_condition,
    trainability_depth3 as trainability_depth3,
    trainability_shallow as trainability_shallow,
)
