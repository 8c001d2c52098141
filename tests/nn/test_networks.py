"""jaxsci.nn.MLP / ResNet: eqs. 8-10 against hand-written forward passes."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from helpers import check_grad_fd, check_jit_eager, check_vmap_loop

import jaxsci


def _manual(model, x, residual):
    lays = model.layers
    h = model.activation(lays[0].weight @ x + lays[0].bias)
    for lay in lays[1:]:
        z = model.activation(lay.weight @ h + lay.bias)
        h = h + z if residual else z
    return h


@pytest.mark.parametrize("cls,residual", [(jaxsci.nn.MLP, False), (jaxsci.nn.ResNet, True)])
@pytest.mark.parametrize("activation", [jax.nn.relu, jnp.tanh])
def test_basis_matches_equations(key, cls, residual, activation):
    model = cls(3, 5, 4, activation=activation, key=key)
    x = jr.normal(jr.key(1), (3,))
    phi = model.basis(x)
    np.testing.assert_allclose(phi, _manual(model, x, residual), rtol=1e-12)
    # eq. 8: NN(x) = sum_i xi^L_i Phi_i(x)
    np.testing.assert_allclose(model(x), model.head.weight[0] @ phi, rtol=1e-12)
    assert model(x).shape == ()
    states = model.hidden_states(x)
    assert len(states) == 4 and all(s.shape == (5,) for s in states)
    assert model.width == 5 and model.depth == 4
    assert all(isinstance(lay, eqx.nn.Linear) for lay in model.layers)
    assert model.head.bias is None


def test_vector_head_and_with_head(key):
    model = jaxsci.nn.ResNet(2, 6, 3, out_size=3, key=key)
    x = jnp.array([0.2, -0.4])
    assert model(x).shape == (3,)
    w = jnp.arange(18.0).reshape(3, 6)
    new = model.with_head(w)
    np.testing.assert_allclose(new(x), w @ model.basis(x), rtol=1e-12)
    with pytest.raises(ValueError, match="weight"):
        model.with_head(jnp.ones((6,)))


def test_jit_vmap_grad(key):
    model = jaxsci.nn.ResNet(2, 4, 3, activation=jnp.tanh, key=key)
    xs = jr.normal(jr.key(2), (5, 2))
    check_jit_eager(model, xs[0])
    check_vmap_loop(model, (xs,))
    check_grad_fd(model, xs[0])
    # gradient w.r.t. a parameter
    lay = model.layers[1]

    def f(b):
        return eqx.tree_at(lambda m: m.layers[1].bias, model, b)(xs[0])

    check_grad_fd(f, lay.bias)


def test_float32(key):
    model = jaxsci.nn.MLP(2, 4, 2, dtype=jnp.float32, key=key)
    assert model(jnp.ones(2, jnp.float32)).dtype == jnp.float32


def test_bad_input(key):
    model = jaxsci.nn.MLP(2, 4, 2, key=key)
    with pytest.raises(ValueError, match="ONE point"):
        model(jnp.ones((3, 2)))
    with pytest.raises(ValueError, match="width"):
        jaxsci.nn.ResNet(2, 0, 2, key=key)
    with pytest.raises(ValueError, match="depth"):
        jaxsci.nn.MLP(2, 3, 1.5, key=key)
    with pytest.raises(TypeError, match="activation"):
        jaxsci.nn.MLP(2, 3, 2, activation="relu", key=key)


def test_init_surgery_applies(key):
    model = jaxsci.nn.ResNet(2, 8, 3, key=key)
    new = jaxsci.init.he(model, key=jr.key(5))
    assert len(jaxsci.init.linear_layers(new)) == 4  # 3 hidden + head
    np.testing.assert_array_equal(new.layers[2].bias, 0.0)


def test_layer_view_reads_every_mlp_the_same_way(key):
    ours = jaxsci.nn.MLP(2, 4, 3, activation=jnp.tanh, key=key)
    res = jaxsci.nn.ResNet(2, 4, 3, key=key)
    theirs = eqx.nn.MLP(2, "scalar", 4, 3, activation=jnp.tanh, key=key)
    v1, v2, v3 = (jaxsci.nn.layer_view(m) for m in (ours, res, theirs))
    assert v1.hidden == ours.layers and v1.head is ours.head and not v1.residual
    assert v2.residual and v2.activation is jax.nn.relu
    assert v3.hidden == theirs.layers[:-1] and v3.head is theirs.layers[-1]
    assert v3.activation is jnp.tanh and v1.final_activation is None is v3.final_activation
    x = jnp.array([0.3, -0.2])
    for m, v in ((ours, v1), (theirs, v3)):  # the view reproduces the forward pass
        h = x
        for lay in v.hidden:
            h = v.activation(lay(h))
        np.testing.assert_allclose(v.head(h), m(x), rtol=1e-13)
    sq = eqx.nn.MLP(2, 1, 4, 1, final_activation=jnp.square, key=key)
    assert jaxsci.nn.layer_view(sq).final_activation is jnp.square
    # usable as a `where` of eqx.tree_at, also on a filtered copy
    params = eqx.filter(theirs, eqx.is_inexact_array)
    assert len(jaxsci.nn.layer_view(params).hidden) == 3
    with pytest.raises(TypeError, match="jaxsci.nn.MLP"):
        jaxsci.nn.layer_view(eqx.nn.Linear(2, 2, key=key))
