"""Box initialisation (eq. 13) for single layers, plain networks and ResNets."""

import itertools

import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given

import jaxsci


def _vertices(lo, hi):
    return np.array(list(itertools.product(*zip(lo, hi))))


_LAYERS = {d: eqx.nn.Linear(d, 5, key=jr.key(d)) for d in range(1, 5)}
_box_layer_jit = eqx.filter_jit(
    lambda layer, k, lo, hi, m: jaxsci.init.box_layer(layer, key=k, lo=lo, hi=hi, maximum=m)
)


@given(
    st.integers(1, 4),
    st.floats(-3, 3),
    st.floats(0.1, 5),
    st.floats(0.1, 3),
    st.integers(0, 2**31 - 1),
)
def test_box_layer_neurons_attain_maximum(d, lo0, width, maximum, seed):
    rng = np.random.default_rng(seed)
    lo = lo0 + rng.uniform(-1, 1, d)
    hi = lo + width * rng.uniform(0.2, 1.0, d)
    new = _box_layer_jit(_LAYERS[d], jr.key(seed), lo, hi, np.float64(maximum))
    z = _vertices(lo, hi) @ np.asarray(new.weight).T + np.asarray(new.bias)  # (2^d, out)
    relu = np.maximum(z, 0)
    # a linear function attains its max over a box at a vertex: max_x relu(.) == maximum
    np.testing.assert_allclose(relu.max(axis=0), maximum, rtol=1e-10)
    # the cut plane passes through the box: the neuron is also switched off somewhere
    assert np.all(z.min(axis=0) <= 1e-12)
    # the normals have unit length before scaling: w_i = k n_i with k = |w_i|
    assert np.all(np.linalg.norm(np.asarray(new.weight), axis=1) > 0)


def test_box_layer_cut_plane_through_random_point(key):
    # for 1D inputs the breakpoints -b/w are uniform on the box
    layer = eqx.nn.Linear(1, 4000, key=key)
    new = jaxsci.init.box_layer(layer, key=jr.key(1), lo=-1.0, hi=3.0)
    breaks = -np.asarray(new.bias) / np.asarray(new.weight[:, 0])
    assert breaks.min() >= -1 and breaks.max() <= 3
    np.testing.assert_allclose(np.mean(breaks), 1.0, atol=0.1)
    np.testing.assert_allclose(np.var(breaks), 16 / 12, rtol=0.1)


@pytest.mark.parametrize("cls", [jaxsci.nn.MLP, jaxsci.nn.ResNet])
def test_box_network_layer_maxima(key, cls):
    # Every neuron's maximum over the inputs its layer actually sees is <= its nominal
    # maximum (interval propagation bounds the range), and layer 1 attains it exactly.
    model = cls(2, 6, 4, key=key)
    new = jaxsci.init.box(model, key=jr.key(1), box=(-1.0, 2.0), residual_maximum=0.5)
    grid = jnp.stack(jnp.meshgrid(*[jnp.linspace(-1, 2, 31)] * 2), -1).reshape(-1, 2)
    states = jax.vmap(new.hidden_states)(grid)
    first = states[0]
    np.testing.assert_allclose(first.max(axis=0), 1.0, rtol=1e-12)
    assert float(first.min()) >= 0.0
    h_prev = first
    for l, h in enumerate(states[1:], start=2):
        inc = h - h_prev if cls is jaxsci.nn.ResNet else h
        bound = 0.5 if cls is jaxsci.nn.ResNet else 1.0
        assert float(inc.max()) <= bound + 1e-12
        h_prev = h
    # head is untouched
    np.testing.assert_array_equal(new.head.weight, model.head.weight)


def test_box_resnet_keeps_rank_where_he_collapses(key):
    # Reduced version of the paper's depth study (example: depth up to 128, width 32).
    depth, width = 32, 16
    model = jaxsci.nn.ResNet(2, width, depth, key=key)
    grid = jnp.stack(jnp.meshgrid(*[jnp.linspace(0, 1, 20)] * 2), -1).reshape(-1, 2)

    @eqx.filter_jit
    def sing(m):
        return jnp.linalg.svd(jax.vmap(m.basis)(grid), compute_uv=False)

    def rank(s):
        return int(np.sum(np.asarray(s) > s[0] * 1e-10))

    s_box, s_he, s_gl = (
        sing(f(model, key=jr.key(2)))
        for f in (jaxsci.init.box, jaxsci.init.he, jaxsci.init.glorot)
    )
    assert rank(s_box) == width
    assert rank(s_he) < width and rank(s_gl) < width
    assert s_box[0] / s_box[-1] < 1e8


def test_box_eqx_mlp_and_tanh(key):
    mlp = eqx.nn.MLP(3, 1, 5, 2, key=key)
    new = jaxsci.init.box(mlp, key=jr.key(1))
    np.testing.assert_array_equal(new.layers[-1].weight, mlp.layers[-1].weight)
    verts = _vertices(np.zeros(3), np.ones(3))
    z = verts @ np.asarray(new.layers[0].weight).T + np.asarray(new.layers[0].bias)
    np.testing.assert_allclose(z.max(0), 1.0, rtol=1e-12)
    # tanh: pre-activation max of layer 1 is 1; the next box is [tanh(zmin), tanh(1)]
    net = jaxsci.nn.MLP(1, 4, 2, activation=jnp.tanh, key=key)
    net = jaxsci.init.box(net, key=jr.key(3))
    pre = jnp.linspace(0, 1, 3)[:, None] @ net.layers[0].weight.T + net.layers[0].bias[None]
    np.testing.assert_allclose(pre.max(0), 1.0, rtol=1e-12)


def test_box_dtype_and_determinism(key):
    model = jaxsci.nn.ResNet(1, 4, 3, dtype=jnp.float32, key=key)
    a = jaxsci.init.box(model, key=jr.key(0))
    b = jaxsci.init.box(model, key=jr.key(0))
    assert a.layers[1].weight.dtype == jnp.float32
    np.testing.assert_allclose(a.layers[2].weight, b.layers[2].weight, rtol=1e-6)
    c = jaxsci.init.box(model, key=jr.key(1))
    assert not np.allclose(a.layers[0].weight, c.layers[0].weight)


def test_box_bad_input(key):
    model = jaxsci.nn.MLP(2, 4, 2, key=key)
    with pytest.raises(TypeError, match="jaxsci.nn.MLP"):
        jaxsci.init.box((eqx.nn.Linear(2, 2, key=key),), key=key)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        jaxsci.init.box(model, key=key, box=(jnp.zeros(3), 1.0))
    with pytest.raises(ValueError, match="`maximum`.*> 0"):
        jaxsci.init.box(model, key=key, maximum=0.0)
    with pytest.raises(ValueError, match="bias"):
        jaxsci.init.box_layer(eqx.nn.Linear(2, 2, use_bias=False, key=key), key=key)
    with pytest.raises(TypeError, match="PRNG key"):
        jaxsci.init.box(model, key=0)
    with pytest.raises(ValueError, match="hi > lo"):
        jaxsci.init.box(model, key=key, box=(1.0, 0.0))


def test_box_same_numbers_for_jaxsci_and_eqx_mlp(key):
    # one MLP story: both are read through jaxsci.nn.layer_view
    theirs = eqx.nn.MLP(2, "scalar", 4, 2, activation=jnp.tanh, key=key)
    ours = jaxsci.nn.MLP(2, 4, 2, activation=jnp.tanh, key=key)
    ours = eqx.tree_at(lambda m: m.layers, ours, tuple(theirs.layers[:-1]))
    a, b = jaxsci.init.box(theirs, key=jr.key(5)), jaxsci.init.box(ours, key=jr.key(5))
    for la, lb in zip(a.layers[:-1], b.layers):
        np.testing.assert_array_equal(la.weight, lb.weight)
        np.testing.assert_array_equal(la.bias, lb.bias)
