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
