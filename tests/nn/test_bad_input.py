"""Bad input to the `jaxsci.nn` constructors and calls gives a clear error (DESIGN rule 6),
and the partitions of unity stay partitions of unity (no NaN) at huge inputs."""

import functools

import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings

import jaxsci.nn as nn
from jaxsci.testing import assert_refuses, mismatched_shapes

K = jr.key(0)
NAN, INF = float("nan"), float("inf")

BAD_CONSTRUCTION = [
    # (label, thunk, exception, message fragment naming the argument)
    ("MLP width 0", lambda: nn.MLP(2, 0, 1, key=K), ValueError, "`width`"),
    ("MLP depth -1", lambda: nn.MLP(2, 3, -1, key=K), ValueError, "`depth`"),
    ("MLP in_size 0 (empty)", lambda: nn.MLP(0, 3, 1, key=K), ValueError, "`in_size`"),
    ("MLP width float", lambda: nn.MLP(2, 3.0, 1, key=K), ValueError, "`width`"),
    ("MLP out_size -1", lambda: nn.MLP(2, 3, 1, out_size=-1, key=K), ValueError, "`out_size`"),
    ("MLP out_size 0", lambda: nn.MLP(2, 3, 1, out_size=0, key=K), ValueError, "`out_size`"),
    ("MLP out_size str", lambda: nn.MLP(2, 3, 1, out_size="vector", key=K), ValueError,
     "`out_size`"),
    ("MLP key None", lambda: nn.MLP(2, 3, 1, key=None), TypeError, "`key`"),
    ("ResNet width -2", lambda: nn.ResNet(2, -2, 2, key=K), ValueError, "`width`"),
    ("ResNet depth 0", lambda: nn.ResNet(2, 3, 0, key=K), ValueError, "`depth`"),
    ("ResNet key int", lambda: nn.ResNet(2, 3, 1, key=0), TypeError, "`key`"),
    ("RBF n_part 0", lambda: nn.RBFPartition(0, 2, key=K), ValueError, "`n_part`"),
    ("RBF in_size 0", lambda: nn.RBFPartition(3, 0, key=K), ValueError, "`in_size`"),
    ("RBF box nan", lambda: nn.RBFPartition(3, 2, box=(NAN, 1.0), key=K), ValueError, "`box`"),
    ("RBF box hi < lo", lambda: nn.RBFPartition(3, 2, box=(1.0, 0.0), key=K), ValueError,
     "`box`"),
    ("RBF box shape", lambda: nn.RBFPartition(3, 2, box=(jnp.zeros(3), 1.0), key=K), ValueError,
     "`box`"),
    ("ResNetPartition n_part 0", lambda: nn.ResNetPartition(0, 2, 4, 1, key=K), ValueError,
     "`n_part`"),
    ("ResNetPartition depth 0", lambda: nn.ResNetPartition(2, 2, 4, 0, key=K), ValueError,
     "`depth`"),
    ("Legendre degree -1", lambda: nn.LegendreSpace(2, -1), ValueError, "`degree`"),
    ("Legendre in_size 0", lambda: nn.LegendreSpace(0, 2), ValueError, "`in_size`"),
    ("Legendre box inf", lambda: nn.LegendreSpace(2, 2, box=(0.0, INF)), ValueError, "`box`"),
    ("Legendre box shape", lambda: nn.LegendreSpace(2, 2, box=(0.0, jnp.ones(3))), ValueError,
     "`box`"),
    ("POUNet dims differ", lambda: nn.POUNet(nn.RBFPartition(3, 3, key=K), nn.LegendreSpace(2, 1),
                                             key=K), ValueError, "`partition`.*`space`"),
    ("POUNet partition type", lambda: nn.POUNet(nn.LegendreSpace(2, 1), nn.LegendreSpace(2, 1),
                                                key=K), TypeError, "`partition`"),
    ("POUNet out_size 0", lambda: nn.POUNet(nn.RBFPartition(3, 2, key=K), nn.LegendreSpace(2, 1),
                                            out_size=0, key=K), ValueError, "`out_size`"),
    ("layer_view other", lambda: nn.layer_view(nn.LegendreSpace(2, 1)), TypeError, "`model`"),
]


@pytest.mark.parametrize("label,thunk,exc,match", BAD_CONSTRUCTION,
                         ids=[b[0] for b in BAD_CONSTRUCTION])
def test_bad_construction(label, thunk, exc, match):
    with pytest.raises(exc, match=match):
        thunk()


@functools.cache
def _models():
    part = nn.RBFPartition(3, 2, key=K)
    return {
        "MLP": nn.MLP(2, 4, 2, key=K),
        "ResNet": nn.ResNet(2, 4, 2, key=K),
        "RBFPartition": part,
        "ResNetPartition": nn.ResNetPartition(3, 2, 4, 2, key=K),
        "LegendreSpace": nn.LegendreSpace(2, 2),
        "POUNet": nn.POUNet(part, nn.LegendreSpace(2, 2), key=K),
    }


@pytest.mark.parametrize("name", ["MLP", "ResNet", "RBFPartition", "ResNetPartition",
                                  "LegendreSpace", "POUNet"])
def test_call_wrong_shape_says_vmap(name):
    m = _models()[name]
    for x in (jnp.ones(3), jnp.ones((5, 2)), jnp.ones(0), jnp.asarray(1.0)):
        with pytest.raises(ValueError, match="ONE point of shape"):
            m(x)
    with pytest.raises(ValueError, match="ONE point"):
        eqx.filter_jit(m)(jnp.ones(3))  # trace time, also under jit
    out = jax.vmap(m)(jnp.ones((4, 2)))
    assert bool(jnp.all(jnp.isfinite(out)))


def test_with_head_wrong_shape():
    m = _models()["MLP"]
    with pytest.raises(ValueError, match="`weight` must have shape"):
        m.with_head(jnp.ones((2, 4)))


@pytest.mark.parametrize("dtype,x", [(jnp.float64, 1e6), (jnp.float64, 1e200),
                                     (jnp.float32, 1e6), (jnp.float32, 1e25)])
def test_partitions_sum_to_one_at_huge_inputs(dtype, x):
    """Before: `RBFPartition` gave NaN once |x|^2 overflowed (1e200 in float64, 1e25 in
    float32), and a POUNet basis had 0 * inf = NaN where a partition function underflowed."""
    pts = jnp.array([[x, -x], [x, 0.5], [-x, -x / 3]], dtype)
    parts = [nn.RBFPartition(4, 2, dtype=dtype, key=K)]
    if x == 1e25:  # ResNet logits of order 1e25 (and inf in the limit)
        parts.append(nn.ResNetPartition(4, 2, 6, 2, dtype=dtype, key=K))
    for part in parts:
        phi = eqx.filter_jit(jax.vmap(part))(pts)
        assert bool(jnp.all(phi >= 0))
        np.testing.assert_allclose(jnp.sum(phi, axis=1), 1.0, rtol=1e-6)
    if x == 1e6 and dtype == jnp.float32:  # P_6(2e6) overflows float32 to +-inf
        space = nn.LegendreSpace(2, 6)
        pou = nn.POUNet(nn.RBFPartition(4, 2, dtype=dtype, key=K), space, dtype=dtype, key=K)
        basis = eqx.filter_jit(pou.basis)(pts[0])
        assert not bool(jnp.any(jnp.isnan(basis)))  # overflow is inf, never 0 * inf = NaN


def test_rbf_partition_far_limit_and_unchanged_near():
    """Far away the widest RBF takes all the weight (the limit of the softmax); near the
    box the stable evaluation equals the plain softmax."""
    part = nn.RBFPartition(3, 2, key=K)
    part = eqx.tree_at(lambda p: p.shapes, part, jnp.array([1.0, 3.0, 2.0]))
    np.testing.assert_allclose(part(jnp.array([1e200, -1e200])), [0.0, 1.0, 0.0])
    x = jnp.array([0.3, 0.7])
    sq = jnp.sum((x[None, :] - part.centres) ** 2, axis=1)
    np.testing.assert_allclose(part(x), jax.nn.softmax(-sq / part.shapes**2), rtol=1e-14)
    g = jax.grad(lambda c: eqx.tree_at(lambda p: p.centres, part, c)(x)[0])(part.centres)
    assert bool(jnp.all(jnp.isfinite(g)))


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_hypothesis_wrong_point_shapes(data):
    """Any shape other than `(in_size,)` is refused at trace time by every network."""
    name = data.draw(st.sampled_from(sorted(_models())))
    shape = data.draw(mismatched_shapes((2,)))
    assert_refuses(lambda: _models()[name](jnp.ones(shape)), match="ONE point")


RECURRENT_BAD = [
    ("ElmanCell x size", lambda: nn.ElmanCell(2, 3, key=K)(jnp.zeros(4), jnp.zeros(3)),
     ValueError, "`x`"),
    ("ElmanCell hidden_size 0", lambda: nn.ElmanCell(2, 0, key=K), ValueError, "`hidden_size`"),
    ("LSTMCell x size", lambda: nn.LSTMCell(2, 3, key=K)(jnp.zeros(4), (jnp.zeros(3),) * 2),
     ValueError, "`x`"),
    ("LSTMCell key int", lambda: nn.LSTMCell(2, 3, key=0), TypeError, "`key`"),
    ("PeepholeLSTMCell x size",
     lambda: nn.PeepholeLSTMCell(2, 3, key=K)(jnp.zeros(1), (jnp.zeros(3),) * 2), ValueError,
     "`x`"),
    ("PeepholeLSTMCell c size",
     lambda: nn.PeepholeLSTMCell(2, 3, key=K)(jnp.zeros(2), (jnp.zeros(3), jnp.zeros(2))),
     ValueError, "`state[1] (c)`"),
    ("GRUCell x size", lambda: nn.GRUCell(2, 3, key=K)(jnp.zeros((2, 1)), jnp.zeros(3)),
     ValueError, "`x`"),
    ("GRUCell in_size float", lambda: nn.GRUCell(2.0, 3, key=K), ValueError, "`in_size`"),
    ("scan_cell xs 1-D", lambda: nn.scan_cell(nn.GRUCell(2, 3, key=K), jnp.zeros(2),
                                              jnp.zeros(3)), ValueError, "`xs`"),
    ("scan_cell cell not callable", lambda: nn.scan_cell(3, jnp.zeros((2, 2)), jnp.zeros(3)),
     TypeError, "`cell`"),
]


@pytest.mark.parametrize("label,thunk,exc,frag", RECURRENT_BAD, ids=[r[0] for r in RECURRENT_BAD])
def test_recurrent_bad_input(label, thunk, exc, frag):
    with pytest.raises(exc, match=__import__("re").escape(frag)):
        thunk()


# --- seq3: sequence wrappers, attention, firing-rate RNN (one block; keep contiguous) ---
_G = nn.GRUCell(2, 3, key=K)
SEQ3_BAD = [
    ("Bidirectional cell not callable", lambda: nn.Bidirectional(3, _G), TypeError,
     "`forward_cell`"),
    ("Bidirectional in_size differ", lambda: nn.Bidirectional(_G, nn.GRUCell(3, 3, key=K)),
     ValueError, "same inputs"),
    ("Bidirectional xs 1-D", lambda: nn.Bidirectional(_G, _G)(jnp.zeros(2)), ValueError, "`xs`"),
    ("Bidirectional xs features", lambda: nn.Bidirectional(_G, _G)(jnp.zeros((4, 3))),
     ValueError, "`xs` must have shape (T, 2)"),
    ("Bidirectional state0 not a pair", lambda: nn.Bidirectional(_G, _G)(jnp.zeros((4, 2)),
                                                                         jnp.zeros(3)),
     ValueError, "`state0`"),
    ("Bidirectional no hidden_size", lambda: nn.Bidirectional(lambda x, s: s, lambda x, s: s)(
        jnp.zeros((4, 2))), ValueError, "`state0` is needed"),
    ("Stacked empty", lambda: nn.Stacked([]), ValueError, "`cells`"),
    ("Stacked cell not callable", lambda: nn.Stacked([_G, "gru"]), TypeError, "`cells[1]`"),
    ("Stacked sizes", lambda: nn.Stacked([_G, _G]), ValueError, "`cells[1]` has in_size 2"),
    ("Stacked dropout 1", lambda: nn.Stacked([_G], dropout=1.0), ValueError, "`dropout`"),
    ("Stacked dropout str", lambda: nn.Stacked([_G], dropout="0.2"), ValueError, "`dropout`"),
    ("Stacked inference str", lambda: nn.Stacked([_G], inference="yes"), TypeError,
     "`inference`"),
    ("Stacked no key with dropout",
     lambda: nn.Stacked([_G, nn.GRUCell(3, 3, key=K)], dropout=0.2)(jnp.zeros((4, 2))),
     ValueError, "`key` is required"),
    ("Stacked key int", lambda: nn.Stacked([_G])(jnp.zeros((4, 2)), key=0), TypeError, "`key`"),
    ("Stacked state0 length", lambda: nn.Stacked([_G])(jnp.zeros((4, 2)), [None, None]),
     ValueError, "`state0`"),
    ("Stacked xs batch", lambda: nn.Stacked([_G])(jnp.zeros((5, 4, 2))), ValueError, "`xs`"),
]


@pytest.mark.parametrize("label,thunk,exc,frag", SEQ3_BAD, ids=[r[0] for r in SEQ3_BAD])
def test_seq3_bad_input(label, thunk, exc, frag):
    with pytest.raises(exc, match=__import__("re").escape(frag)):
        thunk()
_MHA = nn.MultiHeadAttention(2, 4, key=K)
_BLK = nn.TransformerEncoderBlock(4, 2, 8, dropout=0.1, key=K)
SEQ3_ATT_BAD = [
    ("scaled_dot_product_attention q 1-D",
     lambda: nn.scaled_dot_product_attention(jnp.zeros(3), jnp.zeros((2, 3)), jnp.zeros((2, 1))),
     ValueError, "`q`"),
    ("scaled_dot_product_attention d_k differ",
     lambda: nn.scaled_dot_product_attention(jnp.zeros((1, 3)), jnp.zeros((2, 2)),
                                             jnp.zeros((2, 1))), ValueError, "`k`"),
    ("scaled_dot_product_attention v rows",
     lambda: nn.scaled_dot_product_attention(jnp.zeros((1, 3)), jnp.zeros((2, 3)),
                                             jnp.zeros((3, 1))), ValueError, "`k` and `v`"),
    ("scaled_dot_product_attention mask float",
     lambda: nn.scaled_dot_product_attention(jnp.zeros((1, 3)), jnp.zeros((2, 3)),
                                             jnp.zeros((2, 1)), jnp.ones((1, 2))), TypeError,
     "`mask`"),
    ("scaled_dot_product_attention mask shape",
     lambda: nn.scaled_dot_product_attention(jnp.zeros((1, 3)), jnp.zeros((2, 3)),
                                             jnp.zeros((2, 1)), jnp.ones((2, 2), bool)),
     ValueError, "`mask`"),
    ("sinusoidal_position_encoding n 0", lambda: nn.sinusoidal_position_encoding(0, 4),
     ValueError, "`n`"),
    ("sinusoidal_position_encoding d float", lambda: nn.sinusoidal_position_encoding(3, 4.0),
     ValueError, "`d`"),
    ("MultiHeadAttention heads 0", lambda: nn.MultiHeadAttention(0, 4, key=K), ValueError,
     "`num_heads`"),
    ("MultiHeadAttention query_size < heads", lambda: nn.MultiHeadAttention(4, 2, key=K),
     ValueError, "`query_size`"),
    ("MultiHeadAttention use_bias str", lambda: nn.MultiHeadAttention(2, 4, use_bias="y", key=K),
     TypeError, "`use_bias`"),
    ("MultiHeadAttention key int", lambda: nn.MultiHeadAttention(2, 4, key=1), TypeError, "`key`"),
    ("MultiHeadAttention query width", lambda: _MHA(jnp.zeros((3, 5))), ValueError, "`query`"),
    ("MultiHeadAttention kv lengths", lambda: _MHA(jnp.zeros((3, 4)), jnp.zeros((2, 4)),
                                                   jnp.zeros((3, 4))), ValueError, "`key_`"),
    ("MultiHeadAttention mask shape", lambda: _MHA(jnp.zeros((3, 4)),
                                                   mask=jnp.ones((3, 3, 3), bool)), ValueError,
     "`mask`"),
    ("TransformerEncoderBlock d_model % heads",
     lambda: nn.TransformerEncoderBlock(5, 2, 8, key=K), ValueError, "`d_model`"),
    ("TransformerEncoderBlock dropout -0.1",
     lambda: nn.TransformerEncoderBlock(4, 2, 8, dropout=-0.1, key=K), ValueError, "`dropout`"),
    ("TransformerEncoderBlock d_ff 0", lambda: nn.TransformerEncoderBlock(4, 2, 0, key=K),
     ValueError, "`d_ff`"),
    ("TransformerEncoderBlock no key", lambda: _BLK(jnp.zeros((3, 4))), ValueError,
     "`key` is required"),
    ("TransformerEncoderBlock x batch", lambda: _BLK(jnp.zeros((2, 3, 4)), inference=True),
     ValueError, "`x`"),
]


@pytest.mark.parametrize("label,thunk,exc,frag", SEQ3_ATT_BAD, ids=[r[0] for r in SEQ3_ATT_BAD])
def test_seq3_attention_bad_input(label, thunk, exc, frag):
    with pytest.raises(exc, match=__import__("re").escape(frag)):
        thunk()
_FR = nn.FiringRateRNN(3, key=K)
SEQ3_FR_BAD = [
    ("FiringRateRNN size 0", lambda: nn.FiringRateRNN(0, key=K), ValueError, "`size`"),
    ("FiringRateRNN no key", lambda: nn.FiringRateRNN(3), TypeError, "`key`"),
    ("FiringRateRNN weight shape", lambda: nn.FiringRateRNN(3, weight=jnp.zeros((3, 2))),
     ValueError, "`weight`"),
    ("FiringRateRNN tau shape", lambda: nn.FiringRateRNN(3, tau=jnp.ones(2), key=K), ValueError,
     "`tau`"),
    ("FiringRateRNN tau negative", lambda: nn.FiringRateRNN(3, tau=-1.0, key=K),
     eqx.EquinoxRuntimeError, "`tau` must be positive"),
    ("FiringRateRNN activation", lambda: nn.FiringRateRNN(3, activation="tanh", key=K),
     TypeError, "`activation`"),
    ("FiringRateRNN euler_step v", lambda: _FR.euler_step(jnp.zeros(2), jnp.zeros(3), 0.1),
     ValueError, "`v`"),
    ("simulate rnn type", lambda: nn.simulate_firing_rate(_G, jnp.zeros(3), jnp.linspace(0, 1, 3)),
     TypeError, "`rnn`"),
    ("simulate v0 shape", lambda: nn.simulate_firing_rate(_FR, jnp.zeros(2), jnp.linspace(0, 1, 3)),
     ValueError, "`v0`"),
    ("simulate ts 2-D", lambda: nn.simulate_firing_rate(_FR, jnp.zeros(3), jnp.zeros((2, 2))), ValueError,
     "`ts`"),
    ("simulate Euler no dt0", lambda: nn.simulate_firing_rate(_FR, jnp.zeros(3), jnp.linspace(0, 1, 3),
                                                  solver=__import__("diffrax").Euler()),
     ValueError, "`dt0`"),
    ("simulate inputs not callable", lambda: nn.simulate_firing_rate(_FR, jnp.zeros(3), jnp.linspace(0, 1, 3),
                                                         jnp.zeros(3)), TypeError, "`inputs`"),
]


@pytest.mark.parametrize("label,thunk,exc,frag", SEQ3_FR_BAD, ids=[r[0] for r in SEQ3_FR_BAD])
def test_seq3_firing_rate_bad_input(label, thunk, exc, frag):
    with pytest.raises(exc, match=__import__("re").escape(frag)):
        thunk()
