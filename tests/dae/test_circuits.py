"""Circuit models: Test Set reference values, consistent initial values, the map Xi,
the Schmitt-trigger reconstruction, junction-law overflow."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, strategies as st

import jaxsci.dae as dae

# Test Set for IVP Solvers, transamp, PSIDE at tol 1e-14 (reference/circuits.md)
TRANSAMP_REF = np.array(
    [
        -0.5562145012262709e-02,
        0.3006522471903042e01,
        0.2849958788608128e01,
        0.2926422536206241e01,
        0.2704617865010554e01,
        0.2761837778393145e01,
        0.4770927631616772e01,
        0.1236995868091548e01,
    ]
)


def test_testset_amplifier_reference_solution():
    c = dae.TestSetAmplifier()
    sol = dae.simulate(
        c, c.nominal, jnp.array([0.2]), rtol=1e-10, atol=1e-10, save_state=True
    )
    rel = np.abs(np.asarray(sol.value[0]) - TRANSAMP_REF) / np.abs(TRANSAMP_REF)
    assert np.all(rel < 1e-7), rel


def test_testset_mass_matrix_rank_and_initial_value():
    c = dae.TestSetAmplifier()
    p = c.nominal
    assert np.linalg.matrix_rank(np.asarray(c.mass(p))) == 5
    np.testing.assert_array_equal(c.initial_state(p), [0, 3, 3, 6, 3, 3, 6, 0])
    sol = dae.consistent_initial_state(c.term(), 0.0, c.initial_state(p), p)
    assert float(sol.stats["max_change"]) < 1e-12


@given(st.lists(st.floats(0, 1), min_size=10, max_size=10))
def test_amplifier_initial_values_consistent_for_all_parameters(p_unit):
    c = dae.TransistorAmplifier()
    params = c.box(jnp.asarray(p_unit))
    y0 = c.initial_state(params)
    assert np.linalg.matrix_rank(np.asarray(c.mass(params))) == 3
    out = dae.require_consistent(c.term(), 0.0, y0, params, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(out, y0)


@given(st.lists(st.floats(0, 1), min_size=8, max_size=8))
def test_box_round_trip(p_unit):
    box = dae.SchmittTrigger().box
    p = jnp.asarray(p_unit)
    np.testing.assert_allclose(box.inverse(box(p)), p, atol=1e-12)


def test_box_bounds_and_bad_shape():
    c = dae.TransistorAmplifier()
    box = c.box
    assert box.q == 10
    lo = box(jnp.zeros(10))
    hi = box(jnp.ones(10))
    np.testing.assert_allclose(lo.C1, 0.8e-6)
    np.testing.assert_allclose(hi.Ub, 7.2)
    t_box = dae.SchmittTrigger().box
    np.testing.assert_allclose(t_box(jnp.ones(8)).T, 0.002 * 1.05)  # period varies by 5 %
    with pytest.raises(ValueError, match=r"shape \(10,\)"):
        box(jnp.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(10,\)"):
        box(jnp.zeros((2, 10)))


def test_junction_law_values_and_overflow():
    u = jnp.array([-1.0, 0.0, 0.3, 0.7])
    np.testing.assert_allclose(
        dae.junction_current(u), 1e-6 * (np.exp(np.asarray(u) / 0.026) - 1), rtol=1e-14
    )
    with pytest.raises(eqx.EquinoxRuntimeError, match="Junction law overflow"):
        dae.junction_current(jnp.array([0.5, 20.0]))
    with pytest.raises(eqx.EquinoxRuntimeError, match="Junction law overflow"):
        eqx.filter_jit(dae.junction_current)(jnp.array(19.0))
    assert np.isinf(dae.junction_current(jnp.array(20.0), check=False))
    # a circuit evaluated at a diverged state reports the overflow instead of returning inf
    c = dae.TransistorAmplifier()
    bad = jnp.array([0.0, 25.0, 0.0, 6.0, 0.0])
    with pytest.raises(eqx.EquinoxRuntimeError, match="Junction law overflow"):
        c.rhs(0.0, bad, c.nominal)


def test_schmitt_dc_operating_point():
    c = dae.SchmittTrigger()
    p = c.nominal
    y0 = c.initial_state(p)
    np.testing.assert_allclose(c.rhs(0.0, y0, p), 0.0, atol=1e-15)
    assert np.linalg.matrix_rank(np.asarray(c.mass(p))) == 4


def test_schmitt_trigger_switches_with_hysteresis():
    c = dae.SchmittTrigger(t1=0.0025)
    p = c.nominal
    ts = jnp.linspace(0.0, 0.0025, 501)
    y = np.asarray(dae.simulate(c, p, ts, rtol=1e-3, atol=1e-5).value)
    u_in = 5 * np.sin(2 * np.pi * np.asarray(ts) / 0.002)
    high = y > 2.5
    assert y.max() > 4.5 and y.min() < 1.0  # two output levels
    up = np.flatnonzero(~high[:-1] & high[1:])
    down = np.flatnonzero(high[:-1] & ~high[1:])
    assert len(up) >= 1 and len(down) >= 1
    # the input level at which the output switches up is above the one where it switches
    # back down: distinct thresholds, i.e. hysteresis
    assert u_in[up[0]] > u_in[down[0]] + 0.1, (u_in[up[0]], u_in[down[0]])
