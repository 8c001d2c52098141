"""jaxsci.train._hoist: closures as pytrees (same source -> same program, no stale values)."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import optax
import pytest

from jaxsci._hoist import call_hoisted, hoist, unhoist

_G = jnp.arange(3.0)


def _static(tree):
    dyn, static = eqx.partition(tree, eqx.is_array)
    return jtu.tree_structure(static), static, [x.shape for x in jtu.tree_leaves(dyn)]


def _rec(n):
    return 1 if n == 0 else n * _rec(n - 1)


def _make(data, scale, offset=1):
    def inner(x):
        return scale * x + data

    return lambda x, k=2.0, *, p=3: inner(x) * k + offset + p


def test_same_source_same_static_part_and_round_trip():
    f1, f2 = _make(jnp.ones(3), 2.0), _make(jnp.zeros(3), 5.0)
    h1, h2 = hoist(f1), hoist(f2)
    assert _static(h1) == _static(h2)  # data and float differ: both are leaves
    assert _static(hoist(_make(jnp.ones(3), 2.0, offset=2))) != _static(h1)  # ints static
    assert _static(hoist(_make(jnp.ones(4), 2.0))) != _static(h1)  # shapes are structure
    x = jnp.arange(3.0)
    for f, h in ((f1, h1), (f2, h2)):
        np.testing.assert_array_equal(h(x), f(x))
        np.testing.assert_array_equal(unhoist(h)(x, 0.5, p=1), f(x, 0.5, p=1))
    # strict static equality: 0.0 / -0.0 and 1 / 1.0 / True are different programs
    s = [_static(hoist(lambda v=v: v, scalars=False)) for v in (0.0, -0.0, 1, 1.0, True)]
    assert all(s[i] != s[j] for i in range(5) for j in range(i))


def test_optax_and_partial_round_trip():
    params = {"w": jnp.array([1.0, -2.0])}
    for make in (lambda: optax.adam(1e-2), lambda: optax.chain(optax.clip(1.0), optax.sgd(0.1)),
                 lambda: optax.lbfgs()):
        h1, h2 = hoist(make()), hoist(make())
        assert _static(h1) == _static(h2)
        assert isinstance(unhoist(h1), optax.GradientTransformation)
        opt, ref = unhoist(h1), make()
        u1, _ = opt.update(params, opt.init(params), params, value=jnp.asarray(1.0),
                           grad=params, value_fn=lambda p: jnp.sum(p["w"] ** 2))
        u2, _ = ref.update(params, ref.init(params), params, value=jnp.asarray(1.0),
                           grad=params, value_fn=lambda p: jnp.sum(p["w"] ** 2))
        np.testing.assert_array_equal(u1["w"], u2["w"])
    p = functools.partial(lambda a, b, c=0: a * b + c, jnp.ones(2), c=1.0)
    np.testing.assert_array_equal(hoist(p)(3.0), p(3.0))


def test_unfaithful_functions_are_kept_as_they_are():
    log = []
    appends = lambda x: log.append(x)  # noqa: E731  (mutable closure)

    def counter():
        n = 0

        def inc():
            nonlocal n
            n += 1
            return n

        return inc

    def outer():
        def fact(n):
            return 1 if n == 0 else n * fact(n - 1)  # closure cell holds fact itself

        return fact

    for f in (appends, counter(), outer(), jnp.sin, jax.jit(jnp.cos), print):
        assert hoist(f) is f
    assert hoist(_rec) is not _rec and hoist(_rec)(4) == 24  # a global self-reference is fine
    # arrays=False (host callbacks): a closure over an array is left alone
    g = _make(jnp.ones(3), 2.0)
    assert hoist(g, arrays=False) is g


def test_rebound_global_is_a_new_key():
    global _G
    f = lambda: jnp.sum(_G)  # noqa: E731
    before = _static(hoist(f))
    old, _G = _G, jnp.arange(3.0) + 1.0
    try:
        assert _static(hoist(f)) != before
        assert float(hoist(f)()) == 6.0
    finally:
        _G = old


@eqx.filter_jit
def _core(fn, x):
    return unhoist(fn)(x)


def test_call_hoisted_one_trace_and_fallbacks():
    traces = []
    core = eqx.filter_jit(lambda fn, x: (traces.append(1), unhoist(fn)(x))[1])
    x = jnp.arange(3.0)
    for data, scale in ((jnp.ones(3), 2.0), (jnp.zeros(3), 3.0)):
        np.testing.assert_array_equal(call_hoisted(core, (_make(data, scale),), x),
                                      _make(data, scale)(x))
    assert len(traces) == 1  # x64 in the tests: floats are traced too

    def branchy(w):
        return lambda x: x * 2 if w > 0 else x * 3  # needs a concrete float

    def numpyish(a):
        return lambda x: x + np.asarray(a).sum()  # needs a concrete array

    np.testing.assert_array_equal(call_hoisted(_core, (branchy(1.0),), x), 2 * x)
    np.testing.assert_array_equal(call_hoisted(_core, (branchy(-1.0),), x), 3 * x)
    np.testing.assert_array_equal(call_hoisted(_core, (numpyish(jnp.ones(2)),), x), x + 2)
    with pytest.raises(jax.errors.TracerBoolConversionError):
        call_hoisted(_core, (lambda x: x if x.sum() > 0 else -x,), x)  # a genuine error
