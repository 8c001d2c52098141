"""jaxsci.train.fit: trainers (optax, optimistix), history, gradient norms, callbacks, stops."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import optimistix as optx
import pytest

from helpers import count_compiles

from jaxsci import RESULTS
from jaxsci.train import (
    LossWeights, ModifyModel, Optax, Optimistix, Record, TargetLoss, UpdateArgs,
    ValidationPatience, fit, layer_gradient_norms, make_step,
)


def lsq_loss(model, args):
    x, y = args
    pred = jax.vmap(model)(x)
    terms = {"fit": jnp.mean((pred - y) ** 2), "l2": 1e-3 * jnp.sum(model.weight**2)}
    return terms["fit"] + terms["l2"], terms


@pytest.fixture
def data(key):
    x = jr.normal(key, (40, 3))
    w_true = jnp.array([[1.0, -2.0, 0.5]])
    return x, (x @ w_true.T)[:, 0]


def ridge_solution(x, y):
    n = x.shape[0]
    a = x.T @ x / n + 1e-3 * jnp.eye(3)
    return jnp.linalg.solve(a, x.T @ y / n)


def test_adam_and_lbfgs_reach_ridge_solution(data, key):
    model = eqx.nn.Linear(3, "scalar", use_bias=False, key=key)
    ref = ridge_solution(*data)
    res = fit(lsq_loss, model, optax.lbfgs(), steps=30, args=data)
    np.testing.assert_allclose(res.value.weight[0], ref, rtol=1e-6)
    res_adam = fit(lsq_loss, model, optax.adam(5e-2), steps=400, args=data)
    np.testing.assert_allclose(res_adam.value.weight[0], ref, atol=2e-3)
    assert set(res.history) == {"loss", "fit", "l2", "grad_norms"}
    assert res.history["loss"].shape == (30,)
    assert res.history["grad_norms"].shape == (30, 1)
    # history[0] is the loss at the initial parameters, grad norm of that loss
    loss0, _ = lsq_loss(model, data)
    np.testing.assert_allclose(res.history["loss"][0], loss0, rtol=1e-12)
    g = jax.grad(lambda m: lsq_loss(m, data)[0])(model)
    np.testing.assert_allclose(res.history["grad_norms"][0, 0], jnp.linalg.norm(g.weight), rtol=1e-10)
    # resume from the returned optimiser state
    more = fit(lsq_loss, res_adam.value, optax.adam(5e-2), steps=5, args=data,
               state=res_adam.state["trainer"])
    assert more.history["loss"][0] <= res_adam.history["loss"][0]


def test_layer_gradient_norms_mlp(key):
    mlp = eqx.nn.MLP(2, 1, 4, 2, key=key)
    norms = layer_gradient_norms(mlp)
    assert norms.shape == (3,)
    np.testing.assert_allclose(norms[1], jnp.linalg.norm(mlp.layers[1].weight))
    assert layer_gradient_norms({"a": jnp.ones(3)}).shape == (0,)


def test_make_step_jit_equals_eager(data, key):
    model = eqx.nn.Linear(3, "scalar", use_bias=False, key=key)
    step, params, static = make_step(lsq_loss, optax.adam(1e-2), model)
    state = optax.with_extra_args_support(optax.adam(1e-2)).init(params)
    p1, _, l1, _, _ = step(params, state, data)
    p2, _, l2, _, _ = jax.jit(step)(params, state, data)
    np.testing.assert_allclose(p1.weight, p2.weight, rtol=1e-12)
    np.testing.assert_allclose(l1, l2, rtol=1e-12)


def test_update_args_hook_and_progress(data, key, capsys):
    model = eqx.nn.Linear(3, "scalar", use_bias=False, key=key)
    calls = []

    def hook(model, args, key):
        x, y = args
        return x, y + 0.0 * jr.normal(key, y.shape) + 1.0  # shifts targets each call

    res = fit(lsq_loss, model, optax.sgd(1e-2), steps=6, args=data,
              callbacks=UpdateArgs(hook, every=3), key=key,
              progress=(2, lambda i, v: calls.append(int(i))))
    jax.effects_barrier()
    # hook ran at steps 0 and 3
    np.testing.assert_allclose(res.state["args"][1], data[1] + 2.0)
    assert sorted(calls) == [0, 2, 4, 5]
    res = fit(lsq_loss, model, optax.sgd(1e-2), steps=2, args=data, progress=1)
    jax.effects_barrier()
    assert "step" in capsys.readouterr().out
    with pytest.raises(ValueError, match="steps"):
        fit(lsq_loss, model, optax.sgd(1e-2), steps=0, args=data)


def test_second_fit_compiles_nothing(data, key):
    # issue 14: a new optimiser object, a re-created closure over new data of the same
    # shape and another step count (same power-of-two bucket) reuse the compiled loop
    x, y = data
    y2 = 2.0 * y
    model = eqx.nn.Linear(3, "scalar", use_bias=False, key=key)

    def run(y, lr, steps):
        return fit(lambda m, a: lsq_loss(m, (a, y)), model, optax.adam(lr), steps=steps, args=x)

    run(y, 1e-2, 20)
    with count_compiles() as n:
        second = run(y2, 1e-2, 25)
        other_lr = run(y2, 5e-2, 25)  # x64: the learning rate is traced
    assert n[0] == 0
    assert second.history["loss"].shape == (25,) and second.history["grad_norms"].shape == (25, 1)
    jax.clear_caches()
    with count_compiles() as n:
        fresh = run(y2, 1e-2, 25)
    assert n[0] >= 1
    for a, b in zip(jax.tree_util.tree_leaves(second), jax.tree_util.tree_leaves(fresh)):
        np.testing.assert_array_equal(a, b)
    # no stale program: the other learning rate gives the result of a hand-written loop
    step, params, static = make_step(lsq_loss, optax.adam(5e-2), model)
    state = optax.with_extra_args_support(optax.adam(5e-2)).init(params)
    step = jax.jit(step)
    for _ in range(25):
        params, state, *_ = step(params, state, (x, y2))
    np.testing.assert_allclose(other_lr.value.weight, params.weight, rtol=1e-12)
    assert not np.allclose(other_lr.value.weight, second.value.weight)
    # inside the user's jit the history is cut to `steps` as well
    hist = jax.jit(lambda y: run(y, 1e-2, 25).history["loss"])(y2)
    np.testing.assert_allclose(hist, second.history["loss"], rtol=1e-12)


def test_optimistix_bfgs_and_levenberg_marquardt(data, key):
    model = eqx.nn.Linear(3, "scalar", use_bias=False, key=key)
    ref = ridge_solution(*data)
    sol = fit(lsq_loss, model, optx.BFGS(rtol=1e-12, atol=1e-12), steps=100, args=data)
    np.testing.assert_allclose(sol.value.weight[0], ref, rtol=1e-6)
    assert sol.result == RESULTS.successful and int(sol.num_steps) < 100
    assert "grad_norms" not in sol.history

    def residuals(m, a):
        x, y = a
        n = x.shape[0]
        return jnp.concatenate([(jax.vmap(m)(x) - y) / jnp.sqrt(n),
                                jnp.sqrt(1e-3) * m.weight.ravel()])

    lm = Optimistix(optx.LevenbergMarquardt(rtol=1e-12, atol=1e-12), residuals=residuals)
    sol = fit(lsq_loss, model, lm, steps=50, args=data)
    np.testing.assert_allclose(sol.value.weight[0], ref, rtol=1e-6)
    with pytest.raises(TypeError, match="residuals"):
        Optimistix(optx.LevenbergMarquardt(rtol=1e-6, atol=1e-6))
    with pytest.raises(TypeError, match="trainer"):
        fit(lsq_loss, model, "adam", steps=3, args=data)


def test_divergence_returns_best_iterate(data, key):
    # sgd(10) blows up geometrically: stopped as diverged (before the overflow), best kept
    model = eqx.nn.Linear(3, "scalar", use_bias=False, key=key)
    sol = fit(lsq_loss, model, optax.sgd(10.0), steps=200, args=data, throw=False)
    assert sol.result == RESULTS.diverged
    n = int(sol.num_steps)
    loss = np.asarray(sol.history["loss"])
    assert n < 200 and loss[n - 1] > 1e8 * loss[0] and np.all(np.isnan(loss[n:]))
    np.testing.assert_allclose(sol.stats["loss"], np.nanmin(loss[:n]))
    np.testing.assert_allclose(lsq_loss(sol.value, data)[0], sol.stats["loss"], rtol=1e-10)
    with pytest.raises(Exception, match="divergence"):
        fit(lsq_loss, model, optax.sgd(10.0), steps=200, args=data)
    # with the ratio test off, the same run ends at the overflow: still `diverged`
    off = fit(lsq_loss, model, optax.sgd(10.0), steps=200, args=data, divergence=None,
              throw=False)
    assert off.result == RESULTS.diverged and int(off.num_steps) > n
    assert not np.isfinite(np.asarray(off.history["loss"])[int(off.num_steps) - 1])


def test_target_loss_and_validation_patience(data, key):
    model = eqx.nn.Linear(3, "scalar", use_bias=False, key=key)
    sol = fit(lsq_loss, model, optax.adam(5e-2), steps=400, args=data, stop=TargetLoss(0.1))
    n = int(sol.num_steps)
    assert sol.result == RESULTS.successful and n < 400
    assert sol.history["loss"][n - 1] <= 0.1 < sol.history["loss"][n - 2]
    # the returned model is the iterate that reached the target
    np.testing.assert_allclose(lsq_loss(sol.value, data)[0], sol.history["loss"][n - 1],
                               rtol=1e-10)
    bad = fit(lsq_loss, model, optax.adam(1e-4), steps=5, args=data, stop=TargetLoss(1e-9),
              throw=False)
    assert bad.result == RESULTS.max_steps_reached
    # validation on contradicting targets: its loss rises, the best (initial) model is kept
    x, y = data
    valid = lambda m: jnp.mean((jax.vmap(m)(x) + y) ** 2)
    sol = fit(lsq_loss, model, optax.adam(5e-2), steps=100, args=data,
              stop=ValidationPatience(valid, every=5, patience=2))
    assert bool(sol.stats["stopped_early"]) and int(sol.num_steps) == 10
    assert int(sol.stats["best_step"]) == 0
    np.testing.assert_allclose(sol.value.weight, model.weight)
    assert sol.history["valid_loss"].shape == (20,)
    with pytest.raises(ValueError, match="patience"):
        ValidationPatience(valid, every=5, patience=0)


def test_record_and_modify_model(data, key):
    model = eqx.nn.Linear(3, "scalar", use_bias=False, key=key)
    sol = fit(lsq_loss, model, optax.sgd(1e-2), steps=10, args=data, callbacks=Record(every=3))
    snaps = sol.history["snapshots"]
    assert snaps["loss"].shape == (4,) and snaps["params"].weight.shape == (4, 1, 3)
    np.testing.assert_array_equal(snaps["step"], [0, 3, 6, 9])
    np.testing.assert_allclose(snaps["loss"], sol.history["loss"][::3])
    np.testing.assert_allclose(snaps["params"].weight[0], model.weight)
    g = jax.grad(lambda m: lsq_loss(m, data)[0])(model)
    np.testing.assert_allclose(snaps["grad_norm"][0], jnp.linalg.norm(g.weight), rtol=1e-10)
    # a jump: reset the weights to zero every 4 steps; the loss at step 4 is that of zero
    zero = lambda m, a, k: eqx.tree_at(lambda l: l.weight, m, jnp.zeros_like(m.weight))
    sol = fit(lsq_loss, model, optax.sgd(1e-2), steps=6, args=data,
              callbacks=(ModifyModel(zero, every=4), LossWeights(lambda m, a, k: a)))
    np.testing.assert_allclose(sol.history["loss"][4], lsq_loss(zero(model, 0, 0), data)[0])
    with pytest.raises(ValueError, match="every"):
        Record(every=0)
    with pytest.raises(TypeError, match="callbacks"):
        fit(lsq_loss, model, optax.sgd(1e-2), steps=2, args=data, callbacks=print)


def test_fit_under_vmap_and_grad(data, key):
    model = eqx.nn.Linear(3, "scalar", use_bias=False, key=key)
    x, y = data

    def final(scale):
        return fit(lsq_loss, model, optax.sgd(1e-2), steps=4, args=(x, scale * y)).stats["loss"]

    losses = jax.vmap(final)(jnp.array([1.0, 2.0]))
    np.testing.assert_allclose(losses[0], final(1.0), rtol=1e-10)
    # a while_loop has no reverse-mode derivative: jax says so
    with pytest.raises(ValueError, match="Reverse-mode"):
        jax.grad(final)(1.0)


def test_bad_input(data, key):
    model = eqx.nn.Linear(3, "scalar", use_bias=False, key=key)
    with pytest.raises(ValueError, match="progress"):
        fit(lsq_loss, model, optax.sgd(1e-2), steps=2, args=data, progress=0)
    with pytest.raises(TypeError, match="progress"):
        fit(lsq_loss, model, optax.sgd(1e-2), steps=2, args=data, progress=(1, 2, 3))
    with pytest.raises(TypeError, match="stop"):
        fit(lsq_loss, model, optax.sgd(1e-2), steps=2, args=data, stop=0.1)
    with pytest.raises(TypeError, match="loss_fn"):
        fit(None, model, optax.sgd(1e-2), steps=2, args=data)
    with pytest.raises(TypeError, match="optax"):
        Optax("adam")
    with pytest.raises(ValueError, match="every"):
        UpdateArgs(lambda m, a, k: a, every=0)


def test_custom_callback_jumps_from_recorded_params(data, key):
    # the shape of a Koopman jump: record in `after`, replace the model in `before`
    from jaxsci.train import AbstractCallback

    class Extrapolate(AbstractCallback):
        every: int = eqx.field(static=True)

        def init(self, params, static, args, bucket):
            return (params, params)  # (params two steps back, params one step back)

        def after(self, step, params, values, grads, state):
            return (state[1], params)

        def before(self, step, model, args, key, state):
            def jump(m):
                new = jax.tree.map(lambda a, b: a + 5.0 * (a - b), state[1], state[0])
                return eqx.combine(new, eqx.filter(m, eqx.is_inexact_array, inverse=True))

            pred = (step % self.every == 0) & (step > 0)
            dyn, static = eqx.partition(model, eqx.is_array)
            out = jax.lax.cond(pred, lambda d: eqx.filter(jump(eqx.combine(d, static)),
                                                          eqx.is_array), lambda d: d, dyn)
            return eqx.combine(out, static), args, state

    model = eqx.nn.Linear(3, "scalar", use_bias=False, key=key)
    sol = fit(lsq_loss, model, optax.sgd(1e-2), steps=12, args=data, callbacks=Extrapolate(6))
    plain = fit(lsq_loss, model, optax.sgd(1e-2), steps=12, args=data,
                callbacks=Record(every=1))
    w = plain.history["snapshots"]["params"].weight
    np.testing.assert_allclose(sol.history["loss"][:6], plain.history["loss"][:6], rtol=1e-12)
    jumped = eqx.tree_at(lambda l: l.weight, model, w[5] + 5.0 * (w[5] - w[4]))
    np.testing.assert_allclose(sol.history["loss"][6], lsq_loss(jumped, data)[0], rtol=1e-10)
