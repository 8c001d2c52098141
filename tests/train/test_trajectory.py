"""Trajectory recording: agreement with a Python loop, flattening round trips, vmap, errors."""

import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from helpers import assert_tree_allclose

from jaxsci.train import (
    from_per_layer,
    from_per_neuron,
    optax_step,
    per_layer,
    per_neuron,
    record_trajectories,
    record_trajectory,
)

X = jnp.linspace(-1, 1, 16)[:, None]
Y = jnp.sin(2 * X[:, 0])


def loss_fn(m):
    return jnp.mean((jax.vmap(m)(X) - Y) ** 2)


def _mlp(key, width=3):
    return eqx.nn.MLP(1, "scalar", width, 2, activation=jnp.tanh, key=key)


OPT = optax.adam(1e-2)
STEP = optax_step(loss_fn, OPT)


@eqx.filter_jit
def _record(p):
    return record_trajectory(STEP, p, OPT.init(eqx.filter(p, eqx.is_array)), num_snapshots=4, every=3)


def test_matches_python_loop(key):
    mlp = _mlp(key)
    traj = _record(mlp)
    p, s = mlp, OPT.init(eqx.filter(mlp, eqx.is_array))
    for j in range(12):
        if j % 3 == 0:
            snap = jax.tree_util.tree_map(lambda a: a[j // 3] if eqx.is_array(a) else a, traj.params)
            assert_tree_allclose(snap, p, rtol=1e-10, atol=1e-12)
            loss, g = eqx.filter_value_and_grad(loss_fn)(p)
            np.testing.assert_allclose(traj.loss[j // 3], loss, rtol=1e-10)
            np.testing.assert_allclose(traj.grad_norm[j // 3], optax.global_norm(g), rtol=1e-10)
        p, s, _ = STEP(p, s)
    assert_tree_allclose(traj.final_params, p, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(traj.step, [0, 3, 6, 9])
    shapes = [a.shape for a in traj.layer_snapshots()]
    assert shapes == [(6, 4), (12, 4), (4, 4)]
    assert [a.shape for a in traj.neuron_snapshots()] == [(3, 2, 4), (3, 4, 4), (1, 4, 4)]


def test_vmap_over_seeds_equals_loop(key):
    keys = jax.random.split(key, 2)
    mlps = eqx.filter_vmap(_mlp)(keys)
    states = eqx.filter_vmap(lambda m: OPT.init(eqx.filter(m, eqx.is_array)))(mlps)
    batched = eqx.filter_jit(
        lambda m, s: record_trajectories(STEP, m, s, num_snapshots=4, every=3)
    )(mlps, states)
    for i in range(2):
        single = _record(_mlp(keys[i]))
        np.testing.assert_allclose(batched.loss[i], single.loss, rtol=1e-10)


def test_user_step_function(key):
    # any step function (here: plain gradient descent written by hand, no gradient norm)
    def gd(p, s):
        loss, g = eqx.filter_value_and_grad(loss_fn)(p)
        return eqx.apply_updates(p, jax.tree_util.tree_map(lambda x: -0.1 * x, g)), s + 1, {"loss": loss}

    traj = eqx.filter_jit(lambda p: record_trajectory(gd, p, jnp.asarray(0), num_snapshots=3, every=2))(_mlp(key))
    assert int(traj.final_state) == 6
    assert np.isnan(np.asarray(traj.grad_norm)).all()
    assert traj.loss[-1] < traj.loss[0]


@settings(max_examples=6)
@given(st.integers(1, 4), st.integers(1, 3))
def test_flatten_round_trip(width, depth):
    mlp = eqx.nn.MLP(2, 3, width, depth, key=jax.random.key(width + 10 * depth))
    assert eqx.tree_equal(from_per_neuron(mlp, per_neuron(mlp)), mlp)
    assert eqx.tree_equal(from_per_layer(mlp, per_layer(mlp)), mlp)
    rows = per_neuron(mlp)
    assert rows[0].shape == (width, 3)  # [W_i, b_i] per neuron
    assert sum(v.size for v in per_layer(mlp)) == sum(
        x.size for x in jax.tree_util.tree_leaves(eqx.filter(mlp, eqx.is_array))
    )


def test_bad_input(key):
    with pytest.raises(ValueError, match="every"):
        record_trajectory(STEP, _mlp(key), None, num_snapshots=2, every=0)
    with pytest.raises(ValueError, match="blocks"):
        from_per_neuron(_mlp(key), [jnp.zeros((3, 2))])
    bad = lambda m: jnp.mean(jax.vmap(m)(X)) * jnp.nan
    p = _mlp(key)
    with pytest.raises(Exception, match="Non-finite"):
        record_trajectory(optax_step(bad, OPT), p, OPT.init(eqx.filter(p, eqx.is_array)), num_snapshots=2)
    # throw=False records the non-finite values and leaves the decision to the caller
    traj = record_trajectory(optax_step(bad, OPT), p, OPT.init(eqx.filter(p, eqx.is_array)),
                             num_snapshots=2, throw=False)
    assert np.isnan(np.asarray(traj.loss)).all()
