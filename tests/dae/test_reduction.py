"""The index-1 reduction (stock Kvaerno5 on an ODE with a root find inside the vector field)
as an independent cross-check of Rodas4 on the paper's 5-node amplifier."""

import diffrax as dfx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsci.dae as dae


def _reduced_solve(circuit, params, ts, tol):
    y0 = circuit.initial_state(params)
    red = dae.IndexOneReduction(circuit.term(), 3, y0)

    @jax.jit
    def run(p):
        zd0 = red.reduce(y0, p)
        sol = dfx.diffeqsolve(
            dfx.ODETerm(red.vector_field), dfx.Kvaerno5(), circuit.t0, circuit.t1,
            1e-8, zd0, p,
            saveat=dfx.SaveAt(ts=ts, fn=lambda t, z, args: red.reconstruct(t, z, args)),
            stepsize_controller=dfx.PIDController(rtol=tol, atol=tol, step_ts=ts),
            max_steps=100_000,
        )
        return sol.ys

    return run(params)


def _check(t1, tol, n_ts):
    c = dae.TransistorAmplifier(t1=t1)
    p = c.nominal
    ts = jnp.linspace(0.0, t1, n_ts)
    ref = dae.simulate(
        c, p, ts, rtol=tol, atol=tol, save_state=True, step_to_ts=True
    ).value
    red = _reduced_solve(c, p, ts, tol)
    err = float(jnp.max(jnp.abs(ref - red)))
    assert err < 1e-6, err
    return err


def test_rodas_matches_reduction_one_period():
    _check(0.01, 1e-9, 41)


@pytest.mark.slow
def test_rodas_matches_reduction_full_interval():
    # the paper's interval [0, 0.03] and 500 output times
    _check(0.03, 1e-10, 500)


def test_reduction_bad_arguments():
    c = dae.TransistorAmplifier()
    y0 = c.initial_state(c.nominal)
    with pytest.raises(ValueError, match="n_differential"):
        dae.IndexOneReduction(c.term(), 6, y0)
    with pytest.raises(ValueError, match="1-D"):
        dae.IndexOneReduction(c.term(), 3, jnp.zeros((5, 1)))
