"""jaxsci.train.fit: Adam and L-BFGS, history, per-layer gradient norms, hooks."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

from jaxsci.train import fit, layer_gradient_norms, make_step


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
    np.testing.assert_allclose(res.model.weight[0], ref, rtol=1e-6)
    res_adam = fit(lsq_loss, model, optax.adam(5e-2), steps=400, args=data)
    np.testing.assert_allclose(res_adam.model.weight[0], ref, atol=2e-3)
    assert set(res.history) == {"loss", "fit", "l2"}
    assert res.history["loss"].shape == (30,)
    assert res.grad_norms.shape == (30, 1)
    # history[0] is the loss at the initial parameters, grad norm of that loss
    loss0, _ = lsq_loss(model, data)
    np.testing.assert_allclose(res.history["loss"][0], loss0, rtol=1e-12)
    g = jax.grad(lambda m: lsq_loss(m, data)[0])(model)
    np.testing.assert_allclose(res.grad_norms[0, 0], jnp.linalg.norm(g.weight), rtol=1e-10)
    # resume from the returned optimiser state
    more = fit(lsq_loss, res_adam.model, optax.adam(5e-2), steps=5, args=data,
               opt_state=res_adam.opt_state)
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

    res = fit(lsq_loss, model, optax.sgd(1e-2), steps=6, args=data, update_args=hook,
              update_every=3, key=key, progress_every=2,
              progress_fn=lambda i, v: calls.append(int(i)))
    jax.effects_barrier()
    # hook ran at steps 0 and 3
    np.testing.assert_allclose(res.args[1], data[1] + 2.0)
    assert sorted(calls) == [0, 2, 4, 5]
    res = fit(lsq_loss, model, optax.sgd(1e-2), steps=2, args=data, progress_every=1)
    jax.effects_barrier()
    assert "step" in capsys.readouterr().out
    with pytest.raises(ValueError, match="steps"):
        fit(lsq_loss, model, optax.sgd(1e-2), steps=0, args=data)
