"""Bad input to jaxsci.koopman is refused clearly (DESIGN rule 6)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings, strategies as st

from jaxsci.koopman import (
    FunctionDictionary,
    Monomials,
    RadialBasis,
    dmd,
    dmd_from_pairs,
    edmd,
    fit_weight_koopman,
    hankel_dmd,
    hankel_matrix,
    iterations_to_reach,
    koopman_train,
    predict_loss_at_weights,
    predict_loss_observable,
    scale_up,
    stabilized,
)
from jaxsci.testing import assert_refuses, empty_like_shape, mismatched_shapes, with_nonfinite

X = jnp.asarray(np.random.default_rng(0).normal(size=(4, 8)))
P = jnp.asarray(np.random.default_rng(1).normal(size=(10, 2)))
MODEL = dmd(X, rank=3)
ED = edmd(P, 0.9 * P, Monomials(2, 2))
HK = hankel_dmd(X[:1], 3)
MLP = eqx.nn.MLP(1, 1, 3, 1, key=jax.random.key(0))
SNAPS = jax.tree_util.tree_map(
    lambda a: jnp.stack([a * (1 + 0.1 * i) for i in range(5)]) if eqx.is_array(a) else a, MLP
)
WK = fit_weight_koopman(SNAPS)
LOSSES = jnp.array([1.0, 0.5, 0.3, 0.2, 0.15])
NAN = jnp.nan


def loss_fn(m):
    return jnp.sum(m(jnp.ones(1)) ** 2)


def _nan_tree(tree):
    return jax.tree_util.tree_map(
        lambda a: a.at[(0,) * a.ndim].set(jnp.nan) if eqx.is_inexact_array(a) else a, tree
    )


SU = dict(width=2, depth=1, budget=100, trial_steps=30, every=10, target=1e-3, key=jax.random.key(0))
KT = dict(num_cycles=2, window=3)

CASES = [
    # NaN / inf
    ("dmd", lambda: dmd(X.at[0, 0].set(NAN)), ValueError, "`snapshots`.*NaN"),
    ("dmd_from_pairs", lambda: dmd_from_pairs(X, X.at[1, 1].set(jnp.inf)), ValueError, "`y`.*NaN"),
    ("forecast", lambda: MODEL.forecast(jnp.ones(4).at[0].set(NAN), 2.0), ValueError, "`x0`"),
    ("edmd", lambda: edmd(P, P.at[1, 1].set(NAN), Monomials(2, 1)), ValueError, "`y`.*NaN"),
    ("edmd dict", lambda: edmd(1e200 * P, 1e200 * P, Monomials(2, 3)), ValueError, "`dictionary`"),
    ("hankel_dmd", lambda: hankel_dmd(X[:1].at[0, 2].set(NAN), 2), ValueError, "`snapshots`"),
    ("fit_weight_koopman", lambda: fit_weight_koopman(_nan_tree(SNAPS)), ValueError, "`snapshots`"),
    ("WeightKoopman.forecast", lambda: WK.forecast(_nan_tree(MLP), 1.0), ValueError, "`params`"),
    ("predict_loss_at_weights", lambda: predict_loss_at_weights(WK, loss_fn, _nan_tree(MLP), jnp.arange(2.0)), ValueError, "`params`"),
    ("predict_loss_observable", lambda: predict_loss_observable(LOSSES.at[1].set(NAN), jnp.arange(3.0)), ValueError, "`losses`"),
    ("iterations_to_reach", lambda: iterations_to_reach(jnp.array([1.0, NAN]), jnp.arange(2.0), 0.5), ValueError, "`predicted`"),
    ("koopman_train", lambda: koopman_train(loss_fn, optax.adam(1e-2), MLP, jumps=(float("nan"),), **KT), ValueError, "`jumps`"),
    ("koopman_train target", lambda: koopman_train(loss_fn, optax.adam(1e-2), MLP, target=float("nan"), **KT), ValueError, "`target`"),
    ("scale_up", lambda: scale_up(lambda w, d, k: MLP, loss_fn, optax.adam(1e-2), **{**SU, "target": float("nan")}), ValueError, "`target`"),
    # wrong shape / rank
    ("dmd rank", lambda: dmd(X[0]), ValueError, "`snapshots`"),
    ("dmd_from_pairs shape", lambda: dmd_from_pairs(X, X[:, :5]), ValueError, "`x` and `y`"),
    ("DMD.forecast shape", lambda: MODEL.forecast(jnp.ones(3), jnp.arange(3.0)), ValueError, "`x0`"),
    ("DMD.project shape", lambda: MODEL.project(jnp.ones(2)), ValueError, "`x`"),
    ("EDMD.forecast shape", lambda: ED.forecast(jnp.ones(3), jnp.arange(2)), ValueError, "`x0`"),
    ("RadialBasis shape", lambda: RadialBasis(P[:3], 1.0)(jnp.ones(3)), ValueError, "`x`"),
    ("HankelDMD.forecast shape", lambda: HK.forecast(jnp.ones((2, 1)), 1.0), ValueError, "`x0`"),
    ("hankel_matrix rank", lambda: hankel_matrix(jnp.ones(5), 2), ValueError, "`snapshots`"),
    ("WeightKoopman arch", lambda: WK.forecast(eqx.nn.MLP(1, 1, 4, 1, key=jax.random.key(0)), 1.0), ValueError, "`params`"),
    ("predict_loss_at_weights steps", lambda: predict_loss_at_weights(WK, loss_fn, MLP, 1.0), ValueError, "`steps`"),
    ("predict_loss_observable rank", lambda: predict_loss_observable(LOSSES[None], jnp.arange(3.0)), ValueError, "`losses`"),
    ("iterations_to_reach shape", lambda: iterations_to_reach(jnp.ones(2), jnp.arange(3.0), 0.5), ValueError, "`steps`"),
    ("fit_weight_koopman leading", lambda: fit_weight_koopman({"a": jnp.ones((5, 2)), "b": jnp.ones((4, 2))}), ValueError, "`snapshots`"),
    # empty
    ("dmd empty", lambda: dmd(jnp.asarray(empty_like_shape((4, 6)))), ValueError, "`snapshots`.*empty"),
    ("dmd one column", lambda: dmd(X[:, :1]), ValueError, "at least 2"),
    ("dmd_from_pairs empty", lambda: dmd_from_pairs(X[:, :0], X[:, :0]), ValueError, "`x`.*empty"),
    ("edmd empty", lambda: edmd(P[:0], P[:0], Monomials(2, 1)), ValueError, "`x`.*empty"),
    ("hankel_matrix empty", lambda: hankel_matrix(jnp.zeros((0, 5)), 2), ValueError, "`snapshots`.*empty"),
    ("fit_weight_koopman empty", lambda: fit_weight_koopman({"a": 1}), ValueError, "`snapshots`"),
    ("fit_weight_koopman few", lambda: fit_weight_koopman(jax.tree_util.tree_map(lambda a: a[:2] if eqx.is_array(a) else a, SNAPS)), ValueError, "at least 3"),
    ("predict_loss_observable few", lambda: predict_loss_observable(LOSSES[:2], jnp.arange(3.0)), ValueError, "`losses`"),
    ("iterations_to_reach empty", lambda: iterations_to_reach(jnp.zeros(0), jnp.zeros(0), 0.5), ValueError, "`predicted`"),
    ("koopman_train no params", lambda: koopman_train(loss_fn, optax.adam(1e-2), {"a": 1}, **KT), ValueError, "`params`"),
    # out of domain
    ("dmd rank too big", lambda: dmd(X, rank=8), ValueError, "`rank`"),
    ("dmd rank 0", lambda: dmd(X, rank=0), ValueError, "`rank`"),
    ("dmd rtol", lambda: dmd(X, rtol=-1.0), ValueError, "`rtol`"),
    ("dmd dt", lambda: dmd(X, dt=0.0), ValueError, "`dt`"),
    ("DMD.forecast steps", lambda: MODEL.forecast(jnp.ones(4), -1.0), ValueError, "`steps`"),
    ("DMD.reconstruct times", lambda: MODEL.reconstruct(jnp.array([NAN])), ValueError, "`times`"),
    ("DMD.fixed_point atol", lambda: MODEL.fixed_point(jnp.ones(4), -1.0), ValueError, "`atol`"),
    ("EDMD.forecast steps", lambda: ED.forecast(P[0], jnp.array([-2])), ValueError, "`steps`"),
    ("edmd rcond", lambda: edmd(P, P, Monomials(2, 1), rcond=float("nan")), ValueError, "`rcond`"),
    ("RadialBasis length_scale", lambda: RadialBasis(P[:3], 0.0), ValueError, "`length_scale`"),
    ("Monomials degree", lambda: Monomials(2, -1), ValueError, "`degree`"),
    ("hankel_matrix delays", lambda: hankel_matrix(X, 8), ValueError, "`delays`"),
    ("HankelDMD.forecast steps", lambda: HK.forecast(HK.last, -3.0), ValueError, "`steps`"),
    ("fit_weight_koopman rank", lambda: fit_weight_koopman(SNAPS, rank=-1), ValueError, "`rank`"),
    ("fit_weight_koopman every", lambda: fit_weight_koopman(SNAPS, every=0), ValueError, "`every`"),
    ("WeightKoopman.forecast steps", lambda: WK.forecast(MLP, -1.0), ValueError, "`steps`"),
    ("WeightKoopman.fixed_point atol", lambda: WK.fixed_point(MLP, 0.0), ValueError, "`atol`"),
    ("predict_loss_observable log", lambda: predict_loss_observable(LOSSES.at[2].set(-0.1), jnp.arange(3.0)), ValueError, "`losses`.*> 0"),
    ("predict_loss_observable delays", lambda: predict_loss_observable(LOSSES, jnp.arange(3.0), delays=5), ValueError, "`delays`"),
    ("predict_loss_observable rank", lambda: predict_loss_observable(LOSSES, jnp.arange(3.0), rank=0), ValueError, "`rank`"),
    ("iterations_to_reach unsorted", lambda: iterations_to_reach(jnp.ones(2), jnp.array([3.0, 1.0]), 0.5), ValueError, "`steps`"),
    ("iterations_to_reach target", lambda: iterations_to_reach(jnp.ones(2), jnp.arange(2.0), NAN), ValueError, "`target`"),
    ("koopman_train rank", lambda: koopman_train(loss_fn, optax.adam(1e-2), MLP, rank=0, **KT), ValueError, "`rank`"),
    ("koopman_train rtol", lambda: koopman_train(loss_fn, optax.adam(1e-2), MLP, rtol=-1.0, **KT), ValueError, "`rtol`"),
    ("koopman_train num_cycles", lambda: koopman_train(loss_fn, optax.adam(1e-2), MLP, num_cycles=-1, window=3), ValueError, "`num_cycles`"),
    ("scale_up alpha", lambda: scale_up(lambda w, d, k: MLP, loss_fn, optax.adam(1e-2), alpha=float("nan"), **SU), ValueError, "`alpha`"),
    ("scale_up window", lambda: scale_up(lambda w, d, k: MLP, loss_fn, optax.adam(1e-2), window=0, **SU), ValueError, "`window`"),
    ("scale_up width", lambda: scale_up(lambda w, d, k: MLP, loss_fn, optax.adam(1e-2), **{**SU, "width": -1}), ValueError, "`width`"),
    # problem-specific: wrong objects
    ("stabilized", lambda: stabilized(3), TypeError, "`model`"),
    ("edmd dictionary", lambda: edmd(P, P, lambda z: z), TypeError, "`dictionary`"),
    ("FunctionDictionary", lambda: FunctionDictionary(3), TypeError, "`fn`"),
    ("predict_loss_at_weights koopman", lambda: predict_loss_at_weights(MODEL, loss_fn, MLP, jnp.arange(2.0)), TypeError, "`koopman`"),
    ("scale_up key", lambda: scale_up(lambda w, d, k: MLP, loss_fn, optax.adam(1e-2), **{**SU, "key": None}), TypeError, "`key`"),
    ("dmd complex", lambda: dmd(X.astype(complex)), TypeError, "real"),
]


@pytest.mark.parametrize("name, fn, exc, match", CASES, ids=[c[0] for c in CASES])
def test_refused(name, fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_value_checks_under_jit_and_vmap():
    bad = X.at[0, 0].set(NAN)
    fit = eqx.filter_jit(lambda a: dmd(a).eigenvalues)
    assert_refuses(lambda: fit(bad), match="`snapshots`.*NaN")
    assert_refuses(lambda: jax.vmap(fit)(jnp.stack([X, bad])), match="`snapshots`")
    fc = eqx.filter_jit(lambda s: MODEL.forecast(X[:, 0], s))
    assert_refuses(lambda: fc(jnp.array([1.0, -1.0])), match="`steps`")
    assert_refuses(lambda: jax.vmap(fc)(jnp.array([1.0, NAN])), match="`steps`")
    assert_refuses(lambda: eqx.filter_jit(lambda r: dmd(X, rtol=r).eigenvalues)(jnp.asarray(-1.0)),
                   match="`rtol`")
    plo = eqx.filter_jit(lambda l: predict_loss_observable(l, jnp.arange(3.0)))
    assert_refuses(lambda: plo(LOSSES.at[0].set(-1.0)), match="`losses`")
    itr = eqx.filter_jit(iterations_to_reach)
    assert_refuses(lambda: itr(jnp.array([1.0, NAN]), jnp.arange(2.0), 0.5), match="`predicted`")
    # good input still works, same as eager
    np.testing.assert_allclose(fc(jnp.array([0.0, 2.0])), MODEL.forecast(X[:, 0], jnp.array([0.0, 2.0])))


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_hypothesis_bad_snapshots_refused(data):
    kind = data.draw(st.sampled_from(["nonfinite", "shape"]))
    if kind == "nonfinite":
        snaps = data.draw(with_nonfinite(np.asarray(X), max_count=3))
        assert_refuses(lambda: dmd(jnp.asarray(snaps)), match="`snapshots`")
        x0 = data.draw(with_nonfinite(np.ones(4)))
        assert_refuses(lambda: MODEL.forecast(jnp.asarray(x0), 1.0), match="`x0`")
    else:
        shape = data.draw(mismatched_shapes((4,)))
        assert_refuses(lambda: MODEL.forecast(jnp.ones(shape), 1.0), match="`x0`")
        pair = data.draw(mismatched_shapes(tuple(X.shape)))
        assert_refuses(lambda: dmd_from_pairs(X, jnp.ones(pair)), match="`x` and `y`|`y`")
