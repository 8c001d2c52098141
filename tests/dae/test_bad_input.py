"""Bad input to jaxsci.dae: a clear error or a RESULTS code, never a misleading one
(issue 16; DESIGN rule 6). Entry checks run before anything is compiled, so most of these
are cheap; the two that integrate share one small compiled solve."""

import diffrax as dfx
import equinox as eqx
import hypothesis
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsci.dae as dae
from jaxsci._solution import RESULTS
from jaxsci.testing import assert_refuses, mismatched_shapes, with_nonfinite

AMP = dae.TransistorAmplifier(t1=0.001)
TS = jnp.linspace(0.0, 0.001, 3)
GOOD = jnp.full((2, 10), 0.5)
MASS = jnp.diag(jnp.array([1.0, 0.0]))


def _f(t, y, a):
    return jnp.stack([-y[0], y[1] - y[0] ** 2])


TERM = dae.MassMatrixTerm(_f, MASS)


def _with(params, field, value):
    return eqx.tree_at(lambda p: getattr(p, field), params, jnp.asarray(value))


# ---- Rodas4 inside diffeqsolve: y0 / mass checked once, at the start of the solve ----

# the mass is an argument (a callable mass(args)), so one compilation serves every case
_TERM_ARGS = dae.MassMatrixTerm(_f, lambda m: m)


@eqx.filter_jit
def _solve(y0, mass):
    return dfx.diffeqsolve(
        _TERM_ARGS, dae.Rodas4(), 0.0, 1.0, 1e-3, y0, mass, max_steps=500, throw=False,
        stepsize_controller=dfx.PIDController(rtol=1e-6, atol=1e-8),
    )


def test_rodas_nonfinite_y0_mass_and_wrong_size():
    ok = _solve(jnp.array([1.0, 1.0]), MASS)
    assert ok.result == dfx.RESULTS.successful
    for bad in (jnp.nan, jnp.inf):
        assert_refuses(lambda b=bad: _solve(jnp.array([b, 1.0]), MASS), match="`y0`")
    # before: "maximum number of steps" after 500 rejected steps; now refused at the start
    for bad in (jnp.nan, jnp.inf):
        assert_refuses(lambda b=bad: _solve(jnp.array([1.0, 1.0]), MASS.at[0, 0].set(b)),
                       match="mass matrix M")
    # a wrong-sized mass: trace-time ValueError naming y0 and the mass (was a broadcast error)
    with pytest.raises(ValueError, match=r"`y0` has 2 entries but the mass matrix"):
        _solve(jnp.array([1.0, 1.0]), jnp.eye(3))


@pytest.mark.parametrize("method", [dae.Rodas4P, dae.Rodas4P2, dae.Rodas5P, dae.ROS3P],
                         ids=lambda m: m.__name__)
def test_rosenbrock_family_checks_y0_and_mass(method):
    # the shared `init` of every Rosenbrock method: checked eagerly here (no compile)
    term = dae.MassMatrixTerm(_f, MASS)
    method().init(term, 0.0, 1.0, jnp.array([1.0, 1.0]), None)
    with pytest.raises(eqx.EquinoxRuntimeError, match="`y0`"):
        method().init(term, 0.0, 1.0, jnp.array([jnp.nan, 1.0]), None)
    with pytest.raises(ValueError, match=r"`y0` has 3 entries but the mass matrix"):
        method().init(term, 0.0, 1.0, jnp.ones(3), None)


def test_rosenbrock_tableau_checks():
    from jaxsci.dae._tableau import RODAS4

    fields = dict(name="x", gamma=RODAS4.gamma, alpha=RODAS4.alpha, gamma_i=RODAS4.gamma_i,
                  a=RODAS4.a, c=RODAS4.c, m=RODAS4.m, m_hat=RODAS4.m_hat, dense=RODAS4.dense,
                  order=4, embedded_order=3, dense_order=3, stiffly_accurate=True)
    dae.RosenbrockTableau(**fields)
    with pytest.raises(ValueError, match="`gamma_i` must have shape"):
        dae.RosenbrockTableau(**{**fields, "gamma_i": RODAS4.gamma_i[:5]})
    with pytest.raises(ValueError, match="`dense` must have shape"):
        dae.RosenbrockTableau(**{**fields, "dense": RODAS4.dense[:, :5]})
    with pytest.raises(ValueError, match="`a` must be strictly lower triangular"):
        dae.RosenbrockTableau(**{**fields, "a": RODAS4.a + np.eye(6)})


def test_mass_matrix_term_checks():
    with pytest.raises(ValueError, match="`mass` contains NaN"):
        dae.MassMatrixTerm(_f, MASS.at[0, 1].set(jnp.inf))
    with pytest.raises(ValueError, match="`mass` must be a square"):
        dae.MassMatrixTerm(_f, jnp.ones((2, 3)))
    with pytest.raises(TypeError, match="`vector_field`"):
        dae.MassMatrixTerm(3.0, MASS)


# ---- simulate / sweep: parameters, samples, times, counts ---------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        (_with(AMP.nominal, "R1", jnp.nan), r"`params` contains NaN"),
        (_with(AMP.nominal, "Ub", jnp.inf), r"`params` contains NaN"),
        (_with(AMP.nominal, "C1", -1e-6), r"`params.C1` must be > 0"),  # negative capacitance
        (_with(AMP.nominal, "R0", 0.0), r"`params.R0` must be > 0"),
    ],
)
def test_simulate_bad_params(params, match):
    assert_refuses(lambda: dae.simulate(AMP, params, TS), match=match)


def test_circuit_checks_under_jit_and_vmap():
    check = eqx.filter_jit(lambda p: AMP.check_params(p))
    assert_refuses(lambda: check(_with(AMP.nominal, "C2", -1.0)), match=r"`params.C2`")
    assert_refuses(
        lambda: jax.vmap(lambda c: AMP.check_params(_with(AMP.nominal, "C3", c)).C3)(
            jnp.array([3e-6, -3e-6])
        ),
        match=r"`params.C3`",
    )
    for circuit, field in ((dae.SchmittTrigger(), "C"), (dae.TestSetAmplifier(), "C")):
        p = circuit.nominal
        bad = eqx.tree_at(lambda q: getattr(q, field), p, -jnp.abs(getattr(p, field)))
        assert_refuses(lambda c=circuit, b=bad: c.check_params(b), match=rf"`params.{field}`")


@pytest.mark.parametrize(
    "samples, match",
    [
        (GOOD.at[0, 3].set(jnp.nan), r"`samples` contains NaN"),
        (GOOD.at[1, 0].set(1.5), r"`samples` has coordinates outside"),
        (GOOD.at[1, 0].set(-0.1), r"`samples` has coordinates outside"),
        (jnp.zeros((0, 10)), r"`samples` is empty"),
        (jnp.zeros((2, 3)), r"`samples` must have shape \(k, 10\)"),
        (jnp.zeros(10), r"`samples` must have shape"),
    ],
)
def test_sweep_bad_samples(samples, match):
    assert_refuses(lambda: dae.sweep(AMP, samples, TS, progress=False), match=match)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(ts=TS + 1.0), r"`ts` must be finite output times inside"),
        (dict(ts=TS.at[0].set(jnp.nan)), r"`ts` must be finite"),
        (dict(ts=jnp.zeros((0,))), r"`ts` must be a non-empty"),
        (dict(rtol=float("nan")), r"`rtol`"),
        (dict(max_steps=0), r"`max_steps`"),
        (dict(chunk_size=0), r"`chunk_size`"),
    ],
)
def test_sweep_and_simulate_bad_options(kwargs, match):
    kw = dict(ts=TS)
    kw.update(kwargs)
    ts = kw.pop("ts")
    assert_refuses(lambda: dae.sweep(AMP, GOOD, ts, progress=False, **kw), match=match)
    if "chunk_size" not in kw:
        assert_refuses(lambda: dae.simulate(AMP, AMP.nominal, ts, **kw), match=match)


def test_sweep_refuses_a_box_with_unphysical_corners():
    class WideBox(dae.TransistorAmplifier):
        @property
        def box(self):
            return dae.ParameterBox.around(self.nominal, 1.5)  # low corner: C < 0

    assert_refuses(
        lambda: dae.sweep(WideBox(t1=0.001), GOOD, TS, progress=False),
        match=r"`circuit.box.low.C1` must be > 0",
    )


# ---- ParameterBox --------------------------------------------------------------------------


def test_parameter_box_checks():
    nominal = AMP.nominal
    for rel in (-0.1, float("nan"), float("inf")):
        assert_refuses(lambda r=rel: dae.ParameterBox.around(nominal, r), match=r"`rel`")
    with pytest.raises(ValueError, match=r"`rel` must be a float or a pytree"):
        dae.ParameterBox.around(nominal, {"a": 0.1})
    with pytest.raises(ValueError, match=r"low <= high"):
        dae.ParameterBox(jnp.array(1.0), jnp.array(0.0))
    with pytest.raises(ValueError, match=r"`low` of a ParameterBox contains NaN"):
        dae.ParameterBox(jnp.array(jnp.nan), jnp.array(0.0))
    with pytest.raises(ValueError, match=r"same structure"):
        dae.ParameterBox((jnp.array(0.0),), jnp.array(1.0))
    box = AMP.box
    with pytest.raises(ValueError, match=r"`p` must have shape \(10,\)"):
        box(jnp.zeros(3))
    with pytest.raises(ValueError, match=r"`params` must have the 10 leaves"):
        box.inverse((1.0,))
    # a degenerate box (rel = 0) inverts to 0, not 0/0 = NaN
    flat = dae.ParameterBox.around(nominal, 0.0)
    np.testing.assert_array_equal(flat.inverse(nominal), np.zeros(10))


def test_parameter_box_value_checks_eager_jit_vmap():
    box = AMP.box
    out = jnp.full(10, 0.5).at[2].set(1.2)
    assert_refuses(lambda: box(out), match=r"`p` has coordinates outside")
    assert_refuses(lambda: eqx.filter_jit(box)(out), match=r"`p` has coordinates outside")
    assert_refuses(
        lambda: jax.vmap(box)(jnp.stack([jnp.full(10, 0.5), out.at[0].set(jnp.nan)])),
        match=r"`p` contains NaN",
    )


# ---- junction law, consistent initialisation, reduction -------------------------------------


def test_junction_law_checks():
    assert_refuses(lambda: dae.junction_current(jnp.nan), match="NaN")
    assert_refuses(lambda: dae.junction_current(0.1, -1e-6), match=r"`saturation`")
    assert_refuses(lambda: dae.junction_current(0.1, 1e-6, 0.0), match=r"`thermal_voltage`")
    assert_refuses(
        lambda: dae.junction_current(0.1, 1e-6, 0.0, check=False), match=r"`thermal_voltage`"
    )
    jitted = eqx.filter_jit(lambda s: dae.junction_current(0.1, s))
    assert_refuses(lambda: jitted(jnp.asarray(-1.0)), match=r"`saturation`")
    assert_refuses(
        lambda: jax.vmap(lambda u: dae.junction_current(u))(jnp.array([0.1, jnp.nan])),
        match="NaN",
    )


def test_consistent_initial_state_bad_input():
    y_nan = jnp.array([jnp.nan, 1.0])
    sol = assert_refuses(lambda: dae.consistent_initial_state(TERM, 0.0, y_nan, throw=False))
    assert sol.result == RESULTS.nonfinite
    with pytest.raises(ValueError, match=r"`y0` has 3 entries"):
        dae.consistent_initial_state(TERM, 0.0, jnp.ones(3))
    with pytest.raises(TypeError, match=r"`y0` must be floating"):
        dae.consistent_initial_state(TERM, 0.0, jnp.array([1, 1]))
    with pytest.raises(TypeError, match=r"`term` must be a jaxsci.dae.MassMatrixTerm"):
        dae.consistent_initial_state(dfx.ODETerm(_f), 0.0, jnp.ones(2))
    assert_refuses(lambda: dae.require_consistent(TERM, 0.0, y_nan), match="Inconsistent")


def test_index_one_reduction_bad_input():
    with pytest.raises(ValueError, match=r"`guess` contains NaN"):
        dae.IndexOneReduction(TERM, 1, jnp.array([jnp.nan, 1.0]))
    with pytest.raises(ValueError, match=r"`n_differential` must be in 1..2"):
        dae.IndexOneReduction(TERM, 3, jnp.ones(2))
    with pytest.raises(TypeError, match=r"`n_differential` must be a Python int"):
        dae.IndexOneReduction(TERM, 1.0, jnp.ones(2))
    red = dae.IndexOneReduction(TERM, 1, jnp.ones(2))
    with pytest.raises(ValueError, match=r"`zd` must have shape \(1,\)"):
        red.vector_field(0.0, jnp.ones(2))
    with pytest.raises(ValueError, match=r"`y` must have shape \(2,\)"):
        red.reduce(jnp.ones(3))


# ---- hypothesis: random bad samples are refused before anything is integrated --------------


@hypothesis.settings(max_examples=15, deadline=None)
@hypothesis.given(data=st.data())
def test_random_bad_samples_are_refused(data):
    kind = data.draw(st.sampled_from(["nonfinite", "shape", "outside"]))
    if kind == "nonfinite":
        samples = data.draw(with_nonfinite(np.full((2, 10), 0.5), max_count=3))
    elif kind == "shape":
        samples = np.full((2, *data.draw(mismatched_shapes((10,)))), 0.5)
    else:
        samples = np.full((2, 10), 0.5)
        samples[data.draw(st.integers(0, 1)), data.draw(st.integers(0, 9))] = data.draw(
            st.one_of(st.floats(-10.0, -1e-9), st.floats(1.0 + 1e-9, 10.0))
        )
    assert_refuses(lambda: dae.sweep(AMP, samples, TS, progress=False), match="`samples`")


def test_params_of_the_wrong_shape_or_structure_are_refused():
    # a wrong-shaped leaf was read with clamped indexing (R[5] of a 3-vector is R[2]): silent
    ts = jnp.linspace(0.0, 0.01, 3)
    setamp = dae.TestSetAmplifier(t1=0.01)
    with pytest.raises(ValueError, match=r"`params.R` has shape \(3,\), but `circuit.nominal.R`"):
        dae.simulate(setamp, dae.TestSetAmplifierParams(R=jnp.full(3, 9000.0)), ts)
    with pytest.raises(ValueError, match=r"`params.C1` has shape \(2,\)"):
        dae.simulate(AMP, dae.AmplifierParams(C1=jnp.ones(2) * 1e-6), TS)
    with pytest.raises(ValueError, match=r"`params` must have the structure of `circuit.nominal`"):
        dae.simulate(dae.SchmittTrigger(), dae.AmplifierParams(), TS)
    # the parameter classes' own domain checks run through their circuit's `check_params`
    assert_refuses(
        lambda: dae.SchmittTrigger().check_params(dae.SchmittParams(T=jnp.asarray(-1.0))),
        match=r"`params.T` must be > 0",
    )


# ---- banded Jacobians and the transmission line (issue 22) ----

def test_banded_jacobian_and_transmission_line_checks():
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="`lower` must be a non-negative int"):
            dae.BandedJacobian(bad, 1)
    with pytest.raises(ValueError, match="`upper` must be a non-negative int"):
        dae.BandedJacobian(1, -2)
    with pytest.raises(ValueError, match="`n_nodes` must be an int >= 2"):
        dae.TransmissionLine(n_nodes=1)
    with pytest.raises(ValueError, match="`output_node` must be an int in 1..n_nodes = 5"):
        dae.TransmissionLine(n_nodes=5, output_node=6)
    line = dae.TransmissionLine(n_nodes=4, output_node=2)
    bad = dae.TransmissionLineParams(R=-1.0)
    with pytest.raises(ValueError, match="`params.R` must be > 0"):
        dae.simulate(line, bad, jnp.linspace(0.0, 1e-4, 2), solver=dae.Rodas4(jacobian=line.jacobian))
