"""Bad input to jaxsci.train is refused (DESIGN rule 6, issue 16): NaN data and divergence
give a `Solution` with a `RESULTS` code and the best iterate (every trainer, eagerly and
under jit / vmap, `throw=` honoured); bad shapes, empty data and out-of-domain parameters
raise at once, naming the argument."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import optimistix as optx
import pytest
from hypothesis import given, settings, strategies as st

from jaxsci import RESULTS, nn
from jaxsci import train as T
from jaxsci.testing import assert_refuses, empty_like_shape, mismatched_shapes, with_nonfinite

NAN, INF = float("nan"), float("inf")
X = jnp.linspace(0.0, 1.0, 8)[:, None]
Y = jnp.sin(3.0 * X[:, 0])
YN = Y.at[2].set(NAN)
LIN = eqx.nn.Linear(1, "scalar", key=jr.key(0))
NET = nn.MLP(1, 4, 1, key=jr.key(1))
ADAM = optax.adam(1e-2)


def mse(model, args):
    x, y = args
    err = jnp.mean((jax.vmap(model)(x) - y) ** 2)
    return err, {"mse": err}


def per_example(model, xi, yi):
    return (model(xi) - yi) ** 2


def residuals(model, args):
    return jax.vmap(model)(args[0]) - args[1]


def raw_term(points, target):
    """An LSTerm holding unchecked data (as one built inside jit would)."""
    return eqx.tree_at(lambda t: (t.points, t.target), T.LSTerm(X, Y), (points, target))


def finite_tree(tree):
    return all(bool(jnp.all(jnp.isfinite(a))) for a in
               jax.tree.leaves(eqx.filter(tree, eqx.is_inexact_array)))


TRAINERS = {
    "optax": (mse, LIN, T.Optax(ADAM), lambda y: (X, y)),
    "bfgs": (mse, LIN, T.Optimistix(optx.BFGS(rtol=1e-8, atol=1e-8)), lambda y: (X, y)),
    "lm": (mse, LIN, T.Optimistix(optx.LevenbergMarquardt(rtol=1e-8, atol=1e-8),
                                  residuals=residuals), lambda y: (X, y)),
    "lsgd": (T.lsgd_loss, NET, T.LSGD(ADAM), lambda y: {"d": raw_term(X, y)}),
    "armijo": (T.PerExampleLoss(per_example), LIN, T.StochasticArmijo(2, jr.key(0), max_batch_size=8),
               lambda y: (X, y)),
}


# ------------------------------------------------------------- fit: NaN, divergence
@pytest.mark.parametrize("name", list(TRAINERS))
def test_fit_nan_data_every_trainer(name):
    loss_fn, model, trainer, args = TRAINERS[name]
    sol = T.fit(loss_fn, model, trainer, steps=4, args=args(YN), throw=False)
    assert sol.result == RESULTS.nonfinite_loss
    assert int(sol.num_steps) == 1                   # stopped at the first NaN loss
    # no finite loss was ever seen: the best iterate is the initial model, finite
    assert finite_tree(sol.value)
    for a, b in zip(jax.tree.leaves(eqx.filter(sol.value, eqx.is_inexact_array)),
                    jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array))):
        np.testing.assert_array_equal(a, b)
    if name == "optax":   # throw=True is a second compilation: once is enough
        with pytest.raises(eqx.EquinoxRuntimeError, match="NaN or inf"):
            T.fit(loss_fn, model, trainer, steps=4, args=args(YN))


def test_fit_nan_under_jit_and_vmap():
    run = eqx.filter_jit(lambda y: T.fit(mse, LIN, ADAM, steps=4, args=(X, y),
                                         throw=False).result)
    assert run(YN) == RESULTS.nonfinite_loss
    assert run(Y) == RESULTS.successful
    codes = jax.vmap(run)(jnp.stack([Y, YN]))
    assert list(np.asarray(codes._value)) == [RESULTS.successful._value,
                                              RESULTS.nonfinite_loss._value]
    throwing = eqx.filter_jit(lambda y: T.fit(mse, LIN, ADAM, steps=4, args=(X, y)).value)
    assert_refuses(lambda: throwing(YN), match="NaN or inf")


@pytest.mark.parametrize("jit", [False, True])
def test_divergence_keeps_best_iterate(jit):
    # sgd(20) on a linear least-squares problem grows geometrically: `diverged`, best kept
    run = lambda: T.fit(mse, LIN, optax.sgd(20.0), steps=64, args=(X, Y), throw=False)
    sol = eqx.filter_jit(run)() if jit else run()
    assert sol.result == RESULTS.diverged
    hist = np.asarray(sol.history["loss"])
    n = int(sol.num_steps)
    assert n < 64 and hist[n - 1] > 1e8 * hist[0] and np.all(np.isnan(hist[n:]))
    value_loss = mse(sol.value, (X, Y))[0]
    np.testing.assert_allclose(value_loss, np.nanmin(hist), rtol=1e-10)
    np.testing.assert_allclose(sol.stats["loss"], value_loss, rtol=1e-10)


def test_fit_bad_arguments():
    for steps in (0, -1):
        with pytest.raises(ValueError, match="`steps`"):
            T.fit(mse, LIN, ADAM, steps=steps, args=(X, Y))
    for steps in (2.5, True):
        with pytest.raises(TypeError, match="`steps`"):
            T.fit(mse, LIN, ADAM, steps=steps, args=(X, Y))
    for d in (1.0, -1.0, NAN, "big"):
        with pytest.raises(ValueError, match="`divergence`"):
            T.fit(mse, LIN, ADAM, steps=3, args=(X, Y), divergence=d)
    with pytest.raises(ValueError, match="`progress`"):
        T.fit(mse, LIN, ADAM, steps=3, args=(X, Y), progress=0)
    with pytest.raises(TypeError, match="`loss_fn`"):
        T.fit(None, LIN, ADAM, steps=3, args=(X, Y))
    with pytest.raises(TypeError, match="`trainer`"):
        T.fit(mse, LIN, "adam", steps=3, args=(X, Y))
    with pytest.raises(TypeError, match="`callbacks`"):
        T.fit(mse, LIN, ADAM, steps=3, args=(X, Y), callbacks=(T.TargetLoss(0.1),))
    with pytest.raises(TypeError, match="`Optax\\(optimizer\\)`"):
        T.make_step(mse, "adam", LIN)


# ------------------------------------------------------------ callbacks and stops
def test_callbacks_and_stops_bad_input():
    with pytest.raises(ValueError, match="`every`"):
        T.Record(0)
    with pytest.raises(ValueError, match="`every`"):
        T.UpdateArgs(lambda m, a, k: a, every=-1)
    with pytest.raises(TypeError, match="`fn`"):
        T.ModifyModel(None)
    with pytest.raises(ValueError, match="`value` of TargetLoss is NaN"):
        T.TargetLoss(NAN)
    with pytest.raises(TypeError, match="`value` of TargetLoss"):
        T.TargetLoss("small")
    with pytest.raises(ValueError, match="`patience`"):
        T.ValidationPatience(lambda m: 0.0, patience=0)
    with pytest.raises(TypeError, match="`valid_fn`"):
        T.ValidationPatience(None)
    # a NaN validation loss (NaN validation data) is reported, not a silent success
    sol = T.fit(mse, LIN, ADAM, steps=4, args=(X, Y), throw=False,
                stop=T.ValidationPatience(lambda m: jnp.nan * m.weight.sum(), patience=2))
    assert sol.result == RESULTS.nonfinite_loss


# --------------------------------------------------------------------- LSGD
@pytest.mark.parametrize("make, exc, match", [
    (lambda: T.LSTerm(X[:0], Y[:0]), ValueError, "`points` is empty"),
    (lambda: T.LSTerm(X.at[0, 0].set(NAN), Y), ValueError, "`points` contains NaN"),
    (lambda: T.LSTerm(X, Y.at[0].set(INF)), ValueError, "`target` contains NaN"),
    (lambda: T.LSTerm(X[:, 0], Y), ValueError, "`points` must have shape"),
    (lambda: T.LSTerm(jnp.ones((8, 0)), Y), ValueError, "`points` must have shape"),
    (lambda: T.LSTerm(X, Y[:5]), ValueError, "`target` must have shape"),
    (lambda: T.LSTerm(X, Y, weight=-1.0), ValueError, "`weight`"),
    (lambda: T.LSTerm(X, Y, weight=jnp.asarray(-1.0)), ValueError, "`weight`"),
    (lambda: T.LSTerm(X, Y, weight=jnp.ones(2)), ValueError, "`weight`"),
    (lambda: T.LSTerm(X, Y, operator="id"), TypeError, "`operator`"),
    (lambda: T.PartialDerivative((-1,)), ValueError, "`indices`"),
    (lambda: T.LinearCombination((), ()), ValueError, "`operators`"),
])
def test_lsterm_bad_input(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_lsterm_weight_under_jit():
    build = eqx.filter_jit(lambda w: T.LSTerm(X, Y, weight=w).weight)
    assert_refuses(lambda: build(jnp.asarray(-1.0)), match="`weight`")


def test_least_squares_head_bad_input():
    bad = {"d": raw_term(X, YN)}
    with pytest.raises(ValueError, match=r"`terms\['d'\].target` contains NaN"):
        T.least_squares_head(NET, bad)
    head = eqx.filter_jit(T.least_squares_head)
    assert_refuses(lambda: head(NET, bad), match="contains NaN")
    ys = jnp.stack([Y, YN])
    assert_refuses(lambda: jax.vmap(lambda y: T.least_squares_head(
        NET, {"d": raw_term(X, y)}).head.weight)(ys), match="contains NaN")
    # a NaN in the hidden parameters: the solved head is refused, not returned as NaN
    nan_net = jax.tree.map(lambda a: a * jnp.nan if eqx.is_inexact_array(a) else a, NET)
    with pytest.raises(ValueError, match="solved head is NaN"):
        T.least_squares_head(nan_net, {"d": T.LSTerm(X, Y)})
    with pytest.raises(ValueError, match="`l2`"):
        T.least_squares_head(NET, {"d": T.LSTerm(X, Y)}, l2=-1.0)
    assert_refuses(lambda: eqx.filter_jit(lambda l2: T.least_squares_head(
        NET, {"d": T.LSTerm(X, Y)}, l2=l2))(jnp.asarray(-1.0)), match="`l2`")
    with pytest.raises(ValueError, match="`terms\\['d'\\].target`"):
        T.least_squares_head(NET, {"d": T.LSTerm(X, jnp.ones((8, 2)))})
    with pytest.raises(TypeError, match="`terms`"):
        T.least_squares_head(NET, {})
    with pytest.raises(TypeError, match="`model`"):
        T.least_squares_head(LIN, {"d": T.LSTerm(X, Y)})
    with pytest.raises(ValueError, match="`losses`"):
        T.weighted_loss({"e": jnp.ones(())}, {"d": T.LSTerm(X, Y)})
    with pytest.raises(TypeError, match="`model`"):
        T.hidden_parameters(LIN)


def test_lsgd_entry_points_bad_input():
    terms = {"d": T.LSTerm(X, Y)}
    nan_terms = {"d": raw_term(X, YN)}
    for kw, name in [({"num_steps": -1}, "`num_steps`"), ({"l2": NAN}, "`l2`"),
                     ({"l2": jnp.asarray(-1.0)}, "`l2`"), ({"rho": 2.0}, "`rho`"),
                     ({"n_stag": 0}, "`n_stag`")]:
        with pytest.raises(ValueError, match=name):
            T.lsgd(NET, terms, ADAM, **{"num_steps": 2, **kw})
    with pytest.raises(ValueError, match="`num_pre_steps`"):
        T.two_phase_lsgd(NET, terms, ADAM, num_pre_steps=-1, num_steps=2, l2=1e-3)
    with pytest.raises(ValueError, match="`l2`"):
        T.two_phase_lsgd(NET, terms, ADAM, num_pre_steps=2, num_steps=2, l2=-1.0)
    with pytest.raises(ValueError, match="`num_steps`"):
        T.joint_gd(NET, terms, ADAM, num_steps=-1)
    with pytest.raises(ValueError, match="`l2`"):
        T.LSGD(ADAM, l2=-1.0)
    # NaN data: a Solution with nonfinite_loss and a finite model (the last LS solve is
    # not allowed to write a NaN head), also for num_steps = 0
    # (two_phase_lsgd runs the same lsgd twice; its NaN path is that of lsgd)
    for sol in (T.lsgd(NET, nan_terms, ADAM, num_steps=4, throw=False),
                T.lsgd(NET, nan_terms, ADAM, num_steps=0, throw=False),
                T.joint_gd(NET, nan_terms, ADAM, num_steps=2, throw=False)):
        assert sol.result == RESULTS.nonfinite_loss
        assert finite_tree(sol.value)
    state = ADAM.init(T.hidden_parameters(NET))
    assert_refuses(lambda: T.lsgd_step(NET, state, nan_terms, ADAM), match="NaN/inf")
    with pytest.raises(ValueError, match="`l2`"):
        T.lsgd_step(NET, state, terms, ADAM, l2=-1.0)


# -------------------------------------------------------------- SGD + Armijo
def test_fit_sgd_armijo_bad_input():
    kw = dict(key=jr.key(0), num_steps=4, init_batch_size=2)   # the trainer of TRAINERS
    for over, exc, name in [({"num_steps": 0}, ValueError, "`num_steps`"),
                            ({"init_batch_size": 0}, ValueError, "`init_batch_size`"),
                            ({"init_batch_size": 9}, ValueError, "`init_batch_size`"),
                            ({"theta": -1.0}, ValueError, "`theta`"),
                            ({"theta": NAN}, ValueError, "`theta`")]:
        with pytest.raises(exc, match=name):
            T.fit_sgd_armijo(per_example, LIN, X, Y, **{**kw, **over})
    with pytest.raises(ValueError, match="`x` is empty"):
        T.fit_sgd_armijo(per_example, LIN, X[:0], Y[:0], **kw)
    with pytest.raises(ValueError, match="`x` and `y`"):
        T.fit_sgd_armijo(per_example, LIN, X, Y[:5], **kw)
    sol = T.fit_sgd_armijo(per_example, LIN, X, YN, **kw, throw=False)
    assert sol.result == RESULTS.nonfinite_loss and finite_tree(sol.value)
    with pytest.raises(ValueError, match="`init_batch_size`"):
        T.StochasticArmijo(0, jr.key(0))


# --------------------------------------------------------------- trajectories
def test_record_trajectory_bad_input():
    step = T.optax_step(lambda m: mse(m, (X, YN))[0], ADAM)
    state = ADAM.init(eqx.filter(LIN, eqx.is_array))
    with pytest.raises(eqx.EquinoxRuntimeError, match="Non-finite loss"):
        T.record_trajectory(step, LIN, state, num_snapshots=2)
    # throw=False records the NaN for the caller (jaxsci.koopman reports nonfinite_loss)
    traj = T.record_trajectory(step, LIN, state, num_snapshots=2, throw=False)
    assert np.isnan(np.asarray(traj.loss)).all()
    for kw in ({"num_snapshots": -1}, {"num_snapshots": 2, "every": 0}):
        with pytest.raises(ValueError, match="`num_snapshots`|`every`"):
            T.record_trajectory(step, LIN, state, **kw)
    with pytest.raises(ValueError, match="`vectors`"):
        T.from_per_layer(LIN, [])


# ------------------------------------------------- layer diagnostics and loss weights
MLP2 = eqx.nn.MLP(2, 1, 3, 1, key=jr.key(2))            # blocks (3, 3) and (1, 4)
X2 = jnp.ones((4, 2))
grad_mse = eqx.filter_jit(lambda m, y: eqx.filter_grad(
    lambda m: jnp.mean((jax.vmap(m)(X2)[:, 0] - y) ** 2))(m))


def test_layer_gradient_norms_edge_input():
    # documented: shape (0,) when the tree holds no eqx.nn.Linear (e.g. a polynomial net)
    for grads in ({}, None, jnp.ones(3), {"w": jnp.ones((2, 2))}):
        assert T.layer_gradient_norms(grads).shape == (0,)
    g = grad_mse(MLP2, jnp.ones(4))
    want = [jnp.linalg.norm(layer.weight) for layer in g.layers]
    np.testing.assert_allclose(T.layer_gradient_norms(g), want, rtol=1e-12)
    # a NaN / inf gradient (NaN data) is reported as such, eagerly and under jit, never
    # hidden as a finite norm (fit stops on the NaN loss of that step)
    for bad in (NAN, INF):
        g = grad_mse(MLP2, jnp.ones(4).at[1].set(bad))
        for norms in (T.layer_gradient_norms(g), jax.jit(T.layer_gradient_norms)(g)):
            assert norms.shape == (2,) and not np.isfinite(np.asarray(norms)).any()


keep = lambda m, a, k: a


def test_loss_weights_bad_input():
    with pytest.raises(TypeError, match="`fn` must be callable"):
        T.LossWeights(None)
    for every in (0, -1, 2.5, True, jnp.asarray(0), jnp.asarray(-3), jnp.asarray(1.5),
                  jnp.ones(2, int)):
        with pytest.raises(ValueError, match="`every`"):
            T.LossWeights(keep, every=every)
    assert T.LossWeights(keep, every=jnp.asarray(3)).every == 3
    # a traced `every` (callback built inside jit / vmap) is checked when the program runs
    build = lambda e: T.LossWeights(keep, every=e).every
    assert_refuses(lambda: eqx.filter_jit(build)(jnp.asarray(0)), match="`every` must be >= 1")
    assert_refuses(lambda: jax.vmap(build)(jnp.asarray([2, 0])), match="`every` must be >= 1")
    # a weight update that changes the shapes of `args`: clear error at trace time
    halve = T.LossWeights(lambda m, a, k: (a[0][:4], a[1][:4]))
    with pytest.raises(ValueError, match="`fn` of LossWeights must return `args` of the same"):
        T.fit(mse, LIN, ADAM, steps=3, args=(X, Y), callbacks=halve)
    recast = T.LossWeights(lambda m, a, k: (a[0], a[1].astype(jnp.float32)))
    with pytest.raises(ValueError, match="shapes and dtypes"):
        T.fit(mse, LIN, ADAM, steps=3, args=(X, Y), callbacks=recast)
    # NaN weights: tier 3, RESULTS.nonfinite_loss and the best (finite) iterate
    nan_w = T.LossWeights(lambda m, a, k: (a[0], a[1] * jnp.nan), every=2)
    sol = T.fit(mse, LIN, ADAM, steps=4, args=(X, Y), callbacks=nan_w, throw=False)
    assert sol.result == RESULTS.nonfinite_loss and finite_tree(sol.value)


# ------------------------------------------------------- LSGD operators and matrices
def test_identity_operator_bad_input():
    op = T.IdentityOperator()
    np.testing.assert_array_equal(op(NET.basis, X[0]), NET.basis(X[0]))
    with pytest.raises(TypeError, match="`f` of IdentityOperator must be a callable"):
        op(None, X[0])
    for x in (jnp.ones(()), X):                          # not ONE point (d,)
        with pytest.raises(ValueError, match="`x` of IdentityOperator must be ONE point"):
            op(NET.basis, x)
    with pytest.raises(ValueError, match="`x`"):         # a point of the wrong dimension
        op(NET.basis, jnp.ones(3))
    with pytest.raises(TypeError, match=r"`operator`.*call it, `IdentityOperator\(\)`"):
        T.LSTerm(X, Y, operator=T.IdentityOperator)
    with pytest.raises(TypeError, match="`f` of PartialDerivative"):
        T.PartialDerivative((0,))("basis", X[0])


@pytest.mark.parametrize("fn", [T.basis_matrices, T.basis_losses])
def test_basis_matrices_and_losses_bad_input(fn):
    terms = {"d": T.LSTerm(X, Y)}
    for model, tm, exc, match in [
        (LIN, terms, TypeError, "`model` must be a jaxsci.nn.AbstractAdaptiveBasisNet"),
        (NET, {}, TypeError, "`terms` must be a non-empty dict"),
        (NET, [terms["d"]], TypeError, "`terms` must be a non-empty dict"),
        (NET, {"d": (X, Y)}, TypeError, r"`terms\['d'\]` must be an LSTerm"),
        (NET, {"d": T.LSTerm(jnp.ones((8, 3)), Y)}, ValueError,
         r"`terms\['d'\].points` has shape \(8, 3\).*in_size=1"),
        (NET, {"d": T.LSTerm(X, jnp.ones((8, 2)))}, ValueError, r"`terms\['d'\].target`"),
        (NET, {"d": raw_term(X.at[3, 0].set(INF), Y)}, ValueError,
         r"`terms\['d'\].points` contains NaN or inf"),
    ]:
        with pytest.raises(exc, match=match):
            fn(model, tm)
    assert all(np.isfinite(np.asarray(v)).all() for v in fn(NET, terms).values())


nan_points = lambda y: {"d": raw_term(X.at[0, 0].set(y[0] * NAN), y)}


def test_basis_losses_nan_data_eager_jit_vmap():
    nan_target = {"d": raw_term(X, YN)}
    with pytest.raises(ValueError, match=r"`terms\['d'\].target` contains NaN or inf"):
        T.basis_losses(NET, nan_target)
    assert_refuses(lambda: eqx.filter_jit(T.basis_losses)(NET, nan_target),
                   match=r"`terms\['d'\].target` contains NaN")
    assert_refuses(lambda: jax.vmap(lambda y: T.basis_losses(NET, {"d": raw_term(X, y)})["d"])(
        jnp.stack([Y, YN])), match="contains NaN")
    assert_refuses(lambda: eqx.filter_jit(T.basis_matrices)(NET, nan_points(Y)),
                   match=r"`terms\['d'\].points` contains NaN")
    # a NaN in the model is not bad data: its loss is NaN (what fit's NaN policy reports)
    nan_net = eqx.tree_at(lambda m: m.head.weight, NET, NET.head.weight * NAN)
    assert np.isnan(float(T.basis_losses(nan_net, {"d": T.LSTerm(X, Y)})["d"]))


# ------------------------------------------------------ weight blocks of a network
def test_per_neuron_per_layer_edge_input():
    assert [b.shape for b in T.per_neuron(MLP2)] == [(3, 3), (1, 4)]
    assert [v.shape for v in T.per_layer(MLP2)] == [(9,), (4,)]
    assert [b.shape for b in T.per_neuron({"scale": jnp.ones((2, 3))})] == [(1, 6)]
    # a filtered-out layer (the head of `hidden_parameters`) is skipped, not a crash
    hidden = T.hidden_parameters(NET)
    assert [b.shape for b in T.per_neuron(hidden)] == [(4, 2)]
    assert T.from_per_neuron(hidden, T.per_neuron(hidden)).head.weight is None
    half = eqx.tree_at(lambda m: m.layers[0].weight, MLP2, None)
    with pytest.raises(ValueError, match="`params` has an eqx.nn.Linear with a bias but no "
                       "weight"):
        T.per_layer(half)
    # nothing to flatten (an empty tree, a static part, integer arrays only): refused
    for params in ({}, None, "mlp", {"n": jnp.ones(3, int)}, eqx.filter(MLP2, eqx.is_array,
                                                                         inverse=True)):
        for fn in (T.per_neuron, T.per_layer):
            with pytest.raises(ValueError, match="`params` has no inexact"):
                fn(params)


def test_from_per_neuron_bad_input():
    blocks = T.per_neuron(MLP2)
    back = T.from_per_neuron(MLP2, [np.asarray(b).tolist() for b in blocks])  # lists are fine
    np.testing.assert_array_equal(back.layers[0].weight, MLP2.layers[0].weight)
    for bad, exc, match in [
        (None, TypeError, "`blocks` must be a list of arrays"),
        (jnp.ones((2, 3, 3)), TypeError, "`blocks` must be a list of arrays"),
        (blocks[:1], ValueError, "`blocks` must have 2 entries, got 1"),
        ([jnp.ones((2, 2)), blocks[1]], ValueError, r"`blocks\[0\]` must have shape \(3, 3\)"),
        ([blocks[0].reshape(-1), blocks[1]], ValueError, r"`blocks\[0\]` must have shape"),
        ([blocks[0], blocks[1].T], ValueError, r"`blocks\[1\]` must have shape \(1, 4\)"),
        ([jnp.stack([blocks[0]] * 2), blocks[1]], ValueError, r"`blocks\[0\]`"),
        ([blocks[0] + 1j, blocks[1]], TypeError, r"`blocks\[0\]` is complex.*`.real`"),
    ]:
        with pytest.raises(exc, match=match):
            T.from_per_neuron(MLP2, bad)
    with pytest.raises(ValueError, match=r"`blocks\[0\]`"):    # trace time, also under jit
        eqx.filter_jit(T.from_per_neuron)(MLP2, [jnp.ones((2, 2)), blocks[1]])
    with pytest.raises(ValueError, match="`params` has no inexact"):
        T.from_per_neuron({}, [])
    with pytest.raises(ValueError, match=r"`vectors\[0\]` must have shape \(9,\)"):
        T.from_per_layer(MLP2, blocks)
    # integer blocks are cast to the parameters' dtype (a model stays trainable)
    ints = T.from_per_neuron(MLP2, [jnp.ones(b.shape, int) for b in blocks])
    assert ints.layers[0].weight.dtype == MLP2.layers[0].weight.dtype


# ------------------------------------------------------- batched trajectory records
SEEDS = eqx.filter_vmap(lambda k: eqx.nn.Linear(1, "scalar", key=k))(jr.split(jr.key(0), 2))
SEED_STATES = eqx.filter_vmap(lambda p: ADAM.init(eqx.filter(p, eqx.is_array)))(SEEDS)
record_nan = eqx.filter_jit(lambda p, s: T.record_trajectories(
    T.optax_step(lambda m: mse(m, (X, YN))[0], ADAM), p, s, num_snapshots=2))


def test_record_trajectories_bad_input():
    step = T.optax_step(lambda m: mse(m, (X, Y))[0], ADAM)
    run = lambda p, s, **kw: T.record_trajectories(step, p, s, **{"num_snapshots": 2, **kw})
    three = eqx.filter_vmap(lambda p: ADAM.init(eqx.filter(p, eqx.is_array)))(
        eqx.filter_vmap(lambda k: eqx.nn.Linear(1, "scalar", key=k))(jr.split(jr.key(0), 3)))
    empty = jax.tree.map(lambda a: a[:0], (SEEDS, SEED_STATES))
    for args, match in [
        ((LIN, ADAM.init(eqx.filter(LIN, eqx.is_array))), "`state` must be batched"),
        ((SEEDS, three), "same leading batch size.*has shape \\(3,\\)"),
        ((NET, None), "same leading batch size"),       # an unbatched MLP: sizes disagree
        (empty, "`params` has batch size 0"),
        (({}, SEED_STATES), "`params` holds no arrays"),
    ]:
        with pytest.raises(ValueError, match=match):
            run(*args)
    with pytest.raises(ValueError, match="`num_snapshots`"):
        run(SEEDS, SEED_STATES, num_snapshots=0)
    for kw in ({"num_snapshots": 2.0}, {"num_snapshots": True}, {"every": 1.5}):
        with pytest.raises(TypeError, match="`num_snapshots`|`every`"):
            run(SEEDS, SEED_STATES, **kw)
    with pytest.raises(TypeError, match="`step` must be a step function"):
        T.record_trajectories(None, SEEDS, SEED_STATES, num_snapshots=2)
    for bad in (lambda p, s: (p, s), lambda p, s: (p, s, {})):
        with pytest.raises(TypeError, match="`step` must return `\\(params, state, stats\\)`"):
            T.record_trajectories(bad, SEEDS, SEED_STATES, num_snapshots=2)
    # NaN data: refused at run time (throw=True, also under jit); throw=False records NaN
    with pytest.raises(eqx.EquinoxRuntimeError, match="Non-finite loss"):
        T.record_trajectories(T.optax_step(lambda m: mse(m, (X, YN))[0], ADAM), SEEDS,
                              SEED_STATES, num_snapshots=2)
    assert_refuses(lambda: record_nan(SEEDS, SEED_STATES), match="Non-finite loss")
    traj = T.record_trajectories(T.optax_step(lambda m: mse(m, (X, YN))[0], ADAM), SEEDS,
                                 SEED_STATES, num_snapshots=2, throw=False)
    assert traj.loss.shape == (2, 2) and np.isnan(np.asarray(traj.loss)).all()


# ------------------------------------------------------------------ hypothesis
@settings(max_examples=12, deadline=None)
@given(st.data())
def test_random_bad_inputs_are_refused(data):
    """NaN/inf injected into the data, a mismatched target shape or empty data: fit
    returns a failed Solution, LSTerm / least_squares_head raise a clear error."""
    kind = data.draw(st.sampled_from(["nan_fit", "nan_term", "shape", "empty"]))
    if kind == "nan_fit":
        y = jnp.asarray(data.draw(with_nonfinite(np.asarray(Y))))
        fn = lambda: T.fit(mse, LIN, ADAM, steps=4, args=(X, y), throw=False)
    elif kind == "nan_term":
        y = jnp.asarray(data.draw(with_nonfinite(np.asarray(Y))))
        fn = data.draw(st.sampled_from([
            lambda: T.LSTerm(X, y),
            lambda: T.least_squares_head(NET, {"d": raw_term(X, y)})]))
    elif kind == "shape":
        shape = data.draw(mismatched_shapes((8,)).filter(
            lambda s: not (len(s) == 2 and s[0] == 8)))
        fn = lambda: T.LSTerm(X, jnp.ones(shape))
    else:
        fn = lambda: T.LSTerm(jnp.asarray(empty_like_shape((8, 1))), jnp.zeros(0))
    assert_refuses(fn)
