"""Bad input to jaxsci.sensitivity: each export refuses it with a message naming the argument."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsci.sensitivity as sa
import jaxsci.sensitivity as se
from jaxsci.testing import assert_refuses

# ---- Morris and eFAST (jaxsci/sensitivity/_morris.py, _fast.py) ----------------------------


_KEY = jr.key(0)
# host arrays: the bad variants below cost no compilation
_TRAJ = np.asarray(sa.morris_trajectories(_KEY, 3, 6, 4))  # (6, 4, 3)
_X = _TRAJ.reshape(-1, 3)  # (24, 3): T = 6 trajectories
_Y = _X @ np.array([1.0, 2.0, 3.0])
_YF = np.sin(np.asarray(sa.fast_curves(np.array([0.1, 0.2]), 65, 4)) @ np.array([1.0, 2.0]))


def _set(a, index, value):
    """A copy of the array `a` with `a[index] = value`."""
    a = np.array(a, copy=True)
    a[index] = value
    return a


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(key=0), TypeError, "`key`"),
        (dict(num_vars=0), ValueError, "`num_vars`"),
        (dict(num_vars=2.0), TypeError, "`num_vars`"),
        (dict(num_trajectories=0), ValueError, "`num_trajectories`"),
        (dict(num_levels=5), ValueError, "`num_levels` must be even"),
        (dict(num_levels=0), ValueError, "`num_levels`"),
        (dict(groups=[0, 1]), ValueError, "`groups` must give one label per factor"),
        (dict(dtype=jnp.int32), TypeError, "`dtype`"),
    ],
)
def test_morris_trajectories_bad_input(kwargs, error, match):
    args = dict(key=_KEY, num_vars=3, num_trajectories=4, num_levels=4) | kwargs
    with pytest.raises(error, match=match):
        sa.morris_trajectories(**args)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(num_choices=1), ValueError, "`num_choices`"),
        (dict(num_choices=4), ValueError, "`num_choices` must be smaller"),
        (dict(bounds=np.ones((3, 2))), ValueError, "`bounds` needs lower < upper"),
        (dict(bounds=np.array([[0.0, 1.0]] * 2)), ValueError, r"`bounds` must have shape \(3, 2\)"),
        (dict(bounds=np.array([[0.0, np.nan]] * 3)), ValueError, "`bounds` contains NaN"),
        (dict(key=jnp.ones(3)), TypeError, "`key`"),
    ],
)
def test_morris_sample_bad_input(kwargs, error, match):
    args = dict(key=_KEY, num_vars=3, num_trajectories=4) | kwargs
    with pytest.raises(error, match=match):
        sa.morris_sample(**args)


@pytest.mark.parametrize(
    "traj, match",
    [
        (_set(_TRAJ, (1, 2, 0), np.nan), "`trajectories` contain NaN"),
        (_set(_TRAJ, (0, 0, 1), np.inf), "`trajectories` contain NaN"),
        (_TRAJ[0], "`trajectories` must have 3 dimension"),
        (_TRAJ[:0], "`trajectories` is empty"),
        (_TRAJ[:, :1], r"`trajectories` must have shape \(n_traj, k, d\) with k >= 2"),
    ],
)
def test_trajectory_functions_bad_input(traj, match):
    with pytest.raises(ValueError, match=match):
        sa.trajectory_distances(traj)
    for select in (sa.select_trajectories_brute, sa.select_trajectories_local):
        with pytest.raises(ValueError, match=match):
            select(traj, 2)


def test_selection_bad_choices():
    for select in (sa.select_trajectories_brute, sa.select_trajectories_local):
        with pytest.raises(ValueError, match="`num_choices` must be smaller"):
            select(_TRAJ, 6)
        with pytest.raises(ValueError, match="`num_choices`"):
            select(_TRAJ, 1)
        with pytest.raises(TypeError, match="`num_choices`"):
            select(_TRAJ, 2.5)
    big = np.zeros((60, 4, 3)) + np.arange(60.0)[:, None, None]
    with pytest.raises(ValueError, match="`num_choices` = 10 of 60 candidates"):
        sa.select_trajectories_brute(big, 10)


@pytest.mark.parametrize(
    "x, y, kwargs, error, match",
    [
        (_set(_X, (3, 1), np.nan), _Y, {}, ValueError, "`X` contains NaN"),
        (_X, _set(_Y, (5), np.inf), {}, ValueError, "`Y` contains NaN"),
        (_X[:22], _Y[:22], {}, ValueError, r"`X` must have T \* 4 rows"),
        (_X[:4], _Y[:4], {}, ValueError, r"T >= 2 trajectories"),
        (_X[:0], _Y[:0], {}, ValueError, "`X` is empty"),
        (_X[:, 0], _Y, {}, ValueError, "`X` must have 2 dimension"),
        (_X, _Y[:-4], {}, ValueError, "`Y` must have 24 rows"),
        (_X, _Y[:, None, None], {}, ValueError, "`Y` must have 1 or 2 dimension"),
        (_X, _Y[:, None][:, :0], {}, ValueError, "`Y` is empty"),
        (_X, _Y, dict(groups=[0, 0, 1]), ValueError, "`X` is not a Morris design"),
        (_X[:22], _Y[:22], dict(groups="aab"), ValueError, r"`X` must have T \* 3 rows"),
        (np.roll(_X, 1, axis=0), _Y, {}, ValueError, "`X` is not a Morris design"),
        (_X, _Y, dict(num_levels=3), ValueError, "`num_levels` must be even"),
        (_X, _Y, dict(key=_KEY, conf_level=1.5), ValueError, r"`conf_level` must lie in \(0, 1\)"),
        (_X, _Y, dict(key=_KEY, conf_level="95%"), TypeError, "`conf_level`"),
        (_X, _Y, dict(key=_KEY, num_resamples=1), ValueError, "`num_resamples`"),
        (_X, _Y, dict(key=1), TypeError, "`key`"),
        (_X, _Y, dict(resample_indices=np.zeros((3, 5, 4), int)), ValueError,
         r"`resample_indices` must have shape \(3, b >= 2, 6\)"),
        (_X, _Y, dict(resample_indices=np.full((3, 5, 6), 6)), ValueError,
         r"`resample_indices` must lie in \[0, 6\)"),
        (_X, _Y, dict(resample_indices=np.zeros((3, 5, 6))), TypeError, "`resample_indices`"),
    ],
)
def test_morris_analyze_bad_input(x, y, kwargs, error, match):
    with pytest.raises(error, match=match):
        sa.morris_analyze(x, y, **kwargs)


def test_morris_value_checks_under_jit():
    f = jax.jit(lambda x, y: sa.morris_analyze(x, y))
    assert_refuses(lambda: f(_X, _set(_Y, (2), np.nan)), match="`Y` contains NaN")
    assert_refuses(lambda: f(_set(_X, (2, 0), np.inf), _Y), match="`X` contains NaN")
    assert_refuses(lambda: f(np.roll(_X, 1, axis=0), _Y), match="`X` is not a Morris design")
    g = eqx.filter_jit(lambda c: sa.morris_analyze(_X, _Y, key=_KEY, conf_level=c))
    assert_refuses(lambda: g(jnp.array(1.5)), match="`conf_level` must lie in")
    with pytest.raises(ValueError, match="`groups` fixes the design's shape"):
        jax.jit(lambda gr: sa.morris_analyze(_X, _Y, groups=gr))(jnp.array([0, 0, 1]))


def test_result_modules_bad_shapes():
    with pytest.raises(ValueError, match="`mu` must have shape"):
        sa.MorrisIndices(np.ones((2, 2, 2)), np.ones((2, 2, 2)), np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="`sigma` must have the shape of `mu`"):
        sa.MorrisIndices(np.ones(3), np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="`mu_star_conf` must have the shape of `mu`"):
        sa.MorrisIndices(np.ones(3), np.ones(3), np.ones(3), np.ones((3, 1)))
    with pytest.raises(ValueError, match="`total` must have the shape of `first_order`"):
        sa.FASTIndices(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="`first_order` must have shape"):
        sa.FASTIndices(np.ones(()), np.ones(()))


@pytest.mark.parametrize(
    "fn, error, match",
    [
        (lambda: sa.fast_frequencies(0, 65, 4), ValueError, "`num_vars`"),
        (lambda: sa.fast_frequencies(3, 64, 4), ValueError, r"`num_samples` must exceed 4 M\^2"),
        (lambda: sa.fast_frequencies(3, 65, 0), ValueError, "`M`"),
        (lambda: sa.fast_frequencies(3, 65.0, 4), TypeError, "`num_samples`"),
        (lambda: sa.fast_curves(np.array([0.1, np.nan]), 65), ValueError, "`phases` contain NaN"),
        (lambda: sa.fast_curves(np.ones((2, 2)), 65), ValueError, "`phases` must have 1 dim"),
        (lambda: sa.fast_curves(np.ones(0), 65), ValueError, "`phases` is empty"),
        (lambda: sa.fast_curves(np.ones(2), 10), ValueError, "`num_samples` must exceed"),
        (lambda: sa.fast_sample(0, 2, 65), TypeError, "`key`"),
        (lambda: sa.fast_sample(_KEY, 2, 65, bounds=np.ones((2, 2))), ValueError, "`bounds`"),
        (lambda: sa.fast_sample(_KEY, 2, 65, bounds=np.ones((3, 2))), ValueError, "`bounds` must"),
        (lambda: sa.fast_sample(_KEY, 0, 65), ValueError, "`num_vars`"),
        (lambda: sa.fast_analyze(_set(_YF, (7), np.nan), 2), ValueError, "`Y` contains NaN"),
        (lambda: sa.fast_analyze(_set(_YF, (7), -np.inf), 2), ValueError, "`Y` contains NaN"),
        (lambda: sa.fast_analyze(_YF[:-1], 2), ValueError, r"`Y` must have N \* 2 rows"),
        (lambda: sa.fast_analyze(_YF[:128], 2), ValueError, "rows of `Y` per factor must exceed"),
        (lambda: sa.fast_analyze(_YF[:0], 2), ValueError, "`Y` is empty"),
        (lambda: sa.fast_analyze(_YF[:, None, None], 2), ValueError, "`Y` must have 1 or 2"),
        (lambda: sa.fast_analyze(_YF, 0), ValueError, "`num_vars`"),
        (lambda: sa.fast_analyze(_YF, 2, M=5), ValueError, "`Y` per factor must exceed 4 M"),
    ],
)
def test_fast_bad_input(fn, error, match):
    with pytest.raises(error, match=match):
        fn()


def test_fast_value_checks_under_jit():
    f = jax.jit(lambda y: sa.fast_analyze(y, 2))
    assert_refuses(lambda: f(_set(_YF, (3), np.nan)), match="`Y` contains NaN")
    g = jax.jit(lambda p: sa.fast_curves(p, 65))
    assert_refuses(lambda: g(jnp.array([0.1, np.inf])), match="`phases` contain NaN")
    h = jax.jit(lambda b: sa.fast_sample(_KEY, 2, 65, bounds=b))
    assert_refuses(lambda: h(jnp.array([[1.0, 0.0], [0.0, 1.0]])), match="`bounds` needs lower")


# ---- Monte-Carlo Sobol: sobol_sequence, saltelli_sample, evaluate_samples, saltelli_indices,
# ---- sobol_analysis (SaltelliIndices is the container they return)

BOX = jnp.array([[0.0, 1.0], [-1.0, 1.0]])
Y_OK = jnp.sin(jnp.arange(8 * 4.0))  # N = 8 base samples, D = 2, first order: 8 * (2 + 2) rows


def _sum_model(x):
    return jnp.sum(x)


@pytest.mark.parametrize(
    "args, kwargs, err, match",
    [
        ((0, 2), {}, ValueError, "`n`"),
        ((8.0, 2), {}, TypeError, "`n`"),
        ((8, 0), {}, ValueError, "`dimension`"),
        ((8, 1025), {}, ValueError, r"`dimension` must be <= 1024"),
        ((8, 2), dict(skip=-1), ValueError, "`skip`"),
        ((2**29, 2), dict(skip=2**29 + 1), ValueError, r"`n` \+ `skip` must be <= 2\^30"),
        ((8, 2), dict(key=0), TypeError, "`key`"),
        ((8, 2), dict(dtype=jnp.int32), TypeError, "`dtype`"),
    ],
)
def test_sobol_sequence_bad_input(args, kwargs, err, match):
    with pytest.raises(err, match=match):
        se.sobol_sequence(*args, **kwargs)


def test_saltelli_sample_bad_input():
    with pytest.raises(ValueError, match=r"`num_inputs` must be <= 512"):
        se.saltelli_sample(8, 513)
    with pytest.raises(ValueError, match="`num_inputs`"):
        se.saltelli_sample(8, 0)
    with pytest.raises(ValueError, match=r"`bounds` must have shape \(2, 2\)"):
        se.saltelli_sample(8, 2, bounds=BOX[:, 0])
    with pytest.raises(TypeError, match="`bounds`"):
        se.saltelli_sample(8, 2, bounds="unit box")
    for bad in (BOX.at[1, 0].set(jnp.nan), BOX.at[0, 1].set(jnp.inf), BOX[:, ::-1], BOX.at[0, 1].set(0.0)):
        assert_refuses(lambda: se.saltelli_sample(8, 2, bounds=bad), match="`bounds` must be finite")
        jitted = jax.jit(lambda b: se.saltelli_sample(8, 2, bounds=b))
        assert_refuses(lambda: jitted(bad), match="`bounds` must be finite")


def test_evaluate_samples_bad_input():
    x = se.saltelli_sample(8, 2)
    with pytest.raises(TypeError, match="`model` must be callable"):
        se.evaluate_samples("ishigami", x)
    with pytest.raises(ValueError, match="`samples` must have 2 dimension"):
        se.evaluate_samples(_sum_model, x[:, 0])
    with pytest.raises(ValueError, match="`samples` is empty"):
        se.evaluate_samples(_sum_model, x[:0])
    with pytest.raises(TypeError, match="`samples`"):
        se.evaluate_samples(_sum_model, "x")
    for bad in (0, -4, 2.5):
        with pytest.raises((ValueError, TypeError), match="`chunk_size`"):
            se.evaluate_samples(_sum_model, x, chunk_size=bad)
    with pytest.raises(TypeError, match="`sharding` must be a jax.sharding.Sharding"):
        se.evaluate_samples(_sum_model, x, sharding=jax.devices())


@pytest.mark.parametrize(
    "y, kwargs, err, match",
    [
        (Y_OK[:-1], {}, ValueError, r"`y` has 31 rows, not a multiple of num_inputs \+ 2 = 4"),
        (Y_OK, dict(second_order=True), ValueError, r"not a multiple of 2 num_inputs \+ 2 = 6"),
        (Y_OK[:0], {}, ValueError, "`y` is empty"),
        (Y_OK[0], {}, ValueError, "`y` must have a leading sample axis"),
        ("y", {}, TypeError, "`y`"),
        (Y_OK, dict(num_inputs=0), ValueError, "`num_inputs`"),
        (Y_OK, dict(key=jr.key(0), num_resamples=1), ValueError, "`num_resamples`"),
        (Y_OK, dict(key=42), TypeError, "`key`"),
        (Y_OK, dict(resample_indices=np.zeros((8, 1), int)), ValueError, r"`resample_indices` must have shape \(8, R\)"),
        (Y_OK, dict(resample_indices=np.zeros((7, 3), int)), ValueError, "`resample_indices`"),
        (Y_OK, dict(resample_indices=np.zeros((8, 3))), TypeError, "`resample_indices` must be integers"),
        (Y_OK, dict(key=jr.key(0), conf_level=[0.9, 0.95]), ValueError, "`conf_level` must be a scalar"),
        (Y_OK, dict(key=jr.key(0), conf_level=None), TypeError, "`conf_level`"),
    ],
)
def test_saltelli_indices_bad_shapes(y, kwargs, err, match):
    kwargs = {"num_inputs": 2, **kwargs}
    with pytest.raises(err, match=match):
        se.saltelli_indices(y, kwargs.pop("num_inputs"), **kwargs)


_indices_jit = jax.jit(lambda y, r, c: se.saltelli_indices(y, 2, resample_indices=r, conf_level=c))
R_OK = np.arange(24).reshape(8, 3) % 8


@pytest.mark.parametrize(
    "y, r, conf, match",
    [
        (Y_OK.at[3].set(jnp.nan), R_OK, 0.95, "`y` contains NaN or inf"),
        (Y_OK.at[0].set(-jnp.inf), R_OK, 0.95, "`y` contains NaN or inf"),
        (Y_OK, np.where(R_OK == 0, 8, R_OK), 0.95, r"`resample_indices` must lie in \[0, 8\)"),
        (Y_OK, -R_OK - 1, 0.95, r"`resample_indices` must lie in"),
        (Y_OK, R_OK, 1.5, r"`conf_level` must lie in \(0, 1\)"),
        (Y_OK, R_OK, 0.0, r"`conf_level`"),
        (Y_OK, R_OK, float("nan"), r"`conf_level`"),
    ],
)
def test_saltelli_indices_bad_values_eager_and_under_jit(y, r, conf, match):
    assert_refuses(
        lambda: se.saltelli_indices(y, 2, resample_indices=r, conf_level=conf), match=match
    )
    assert_refuses(lambda: _indices_jit(y, r, conf), match=match)


def test_sobol_analysis_bad_input():
    with pytest.raises(ValueError, match=r"`bounds` must have shape \(d, 2\)"):
        se.sobol_analysis(_sum_model, 8, BOX[:, 0], key=jr.key(0))
    with pytest.raises(ValueError, match=r"`bounds` must have shape \(d, 2\)"):
        se.sobol_analysis(_sum_model, 8, BOX[:0], key=jr.key(0))
    with pytest.raises(TypeError, match="`key`"):
        se.sobol_analysis(_sum_model, 8, BOX, key=None)
    with pytest.raises(TypeError, match="`model` must be callable"):
        se.sobol_analysis(None, 8, BOX, key=jr.key(0))
    with pytest.raises(ValueError, match="`n`"):
        se.sobol_analysis(_sum_model, 0, BOX, key=jr.key(0))
    with pytest.raises(TypeError, match="`conf_level`"):
        se.sobol_analysis(_sum_model, 8, BOX, key=jr.key(0), conf_level="95%")
    # (reversed / non-finite `bounds`: the check shared with `saltelli_sample`, tested above)
    # a model that returns NaN somewhere in the box: refused, naming the model values
    assert_refuses(
        lambda: se.sobol_analysis(lambda x: jnp.log(x[1]), 8, BOX, key=jr.key(0)),
        match="`y` contains NaN or inf: check the model",
    )
