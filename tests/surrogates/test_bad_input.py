"""Bad input to jaxsci.surrogates: a clear error naming the argument or a documented
result, never a silent NaN or a wrong answer (issue 16; DESIGN rule 6)."""

import equinox as eqx
import hypothesis
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optimistix as optx
import pytest

import jaxsci.surrogates as sg
from jaxsci.testing import assert_refuses, mismatched_shapes, with_nonfinite

BASIS = sg.LegendreBasis(2, 2)  # s = 6
PTS = jr.uniform(jr.key(0), (12, 2))
RULE = sg.stroud5(2)  # 9 nodes


# ---- Sobol indices: a constant PCE (wrong result before) -----------------------------------


@pytest.mark.parametrize("level", [3.0, 3e8, 0.0])
def test_sobol_of_constant_is_zero_not_noise(level):
    # before: variance 1.5e-31 from rounding and total indices ~0.75 / 0.30
    pce = sg.fit_polynomial(BASIS, PTS, jnp.full(12, level))
    s = sg.sobol_indices(pce)
    assert float(s.variance[0]) == 0.0
    np.testing.assert_array_equal(s.first_order, np.zeros((2, 1)))
    np.testing.assert_array_equal(s.total, np.zeros((2, 1)))
    np.testing.assert_allclose(s.mean, [level], rtol=1e-12)


def test_sobol_small_but_real_variance_is_kept():
    # f = 1 + 1e-6 x1: V = 1e-12 / 12 (relative 1e-13 of the mean^2) is genuine
    pce = sg.fit_polynomial(BASIS, PTS, 1.0 + 1e-6 * PTS[:, 0])
    s = sg.sobol_indices(pce)
    np.testing.assert_allclose(s.variance, [1e-12 / 12], rtol=1e-6)
    np.testing.assert_allclose(s.total[:, 0], [1.0, 0.0], atol=1e-12)


def test_sobol_bad_coefficients():
    with pytest.raises(ValueError, match=r"`pce.coefficients` must have shape \(6, r\)"):
        sg.sobol_indices(sg.PolynomialChaos(BASIS, jnp.ones((5, 1))))
    nan = sg.PolynomialChaos(BASIS, jnp.ones((6, 1)).at[2, 0].set(jnp.nan))
    assert_refuses(lambda: sg.sobol_indices(nan), match=r"`pce.coefficients` contain NaN")
    with pytest.raises(ValueError, match=r"`degree`"):
        sg.norm_sobol_indices(jnp.ones((9, 1)), RULE, degree=-1)
    with pytest.raises(ValueError, match=r"`values` must have shape \(9, r\)"):
        sg.norm_sobol_indices(jnp.ones((4, 1)), RULE)


# ---- fit_polynomial / vandermonde / project_polynomial -------------------------------------


@pytest.mark.parametrize(
    "points, values, match",
    [
        (PTS * 2.0, PTS[:, 0], r"`points` lie outside \[0, 1\]\^q"),  # outside the domain
        (PTS - 1.0, PTS[:, 0], r"`points` lie outside"),
        (PTS.at[0, 1].set(jnp.nan), PTS[:, 0], r"`points` contain NaN"),
        (PTS, PTS[:, 0].at[3].set(jnp.nan), r"`values` contain NaN"),  # silent NaN before
        (PTS, PTS[:, 0].at[3].set(jnp.inf), r"`values` contain NaN"),
        (PTS, PTS[:5, 0], r"`values` must have shape \(12, r\)"),
        (PTS[:, :1], PTS[:, 0], r"`points` must have shape \(k, 2\)"),
        (PTS[:0], PTS[:0, 0], r"`points` is empty"),
        (PTS[:3], PTS[:3, 0], r"only k = 3 samples"),
        (jnp.zeros((12, 2)), PTS[:, 0], r"rank deficient"),
    ],
)
def test_fit_polynomial_bad_input(points, values, match):
    assert_refuses(lambda: sg.fit_polynomial(BASIS, points, values), match=match)


def test_value_checks_under_jit_and_vmap():
    out = PTS.at[0, 0].set(1.5)
    assert_refuses(lambda: sg.vandermonde(BASIS, out), match=r"`points` lie outside")
    jitted = eqx.filter_jit(sg.vandermonde)
    assert_refuses(lambda: jitted(BASIS, out), match=r"`points` lie outside")
    vals = jnp.stack([PTS[:, 0], PTS[:, 0].at[0].set(jnp.nan)])
    assert_refuses(
        lambda: jax.vmap(lambda v: sg.fit_polynomial(BASIS, PTS, v).coefficients)(vals),
        match=r"`values` contain NaN",
    )


def test_project_polynomial_and_cubature_bad_input():
    nan = jnp.ones(9).at[4].set(jnp.nan)
    assert_refuses(lambda: sg.project_polynomial(BASIS, RULE, nan), match=r"`values` contain")
    with pytest.raises(ValueError, match=r"`values` must have shape \(9, r\)"):
        sg.project_polynomial(BASIS, RULE, jnp.ones(4))
    with pytest.raises(ValueError, match=r"`points` must have shape \(k, 3\)"):
        sg.project_polynomial(sg.LegendreBasis(3, 1), RULE, jnp.ones(9))
    assert_refuses(lambda: RULE.integrate(nan), match=r"`values` contain NaN")
    assert_refuses(lambda: eqx.filter_jit(RULE.integrate)(nan), match=r"`values` contain NaN")
    with pytest.raises(ValueError, match=r"`values` must have leading axis 9"):
        RULE.integrate(jnp.ones(3))
    for bad in (0, -2, True, 2.0):
        with pytest.raises(ValueError, match=r"`dimension`"):
            sg.stroud5(bad)


def test_legendre_bad_input():
    with pytest.raises(ValueError, match=r"`degree`"):
        sg.legendre_1d(0.5, -1)
    with pytest.raises(ValueError, match=r"`x` must be a scalar"):
        sg.legendre_1d(jnp.ones(2), 2)
    with pytest.raises(ValueError, match=r"`dimension`"):
        sg.LegendreBasis(0, 2)
    with pytest.raises(ValueError, match=r"`p` must have shape \(2,\)"):
        BASIS(jnp.ones(3))
    with pytest.raises(ValueError, match=r"`degree`"):
        sg.total_degree_indices(2, -1)


# ---- POD, errors ---------------------------------------------------------------------------

Y = jr.normal(jr.key(1), (8, 4))


@pytest.mark.parametrize(
    "snapshots, kwargs, match",
    [
        (Y, dict(rank=5), r"`rank` must be an int in \[1, 4\]"),  # rank > snapshots
        (Y, dict(rank=0), r"`rank`"),
        (Y, dict(rank=2.0), r"`rank`"),
        (Y.at[0, 0].set(jnp.nan), {}, r"`snapshots` contain NaN"),
        (Y[:, :0], {}, r"`snapshots` is empty"),
        (Y[:, 0], {}, r"`snapshots` must be a matrix"),
        (jnp.zeros((8, 4)), {}, r"`snapshots` are all zero"),
        (Y, dict(delta=1.5), r"`delta`"),
        (Y, dict(delta=float("nan")), r"`delta`"),
    ],
)
def test_pod_bad_input(snapshots, kwargs, match):
    assert_refuses(lambda: sg.pod(snapshots, **kwargs), match=match)


def test_pod_methods_and_energy_rank_bad_input():
    p = sg.pod(Y, rank=2)
    with pytest.raises(ValueError, match=r"`w` must be one trajectory"):
        p.project(jnp.ones(3))
    with pytest.raises(ValueError, match=r"`a` must have shape \(2,\)"):
        p.reconstruct(jnp.ones(3))
    assert_refuses(lambda: sg.energy_rank(jnp.array([1.0, jnp.nan]), 0.9), match="finite")
    assert_refuses(lambda: sg.energy_rank(jnp.array([1.0, -1.0]), 0.9), match=">= 0")
    with pytest.raises(ValueError, match=r"`singular_values` must be a non-empty"):
        sg.energy_rank(jnp.zeros((0,)), 0.9)


def test_error_measures_bad_input():
    t = jnp.linspace(0.0, 1.0, 5)
    assert_refuses(lambda: sg.l1_error(t, t.at[1].set(jnp.nan), t), match=r"`y` contains")
    assert_refuses(lambda: sg.l1_error(t, t, t.at[1].set(jnp.inf)), match=r"`y_approx`")
    assert_refuses(lambda: sg.l1_error(t[::-1], t, t), match=r"`times` must be finite and")
    assert_refuses(lambda: sg.l1_error(jnp.zeros(5), t, t), match=r"strictly increasing")
    with pytest.raises(ValueError, match=r"`y` must have the shape of `times`"):
        sg.l1_error(t, t[:3], t)
    with pytest.raises(ValueError, match=r"`times` must be 1-D with at least 2"):
        sg.l1_error(t[:1], t[:1], t[:1])
    assert_refuses(lambda: sg.error_statistics(jnp.array([1.0, jnp.nan])), match=r"`errors`")
    with pytest.raises(ValueError, match=r"`errors` must be 1-D with at least 2"):
        sg.error_statistics(jnp.ones(1))
    errs = jnp.stack([jnp.ones(3), jnp.ones(3).at[0].set(jnp.nan)])
    assert_refuses(lambda: jax.vmap(sg.error_statistics)(errs), match=r"`errors`")


# ---- networks and fit_network --------------------------------------------------------------

NET = sg.tanh_network(2, 1, 3, 1, key=jr.key(0))
X, T = PTS, PTS[:, :1] ** 2
LM = optx.LevenbergMarquardt(rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize(
    "train, valid, match, err",
    [
        ((X, T), (X[:0], T[:0]), r"`valid` is empty", ValueError),  # was: untrained, success
        ((X[:0], T[:0]), (X, T), r"`train` is empty", ValueError),
        ((X, T.at[0, 0].set(jnp.nan)), (X, T), r"`train` targets contain NaN", ValueError),
        ((X, T), (X.at[1, 1].set(jnp.inf), T), r"`valid` inputs contain NaN", ValueError),
        ((X, jnp.ones((12, 3))), (X, jnp.ones((12, 3))), r"`model` maps one input", ValueError),
        ((jnp.ones((12, 3)), T), (jnp.ones((12, 3)), T), r"`model` cannot be applied", ValueError),
        ((X, T[:5]), (X, T), r"`train` must be a pair", ValueError),
        ((X, T), (X[:, :1], T), r"same input and output sizes", ValueError),
        (X, (X, T), r"`train` must be a pair", TypeError),
    ],
)
def test_fit_network_bad_input(train, valid, match, err):
    with pytest.raises(err, match=match):
        sg.fit_network(NET, train, valid, solver=LM, max_steps=3)


def test_network_builders_bad_input():
    with pytest.raises(ValueError, match=r"`width`"):
        sg.tanh_network(2, 1, 0, 1, key=jr.key(0))
    with pytest.raises(ValueError, match=r"`depth`"):
        sg.extended_network(2, 1, 3, True, key=jr.key(0))
    with pytest.raises(ValueError, match=r"`in_size` = 3"):
        sg.extend_network(NET, 3)
    with pytest.raises(TypeError, match=r"`model` contains no eqx.nn.Linear"):
        sg.weight_sensitivity({"w": jnp.ones(3)})
    with pytest.raises(ValueError, match=r"`max_steps`"):
        sg.fit_network(NET, (X, T), (X, T), solver=LM, max_steps=0)
    assert_refuses(lambda: sg.minmax_scaling(T.at[0, 0].set(jnp.nan)), match=r"`targets`")
    with pytest.raises(ValueError, match=r"`targets` is empty"):
        sg.minmax_scaling(T[:0])


# ---- hypothesis: random NaN injections and shape mismatches ---------------------------------


@hypothesis.settings(max_examples=15, deadline=None)
@hypothesis.given(data=st.data())
def test_random_bad_regression_data_is_refused(data):
    points, values = np.asarray(PTS), np.asarray(PTS[:, 0])
    kind = data.draw(st.sampled_from(["nan_points", "nan_values", "shape"]))
    if kind == "nan_points":
        points = data.draw(with_nonfinite(points, max_count=2))
    elif kind == "nan_values":
        values = data.draw(with_nonfinite(values, max_count=2))
    else:
        shape = data.draw(mismatched_shapes((12,)))
        values = np.zeros(shape) if shape != (12, 1) else np.zeros((13, 1))
    assert_refuses(lambda: sg.fit_polynomial(BASIS, points, values))


# ---- CubatureRule, SobolIndices: the containers refuse inconsistent arrays -----------------


@pytest.mark.parametrize(
    "nodes, weights, match",
    [
        (RULE.nodes[:, 0], RULE.weights, r"`nodes` must have shape \(n, q\)"),  # was accepted
        (RULE.nodes[:, :0], RULE.weights, r"`nodes` must have shape \(n, q\) with q >= 1"),
        (RULE.nodes[:0], RULE.weights[:0], r"`nodes` is empty"),  # was: integral 0.0
        (RULE.nodes, RULE.weights[:4], r"`weights` must have shape \(9,\)"),  # was accepted
        (RULE.nodes, RULE.weights[:, None], r"`weights` must have shape \(9,\)"),
        (RULE.nodes.at[3, 1].set(jnp.nan), RULE.weights, r"`nodes` of the CubatureRule contain NaN"),
        (RULE.nodes, RULE.weights.at[0].set(jnp.inf), r"`weights` of the CubatureRule contain NaN"),
        (2.0 * RULE.nodes - 1.0, RULE.weights, r"`nodes` of the CubatureRule lie outside \[0, 1\]"),
        (RULE.nodes, 4.0 * RULE.weights, r"`weights` .* do not sum to 1 \(.*\) \(they sum to 4\)"),
        (RULE.nodes, jnp.ones((9,), complex), r"`weights` must be real"),
    ],
)
def test_CubatureRule_bad_input(nodes, weights, match):
    # before: all accepted; NaN / unnormalised weights gave a silent NaN or wrong integral
    with pytest.raises((ValueError, TypeError), match=match):
        sg.CubatureRule(nodes, weights)


@eqx.filter_jit
def _integrate_ones(nodes, weights):
    return sg.CubatureRule(nodes, weights).integrate(jnp.ones(nodes.shape[0]))


def test_CubatureRule_value_checks_under_jit_and_vmap():
    np.testing.assert_allclose(_integrate_ones(RULE.nodes, RULE.weights), 1.0, rtol=1e-12)
    assert_refuses(lambda: _integrate_ones(RULE.nodes, RULE.weights.at[2].set(jnp.nan)),
                   match=r"`weights` of the CubatureRule contain NaN")
    assert_refuses(lambda: _integrate_ones(RULE.nodes + 0.5, RULE.weights),
                   match=r"`nodes` of the CubatureRule lie outside")
    ws = jnp.stack([RULE.weights, 0.5 * RULE.weights])
    assert_refuses(lambda: jax.vmap(_integrate_ones, (None, 0))(RULE.nodes, ws),
                   match=r"`weights` .* do not sum to 1")


def test_SobolIndices_shapes():
    s = sg.sobol_indices(sg.fit_polynomial(BASIS, PTS, PTS))  # r = 2 outputs, q = 2
    assert s.first_order.shape == s.total.shape == (2, 2) and s.mean.shape == (2,)
    r, qr = jnp.zeros(2), jnp.zeros((2, 2))
    with pytest.raises(ValueError, match=r"`mean` must have shape \(r,\)"):
        sg.SobolIndices(jnp.zeros(()), r, qr, qr)
    with pytest.raises(ValueError, match=r"`variance` must have the shape of `mean`"):
        sg.SobolIndices(r, jnp.zeros(3), qr, qr)
    with pytest.raises(ValueError, match=r"`first_order` must have shape \(q, 2\)"):
        sg.SobolIndices(r, r, jnp.zeros((2, 3)), qr)
    with pytest.raises(ValueError, match=r"`total` must have the shape of `first_order`"):
        sg.SobolIndices(r, r, qr, jnp.zeros(2))
    # vmapped results are rebuilt by jax, not re-checked against the unbatched shapes
    pces = jax.vmap(lambda v: sg.fit_polynomial(BASIS, PTS, v))(jnp.stack([PTS, 2 * PTS]))
    assert jax.vmap(sg.sobol_indices)(pces).total.shape == (2, 2, 2)


# ---- LinearInputNetwork, OutputScaling, first_linear_layer ---------------------------------

L2 = eqx.nn.Linear(2, 2, key=jr.key(3))


def test_LinearInputNetwork_bad_input():
    ok = sg.LinearInputNetwork(L2, NET)
    assert ok(PTS[0]).shape == (1,)
    # before: raw dot_general errors at the first call, or (3 -> 2) silently accepted
    with pytest.raises(ValueError, match=r"`input_layer` must map R\^q to R\^q.*in_features=2, out_features=3"):
        sg.LinearInputNetwork(eqx.nn.Linear(2, 3, key=jr.key(0)), NET)
    with pytest.raises(ValueError, match=r"`input_layer` must map R\^q to R\^q.*in_features=3"):
        sg.LinearInputNetwork(eqx.nn.Linear(3, 2, key=jr.key(0)), NET)
    with pytest.raises(ValueError, match=r"`input_layer` must map R\^q to R\^q.*'scalar'"):
        sg.LinearInputNetwork(eqx.nn.Linear("scalar", "scalar", key=jr.key(0)), NET)
    with pytest.raises(TypeError, match=r"`input_layer` must be an eqx.nn.Linear.*got MLP"):
        sg.LinearInputNetwork(NET, NET)
    with pytest.raises(TypeError, match=r"`body` must be a callable network, got NoneType"):
        sg.LinearInputNetwork(L2, None)  # was: "'NoneType' object is not callable"
    body3 = sg.tanh_network(3, 1, 3, 1, key=jr.key(0))
    with pytest.raises(ValueError, match=r"`body` cannot be applied to the output of `input_layer` \(shape \(2,\)\)"):
        sg.LinearInputNetwork(L2, body3)
    for p in (jnp.ones(3), PTS, jnp.ones(())):
        with pytest.raises(ValueError, match=r"`p` must be one point of shape \(2,\)"):
            ok(p)
    with pytest.raises(ValueError, match=r"`p` must be one point"):
        eqx.filter_jit(ok)(jnp.ones(3))


def test_OutputScaling_bad_input():
    one, zero = jnp.ones(1), jnp.zeros(1)
    np.testing.assert_allclose(sg.OutputScaling(NET, zero, -one)(PTS[0]), -NET(PTS[0]))
    cases = [
        ((NET, zero, zero), ValueError, r"`scale` has a zero entry"),  # constant output before
        ((NET, zero, one.at[0].set(jnp.nan)), ValueError, r"`scale` contains NaN or inf"),
        ((NET, zero.at[0].set(jnp.inf), one), ValueError, r"`shift` contains NaN or inf"),
        ((NET, jnp.zeros((2, 1)), one), ValueError, r"`shift` must be a scalar or have shape \(r,\)"),
        ((NET, jnp.zeros(2), jnp.ones(3)), ValueError, r"`shift` \(shape \(2,\)\) and `scale`"),
        ((None, zero, one), TypeError, r"`net` must be a callable network, got NoneType"),
        ((NET, zero, jnp.ones(1, complex)), TypeError, r"`scale` must be real"),
    ]
    for args, err, match in cases:
        with pytest.raises(err, match=match):
            sg.OutputScaling(*args)
    wide = sg.OutputScaling(NET, jnp.zeros(3), jnp.ones(3))  # NET has 1 output
    with pytest.raises(ValueError, match=r"`net` returns shape \(1,\), but `shift`/`scale` have shape \(3,\)"):
        wide(PTS[0])  # was: silently broadcast to 3 outputs
    model = sg.OutputScaling(NET, zero, one)
    with pytest.raises(ValueError, match=r"`net` cannot be applied to `p` of shape \(3,\)"):
        model(jnp.ones(3))  # was: a raw dot_general error


@eqx.filter_jit
def _scaled(scale, p):
    return sg.OutputScaling(NET, jnp.zeros(1), scale)(p)


def test_OutputScaling_value_checks_under_jit_and_vmap():
    assert _scaled(jnp.ones(1), PTS[0]).shape == (1,)
    assert_refuses(lambda: _scaled(jnp.zeros(1), PTS[0]), match=r"`scale` has a zero entry")
    scales = jnp.array([[1.0], [jnp.nan]])
    assert_refuses(lambda: jax.vmap(_scaled, (0, None))(scales, PTS[0]),
                   match=r"`scale` contains NaN")


def test_first_linear_layer_bad_input():
    ext = sg.LinearInputNetwork(L2, NET)
    assert sg.first_linear_layer(ext) is ext.input_layer
    assert sg.first_linear_layer(sg.OutputScaling(NET, 0.0, 1.0)) is NET.layers[0]
    for model, got in ((None, "NoneType"), (jnp.ones(3), "ArrayImpl"), ({}, "dict")):
        with pytest.raises(TypeError, match=rf"`model` contains no eqx.nn.Linear layer, got {got}"):
            sg.first_linear_layer(model)


# ---- generalised PCE: marginals, PolynomialBasis, Gauss / Smolyak rules, sparse PCE --------
# (issue 23)

NORM2 = (sg.Normal(0.0, 1.0), sg.Gamma(2.0, 1.0))
GBASIS = sg.PolynomialBasis(NORM2, 2)
GPTS = jnp.stack([jr.normal(jr.key(2), (12,)), 1.0 + jr.uniform(jr.key(3), (12,))], 1)


@pytest.mark.parametrize(
    "fn, exc, match",
    [
        # marginal parameters: static, finite, in domain
        (lambda: sg.Uniform(1.0, 0.0), ValueError, "`high`"),
        (lambda: sg.Uniform(np.nan, 1.0), ValueError, "`low`"),
        (lambda: sg.Normal(0.0, 0.0), ValueError, "`std`"),
        (lambda: sg.Normal(np.inf, 1.0), ValueError, "`mean`"),
        (lambda: sg.Normal(jnp.ones(2), 1.0), TypeError, "`mean`"),
        (lambda: sg.LogNormal(0.0, -1.0), ValueError, "`sigma`"),
        (lambda: sg.LogNormal(np.nan, 1.0), ValueError, "`mu`"),
        (lambda: sg.Gamma(0.0), ValueError, "`shape`"),
        (lambda: sg.Gamma(2.0, np.inf), ValueError, "`scale`"),
        (lambda: sg.Beta(-1.0, 2.0), ValueError, "`a`"),
        (lambda: sg.Beta(1.0, 0.0), ValueError, "`b`"),
        (lambda: sg.Beta(1.0, 2.0, 1.0, 1.0), ValueError, "`high`"),
        (lambda: sg.GaussianGerm("cdf", jnp.exp), TypeError, "`cdf`"),
        (lambda: sg.GaussianGerm(jnp.exp, None), TypeError, "`quantile`"),
        (lambda: sg.GaussianGerm(jnp.exp, jnp.log, (1.0, 0.0)), ValueError, "`support`"),
        (lambda: sg.Normal().sample(0, 3), TypeError, "`key`"),
        (lambda: sg.Uniform().sample(jr.key(0), 0), ValueError, "`n`"),
        (lambda: sg.Beta(2.0, 2.0).sample(jr.key(0), 2.5), TypeError, "`n`"),
        (lambda: sg.LogNormal().sample(jr.key(0), -1), ValueError, "`n`"),
        (lambda: sg.Gamma(2.0).sample("key", 3), TypeError, "`key`"),
        # the basis
        (lambda: sg.PolynomialBasis(sg.Normal(), 2), TypeError, "`marginals`"),
        (lambda: sg.PolynomialBasis((), 2), ValueError, "`marginals`"),
        (lambda: sg.PolynomialBasis((sg.Normal(), 1.0), 2), TypeError, "`marginals`"),
        (lambda: sg.PolynomialBasis(NORM2, -1), ValueError, "`degree`"),
        (lambda: sg.PolynomialBasis(NORM2, 3, q_norm=0.0), ValueError, "`q`"),
        (lambda: sg.PolynomialBasis(NORM2, 2, indices=np.ones((3, 3), int)), ValueError,
         "`indices`"),
        (lambda: sg.PolynomialBasis(NORM2, 2, indices=np.ones((3, 2))), TypeError, "`indices`"),
        (lambda: sg.PolynomialBasis(NORM2, 2, indices=np.full((3, 2), 3)), ValueError,
         "`indices`"),
        (lambda: sg.PolynomialBasis(NORM2, 2, indices=np.zeros((0, 2), int)), ValueError,
         "`indices`"),
        (lambda: GBASIS(jnp.ones(3)), ValueError, r"`p` must have shape \(2,\)"),
        (lambda: GBASIS.sample(jr.key(0), 0), ValueError, "`n`"),
        # rules
        (lambda: sg.gauss_rule(NORM2, 0), ValueError, "`points`"),
        (lambda: sg.gauss_rule(NORM2, (2, 2, 2)), ValueError, "`points`"),
        (lambda: sg.gauss_rule(NORM2, 2.0), TypeError, "`points`"),
        (lambda: sg.gauss_rule([], 2), ValueError, "`marginals`"),
        (lambda: sg.smolyak_rule(NORM2, -1), ValueError, "`level`"),
        (lambda: sg.smolyak_rule(NORM2, 1.5), TypeError, "`level`"),
        (lambda: sg.smolyak_rule("normal", 1), TypeError, "`marginals`"),
        (lambda: sg.CubatureRule(jnp.zeros((1, 2)), jnp.ones(1), (sg.Normal(),)), ValueError,
         "`marginals`"),
        (lambda: sg.CubatureRule(-jnp.ones((1, 2)), jnp.ones(1), NORM2), ValueError,
         "`nodes`.*outside the supports"),
        (lambda: sg.CubatureRule(jnp.ones((1, 2)), 2 * jnp.ones(1), NORM2), ValueError,
         "`weights`.*do not sum to 1"),
        (lambda: sg.CubatureRule(jnp.ones((1, 2)) * jnp.nan, jnp.ones(1), NORM2), ValueError,
         "`nodes`.*NaN"),
    ],
)
def test_generalised_pce_refused(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_points_outside_marginal_supports_under_jit():
    with pytest.raises(TypeError):
        sg.AbstractMarginal()  # abstract: family / support / germ maps missing
    out = GPTS.at[0, 1].set(-1.0)  # a Gamma input must be >= 0
    assert_refuses(lambda: sg.vandermonde(GBASIS, out), match=r"`points` lie outside the supp")
    assert_refuses(lambda: eqx.filter_jit(sg.vandermonde)(GBASIS, out), match="`points`")
    assert_refuses(lambda: sg.fit_polynomial(GBASIS, out, out[:, 0]), match="`points`")
    rule = sg.gauss_rule(NORM2, 2)
    # a unit-cube PCE projected with a Gaussian rule: nodes outside [0, 1]^q
    assert_refuses(lambda: sg.project_polynomial(sg.LegendreBasis(2, 1), rule, jnp.ones(4)),
                   match=r"\[0, 1\]\^q")
    si = sg.norm_sobol_indices(jnp.ones((4, 1)) * rule.nodes[:, :1], rule, degree=1)
    assert si.total.shape == (2, 1)
    with pytest.raises(ValueError, match="`second_order`"):
        sg.SobolIndices(jnp.ones(1), jnp.ones(1), jnp.ones((2, 1)), jnp.ones((2, 1)),
                        jnp.ones((2, 1)))


SP_PTS = GBASIS.sample(jr.key(4), 8)


@pytest.mark.parametrize(
    "kwargs, values, exc, match",
    [
        ({}, SP_PTS[:, 0].at[2].set(jnp.nan), ValueError, r"`values` contain NaN"),
        ({}, SP_PTS[:5, 0], ValueError, r"`values` must have shape \(8, r\)"),
        ({"max_terms": 0}, SP_PTS[:, 0], ValueError, "`max_terms`"),
        ({"max_terms": 2.0}, SP_PTS[:, 0], ValueError, "`max_terms`"),
        ({"method": "lars"}, SP_PTS[:, 0], TypeError, "`method`"),
        ({"method": sg.OMP}, SP_PTS[:, 0], TypeError, "`method`"),  # the class, not OMP()
    ],
)
def test_fit_sparse_polynomial_bad_input(kwargs, values, exc, match):
    assert_refuses(lambda: sg.fit_sparse_polynomial(GBASIS, SP_PTS, values, **kwargs),
                   match=match)


def test_fit_sparse_polynomial_bad_points_and_methods():
    assert_refuses(lambda: sg.fit_sparse_polynomial(GBASIS, SP_PTS[:1], SP_PTS[:1, 0]),
                   match="at least 2 samples")
    assert_refuses(lambda: sg.fit_sparse_polynomial(GBASIS, SP_PTS.at[0, 1].set(-2.0),
                                                    SP_PTS[:, 0]), match="`points`")
    assert_refuses(lambda: sg.fit_sparse_polynomial(GBASIS, SP_PTS[:, :1], SP_PTS[:, 0]),
                   match=r"`points` must have shape \(k, 2\)")
    # constant data (no LARS variable moves): a finite LOO error, all-zero indices
    sol = sg.fit_sparse_polynomial(GBASIS, SP_PTS, jnp.full(8, 2.0))  # LARS: cached program
    assert bool(jnp.isfinite(sol.stats["loo_error"][0]))
    assert float(jnp.max(sg.sobol_indices(sol.value).total)) == 0.0
