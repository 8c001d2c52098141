import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jaxsci.diagnostics import init_statistics, neuron_states_1d, state_counts
from jaxsci.diagnostics._counts1d import packed_counts_1d, packed_counts_supported, unpack_counts
from jaxsci.init import NormalInit, UnitHypersphereInit, sample_relu_params

UH = UnitHypersphereInit(with_bias=True)
HE = NormalInit()  # no bias: every first-layer kink sits exactly at x = 0 (tied knots)


_array_jit = jax.jit(lambda q: state_counts(neuron_states_1d(q, 1.0)))
_packed_jit = jax.jit(lambda q: packed_counts_1d(q, 1.0))


def _array_form(p):
    return np.moveaxis(np.asarray(_array_jit(p)), -1, 0)


def _packed(p, widths):
    return unpack_counts(_packed_jit(p), widths)


def test_neurons_fed_only_by_dead_neurons_are_dead():
    # Network 35224 of sample_relu_params(fold_in(key(0), 1), (1, 6, 4, 2), UH, float32,
    # (2**17,)): layer 1 is all dead, so layers 2 and 3 are constant (tentatively dead:
    # positive constants). Under jax 0.12 XLA:CPU fused the packed kernel's multiply-adds
    # into FMAs at some knots only, the constant z of layer 3 differed in its last bit across
    # knots and the kernel counted an active neuron; constancy is now decided structurally.
    widths = (1, 6, 4, 2)
    p = jax.jit(lambda k: sample_relu_params(k, widths, UH, jnp.float32, (2**17,)))(
        jr.fold_in(jr.key(0), 1)
    )
    net = [(w[..., 35224:35225], b[..., 35224:35225]) for w, b in p]
    want = [[[0, 0, 6], [0, 4, 0], [0, 2, 0]]]
    np.testing.assert_array_equal(_packed(net, widths), want)
    np.testing.assert_array_equal(_array_form(net), want)
    # the same structure built by hand: a dead first layer makes every later neuron dead
    w1, b1 = -jnp.ones((3, 1, 1)), -2.0 * jnp.ones((3, 1))
    w2, b2 = jnp.ones((2, 3, 1)), jnp.asarray([[0.3], [-0.1]])
    w3, b3 = jnp.asarray([[[0.7], [-0.2]]]), jnp.asarray([[0.1]])
    hand = [(w1, b1), (w2, b2), (w3, b3)]
    # layer 2: positive constant -> tentatively dead, b <= 0 & w >= 0 -> tentatively dead
    np.testing.assert_array_equal(_array_form(hand), [[[0, 0, 3], [0, 2, 0], [0, 1, 0]]])
    np.testing.assert_array_equal(_packed(hand, (1, 3, 2, 1)), _array_form(hand))


@pytest.mark.parametrize(
    "widths, schemes, dtype",
    [
        ((1, 6, 4, 2), UH, jnp.float32),
        ((1, 6, 4, 2), HE, jnp.float32),
        ((1, 3, 3, 3), [UH, NormalInit(with_bias=True), HE], jnp.float64),
    ],
)
def test_packed_kernel_equals_array_form(widths, schemes, dtype, key):
    # bit-identical arithmetic: the same counts for every network, ties and float32 included
    p = jax.jit(lambda k: sample_relu_params(k, widths, schemes, dtype, (4096,)))(key)
    got, want = _packed(p, widths), _array_form(p)
    assert got.shape == (4096, len(widths) - 1, 3) and got.dtype == np.int32
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got.sum(-1), np.broadcast_to(widths[1:], got.shape[:-1]))
    assert (got[:, 1:, 1] > 0).any() and (got[:, :, 2] > 0).any()  # all states occur


def test_packed_kernel_hand_built_and_single_network():
    # the network of test_states.test_hand_built_states, unbatched: layer 1 [active,
    # permanent], layer 2 [permanent, tentative, active, tentative]
    w1 = jnp.array([[1.0], [-1.0]])
    b1 = jnp.array([0.0, -2.0])
    w2 = jnp.array([[-1.0, -1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    b2 = jnp.array([0.0, -1.0, 0.0, 1.0])
    code = jax.jit(packed_counts_1d, static_argnums=1)([(w1, b1), (w2, b2)], 1.0)
    assert code.shape == () and code.dtype == jnp.int32
    np.testing.assert_array_equal(unpack_counts(code, (1, 2, 4)), [[1, 0, 1], [1, 2, 1]])


def test_packed_kernel_limits():
    assert packed_counts_supported((1, 6, 4, 2)) and packed_counts_supported((1, 10, 8))
    assert not packed_counts_supported((1, 20, 20))  # unrolled program too large
    assert not packed_counts_supported((2, 3))
    p = sample_relu_params(jr.key(0), (1, 20, 20), UH, batch=(2,))
    with pytest.raises(ValueError, match="small network"):
        packed_counts_1d(p, 1.0)


@pytest.mark.parametrize("widths", [(1, 4, 3, 2), (1, 20, 20)])
def test_init_statistics_chunks(widths, key):
    # packed path (1, 4, 3, 2) and array-form fallback (1, 20, 20) against the documented
    # per-chunk draws: chunk c from fold_in(key, c), batch-last, last chunk truncated
    num, chunk = 700, 256
    got = init_statistics(key, widths, UH, num=num, chunk_size=chunk)
    keys = jax.vmap(lambda c: jr.fold_in(key, c))(jnp.arange(3))
    draw = jax.jit(lambda k: sample_relu_params(k, widths, UH, batch=(chunk,)))
    want = np.concatenate([_array_form(draw(k)) for k in keys])[:num]
    np.testing.assert_array_equal(got, want)
