"""Firing-rate RNN: one Euler step with dt = tau is the discrete cell; a linear F solved by
diffrax against the closed form (scipy expm)."""

import diffrax as dfx
import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import scipy.linalg

import jaxsci
import jaxsci.nn as nn

N = 3


def test_euler_step_with_dt_tau_is_the_discrete_cell():
    tau = 0.7
    rnn = nn.FiringRateRNN(N, tau=tau, key=jr.key(0))
    v, i = jr.normal(jr.key(1), (N,)), jr.normal(jr.key(2), (N,))
    cell = eqx.tree_at(lambda c: (c.weight_hh, c.weight_ih, c.bias), nn.ElmanCell(N, N, key=jr.key(3)),
                       (rnn.weight, jnp.eye(N), jnp.zeros(N)))
    np.testing.assert_allclose(rnn.euler_step(v, i, tau), cell(i, v), rtol=1e-14, atol=1e-15)
    # general dt: v + dt/tau (-v + F(W v + I))
    ref = np.asarray(v) + 0.1 / tau * (-np.asarray(v) + np.tanh(np.asarray(rnn.weight) @ v + i))
    np.testing.assert_allclose(rnn.euler_step(v, i, 0.1), ref, rtol=1e-14)
    # diffrax's Euler with dt0 = tau over 3 steps == 3 cell steps (constant input)
    vs = nn.simulate_firing_rate(rnn, v, jnp.array([0.0, tau, 2 * tau, 3 * tau]), lambda t: i,
                     solver=dfx.Euler(), dt0=tau).value
    h = v
    for n in range(3):
        h = cell(i, h)
        np.testing.assert_allclose(vs[n + 1], h, rtol=1e-12, atol=1e-14)


def test_linear_solve_against_expm():
    tau = jnp.array([0.5, 1.0, 2.0])
    w = jr.normal(jr.key(4), (N, N)) * 0.5
    rnn = nn.FiringRateRNN(N, tau=tau, activation=lambda z: z, weight=w)
    v0, i0 = jnp.array([1.0, -0.5, 0.2]), jnp.array([0.3, 0.0, -0.1])
    ts = jnp.linspace(0.0, 2.0, 5)
    sol = nn.simulate_firing_rate(rnn, v0, ts, lambda t: i0)
    # v' = A v + b, A = (W - I)/tau, b = I0/tau: the augmented matrix exponential
    A = (np.asarray(w) - np.eye(N)) / np.asarray(tau)[:, None]
    M = np.zeros((N + 1, N + 1))
    M[:N, :N], M[:N, N] = A, np.asarray(i0) / np.asarray(tau)
    ref = np.stack([(scipy.linalg.expm(M * t) @ np.append(v0, 1.0))[:N] for t in ts])
    np.testing.assert_allclose(sol.value, ref, rtol=1e-6, atol=1e-8)
    assert sol.result == jaxsci.RESULTS.successful and int(sol.stats["num_steps"]) > 0
