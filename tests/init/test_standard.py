"""Tests for Glorot / He initialisation as model surgery."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsci


def _mlp(key, width=256, depth=3):
    return eqx.nn.MLP(4, 2, width, depth, key=key)


@pytest.mark.parametrize("uniform", [True, False])
def test_glorot_variance_and_zero_bias(key, uniform):
    model = _mlp(key)
    new = jaxsci.init.glorot(model, key=jr.key(1), uniform=uniform)
    for lay in jaxsci.init.linear_layers(new):
        fo, fi = lay.weight.shape
        var = float(jnp.var(lay.weight))
        if fo * fi > 10_000:
            np.testing.assert_allclose(var, 2.0 / (fi + fo), rtol=0.05)
        np.testing.assert_array_equal(lay.bias, 0.0)
        if uniform:
            assert float(jnp.max(jnp.abs(lay.weight))) <= np.sqrt(6.0 / (fi + fo))


@pytest.mark.parametrize("uniform", [False, True])
def test_he_variance_and_zero_bias(key, uniform):
    model = _mlp(key)
    new = jaxsci.init.he(model, key=jr.key(2), uniform=uniform)
    for lay in jaxsci.init.linear_layers(new):
        fo, fi = lay.weight.shape
        if fo * fi > 10_000:
            np.testing.assert_allclose(float(jnp.var(lay.weight)), 2.0 / fi, rtol=0.05)
            np.testing.assert_allclose(float(jnp.mean(lay.weight)), 0.0, atol=0.01)
        np.testing.assert_array_equal(lay.bias, 0.0)


def test_he_preserves_relu_second_moment(key):
    # He et al. 2015: with Var W = 2 / fan_in, E|h_l|^2 / width is constant across layers.
    width, depth = 512, 10
    layers = tuple(eqx.nn.Linear(width, width, key=k) for k in jr.split(key, depth))
    layers = jaxsci.init.he(layers, key=jr.key(3))
    x = jr.normal(jr.key(4), (64, width))
    m0 = float(jnp.mean(x**2))
    h = x
    for lay in layers:
        h = jax.nn.relu(jax.vmap(lay)(h))
    # layer 1: E z^2 = 2 m0, so E relu(z)^2 = m0; every later layer keeps it there
    ratio = float(jnp.mean(h**2)) / m0
    assert 0.5 < ratio < 2.0


def test_structure_dtype_and_purity(key):
    model = eqx.nn.MLP(3, "scalar", 8, 2, key=key)
    model32 = jax.tree_util.tree_map(
        lambda x: x.astype(jnp.float32) if eqx.is_inexact_array(x) else x, model
    )
    new = jaxsci.init.he(model32, key=jr.key(0))
    assert jax.tree_util.tree_structure(new) == jax.tree_util.tree_structure(model32)
    for a, b in zip(jaxsci.init.linear_layers(new), jaxsci.init.linear_layers(model32)):
        assert a.weight.dtype == jnp.float32 and a.weight.shape == b.weight.shape
    # the input is not modified, and another key gives other weights
    assert not np.allclose(new.layers[0].weight, model32.layers[0].weight)
    new2 = jaxsci.init.he(model32, key=jr.key(1))
    assert not np.allclose(new.layers[0].weight, new2.layers[0].weight)
    # deterministic
    new3 = jaxsci.init.he(model32, key=jr.key(0))
    np.testing.assert_array_equal(new.layers[1].weight, new3.layers[1].weight)
    assert new(jnp.ones(3, jnp.float32)).dtype == jnp.float32


def test_no_bias_layers_and_jit(key):
    layers = (eqx.nn.Linear(3, 5, use_bias=False, key=key), eqx.nn.Linear(5, 2, key=key))
    new = eqx.filter_jit(lambda m, k: jaxsci.init.glorot(m, key=k))(layers, jr.key(0))
    eager = jaxsci.init.glorot(layers, key=jr.key(0))
    assert new[0].bias is None
    np.testing.assert_allclose(new[0].weight, eager[0].weight)
    np.testing.assert_allclose(new[1].weight, eager[1].weight)


def test_bad_input(key):
    with pytest.raises(ValueError, match="no `eqx.nn.Linear`"):
        jaxsci.init.he({"a": jnp.ones(3)}, key=key)
    with pytest.raises(TypeError, match="PRNG key"):
        jaxsci.init.he(_mlp(key), key=3)


def test_layer_blocks_round_trip(key):
    # Linear layers are one block each; other inexact arrays are blocks of their own
    model = {"net": _mlp(key, width=3, depth=1), "scale": jnp.ones(2), "n": 4}
    blocks = jaxsci.init.layer_blocks(model)
    assert [type(b).__name__ for b in blocks] == ["Linear", "Linear", "ArrayImpl"]
    assert jaxsci.init.linear_layers(model) == blocks[:2]
    new = [jax.tree.map(lambda a: 2 * a, b) for b in blocks]
    out = jaxsci.init.replace_layer_blocks(model, new)
    np.testing.assert_array_equal(out["net"].layers[1].weight, 2 * model["net"].layers[1].weight)
    np.testing.assert_array_equal(out["scale"], 2 * model["scale"])
    assert out["n"] == 4 and out["net"].activation is model["net"].activation
    params = eqx.filter(model, eqx.is_inexact_array)
    assert len(jaxsci.init.layer_blocks(params)) == 3
    with pytest.raises(ValueError, match="3 entries"):
        jaxsci.init.replace_layer_blocks(model, new[:2])
