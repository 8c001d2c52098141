"""Partitions of unity, Legendre spaces and POUnets (eqs. 16-20)."""

import math

import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given
from numpy.polynomial import legendre as npleg

import jaxsci
from jaxsci.nn import LegendreSpace, POUNet, RBFPartition, ResNetPartition


@pytest.mark.parametrize("d,m", [(1, 0), (1, 4), (2, 3), (3, 2)])
def test_space_dimension_and_values(d, m):
    space = LegendreSpace(d, m, box=(-1.0, 1.0))
    assert space.dim == math.comb(m + d, d)
    assert all(sum(b) <= m for b in space.indices)
    x = jnp.linspace(-0.9, 0.7, d)
    vals = space(x)
    for k, beta in enumerate(space.indices):
        ref = np.prod([npleg.legval(float(x[j]), np.eye(m + 1)[beta[j]]) for j in range(d)])
        np.testing.assert_allclose(vals[k], ref, atol=1e-13)


def test_space_box_mapping():
    # on [0, 2], P_1(x) = x - 1
    space = LegendreSpace(1, 1, box=(0.0, 2.0))
    np.testing.assert_allclose(space(jnp.array([1.5])), [1.0, 0.5])
    with pytest.raises(ValueError, match="hi > lo"):
        LegendreSpace(1, 1, box=(1.0, 0.0))
    with pytest.raises(ValueError, match="degree"):
        LegendreSpace(1, -1)


def test_rbf_matches_eq19(key):
    part = RBFPartition(4, 2, box=(-1.0, 1.0), key=key)
    x = jnp.array([0.3, -0.2])
    e = np.exp(-np.sum((np.asarray(x) - np.asarray(part.centres)) ** 2, 1) / part.shapes**2)
    np.testing.assert_allclose(part(x), e / e.sum(), rtol=1e-12)
    assert np.all(np.abs(part.centres) <= 1) and np.all(part.shapes == 1)


_RBF = RBFPartition(5, 2, key=jr.key(0))
_DEEP = [jaxsci.init.he(ResNetPartition(5, 2, 8, 3, key=jr.key(1)), key=jr.key(k)) for k in range(3)]
_eval = jax.jit(lambda p, x: p(x))


@given(
    st.lists(st.floats(-10, 10), min_size=2, max_size=2),
    st.floats(0.05, 5.0),
    st.integers(0, 2**31 - 1),
)
def test_partitions_nonnegative_sum_to_one(x, shape, seed):
    x = jnp.asarray(x)
    centres = jr.uniform(jr.key(seed), (5, 2), minval=-3, maxval=3)
    rbf = eqx.tree_at(lambda p: (p.centres, p.shapes), _RBF, (centres, shape * jnp.ones(5)))
    for part in (rbf, _DEEP[seed % 3]):
        phi = np.asarray(_eval(part, x))
        assert phi.shape == (5,)
        assert np.all(phi >= 0)
        np.testing.assert_allclose(phi.sum(), 1.0, rtol=1e-12)


def test_pounet_matches_eq16(key):
    part = RBFPartition(3, 1, key=key)
    space = LegendreSpace(1, 2)
    net = POUNet(part, space, key=jr.key(3))
    c = jr.normal(jr.key(4), (3, 3))
    net = net.with_head(c.reshape(1, -1))
    x = jnp.array([0.37])
    ref = sum(part(x)[a] * sum(c[a, b] * space(x)[b] for b in range(3)) for a in range(3))
    np.testing.assert_allclose(net(x), ref, rtol=1e-12)
    np.testing.assert_allclose(net.coefficients, c)
    assert net.basis(x).shape == (9,)


def test_pounet_bad_input(key):
    with pytest.raises(TypeError, match="partition"):
        POUNet("rbf", LegendreSpace(1, 1), key=key)
    with pytest.raises(ValueError, match="n_part"):
        RBFPartition(0, 1, key=key)


def test_optimal_error_estimate_rate():
    # Eq. 20: RMSE <= C max diam(supp phi)^(m+1). With a fixed, nearly characteristic RBF
    # partition of cells of width h (shape h / 4) and the LS-optimal coefficients, the RMSE
    # of a smooth target decays like h^(m+1).
    x = jnp.linspace(0, 1, 200)[:, None]
    y = jnp.sin(2 * jnp.pi * x[:, 0])
    terms = {"data": jaxsci.train.LSTerm(x, y)}

    @jax.jit
    def rmse(net):
        net = jaxsci.train.least_squares_head(net, terms)
        return jnp.sqrt(jaxsci.train.basis_losses(net, terms)["data"])

    for m in (1, 2):
        errs, hs = [], []
        for n_part in (4, 16):
            h = 1.0 / n_part
            part = RBFPartition(n_part, 1, key=jr.key(0))
            centres = (jnp.arange(n_part) + 0.5)[:, None] * h
            part = eqx.tree_at(lambda p: (p.centres, p.shapes), part, (centres, 0.25 * h * jnp.ones(n_part)))
            net = POUNet(part, LegendreSpace(1, m), key=jr.key(1))
            errs.append(float(rmse(net)))
            hs.append(h)
        rates = np.diff(np.log(errs)) / np.diff(np.log(hs))
        assert np.all(rates > m + 0.8), (m, errs, rates)
        assert np.all(rates < m + 1.5), (m, errs, rates)
