import os
import subprocess
import sys
import textwrap

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jaxsci.diagnostics import (
    ACTIVE,
    PERMANENT,
    TENTATIVE,
    first_layer_dead,
    init_statistics,
    neuron_states,
    neuron_states_1d,
    neuron_states_sampled,
    sample_ball,
    state_counts,
)
from jaxsci.init import NormalInit, UnitHypersphereInit, sample_relu_params

WIDTHS = (1, 4, 3, 2)
SCHEMES = [UnitHypersphereInit(with_bias=True), NormalInit(with_bias=True), NormalInit(with_bias=True)]
GRID = jnp.linspace(-1.0, 1.0, 2001)[:, None]


def _exact(p):
    return state_counts(neuron_states_1d(p, 1.0))


def _dense(p):
    return state_counts(neuron_states_sampled(p, GRID, 1.0))


def test_exact_1d_matches_dense_grid_and_batch_last(key):
    # batch-last evaluation of 300 networks vs vmap of the single-network path vs a dense grid
    p = jax.jit(lambda k: sample_relu_params(k, WIDTHS, SCHEMES, batch=(200,)))(key)
    exact_b = np.moveaxis(np.asarray(jax.jit(_exact)(p)), -1, 0)
    pv = jax.tree_util.tree_map(lambda a: jnp.moveaxis(a, -1, 0), p)
    exact_v = np.asarray(jax.jit(jax.vmap(_exact))(pv))
    dense = np.asarray(jax.jit(jax.vmap(_dense))(pv))
    np.testing.assert_array_equal(exact_b, exact_v)
    np.testing.assert_array_equal(exact_b, dense)
    assert exact_b[:, :, TENTATIVE].sum() > 0 and exact_b[:, :, PERMANENT].sum() > 0
    # one network through the plain (unbatched) jitted path
    one = jax.tree_util.tree_map(lambda a: a[0], pv)
    np.testing.assert_array_equal(jax.jit(_exact)(one), exact_v[0])


def test_first_layer_rule_against_sampling(key):
    # b <= -r|w| exactly when w.x + b <= 0 on the ball (d = 3, dense sample + boundary)
    w = jr.normal(key, (400, 3))
    b = jr.normal(jr.key(1), (400,))
    x = sample_ball(jr.key(2), 20000, 3, 0.8)
    assert np.all(np.linalg.norm(x, axis=1) <= 0.8 + 1e-12)
    dead = first_layer_dead(w, b, 0.8)
    sampled_dead = np.all(np.asarray(x @ w.T + b[None]) <= 0, axis=0)
    # sampling can only miss activity: exact-dead implies sampled-dead
    assert np.all(sampled_dead[np.asarray(dead)])
    assert np.mean(sampled_dead != np.asarray(dead)) < 0.01


def test_hand_built_states():
    # layer 1: [active phi(x), dead phi(-x - 2)]; layer 2 on inputs >= 0:
    # n0 permanent (w <= 0, b <= 0), n1 tentatively dead (w = [0, 1] sees only the dead
    # neuron, b = -1), n2 active, n3 constant-positive (w = [0, 1], b = 1): dead, tentative.
    w1 = jnp.array([[1.0], [-1.0]])
    b1 = jnp.array([0.0, -2.0])
    w2 = jnp.array([[-1.0, -1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    b2 = jnp.array([0.0, -1.0, 0.0, 1.0])
    s1, s2 = jax.jit(neuron_states_1d, static_argnums=1)([(w1, b1), (w2, b2)], 1.0)
    np.testing.assert_array_equal(s1, [ACTIVE, PERMANENT])
    np.testing.assert_array_equal(s2, [PERMANENT, TENTATIVE, ACTIVE, TENTATIVE])
    mlp = eqx.nn.MLP(1, 1, 2, 2, activation=jax.nn.relu, key=jr.key(0))
    mlp = eqx.tree_at(lambda m: (m.layers[0].weight, m.layers[0].bias), mlp, (w1, b1))
    mlp = eqx.tree_at(lambda m: (m.layers[1].weight, m.layers[1].bias), mlp, (w2[:2], b2[:2]))
    s1m, s2m = eqx.filter_jit(neuron_states)(mlp, r=1.0)
    np.testing.assert_array_equal(s2m, [PERMANENT, TENTATIVE])


def test_errors(key):
    mlp = eqx.nn.MLP(2, 1, 3, 2, activation=jax.nn.relu, key=key)
    with pytest.raises(ValueError, match="required for d_in > 1"):
        neuron_states(mlp)
    assert len(neuron_states(mlp, x=sample_ball(key, 50, 2, 1.0))) == 2
    with pytest.raises(ValueError, match="d_in = 1"):
        neuron_states_1d([(jnp.ones((3, 2)), jnp.ones(3))], 1.0)
    with pytest.raises(ValueError, match="inputs"):
        neuron_states_1d([(jnp.ones((3, 1)), jnp.ones(3)), (jnp.ones((2, 4)), jnp.ones(2))], 1.0)
    with pytest.raises(ValueError, match="sample points"):
        init_statistics(key, (2, 3), NormalInit(), num=10)


_SHARD_SCRIPT = textwrap.dedent(
    """
    import jax, numpy as np
    jax.config.update("jax_enable_x64", True)
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    from jaxsci.diagnostics import init_statistics
    from jaxsci.init import NormalInit, UnitHypersphereInit
    assert len(jax.devices()) == 4
    sch = [UnitHypersphereInit(with_bias=True), NormalInit(with_bias=True)]
    key = jax.random.key(7)
    one = init_statistics(key, (1, 3, 2), sch, num=1000, chunk_size=512)
    sh = NamedSharding(Mesh(np.array(jax.devices()), ("d",)), P("d"))
    four = init_statistics(key, (1, 3, 2), sch, num=1000, chunk_size=512, sharding=sh)
    assert one.shape == (1000, 2, 3) and (one == four).all()
    print("SHARDED_OK", one[:, 0, 0].mean())
    """
)


def test_sharded_equals_single_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    out = subprocess.run(
        [sys.executable, "-c", _SHARD_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "SHARDED_OK" in out.stdout
