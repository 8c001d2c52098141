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
