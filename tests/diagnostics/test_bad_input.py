"""Bad input to jaxsci.diagnostics is refused clearly (DESIGN rule 6)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from jaxsci.diagnostics import (
    active_distribution,
    born_dead_fraction,
    born_dead_probability,
    born_dead_probability_bounds,
    corollary1_bound,
    empirical_trainability,
    expected_active,
    expected_active_lower_bound,
    first_layer_active_distribution,
    first_layer_dead,
    hidden_params,
    init_statistics,
    neuron_states,
    neuron_states_1d,
    neuron_states_sampled,
    permanently_dead,
    sample_ball,
    second_layer_transition,
    state_counts,
    theorem2_condition,
    trainability_depth3,
    trainability_shallow,
    transition_matrix,
)
from jaxsci.init import NormalInit, UnitHypersphereInit as UH
from jaxsci.testing import assert_refuses, with_nonfinite

MLP1 = eqx.nn.MLP(1, 1, 3, 2, activation=jax.nn.relu, key=jax.random.key(0))
MLP2 = eqx.nn.MLP(2, 1, 3, 1, activation=jax.nn.relu, key=jax.random.key(0))
P1 = hidden_params(MLP1)
P2 = hidden_params(MLP2)
XB = sample_ball(jax.random.key(1), 8, 2, 1.0)
COUNTS = np.array([[[3, 0, 0], [1, 1, 0]], [[2, 0, 1], [0, 2, 0]]], np.int32)  # widths (1, 3, 2)
NAN = float("nan")
NANP1 = [(w.at[0, 0].set(NAN), b) for w, b in P1]

CASES = [
    # the case: counts outside 0..n summed to 0.33 silently
    ("active_distribution range", lambda: active_distribution(jnp.array([0, 7, 9]), 4), ValueError, "`active`.*0..4"),
    ("active_distribution negative", lambda: active_distribution(np.array([-1, 2]), 3), ValueError, "`active`"),
    ("active_distribution n", lambda: active_distribution(np.array([0]), -1), ValueError, "`n`"),
    ("active_distribution empty", lambda: active_distribution(np.array([], int), 3), ValueError, "`active`.*non-empty"),
    ("active_distribution float", lambda: active_distribution(np.array([1.5]), 3), TypeError, "`active`"),
    ("active_distribution rank", lambda: active_distribution(np.zeros((2, 2), int), 3), ValueError, "`active`"),
    ("transition_matrix range", lambda: transition_matrix(np.array([0, 5]), np.array([1, 1]), 3, 3), ValueError, "`prev`"),
    ("transition_matrix negative", lambda: transition_matrix(np.array([0, 1]), np.array([-1, 1]), 3, 3), ValueError, "`cur`"),
    ("transition_matrix length", lambda: transition_matrix(np.array([0, 1]), np.array([1]), 3, 3), ValueError, "`prev` and `cur`"),
    ("transition_matrix empty", lambda: transition_matrix(np.array([], int), np.array([], int), 3, 3), ValueError, "`prev`"),
    # radius r: negative, zero, NaN (the issue: neuron_states accepted r < 0 and NaN)
    ("neuron_states r<0", lambda: neuron_states(MLP1, r=-1.0), ValueError, "`r`"),
    ("neuron_states r nan", lambda: neuron_states(MLP1, r=NAN), ValueError, "`r`"),
    ("neuron_states_1d r=0", lambda: neuron_states_1d(P1, 0.0), ValueError, "`r`"),
    ("neuron_states_sampled r", lambda: neuron_states_sampled(P2, XB, -2.0), ValueError, "`r`"),
    ("first_layer_dead r", lambda: first_layer_dead(*P1[0], np.inf), ValueError, "`r`"),
    ("sample_ball r", lambda: sample_ball(jax.random.key(0), 3, 2, 0.0), ValueError, "`r`"),
    ("init_statistics r", lambda: init_statistics(jax.random.key(0), (1, 3), UH(with_bias=True), num=4, r=-1.0), ValueError, "`r`"),
    ("born_dead_probability r", lambda: born_dead_probability(2, -1.0), ValueError, "`r`"),
    ("born_dead_probability_bounds r", lambda: born_dead_probability_bounds(2, NAN), ValueError, "`r`"),
    ("expected_active r", lambda: expected_active(3, 1, -1.0), ValueError, "`r`"),
    ("trainability_depth3 r", lambda: trainability_depth3(UH(), NormalInit(), 2, 2, 1, 1, -1.0), ValueError, "`r`"),
    # NaN weights / points
    ("neuron_states nan weights", lambda: neuron_states(eqx.tree_at(lambda m: m.layers[0].bias, MLP1, MLP1.layers[0].bias.at[0].set(NAN))), ValueError, "`params`.*NaN"),
    ("neuron_states_1d nan", lambda: neuron_states_1d(NANP1, 1.0), ValueError, "`params`"),
    ("first_layer_dead nan", lambda: first_layer_dead(P1[0][0] * NAN, P1[0][1], 1.0), ValueError, "NaN"),
    ("permanently_dead nan", lambda: permanently_dead(P1[1][0] * NAN, P1[1][1]), ValueError, "NaN"),
    ("neuron_states_sampled x nan", lambda: neuron_states_sampled(P2, XB.at[0, 0].set(NAN), 1.0), ValueError, "`x`"),
    # out of domain: sample points outside the ball
    ("neuron_states x outside", lambda: neuron_states(MLP2, r=1.0, x=jnp.array([[2.0, 0.0]])), ValueError, "`x`.*B_r"),
    ("init_statistics x outside", lambda: init_statistics(jax.random.key(0), (2, 3), UH(with_bias=True), num=4, x=jnp.array([[3.0, 0.0]])), ValueError, "`x`"),
    # wrong shape / rank
    ("neuron_states_sampled x shape", lambda: neuron_states_sampled(P2, XB[:, :1], 1.0), ValueError, "`x`"),
    ("neuron_states_1d d_in", lambda: neuron_states_1d(P2, 1.0), ValueError, "d_in = 1"),
    ("neuron_states_1d params", lambda: neuron_states_1d([(P1[0][0], P1[0][1][:2])], 1.0), ValueError, "`params\\[0\\]`"),
    ("first_layer_dead shape", lambda: first_layer_dead(jnp.ones((3, 1)), jnp.ones(2), 1.0), ValueError, "`w`"),
    ("permanently_dead shape", lambda: permanently_dead(jnp.ones(3), jnp.ones(3)), ValueError, "`w`"),
    ("state_counts float", lambda: state_counts([jnp.ones(3)]), TypeError, "`states\\[0\\]`"),
    ("state_counts batch", lambda: state_counts([jnp.zeros((3, 2), int), jnp.zeros((2, 3), int)]), ValueError, "`states\\[1\\]`"),
    ("init_statistics x shape", lambda: init_statistics(jax.random.key(0), (2, 3), UH(with_bias=True), num=4, x=jnp.zeros((1, 3))), ValueError, "`x`"),
    ("empirical_trainability widths", lambda: empirical_trainability(COUNTS, (1, 4, 2), (1, 1)), ValueError, "`counts`.*widths"),
    ("empirical_trainability m", lambda: empirical_trainability(COUNTS, (1, 3, 2), (1,)), ValueError, "`m`"),
    ("born_dead_fraction shape", lambda: born_dead_fraction(COUNTS[..., :2]), ValueError, "`counts`"),
    ("hidden_params", lambda: hidden_params(3), ValueError, "`model`"),
    # empty
    ("neuron_states_1d empty", lambda: neuron_states_1d([], 1.0), ValueError, "`params`"),
    ("neuron_states_sampled no points", lambda: neuron_states_sampled(P2, XB[:0], 1.0), ValueError, "`x`"),
    ("state_counts empty", lambda: state_counts([]), ValueError, "`states`"),
    ("empirical_trainability empty", lambda: empirical_trainability(COUNTS[:0], (1, 3, 2), (1, 1)), ValueError, "`counts`"),
    ("born_dead_fraction empty", lambda: born_dead_fraction(COUNTS[:0]), ValueError, "`counts`"),
    ("init_statistics num", lambda: init_statistics(jax.random.key(0), (1, 3), UH(with_bias=True), num=0), ValueError, "`num`"),
    ("sample_ball num", lambda: sample_ball(jax.random.key(0), -1, 2, 1.0), ValueError, "`num`"),
    # invalid widths / depths / counts / probabilities (n=-1 gave an MLIRError)
    ("init_statistics widths", lambda: init_statistics(jax.random.key(0), (1, 0), UH(with_bias=True), num=4), ValueError, "`widths`"),
    ("init_statistics widths float", lambda: init_statistics(jax.random.key(0), (1, 2.5), UH(with_bias=True), num=4), ValueError, "`widths`"),
    ("sample_ball d", lambda: sample_ball(jax.random.key(0), 3, 0, 1.0), ValueError, "`d`"),
    ("empirical_trainability m range", lambda: empirical_trainability(COUNTS, (1, 3, 2), (1, 5)), ValueError, "`m`"),
    ("born_dead_probability d", lambda: born_dead_probability(0, 1.0), ValueError, "`d`"),
    ("born_dead_probability d float", lambda: born_dead_probability(1.5, 1.0), ValueError, "`d`"),
    ("first_layer_active_distribution n", lambda: first_layer_active_distribution(-1, 1, 1.0), ValueError, "`n`"),
    ("first_layer_active_distribution no bias", lambda: first_layer_active_distribution(-1, 1, 1.0, with_bias=False), ValueError, "`n`"),
    ("trainability_shallow n", lambda: trainability_shallow(-1, 0, 1, 1.0), ValueError, "`n`"),
    ("trainability_shallow m", lambda: trainability_shallow(2, 3, 1, 1.0), ValueError, "m <= n"),
    ("expected_active_lower_bound n", lambda: expected_active_lower_bound(-3, 1, 1.0), ValueError, "`n`"),
    ("theorem2_condition delta", lambda: theorem2_condition(3, 1, 1.0, 1.5), ValueError, "`delta`"),
    ("theorem2_condition m", lambda: theorem2_condition(0, 1, 1.0, 0.5), ValueError, "`m`"),
    ("corollary1_bound n", lambda: corollary1_bound(0, 2), ValueError, "`n`"),
    ("corollary1_bound layers", lambda: corollary1_bound(3, -1), ValueError, "`hidden_layers`"),
    ("second_layer_transition n1", lambda: second_layer_transition(UH(), UH(), -1, 2, 1.0), ValueError, "`n1`"),
    ("second_layer_transition scheme", lambda: second_layer_transition(3, UH(), 1, 2, 1.0), TypeError, "`first`"),
    ("trainability_depth3 p", lambda: trainability_depth3(UH(), NormalInit(), 2, 2, 1, 1, 1.0, permanent_probability=2.0), ValueError, "`permanent_probability`"),
    ("trainability_depth3 m", lambda: trainability_depth3(UH(), NormalInit(), 2, 2, 3, 1, 1.0), ValueError, "m1"),
    ("born_dead_fraction traced", lambda: jax.jit(born_dead_fraction)(jnp.asarray(COUNTS)), TypeError, "`counts`.*concrete"),
]


@pytest.mark.parametrize("name, fn, exc, match", CASES, ids=[c[0] for c in CASES])
def test_refused(name, fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_value_checks_under_jit_and_vmap():
    ad = jax.jit(lambda a: active_distribution(a, 4))
    assert_refuses(lambda: ad(jnp.array([0, 7, 9])))
    assert_refuses(lambda: eqx.filter_jit(lambda a: active_distribution(a, 4))(jnp.array([0, -1])),
                   match="`active`")
    pi, _ = ad(jnp.array([0, 3, 4, 4]))
    np.testing.assert_allclose(pi, active_distribution(np.array([0, 3, 4, 4]), 4)[0])
    np.testing.assert_allclose(np.sum(pi), 1.0)
    tm = eqx.filter_jit(lambda a, b: transition_matrix(a, b, 2, 2))
    assert_refuses(lambda: tm(jnp.array([0, 1]), jnp.array([3, 1])), match="`cur`")
    ns = eqx.filter_jit(lambda r: neuron_states_1d(P1, r))
    assert_refuses(lambda: ns(jnp.asarray(-1.0)), match="`r`")
    assert_refuses(lambda: jax.vmap(ns)(jnp.array([1.0, jnp.nan])), match="`r`")
    assert_refuses(lambda: eqx.filter_jit(neuron_states_1d)(NANP1, 1.0), match="`params`")
    bdp = eqx.filter_jit(lambda r: born_dead_probability(2, r))
    assert_refuses(lambda: jax.vmap(bdp)(jnp.array([1.0, -1.0])), match="`r`")
    np.testing.assert_allclose(bdp(jnp.asarray(1.0)), born_dead_probability(2, 1.0))


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_hypothesis_bad_inputs_refused(data):
    kind = data.draw(st.sampled_from(["counts", "weights", "points"]))
    if kind == "counts":
        n = data.draw(st.integers(0, 5))
        a = np.array(data.draw(st.lists(st.integers(0, n), min_size=1, max_size=6)))
        a[data.draw(st.integers(0, a.size - 1))] = data.draw(
            st.one_of(st.integers(-5, -1), st.integers(n + 1, n + 5))
        )
        assert_refuses(lambda: active_distribution(a, n), match="`active`")
    elif kind == "weights":
        w = data.draw(with_nonfinite(np.asarray(P1[1][0])))
        assert_refuses(lambda: neuron_states_1d([P1[0], (jnp.asarray(w), P1[1][1])], 1.0),
                       match="`params`")
    else:
        x = data.draw(with_nonfinite(np.asarray(XB), max_count=2))
        assert_refuses(lambda: neuron_states_sampled(P2, jnp.asarray(x), 1.0), match="`x`")
