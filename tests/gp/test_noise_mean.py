"""Learnable noise (`gp.Noise`), `normalize_y` and mean functions: against scikit-learn at
fixed hyperparameters and after fitting, against hand-built references (conditioning on
y - m(X) by hand, the GLS constant), finite differences, equivariance, vmap == loop."""

import math

import equinox as eqx
import hypothesis
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor as GPR
from sklearn.gaussian_process.kernels import RBF, ConstantKernel as C, WhiteKernel

from jaxsci import RESULTS, gp, kernels as K

N, D = 15, 2
LS = np.array([0.7, 1.2])


def _data(seed, n=N, noise=0.1):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, D))
    y = np.sin(1.5 * X[:, 0]) * np.cos(X[:, 1]) + noise * rng.normal(size=n)
    return X, y, rng.uniform(-2, 2, (6, D))


KER = K.ExpQuad(1.3, jnp.asarray(LS))
_lml = eqx.filter_jit(gp.log_marginal_likelihood)  # one compile per option set, not op-by-op
X0, Y0, XS = _data(0)
Y2 = np.stack([50.0 * Y0 + 3.0, np.cos(X0[:, 1]) - 2.0], 1)


@pytest.mark.parametrize("s, alpha", [(0.03, 1e-4), (0.2, 0.0)])
def test_learned_noise_matches_sklearn_white_kernel(s, alpha):
    """`Noise(s, fixed=alpha)` is sklearn's `C * RBF + WhiteKernel(s)` with `alpha`: LML,
    predictive mean and std. sklearn's std includes the white level at test points (its
    `kernel.diag`) but not `alpha`: that is `predict(include_noise=True)`."""
    sk = GPR(C(1.3) * RBF(LS) + WhiteKernel(s), alpha=alpha if alpha else 1e-10, optimizer=None).fit(X0, Y0)
    noise = gp.Noise(s, fixed=alpha if alpha else 1e-10)
    np.testing.assert_allclose(_lml(KER, X0, Y0, noise=noise), sk.log_marginal_likelihood_value_, rtol=1e-10)
    post = gp.condition(KER, X0, Y0, noise=noise)
    mean, var = gp.predict(post, XS, include_noise=True)
    sk_mean, sk_std = sk.predict(XS, return_std=True)
    np.testing.assert_allclose(mean, sk_mean, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(np.sqrt(var), sk_std, rtol=1e-8)
    latent = gp.predict(post, XS)[1]
    np.testing.assert_allclose(latent + s, var, rtol=1e-12)  # the latent f variance + s
    # a fixed-only `noise=` of the same total is the same covariance
    same = gp.condition(KER, X0, Y0, noise=s + (alpha if alpha else 1e-10))
    np.testing.assert_allclose(same.weights, post.weights, rtol=1e-10)


@pytest.mark.parametrize("multi", [False, True])
def test_normalize_y_matches_sklearn(multi):
    y = Y2 if multi else Y2[:, 0]
    sk = GPR(C(1.3) * RBF(LS), alpha=1e-3, optimizer=None, normalize_y=True).fit(X0, y)
    lml = _lml(KER, X0, y, noise=1e-3, normalize_y=True)
    np.testing.assert_allclose(lml, sk.log_marginal_likelihood_value_, rtol=1e-10)
    post = gp.condition(KER, X0, y, noise=1e-3, normalize_y=True)
    mean, var = gp.predict(post, XS)
    sk_mean, sk_std = sk.predict(XS, return_std=True)
    np.testing.assert_allclose(mean, sk_mean, rtol=1e-8)
    np.testing.assert_allclose(np.sqrt(var), sk_std, rtol=1e-8)
    assert var.shape == sk_std.shape  # (m, p) with p outputs: the scale differs per output
    _, cov = gp.predict(post, XS, full_cov=True)
    np.testing.assert_allclose(cov, sk.predict(XS, return_cov=True)[1], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(post.y_shift, sk._y_train_mean, rtol=1e-12)
    np.testing.assert_allclose(post.y_scale, sk._y_train_std, rtol=1e-12)
    # constant targets: std 0 -> scale 1 (scikit-learn's convention)
    const = gp.condition(KER, X0, jnp.full(N, 2.5), noise=1e-3, normalize_y=True)
    assert float(const.y_scale) == 1.0 and float(const.y_shift) == 2.5


def test_per_output_noise_is_one_gp_per_output():
    """A `(p,)` learned variance: one covariance per output; each equals the single-output
    GP with that noise (LML summed, predictions per column, variance `(m, p)`)."""
    s = jnp.array([0.01, 0.1])
    post = gp.condition(KER, X0, Y2, noise=gp.Noise(s, fixed=1e-4))
    assert post.chol.shape == (2, N, N)
    mean, var = gp.predict(post, XS, include_noise=True)
    _, cov = gp.predict(post, XS, full_cov=True)
    assert var.shape == (6, 2) and cov.shape == (6, 6, 2)
    total = 0.0
    for j in range(2):
        pj = gp.condition(KER, X0, Y2[:, j], noise=float(s[j]) + 1e-4)
        mj, vj = gp.predict(pj, XS)
        np.testing.assert_allclose(mean[:, j], mj, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(var[:, j], vj + s[j], rtol=1e-10)
        np.testing.assert_allclose(np.diagonal(cov[..., j]), vj, rtol=1e-9, atol=1e-12)
        total += _lml(KER, X0, Y2[:, j], noise=s[j] + 1e-4)
    np.testing.assert_allclose(_lml(KER, X0, Y2, noise=gp.Noise(s, fixed=1e-4)), total, rtol=1e-12)


_lml_lv = jax.jit(lambda lv, fixed, y: gp.log_marginal_likelihood(KER, X0, y, noise=eqx.tree_at(lambda m: m.log_variance, gp.Noise(1.0, fixed=fixed), lv)))
_grad_lv = jax.jit(jax.grad(_lml_lv))


@hypothesis.settings(max_examples=12, deadline=None)
@hypothesis.given(st.floats(-9.0, 2.0), st.floats(0.0, 0.1), st.integers(0, 3))
def test_noise_gradient_matches_finite_differences(lv, fixed, seed):
    y = jnp.asarray(np.random.default_rng(seed).normal(size=N))
    lv, fixed = jnp.asarray(lv), jnp.asarray(fixed)
    h = 1e-5
    fd = (_lml_lv(lv + h, fixed, y) - _lml_lv(lv - h, fixed, y)) / (2 * h)
    np.testing.assert_allclose(_grad_lv(lv, fixed, y), fd, rtol=1e-5, atol=1e-7)


_pred_norm = jax.jit(lambda y: gp.predict(gp.condition(KER, X0, y, noise=1e-3, normalize_y=True), XS))


@hypothesis.settings(max_examples=12, deadline=None)
@hypothesis.given(st.floats(-1e4, 1e4).filter(lambda a: abs(a) > 1e-3), st.floats(-1e5, 1e5))
def test_normalize_y_is_equivariant(a, b):
    """y -> a y + b gives predictions a mu + b and std |a| sigma."""
    mu, var = _pred_norm(jnp.asarray(Y0))
    mu2, var2 = _pred_norm(a * jnp.asarray(Y0) + b)
    np.testing.assert_allclose(mu2, a * mu + b, rtol=1e-8, atol=1e-8 * (abs(a) + abs(b)))
    np.testing.assert_allclose(np.sqrt(var2), abs(a) * np.sqrt(var), rtol=1e-7, atol=1e-9 * abs(a))


# one compiled fit per option set, shared below
_fit_noise = eqx.filter_jit(
    lambda X, y, key: gp.fit(K.ExpQuad(1.0, jnp.ones(D)), X, y, key=key, noise=gp.Noise(1e-2, fixed=1e-10), num_restarts=6, throw=False)
)


def _sklearn_best(X, y, seed):
    kernel = C(1.0, (1e-5, 1e5)) * RBF(np.ones(D), (1e-5, 1e5)) + WhiteKernel(1e-2, (1e-5, 1e5))
    return GPR(kernel, alpha=1e-10, n_restarts_optimizer=5, random_state=seed).fit(X, y).log_marginal_likelihood_value_


def _compare_with_sklearn(seeds):
    for seed in seeds:
        X, y, _ = _data(100 + seed, noise=0.2)
        sol = _fit_noise(X, y, jr.key(seed))
        ours, sk = float(sol.stats["log_marginal_likelihood"]), _sklearn_best(X, y, seed)
        assert ours >= sk - 1e-6 * abs(sk), (seed, ours, sk)
        # the reported LML is that of the returned kernel and noise
        np.testing.assert_allclose(_lml(sol.value.kernel, X, y, noise=sol.value.noise_model), ours, rtol=1e-9)
        nv = float(sol.value.noise_model.variance)
        assert 1e-5 <= nv <= 1e5 and sol.value.noise_model.fixed.shape == ()


def test_fit_learned_noise_at_least_sklearn():
    _compare_with_sklearn(range(3))


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="dataset 6: scikit-learn's 6 starts find an interpolating optimum (lengthscales "
    "0.07/0.2, noise on the 1e-5 bound, LML -7.765); ours (6 or 20 starts) stop at -8.435. "
    "Our LML at sklearn's hyperparameters equals its value, so this is the start search, "
    "not the objective (open, see the helper's report)",
)
def test_fit_learned_noise_at_least_sklearn_10():
    _compare_with_sklearn(range(10))


_XT = jnp.linspace(0.03, 0.97, 25)[:, None]
_X10 = jnp.linspace(0.0, 1.0, 10)[:, None]
_Y10 = jnp.sin(6.0 * _X10[:, 0])


def _fit_scaled(y, **kw):
    # the options of tests/gp/test_bad_input.py's `_fit`: the raw fit's compile is shared
    return gp.fit(K.ExpQuad(), _X10, y, key=jr.key(0), noise=jnp.asarray(1e-10), jitter=0.0, num_restarts=3, throw=False, **kw)


def test_normalize_y_fixes_the_large_scale_fit():
    """The issue's complaint: targets scaled by 1e6 held the variance on the prior box's
    1e5 (reported as `optimum_on_bound`); with `normalize_y=True` the fit succeeds and its
    test error relative to the scale is the unscaled fit's."""
    truth = jnp.sin(6.0 * _XT[:, 0])
    rmse = lambda sol, c: float(jnp.sqrt(jnp.mean((gp.predict(sol.value, _XT)[0] / c - truth) ** 2)))
    raw_big = _fit_scaled(1e6 * _Y10)
    assert raw_big.result == RESULTS.optimum_on_bound
    big = _fit_scaled(1e6 * _Y10, normalize_y=True)
    unit = _fit_scaled(_Y10, normalize_y=True)
    assert big.result == RESULTS.successful and not bool(big.stats["on_bound"])
    assert unit.result == RESULTS.successful
    np.testing.assert_allclose(rmse(big, 1e6), rmse(unit, 1.0), rtol=1e-4)
    np.testing.assert_allclose(big.stats["log_marginal_likelihood"], unit.stats["log_marginal_likelihood"], rtol=1e-6)
    assert rmse(raw_big, 1e6) > 3 * rmse(big, 1e6)
    # per-start flags and the printed summary say so too
    ps = raw_big.stats["per_start"]
    assert bool(ps["on_bound"][raw_big.stats["best_start"]]) and not np.any(big.stats["per_start"]["on_bound"])
    assert "WARNING: the best optimum is held on the prior box" in gp.summary(raw_big)
    assert "WARNING" not in gp.summary(big) and "result successful" in gp.summary(big)
    with pytest.raises(TypeError, match="multistart fit"):
        gp.summary(gp.fit(KER, X0, Y0, noise=1e-3))  # condition only: no starts


def test_user_mean_is_used_exactly():
    """A plain function mean: conditioning equals conditioning on y - m(X) by hand, plus
    m(X*) at prediction; the LML is that of the residual."""
    m = lambda x: jnp.sin(x[0]) + 0.5 * x[1] ** 2
    M, MS = jax.vmap(m)(X0), jax.vmap(m)(XS)
    post = gp.condition(KER, X0, Y0, noise=1e-3, mean=m)
    ref = gp.condition(KER, X0, Y0 - M, noise=1e-3)
    np.testing.assert_allclose(post.weights, ref.weights, rtol=1e-12)
    mean, var = gp.predict(post, XS)
    rm, rv = gp.predict(ref, XS)
    np.testing.assert_allclose(mean, rm + MS, rtol=1e-12)
    np.testing.assert_allclose(var, rv, rtol=1e-12)
    np.testing.assert_allclose(
        _lml(KER, X0, Y0, noise=1e-3, mean=m), _lml(KER, X0, Y0 - M, noise=1e-3), rtol=1e-12
    )
    # with normalize_y the residual is normalised: sklearn on y - m(X), plus m(X*)
    sk = GPR(C(1.3) * RBF(LS), alpha=1e-3, optimizer=None, normalize_y=True).fit(X0, Y0 - M)
    pn = gp.condition(KER, X0, Y0, noise=1e-3, mean=m, normalize_y=True)
    np.testing.assert_allclose(gp.predict(pn, XS)[0], sk.predict(XS) + MS, rtol=1e-8)


def test_linear_mean_with_derivative_observations():
    """Gradient rows see the weights: observations of a linear function w.x + b (values and
    gradients) are explained by the mean alone (zero residual), and the conditioning equals
    the hand-built residual y - [w.x + b (value rows), w_i (gradient rows)]."""
    w, b = jnp.array([1.5, -0.7]), 0.3
    Xg = jnp.asarray(X0[:6])
    Xo, which, yo = gp.gradient_observations(Xg, jnp.tile(w, (6, 1)), Xg[:2], Xg[:2] @ w + b)
    lin = gp.LinearMean(w, b)
    post = gp.condition(KER, Xo, yo, which=which, mean=lin)
    np.testing.assert_allclose(post.weights, 0.0, atol=1e-12)
    v, g, _, _ = gp.predict_value_and_grad(post, XS)
    np.testing.assert_allclose(v, XS @ w + b, rtol=1e-12)
    np.testing.assert_allclose(g, jnp.tile(w, (6, 1)), rtol=1e-12)
    # nonlinear data: same as by hand
    yn = yo + jnp.where(which < 0, jnp.sin(Xo[:, 0]), jnp.where(which == 0, jnp.cos(Xo[:, 0]), 0.0))
    resid = yn - jnp.where(which < 0, Xo @ w + b, w[jnp.maximum(which, 0)])
    post = gp.condition(KER, Xo, yn, which=which, mean=lin)
    ref = gp.condition(KER, Xo, resid, which=which)
    np.testing.assert_allclose(post.weights, ref.weights, rtol=1e-10, atol=1e-12)
    # the LML gradient reaches the mean's leaves (learned noise on every row): vs FD
    f = lambda bias: gp.log_marginal_likelihood(KER, Xo, yn, which=which, mean=gp.LinearMean(w, bias), noise=gp.Noise(1e-3))
    vg = jax.jit(jax.value_and_grad(f))
    h = 1e-6
    np.testing.assert_allclose(vg(b)[1], (vg(b + h)[0] - vg(b - h)[0]) / (2 * h), rtol=1e-5)


@pytest.mark.slow  # suite time: 4.3 s of compile; vmap(fit) == loop also in tests/gp/test_coregion.py
def test_constant_mean_and_noise_fit_under_vmap_equals_loop():
    """data = offset + GP sample + noise, 2 datasets: `jax.vmap(gp.fit)` with a learned
    `Noise`, a fitted `ConstantMean` and `normalize_y` equals the loop of fits. The fitted
    offset c + shift is the GLS estimate 1'A^-1 y / 1'A^-1 1 at the fitted kernel and noise
    (A = K + noise I: the LML's maximiser in c) and lies within 4 standard errors of the
    true offset."""
    truth = K.ExpQuad(0.5, 0.8)
    A0 = truth(jnp.asarray(X0), jnp.asarray(X0)) + 0.01 * jnp.eye(N)
    offsets = jnp.array([5.0, -3.0])
    Yb = offsets[:, None] + (jnp.linalg.cholesky(A0) @ jr.normal(jr.key(3), (N, 2))).T
    Xb = jnp.stack([jnp.asarray(X0), jnp.asarray(X0)])
    keys = jr.split(jr.key(4), 2)
    run = lambda X, y, k: gp.fit(
        K.ExpQuad(1.0, jnp.ones(D)), X, y, key=k, noise=gp.Noise(1e-2), mean=gp.ConstantMean(), normalize_y=True, num_restarts=3, throw=False
    )
    v = eqx.filter_jit(jax.vmap(run))(Xb, Yb, keys)
    one = jnp.ones(N)
    for i in range(2):
        s = run(Xb[i], Yb[i], keys[i])
        assert s.result == RESULTS.successful
        np.testing.assert_allclose(v.stats["per_start"]["log_marginal_likelihoods"][i], s.stats["per_start"]["log_marginal_likelihoods"], rtol=1e-7, atol=1e-7)
        np.testing.assert_allclose(v.value.noise_model.log_variance[i], s.value.noise_model.log_variance, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(v.value.mean.c[i], s.value.mean.c, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(v.value.y_scale[i], s.value.y_scale, rtol=1e-12)
        post = s.value
        A = post.kernel(Xb[i], Xb[i]) + post.noise * jnp.eye(N)
        ai1 = jnp.linalg.solve(A, one)
        offset = float(post.mean.c + post.y_shift)
        np.testing.assert_allclose(offset, float(ai1 @ Yb[i] / (ai1 @ one)), rtol=1e-4)
        se = float(post.y_scale / jnp.sqrt(ai1 @ one))
        assert abs(offset - float(offsets[i])) < 4 * se, (offset, se)
        # far from the data the prediction reverts to the fitted offset
        np.testing.assert_allclose(gp.predict(post, jnp.full((1, D), 40.0))[0], offset, rtol=1e-8)


def test_float32():
    X, y = jnp.asarray(X0, jnp.float32), jnp.asarray(Y2, jnp.float32)
    k32 = K.ExpQuad(1.3, jnp.asarray(LS, jnp.float32))
    post = gp.condition(k32, X, y, noise=gp.Noise(jnp.array([1e-2, 1e-1], jnp.float32)), mean=gp.ConstantMean(jnp.zeros(2, jnp.float32)), normalize_y=True)
    mean, var = gp.predict(post, jnp.asarray(XS, jnp.float32))
    assert mean.dtype == var.dtype == jnp.float32
    ref = gp.predict(gp.condition(KER, X0, Y2, noise=gp.Noise(jnp.array([1e-2, 1e-1])), mean=gp.ConstantMean(jnp.zeros(2)), normalize_y=True), XS)
    np.testing.assert_allclose(mean, ref[0], rtol=1e-3, atol=1e-3 * 50)
    np.testing.assert_allclose(var, ref[1], rtol=1e-2, atol=1e-3)


BAD = [
    ("noise-variance", lambda: gp.Noise(-1.0), ValueError, r"`Noise\(variance\)` must be positive"),
    ("noise-variance-rank", lambda: gp.Noise(jnp.ones((2, 2))), ValueError, r"scalar .* or have shape \(p,\)"),
    ("noise-fixed", lambda: gp.Noise(1e-3, fixed=-1.0), ValueError, r"`Noise\(fixed=...\)`.*>= 0"),
    ("noise-fixed-array", lambda: gp.Noise(1e-3, fixed=jnp.array([1e-3, -1.0])), ValueError, r"`Noise\(fixed=...\)`.*>= 0"),
    ("noise-fixed-n", lambda: gp.condition(KER, X0, Y0, noise=gp.Noise(1e-3, fixed=jnp.ones(3))), ValueError, r"shape \(n,\) = \(15,\)"),
    ("noise-per-output-p", lambda: _lml(KER, X0, Y2, noise=gp.Noise(jnp.ones(3))), ValueError, r"\(p,\) = \(2,\)"),
    ("noise-per-output-1d", lambda: gp.fit(KER, X0, Y0, key=jr.key(0), noise=gp.Noise(jnp.ones(2))), ValueError, r"y has one output"),
    ("mean-not-callable", lambda: gp.condition(KER, X0, Y0, mean=3.0), TypeError, r"`mean` must be a callable"),
    ("mean-shape", lambda: gp.condition(KER, X0, Y0, mean=lambda x: x), ValueError, r"`mean\(x\)` must return"),
    ("mean-shape-p", lambda: gp.fit(KER, X0, Y2, key=jr.key(0), mean=gp.ConstantMean(jnp.zeros(3))), ValueError, r"`mean\(x\)` must return"),
    ("linear-mean-d", lambda: gp.condition(KER, X0, Y0, mean=gp.LinearMean(jnp.ones(3))), ValueError, r"`mean` must accept one point"),
    ("normalize-y", lambda: gp.condition(KER, X0, Y0, normalize_y=1), TypeError, r"`normalize_y` must be a Python bool"),
    ("normalize-y-fit", lambda: gp.fit_batched(KER, X0[None], Y0[None], key=jr.key(0), normalize_y="yes"), TypeError, r"`normalize_y` must be a Python bool"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_bad_input_traced_and_raw_mean_leaf():
    """Tier 2 under jit (a traced negative variance, a NaN log-variance) and a fitted mean
    with a leaf neither `log_*` nor unconstrained (refused by `fit`, usable in `condition`)."""
    make = jax.jit(lambda v: gp.Noise(v).log_variance)
    assert np.isfinite(make(1e-3))
    with pytest.raises(Exception, match=r"`Noise\(variance\)` must be positive"):
        make(-1e-3)
    bad = eqx.tree_at(lambda m: m.log_variance, gp.Noise(1e-3), jnp.array(jnp.nan))
    with pytest.raises(ValueError, match=r"`Noise.log_variance` is NaN or inf"):
        gp.log_marginal_likelihood(KER, X0, Y0, noise=bad)

    class Scaled(gp.AbstractMean):
        a: jax.Array

        def __call__(self, x):
            return self.a * x[0]

    with pytest.raises(ValueError, match=r"Scaled\.a is not stored as a logarithm"):
        gp.fit(KER, X0, Y0, key=jr.key(0), mean=Scaled(jnp.array(2.0)))
    post = gp.condition(KER, X0, Y0, mean=Scaled(jnp.array(2.0)))
    np.testing.assert_allclose(gp.predict(post, XS[:1])[0] - gp.predict(gp.condition(KER, X0, Y0 - 2 * X0[:, 0]), XS[:1])[0], 2 * XS[0, 0], rtol=1e-10)
    assert math.isfinite(float(_lml(KER, X0, Y0, mean=gp.ZeroMean())))
