"""Gradient-norm and NTK loss weights (defining balance), causal weights (monotone, 1 when
the earlier residuals vanish, the formula), causal loss in a fit-style loss function."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax.flatten_util import ravel_pytree
from hypothesis import given, strategies as st

from jaxsci import pinn

PROB = pinn.PeriodicAdvection(speed=2.0)
NET = eqx.nn.MLP(2, "scalar", 6, 1, activation=jnp.tanh, key=jr.key(3))
BATCH = pinn.Collocation(
    jr.uniform(jr.key(1), (12, 2)) * jnp.array([[2 * np.pi, 1.0]]),
    {"ic": (jnp.stack([jnp.linspace(0, 6, 5), jnp.zeros(5)], 1), jnp.sin(jnp.linspace(0, 6, 5))),
     "bc": (jnp.stack([jnp.zeros(3), jnp.linspace(0, 1, 3)], 1), -jnp.sin(2 * jnp.linspace(0, 1, 3)))},
)
ARGS = pinn.PINNArgs(PROB, BATCH, {"pde": 1.0, "ic": 1.0, "bc": 1.0}, chunk_size=None)


def _grad_norms(model, args):
    p, s = eqx.partition(model, eqx.is_inexact_array)
    f = lambda p, k: pinn.loss_terms(eqx.combine(p, s), args.problem, args.batch,  # noqa: E731
                                     chunk_size=None)[k]
    g = eqx.filter_jit(lambda p: {k: jnp.linalg.norm(ravel_pytree(jax.grad(f)(p, k))[0])
                                  for k in args.weights})(p)
    return {k: float(v) for k, v in g.items()}


def test_grad_norm_weights_balance_the_gradients():
    upd = eqx.filter_jit(lambda m, a, al: pinn.grad_norm_weights(m, a, alpha=al))
    new = upd(NET, ARGS, 1.0)
    norms = _grad_norms(NET, ARGS)
    total = sum(norms.values())
    for k, n in norms.items():  # lambda_k |grad L_k| = sum_j |grad L_j| for every term
        np.testing.assert_allclose(float(new.weights[k]) * n, total, rtol=1e-10)
    half = upd(NET, ARGS, 0.5)
    np.testing.assert_allclose(half.weights["ic"], 0.5 + 0.5 * new.weights["ic"], rtol=1e-12)


def test_ntk_traces_match_jacobians_and_weights_balance():
    tr = eqx.filter_jit(pinn.ntk_traces)(NET, ARGS)
    flat, unravel = ravel_pytree(eqx.filter(NET, eqx.is_inexact_array))
    static = eqx.filter(NET, eqx.is_inexact_array, inverse=True)
    net = lambda w: eqx.combine(unravel(w), static)  # noqa: E731
    j_r = jax.jit(jax.jacrev(
        lambda w: jax.vmap(lambda x: PROB.residual(net(w), x))(BATCH.interior)))(flat)
    np.testing.assert_allclose(tr["pde"], np.sum(j_r**2), rtol=1e-10)
    j_ic = jax.jit(jax.jacrev(lambda w: jax.vmap(net(w))(BATCH.data["ic"][0])))(flat)
    np.testing.assert_allclose(tr["ic"], np.sum(j_ic**2), rtol=1e-10)
    new = eqx.filter_jit(lambda m, a: pinn.ntk_weights(m, a, alpha=1.0))(NET, ARGS)
    prod = [float(new.weights[k] * tr[k]) for k in tr]
    np.testing.assert_allclose(prod, sum(float(v) for v in tr.values()), rtol=1e-10)


@given(st.lists(st.floats(0.0, 10.0), min_size=1, max_size=8), st.floats(0.0, 5.0))
def test_causal_weights_properties(losses, eps):
    w = np.asarray(pinn.causal_weights(jnp.asarray(losses), eps))
    assert w[0] == 1.0 and np.all(np.diff(w) <= 0) and np.all(w > 0 if eps * sum(losses) < 700 else w >= 0)
    np.testing.assert_allclose(w, np.exp(-eps * (np.cumsum(losses) - np.asarray(losses))),
                               rtol=1e-12)


def test_causal_weights_one_when_earlier_residuals_vanish_and_no_gradient():
    np.testing.assert_array_equal(pinn.causal_weights(jnp.array([0.0, 0.0, 0.0, 7.0]), 3.0), 1.0)
    g = jax.grad(lambda l: jnp.sum(pinn.causal_weights(l, 1.0) * l))(jnp.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(g, np.exp(-np.array([0.0, 1.0, 3.0])))  # weights are constants


def test_causal_residual_loss_on_a_late_perturbation():
    prob = pinn.PeriodicAdvection(speed=2.0)
    # exact + g(t), g = 0 for t < 0.5: residual g'(t) only in the later chunks
    model = lambda p: prob.exact(p) + jnp.where(p[1] > 0.5, (p[1] - 0.5) ** 2, 0.0)  # noqa: E731
    t = jnp.repeat(jnp.linspace(0.0, 1.0, 8, endpoint=False) + 1 / 16, 4)
    pts = jnp.stack([jnp.tile(jnp.linspace(0.1, 6.0, 4), 8), t], axis=1)
    f = jax.jit(lambda p, e: pinn.causal_residual_loss(model, prob, p, epsilon=e, n_chunks=8))
    loss, w = f(pts, 10.0)
    np.testing.assert_array_equal(w[:5], 1.0)  # chunks 0..3 exact, chunk 4 first residual
    assert np.all(w[5:] < 1.0) and np.all(np.diff(w) <= 0)
    r2 = (2 * (t - 0.5) * (t > 0.5)) ** 2
    chunks = np.asarray(r2).reshape(8, 4).mean(1)
    np.testing.assert_allclose(loss, np.mean(np.asarray(w) * chunks), rtol=1e-10)
    # epsilon = 0 with equal chunk counts: the plain mean squared residual
    np.testing.assert_allclose(f(pts, 0.0)[0], np.mean(r2), rtol=1e-10)
    # in a fit-style loss: vmap over epsilon, gradient w.r.t. the model parameters
    args = pinn.PINNArgs(PROB, pinn.Collocation(pts, BATCH.data), ARGS.weights, chunk_size=None)
    total, terms = eqx.filter_jit(
        lambda m, a: pinn.causal_pinn_loss(m, a, epsilon=0.0, n_chunks=8))(NET, args)
    ref, _ = eqx.filter_jit(pinn.pinn_loss)(NET, args)
    np.testing.assert_allclose(total, ref, rtol=1e-10)
    assert set(terms) == {"pde", "ic", "bc", "causal_min_weight"}
    vm = eqx.filter_jit(jax.vmap(lambda e: pinn.causal_pinn_loss(NET, args, epsilon=e, n_chunks=8)[0]))
    assert np.all(np.diff(vm(jnp.array([0.0, 1.0, 10.0]))) <= 0)
