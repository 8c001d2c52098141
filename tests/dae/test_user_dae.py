"""A user's own DAE through `simulate` / `sweep` (a subclass of AbstractCircuit with its own
parameter map), and the refusal of solvers that would ignore the mass matrix."""

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import jaxsci.dae as dae
from jaxsci._solution import RESULTS

TS = jnp.linspace(0.0, 1.0, 11)


class DecayParams(eqx.Module):
    rate: Float[Array, ""]


class LogUniform(eqx.Module):
    """A non-affine parameter map: rate = 0.5 * 4**p on p in [0, 1]."""

    q: int = eqx.field(static=True, default=1)

    def __call__(self, p):
        return DecayParams(0.5 * jnp.exp(p[0] * jnp.log(4.0)))


class Decay(dae.AbstractCircuit):
    # y1' = -k y1, 0 = y2 - y1^2; y1 = exp(-k t), y2 = exp(-2 k t)
    t0: float = 0.0
    t1: float = 1.0

    @property
    def nominal(self):
        return DecayParams(jnp.asarray(1.0))

    @property
    def box(self):
        return LogUniform()

    def mass(self, params):
        return jnp.diag(jnp.array([1.0, 0.0]))

    def rhs(self, t, u, params):
        return jnp.stack([-params.rate * u[0], u[1] - u[0] ** 2])

    def initial_state(self, params):
        return jnp.array([1.0, 1.0])

    def qoi(self, u):
        return u[1]


def test_user_dae_simulate_values_and_grad():
    c = Decay()
    sol = dae.simulate(c, c.nominal, TS, rtol=1e-10, atol=1e-12)
    assert sol.result == RESULTS.successful
    np.testing.assert_allclose(sol.value, np.exp(-2 * np.asarray(TS)), rtol=1e-7, atol=1e-10)
    full = dae.simulate(c, c.nominal, TS, rtol=1e-10, atol=1e-12, save_state=True).value
    assert full.shape == (11, 2)
    np.testing.assert_allclose(full[:, 0], np.exp(-np.asarray(TS)), rtol=1e-7)

    def end(rate):
        return dae.simulate(c, DecayParams(rate), TS, rtol=1e-10, atol=1e-12).value[-1]

    g = jax.grad(end)(jnp.asarray(0.7))
    np.testing.assert_allclose(g, -2.0 * np.exp(-1.4), rtol=1e-6)


def test_user_dae_sweep_with_own_parameter_map():
    c = Decay()
    samples = jnp.array([[0.0], [0.5], [1.0]])
    sol = dae.sweep(c, samples, TS, rtol=1e-10, atol=1e-12, chunk_size=2, progress=False)
    rates = 0.5 * 4.0 ** np.asarray(samples[:, 0])
    exact = np.exp(-2 * rates[:, None] * np.asarray(TS)[None])
    np.testing.assert_allclose(sol.value, exact, rtol=1e-7, atol=1e-10)
    assert bool(jnp.all(sol.stats["result"] == RESULTS.successful))


def test_sweep_keeps_each_samples_code():
    # A stiffer rate needs more steps: with max_steps between the step counts of the
    # samples, some succeed and the others report diffrax's own max_steps_reached.
    c = Decay()
    samples = jnp.array([[0.0], [1.0]])
    kw = dict(rtol=1e-8, atol=1e-10, progress=False)
    steps = dae.sweep(c, samples, TS, **kw).stats["num_steps"]
    assert int(steps[0]) < int(steps[1])
    limit = (int(steps[0]) + int(steps[1])) // 2
    sol = dae.sweep(c, samples, TS, max_steps=limit, throw=False, **kw)
    codes = sol.stats["result"]
    np.testing.assert_array_equal(sol.stats["failed"], [False, True])
    np.testing.assert_array_equal(codes == RESULTS.max_steps_reached, [False, True])
    assert sol.result == RESULTS.max_steps_reached
    assert bool(jnp.all(jnp.isnan(sol.value[1]))) and bool(jnp.all(jnp.isfinite(sol.value[0])))
    with pytest.raises(eqx.EquinoxRuntimeError, match="maximum number of steps"):
        dae.sweep(c, samples, TS, max_steps=limit, **kw)


@pytest.mark.parametrize("solver", [dfx.Tsit5(), dfx.Kvaerno5()])
def test_stock_solvers_refused(solver):
    c = Decay()
    with pytest.raises(TypeError, match="Rodas4"):
        dae.simulate(c, c.nominal, TS, solver=solver)
    with pytest.raises(TypeError, match="Rodas4"):
        dae.sweep(c, jnp.zeros((2, 1)), TS, solver=solver, progress=False)
    # the term itself refuses them when diffeqsolve traces their step
    with pytest.raises(TypeError, match="mass matrix"):
        dfx.diffeqsolve(
            c.term(), solver, 0.0, 1.0, 1e-3, jnp.array([1.0, 1.0]), c.nominal,
            stepsize_controller=dfx.PIDController(rtol=1e-6, atol=1e-8),
        )


def test_not_a_circuit():
    with pytest.raises(TypeError, match="AbstractCircuit"):
        dae.simulate(object(), None, TS)
