"""The public Taylor-mode fast path: values against jax.jacfwd / jax.hessian for both MLP
types, jit / vmap / grad, and a user problem opting in via AbstractSpaceTime1DProblem."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxsci
from jaxsci import pinn


def _nets(key):
    return [
        jaxsci.nn.MLP(2, 6, 3, activation=jnp.tanh, key=key),
        eqx.nn.MLP(2, "scalar", 6, 2, activation=jnp.tanh, key=key),
        eqx.nn.MLP(2, 1, 5, 2, activation=jax.nn.softplus, key=key),
    ]


def _reference(net, pts):
    f = lambda p: jnp.reshape(net(p), ())  # noqa: E731
    g = jax.vmap(jax.jacfwd(f))(pts)
    h = jax.vmap(jax.hessian(f))(pts)
    return jax.vmap(f)(pts), g[:, 0], h[:, 0, 0], g[:, 1]


def test_values_match_jacfwd_and_hessian(key):
    pts = jr.uniform(jr.fold_in(key, 1), (9, 2))
    for net in _nets(key):
        fast = eqx.filter_jit(pinn.mlp_derivatives_1d)(net, pts)
        for got, ref in zip(fast, _reference(net, pts)):
            np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(jnp.stack(pinn.batch_derivatives_1d(net, pts)),
                                      jnp.stack(pinn.mlp_derivatives_1d(net, pts)))


def test_vmap_over_models_and_grad(key):
    pts = jr.uniform(jr.fold_in(key, 1), (7, 2))
    nets = eqx.filter_vmap(lambda k: jaxsci.nn.MLP(2, 4, 2, activation=jnp.tanh, key=k))(
        jr.split(key, 3)
    )
    uxx = eqx.filter_vmap(lambda m: pinn.mlp_derivatives_1d(m, pts)[2])(nets)
    for i in range(3):
        net_i = jax.tree.map(lambda x: x[i] if eqx.is_array(x) else x, nets)
        np.testing.assert_allclose(uxx[i], _reference(net_i, pts)[2], rtol=1e-10, atol=1e-12)
    net = _nets(key)[0]
    loss = lambda m, f: jnp.sum(f(m, pts)[2] ** 2)  # noqa: E731
    slow = lambda m, p: _reference(m, p)  # noqa: E731
    g_fast = eqx.filter_grad(lambda m: loss(m, pinn.mlp_derivatives_1d))(net)
    g_slow = eqx.filter_grad(lambda m: loss(m, slow))(net)
    for a, b in zip(jax.tree.leaves(g_fast), jax.tree.leaves(g_slow)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


class Heat(pinn.AbstractSpaceTime1DProblem):
    """u_t = k u_xx on [0, 1]^2 with u = exp(-k pi^2 t) sin(pi x): a user problem."""

    k: jax.Array
    domain: pinn.Box

    def __init__(self, k=0.1):
        self.k = jnp.asarray(k, float)
        self.domain = pinn.Box([0.0, 0.0], [1.0, 1.0])

    def residual_from_derivatives(self, u, ux, uxx, ut, x):
        return ut - self.k * uxx

    def constraint_value(self, name, x):
        return self.exact(x)

    def exact(self, x):
        return jnp.exp(-self.k * jnp.pi**2 * x[..., 1]) * jnp.sin(jnp.pi * x[..., 0])


def test_user_problem_opts_in(key):
    prob = Heat()
    pts = jr.uniform(jr.fold_in(key, 2), (50, 2))
    np.testing.assert_allclose(jax.vmap(lambda x: prob.residual(prob.exact, x))(pts), 0,
                               atol=1e-12)
    net = _nets(key)[0]  # a jaxsci.nn.MLP takes the hand-written reverse pass
    vg = eqx.filter_value_and_grad(lambda a, c: a[1].residual_mse(a[0], pts, chunk_size=c))
    v0, g0 = vg((net, prob), None)
    v1, g1 = eqx.filter_jit(vg)((net, prob), 16)
    np.testing.assert_allclose(v1, v0, rtol=1e-12)
    for a, b in zip(jax.tree.leaves(g0), jax.tree.leaves(g1)):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-13)
    assert float(jnp.abs(g1[1].k)) > 0  # gradient with respect to the problem's k too
    ref = jax.vmap(lambda x: prob.residual(net, x))(pts)
    np.testing.assert_allclose(prob.residuals(net, pts), ref, rtol=1e-10, atol=1e-12)


def test_bad_input(key):
    pts = jnp.zeros((3, 2))
    with pytest.raises(TypeError, match="plain MLP"):
        pinn.mlp_derivatives_1d(jaxsci.nn.ResNet(2, 4, 2, key=key), pts)
    with pytest.raises(TypeError, match="plain MLP"):
        pinn.mlp_derivatives_1d(eqx.nn.MLP(3, "scalar", 4, 1, key=key), pts)
    with pytest.raises(TypeError, match="plain MLP"):
        pinn.mlp_derivatives_1d(jaxsci.nn.MLP(2, 4, 1, out_size=2, key=key), pts)
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        pinn.mlp_derivatives_1d(_nets(key)[0], jnp.zeros(2))
    with pytest.raises(TypeError, match="abstract"):
        class Bad(pinn.AbstractSpaceTime1DProblem):  # no residual_from_derivatives
            domain: pinn.Box = pinn.Box([0.0, 0.0], [1.0, 1.0])

            def constraint_value(self, name, x):
                return 0.0

        Bad()


@pytest.mark.parametrize("d", [1, 3])
def test_taylor_derivatives_any_dimension(key, d):
    pts = jr.uniform(jr.fold_in(key, 3), (8, d))
    nets = [
        jaxsci.nn.MLP(d, 5, 2, activation=jnp.tanh, key=key),
        eqx.nn.MLP(d, "scalar", 5, 2, activation=jax.nn.softplus, key=key),
        eqx.nn.MLP(d, "scalar", 5, 0, key=key),  # the head alone: second derivatives 0
    ]
    for net in nets:
        u, g, s = eqx.filter_jit(pinn.taylor_derivatives)(net, pts)
        f = lambda p: jnp.reshape(net(p), ())  # noqa: E731
        np.testing.assert_allclose(u, jax.vmap(f)(pts), rtol=1e-12)
        np.testing.assert_allclose(g, jax.vmap(jax.jacfwd(f))(pts), rtol=1e-10, atol=1e-12)
        hess = jax.vmap(jax.hessian(f))(pts)
        np.testing.assert_allclose(s, jnp.diagonal(hess, axis1=1, axis2=2), rtol=1e-10,
                                   atol=1e-12)
    # grad of a Laplacian loss equals the one through jax.hessian
    net = nets[0]
    lap = lambda m: jnp.sum(jnp.sum(pinn.taylor_derivatives(m, pts)[2], 1) ** 2)  # noqa: E731
    ref = lambda m: jnp.sum(jax.vmap(lambda p: jnp.trace(jax.hessian(m)(p)))(pts) ** 2)  # noqa: E731
    for a, b in zip(jax.tree.leaves(eqx.filter_grad(lap)(net)),
                    jax.tree.leaves(eqx.filter_grad(ref)(net))):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    # vmap over point batches
    batched = jax.vmap(lambda p: pinn.taylor_derivatives(net, p)[2])(pts.reshape(2, 4, d))
    np.testing.assert_allclose(batched.reshape(8, d), pinn.taylor_derivatives(net, pts)[2],
                               rtol=1e-12)
    with pytest.raises(ValueError, match=rf"\(n, {d}\)"):
        pinn.taylor_derivatives(net, jnp.zeros((3, d + 1)))
    with pytest.raises(TypeError, match="plain MLP"):
        pinn.taylor_derivatives(jaxsci.nn.ResNet(d, 4, 2, key=key), pts)
