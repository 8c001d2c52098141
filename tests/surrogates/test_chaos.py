"""Generalised polynomial chaos (issue 23): marginals and germ maps, Hermite PCE exact for
polynomial models of Gaussian inputs, chaospy on a lognormal model, tensor Gauss and
Smolyak rules, sparse PCE (LARS / OMP with leave-one-out error), Ishigami from a sparse
PCE."""

import itertools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import jaxsci.surrogates as sg

# ---- marginals and the mixed basis --------------------------------------------------------

MIXED = (sg.Normal(1.0, 2.0), sg.LogNormal(0.1, 0.3), sg.Gamma(2.5, 0.5),
         sg.Beta(2.0, 3.0, -1.0, 3.0), sg.Uniform(0.0, 2.0))
MIXED_BASIS = sg.PolynomialBasis(MIXED, 2)


def test_marginal_germ_maps_and_samples():
    key = jr.key(3)
    means = [1.0, math.exp(0.1 + 0.045), 1.25, -1 + 4 * 0.4, 1.0]
    xs = np.asarray(eqx.filter_jit(MIXED_BASIS.sample)(key, 4000))
    assert xs.shape == (4000, 5)
    for j, (m, mean) in enumerate(zip(MIXED, means)):
        x = xs[:, j]
        assert np.all(m.contains(x))
        np.testing.assert_allclose(m.from_germ(m.to_germ(x)), x, rtol=1e-12)
        assert abs(x.mean() - mean) < 5 * x.std() / math.sqrt(4000)
    # a Gumbel law through the Gaussian germ Phi^{-1}(F(x))
    gumbel = sg.GaussianGerm(lambda x: jnp.exp(-jnp.exp(-x)), lambda u: -jnp.log(-jnp.log(u)))
    x = np.asarray(gumbel.sample(key, 4000))
    assert abs(x.mean() - 0.5772156649) < 5 * x.std() / math.sqrt(4000)
    assert isinstance(gumbel.family, type(sg.Normal().family))


_vander = jax.jit(sg.vandermonde)


def test_mixed_basis_orthonormal_under_tensor_gauss_rule():
    rule = sg.gauss_rule(MIXED, 3)  # exact to degree 5 >= 2 + 2 in every germ
    assert rule.nodes.shape == (3**5, 5)
    v = np.asarray(_vander(MIXED_BASIS, rule.nodes))
    w = np.asarray(rule.weights)
    np.testing.assert_allclose(v.T @ (v * w[:, None]), np.eye(MIXED_BASIS.size), atol=1e-12)
    # the uniform special case is the [PNDS] Legendre basis, value for value
    leg = sg.LegendreBasis(3, 3)
    p = jnp.array([0.2, 0.9, 0.5])
    same = sg.PolynomialBasis((sg.Uniform(),) * 3, 3)
    np.testing.assert_array_equal(leg(p), same(p))


# ---- Hermite PCE of a polynomial model of Gaussian inputs: exact --------------------------

GAUSS3 = (sg.Normal(1.0, 0.5), sg.Normal(2.0, 1.0), sg.Normal(0.0, 1.5))
H_BASIS = sg.PolynomialBasis(GAUSS3, 2)


def poly_model(x):
    # in the germs: 5.25 + 1.5 He1(xi1) + He1(xi2) + 0.5 He1 He1 + 2.25 sqrt2 He2(xi3)/sqrt2
    return jnp.stack([x[0] + x[0] * x[1] + x[2] ** 2, 2.0 + 0 * x[0]])


def test_hermite_pce_exact_for_polynomial_model_of_gaussian_inputs():
    rows = [tuple(r) for r in np.asarray(H_BASIS.indices).tolist()]
    exact = np.zeros(H_BASIS.size)
    for beta, c in {(0, 0, 0): 5.25, (1, 0, 0): 1.5, (0, 1, 0): 1.0, (1, 1, 0): 0.5,
                    (0, 0, 2): 2.25 * math.sqrt(2)}.items():
        exact[rows.index(beta)] = c
    rule = sg.gauss_rule(GAUSS3, 3)
    by_quadrature = sg.project_polynomial(H_BASIS, rule, jax.vmap(poly_model)(rule.nodes))
    pts = H_BASIS.sample(jr.key(0), 30)
    by_regression = sg.fit_polynomial(H_BASIS, pts, jax.vmap(poly_model)(pts))
    for pce in (by_quadrature, by_regression):
        np.testing.assert_allclose(pce.coefficients[:, 0], exact, atol=1e-12)
        np.testing.assert_allclose(pce.coefficients[:, 1], 2.0 * (np.arange(10) == 0), atol=1e-12)
    si = sg.sobol_indices(by_quadrature)
    v = 2.25 + 1.0 + 0.25 + 2 * 2.25**2
    np.testing.assert_allclose(si.mean, [5.25, 2.0], atol=1e-12)
    np.testing.assert_allclose(si.variance, [v, 0.0], atol=1e-11)
    np.testing.assert_allclose(si.first_order[:, 0], np.array([2.25, 1.0, 10.125]) / v, atol=1e-12)
    np.testing.assert_allclose(si.total[:, 0], np.array([2.5, 1.25, 10.125]) / v, atol=1e-12)
    np.testing.assert_allclose(si.second_order[0, 1, 0], 0.25 / v, atol=1e-12)
    np.testing.assert_allclose(si.second_order[:, :, 0], si.second_order[:, :, 0].T)
    assert float(jnp.max(si.total[:, 1])) == 0.0  # the constant output
    # the PCE is the model: values, vmap == loop, gradient
    x = pts[:4]
    np.testing.assert_allclose(jax.vmap(by_quadrature)(x), jax.vmap(poly_model)(x), atol=1e-11)
    jac = eqx.filter_jit(lambda m, p: jax.jacfwd(m)(p))(by_quadrature, x[0])
    np.testing.assert_allclose(jac, jax.jacfwd(poly_model)(x[0]), atol=1e-11)


# ---- chaospy on a lognormal-input model ---------------------------------------------------

MUS, SIGMAS = (0.0, 0.2, -0.1), (0.25, 0.2, 0.3)
LOGN = tuple(sg.LogNormal(m, s) for m, s in zip(MUS, SIGMAS))


def lognormal_model(x):
    return x[0] * x[1] + x[2] ** 2


def _lognormal_analytic():
    mu, s = np.array(MUS), np.array(SIGMAS)
    m1, m2 = np.exp(mu + s**2 / 2), np.exp(2 * mu + 2 * s**2)
    v3 = np.exp(4 * mu[2] + 8 * s[2] ** 2) - m2[2] ** 2
    var = m2[0] * m2[1] - (m1[0] * m1[1]) ** 2 + v3
    first = np.array([m1[1] ** 2 * (m2[0] - m1[0] ** 2), m1[0] ** 2 * (m2[1] - m1[1] ** 2), v3])
    return m1[0] * m1[1] + m2[2], var, first / var


def test_lognormal_model_against_chaospy():
    chaospy = pytest.importorskip("chaospy")
    # chaospy's own PCE of the lognormal inputs (Stieltjes polynomials in x), degree 2
    dist = chaospy.J(*[chaospy.LogNormal(m, s) for m, s in zip(MUS, SIGMAS)])
    expansion = chaospy.generate_expansion(2, dist)
    nodes, weights = chaospy.generate_quadrature(2, dist, rule="gaussian")
    approx = chaospy.fit_quadrature(expansion, nodes, weights, lognormal_model(nodes))
    ref = (float(chaospy.E(approx, dist)), float(chaospy.Var(approx, dist)),
           np.asarray(chaospy.Sens_m(approx, dist)))
    mean, var, first = _lognormal_analytic()
    np.testing.assert_allclose(ref[0], mean, rtol=1e-12)  # a polynomial in x: exact
    # ours: Hermite germs xi = (log x - mu) / sigma (not polynomial in x), degree 6
    rule = sg.gauss_rule(LOGN, 7)
    pce = sg.project_polynomial(sg.PolynomialBasis(LOGN, 6), rule,
                                jax.vmap(lognormal_model)(rule.nodes))
    si = sg.sobol_indices(pce)
    # measured: mean 1.8e-11, variance 1.2e-6 (relative), first order 3.5e-7 (absolute)
    np.testing.assert_allclose(si.mean[0], ref[0], rtol=1e-10)
    np.testing.assert_allclose(si.variance[0], ref[1], rtol=3e-6)
    np.testing.assert_allclose(si.first_order[:, 0], ref[2], atol=1e-6)


# ---- tensor Gauss and Smolyak rules -------------------------------------------------------

SMOL_MARG = (sg.Normal(1.0, 2.0), sg.Uniform(0.0, 2.0), sg.Gamma(2.5, 0.5))


def _monomial_integrals(rule, idx):
    x = np.asarray(rule.nodes)
    return np.asarray(rule.weights) @ np.prod(x[:, None, :] ** idx[None], axis=2)


def test_smolyak_exact_to_total_degree_2l_plus_1():
    level = 3
    rule = sg.smolyak_rule(SMOL_MARG, level)
    ref = sg.gauss_rule(SMOL_MARG, level + 2)  # exact to degree 9 per coordinate
    idx = sg.total_degree_indices(3, 2 * level + 1)
    exact = _monomial_integrals(ref, idx)
    got = _monomial_integrals(rule, idx)
    np.testing.assert_allclose(got, exact, rtol=1e-10, atol=1e-10)
    # the degree is sharp: some monomial of degree 2 l + 2 is missed
    idx8 = np.array([r for r in sg.total_degree_indices(3, 8).tolist() if sum(r) == 8])
    miss = np.abs(_monomial_integrals(rule, idx8) - _monomial_integrals(ref, idx8))
    assert miss.max() > 1e-6 * np.abs(_monomial_integrals(ref, idx8)).max()
    assert rule.marginals == SMOL_MARG
    # fewer nodes than the tensor rule of the same total degree, in 6 dimensions
    assert sg.smolyak_rule((sg.Normal(),) * 6, 2).nodes.shape[0] < 3**6 / 5
    np.testing.assert_allclose(float(jnp.sum(rule.weights)), 1.0, rtol=1e-13)
    # Stroud-5 stays the unit-cube rule, unchanged
    assert sg.stroud5(3).marginals is None


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 4), st.integers(0, 3), st.data())
def test_hypothesis_smolyak_integrates_random_polynomials(dim, level, data):
    pool = (sg.Normal(0.5, 1.5), sg.Uniform(-1.0, 2.0), sg.Beta(2.0, 1.5), sg.Gamma(3.0))
    marg = tuple(data.draw(st.sampled_from(pool)) for _ in range(dim))
    rule = sg.smolyak_rule(marg, level)
    idx = sg.total_degree_indices(dim, 2 * level + 1)
    coef = np.asarray(data.draw(st.lists(st.floats(-1, 1), min_size=idx.shape[0],
                                         max_size=idx.shape[0])))
    ref = sg.gauss_rule(marg, level + 1)
    np.testing.assert_allclose(_monomial_integrals(rule, idx) @ coef,
                               _monomial_integrals(ref, idx) @ coef, rtol=1e-9, atol=1e-9)


# ---- sparse PCE ---------------------------------------------------------------------------

PI = math.pi
ISHI = (sg.Uniform(-PI, PI),) * 3
CAND = sg.PolynomialBasis(ISHI, 12)  # s = 455 candidates
K = 200  # fewer samples than candidates
PTS = CAND.sample(jr.key(7), K)
SPARSE_TERMS = {(0, 0, 0): 1.0, (1, 0, 0): 2.0, (0, 3, 0): -0.7, (2, 0, 2): 0.4,
                (1, 1, 1): 0.25, (0, 0, 9): 0.1}


def ishigami(x):
    return jnp.sin(x[0]) + 7.0 * jnp.sin(x[1]) ** 2 + 0.1 * x[2] ** 4 * jnp.sin(x[0])


def _sparse_truth():
    rows = [tuple(r) for r in np.asarray(CAND.indices).tolist()]
    c = np.zeros(CAND.size)
    for beta, v in SPARSE_TERMS.items():
        c[rows.index(beta)] = v
    return c


def test_sparse_pce_recovers_sparse_polynomial_and_ishigami():
    truth = _sparse_truth()
    y_sparse = jax.vmap(CAND)(PTS) @ truth
    y_ishi = jax.vmap(ishigami)(PTS)
    both = sg.fit_sparse_polynomial(CAND, PTS, jnp.stack([y_sparse, y_ishi], 1), max_terms=100)
    # acceptance: exact recovery from k = 200 < s = 455 samples
    np.testing.assert_allclose(both.value.coefficients[:, 0], truth, atol=1e-9)
    assert float(both.stats["loo_error"][0]) < 1e-20
    assert np.all(np.asarray(both.stats["selected"][:, 0])[truth != 0])
    # acceptance: Ishigami first-order (and total) indices close to analytic
    a, b = 7.0, 0.1
    v = a**2 / 8 + b * PI**4 / 5 + b**2 * PI**8 / 18 + 0.5
    v1, v13 = 0.5 * (1 + b * PI**4 / 5) ** 2, 8 * b**2 * PI**8 / 225
    si = sg.sobol_indices(both.value)
    # measured: max error 1.1e-5 (first order), 1.3e-5 (total), LOO 4e-9
    np.testing.assert_allclose(si.first_order[:, 1], [v1 / v, a**2 / 8 / v, 0.0], atol=1e-3)
    np.testing.assert_allclose(si.total[:, 1], [(v1 + v13) / v, a**2 / 8 / v, v13 / v], atol=1e-3)
    assert float(both.stats["loo_error"][1]) < 1e-6
    assert int(both.stats["num_terms"][1]) <= 100
    # OMP recovers it too (one output: the unbatched path; the 2-output fit above is vmapped)
    omp = sg.fit_sparse_polynomial(CAND, PTS, y_sparse, method=sg.OMP(), max_terms=100)
    np.testing.assert_allclose(omp.value.coefficients[:, 0], truth, atol=1e-9)
    assert omp.stats["loo_path"].shape == (100, 1)
