"""Multi-output GPs by coregionalisation (gp.Coregionalization, gp.ICM, gp.LCM): values
against hand-built NumPy Kronecker covariances, the LML against scipy's multivariate normal,
PSD Grams (hypothesis), LML gradients against finite differences, derivative observations
in x, and fits: heterotopic ICM beats an independent GP on the sparse output; vmap(fit)
equals the loop. The bad-input table covers every public name.

Test time: eager JAX compiles every primitive separately (~1 s for one ICM Gram), so each
test evaluates its jaxsci calls inside one `jax.jit`; the references are plain NumPy."""

import functools

import equinox as eqx
import hypothesis
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel

from helpers import finite_difference_grad
from jaxsci import gp, kernels as K
from jaxsci._solution import RESULTS
from jaxsci.gp._checks import log_parameter_mask
from jaxsci.testing import assert_refuses

RNG = np.random.default_rng(7)
XI = RNG.uniform(-1.0, 1.0, (6, 2))  # isotopic points (n, d)
YI = RNG.normal(size=(6, 3))  # (n, p)
VAR, ELL = 1.3, np.array([0.7, 1.1])
KX = K.ExpQuad(VAR, jnp.array(ELL))
W3, KAPPA3 = RNG.normal(size=(3, 2)), np.array([0.3, 0.6, 1.2])
B3 = W3 @ W3.T + np.diag(KAPPA3)  # the hand-built output covariance
CO = gp.Coregionalization(3, W=W3, kappa=jnp.array(KAPPA3))
ICM3 = gp.ICM(KX, CO)
NOISE = 1e-3


def _expquad(X1, X2, var=VAR, ell=ELL):
    diff = (X1[:, None, :] - X2[None, :, :]) / ell
    return var * np.exp(-0.5 * np.sum(diff**2, axis=-1))


def _matern32(X1, X2, var, ell):
    r = np.sqrt(3.0) * np.sqrt(np.sum(((X1[:, None, :] - X2[None, :, :]) / ell) ** 2, axis=-1))
    return var * (1.0 + r) * np.exp(-r)


def _mvn(C, y):
    return multivariate_normal(np.zeros(len(y)), C).logpdf(np.asarray(y))


def test_coregionalization_matrix_and_default_init():
    np.testing.assert_allclose(CO.B, B3, rtol=1e-14)
    assert CO.num_outputs == 3 and CO.rank == 2
    c = gp.Coregionalization(3, rank=2, kappa=2.0)
    # the documented deterministic init: first `rank` DCT-II vectors / sqrt(rank)
    i, k = np.arange(3)[:, None], np.arange(2)[None, :]
    np.testing.assert_allclose(c.W, np.cos(np.pi * k * (2 * i + 1) / 6) / np.sqrt(2), atol=1e-15)
    np.testing.assert_allclose(c.kappa, [2.0, 2.0, 2.0])
    assert abs(float(c.W[:, 0] @ c.W[:, 1])) < 1e-15  # orthogonal columns: not stuck at rank 1
    np.testing.assert_allclose(gp.Coregionalization(1).B, [[2.0]])


@jax.jit
def _icm_grams(Xa, Xsa):
    pointwise = jax.vmap(jax.vmap(ICM3.evaluate, in_axes=(None, 0)), in_axes=(0, None))
    near = Xa + jnp.array([0.0, 0.0, 1e-9])[None]  # task indices within rounding of an integer
    return ICM3(Xa, Xa), pointwise(Xa, Xa), ICM3.diag(Xa), ICM3(Xsa, Xa), ICM3(near, Xa)


def test_icm_gram_is_kronecker():
    Xa, ya = gp.stack_isotopic(XI, YI)
    Xs = RNG.uniform(-1.0, 1.0, (4, 2))
    Xsa, _ = gp.stack_isotopic(Xs, np.zeros((4, 3)))
    G, Gv, diag, Gs, Gn = _icm_grams(Xa, Xsa)
    ref = np.kron(B3, _expquad(XI, XI))
    np.testing.assert_allclose(G, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ya, YI.T.reshape(-1))
    # the all-pairs __call__ equals the pointwise definition (double vmap of `evaluate`)
    np.testing.assert_allclose(Gv, ref, atol=1e-12)
    np.testing.assert_allclose(diag, np.diag(ref), atol=1e-12)
    np.testing.assert_allclose(Gs, np.kron(B3, _expquad(Xs, XI)), atol=1e-12)
    np.testing.assert_allclose(Gn, ref, atol=1e-12)


@jax.jit
def _icm_lml_and_posterior(Xa, ya, Xs, Xsa):
    post = gp.condition(ICM3, Xa, ya, noise=NOISE)
    lml = gp.log_marginal_likelihood(ICM3, Xa, ya, noise=NOISE)
    return lml, gp.predict_outputs(post, Xs), gp.predict(post, Xsa, full_cov=True)


def test_icm_lml_and_posterior_against_kronecker():
    Xa, ya = gp.stack_isotopic(XI, YI)
    C = np.kron(B3, _expquad(XI, XI)) + NOISE * np.eye(18)
    y = np.asarray(ya)
    Xs = RNG.uniform(-1.0, 1.0, (5, 2))
    Xsa, _ = gp.stack_isotopic(Xs, np.zeros((5, 3)))
    lml, (mean, var), (m2, c2) = _icm_lml_and_posterior(Xa, ya, Xs, Xsa)
    np.testing.assert_allclose(lml, _mvn(C, y), rtol=1e-10)
    Ks = np.kron(B3, _expquad(Xs, XI))
    mean_ref = Ks @ np.linalg.solve(C, y)
    cov_ref = np.kron(B3, _expquad(Xs, Xs)) - Ks @ np.linalg.solve(C, Ks.T)
    np.testing.assert_allclose(mean, mean_ref.reshape(3, 5).T, atol=1e-9)
    np.testing.assert_allclose(var, np.diag(cov_ref).reshape(3, 5).T, atol=1e-9)
    np.testing.assert_allclose(m2, mean_ref, atol=1e-9)
    np.testing.assert_allclose(c2, cov_ref, atol=1e-9)


def test_lcm_is_sum_of_kroneckers():
    c1 = gp.Coregionalization(3, rank=1, kappa=0.2)  # default W: all ones
    W2, kappa2 = RNG.normal(size=(3, 3)), np.array([0.1, 0.5, 0.9])
    c2 = gp.Coregionalization(3, W=W2, kappa=jnp.array(kappa2))
    lcm = gp.LCM([K.ExpQuad(1.0, 0.4), K.Matern32(0.5, 1.5)], [c1, c2])
    Xa, ya = gp.stack_isotopic(XI, YI)
    B1, B2 = np.ones((3, 3)) + 0.2 * np.eye(3), W2 @ W2.T + np.diag(kappa2)
    ref = np.kron(B1, _expquad(XI, XI, 1.0, 0.4)) + np.kron(B2, _matern32(XI, XI, 0.5, 1.5))
    G, diag, e, lml = jax.jit(
        lambda Xa, ya: (lcm(Xa, Xa), lcm.diag(Xa), lcm.evaluate(Xa[2], Xa[9]), gp.log_marginal_likelihood(lcm, Xa, ya, noise=NOISE))
    )(Xa, ya)
    np.testing.assert_allclose(G, ref, atol=1e-12)
    np.testing.assert_allclose(diag, np.diag(ref), atol=1e-12)
    np.testing.assert_allclose(e, ref[2, 9], atol=1e-14)
    np.testing.assert_allclose(lml, _mvn(ref + NOISE * np.eye(18), ya), rtol=1e-10)
    assert lcm.num_outputs == 3 and len(lcm.terms) == 2
    # what `fit` optimises: every W unconstrained, kappa and the kernels' leaves in log-space
    assert log_parameter_mask(lcm) == [True, True, False, True, True, True, False, True]


@jax.jit
def _gram_of(W, log_kappa, Xa):
    c = eqx.tree_at(lambda c: (c.W, c.log_kappa), CO, (W, log_kappa))
    return c.B, gp.ICM(K.ExpQuad(1.0, 0.5), c)(Xa, Xa)


@hypothesis.settings(max_examples=15, deadline=None)
@hypothesis.given(st.integers(0, 2**31 - 1), st.floats(-4.0, 4.0), st.floats(-8.0, 2.0))
def test_gram_and_B_are_psd(seed, log_scale, log_kappa_mean):
    # fixed shapes (p = 3, rank 2, n = 7: one compilation); W of any scale and sign,
    # kappa from 3e-4 to 7, random points and task assignments
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(3, 2)) * np.exp(log_scale)
    log_kappa = log_kappa_mean + rng.uniform(-1.0, 1.0, 3)
    Xa = np.concatenate([rng.uniform(-2, 2, (7, 1)), rng.integers(0, 3, (7, 1)).astype(float)], axis=1)
    B, G = (np.asarray(a) for a in _gram_of(W, log_kappa, Xa))
    np.testing.assert_array_equal(B, B.T)
    assert np.linalg.eigvalsh(B).min() > 0  # kappa > 0: positive definite
    np.testing.assert_allclose(B, W @ W.T + np.diag(np.exp(log_kappa)), rtol=1e-12)
    np.testing.assert_allclose(G, G.T, atol=1e-14)
    assert np.linalg.eigvalsh(G).min() >= -1e-10 * max(1.0, np.abs(G).max())


def test_lml_gradient_wrt_W_and_log_kappa_matches_finite_differences():
    Xa, ya = gp.stack_isotopic(XI[:4], YI[:4])

    def lml(W, log_kappa):
        c = eqx.tree_at(lambda c: (c.W, c.log_kappa), CO, (W, log_kappa))
        return gp.log_marginal_likelihood(gp.ICM(KX, c), Xa, ya, noise=NOISE)

    # one compilation: the finite differences use the value of the same jitted function
    value_and_grad = jax.jit(jax.value_and_grad(lml, argnums=(0, 1)))
    _, (gW, gk) = value_and_grad(CO.W, CO.log_kappa)
    fdW = finite_difference_grad(lambda W: value_and_grad(W, CO.log_kappa)[0], CO.W)
    fdk = finite_difference_grad(lambda lk: value_and_grad(CO.W, lk)[0], CO.log_kappa)
    np.testing.assert_allclose(gW, fdW, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gk, fdk, rtol=1e-6, atol=1e-6)
    assert np.abs(np.asarray(gW)).max() > 1e-2  # a gradient that is not trivially 0


def _expquad_derivative_gram(X1, w1, X2, w2):
    """Cov of value (-1) / d/dx_a observations of a GP with the ExpQuad kernel, by hand."""
    k = _expquad(X1, X2)
    u = (X1[:, None, :] - X2[None, :, :]) / ELL**2  # (n, m, d)
    out = k.copy()
    for a in range(len(w1)):
        for b in range(len(w2)):
            i, j = w1[a], w2[b]
            if i >= 0 and j >= 0:
                out[a, b] = k[a, b] * ((i == j) / ELL[i] ** 2 - u[a, b, i] * u[a, b, j])
            elif i >= 0:
                out[a, b] = -k[a, b] * u[a, b, i]
            elif j >= 0:
                out[a, b] = k[a, b] * u[a, b, j]
    return out


def test_derivative_observations_in_x():
    # gradients of output 0 and values of output 1 at the same points (d = 2)
    X = XI[:3]
    Xa = np.concatenate([np.repeat(X, 2, 0), np.zeros((6, 1))], 1)  # task 0
    Xa = np.concatenate([Xa, np.concatenate([X, np.ones((3, 1))], 1)])  # task 1
    which = np.concatenate([np.tile([0, 1], 3), np.full(3, -1)])
    tasks = Xa[:, -1].astype(int)
    ref = B3[tasks[:, None], tasks[None, :]] * _expquad_derivative_gram(Xa[:, :-1], which, Xa[:, :-1], which)
    y = RNG.normal(size=9)
    Xs = RNG.uniform(-1, 1, (4, 2))
    Xsa = np.concatenate([Xs, np.ones((4, 1))], 1)  # output 1's values

    @jax.jit
    def run(Xa, which, y, Xsa):
        G = gp.derivative_gram(ICM3, Xa, which, Xa, which)
        post = gp.condition(ICM3, Xa, y, which=which, noise=NOISE)
        return G, gp.predict(post, Xsa)[0]

    G, mean = run(Xa, which, y, Xsa)
    np.testing.assert_allclose(G, ref, atol=1e-12)
    Ks = B3[1, tasks][None, :] * _expquad_derivative_gram(Xs, np.full(4, -1), Xa[:, :-1], which)
    np.testing.assert_allclose(mean, Ks @ np.linalg.solve(ref + NOISE * np.eye(9), y), atol=1e-9)


def test_stack_helpers():
    X0, X1 = RNG.uniform(size=(3, 2)), RNG.uniform(size=(2, 2))
    y0, y1 = RNG.normal(size=3), RNG.normal(size=2)
    Xa, ya = gp.stack_outputs([X0, X1], [y0, y1])
    np.testing.assert_array_equal(Xa, np.block([[X0, np.zeros((3, 1))], [X1, np.ones((2, 1))]]))
    np.testing.assert_array_equal(ya, np.concatenate([y0, y1]))
    # an output without data, and isotopic data stacked both ways
    Xe, ye = gp.stack_outputs([X0, np.zeros((0, 2))], [y0, np.zeros(0)])
    assert Xe.shape == (3, 3) and ye.shape == (3,)
    Y = RNG.normal(size=(3, 2))
    Xi, yi = gp.stack_isotopic(X0, Y)
    Xs, ys = gp.stack_outputs([X0, X0], [Y[:, 0], Y[:, 1]])
    np.testing.assert_array_equal(Xi, Xs)
    np.testing.assert_array_equal(yi, ys)


def _data(seed):
    """Two anti-correlated outputs: f0 dense (20 points), f1 = -1.5 f0 + smooth, sparse (4)."""
    rng = np.random.default_rng(seed)
    f0 = lambda x: np.sin(3 * x)
    f1 = lambda x: -1.5 * np.sin(3 * x) + 0.3 * np.cos(x)
    x0, x1 = np.linspace(0, 3, 20), np.sort(rng.uniform(0, 3, 4))
    Xa, ya = gp.stack_outputs(
        [x0[:, None], x1[:, None]], [f0(x0) + 0.01 * rng.normal(size=20), f1(x1) + 0.01 * rng.normal(size=4)]
    )
    return Xa, ya, f1


FIT_NOISE = 1e-4
ICM2 = gp.ICM(K.ExpQuad(1.0, 1.0), gp.Coregionalization(2))


def _fit(X, y, key):
    return gp.fit(ICM2, X, y, key=key, noise=FIT_NOISE, num_restarts=5, throw=False)


@pytest.fixture(scope="module")
def fitted():
    data = [_data(0), _data(1)]
    sols = [_fit(X, y, k) for (X, y, _), k in zip(data, jr.split(jr.key(0), 2))]
    return data, sols


def test_fit_heterotopic_beats_independent_gp(fitted):
    Xa, ya, f1 = fitted[0][0]
    sol = fitted[1][0]
    assert sol.result == RESULTS.successful
    xt = np.linspace(0, 3, 61)
    mean, var = gp.predict_outputs(sol.value, xt[:, None])
    err_icm = np.sqrt(np.mean((np.asarray(mean[:, 1]) - f1(xt)) ** 2))
    # the independent GP on the sparse output alone: scikit-learn, same kernel, noise and
    # number of restarts (its hyperparameters fitted by maximum likelihood too)
    sparse = np.asarray(Xa[:, -1]) == 1
    ind = GaussianProcessRegressor(ConstantKernel(1.0) * RBF(1.0), alpha=FIT_NOISE, n_restarts_optimizer=4, random_state=0)
    ind.fit(np.asarray(Xa[sparse, :-1]), np.asarray(ya[sparse]))
    err_ind = np.sqrt(np.mean((ind.predict(xt[:, None]) - f1(xt)) ** 2))
    assert err_icm < 0.2 * err_ind, (err_icm, err_ind)
    B = np.asarray(sol.value.kernel.coregion.B)
    # the outputs are anti-correlated: the fit flips the (positive) default start of W
    assert B[0, 1] / np.sqrt(B[0, 0] * B[1, 1]) < -0.9
    # the reported LML is the hand-built one at the fitted hyperparameters
    kx, t = sol.value.kernel.kernel, np.asarray(Xa[:, -1]).astype(int)
    Kx = _expquad(np.asarray(Xa[:, :1]), np.asarray(Xa[:, :1]), float(kx.variance), float(kx.lengthscale))
    C = B[t[:, None], t[None, :]] * Kx + FIT_NOISE * np.eye(24)
    np.testing.assert_allclose(sol.stats["log_marginal_likelihood"], multivariate_normal(np.zeros(24), C).logpdf(np.asarray(ya)), rtol=1e-8)


def test_vmap_fit_equals_loop(fitted):
    """vmap over datasets pools their starts (`fit`'s custom_vmap rule): the same optimum.
    Starts whose line search stalled in a flat region may end elsewhere under the other
    batch shape's rounding (as in tests/gp/test_fit.py); the others agree start by start."""
    data, sols = fitted
    Xb = jnp.stack([d[0] for d in data])
    yb = jnp.stack([d[1] for d in data])
    v = jax.vmap(_fit)(Xb, yb, jr.split(jr.key(0), 2))
    xt = jnp.linspace(0, 3, 7)[:, None]
    for i, sol in enumerate(sols):
        np.testing.assert_allclose(v.stats["log_marginal_likelihood"][i], sol.stats["log_marginal_likelihood"], rtol=1e-8)
        per = lambda s, k: np.asarray(s.stats["per_start"][k])
        clean = ~per(sol, "line_search_stalled") & ~per(v, "line_search_stalled")[i]
        assert clean.sum() >= 3
        np.testing.assert_allclose(per(v, "log_marginal_likelihoods")[i][clean], per(sol, "log_marginal_likelihoods")[clean], rtol=1e-6)
        # B and the kernel variance are identifiable only together: compare predictions.
        # LMLs agreeing to 1e-8 leave the optimum's flat directions free to ~1e-4 relative,
        # so predictions agree to ~1e-5, not 1e-6 (measured 1.8e-6 on one machine).
        post_i = jax.tree_util.tree_map(lambda a: a[i], v.value)
        np.testing.assert_allclose(gp.predict_outputs(post_i, xt)[0], gp.predict_outputs(sol.value, xt)[0], atol=1e-5)


# Bad input for every public name (DESIGN rule 6); ids name the entry point.
_XA, _YA = gp.stack_isotopic(XI, YI)


@functools.cache
def _post():
    return gp.condition(ICM3, _XA, _YA, noise=NOISE)


COREGION_BAD_INPUT = [
    ("Coregionalization-p", lambda: gp.Coregionalization(0), ValueError, r"`num_outputs` must be an integer >= 1"),
    ("Coregionalization-p-type", lambda: gp.Coregionalization(2.0), TypeError, r"`num_outputs` must be a Python int"),
    ("Coregionalization-rank", lambda: gp.Coregionalization(2, rank=3), ValueError, r"`rank` must be at most `num_outputs`"),
    ("Coregionalization-W-shape", lambda: gp.Coregionalization(2, W=jnp.ones((3, 1))), ValueError, r"`W` must have shape \(num_outputs, rank\)"),
    ("Coregionalization-W-rank", lambda: gp.Coregionalization(2, rank=1, W=jnp.ones((2, 2))), ValueError, r"`rank` = 1 but `W` has 2 columns"),
    ("Coregionalization-W-nan", lambda: gp.Coregionalization(2, W=jnp.array([[1.0], [jnp.nan]])), ValueError, r"`W` contains NaN"),
    ("Coregionalization-kappa", lambda: gp.Coregionalization(2, kappa=-1.0), ValueError, r"`kappa` must be positive"),
    ("Coregionalization-kappa-shape", lambda: gp.Coregionalization(2, kappa=jnp.ones(3)), ValueError, r"`kappa` must be a scalar or have shape"),
    ("ICM-kernel", lambda: gp.ICM("rbf", CO), TypeError, r"`kernel` must be a jaxsci.kernels.AbstractKernel"),
    ("ICM-coregion", lambda: gp.ICM(KX, jnp.eye(3)), TypeError, r"`coregion` must be a jaxsci.gp.Coregionalization"),
    ("ICM-columns", lambda: ICM3(XI[:, :1], XI[:, :1]), ValueError, r"at least 2 columns"),
    ("ICM-task-range", lambda: ICM3(_XA.at[0, -1].set(3.0), _XA), ValueError, r"task index .* integers 0..2"),
    ("ICM-task-fraction", lambda: ICM3(_XA, _XA.at[1, -1].set(0.5)), ValueError, r"task index \(last column of `X2`\)"),
    ("ICM-task-nan", lambda: ICM3.diag(_XA.at[1, -1].set(jnp.nan)), ValueError, r"task index"),
    ("ICM-evaluate-task", lambda: ICM3.evaluate(jnp.array([0.1, 0.2, -1.0]), jnp.array([0.1, 0.2, 0.0])), ValueError, r"task index \(last column of `x`\)"),
    ("LCM-lengths", lambda: gp.LCM([KX, KX], [CO]), ValueError, r"non-empty and of equal length"),
    ("LCM-empty", lambda: gp.LCM([], []), ValueError, r"non-empty"),
    ("LCM-type", lambda: gp.LCM(KX, CO), TypeError, r"`kernels` must be a list or tuple"),
    ("LCM-coregion", lambda: gp.LCM([KX], [KX]), TypeError, r"`coregions\[0\]` must be a jaxsci.gp.Coregionalization"),
    ("LCM-outputs", lambda: gp.LCM([KX, KX], [CO, gp.Coregionalization(2)]), ValueError, r"same number of outputs"),
    ("stack_outputs-type", lambda: gp.stack_outputs(XI, YI), TypeError, r"`X_list` must be a list or tuple"),
    ("stack_outputs-lengths", lambda: gp.stack_outputs([XI], [YI[:, 0], YI[:, 1]]), ValueError, r"one entry per output"),
    ("stack_outputs-d", lambda: gp.stack_outputs([XI, XI[:, :1]], [YI[:, 0], YI[:, 1]]), ValueError, r"`X_list\[1\]` must have shape \(n_1, d\) with the same d"),
    ("stack_outputs-y", lambda: gp.stack_outputs([XI, XI], [YI[:, 0], YI[:3, 1]]), ValueError, r"`y_list\[1\]` must have shape \(n_1,\) = \(6,\)"),
    ("stack_outputs-empty", lambda: gp.stack_outputs([jnp.zeros((0, 2))], [jnp.zeros(0)]), ValueError, r"no points at all"),
    ("stack_isotopic-Y", lambda: gp.stack_isotopic(XI, YI[:, 0]), ValueError, r"`Y` must have shape \(n, p\)"),
    ("stack_isotopic-X", lambda: gp.stack_isotopic(XI[:, 0], YI), ValueError, r"`X` must be a 2-D array"),
    ("stack_isotopic-no-outputs", lambda: gp.stack_isotopic(XI, YI[:, :0]), ValueError, r"`Y` is empty"),
    ("predict_outputs-posterior", lambda: gp.predict_outputs(ICM3, XI), TypeError, r"`posterior` must be a jaxsci.gp.Posterior"),
    ("predict_outputs-d", lambda: gp.predict_outputs(_post(), _XA), ValueError, r"`Xs` must have shape \(m, 2\)"),
    ("predict_outputs-empty", lambda: gp.predict_outputs(_post(), jnp.zeros((0, 2))), ValueError, r"`Xs` is empty"),
    ("predict_outputs-no-icm", lambda: gp.predict_outputs(eqx.tree_at(lambda q: q.kernel, _post(), KX), XI), ValueError, r"found none; pass `num_outputs`"),
    ("predict_outputs-multi-y", lambda: gp.predict_outputs(eqx.tree_at(lambda q: q.weights, _post(), jnp.ones((18, 2))), XI), ValueError, r"stacked observations y \(N,\)"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in COREGION_BAD_INPUT], ids=[c[0] for c in COREGION_BAD_INPUT])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_bad_task_index_under_jit_and_in_fit():
    bad = _XA.at[4, -1].set(7.0)
    assert_refuses(lambda: gp.condition(ICM3, bad, _YA, noise=NOISE), match=r"task index .* integers 0..2")
    assert_refuses(lambda: gp.predict(_post(), bad), match=r"task index \(last column of `X1`\)")
    assert_refuses(lambda: gp.Coregionalization(2, W=jnp.ones((2, 1)), kappa=jnp.array([1.0, jnp.inf])), match="`kappa`")
