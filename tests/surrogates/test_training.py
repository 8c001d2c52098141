import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optimistix as optx
import pytest

from jaxsci import RESULTS
from jaxsci.surrogates import fit_network, tanh_network


def _target(p):
    return jnp.stack([jnp.sin(3 * p[0]) + p[1] ** 2, p[0] * p[1] - 0.5 * p[2]])


@pytest.fixture(scope="module")
def data():
    xt = jr.uniform(jr.key(1), (60, 3))
    xv = jr.uniform(jr.key(2), (30, 3))
    return (xt, jax.vmap(_target)(xt)), (xv, jax.vmap(_target)(xv))


def _mse(model, x, y):
    return float(jnp.mean((jax.vmap(model)(x) - y) ** 2))


@pytest.mark.parametrize(
    "solver",
    [optx.LevenbergMarquardt(rtol=1e-12, atol=1e-12), optx.NonlinearCG(rtol=1e-12, atol=1e-12)],
    ids=["lm", "ncg"],
)
def test_training_reduces_validation_error(data, solver):
    train, valid = data
    net = tanh_network(3, 2, 8, 2, key=jr.key(0))
    sol = fit_network(net, train, valid, solver=solver, max_steps=40, steps_per_check=10)
    assert sol.result == RESULTS.successful
    before = _mse(net, *valid)
    after = _mse(sol.value, *valid)
    np.testing.assert_allclose(sol.stats["valid_mse"], after, rtol=1e-10)
    assert after < 0.2 * before
    hist = np.asarray(sol.history["valid_mse"])
    assert hist.shape == (4,) and np.all(np.isfinite(hist))
    # the returned state is the best validation state
    np.testing.assert_allclose(after, np.min(hist), rtol=1e-10)
    if isinstance(solver, optx.LevenbergMarquardt):
        assert after < 1e-3


def test_early_stopping_keeps_best_state(data):
    # A validation set with contradicting targets: its error rises as training fits.
    (xt, yt), _ = data
    net = tanh_network(3, 2, 8, 2, key=jr.key(0))
    sol = fit_network(
        net,
        (xt, yt),
        (xt, -yt + 3.0),
        solver=optx.LevenbergMarquardt(rtol=1e-12, atol=1e-12),
        max_steps=200,
        steps_per_check=5,
        patience=2,
    )
    assert bool(sol.stats["stopped_early"])
    assert int(sol.stats["num_steps"]) < 200
    hv = np.asarray(sol.history["valid_mse"])
    assert np.isnan(hv[-1])  # checks after the stop are never run
    best = float(sol.stats["valid_mse"])
    assert best <= np.nanmin(hv) + 1e-12
    assert int(sol.stats["best_step"]) == 5 * (int(np.nanargmin(hv)) + 1) or best < np.nanmin(hv)


def test_nonfinite_and_bad_input(data):
    (xt, yt), valid = data
    net = tanh_network(3, 2, 4, 1, key=jr.key(0))
    bad = yt.at[0, 0].set(jnp.nan)
    solver = optx.NonlinearCG(rtol=1e-8, atol=1e-8)
    # NaN data is refused at the entry (issue 16), whatever `throw` says ...
    with pytest.raises(ValueError, match="`train` targets contain NaN or inf"):
        fit_network(net, (xt, bad), valid, solver=solver, max_steps=5, throw=False)
    # ... while a loss that turns NaN during training is a result code
    nan_net = eqx.tree_at(lambda m: m.layers[0].bias, net, net.layers[0].bias * jnp.nan)
    sol = fit_network(
        nan_net, (xt, yt), valid, solver=solver, max_steps=5, steps_per_check=5, throw=False
    )
    assert sol.result == RESULTS.nonfinite_loss
    with pytest.raises(Exception, match="NaN or inf"):
        fit_network(nan_net, (xt, yt), valid, solver=solver, max_steps=5, steps_per_check=5)
    with pytest.raises(TypeError, match="`solver`"):
        fit_network(net, (xt, yt), valid, solver=None)
    with pytest.raises(ValueError, match="`train` must be a pair"):
        fit_network(net, (xt, yt[:5]), valid, solver=solver)
    with pytest.raises(ValueError, match="`patience`"):
        fit_network(net, (xt, yt), valid, solver=solver, patience=0)
