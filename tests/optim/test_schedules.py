"""Step-length tuning, decay rules, cosine annealing, minibatch-size increase (Sec. 6.3.3-6.3.5)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxsci.optim as jo


def test_optax_linear_schedule_is_eq147():
    eps0, eps_c, ell_c = 0.5, 0.01, 40
    sched = optax.linear_schedule(eps0, eps_c, ell_c)
    ell = np.arange(80)
    ref = np.where(ell <= ell_c, (1 - ell / ell_c) * eps0 + ell / ell_c * eps_c, eps_c)
    np.testing.assert_allclose(jax.vmap(sched)(jnp.asarray(ell)), ref, rtol=1e-12)


def test_inverse_decay_eq149_150():
    ell = np.arange(1, 10)
    np.testing.assert_allclose(jo.inverse_decay_schedule(0.3)(ell - 1), 0.3 / ell)
    np.testing.assert_allclose(jo.inverse_decay_schedule(0.3, 0.5)(ell - 1), 0.3 / np.sqrt(ell))
    with pytest.raises(ValueError):
        jo.inverse_decay_schedule(-1.0)


def test_cosine_annealing_eq154_and_sgdr():
    cycles = [4, 6, 10]
    a = jo.cosine_annealing(cycles)
    j = np.arange(sum(cycles))
    starts = np.repeat(np.cumsum([0] + cycles[:-1]), cycles)
    t_p = np.repeat(cycles, cycles)
    ref = 0.5 + 0.5 * np.cos(np.pi * (j - starts) / t_p)
    np.testing.assert_allclose(jax.vmap(a)(jnp.asarray(j)), ref, atol=1e-12)
    sgdr = optax.sgdr_schedule(
        [dict(init_value=1.0, peak_value=1.0, warmup_steps=0, decay_steps=t, end_value=0.0)
         for t in cycles]
    )
    np.testing.assert_allclose(jax.vmap(a)(jnp.asarray(j)), jax.vmap(sgdr)(jnp.asarray(j)),
                               atol=1e-7)


def test_stagnation_decay_eq151():
    kmax, factor = 3, 0.9
    values = np.array([5.0, 4.0, 3.0,  # epoch 0: last = 3 = min -> keep
                       3.5, 2.0, 2.5,  # epoch 1: last 2.5 > min 2.0 -> decay at epoch 2
                       1.0, 1.5, 0.5,  # epoch 2: last 0.5 = min -> keep
                       0.7, 0.6, 0.9,  # epoch 3: last 0.9 > 0.5 -> decay at epoch 4
                       0.1])
    tx = jo.scale_by_stagnation_decay(kmax, factor)
    state = tx.init(jnp.zeros(1))
    scales = []
    for v in values:
        u, state = tx.update(jnp.ones(1), state, value=v)
        scales.append(float(u[0]))
    expected = [1.0] * 6 + [0.9] * 6 + [0.81]
    np.testing.assert_allclose(scales, expected, rtol=1e-12)


def test_batch_size_schedule_fig65_and_equivalence():
    m = jo.batch_size_schedule(128, [60, 120, 160], 5, 50000)
    assert [m(0), m(59), m(60), m(120), m(199)] == [128, 128, 640, 3200, 16000]
    eps = optax.piecewise_constant_schedule(0.1, {60: 0.2, 120: 0.2, 160: 0.2})
    for epoch in (0, 60, 120, 160):  # same eps/m, i.e. same fluctuation factor for M -> inf
        np.testing.assert_allclose(float(eps(epoch)) / 0.1, 128 / m(epoch), rtol=1e-6)
    big_m = 50000
    r = np.array([1.0, 0.2, 0.04])
    mb = np.asarray(jo.equivalent_batch_size(r, 128, big_m))
    np.testing.assert_allclose(jo.fluctuation_factor(0.1, mb, big_m),
                               jo.fluctuation_factor(0.1 * r, 128, big_m), rtol=1e-12)
    np.testing.assert_allclose(jo.equivalent_batch_size(r, 128, 1e15), 128 / r, rtol=1e-9)


def test_tune_initial_step_extends_log_grid():
    calls = []

    def score(e):
        calls.append(e)
        return (np.log2(e) - 3.0) ** 2  # best at 8: 2 is best on the grid -> try 4, 8, 16

    best, scores = jo.tune_initial_step(score)
    assert best == 8.0
    assert sorted(scores) == [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0]
    assert len(calls) == len(set(calls))


def test_tune_initial_step_on_gd_quadratic():
    """Real use: loss after 30 GD steps on a quadratic (curvature 1, 3): best grid point is the
    largest stable step; 2 diverges (score inf)."""
    a = jnp.array([1.0, 3.0])

    @jax.jit
    def final_loss(e):
        th = jax.lax.fori_loop(0, 30, lambda i, t: t - e * a * t, jnp.ones(2))
        return 0.5 * jnp.sum(a * th**2)

    best, scores = jo.tune_initial_step(lambda e: final_loss(e))
    assert best == 0.5 and scores[2.0] > 1e10
