"""Bad input to jaxsci.gp (DESIGN rule 6): every public entry point refuses NaN/inf data,
wrong shapes, empty data and out-of-domain values with a clear error naming the argument,
eagerly and under `jit`/`vmap`; `fit` reports `singular` / `optimum_on_bound` / `nonfinite`
as `RESULTS` codes. Inputs are tiny and the compiled `fit` is shared between tests."""

import equinox as eqx
import hypothesis
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from jaxsci import gp, kernels as K
from jaxsci._solution import RESULTS, Solution, raise_if_failed
from jaxsci.testing import assert_refuses, empty_like_shape, mismatched_shapes, with_nonfinite

X = jnp.linspace(0.0, 1.0, 5)[:, None]
Y = jnp.sin(3.0 * X[:, 0])
KER = K.ExpQuad(1.0, 0.5)
POST = gp.condition(KER, X, Y)
NAN_Y = Y.at[1].set(jnp.nan)
NAN_X = X.at[2, 0].set(jnp.inf)
W = jnp.full(5, -1)


def _overflowing():
    return eqx.tree_at(lambda k: k.log_variance, KER, jnp.array(800.0))


# (id, call, exception type, message pattern): shapes, empty input, out-of-domain options
TRACE_TIME = [
    ("condition-X-rank", lambda: gp.condition(KER, X[:, 0], Y), ValueError, r"`X` must have shape \(n, d\)"),
    ("condition-y-size", lambda: gp.condition(KER, X, Y[:3]), ValueError, r"`y` must have shape"),
    ("condition-empty", lambda: gp.condition(KER, jnp.ones((0, 1)), jnp.ones(0)), ValueError, r"`X` is empty"),
    ("condition-no-columns", lambda: gp.condition(KER, jnp.ones((3, 0)), jnp.ones(3)), ValueError, r"`X` is empty.*columns"),
    ("condition-noise", lambda: gp.condition(KER, X, Y, noise=-1.0), ValueError, r"`noise`.*positive"),
    ("condition-noise-shape", lambda: gp.condition(KER, X, Y, noise=jnp.ones(3)), ValueError, r"`noise` must be a scalar or have shape"),
    ("condition-jitter", lambda: gp.condition(KER, X, Y, jitter=-1e-3), ValueError, r"`jitter`.*>= 0"),
    ("condition-kernel", lambda: gp.condition("rbf", X, Y), TypeError, r"`kernel` must be"),
    ("lml-empty", lambda: gp.log_marginal_likelihood(KER, jnp.ones((0, 1)), jnp.ones(0)), ValueError, r"`X` is empty"),
    ("lml-y-size", lambda: gp.log_marginal_likelihood(KER, X, Y[:, None, None]), ValueError, r"`y` must have shape"),
    ("lml-jitter", lambda: gp.log_marginal_likelihood(KER, X, Y, jitter=float("nan")), ValueError, r"`jitter`"),
    ("predict-d", lambda: gp.predict(POST, jnp.ones((2, 2))), ValueError, r"`Xs` must have shape \(m, 1\)"),
    ("predict-empty", lambda: gp.predict(POST, jnp.ones((0, 1))), ValueError, r"`Xs` is empty"),
    ("predict-posterior", lambda: gp.predict(KER, X), TypeError, r"`posterior` must be a jaxsci.gp.Posterior"),
    ("predict-which-shape", lambda: gp.predict(POST, X, which=jnp.zeros(3, int)), ValueError, r"`which` must have shape"),
    ("pvg-d", lambda: gp.predict_value_and_grad(POST, jnp.ones((2, 3))), ValueError, r"`Xs` must have shape \(m, 1\)"),
    ("pvg-empty", lambda: gp.predict_value_and_grad(POST, jnp.ones((0, 1))), ValueError, r"`Xs` is empty"),
    ("fit-empty", lambda: gp.fit(KER, jnp.ones((0, 1)), jnp.ones(0), key=jr.key(0)), ValueError, r"`X` is empty"),
    ("fit-restarts", lambda: gp.fit(KER, X, Y, key=jr.key(0), num_restarts=0), ValueError, r"`num_restarts` must be an integer >= 1"),
    ("fit-max-steps", lambda: gp.fit(KER, X, Y, key=jr.key(0), max_steps=0), ValueError, r"`max_steps` must be an integer >= 1"),
    ("fit-gtol", lambda: gp.fit(KER, X, Y, key=jr.key(0), gtol=-1.0), ValueError, r"`gtol` must be a finite Python number >= 0"),
    ("fit-box", lambda: gp.fit(KER, X, Y, key=jr.key(0), prior_box=(1.0, 2.0, 3.0)), ValueError, r"`prior_box` must be a pair"),
    ("fit-jitter", lambda: gp.fit(KER, X, Y, key=jr.key(0), jitter=-1.0), ValueError, r"`jitter`"),
    ("fit-only-jitter", lambda: gp.fit(KER, X, Y, jitter=-1.0), ValueError, r"`jitter`"),
    ("fit-batched-empty-b", lambda: gp.fit_batched(KER, jnp.ones((0, 5, 1)), jnp.ones((0, 5)), key=jr.key(0)), ValueError, r"`X` is empty.*datasets"),
    ("fit-batched-empty-n", lambda: gp.fit_batched(KER, jnp.ones((2, 0, 1)), jnp.ones((2, 0)), key=jr.key(0)), ValueError, r"`X` is empty"),
    ("fit-batched-key", lambda: gp.fit_batched(KER, X[None], Y[None], key=None), ValueError, r"`fit_batched` needs a PRNG `key`"),
    ("fit-batched-shape", lambda: gp.fit_batched(KER, X[None], Y[None, :3], key=jr.key(0)), ValueError, r"`X` must have shape \(b, n, d\)"),
    ("dgram-shape", lambda: gp.derivative_gram(KER, X, W, jnp.ones((5, 2)), W), ValueError, r"`X1` and `X2` must have shapes"),
    ("dgram-empty", lambda: gp.derivative_gram(KER, jnp.ones((0, 1)), jnp.zeros(0, int), X, W), ValueError, r"`X1` is empty"),
    ("dgram-which-dtype", lambda: gp.derivative_gram(KER, X, W * 1.0, X, W), TypeError, r"`which1` must be an integer array"),
    ("dgram-which-none", lambda: gp.derivative_gram(KER, X, None, X, W), TypeError, r"`which1` and `which2` must be integer arrays"),
    ("obscov-shape", lambda: gp.observation_covariance(KER, jnp.ones(2), -1, jnp.ones(3), -1), ValueError, r"`x` and `xp` must be two points"),
    ("obscov-index", lambda: gp.observation_covariance(KER, jnp.ones(2), 2, jnp.ones(2), -1), ValueError, r"`i` must be -1 .* \[0, 2\)"),
    ("obscov-index-dtype", lambda: gp.observation_covariance(KER, jnp.ones(2), 0.5, jnp.ones(2), -1), ValueError, r"`i` must be an integer scalar"),
    ("gradobs-shape", lambda: gp.gradient_observations(jnp.ones((2, 2)), jnp.ones((3, 2))), ValueError, r"`X_grad` and `grads` must both have shape"),
    ("gradobs-empty", lambda: gp.gradient_observations(jnp.ones((0, 2)), jnp.ones((0, 2))), ValueError, r"`X_grad` is empty"),
    ("gradobs-values", lambda: gp.gradient_observations(jnp.ones((2, 2)), jnp.ones((2, 2)), jnp.ones((1, 3)), jnp.ones(1)), ValueError, r"`X_value` must have shape"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in TRACE_TIME], ids=[c[0] for c in TRACE_TIME])
def test_trace_time_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# NaN/inf data and hyperparameters: run-time errors (`eqx.error_if`) naming the argument
NONFINITE = [
    ("condition-y", lambda: gp.condition(KER, X, NAN_Y), "`y` contains NaN or inf"),
    ("condition-X", lambda: gp.condition(KER, NAN_X, Y), "`X` contains NaN or inf"),
    ("condition-kernel", lambda: gp.condition(eqx.tree_at(lambda k: k.log_lengthscale, KER, jnp.array(jnp.nan)), X, Y), r"`ExpQuad.log_lengthscale`.*is NaN or inf"),
    ("condition-overflow", lambda: gp.condition(_overflowing(), X, Y), r"Gram matrix has NaN or inf entries"),
    ("lml-y", lambda: gp.log_marginal_likelihood(KER, X, NAN_Y), "`y` contains NaN or inf"),
    ("lml-overflow", lambda: gp.log_marginal_likelihood(_overflowing(), X, Y), r"Gram matrix has NaN or inf"),
    ("predict-Xs", lambda: gp.predict(POST, NAN_X), "`Xs` contains NaN or inf"),
    ("pvg-Xs", lambda: gp.predict_value_and_grad(POST, NAN_X), "`Xs` contains NaN or inf"),
    ("fit-batched-y", lambda: gp.fit_batched(KER, jnp.stack([X, X]), jnp.stack([Y, NAN_Y]), key=jr.key(0)), "`y` contains NaN or inf"),
    ("fit-only-kernel", lambda: gp.fit(eqx.tree_at(lambda k: k.log_variance, KER, jnp.array(jnp.inf)), X, Y, throw=False), r"`ExpQuad.log_variance`.*is NaN or inf"),
    ("dgram-X", lambda: gp.derivative_gram(KER, NAN_X, W, X, W), "`X1` contains NaN or inf"),
    ("gradobs-grads", lambda: gp.gradient_observations(jnp.ones((2, 2)), jnp.ones((2, 2)).at[0, 1].set(jnp.nan)), "`grads` contains NaN or inf"),
    ("predict-which", lambda: gp.predict(POST, X, which=jnp.full(5, 1)), r"`which` entries must be -1"),
]


@pytest.mark.parametrize("call, match", [c[1:] for c in NONFINITE], ids=[c[0] for c in NONFINITE])
def test_nonfinite_and_out_of_range_values(call, match):
    assert_refuses(call, match=match)


# Multi-output GPs (gp.Coregionalization, gp.ICM, gp.LCM, gp.stack_outputs,
# gp.stack_isotopic, gp.predict_outputs): their bad-input table is `COREGION_BAD_INPUT` in
# tests/gp/test_coregion.py (`test_bad_input`, `test_bad_task_index_under_jit_and_in_fit`).


def test_value_checks_under_jit_and_vmap():
    # traced noise / jitter / data / hyperparameters: eqx.error_if, under jit and vmap
    cond = eqx.filter_jit(lambda s: gp.condition(KER, X, Y, noise=s).weights)
    assert np.all(np.isfinite(cond(jnp.array(1e-6))))
    assert_refuses(lambda: cond(jnp.array(-1e-6)), match="`noise` must be positive")
    lml = eqx.filter_jit(jax.vmap(lambda y: gp.log_marginal_likelihood(KER, X, y)))
    assert np.all(np.isfinite(lml(jnp.stack([Y, 2 * Y]))))
    assert_refuses(lambda: lml(jnp.stack([Y, NAN_Y])), match="`y` contains NaN or inf")
    grad = eqx.filter_jit(jax.grad(lambda lv: gp.log_marginal_likelihood(eqx.tree_at(lambda k: k.log_variance, KER, lv), X, Y)))
    assert np.isfinite(grad(jnp.array(0.0)))
    # the case: grad at log_variance = 800 was a silent NaN
    assert_refuses(lambda: grad(jnp.array(800.0)), match="Gram matrix has NaN or inf")
    assert_refuses(lambda: grad(jnp.array(jnp.nan)), match=r"`ExpQuad.log_variance`.*is NaN or inf")
    cov = jax.jit(jax.vmap(lambda i: gp.observation_covariance(KER, X[1], i, X[2], -1)))
    assert np.all(np.isfinite(cov(jnp.array([-1, 0]))))
    assert_refuses(lambda: cov(jnp.array([0, 1])), match="`i` must be -1")


def test_indefinite_lml_is_minus_inf_with_zero_gradient():
    """`log_marginal_likelihood` of a non-positive-definite covariance is documented as
    `-inf` (optimisers step back); its gradient is 0, not NaN."""

    class Indefinite(K.AbstractKernel):
        log_scale: jax.Array

        def evaluate(self, x, y):
            return jnp.exp(self.log_scale) * (jnp.dot(x, y) - 2.0)

    lml, g = jax.jit(jax.value_and_grad(gp.log_marginal_likelihood))(Indefinite(jnp.array(0.0)), X, Y)
    assert lml == -jnp.inf and g.log_scale == 0.0


# one compiled `fit` (same shapes and static options) serves all the fits below
XD = jnp.concatenate([X, X])  # duplicated inputs
YD = jnp.concatenate([Y, Y + 0.1])
X10 = jnp.linspace(0.0, 1.0, 10)[:, None]
Y10 = jnp.sin(6.0 * X10[:, 0])
XT = jnp.linspace(0.03, 0.97, 25)[:, None]


def _fit(Xd, y, noise):
    return gp.fit(K.ExpQuad(), Xd, y, key=jr.key(0), noise=jnp.asarray(noise), jitter=0.0, num_restarts=3, throw=False)


def _condition_only(Xd, y, noise):
    return gp.fit(K.ExpQuad(), Xd, y, noise=jnp.asarray(noise), jitter=0.0, throw=False)


def test_fit_singular_and_optimum_on_bound():
    """Two of the issue's wrong results.

    Duplicated inputs with `noise=1e-300, jitter=0` reported `successful` (the optimiser
    chased the huge fake likelihood of a numerically singular covariance); documented and
    now returned: `RESULTS.singular`, in `fit`, `condition` and `log_marginal_likelihood`.

    Targets scaled by 1e6 need a variance ~1e12, above the prior box's 1e5: the fit stopped
    on the bound and reported success with a much worse test error. It is now
    `optimum_on_bound` (raised with `throw=True`); unit-scale targets succeed.
    """
    sol = _fit(XD, YD, 1e-300)
    assert sol.result == RESULTS.singular
    assert not np.any(np.isfinite(sol.stats["per_start"]["log_marginal_likelihoods"]))
    only = _condition_only(XD, YD, 1e-300)
    assert only.result == RESULTS.singular and only.stats["log_marginal_likelihood"] == -jnp.inf
    with pytest.raises(eqx.EquinoxRuntimeError, match="singular to working precision"):
        gp.condition(K.ExpQuad(), XD, YD, noise=jnp.asarray(1e-300), jitter=0.0)
    assert gp.log_marginal_likelihood(K.ExpQuad(), XD, YD, noise=1e-300, jitter=0.0) == -jnp.inf
    # a noise of 1e-10 regularises the same duplicated data
    assert _condition_only(XD, YD, 1e-10).result == RESULTS.successful
    assert_refuses(lambda: _fit(XD, YD.at[3].set(jnp.nan), 1e-300), match="`y` contains NaN or inf")

    unit = _fit(X10, Y10, 1e-10)
    big = _fit(X10, 1e6 * Y10, 1e-10)
    assert unit.result == RESULTS.successful and not bool(unit.stats["on_bound"])
    assert big.result == RESULTS.optimum_on_bound and bool(big.stats["on_bound"])
    np.testing.assert_allclose(big.value.kernel.variance, 1e5, rtol=1e-9)  # held on the bound
    truth = jnp.sin(6.0 * XT[:, 0])
    err_unit = jnp.sqrt(jnp.mean((gp.predict(unit.value, XT)[0] - truth) ** 2))
    err_big = jnp.sqrt(jnp.mean((gp.predict(big.value, XT)[0] / 1e6 - truth) ** 2))
    assert err_big > 3 * err_unit, (err_big, err_unit)
    with pytest.raises(eqx.EquinoxRuntimeError, match="optimum lies on a bound"):
        raise_if_failed(big, True)  # what `throw=True` does


def test_key_none_conditions_only():
    """`key=None` conditions the given kernel without optimising (the contract that
    `jaxsci.mechanics`' fits document), returning the same Solution type as
    `fit_hyperparameters=False`; it used to fail with an unclear error."""
    a = gp.fit(KER, X, Y, throw=False)
    assert isinstance(a, Solution) and a.result == RESULTS.successful
    assert set(a.stats) == {"log_marginal_likelihood"}
    np.testing.assert_array_equal(a.value.weights, POST.weights)
    np.testing.assert_array_equal(a.value.kernel.log_lengthscale, KER.log_lengthscale)
    np.testing.assert_allclose(a.stats["log_marginal_likelihood"], gp.log_marginal_likelihood(KER, X, Y), rtol=1e-12)
    assert gp.fit(_overflowing(), X, Y, throw=False).result == RESULTS.nonfinite


_condition = eqx.filter_jit(lambda X_, y_: gp.condition(KER, X_, y_).weights)


@hypothesis.settings(max_examples=15, deadline=None)
@hypothesis.given(st.data())
def test_random_bad_input_is_refused(data):
    """Random bad input to `condition` / `predict`: NaN/inf injected into `X`, `y` or `Xs`,
    a mismatched `y` or `Xs` shape, empty data: always a clear error naming the argument."""
    kind = data.draw(st.sampled_from(["nan-X", "nan-y", "nan-Xs", "shape-y", "shape-Xs", "empty"]))
    if kind == "nan-X":
        bad = jnp.asarray(data.draw(with_nonfinite(np.asarray(X), max_count=2)))
        assert_refuses(lambda: _condition(bad, Y), match="`X` contains NaN or inf")
    elif kind == "nan-y":
        bad = jnp.asarray(data.draw(with_nonfinite(np.asarray(Y), max_count=2)))
        assert_refuses(lambda: _condition(X, bad), match="`y` contains NaN or inf")
    elif kind == "nan-Xs":
        bad = jnp.asarray(data.draw(with_nonfinite(np.asarray(X))))
        assert_refuses(lambda: gp.predict(POST, bad), match="`Xs` contains NaN or inf")
    elif kind == "shape-y":
        shape = data.draw(mismatched_shapes((5,)).filter(lambda s: len(s) not in (1, 2) or s[0] != 5))
        assert_refuses(lambda: _condition(X, jnp.ones(shape)), match="`y` must have shape")
    elif kind == "shape-Xs":
        shape = data.draw(mismatched_shapes((5, 1)).filter(lambda s: len(s) != 2 or s[1] != 1))
        assert_refuses(lambda: gp.predict(POST, jnp.ones(shape)), match="`Xs` must have shape")
    else:
        empty = jnp.asarray(empty_like_shape((5, 1)))
        assert_refuses(lambda: _condition(empty, jnp.ones(0)), match="`X` is empty")


@pytest.mark.parametrize(
    "num_problems, n, exc, match",
    [
        (20, 0, ValueError, r"`n` must be an integer >= 1, got 0"),  # was ZeroDivisionError
        (20, -5, ValueError, r"`n` must be an integer >= 1, got -5"),  # was: 20 slots
        (0, 50, ValueError, r"`num_problems` must be an integer >= 1, got 0"),  # was: 1 slot
        (-3, 50, ValueError, r"`num_problems` must be an integer >= 1"),
        (10.5, 50, TypeError, r"`num_problems` must be a Python int, got float"),  # was 10.5
        (20, 50.0, TypeError, r"`n` must be a Python int, got float"),
        (20, float("nan"), TypeError, r"`n` must be a Python int"),
        (True, 50, TypeError, r"`num_problems` must be a Python int, got bool"),
        (jnp.asarray(20), 50, TypeError, r"`num_problems` must be a Python int, got ArrayImpl"),
    ],
)
def test_default_batch_size_bad_input(num_problems, n, exc, match):
    with pytest.raises(exc, match=match):
        gp.default_batch_size(num_problems, n)


def test_default_batch_size_documented_values():
    # min(num_problems, 128 (50 / n)^2), at least 2 (but never more than num_problems)
    assert [gp.default_batch_size(20, n) for n in (1, 50, 125, 400, 10**6)] == [20, 20, 20, 2, 2]
    assert gp.default_batch_size(1000, 50) == 128
    assert gp.default_batch_size(1, 10**6) == 1
    assert gp.default_batch_size(np.int64(40), np.int32(100)) == 32


# learnable noise, mean functions, normalize_y (full coverage in tests/gp/test_noise_mean.py)
MODEL_BAD = [
    ("Noise-variance", lambda: gp.Noise(0.0), ValueError, r"`Noise\(variance\)` must be positive"),
    ("Noise-fixed", lambda: gp.Noise(1e-3, fixed=jnp.array([jnp.nan])), ValueError, r"`Noise\(fixed=...\)`"),
    ("Noise-fixed-n", lambda: gp.condition(KER, X, Y, noise=gp.Noise(1e-3, fixed=jnp.ones(2))), ValueError, r"shape \(n,\) = \(5,\)"),
    ("ConstantMean-rank", lambda: gp.ConstantMean(jnp.ones((2, 2))), ValueError, r"`ConstantMean\(c\)` must be a scalar"),
    ("LinearMean-bias", lambda: gp.LinearMean(jnp.ones(2), jnp.ones(2)), ValueError, r"`LinearMean\(bias\)` must have shape"),
    ("LinearMean-weights", lambda: gp.LinearMean(jnp.ones((2, 2, 2))), ValueError, r"`LinearMean\(weights\)` must have shape"),
    ("ZeroMean-point", lambda: gp.ZeroMean()(X), ValueError, r"`ZeroMean` is evaluated on one point"),
    ("AbstractMean", lambda: gp.AbstractMean(), TypeError, r"abstract"),
    ("mean-callable", lambda: gp.fit(KER, X, Y, key=jr.key(0), mean="linear"), TypeError, r"`mean` must be a callable"),
    ("mean-shape", lambda: gp.log_marginal_likelihood(KER, X, Y, mean=lambda x: jnp.ones(2)), ValueError, r"`mean\(x\)` must return"),
    ("normalize_y", lambda: gp.log_marginal_likelihood(KER, X, Y, normalize_y=None), TypeError, r"`normalize_y` must be a Python bool"),
    ("summary", lambda: gp.summary(gp.condition(KER, X, Y)), TypeError, r"`summary` reports a multistart fit"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in MODEL_BAD], ids=[c[0] for c in MODEL_BAD])
def test_noise_and_mean_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
