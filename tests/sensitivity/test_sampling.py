"""Sobol' points and the Saltelli design against scipy / SALib (exact), net balance, jit/vmap."""

import copy
import warnings

import hypothesis
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from scipy.stats import qmc
from SALib.sample import sobol as salib_sample

import jaxsci.sensitivity as se
from jaxsci.sensitivity import _sampling


def _scipy_unscrambled(d, n, skip=0):
    eng = qmc.Sobol(d, scramble=False)
    if skip:
        eng.fast_forward(skip)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "balance properties require n = 2^m"
        return eng.random(n)


@pytest.mark.parametrize("d, n, skip", [(1, 8, 0), (64, 1000, 0), (1024, 16, 0), (7, 100, 37)])
def test_unscrambled_equals_scipy_exactly(d, n, skip):
    x = se.sobol_sequence(n, d, skip=skip)
    assert x.dtype == jnp.float64 and x.shape == (n, d)
    np.testing.assert_array_equal(np.asarray(x), _scipy_unscrambled(d, n, skip))


def test_lms_shift_scrambling_equals_scipy_given_its_matrices():
    # scipy's scramble=True with its own random matrices, replayed through our scrambler
    d, n = 12, 256
    eng = qmc.Sobol(d, scramble=True, rng=3)
    rng = copy.deepcopy(eng.rng_seed)  # the generator state before scipy drew the matrices
    bits = _sampling.BITS
    shift = rng.integers(0, 2, size=(d, bits), dtype=np.uint32) @ (2 ** np.arange(bits, dtype=np.uint32))
    ltm = np.tril(rng.integers(0, 2, size=(d, bits, bits), dtype=np.uint32))
    rows = (ltm << (bits - 1 - np.arange(bits, dtype=np.uint32))[None, None]).sum(-1, dtype=np.uint32)
    v = jnp.asarray(_sampling._direction_numbers(d))
    points = jax.jit(lambda v, r, s: _sampling._points(_sampling._scramble_directions(v, r), s, n, 0, jnp.float64))
    x = points(v, jnp.asarray(rows), jnp.asarray(shift, jnp.uint32))
    np.testing.assert_array_equal(np.asarray(x), eng.random(n))


_scrambled = jax.jit(lambda key: se.sobol_sequence(64, 5, key=key))
_scrambled_many = jax.jit(jax.vmap(lambda key: se.sobol_sequence(64, 5, key=key)))
KEYS = jr.split(jr.key(1), 200)


def _one_per_interval(x, m):
    """Each axis has exactly one point in each of the 2^m intervals [k/2^m, (k+1)/2^m)."""
    cells = np.floor(np.asarray(x) * 2**m).astype(int)
    return all(np.array_equal(np.sort(cells[:, j]), np.arange(2**m)) for j in range(x.shape[1]))


def test_scrambled_points_are_balanced_uniform_and_key_dependent():
    x = _scrambled(jr.key(0))
    assert _one_per_interval(x, 6) and _one_per_interval(x[:16], 4)
    assert float(x.min()) >= 0.0 and float(x.max()) < 1.0
    # 2-D elementary intervals of a (0, m, 2)-net: the first two coordinates are a (0,m,2)-net
    cells = np.floor(np.asarray(x[:, :2]) * [8, 8]).astype(int)
    assert len({tuple(c) for c in cells}) == 64
    np.testing.assert_allclose(np.asarray(x.mean(axis=0)), 0.5, atol=1 / 64)
    # over many scrambles the mean of each point is 1/2 (each point is uniform)
    many = _scrambled_many(KEYS)
    assert abs(float(many[:, 0].mean()) - 0.5) < 0.05  # the unscrambled first point is 0
    assert not np.array_equal(np.asarray(many[0]), np.asarray(many[1]))


def test_jit_equals_direct_call_and_vmap_equals_loop():
    batched = _scrambled_many(KEYS)
    for i in (0, 7, 199):
        np.testing.assert_array_equal(np.asarray(_scrambled(KEYS[i])), np.asarray(batched[i]))
    np.testing.assert_array_equal(
        np.asarray(se.sobol_sequence(64, 5, key=KEYS[7])), np.asarray(batched[7])
    )


def test_float32_stays_below_one_and_close_to_float64():
    x32 = se.sobol_sequence(64, 5, key=jr.key(0), dtype=jnp.float32)
    assert x32.dtype == jnp.float32 and float(x32.max()) < 1.0
    np.testing.assert_allclose(np.asarray(x32), np.asarray(_scrambled(jr.key(0))), atol=2**-24)


@pytest.mark.parametrize("second_order", [False, True])
def test_saltelli_equals_salib_unscrambled(second_order):
    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}
    ref = salib_sample.sample(problem, 32, calc_second_order=second_order, scramble=False)
    x = se.saltelli_sample(32, 3, second_order=second_order)
    np.testing.assert_array_equal(np.asarray(x), ref)
    problem["bounds"] = [[-np.pi, np.pi], [0.0, 2.0], [-1.0, 5.0]]
    ref = salib_sample.sample(problem, 32, calc_second_order=second_order, scramble=False)
    x = se.saltelli_sample(32, 3, second_order=second_order, bounds=jnp.asarray(problem["bounds"]))
    np.testing.assert_allclose(np.asarray(x), ref, rtol=1e-15, atol=1e-15)  # XLA may fuse an FMA


def test_saltelli_layout_with_scrambling():
    n, d = 8, 2
    x = se.saltelli_sample(n, d, key=jr.key(4), second_order=True).reshape(n, 2 * d + 2, d)
    base = se.sobol_sequence(n, 2 * d, key=jr.key(4))
    a, b = np.asarray(base[:, :d]), np.asarray(base[:, d:])
    np.testing.assert_array_equal(x[:, 0], a)
    np.testing.assert_array_equal(x[:, -1], b)
    for j in range(d):
        ab, ba = a.copy(), b.copy()
        ab[:, j], ba[:, j] = b[:, j], a[:, j]
        np.testing.assert_array_equal(x[:, 1 + j], ab)
        np.testing.assert_array_equal(x[:, 1 + d + j], ba)


@hypothesis.settings(max_examples=10, deadline=None)
@hypothesis.given(seed=st.integers(0, 2**31 - 1), m=st.integers(0, 6))
def test_every_scramble_keeps_the_net_property(seed, m):
    # the first 2^m points of a scrambled sequence (2^m <= 64) are balanced on every axis
    x = _scrambled(jr.key(seed))[: 2**m]
    assert _one_per_interval(x, m)
