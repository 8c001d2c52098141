import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given
from jaxsci.init import (
    NormalInit,
    UnitHypersphereInit,
    lift_to_sphere,
    normalize_to_unit_ball,
    relu_init,
    sample_relu_params,
)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_surgery_matches_lean_form(key, dtype):
    mlp = eqx.nn.MLP(2, 1, 5, 2, activation=jax.nn.relu, key=jr.key(0), dtype=dtype)
    schemes = [UnitHypersphereInit(with_bias=True), NormalInit(with_bias=True), NormalInit()]
    new = relu_init(mlp, key=key, schemes=schemes)
    lean = sample_relu_params(key, (2, 5, 5, 1), schemes, dtype)
    for lay, (w, b) in zip(new.layers, lean):
        assert lay.weight.dtype == dtype
        np.testing.assert_array_equal(lay.weight, w)
        np.testing.assert_array_equal(lay.bias, b)
    assert np.all(np.asarray(new.layers[2].bias) == 0)
    assert new(jnp.ones(2, dtype)).shape == (1,)


def test_unit_hypersphere_rows(key):
    (w, b), (w2, b2) = sample_relu_params(
        key, (3, 7, 4), [UnitHypersphereInit(with_bias=True), UnitHypersphereInit()]
    )
    np.testing.assert_allclose(np.sqrt(np.sum(w**2, 1) + b**2), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(w2, axis=1), 1.0, rtol=1e-12)
    assert np.all(b2 == 0)


def test_normal_variances_batched(key):
    (w, b), = sample_relu_params(key, (4, 3), NormalInit(with_bias=True), batch=(20000,))
    assert w.shape == (3, 4, 20000) and b.shape == (3, 20000)
    # "He with bias" of section 5.2: [W, b] ~ N(0, 2 / (n_in + 1)).
    np.testing.assert_allclose(np.var(w), 2 / 5, rtol=0.03)
    np.testing.assert_allclose(np.var(b), 2 / 5, rtol=0.03)
    (w, b), = sample_relu_params(key, (4, 3), NormalInit(), batch=(20000,))
    np.testing.assert_allclose(np.var(w), 2 / 4, rtol=0.03)
    assert np.all(b == 0)


def test_bad_inputs(key):
    with pytest.raises(ValueError, match="variance"):
        NormalInit(variance=-1.0)
    with pytest.raises(ValueError, match="schemes"):
        sample_relu_params(key, (1, 3, 2), [NormalInit()])
    with pytest.raises(ValueError, match="widths"):
        sample_relu_params(key, (1,), NormalInit())
    mlp = eqx.nn.MLP(1, 1, 3, 1, key=jr.key(0))
    with pytest.raises(TypeError, match="key"):
        relu_init(mlp, key=0)
    with pytest.raises(ValueError, match="k"):
        lift_to_sphere(jnp.ones((3, 2)), k=1.0)
    with pytest.raises(ValueError, match="shape"):
        normalize_to_unit_ball(jnp.ones(3))


def test_lift_and_normalise(key):
    x = jr.normal(key, (10, 3))
    z = lift_to_sphere(x, k=2.0)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-12)
    i = int(jnp.argmax(jnp.linalg.norm(x, axis=1)))
    r = float(jnp.linalg.norm(x[i]))
    # ||x_i|| = r: z_i = [x_i / sqrt(k r^2); sqrt(k-1)/sqrt(k)] (section 2.1).
    np.testing.assert_allclose(z[i], np.r_[x[i] / np.sqrt(2 * r**2), np.sqrt(0.5)], rtol=1e-12)
    xs, scale = normalize_to_unit_ball(x, k=4.0)
    np.testing.assert_allclose(np.max(np.linalg.norm(xs, axis=1)), 0.5, rtol=1e-12)
    np.testing.assert_allclose(jax.jit(lift_to_sphere)(x), z, rtol=1e-12)


@given(st.integers(1, 4), st.floats(1.1, 5.0), st.integers(0, 2**30))
def test_lift_on_sphere_property(d, k, seed):
    x = jr.normal(jr.key(seed), (5, d))
    z = lift_to_sphere(x, k=k)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-10)
    assert np.all(np.asarray(z[:, -1]) > 0)
