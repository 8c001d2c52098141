"""Bad input to every `jaxsci.optim` entry point gives a clear error (DESIGN rule 6), never a
silent NaN or a meaningless step: hyperparameters at construction, start points and
shapes in `update`, eagerly, under `jit` and under `vmap`."""

import functools

import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest
from hypothesis import given, settings

import jaxsci.optim as jo
from jaxsci.testing import assert_refuses, mismatched_shapes, with_nonfinite

TH = jnp.array([1.0, -0.5])


def J(th):
    return 0.5 * jnp.sum(th**2) + jnp.sum(jnp.sin(th))


V, G = jax.value_and_grad(J)(TH)
NAN = float("nan")

SEARCHES = {
    "armijo": jo.armijo_linesearch,
    "goldstein": jo.goldstein_linesearch,
    "wolfe": jo.wolfe_linesearch,
    "exact": functools.partial(jo.exact_linesearch, max_steps=8, max_expansions=4),
    "stochastic_armijo": functools.partial(jo.stochastic_armijo, max_steps=8),
}


def _ls_update(ls, d=-G, value=V, grad=G, params=TH):
    return ls.update(d, ls.init(params), params, value=value, grad=grad, value_fn=J)


# ---------------------------------------------------------------------------- hyperparameters
BAD_HYPER = [
    # (label, thunk, exception, message fragment naming the argument)
    ("armijo alpha nan", lambda: jo.armijo_linesearch(alpha=NAN), ValueError, "`alpha`"),
    ("armijo beta 1", lambda: jo.armijo_linesearch(beta=1.0), ValueError, "`beta`"),
    ("armijo rho inf", lambda: jo.armijo_linesearch(rho=float("inf")), ValueError, "`rho`"),
    ("armijo rho < 0", lambda: jo.armijo_linesearch(rho=-1.0), ValueError, "`rho`"),
    ("armijo max_steps 0", lambda: jo.armijo_linesearch(max_steps=0), ValueError, "`max_steps`"),
    ("armijo alpha array", lambda: jo.armijo_linesearch(alpha=jnp.asarray(2.0)), ValueError,
     "`alpha`"),
    ("goldstein beta < alpha", lambda: jo.goldstein_linesearch(0.5, jnp.asarray(0.3)),
     ValueError, "alpha < beta"),
    ("wolfe rho nan", lambda: jo.wolfe_linesearch(rho=NAN), ValueError, "`rho`"),
    ("wolfe max_steps float", lambda: jo.wolfe_linesearch(max_steps=5.0), TypeError,
     "`max_steps`"),
    ("exact lr inf", lambda: jo.exact_linesearch(float("inf")), ValueError,
     "`max_learning_rate`"),
    ("exact expansions < 0", lambda: jo.exact_linesearch(max_expansions=-1), ValueError,
     "`max_expansions`"),
    ("sarmijo gamma nan", lambda: jo.stochastic_armijo(gamma=NAN), ValueError, "`gamma`"),
    ("sarmijo max_step < 0", lambda: jo.stochastic_armijo(max_step=-1.0), ValueError,
     "`max_step`"),
    ("sarmijo init > max", lambda: jo.stochastic_armijo(init_step=20.0), ValueError,
     "`init_step`"),
    ("sarmijo batch_fraction", lambda: jo.stochastic_armijo(batch_fraction=0.0), ValueError,
     "`batch_fraction`"),
    ("newton delta nan", lambda: jo.newton_direction(NAN), ValueError, "`delta`"),
    ("snewton eta 0", lambda: jo.stochastic_newton(eta=0.0), ValueError, "`eta`"),
    ("snewton theta 1", lambda: jo.stochastic_newton(theta=1.0), ValueError, "`theta`"),
    ("snewton eps_h inf", lambda: jo.stochastic_newton(eps_h=float("inf")), ValueError,
     "`eps_h`"),
    ("sgd lr < 0", lambda: jo.sgd_momentum(-0.1), ValueError, "`learning_rate`"),
    ("sgd lr nan", lambda: jo.sgd_momentum(NAN), ValueError, "`learning_rate`"),
    ("sgd lr 0 no decay", lambda: jo.sgd_momentum(0.0, zeta=0.5), ValueError, "`learning_rate`"),
    ("sgd zeta 1", lambda: jo.sgd_momentum(0.1, zeta=1.0), ValueError, "`zeta`"),
    ("sgd gamma < 0", lambda: jo.sgd_momentum(0.1, gamma=-0.1), ValueError, "`gamma`"),
    ("sgd decay nan", lambda: jo.sgd_momentum(0.1, weight_decay=NAN), ValueError,
     "`weight_decay`"),
    ("sgd annealing 2", lambda: jo.sgd_momentum(0.1, annealing=2.0), ValueError, "`annealing`"),
    ("adaptive lr < 0", lambda: jo.unified_adaptive(-1e-3), ValueError, "`learning_rate`"),
    ("adaptive lr inf", lambda: jo.unified_adaptive(float("inf")), ValueError, "`learning_rate`"),
    ("adaptive eps 0", lambda: jo.unified_adaptive(eps=0.0), ValueError, "`eps`"),
    ("adaptive eps nan", lambda: jo.unified_adaptive(eps=NAN), ValueError, "`eps`"),
    ("adaptive decay < 0", lambda: jo.unified_adaptive(weight_decay=-1.0), ValueError,
     "`weight_decay`"),
    ("adaptive multiplier 0", lambda: jo.unified_adaptive(multiplier=0.0), ValueError,
     "`multiplier`"),
    ("adaptive beta1 nan", lambda: jo.unified_adaptive(beta1=NAN), ValueError, "`beta1`"),
    ("ExponentialAverage 1", lambda: jo.ExponentialAverage(1.0), ValueError, "`beta`"),
    ("NostalgicAverage < 0", lambda: jo.NostalgicAverage(-1.0), ValueError, "`gamma`"),
    ("adamx beta2 1.5", lambda: jo.adamx(beta2=1.5), ValueError, "`beta`"),
    ("adamx decay 0", lambda: jo.adamx(decay=0.0), ValueError, "`beta1_decay`"),
    ("nostalgic gamma nan", lambda: jo.nostalgic_adam(gamma=NAN), ValueError, "`gamma`"),
    ("inverse decay nan", lambda: jo.inverse_decay_schedule(NAN), ValueError, "`init_value`"),
    ("inverse power 0", lambda: jo.inverse_decay_schedule(1.0, 0.0), ValueError, "`power`"),
    ("cosine empty", lambda: jo.cosine_annealing([]), ValueError, "`cycle_lengths`"),
    ("cosine float", lambda: jo.cosine_annealing([2.5]), ValueError, "`cycle_lengths`"),
    ("stagnation factor nan", lambda: jo.scale_by_stagnation_decay(2, NAN), ValueError,
     "`factor`"),
    ("stagnation steps 0", lambda: jo.scale_by_stagnation_decay(0), ValueError,
     "`steps_per_epoch`"),
    ("batch schedule factor nan", lambda: jo.batch_size_schedule(8, [2], NAN, 64), ValueError,
     "`factor`"),
    ("batch schedule max < init", lambda: jo.batch_size_schedule(8, [2], 2.0, 4), ValueError,
     "`max_batch_size`"),
    ("batch schedule boundary", lambda: jo.batch_size_schedule(8, [-1], 2.0, 64), ValueError,
     "`boundaries"),
    ("equivalent ratio 0", lambda: jo.equivalent_batch_size(0.0, 8, 100), ValueError,
     "`step_ratio`"),
    ("equivalent m0 > M", lambda: jo.equivalent_batch_size(0.5, 200, 100), ValueError,
     "`init_batch_size`"),
    ("tune grid nan", lambda: jo.tune_initial_step(lambda e: e, (1.0, NAN)), ValueError,
     "`grid`"),
    ("tune all nan", lambda: jo.tune_initial_step(lambda e: NAN, (1.0, 0.5), 1), ValueError,
     "`score`"),
    ("tune empty", lambda: jo.tune_initial_step(lambda e: e, ()), ValueError, "`grid`"),
    ("heavy ball h 0", lambda: jo.heavy_ball_coefficients(0.0, 0.1, 0.0), ValueError, "`h`"),
    ("heavy ball nu nan", lambda: jo.heavy_ball_coefficients(0.1, 0.1, NAN), ValueError, "`nu`"),
    ("fluctuation m > M", lambda: jo.fluctuation_factor(0.1, 200, 100), ValueError,
     "`batch_size`"),
    ("fluctuation lr nan", lambda: jo.fluctuation_factor(NAN, 2, 100), ValueError,
     "`learning_rate`"),
    ("minibatches float", lambda: jo.epoch_minibatches(jr.key(0), 10.0, 2), TypeError,
     "`num_examples`"),
    ("minibatches empty", lambda: jo.epoch_minibatches(jr.key(0), 0, 2), ValueError,
     "`num_examples`"),
    ("minibatches too big", lambda: jo.epoch_minibatches(jr.key(0), 4, 5), ValueError,
     "`batch_size`"),
]


@pytest.mark.parametrize("label,thunk,exc,match", BAD_HYPER, ids=[b[0] for b in BAD_HYPER])
def test_bad_hyperparameters(label, thunk, exc, match):
    with pytest.raises(exc, match=match):
        thunk()


# ------------------------------------------------------------------- line searches: update
START = [
    ("nan value", dict(value=jnp.nan), "`value`"),
    ("inf value", dict(value=jnp.inf), "`value`"),
    ("nan grad", dict(grad=G.at[0].set(jnp.nan)), "slope"),
    ("inf direction", dict(d=(-G).at[1].set(jnp.inf)), "slope"),
    ("ascent direction", dict(d=G), "descent direction"),
]


@pytest.mark.parametrize("name", list(SEARCHES))
@pytest.mark.parametrize("label,kw,match", START, ids=[s[0] for s in START])
def test_line_search_start_point(name, label, kw, match):
    with pytest.raises(ValueError, match=match):
        _ls_update(SEARCHES[name](), **kw)


@pytest.mark.parametrize("name", list(SEARCHES))
def test_line_search_throw_false_rejects(name):
    """`throw=False`: a rejected step with a zero update, never NaN (before: an inf `value`
    was accepted as a descent and a NaN direction gave a NaN update)."""
    ls = SEARCHES[name](throw=False)
    for kw in (dict(value=jnp.inf), dict(d=(-G).at[0].set(jnp.nan))):
        u, state = _ls_update(ls, **kw)
        assert not bool(state.accepted)
        np.testing.assert_array_equal(u, 0.0)


@pytest.mark.parametrize("name", list(SEARCHES))
def test_line_search_shapes_and_empty(name):
    ls = SEARCHES[name]()
    with pytest.raises(ValueError, match="`updates` must have the shapes of `params`"):
        _ls_update(ls, d=-G[:1])
    with pytest.raises(ValueError, match="`grad` must have the"):
        _ls_update(ls, grad={"a": G})
    with pytest.raises(ValueError, match="`value` must be the scalar"):
        _ls_update(ls, value=jnp.ones(2))
    with pytest.raises(ValueError, match="`params` has no arrays"):
        ls.update({}, ls.init({}), {}, value=V, grad={}, value_fn=lambda p: V)


@functools.cache
def _jitted(name):
    ls = SEARCHES[name]()

    @eqx.filter_jit
    def run(value, grad):
        return _ls_update(ls, value=value, grad=grad)[0]

    return run


def test_line_search_value_checks_under_jit_and_vmap():
    run = _jitted("armijo")
    assert bool(jnp.all(jnp.isfinite(run(V, G))))
    assert_refuses(lambda: run(jnp.asarray(jnp.nan), G), match="`value`")
    values = jnp.array([V, jnp.nan])
    assert_refuses(lambda: jax.vmap(run, (0, None))(values, G), match="`value`")
    sarm = _jitted("stochastic_armijo")
    assert_refuses(lambda: sarm(V, G.at[0].set(jnp.inf)), match="slope")


def test_stochastic_armijo_traced_batch_fraction():
    ls = jo.stochastic_armijo(max_steps=4)
    f = eqx.filter_jit(lambda frac, state: ls.update(-G, state, TH, value=V, grad=G,
                                                      value_fn=J, batch_fraction=frac)[0])
    assert_refuses(lambda: f(jnp.asarray(-0.5), ls.init(TH)), match="`batch_fraction`")


# ------------------------------------------------------------------------ Newton methods
def test_hessian_matrix_bad_input():
    with pytest.raises(ValueError, match="`params` contains NaN"):
        jo.hessian_matrix(J, TH.at[0].set(jnp.nan))
    with pytest.raises(ValueError, match="`params` has no entries"):
        jo.hessian_matrix(J, jnp.zeros(0))
    with pytest.raises(ValueError, match="`value_fn` must return a scalar"):
        jo.hessian_matrix(lambda th: th**2, TH)
    with pytest.raises(ValueError, match="Hessian of `value_fn`"):  # sqrt'' at 0 is inf
        jo.hessian_matrix(lambda th: jnp.sum(jnp.sqrt(jnp.abs(th))), jnp.zeros(2))


@pytest.mark.parametrize("make", [jo.newton_direction, jo.stochastic_newton],
                         ids=["newton", "stochastic_newton"])
def test_newton_bad_gradient_and_shapes(make):
    tx = make()
    state = tx.init(TH)
    with pytest.raises(ValueError, match="NaN/inf"):
        tx.update(G.at[0].set(jnp.nan), state, TH, value=V, value_fn=J)
    with pytest.raises(ValueError, match="`updates` must have the shapes"):
        tx.update(G[:1], state, TH, value=V, value_fn=J)
    u, _ = make(throw=False).update(G.at[0].set(jnp.nan), state, TH, value=V, value_fn=J)
    np.testing.assert_array_equal(u, 0.0)


def test_stochastic_newton_nan_value_under_jit():
    tx = jo.stochastic_newton(max_steps=4)
    run = eqx.filter_jit(lambda v: tx.update(G, tx.init(TH), TH, value=v, value_fn=J)[0])
    assert_refuses(lambda: run(jnp.asarray(jnp.nan)), match="`value`")


# --------------------------------------------------------------- momentum, adaptive, schedules
def test_momentum_and_adaptive_shapes():
    for tx in (jo.sgd_momentum(0.1), jo.unified_adaptive(0.1)):
        state = tx.init(TH)
        with pytest.raises(ValueError, match="`updates` must have the shapes of `params`"):
            tx.update(jnp.ones(3), state, TH)
        with pytest.raises(ValueError, match="`updates` must have the pytree structure"):
            tx.update({"a": TH}, state, TH)


def test_traced_learning_rate_and_schedules():
    """A learning-rate sweep under vmap and a schedule going negative are refused."""

    def step(lr):
        tx = jo.unified_adaptive(lr)
        return tx.update(G, tx.init(TH), TH)[0]

    assert bool(jnp.all(jnp.isfinite(jax.vmap(step)(jnp.array([1e-3, 1e-2])))))
    assert_refuses(lambda: jax.vmap(step)(jnp.array([1e-3, -1e-2])), match="`learning_rate`")
    tx = jo.sgd_momentum(lambda k: 0.1 - 0.2 * k)
    s = tx.init(TH)
    u, s = tx.update(G, s, TH)  # step 0: 0.1, fine
    with pytest.raises(ValueError, match="schedule `learning_rate`"):
        tx.update(G, s, TH)  # step 1: -0.1
    upd = jax.jit(tx.update)
    assert_refuses(lambda: upd(G, s, TH), match="schedule `learning_rate`")


def test_stagnation_decay_ignores_nan_cost():
    """A NaN cost is never the best one; before, it froze `best_before_last` at NaN."""
    tx = jo.scale_by_stagnation_decay(1, 0.5)
    s = tx.init(TH)
    for value in (1.0, jnp.nan, 2.0, 0.5):
        _, s = tx.update(G, s, TH, value=value)
    assert float(s.best_before_last) == 1.0
    assert float(s.scale) == 0.25  # stagnated at the NaN and at 2.0
    with pytest.raises(ValueError, match="`value` must be the scalar"):
        tx.update(G, s, TH, value=jnp.ones(2))


def test_norm_test_bad_input():
    per = jnp.ones((4, 2))
    mask = jnp.ones(4)
    with pytest.raises(ValueError, match="`mask` must be 1-D"):
        jo.norm_test_batch_size(per, mask[None], 0.9, 4)
    with pytest.raises(ValueError, match="`mask` is empty"):
        jo.norm_test_batch_size(per[:0], mask[:0], 0.9, 4)
    with pytest.raises(ValueError, match="rows"):
        jo.norm_test_batch_size(per[:3], mask, 0.9, 4)
    with pytest.raises(ValueError, match="`theta`"):
        jo.norm_test_batch_size(per, mask, -1.0, 4)
    with pytest.raises(ValueError, match="selects no example"):
        jo.norm_test_batch_size(per, jnp.zeros(4), 0.9, 4)
    with pytest.raises(ValueError, match="`max_batch_size`"):
        jo.norm_test_batch_size(per, mask, 0.9, 0)
    # NaN gradients keep the size (before: a NaN cast to int32).
    assert int(jo.norm_test_batch_size(per.at[0, 0].set(jnp.nan), mask, 0.9, 4)) == 4
    f = jax.jit(jo.norm_test_batch_size, static_argnums=3)
    assert_refuses(lambda: f(per, mask, jnp.asarray(jnp.nan), 4), match="`theta`")


def test_small_functions_under_jit():
    assert_refuses(lambda: jax.jit(jo.heavy_ball_coefficients)(0.1, -0.1, 0.0), match="`h_prev`")
    assert_refuses(lambda: jax.jit(jo.fluctuation_factor)(0.1, 0.0, 10.0), match="`batch_size`")
    assert_refuses(lambda: jax.jit(jo.equivalent_batch_size)(-1.0, 8.0, 100.0),
                   match="`step_ratio`")


# ------------------------------------------------------------------------------ hypothesis
@settings(max_examples=15, deadline=None)
@given(st.data())
def test_hypothesis_bad_line_search_inputs(data):
    """NaN/inf injected in the value, gradient or direction, or a mismatched shape: a clear
    error from every line search, never a NaN or silently accepted step."""
    name = data.draw(st.sampled_from(sorted(SEARCHES)))
    kind = data.draw(st.sampled_from(["value", "grad", "d", "shape"]))
    ls = SEARCHES[name]()
    if kind == "value":
        bad = jnp.asarray(data.draw(with_nonfinite(np.array([float(V)])))[0])
        assert_refuses(lambda: _ls_update(ls, value=bad))
    elif kind in ("grad", "d"):
        bad = jnp.asarray(data.draw(with_nonfinite(np.asarray(G))))
        kw = {"grad": bad} if kind == "grad" else {"d": -bad}
        assert_refuses(lambda: _ls_update(ls, **kw))
    else:
        shape = data.draw(mismatched_shapes(TH.shape))
        assert_refuses(lambda: _ls_update(ls, d=-jnp.ones(shape)), match="`updates`")


def test_constructed_inside_jit():
    """Hyperparameter checks work when the transformation is built inside a trace (as
    `jaxsci.train.fit` does with `stochastic_armijo()`), and schedules may return floats."""

    @jax.jit
    def run(th):
        v, g = jax.value_and_grad(J)(th)
        out = []
        for ls in (jo.goldstein_linesearch(max_steps=4), jo.stochastic_armijo(max_steps=4)):
            out.append(ls.update(-g, ls.init(th), th, value=v, grad=g, value_fn=J)[0])
        tx = jo.sgd_momentum(lambda k: 0.1)
        out.append(tx.update(g, tx.init(th), th)[0])
        return out

    assert all(bool(jnp.all(jnp.isfinite(u))) for u in run(TH))


# ------------------------------------------------------------------ SumOfSquares (AdaGrad)
ADAGRAD = dict(beta1=0.0, second_moment=jo.SumOfSquares(), bias_correction_m=False,
               bias_correction_v=False)


def test_SumOfSquares_bad_input():
    """`SumOfSquares` takes no arguments (before: a bare dataclass TypeError); passing the
    class instead of an instance names `second_moment` (before: 'got <class ..._ModuleMeta>')."""
    for args, kwargs, got in (((0.9,), {}, r"SumOfSquares\(0.9\)"),
                              ((), {"beta": 0.9}, r"SumOfSquares\(beta=0.9\)")):
        with pytest.raises(TypeError, match=rf"`SumOfSquares\(\)` takes no arguments, got {got}"
                           r".*use `ExponentialAverage\(beta\)`"):
            jo.SumOfSquares(*args, **kwargs)
    with pytest.raises(TypeError, match=r"`second_moment` must be an instance, got the class "
                       r"SumOfSquares; write `second_moment=SumOfSquares\(\)`"):
        jo.unified_adaptive(0.1, second_moment=jo.SumOfSquares)
    assert jo.SumOfSquares() == jo.SumOfSquares()  # no fields: one jit cache entry


_adagrad = jax.jit(lambda g, th: (lambda tx: tx.update(g, tx.init(th), th)[0])(
    jo.unified_adaptive(0.1, **ADAGRAD)))


def test_SumOfSquares_zero_and_tiny_gradients():
    """Edge input: a zero gradient (V = 0) gives a zero step, not 0/0 = NaN (the `eps`
    guard), also inside `sqrt` and under `jit`/`vmap`; a tiny gradient gives a step of
    at most `learning_rate`, and AdaGrad accumulates r_k = r_{k-1} + g_k^2."""
    for kw in ({}, {"eps_in_sqrt": True}):
        tx = jo.unified_adaptive(0.1, **ADAGRAD, **kw)
        u, s = tx.update(jnp.zeros(2), tx.init(TH), TH)
        np.testing.assert_array_equal(u, 0.0)
        np.testing.assert_array_equal(s.v, 0.0)
    gs = jnp.array([[0.0, 0.0], [1e-30, -1e-30], [3.0, -4.0]])
    u = jax.vmap(_adagrad, (0, None))(gs, TH)
    np.testing.assert_array_equal(u[0], 0.0)
    assert bool(jnp.all(jnp.abs(u) <= 0.1)) and bool(jnp.all(jnp.isfinite(u)))
    np.testing.assert_allclose(u[2], [-0.1, 0.1], rtol=1e-6)
    tx = jo.unified_adaptive(0.1, **ADAGRAD)
    s = tx.init(TH)
    for g in (jnp.array([3.0, 0.0]), jnp.array([4.0, 0.0])):
        u, s = tx.update(g, s, TH)
    np.testing.assert_allclose(s.v, [25.0, 0.0])
    np.testing.assert_allclose(u, [-0.1 * 4.0 / (5.0 + 1e-8), 0.0], rtol=1e-6)
