"""Bad input to jaxsci.kernels (DESIGN rule 6): constructors, `evaluate`, Gram and diagonal.

Constructors check their positive hyperparameters eagerly (`ValueError`) and under `jit` /
`vmap` (`eqx.error_if`); `evaluate(x, y)` and `kernel(X1, X2)` check shapes at trace time.
The Gram functions do not scan their points for NaN (they run inside the GP fit's loop):
`jaxsci.gp`'s entry points do that once.
"""

import equinox as eqx
import hypothesis
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import kernels as K
from jaxsci.testing import assert_refuses, empty_like_shape, mismatched_shapes, with_nonfinite

X = jnp.linspace(0.0, 1.0, 4)[:, None] * jnp.ones((1, 2))

# (constructor, name of the argument) for every positive hyperparameter of every kernel
CTORS = {
    "expquad-variance": (lambda v: K.ExpQuad(variance=v), "variance"),
    "expquad-lengthscale": (lambda v: K.ExpQuad(lengthscale=v), "lengthscale"),
    "m12-lengthscale": (lambda v: K.Matern12(lengthscale=v), "lengthscale"),
    "m32-variance": (lambda v: K.Matern32(variance=v), "variance"),
    "m52-lengthscale": (lambda v: K.Matern52(lengthscale=v), "lengthscale"),
    "rq-alpha": (lambda v: K.RationalQuadratic(alpha=v), "alpha"),
    "se-theta1": (lambda v: K.SquaredExponential(theta1=v), "theta1"),
    "se-theta2": (lambda v: K.SquaredExponential(theta2=v), "theta2"),
    "scaled": (lambda v: K.Scaled(K.ExpQuad(), v), "scale"),
    "periodic-variance": (lambda v: K.Periodic(variance=v), "variance"),
    "periodic-lengthscale": (lambda v: K.Periodic(lengthscale=v), "lengthscale"),
    "periodic-period": (lambda v: K.Periodic(period=v), "period"),
    "constant-value": (lambda v: K.Constant(v), "value"),
    "dot-sigma0": (lambda v: K.DotProduct(sigma0=v), "sigma0"),
    "dot-variance": (lambda v: K.DotProduct(variance=v), "variance"),
    "poly-sigma0": (lambda v: K.Polynomial(2, sigma0=v), "sigma0"),
    "poly-variance": (lambda v: K.Polynomial(3, variance=v), "variance"),
    "matern-variance": (lambda v: K.Matern(2.2, variance=v), "variance"),
    "matern-lengthscale": (lambda v: K.Matern(0.7, lengthscale=v), "lengthscale"),
}


@pytest.mark.parametrize("bad", [np.nan, np.inf, -1.0, 0.0])
@pytest.mark.parametrize("name", list(CTORS))
def test_constructor_refuses_eagerly(name, bad):
    ctor, arg = CTORS[name]
    with pytest.raises(ValueError, match=f"`{arg}` must be positive and finite, got {bad}"):
        ctor(bad)


@pytest.mark.parametrize("name", ["expquad-variance", "m12-lengthscale", "scaled", "periodic-period", "poly-sigma0", "matern-lengthscale"])
def test_constructor_refuses_under_jit_and_vmap(name):
    """The issue's case: `variance=inf` or a negative lengthscale under `jit` used to give a
    NaN Gram; the same check now holds traced (`eqx.error_if`), under `jit` and `vmap`."""
    ctor, arg = CTORS[name]
    gram = eqx.filter_jit(lambda v: ctor(v)(X, X))
    assert np.all(np.isfinite(gram(jnp.array(0.7))))
    for bad in (jnp.inf, -1.0):
        with pytest.raises(eqx.EquinoxRuntimeError, match=f"`{arg}` must be positive and finite"):
            gram(jnp.array(bad))
    batched = jax.vmap(lambda v: ctor(v)(X, X))
    assert batched(jnp.array([0.5, 2.0])).shape == (2, 4, 4)
    assert_refuses(lambda: batched(jnp.array([0.5, -2.0])), match=f"`{arg}` must be positive")


@pytest.mark.parametrize(
    "kernel",
    [
        K.ExpQuad(), K.SquaredExponential(), K.Matern52(), K.ExpQuad() + K.Matern12(), K.ExpQuad() * K.Matern32(),
        2.0 * K.ExpQuad(), K.Periodic(), K.Constant(), K.DotProduct(), K.Polynomial(2), K.Matern(2.2),
    ],
    ids=["expquad", "se", "m52", "sum", "product", "scaled", "periodic", "constant", "dot", "poly", "matern"],
)
def test_evaluate_shapes(kernel):
    with pytest.raises(ValueError, match="`x` and `y` must have the same dimension"):
        kernel.evaluate(jnp.ones(2), jnp.ones(3))
    with pytest.raises(ValueError, match="`x` must be a single point of shape"):
        kernel.evaluate(jnp.ones((2, 2)), jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="`y` must be a single point"):
        kernel.evaluate(jnp.ones(2), jnp.array(1.0))


def test_gram_shapes_and_empty():
    k = K.ExpQuad(1.0, jnp.ones(2))
    with pytest.raises(ValueError, match="`X1` and `X2` must have the same number of columns"):
        k(jnp.ones((3, 2)), jnp.ones((3, 3)))
    with pytest.raises(ValueError, match="`X2` must be a 2-D array"):
        k(X, jnp.ones(2))
    with pytest.raises(ValueError, match="ARD `lengthscale`"):
        k(jnp.ones((3, 3)), jnp.ones((3, 3)))
    with pytest.raises(ValueError, match="`X1` is empty"):
        k(jnp.ones((0, 2)), X)
    with pytest.raises(ValueError, match="`X2` is empty"):
        (k + k)(X, jnp.ones((0, 2)))
    with pytest.raises(ValueError, match="`X` is empty"):
        k.diag(jnp.ones((0, 2)))
    with pytest.raises(ValueError, match="`X1` is empty.*input dimensions"):
        K.SquaredExponential()(jnp.ones((3, 0)), jnp.ones((3, 0)))
    with pytest.raises(TypeError, match="`variance` must be real"):
        K.ExpQuad(1j)
    with pytest.raises(ValueError, match="`lengthscale` must be a scalar or an ARD vector"):
        K.ExpQuad(1.0, jnp.ones((2, 2)))


def test_sum_and_product_refuse_non_kernels():
    for combine in (K.Sum, K.Product):
        with pytest.raises(TypeError, match="`k2` is a float, not an `AbstractKernel`"):
            combine(K.ExpQuad(), 2.0)
        with pytest.raises(TypeError, match="`k1` is a ndarray"):
            combine(np.ones(2), K.ExpQuad())
        # a component's own checks still apply through the combination
        with pytest.raises(ValueError, match="ARD `lengthscale`"):
            combine(K.ExpQuad(1.0, jnp.ones(2)), K.Matern52())(jnp.ones((3, 3)), jnp.ones((3, 3)))


_m32_gram = jax.jit(lambda v: K.Matern32(1.0, v)(X, X))


@hypothesis.settings(max_examples=15, deadline=None)
@hypothesis.given(st.data())
def test_random_bad_input_is_refused(data):
    """Random bad input: a NaN/inf injected into an ARD lengthscale, a non-positive
    hyperparameter, a mismatched or empty point set: always a clear error."""
    kind = data.draw(st.sampled_from(["nonfinite", "nonpositive", "shape", "empty"]))
    ls = np.array([0.5, 1.5])
    if kind == "nonfinite":
        bad = data.draw(with_nonfinite(ls))
        assert_refuses(lambda: _m32_gram(jnp.asarray(bad)), match="`lengthscale`")
    elif kind == "nonpositive":
        v = data.draw(st.floats(-10.0, 0.0))
        assert_refuses(lambda: K.RationalQuadratic(1.0, ls, v)(X, X), match="`alpha`")
    elif kind == "shape":
        # a wrong rank or column count (another number of rows is a valid Gram)
        shape = data.draw(mismatched_shapes((4, 2)).filter(lambda s: len(s) != 2 or s[1] != 2))
        assert_refuses(lambda: K.ExpQuad(1.0, ls)(X, jnp.ones(shape)), match="`X2`|ARD")
    else:
        assert_refuses(lambda: K.Matern52(1.0, ls)(jnp.asarray(empty_like_shape((4, 2))), X), match="`X1` is empty")


def test_new_kernels_static_arguments_and_shapes():
    """`degree` and `nu` are static Python numbers; scalar hyperparameters must be scalars."""
    for bad in (2.0, "2", jnp.array(2), None):
        with pytest.raises(TypeError, match="`degree` must be a positive Python int"):
            K.Polynomial(bad)
    with pytest.raises(TypeError, match="`degree` must be a positive Python int, got a bool"):
        K.Polynomial(True)
    for bad in (0, -3):
        with pytest.raises(ValueError, match="`degree` must be a positive int"):
            K.Polynomial(bad)
    assert K.Polynomial(np.int64(3)).degree == 3
    for bad in (0.0, -1.5, np.nan, np.inf):
        with pytest.raises(ValueError, match="`nu` must be positive and finite"):
            K.Matern(bad)
    for bad in (jnp.array(2.5), "2.5", None, True):
        with pytest.raises(TypeError, match="`nu` must be a Python number"):
            K.Matern(bad)
    assert K.Matern(2).nu == 2.0
    for ctor, arg in [
        (lambda v: K.Periodic(lengthscale=v), "lengthscale"),
        (lambda v: K.Periodic(period=v), "period"),
        (lambda v: K.Constant(v), "value"),
        (lambda v: K.DotProduct(v), "sigma0"),
        (lambda v: K.Polynomial(2, variance=v), "variance"),
        (lambda v: K.Matern(1.2, variance=v), "variance"),
    ]:
        with pytest.raises(ValueError, match=f"`{arg}` must be a scalar"):
            ctor(jnp.ones(2))
    with pytest.raises(ValueError, match="`lengthscale` must be a scalar or an ARD vector"):
        K.Matern(2.2, 1.0, jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="ARD `lengthscale`"):
        K.Matern(2.2, 1.0, jnp.ones(2))(jnp.ones((3, 3)), jnp.ones((3, 3)))
    with pytest.raises(TypeError, match="`sigma0` must be real"):
        K.DotProduct(1j)
    for k in (K.Periodic(), K.Constant(), K.DotProduct(), K.Polynomial(2), K.Matern(0.7)):
        with pytest.raises(ValueError, match="`X1` and `X2` must have the same number of columns"):
            k(jnp.ones((3, 2)), jnp.ones((3, 3)))
        with pytest.raises(ValueError, match="`X` is empty"):
            k.diag(jnp.ones((0, 2)))
