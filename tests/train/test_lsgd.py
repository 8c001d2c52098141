"""LSGD (Algorithms 1-2): LS step, operators, loops, errors."""

import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import lineax as lx
import numpy as np
import optax
import pytest
from hypothesis import given

from helpers import count_compiles

import jaxsci
from jaxsci.train import (
    IdentityOperator,
    LinearCombination,
    LSTerm,
    PartialDerivative,
    basis_losses,
    basis_matrices,
    least_squares_head,
    lsgd,
)

X = jnp.linspace(0, 1, 32)[:, None]
Y = jnp.sin(2 * jnp.pi * X[:, 0])
TERMS = {"data": LSTerm(X, Y)}
OPT = optax.adam(1e-2)


def _net(seed=0, width=6, depth=2, activation=jax.nn.relu, d=1):
    m = jaxsci.nn.ResNet(d, width, depth, activation=activation, key=jr.key(seed))
    return jaxsci.init.box(m, key=jr.key(seed + 100))


def test_ls_head_matches_numpy_and_ridge():
    net = _net()
    a = np.asarray(jax.vmap(net.basis)(X))
    new = least_squares_head(net, TERMS)
    ref = np.linalg.lstsq(a, np.asarray(Y), rcond=None)[0]
    np.testing.assert_allclose(new.head.weight[0], ref, rtol=1e-8, atol=1e-10)
    lam = 1e-3
    new = least_squares_head(net, TERMS, l2=lam)
    # min (1/N)|A c - y|^2 + lam |c|^2  <=>  (A^T A / N + lam I) c = A^T y / N
    n = a.shape[0]
    ridge = np.linalg.solve(a.T @ a / n + lam * np.eye(a.shape[1]), a.T @ np.asarray(Y) / n)
    np.testing.assert_allclose(new.head.weight[0], ridge, rtol=1e-8)


def test_weighted_multi_term_and_vector_output():
    net = jaxsci.nn.ResNet(1, 5, 2, out_size=2, key=jr.key(3))
    net = jaxsci.init.box(net, key=jr.key(4))
    y2 = jnp.stack([Y, Y**2], axis=1)
    xb = jnp.array([[0.0], [1.0]])
    terms = {"data": LSTerm(X, y2, weight=0.5), "bc": LSTerm(xb, jnp.ones((2, 2)), weight=3.0)}
    new = least_squares_head(net, terms)
    a1, a2 = (np.asarray(jax.vmap(net.basis)(p)) for p in (X, xb))
    rows = np.concatenate([np.sqrt(0.5 / 32) * a1, np.sqrt(3.0 / 2) * a2])
    rhs = np.concatenate([np.sqrt(0.5 / 32) * np.asarray(y2), np.sqrt(3.0 / 2) * np.ones((2, 2))])
    ref = np.linalg.lstsq(rows, rhs, rcond=None)[0].T
    np.testing.assert_allclose(new.head.weight, ref, rtol=1e-7, atol=1e-10)
    losses = basis_losses(new, terms)
    assert set(losses) == {"data", "bc"}
    res = np.asarray(jax.vmap(new)(X)) - np.asarray(y2)
    np.testing.assert_allclose(losses["data"], np.mean(np.sum(res**2, 1)), rtol=1e-10)


def test_rank_deficient_basis_gives_min_norm_solution():
    net = _net()
    # kill two neurons of layer 1 and duplicate another: a rank-deficient basis
    w = net.layers[0].weight.at[0].set(0.0).at[1].set(net.layers[0].weight[2])
    b = net.layers[0].bias.at[0].set(-1.0).at[1].set(net.layers[0].bias[2])
    net = eqx.tree_at(lambda m: (m.layers[0].weight, m.layers[0].bias), net, (w, b))
    a = np.asarray(jax.vmap(net.basis)(X))
    assert np.linalg.matrix_rank(a) < a.shape[1]
    new = least_squares_head(net, TERMS)
    assert np.all(np.isfinite(new.head.weight))
    np.testing.assert_allclose(new.head.weight[0], np.linalg.pinv(a) @ np.asarray(Y), atol=1e-8)


_ls_jit = eqx.filter_jit(lambda m: (basis_losses(m, TERMS), least_squares_head(m, TERMS)))


@given(st.integers(0, 2**31 - 1), st.floats(-10, 10))
def test_ls_step_never_increases_loss(seed, scale):
    net = _net(seed % 5)
    net = net.with_head(scale * jr.normal(jr.key(seed), net.head.weight.shape))
    before, new = _ls_jit(net)
    after, _ = _ls_jit(new)
    assert float(after["data"]) <= float(before["data"]) * (1 + 1e-12) + 1e-15


def test_operators_against_autodiff():
    net = _net(activation=jnp.tanh, d=2, width=4)
    x = jnp.array([0.3, 0.7])
    jac = jax.jacfwd(net.basis)(x)  # (w, d)
    np.testing.assert_allclose(IdentityOperator()(net.basis, x), net.basis(x))
    np.testing.assert_allclose(PartialDerivative((1,))(net.basis, x), jac[:, 1], rtol=1e-12)
    hess = jax.hessian(net.basis)(x)  # (w, d, d)
    np.testing.assert_allclose(PartialDerivative((0, 1))(net.basis, x), hess[:, 0, 1], rtol=1e-10)
    adv = LinearCombination((PartialDerivative(1), PartialDerivative(0)), (1.0, lambda p: p[0]))
    np.testing.assert_allclose(adv(net.basis, x), jac[:, 1] + x[0] * jac[:, 0], rtol=1e-12)
    with pytest.raises(ValueError, match="indices"):
        PartialDerivative(())
    with pytest.raises(ValueError, match="coordinates"):
        PartialDerivative((5,))(net.basis, x)
    with pytest.raises(ValueError, match="equal length"):
        LinearCombination((PartialDerivative(0),), (1.0, 2.0))


def test_lsgd_beats_joint_gd_and_history():
    net = _net()
    sol = lsgd(net, TERMS, OPT, num_steps=40)
    ref = jaxsci.train.joint_gd(net, TERMS, OPT, num_steps=40)
    h = np.asarray(sol.history["loss"])
    assert h.shape == (41,) and int(sol.stats["num_steps"]) == 40
    # the first entry is the loss after the initial LS solve: already below the raw loss
    assert h[0] <= float(basis_losses(net, TERMS)["data"])
    assert h[-1] < h[0]
    np.testing.assert_allclose(h[-1], sol.stats["loss"])
    np.testing.assert_allclose(basis_losses(sol.value, TERMS)["data"], sol.stats["loss"])
    assert float(sol.stats["loss"]) < 0.1 * float(ref.stats["loss"])
    assert sol.result == jaxsci.RESULTS.successful


def test_target_loss_and_results():
    net = _net()
    full = lsgd(net, TERMS, OPT, num_steps=40)
    target = full.history["loss"][10]
    sol = lsgd(net, TERMS, OPT, num_steps=40, target_loss=target)
    assert int(sol.stats["num_steps"]) <= 10 and float(sol.stats["loss"]) <= float(target)
    assert np.all(np.isnan(np.asarray(sol.history["loss"])[int(sol.stats["num_steps"]) + 1 :]))
    bad = lsgd(net, TERMS, OPT, num_steps=40, target_loss=jnp.asarray(0.0), throw=False)
    assert bad.result == jaxsci.RESULTS.max_steps_reached
    with pytest.raises(Exception, match="maximum number of steps"):
        lsgd(net, TERMS, OPT, num_steps=40, target_loss=jnp.asarray(0.0))


def test_two_phase_and_regulariser_decay():
    net = _net()
    sol = jaxsci.train.two_phase_lsgd(
        net, TERMS, OPT, num_pre_steps=20, num_steps=20, l2=1e-2, rho=0.5, n_stag=1
    )
    pre = np.asarray(sol.history["pre_loss"])
    post = np.asarray(sol.history["loss"])
    assert pre.shape == (21,) and post.shape == (21,)
    # phase 2 drops the regulariser: its first LS solve is at least as good as phase 1's end
    assert post[0] <= pre[-1] * (1 + 1e-10)
    assert float(sol.stats["l2"]) == 0.0
    # regularised LSGD with stagnation decay: lambda decreases when the loss stalls
    # with a frozen basis the loss stalls, so lambda is halved (at most every 4 iterations)
    r = lsgd(net, TERMS, optax.sgd(0.0), num_steps=40, l2=1.0, rho=0.5, n_stag=4)
    k = np.log2(float(r.stats["l2"]))
    assert -10 <= k <= -1 and k == round(k)


def test_lsgd_step_and_vmap():
    net = _net()
    opt = OPT
    state = opt.init(jaxsci.train.hidden_parameters(net))
    new, state, losses = jaxsci.train.lsgd_step(net, state, TERMS, opt)
    np.testing.assert_allclose(losses["data"], basis_losses(new, TERMS)["data"], rtol=1e-10)
    np.testing.assert_allclose(
        new.head.weight, least_squares_head(new, TERMS).head.weight, rtol=1e-8, atol=1e-12
    )
    # vmap over initialisations == loop
    nets = eqx.filter_vmap(lambda k: jaxsci.init.box(jaxsci.nn.ResNet(1, 6, 2, key=k), key=k))(
        jr.split(jr.key(0), 2)
    )
    run = eqx.filter_vmap(lambda m: lsgd(m, TERMS, opt, num_steps=40).stats["loss"])
    batched = run(nets)
    for i in range(2):
        m = jax.tree_util.tree_map(lambda x: x[i] if eqx.is_array(x) else x, nets)
        np.testing.assert_allclose(batched[i], lsgd(m, TERMS, opt, num_steps=40).stats["loss"])


def test_advection_exact_solution_in_range():
    # Eq. 14 with a = 1: u = u0(x - t) with u0 a ReLU ramp, exactly representable by a
    # width-w, depth-1 ReLU net, so LS drives all three terms to ~0.
    u0 = lambda x: jax.nn.relu(x - 0.25)  # noqa: E731
    g = jnp.linspace(0, 1, 9)
    xt = jnp.stack(jnp.meshgrid(g, g), -1).reshape(-1, 2)
    adv = LinearCombination((PartialDerivative(1), PartialDerivative(0)), (1.0, 1.0))
    terms = {
        "pde": LSTerm(xt, jnp.zeros(81), adv),
        "ic": LSTerm(jnp.stack([g, 0 * g], 1), u0(g)),
        "bc": LSTerm(jnp.stack([0 * g, g], 1), jnp.zeros(9)),
    }
    net = jaxsci.nn.MLP(2, 3, 1, key=jr.key(0))
    # the neuron relu(x - t - 1/4) plus two others: exact solution in the span
    net = eqx.tree_at(
        lambda m: (m.layers[0].weight, m.layers[0].bias),
        net,
        (jnp.array([[1.0, -1.0], [1.0, 0.0], [0.0, 1.0]]), jnp.array([-0.25, 0.1, 0.2])),
    )
    new = least_squares_head(net, terms)
    losses = basis_losses(new, terms)
    assert all(float(v) < 1e-20 for v in losses.values()), losses


def test_float32_and_bad_input():
    net32 = jaxsci.nn.ResNet(1, 4, 2, dtype=jnp.float32, key=jr.key(0))
    terms32 = {"data": LSTerm(X.astype(jnp.float32), Y.astype(jnp.float32))}
    assert least_squares_head(net32, terms32).head.weight.dtype == jnp.float32
    sol32 = lsgd(net32, terms32, OPT, num_steps=40)
    assert sol32.value.head.weight.dtype == jnp.float32 and np.isfinite(sol32.stats["loss"])
    with pytest.raises(TypeError, match="AbstractAdaptiveBasisNet"):
        least_squares_head(eqx.nn.MLP(1, 1, 4, 2, key=jr.key(0)), TERMS)
    with pytest.raises(ValueError, match="target"):
        least_squares_head(_net(), {"data": LSTerm(X, jnp.ones((32, 2)))})
    with pytest.raises(ValueError, match="target"):
        LSTerm(X, jnp.ones(5))
    with pytest.raises(TypeError, match="LSTerm"):
        least_squares_head(_net(), {"data": (X, Y)})
    with pytest.raises(ValueError, match="num_steps"):
        lsgd(_net(), TERMS, OPT, num_steps=-1)
    with pytest.raises(ValueError, match="rho"):
        lsgd(_net(), TERMS, OPT, num_steps=1, rho=2.0)
    # an explicit lineax solver is accepted
    a = least_squares_head(_net(), TERMS, solver=lx.QR())
    b = least_squares_head(_net(), TERMS)
    np.testing.assert_allclose(a.head.weight, b.head.weight, rtol=1e-6)
    assert basis_matrices(_net(), TERMS)["data"].shape == (32, 6)


def test_second_lsgd_compiles_nothing():
    # issue 14: new optimiser object, new data of the same shape, another num_steps
    net = _net()
    terms2 = {"data": LSTerm(X, jnp.cos(2 * jnp.pi * X[:, 0]))}
    lsgd(net, TERMS, optax.adam(1e-2), num_steps=40)
    state = optax.adam(1e-2).init(jaxsci.train.hidden_parameters(net))
    jaxsci.train.lsgd_step(net, state, TERMS, optax.adam(1e-2))
    with count_compiles() as n:
        second = lsgd(net, terms2, optax.adam(1e-2), num_steps=45)  # 46 and 41 -> 64
        other_lr = lsgd(net, terms2, optax.adam(3e-2), num_steps=45)
        jaxsci.train.lsgd_step(net, state, terms2, optax.adam(3e-2))
    assert n[0] == 0
    assert second.history["loss"].shape == (46,) and int(second.stats["num_steps"]) == 45
    jax.clear_caches()
    fresh = lsgd(net, terms2, optax.adam(1e-2), num_steps=45)
    for a, b in zip(jax.tree_util.tree_leaves(second), jax.tree_util.tree_leaves(fresh)):
        np.testing.assert_array_equal(a, b)
    # no stale program: the other learning rate equals a loop of lsgd_step
    m, s = net, optax.adam(3e-2).init(jaxsci.train.hidden_parameters(net))
    for _ in range(45):
        m, s, _ = jaxsci.train.lsgd_step(m, s, terms2, optax.adam(3e-2))
    np.testing.assert_allclose(other_lr.stats["loss"], basis_losses(m, terms2)["data"],
                               rtol=1e-8)
    assert not np.allclose(other_lr.stats["loss"], second.stats["loss"])


def test_lsgd_trainer_in_fit():
    from jaxsci.train import LSGD, UpdateArgs, fit, lsgd_loss

    net = _net()
    sol = fit(lsgd_loss, net, LSGD(OPT), args=TERMS, steps=40)
    ref = lsgd(net, TERMS, OPT, num_steps=40)
    np.testing.assert_allclose(sol.history["loss"], ref.history["loss"][:40], rtol=1e-10)
    np.testing.assert_allclose(sol.stats["loss"], ref.stats["loss"], rtol=1e-10)
    assert sol.history["grad_norms"].shape[0] == 40
    # resampling the points through a callback: the terms are the args
    shift = UpdateArgs(lambda m, t, k: {"data": LSTerm(t["data"].points, 1.01 * t["data"].target)},
                       every=10)
    moved = fit(lsgd_loss, net, LSGD(OPT), args=TERMS, steps=20, callbacks=shift)
    np.testing.assert_allclose(moved.state["args"]["data"].target, 1.01**2 * Y)
    with pytest.raises(TypeError, match="lsgd_loss"):
        fit(lambda m, a: (0.0, {}), net, LSGD(OPT), args=TERMS, steps=5)
    with pytest.raises(ValueError, match="rho"):
        LSGD(OPT, rho=2.0)
