"""Bad input to jaxsci.sensitivity: each export refuses it with a message naming the argument."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsci.sensitivity as se
from jaxsci.testing import assert_refuses

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
