"""PDE problems: exact solutions have zero residual; constraint data; PB residual formula."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from jaxsci import pinn


@eqx.filter_jit
def _residuals(problem, model, pts):
    return jax.vmap(lambda x: problem.residual(model, x))(pts)


@eqx.filter_jit
def _exact(problem, pts):
    return jax.vmap(problem.exact)(pts)


@pytest.mark.parametrize("a0,a1", [(1.0, 0.0), (0.0, 1.0), (0.5, -0.7)])
def test_advection_exact_has_zero_residual(a0, a1, key):
    prob = pinn.LinearAdvection(a0, a1)
    pts = prob.domain.sample(16, key=key)
    r = _residuals(prob, prob.exact, pts)
    np.testing.assert_allclose(r, 0.0, atol=1e-10)
    # the seed's closed forms: a = 1 -> u0(x - t); a = x -> u0(x e^-t)
    x, t = pts[:, 0], pts[:, 1]
    if (a0, a1) == (1.0, 0.0):
        np.testing.assert_allclose(_exact(prob, pts), prob.initial(x - t), rtol=1e-12)
    if (a0, a1) == (0.0, 1.0):
        np.testing.assert_allclose(_exact(prob, pts), prob.initial(x * jnp.exp(-t)), rtol=1e-12)


def test_burgers_cole_hopf_solves_pde(key):
    prob = pinn.ViscousBurgers(nu=0.1, n_quad=64)
    pts = prob.domain.sample(8, key=key) * jnp.array([[0.9, 0.8]]) + jnp.array([[0.0, 0.1]])
    r = _residuals(prob, prob.exact, pts)
    np.testing.assert_allclose(r, 0.0, atol=1e-7)
    ic = jnp.array([[0.3, 0.0], [-0.6, 0.0]])
    np.testing.assert_allclose(_exact(prob, ic), -jnp.sin(jnp.pi * ic[:, 0]), atol=1e-12)
    bc = prob.sample_constraint("bc", 6, key=key)
    assert set(np.abs(np.asarray(bc[:, 0]))) == {1.0}


def test_riemann_problem_residual_and_data(key):
    prob = pinn.RiemannProblem(pinn.ConcaveFlux(2.0), epsilon=0.0)
    # inside the rarefaction fan (1/M < x/t < M) the exact solution is smooth: zero residual
    t = jnp.linspace(0.3, 0.9, 5)
    pts = jnp.stack([1.2 * t, t], axis=1)
    np.testing.assert_allclose(_residuals(prob, prob.exact, pts), 0.0, atol=1e-8)
    # eps term: residual of u = x^2 t adds -eps * 2 t
    prob_eps = pinn.RiemannProblem(pinn.ConvexFlux(), epsilon=0.1)
    model = lambda p: p[0] ** 2 * p[1]  # noqa: E731
    pt = jnp.array([[0.4, 0.5]])
    u, ux, uxx, ut = 0.08, 0.4, 1.0, 0.16
    np.testing.assert_allclose(_residuals(prob_eps, model, pt)[0], ut + 2 * u * ux - 0.1 * uxx)
    ic = prob.sample_constraint("ic", 5, key=key)
    bc = prob.sample_constraint("bc", 5, key=key)
    assert np.all(np.asarray(ic[:, 1]) == 0.0) and np.all(np.asarray(bc[:, 0]) == 0.0)
    assert float(prob.constraint_value("bc", bc[0])) == 1.0
    assert float(prob.constraint_value("ic", ic[0])) == 0.0
    with pytest.raises(ValueError, match="unknown constraint"):
        prob.constraint_value("top", bc[0])
    with pytest.raises(TypeError, match="AbstractFlux"):
        pinn.RiemannProblem(lambda u: u)
    with pytest.raises(ValueError, match="scalar"):
        pinn.RiemannProblem(pinn.ConvexFlux(), epsilon=jnp.ones(2))


def test_poisson_boltzmann_residual_and_hard_constraint(key):
    pos = jnp.array([[0.2, 0.0, -0.1], [-0.3, 0.1, 0.2]])
    z = jnp.array([1.0, -1.0])
    prob = pinn.PoissonBoltzmann(pos, z, kappa=0.8, xi=2.0, strength=3.0, sigma=0.2)
    model = lambda x: 0.1 * jnp.sum(x**2)  # noqa: E731  Laplacian 0.6
    x = jnp.array([0.1, -0.4, 0.3])
    r = prob.residual(model, x)
    src = sum(
        3.0 * z[n] * jnp.exp(-jnp.sum((x - pos[n]) ** 2) / (2 * 0.04)) / (2 * jnp.pi * 0.04) ** 1.5
        for n in range(2)
    )
    np.testing.assert_allclose(r, 2.0 * 0.6 - 0.64 * jnp.sinh(model(x)) + src, rtol=1e-12)
    # source integrates to strength * sum(z) (= 0 here; check one charge by quadrature)
    one = pinn.PoissonBoltzmann(pos[:1], z[:1], strength=3.0, sigma=0.2)
    g = jnp.linspace(-1, 1, 41)
    grid = jnp.stack(jnp.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
    total = jnp.sum(jax.vmap(one.source)(grid)) * (g[1] - g[0]) ** 3
    np.testing.assert_allclose(total, 3.0, rtol=1e-3)
    # hard constraint: equals g on the boundary whatever the network says
    net = eqx.nn.MLP(3, "scalar", 8, 1, key=key)
    hard = pinn.HardConstraintModel(net, prob.boundary_value, prob.box_sq_distance)
    bpts = prob.sample_constraint("bc", 12, key=jr.fold_in(key, 1))
    np.testing.assert_allclose(
        jax.vmap(hard)(bpts), jax.vmap(prob.boundary_value)(bpts), rtol=1e-12
    )
    assert float(prob.box_sq_distance(jnp.zeros(3))) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="\\(N, 3\\)"):
        pinn.PoissonBoltzmann(jnp.ones((2, 2)), z)
    with pytest.raises(ValueError, match="charges"):
        pinn.PoissonBoltzmann(pos, jnp.ones(3))
