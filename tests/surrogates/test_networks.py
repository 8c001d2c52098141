import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from jaxsci.surrogates import (
    extend_network,
    extended_network,
    LinearInputNetwork,
    minmax_scaling,
    OutputScaling,
    tanh_network,
    weight_sensitivity,
)


def test_paper_architectures(getkey):
    two = tanh_network(10, 9, 30, 2, key=getkey())
    three = tanh_network(10, 9, 20, 3, key=getkey())
    lin = [l for l in jax.tree_util.tree_leaves(two, is_leaf=lambda x: isinstance(x, eqx.nn.Linear)) if isinstance(l, eqx.nn.Linear)]
    assert [l.weight.shape for l in lin] == [(30, 10), (30, 30), (9, 30)]
    assert len(three.layers) == 4
    assert two(jnp.zeros(10)).shape == (9,)
    p = jr.uniform(getkey(), (10,))
    # tanh hidden activation, linear output (eq. 19-20)
    h = jnp.tanh(lin[1](jnp.tanh(lin[0](p))))
    np.testing.assert_allclose(two(p), lin[2](h), rtol=1e-12)


def test_weight_sensitivity_is_column_norms(getkey):
    net = tanh_network(4, 2, 6, 2, key=getkey())
    w = net.layers[0].weight
    np.testing.assert_allclose(weight_sensitivity(net), np.sum(np.asarray(w) ** 2, axis=0))
    ext = extended_network(4, 2, 6, 2, key=getkey())
    assert isinstance(ext, LinearInputNetwork)
    assert weight_sensitivity(ext).shape == (4,)
    np.testing.assert_allclose(
        weight_sensitivity(ext), np.sum(np.asarray(ext.input_layer.weight) ** 2, axis=0)
    )
    g = eqx.filter_grad(lambda n: jnp.sum(weight_sensitivity(n)))(net)
    np.testing.assert_allclose(g.layers[0].weight, 2 * w)


def test_extend_network_is_identity(getkey):
    net = tanh_network(3, 2, 5, 2, key=getkey())
    ext = extend_network(net, 3)
    pts = jr.uniform(getkey(), (7, 3))
    np.testing.assert_allclose(jax.vmap(ext)(pts), jax.vmap(net)(pts), rtol=1e-14)
    np.testing.assert_allclose(weight_sensitivity(ext), np.ones(3))


def test_output_scaling_roundtrip(getkey):
    y = jr.normal(getkey(), (20, 3)) * jnp.array([[1.0, 10.0, 0.1]])
    shift, scale = minmax_scaling(y)
    z = (y - shift[None]) / scale[None]
    np.testing.assert_allclose(jnp.min(z, axis=0), -1.0)
    np.testing.assert_allclose(jnp.max(z, axis=0), 1.0)
    model = OutputScaling(lambda p: p, shift, scale)
    np.testing.assert_allclose(model(z[0]), y[0], rtol=1e-12)
    shift, scale = minmax_scaling(jnp.ones((4, 2)))
    np.testing.assert_allclose(scale, 1.0)


def test_bad_input(getkey):
    with pytest.raises(ValueError, match="`width`"):
        tanh_network(3, 2, 0, 2, key=getkey())
    with pytest.raises(ValueError, match="`depth`"):
        tanh_network(3, 2, 4, 0, key=getkey())
    with pytest.raises(TypeError, match="no eqx.nn.Linear"):
        weight_sensitivity(lambda x: x)
    with pytest.raises(ValueError, match="`targets`"):
        minmax_scaling(jnp.zeros(3))
