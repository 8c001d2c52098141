"""Named-term losses, eq. 16 weights, gradient-norm balancing, resampling, landscapes."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
import pytest

from jaxsci import pinn


@pytest.fixture
def setup(key):
    prob = pinn.RiemannProblem(pinn.BrooksCoreyFlux(1.0), epsilon=0.01)
    batch = pinn.sample_collocation(
        prob, key=key, n_interior=32, n_constraint={"ic": 6, "bc": 4}, sampler=pinn.Sobol()
    )
    net = eqx.nn.MLP(2, "scalar", 6, 2, activation=jnp.tanh, key=jr.fold_in(key, 1))
    return prob, batch, net


def test_loss_terms_and_eq16(setup):
    prob, batch, net = setup
    terms = eqx.filter_jit(pinn.loss_terms)(net, prob, batch)
    r = jnp.stack([prob.residual(net, x) for x in batch.interior[:32]])
    np.testing.assert_allclose(terms["pde"], jnp.mean(r**2), rtol=1e-10)
    pi, vi = batch.data["ic"]
    np.testing.assert_allclose(terms["ic"], jnp.mean((jax.vmap(net)(pi) - vi) ** 2), rtol=1e-12)
    w = pinn.eq16_weights(batch)
    assert w == {"pde": 1.0, "ic": 0.6, "bc": 0.4}
    # eq. 16: L_u is the mean over all N_u = 10 constraint points together
    pts = jnp.concatenate([batch.data["ic"][0], batch.data["bc"][0]])
    vals = jnp.concatenate([batch.data["ic"][1], batch.data["bc"][1]])
    l_u = jnp.mean((jax.vmap(net)(pts) - vals) ** 2)
    args = pinn.PINNArgs(prob, batch)
    loss, _ = eqx.filter_jit(pinn.pinn_loss)(net, args)
    np.testing.assert_allclose(loss, terms["pde"] + l_u, rtol=1e-10)
    with pytest.raises(ValueError, match="no entry"):
        pinn.weighted_sum(terms, {"pde": 1.0})
    with pytest.raises(ValueError, match="not in"):
        pinn.sample_collocation(prob, key=jr.key(0), n_interior=4, n_constraint={"top": 3})


def test_balance_weights_formula(setup):
    prob, batch, net = setup
    args = pinn.PINNArgs(prob, batch, {"pde": 1.0, "ic": 1.0, "bc": 2.0})
    new = eqx.filter_jit(pinn.balance_weights)(net, args, alpha=0.5)
    params, static = eqx.partition(net, eqx.is_inexact_array)

    def grads(name):
        g = jax.grad(lambda p: pinn.loss_terms(eqx.combine(p, static), prob, batch)[name])(params)
        return jnp.concatenate([jnp.ravel(x) for x in jtu.tree_leaves(g)])

    gmax = jnp.max(jnp.abs(grads("pde")))
    for nm, old in [("ic", 1.0), ("bc", 2.0)]:
        lam_hat = gmax / jnp.mean(jnp.abs(grads(nm)))
        np.testing.assert_allclose(new.weights[nm], 0.5 * old + 0.5 * lam_hat, rtol=1e-8)
    assert float(new.weights["pde"]) == 1.0



def test_balance_weights_as_loss_weights_callback(setup):
    """`LossWeights(balance_weights, every=k)` works as documented: fit calls it as
    `fn(model, args, key)` every k steps and carries the new weights in `state["args"]`."""
    from jaxsci.train import LossWeights, fit
    import optax
    prob, batch, net = setup
    args = pinn.PINNArgs(prob, batch, {"pde": 1.0, "ic": 1.0, "bc": 1.0})
    sol = fit(pinn.pinn_loss, net, optax.adam(1e-3), steps=3, args=args,
              callbacks=LossWeights(pinn.balance_weights, every=2))
    w = sol.state["args"].weights
    assert float(w["pde"]) == 1.0
    assert all(np.isfinite(float(w[k])) and float(w[k]) != 1.0 for k in ("ic", "bc"))

def test_resample_changes_interior_only(setup, key):
    prob, batch, net = setup
    args = pinn.PINNArgs(prob, batch)
    new = pinn.resample(args, key=jr.fold_in(key, 7))
    assert new.batch.interior.shape == batch.interior.shape
    assert not np.allclose(new.batch.interior, batch.interior)
    np.testing.assert_array_equal(new.batch.data["ic"][0], batch.data["ic"][0])


def test_landscape(setup, key):
    prob, batch, net = setup
    d1 = pinn.filter_normalized_direction(net, key=jr.fold_in(key, 2))
    d2 = pinn.filter_normalized_direction(net, key=jr.fold_in(key, 3), ignore_bias=True)
    for lin, dlin in zip(net.layers, d1.layers):
        np.testing.assert_allclose(
            jnp.linalg.norm(dlin.weight, axis=1), jnp.linalg.norm(lin.weight, axis=1), rtol=1e-10
        )
        np.testing.assert_allclose(jnp.linalg.norm(dlin.bias), jnp.linalg.norm(lin.bias))
    assert all(float(jnp.abs(layer.bias).max()) == 0.0 for layer in d2.layers)
    loss = lambda m: pinn.pinn_loss(m, pinn.PINNArgs(prob, batch))[0]  # noqa: E731
    a = jnp.linspace(-0.5, 0.5, 3)
    b = jnp.linspace(-0.5, 0.5, 4)
    surf = eqx.filter_jit(pinn.loss_surface)(loss, net, d1, d2, a, b)
    assert surf.shape == (3, 4)
    params, static = eqx.partition(net, eqx.is_inexact_array)
    moved = jtu.tree_map(lambda p, y: p - 0.5 * y, params, eqx.filter(d2, eqx.is_inexact_array))
    np.testing.assert_allclose(surf[1, 0], loss(eqx.combine(moved, static)), rtol=1e-10)
    chunked = eqx.filter_jit(pinn.loss_surface)(loss, net, d1, d2, a, b, batch_size=5)
    np.testing.assert_allclose(chunked, surf, rtol=1e-12)
    with pytest.raises(ValueError, match="1-D"):
        pinn.loss_surface(loss, net, d1, d2, jnp.ones((2, 2)), b)
