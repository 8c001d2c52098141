"""Chunked residual loss with the hand-written Taylor-mode reverse pass (and its autodiff
fallback) against the plain whole-batch expression differentiated by JAX."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from jaxsci import pinn


def _mse(model, problem, points, chunk):
    return problem.residual_mse(model, points, chunk_size=chunk)


def _compare(model, problem, points, chunk):
    vg = eqx.filter_value_and_grad(lambda a, c: _mse(*a, c))
    v0, g0 = vg((model, problem, points), None)
    v1, g1 = eqx.filter_jit(vg)((model, problem, points), chunk)
    np.testing.assert_allclose(v1, v0, rtol=1e-12)
    np.testing.assert_allclose(eqx.filter_jit(_mse)(model, problem, points, chunk), v0,
                               rtol=1e-12)
    l0, l1 = jax.tree.leaves(g0), jax.tree.leaves(g1)
    assert len(l0) == len(l1) and len(l0) > 0
    for a, b in zip(l0, l1):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12 * float(jnp.max(jnp.abs(a))))


@pytest.mark.parametrize(
    "act, depth, bias, problem",
    [
        (jnp.tanh, 3, True, pinn.RiemannProblem(pinn.BrooksCoreyFlux(1.0), 2.5e-3)),
        (jax.nn.softplus, 2, True, pinn.ViscousBurgers()),
        (jnp.tanh, 0, True, pinn.LinearAdvection(1.0, 1.0)),
        (jnp.tanh, 2, False, pinn.LinearAdvection(0.5, 1.0)),
    ],
)
def test_taylor_reverse_pass_matches_autodiff(key, act, depth, bias, problem):
    # gradients w.r.t. weights, biases, the problem's arrays (eps, M, ...) and the points;
    # 203 points in chunks of 64 exercises the padding of the last chunk
    pts = jr.uniform(key, (203, 2))
    net = eqx.nn.MLP(2, "scalar", 7, depth, activation=act, use_bias=bias,
                     use_final_bias=bias, key=jr.fold_in(key, 1))
    _compare(net, problem, pts, 64)


def test_autodiff_chunks_for_other_models(key):
    # not a plain MLP: the chunked path differentiates `problem.residuals` by autodiff
    prob = pinn.RiemannProblem(pinn.ConcaveFlux(2.0), 1e-2)
    mlp = eqx.nn.MLP(2, "scalar", 6, 2, activation=jnp.tanh, key=key)

    class Wrapped(eqx.Module):
        mlp: eqx.nn.MLP

        def __call__(self, x):
            return jnp.sin(self.mlp(x))

    _compare(Wrapped(mlp), prob, jr.uniform(jr.fold_in(key, 2), (50, 2)), 16)


def test_chunked_loss_vmap_and_errors(key):
    prob = pinn.RiemannProblem(pinn.ConvexFlux(), 1e-2)
    pts = jr.uniform(key, (40, 2))
    nets = eqx.filter_vmap(
        lambda k: eqx.nn.MLP(2, "scalar", 5, 2, activation=jnp.tanh, key=k)
    )(jr.split(key, 3))
    g = eqx.filter_vmap(eqx.filter_grad(lambda m: _mse(m, prob, pts, 16)))(nets)
    for i in range(3):
        net_i = jax.tree.map(lambda x: x[i] if eqx.is_array(x) else x, nets)
        gi = eqx.filter_grad(lambda m: _mse(m, prob, pts, None))(net_i)
        np.testing.assert_allclose(g.layers[0].weight[i], gi.layers[0].weight, rtol=1e-9)
    with pytest.raises(ValueError, match="chunk_size"):
        _mse(net_i, prob, pts, 0)
    batch = pinn.Collocation(pts, {})
    with pytest.raises(ValueError, match="chunk_size"):
        pinn.PINNArgs(prob, batch, {"pde": 1.0}, chunk_size=2.5)
    # chunk_size=None keeps forward mode available (e.g. Hessians for Newton methods)
    args = pinn.PINNArgs(prob, batch, {"pde": 1.0}, chunk_size=None)
    params, static = eqx.partition(net_i, eqx.is_inexact_array)
    w0 = params.layers[0].weight
    h = jax.hessian(
        lambda w: pinn.pinn_loss(eqx.combine(eqx.tree_at(lambda p: p.layers[0].weight,
                                                         params, w), static), args)[0]
    )(w0)
    assert h.shape == w0.shape * 2 and bool(jnp.all(jnp.isfinite(h)))
