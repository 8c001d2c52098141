import math

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from scipy import integrate, special, stats
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
    init_statistics,
    sample_ball,
    second_layer_transition,
    theorem2_condition,
    trainability_depth3,
    trainability_shallow,
    transition_matrix,
)
from jaxsci.init import NormalInit, UnitHypersphereInit

UH, NI = UnitHypersphereInit, NormalInit
N_MC = 20000


@pytest.mark.parametrize("d", [1, 2, 3, 7])
@pytest.mark.parametrize("r", [0.3, 1.0, 2.5])
def test_p_hat_against_quadrature(d, r):
    a = math.atan(1 / r)
    quad = integrate.quad(lambda u: math.sin(u) ** (d - 1), 0, a)[0]
    ref = quad * special.gamma((d + 1) / 2) / (math.sqrt(math.pi) * special.gamma(d / 2))
    p = float(born_dead_probability(d, r))
    np.testing.assert_allclose(p, ref, rtol=1e-10)
    lo, hi = born_dead_probability_bounds(d, r)
    assert lo <= p <= hi and p < 0.5
    assert expected_active_lower_bound(10, d, r) <= expected_active(10, d, r)


def test_shallow_trainability_and_width2_claim():
    p = math.atan(1.0) / math.pi  # d = 1, r = 1
    np.testing.assert_allclose(born_dead_probability(1, 1.0), 0.25, rtol=1e-12)
    for n, m in [(2, 2), (5, 3), (20, 4)]:
        np.testing.assert_allclose(
            trainability_shallow(n, m, 1, 1.0), stats.binom(n, 1 - p).sf(m - 1), rtol=1e-10
        )
    # section 1: a width-2 network fails with probability >= 0.43
    assert 1 - float(trainability_shallow(2, 2, 1, 1.0)) >= 0.43
    with pytest.raises(ValueError):
        trainability_shallow(2, 3, 1, 1.0)
    jax.jit(born_dead_probability, static_argnums=0)(2, 1.0)
    g = jax.grad(lambda r: born_dead_probability(3, r))(1.0)
    fd = (born_dead_probability(3, 1.0 + 1e-6) - born_dead_probability(3, 1.0 - 1e-6)) / 2e-6
    np.testing.assert_allclose(g, fd, rtol=1e-6)


@given(st.integers(1, 50), st.integers(1, 6), st.floats(0.2, 5.0), st.floats(0.01, 0.9))
def test_theorem2_condition_implies_low_trainability(m, d, r, delta):
    if bool(theorem2_condition(m, d, r, delta)):
        assert (1 - float(born_dead_probability(d, r))) ** m < 1 - delta


def _within_3se(emp, se, theory):
    assert np.all(np.abs(emp - theory) <= 3 * se + 1e-12), (emp, theory, se)


def test_first_layer_distribution_monte_carlo(key):
    c = init_statistics(key, (1, 6), NI(with_bias=True), num=N_MC)
    pi, se = active_distribution(c[:, 0, 0], 6)
    _within_3se(pi, se, np.asarray(first_layer_active_distribution(6, 1, 1.0)))
    # d = 2 with the lift-free ball of radius 0.5, sampled classification (exact in layer 1)
    x = sample_ball(key, 64, 2, 0.5)
    c = init_statistics(key, (2, 5), UH(with_bias=True), num=N_MC, r=0.5, x=x)
    pi, se = active_distribution(c[:, 0, 0], 5)
    _within_3se(pi, se, np.asarray(first_layer_active_distribution(5, 2, 0.5)))


CASES = [
    ("case1", [UH(), NI()], 3),
    ("case2", [UH(), NI(with_bias=True)], 3),
    ("case3", [UH(with_bias=True), NI()], 1),
    ("case4", [UH(with_bias=True), UH(with_bias=True)], 1),
]


@pytest.mark.parametrize("name,schemes,n1", CASES)
def test_lemma6_and_theorem3_monte_carlo(name, schemes, n1, key):
    n2 = 4
    c = init_statistics(key, (1, n1, n2), schemes, num=N_MC)
    p2 = np.asarray(second_layer_transition(schemes[0], schemes[1], n1, n2, 1.0))
    np.testing.assert_allclose(p2.sum(1), 1.0, rtol=1e-10)
    pi1 = np.asarray(first_layer_active_distribution(n1, 1, 1.0, with_bias=schemes[0].with_bias))
    pi2, se = active_distribution(c[:, 1, 0], n2)
    _within_3se(pi2, se, pi1 @ p2)  # pi_2 = pi_1 P_2 (Lemma 4)
    P, rows = transition_matrix(c[:, 0, 0], c[:, 1, 0], n1, n2)
    assert rows[-1] > 0.5 * N_MC
    for m1, m2 in [(n1, 2), (1, n2)]:
        t = float(trainability_depth3(schemes[0], schemes[1], n1, n2, m1, m2, 1.0))
        emp, se = empirical_trainability(c, (1, n1, n2), (m1, m2))
        assert abs(emp - t) <= 3 * se + 1e-12, (m1, m2, emp, t, se)


def test_corollary1(key):
    # zero-bias normal, d_in = 1: exact for n = 2 with two hidden layers, a bound otherwise
    np.testing.assert_allclose(corollary1_bound(2, 2), 1 - 5 / 32, rtol=1e-12)
    assert corollary1_bound(3, 1) == 1.0
    c = init_statistics(key, (1, 3, 3, 3), NI(), num=N_MC)
    bd, se = born_dead_fraction(c)
    assert 1 - bd <= corollary1_bound(3, 3) + 3 * se
    # Pr(some hidden layer has no active neuron) is also the complement of m_t >= 1 for all t
    emp, _ = empirical_trainability(c, (1, 3, 3, 3), (1, 1, 1))
    assert emp <= 1 - bd + 1e-12
