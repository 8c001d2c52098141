"""eFAST against SALib 1.6 on the same samples, and against the analytic Ishigami indices."""

import warnings

import hypothesis
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsci.sensitivity as sa

pytest.importorskip("SALib")
from SALib.analyze import fast as salib_fast  # noqa: E402
from SALib.sample import fast_sampler  # noqa: E402

D, N, M = 3, 601, 4
PI = np.pi
PROBLEM = {"num_vars": D, "names": ["x1", "x2", "x3"], "bounds": [[-PI, PI]] * D}
BOUNDS = np.array(PROBLEM["bounds"])


def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_analytic(a=7.0, b=0.1):
    v1 = 0.5 * (1 + b * PI**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * PI**8 / 225
    v = a**2 / 8 + b * PI**4 / 5 + b**2 * PI**8 / 18 + 0.5
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def outputs(x):
    return np.stack([ishigami(x), x[:, 0] * x[:, 1] ** 2, np.cos(x[:, 2]) + 0.3 * x[:, 0]], 1)


X_SALIB = fast_sampler.sample(PROBLEM, N, M=M, seed=5)
Y_SALIB = outputs(X_SALIB)


def test_samples_equal_salib_given_its_phases():
    phases = 2 * PI * np.random.default_rng(5).random(D)  # SALib's draws, in order
    x = np.asarray(sa.fast_curves(phases, N, M)) * 2 * PI - PI
    # arcsin is ill-conditioned at +-1: 1 ulp in sin can move x by ~1e-8 * 2 pi at worst
    np.testing.assert_allclose(x, X_SALIB, rtol=0, atol=1e-10)


def test_frequencies_both_branches():
    # m >= d - 1: spread over [1, m]; m < d - 1: cycling 1..m (SALib's two branches)
    np.testing.assert_array_equal(sa.fast_frequencies(3, 601, 4)[0], [75, 1, 9])
    w = sa.fast_frequencies(8, 65, 4)  # omega_max = 8, m = 1
    np.testing.assert_array_equal(w[2], [1, 1, 8, 1, 1, 1, 1, 1])


@pytest.mark.parametrize("out", [0, 1, 2])
def test_against_salib_same_samples(out):
    mine = sa.fast_analyze(Y_SALIB, D, M)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's warning about its bootstrap CIs
        ref = salib_fast.analyze(PROBLEM, Y_SALIB[:, out].copy(), M=M, num_resamples=2, seed=1)
    np.testing.assert_allclose(mine.first_order[:, out], ref["S1"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(mine.total[:, out], ref["ST"], rtol=0, atol=1e-10)


def test_ishigami_close_to_analytic(key):
    # eFAST is biased by interference of the low frequencies, and the bias does not fall
    # with N (SALib alike): measured over 4 keys at N = 1001 / 4001 / 16001, M = 4, the
    # largest error is 0.028 / 0.028 / 0.028 (first order, all S_3 = 0.029 > 0) and
    # 0.028 / 0.032 / 0.047 (total order, S_T2)
    first, total = ishigami_analytic()
    x = sa.fast_sample(key, D, 4001, M, bounds=BOUNDS)
    res = sa.fast_analyze(ishigami(np.asarray(x)), D, M)
    np.testing.assert_allclose(res.first_order, first, atol=0.035)
    np.testing.assert_allclose(res.total, total, atol=0.04)
    np.testing.assert_allclose(res.first_order[:2], first[:2], atol=0.015)


def test_jit_many_outputs_grad_and_float32(key):
    f = jax.jit(lambda y: sa.fast_analyze(y, D, M))
    eager = sa.fast_analyze(Y_SALIB, D, M)
    for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(f(Y_SALIB))):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    for out in range(3):  # all outputs at once == one output at a time
        one = sa.fast_analyze(Y_SALIB[:, out], D, M)
        for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(one)):
            np.testing.assert_allclose(a[:, out], b, rtol=1e-13, atol=1e-15)
    # grad of a weighted total index against a central difference (one compiled program)
    w = jnp.array([0.3, -1.0, 0.7])
    val_grad = jax.jit(jax.value_and_grad(lambda y: sa.fast_analyze(y, D, M).total @ w))
    y0, v = jnp.asarray(Y_SALIB[:, 0]), jr.normal(key, (N * D,))
    h = 1e-5
    fd = (val_grad(y0 + h * v)[0] - val_grad(y0 - h * v)[0]) / (2 * h)
    np.testing.assert_allclose(val_grad(y0)[1] @ v, fd, rtol=1e-6)
    x32 = sa.fast_sample(key, D, N, M, bounds=BOUNDS.astype(np.float32))
    assert x32.dtype == jnp.float32
    r32 = sa.fast_analyze(jnp.asarray(outputs(np.asarray(x32)), jnp.float32), D, M)
    assert r32.first_order.dtype == jnp.float32
    r64 = sa.fast_analyze(outputs(np.asarray(x32, np.float64)), D, M)
    np.testing.assert_allclose(r32.first_order, r64.first_order, atol=1e-4)


def test_constant_output_has_zero_indices():
    res = sa.fast_analyze(np.full(N * D, 3.0), D, M)
    np.testing.assert_array_equal(res.first_order, 0.0)
    np.testing.assert_array_equal(res.total, 0.0)


@hypothesis.settings(max_examples=10, deadline=None)
@hypothesis.given(
    coef=st.lists(st.floats(-3.0, 3.0), min_size=3, max_size=3),
    shift=st.floats(-1e3, 1e3),
    scale=st.floats(0.1, 10.0),
)
def test_invariants(coef, shift, scale):
    # 0 <= S_i <= S_Ti <= 1 (disjoint parts of one spectrum), and the indices ignore an
    # affine change y -> scale * y + shift of the output
    c = np.asarray(coef)
    y = np.sin(X_SALIB @ c) + X_SALIB[:, 0] * c[1] * X_SALIB[:, 2] ** 2 + 0.1
    a = sa.fast_analyze(y, D, M)
    b = sa.fast_analyze(scale * y + shift, D, M)
    s1, st_ = np.asarray(a.first_order), np.asarray(a.total)
    assert np.all(s1 >= 0) and np.all(s1 <= st_ + 1e-12) and np.all(st_ <= 1 + 1e-12)
    np.testing.assert_allclose(b.first_order, s1, atol=1e-9)
    np.testing.assert_allclose(b.total, st_, atol=1e-9)
