"""Prediction of training, Koopman training and the scale-up strategy (reduced sizes)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from helpers import count_compiles

from jaxsci.koopman import (
    fit_weight_koopman,
    iterations_to_reach,
    koopman_train,
    predict_loss_at_weights,
    predict_loss_observable,
    scale_up,
)
from jaxsci._solution import RESULTS
from jaxsci.train import optax_step, record_trajectory

X = jnp.linspace(-1, 1, 32)[:, None]
Y = jnp.sin(2 * X[:, 0])


def loss_fn(m):
    return jnp.mean((jax.vmap(m)(X) - Y) ** 2)


def _mlp(width=8, depth=1, key=jax.random.key(0)):
    return eqx.nn.MLP(1, "scalar", width, depth, activation=jnp.tanh, key=key)


W, EVERY, START = 10, 10, 20


@pytest.fixture(scope="module")
def gd_traj():
    opt = optax.sgd(0.2)
    p = _mlp()
    rec = eqx.filter_jit(
        lambda p: record_trajectory(
            optax_step(loss_fn, opt), p, opt.init(eqx.filter(p, eqx.is_array)),
            num_snapshots=START + W + 1, every=EVERY,
        )
    )
    return rec(p)


def _at(tree, sl):
    return jax.tree_util.tree_map(lambda a: a[sl] if eqx.is_array(a) else a, tree)


def test_predicted_loss_within_10_percent(gd_traj):
    # acceptance: smooth regression, horizon = fitting window (W snapshots = 100 GD steps)
    actual = gd_traj.loss[START:]
    koop = fit_weight_koopman(_at(gd_traj.params, slice(START - W, START + 1)), every=EVERY)
    ahead = jnp.arange(W + 1.0)
    p0 = _at(gd_traj.params, START)
    via_weights = eqx.filter_jit(predict_loss_at_weights)(koop, loss_fn, p0, ahead)
    via_loss = predict_loss_observable(gd_traj.loss[START - W : START + 1], ahead)
    assert float(jnp.max(jnp.abs(via_weights - actual) / actual)) < 0.1
    assert float(jnp.max(jnp.abs(via_loss - actual) / actual)) < 0.1
    np.testing.assert_allclose(via_weights[0], actual[0], rtol=1e-10)  # s = 0 is the start
    # iterations to reach a loss seen later in the run
    target = float(actual[7])
    it = iterations_to_reach(via_loss, ahead * EVERY, target)
    assert abs(float(it) - 70) <= 10
    assert jnp.isinf(iterations_to_reach(via_loss, ahead, -1.0))


def test_fixed_point_of_linear_regression():
    # GD on least squares: w_{k+1} - w* = (I - eta H)(w_k - w*): the unit mode is w*
    a = jax.random.normal(jax.random.key(1), (20, 3))
    b = jax.random.normal(jax.random.key(2), (20,))
    model = eqx.nn.Linear(3, "scalar", key=jax.random.key(3))
    lsq = lambda m: 0.5 * jnp.mean((jax.vmap(m)(a) - b) ** 2)
    opt = optax.sgd(0.3)
    traj = record_trajectory(optax_step(lsq, opt), model, opt.init(eqx.filter(model, eqx.is_array)), num_snapshots=12)
    koop = fit_weight_koopman(traj.params)  # per layer: [W, b] in one block
    last = _at(traj.params, -1)
    fixed = koop.fixed_point(last)
    coef = np.linalg.lstsq(np.c_[np.asarray(a), np.ones(20)], np.asarray(b), rcond=None)[0]
    np.testing.assert_allclose(fixed.weight[0], coef[:3], atol=1e-6)
    np.testing.assert_allclose(fixed.bias, coef[3], atol=1e-6)
    # forecast(params, steps): time first, a leading steps.shape on every array leaf
    ahead = koop.forecast(last, jnp.array([0.0, 2.0, 1e6]))
    assert ahead.weight.shape == (3,) + last.weight.shape
    np.testing.assert_allclose(ahead.weight[0], last.weight, atol=1e-12)
    np.testing.assert_allclose(ahead.weight[1], koop.forecast(last, 2.0).weight, atol=1e-12)
    np.testing.assert_allclose(ahead.bias[2], coef[3], atol=1e-6)
    per_n = fit_weight_koopman(traj.params, per_neuron=True)
    np.testing.assert_allclose(per_n.fixed_point(last).bias, coef[3], atol=1e-6)
    stab = fit_weight_koopman(traj.params, stabilize=True)
    assert all(np.all(np.abs(np.asarray(m.eigenvalues)) <= 1 + 1e-12) for m in stab.models)


def test_koopman_training_never_accepts_worse_jump():
    opt = optax.adam(1e-2)
    mlp = _mlp(width=6)

    @eqx.filter_jit
    def run(p, target, jumps):
        return koopman_train(
            loss_fn, opt, p, num_cycles=12, window=5, every=4, jumps=jumps, target=target, throw=False
        )

    sol = run(mlp, jnp.asarray(1e-9), (0.5, 1.0, 4.0))
    h = sol.history
    acc = np.asarray(h["accepted"])
    before, jump, after = map(np.asarray, (h["loss_before"], h["loss_jump"], h["loss_after"]))
    assert acc.any()  # Koopman jumps do help on this smooth problem
    assert np.all(jump[acc] < before[acc])
    assert np.all(after <= before)
    np.testing.assert_allclose(after[acc], jump[acc])
    assert int(sol.stats["grad_evals"]) == 12 * 5 * 4
    np.testing.assert_allclose(sol.stats["loss"], loss_fn(sol.value), rtol=1e-12)
    assert sol.state is not None  # the optimizer state, to continue training
    assert sol.result != RESULTS.successful  # target 1e-9 not reached, throw=False
    # jumps=() is the plain optimiser
    plain = run(mlp, jnp.asarray(1e-9), ())
    ref = record_trajectory(optax_step(loss_fn, opt), mlp, opt.init(eqx.filter(mlp, eqx.is_array)), num_snapshots=12 * 20)
    np.testing.assert_allclose(plain.stats["loss"], loss_fn(ref.final_params), rtol=1e-9)
    assert not np.asarray(plain.history["accepted"]).any()
    # stops as soon as the target is met
    early = run(mlp, plain.history["loss_before"][2] * 1.0001, ())  # same compilation
    assert int(early.stats["num_cycles"]) == 3


def test_koopman_training_errors():
    with pytest.raises(ValueError, match="window"):
        koopman_train(loss_fn, optax.adam(1e-2), _mlp(), num_cycles=2, window=1)
    with pytest.raises(ValueError, match="jumps"):
        koopman_train(loss_fn, optax.adam(1e-2), _mlp(), num_cycles=2, window=3, jumps=(-1.0,))
    with pytest.raises(ValueError, match="progress"):
        koopman_train(loss_fn, optax.adam(1e-2), _mlp(), num_cycles=2, window=3, progress=0)


def test_koopman_training_nonfinite_loss_returns_best_iterate(capsys):
    # gradient descent diverges to inf/NaN: stop at the first non-finite loss, return the best
    # iterate seen with RESULTS.nonfinite_loss (raises with throw=True)
    lsq = lambda m: jnp.mean((jax.vmap(m)(X) - Y) ** 2)
    mlp = _mlp(width=6)
    kw = dict(num_cycles=40, window=3, every=5, jumps=(1.0,))
    sol = koopman_train(lsq, optax.sgd(60.0), mlp, throw=False, progress=1, **kw)
    assert sol.result == RESULTS.nonfinite_loss
    n = int(sol.stats["num_cycles"])
    assert n < 40 and not np.isfinite(sol.history["loss_after"][n - 1])
    finite = np.asarray(sol.history["loss_after"][: n - 1])
    best = finite.min() if finite.size else float(loss_fn(mlp))
    np.testing.assert_allclose(sol.stats["loss"], best, rtol=1e-12)
    np.testing.assert_allclose(loss_fn(sol.value), best, rtol=1e-12)
    assert "cycle" in capsys.readouterr().out  # progress=1 prints every cycle
    with pytest.raises(Exception, match="non-finite|NaN"):
        koopman_train(lsq, optax.sgd(60.0), mlp, **kw)


def test_scale_up_grows_width_then_depth(capsys):
    mk = lambda w, d, k: _mlp(w, d, k)
    sol = scale_up(
        mk, loss_fn, optax.adam(1e-2), width=1, depth=1, target=1e-8, budget=70,
        trial_steps=60, every=10, num_seeds=2, max_rounds=3, key=jax.random.key(0),
        progress=1, throw=False,
    )
    # an unreachable target: every round is predicted over budget, growth alternates W, D
    h = sol.history
    assert sol.result == RESULTS.max_rounds_reached and int(sol.stats["chosen"]) == -1
    np.testing.assert_array_equal(h["width"], [1, 2, 2])
    np.testing.assert_array_equal(h["depth"], [1, 1, 2])
    assert np.all(np.isinf(h["predicted_iterations"]))
    assert h["loss_curves"].shape == (3, 2, 6)
    assert int(sol.stats["num_rounds"]) == 3 and int(sol.stats["width"]) == 2
    # value: the best seed of the last round (width 2, depth 2), its loss in stats
    assert sol.value.width_size == 2 and sol.value.depth == 2
    np.testing.assert_allclose(sol.stats["loss"], h["loss_curves"][-1, :, -1].min(), rtol=1e-6)
    assert capsys.readouterr().out.count("round") == 3
    with pytest.raises(ValueError, match="trial_steps"):
        scale_up(mk, loss_fn, optax.adam(1e-2), width=1, depth=1, target=1.0, budget=100,
                 trial_steps=15, every=10, key=jax.random.key(0))
    with pytest.raises(ValueError, match="progress"):
        scale_up(mk, loss_fn, optax.adam(1e-2), width=1, depth=1, target=1.0, budget=100,
                 trial_steps=30, every=10, key=jax.random.key(0), progress=-1)


def test_scale_up_reaches_target_and_raises_on_divergence():
    mk = lambda w, d, k: _mlp(w, d, k)
    kw = dict(width=4, depth=1, budget=400, trial_steps=60, every=10, num_seeds=2,
              max_rounds=2, key=jax.random.key(0))
    sol = scale_up(mk, loss_fn, optax.adam(1e-2), target=1.0, **kw)  # reached in the trial
    assert sol.result == RESULTS.successful and int(sol.stats["chosen"]) == 0
    # a diverging optimizer raises (by default)
    with pytest.raises(Exception, match="[Nn]on-finite|NaN"):
        scale_up(mk, loss_fn, optax.sgd(1e6), target=1.0, **kw)


def test_koopman_train_is_jitted_and_unchanged():
    # issue 14: koopman_train is jitted itself; same numbers as the eqx.filter_jit-wrapped
    # implementation before (values recorded from it), and a second call with a new closure
    # over new data, a new optimiser and another num_cycles compiles nothing
    mlp = _mlp(width=6)
    kw = dict(window=5, every=4, jumps=(0.5, 1.0, 4.0), target=1e-9, throw=False)

    def run(y, lr, n):
        return koopman_train(lambda m: jnp.mean((jax.vmap(m)(X) - y) ** 2), optax.adam(lr), mlp,
                             num_cycles=n, **kw)

    sol = run(Y, 1e-2, 6)
    np.testing.assert_allclose(sol.history["loss_after"], [
        0.13580961585564183, 0.018438568730685202, 0.014476704062364518,
        0.012465333960562857, 0.010566082364211247, 0.009158056059834736], rtol=1e-10)
    np.testing.assert_array_equal(sol.history["accepted"], [1, 0, 1, 1, 1, 0])
    np.testing.assert_array_equal(sol.history["jump"], [10.0, 0.0, 10.0, 10.0, 20.0, 0.0])
    assert int(sol.stats["accepted"]) == 4 and int(sol.stats["loss_evals"]) == 24
    y2 = jnp.cos(2 * X[:, 0])
    with count_compiles() as n:
        second = run(y2, 1e-2, 7)  # bucket 8, as for 6
        other_lr = run(y2, 2e-2, 7)
    assert n[0] == 0
    assert second.history["loss_after"].shape == (7,) and int(second.stats["num_cycles"]) == 7
    jax.clear_caches()
    fresh = run(y2, 1e-2, 7)
    for a, b in zip(jax.tree_util.tree_leaves(second), jax.tree_util.tree_leaves(fresh)):
        np.testing.assert_array_equal(a, b)
    fresh_lr = eqx.filter_jit(lambda p: koopman_train(
        lambda m: jnp.mean((jax.vmap(m)(X) - y2) ** 2), optax.adam(2e-2), p, num_cycles=7,
        **kw))(mlp)
    np.testing.assert_allclose(other_lr.history["loss_after"], fresh_lr.history["loss_after"],
                               rtol=1e-10)
    assert not np.allclose(other_lr.history["loss_after"], second.history["loss_after"])


def test_scale_up_all_seeds_nonfinite():
    # every trial diverges inside its window: the round stops with nonfinite_loss, no raise
    mk = lambda w, d, k: _mlp(w, d, k)
    sol = scale_up(
        mk, loss_fn, optax.sgd(1e60), width=2, depth=1, target=1e-8, budget=70,
        trial_steps=30, every=10, num_seeds=2, max_rounds=2, key=jax.random.key(0),
        throw=False,
    )
    assert sol.result == RESULTS.nonfinite_loss
