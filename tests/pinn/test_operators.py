"""Operators against analytic derivatives; jit / vmap / grad; bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import check_grad_fd

from jaxsci import pinn


def f(x):
    return jnp.sin(x[0]) * jnp.exp(0.5 * x[1]) + x[0] ** 2 * x[-1]


def f_grad(x):
    g = jnp.zeros(3).at[0].add(jnp.cos(x[0]) * jnp.exp(0.5 * x[1]) + 2 * x[0] * x[2])
    g = g.at[1].add(0.5 * jnp.sin(x[0]) * jnp.exp(0.5 * x[1]))
    return g.at[2].add(x[0] ** 2)


def f_hess(x):
    e = jnp.exp(0.5 * x[1])
    return jnp.array(
        [
            [-jnp.sin(x[0]) * e + 2 * x[2], 0.5 * jnp.cos(x[0]) * e, 2 * x[0]],
            [0.5 * jnp.cos(x[0]) * e, 0.25 * jnp.sin(x[0]) * e, 0.0],
            [2 * x[0], 0.0, 0.0],
        ]
    )


X = jnp.array([0.3, -0.7, 1.1])


@jax.jit
def _all_ops(x, v):
    return (
        pinn.gradient(f, x),
        pinn.hessian(f, x),
        pinn.laplacian(f, x),
        pinn.laplacian(f, x, axes=(0, 1)),
        pinn.time_derivative(f, x),
        pinn.partial(f, x, 1),
        pinn.second_directional_derivative(f, x, v),
        pinn.directional_derivative(f, x, v)[1],
    )


def test_gradient_hessian_laplacian_analytic():
    v = jnp.array([0.2, -1.0, 0.5])
    grad, hess, lap, lap01, dt, d1, (u, du, d2u), dd = _all_ops(X, v)
    np.testing.assert_allclose(grad, f_grad(X), rtol=1e-12)
    np.testing.assert_allclose(hess, f_hess(X), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(lap, jnp.trace(f_hess(X)), rtol=1e-12)
    np.testing.assert_allclose(lap01, f_hess(X)[0, 0] + f_hess(X)[1, 1], rtol=1e-12)
    np.testing.assert_allclose(dt, f_grad(X)[2], rtol=1e-12)
    np.testing.assert_allclose(d1, f_grad(X)[1], rtol=1e-12)
    np.testing.assert_allclose(du, f_grad(X) @ v, rtol=1e-12)
    np.testing.assert_allclose(d2u, v @ f_hess(X) @ v, rtol=1e-12)
    np.testing.assert_allclose(dd, f_grad(X) @ v)
    # eager == jit
    np.testing.assert_allclose(pinn.laplacian(f, X), lap, rtol=1e-13)


def test_divergence_of_gradient_is_laplacian():
    np.testing.assert_allclose(
        pinn.divergence(lambda y: pinn.gradient(f, y), X), jnp.trace(f_hess(X)), rtol=1e-12
    )
    field = lambda y: jnp.array([y[0] ** 2, y[0] * y[1], jnp.sin(y[2])])  # noqa: E731
    np.testing.assert_allclose(pinn.divergence(field, X), 3 * X[0] + jnp.cos(X[2]))


def test_derivatives_1d_and_vmap_jit():
    g = lambda p: jnp.sin(2 * p[0]) * jnp.cos(p[1])  # noqa: E731
    pts = jnp.array([[0.1, 0.2], [0.5, 0.9], [-0.3, 0.4]])
    out = jax.vmap(lambda p: jnp.stack(pinn.derivatives_1d(g, p)))(pts)
    x, t = pts[:, 0], pts[:, 1]
    ref = jnp.stack(
        [
            jnp.sin(2 * x) * jnp.cos(t),
            2 * jnp.cos(2 * x) * jnp.cos(t),
            -4 * jnp.sin(2 * x) * jnp.cos(t),
            -jnp.sin(2 * x) * jnp.sin(t),
        ],
        axis=1,
    )
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-14)
    loop = jnp.stack([pinn.laplacian(g, p) for p in pts])
    np.testing.assert_allclose(jax.jit(jax.vmap(lambda p: pinn.laplacian(g, p)))(pts), loop)


def test_grad_through_operator_wrt_parameters(key):
    net = eqx.nn.MLP(2, "scalar", 8, 2, activation=jnp.tanh, key=key)
    pts = jnp.array([[0.1, 0.2], [0.5, 0.9]])

    def loss(scale):
        model = lambda p: net(p * scale)  # noqa: E731
        return jnp.sum(jax.vmap(lambda p: pinn.laplacian(model, p, axes=(0,)))(pts) ** 2)

    check_grad_fd(jax.jit(loss), jnp.array(0.7), rtol=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="ONE point"):
        pinn.gradient(f, jnp.ones((2, 3)))
    with pytest.raises(TypeError, match="floating"):
        pinn.laplacian(f, jnp.ones(3, dtype=jnp.int32))
    with pytest.raises(ValueError, match="out of range"):
        pinn.partial(f, X, 5)
    with pytest.raises(ValueError, match="shape \\(2,\\)"):
        pinn.derivatives_1d(f, X)
    with pytest.raises(ValueError, match="scalar-valued"):
        pinn.gradient(lambda y: y, X)


def test_taylor_mode_mlp_matches_nested_jvp(key):
    pts = jnp.array([[0.1, 0.2], [0.5, 0.9], [0.7, 0.3]])
    for act in (jnp.tanh, jax.nn.softplus):
        net = eqx.nn.MLP(2, "scalar", 5, 2, activation=act, key=key)
        fast = eqx.filter_jit(pinn.mlp_derivatives_1d)(net, pts)
        slow = jax.vmap(lambda p: jnp.stack(pinn.derivatives_1d(net, p)))(pts)
        np.testing.assert_allclose(jnp.stack(fast, axis=1), slow, rtol=1e-10, atol=1e-12)
    with pytest.raises(TypeError, match="MLP"):
        pinn.mlp_derivatives_1d(lambda p: p[0], pts)
