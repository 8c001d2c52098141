"""RAR picks the largest residuals, RAD samples with the stated density; distance-function
hard constraints satisfy the boundary data exactly."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from scipy import stats

from jaxsci import pinn

PROB = pinn.PeriodicAdvection(speed=1.0)
# u = 0 has residual 0; u = x t has residual x + t: largest at the corner (2 pi, 1)
MODEL = lambda p: p[0] * p[1]  # noqa: E731
BATCH = pinn.Collocation(jnp.full((4, 2), 0.5), {})
ARGS = pinn.PINNArgs(PROB, BATCH, {"pde": 1.0}, chunk_size=None)


def test_rar_adds_the_argmax_points():
    key = jr.key(0)
    new = eqx.filter_jit(lambda a, k: pinn.rar_refine(
        MODEL, a, k, n_candidates=64, n_add=5))(ARGS, key)
    assert new.batch.interior.shape == (9, 2)
    np.testing.assert_array_equal(new.batch.interior[:4], BATCH.interior)
    cand = PROB.domain.sample(64, key=key)
    r = np.abs(np.asarray(cand[:, 0] + cand[:, 1]))
    want = np.asarray(cand)[np.argsort(-r)[:5]]
    np.testing.assert_allclose(np.sort(new.batch.interior[4:], 0), np.sort(want, 0))


def test_rad_probabilities_formula_and_frequencies():
    r = jnp.array([0.0, 1.0, -2.0, 3.0])
    p = pinn.rad_probabilities(r, k=2.0, c=0.5)
    a = np.abs(np.asarray(r)) ** 2
    want = a / a.mean() + 0.5
    np.testing.assert_allclose(p, want / want.sum(), rtol=1e-12)
    np.testing.assert_allclose(pinn.rad_probabilities(jnp.zeros(3)), 1 / 3)  # r = 0: uniform
    np.testing.assert_allclose(pinn.rad_probabilities(r, k=0.0), 0.25)
    # frequencies of RAD draws (with replacement) follow p: chi-square goodness of fit
    args = pinn.PINNArgs(PROB, pinn.Collocation(jnp.zeros((4000, 2)), {}), {"pde": 1.0},
                         chunk_size=None)
    new = eqx.filter_jit(lambda a, k: pinn.rad_resample(
        MODEL, a, k, n_candidates=8, k=1.0, c=1.0, replace=True))(args, jr.key(1))
    kc, _ = jr.split(jr.key(1))
    cand = np.asarray(PROB.domain.sample(8, key=kc))
    pts = np.asarray(new.batch.interior)
    idx = np.argmin(np.abs(pts[:, None, 0] - cand[None, :, 0]), axis=1)
    freq = np.bincount(idx, minlength=8)
    p = np.asarray(pinn.rad_probabilities(jnp.asarray(cand.sum(1)), 1.0, 1.0))
    assert stats.chisquare(freq, 4000 * p).pvalue > 1e-3
    # without replacement (the default): distinct points, shape kept
    small = pinn.rad_resample(MODEL, ARGS, jr.key(2), n_candidates=16)
    assert small.batch.interior.shape == (4, 2)
    assert len(np.unique(np.asarray(small.batch.interior), axis=0)) == 4


def test_box_distance_hard_constraints_exact():
    prob = pinn.ViscousBurgers()
    phi = pinn.BoxDistance(prob.domain, ((0, 0), (0, 1), (1, 0)))  # x = -1, x = 1, t = 0
    net = eqx.nn.MLP(2, "scalar", 8, 2, activation=jnp.tanh, key=jr.key(0))
    model = pinn.DistanceConstrainedModel(net, lambda p: -jnp.sin(jnp.pi * p[0]), phi)
    s = jnp.linspace(-1.0, 1.0, 7)
    tt = jnp.linspace(0.0, 1.0, 7)
    faces = jnp.concatenate([jnp.stack([s, 0 * s], 1), jnp.stack([-1 + 0 * tt, tt], 1),
                             jnp.stack([1 + 0 * tt, tt], 1)])
    f = eqx.filter_jit(lambda m, p: jax.vmap(m)(p))
    u = f(model, faces)
    np.testing.assert_allclose(u[:7], -np.sin(np.pi * s), atol=1e-14)
    np.testing.assert_allclose(u[7:], 0.0, atol=1e-14)
    inner = jnp.array([[0.2, 0.5], [-0.7, 0.1]])
    assert np.all(jax.vmap(phi)(inner) > 0)
    # single face: the exact distance; normalised (d phi / dn = 1) at a face point
    np.testing.assert_allclose(pinn.BoxDistance(prob.domain, ((1, 0),))(inner[0]), 0.5)
    g = jax.grad(phi)(jnp.array([0.0, 0.0]))
    np.testing.assert_allclose(g, [0.0, 1.0], atol=1e-12)
    # the residual of the constrained model is finite and differentiable
    gr = eqx.filter_jit(eqx.filter_grad(
        lambda m: prob.residual_mse(m, inner, chunk_size=None)))(model)
    assert np.all(np.isfinite(gr.network.layers[0].weight))
