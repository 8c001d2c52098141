"""Parameter sweeps: vmap == loop, chunk padding, sharding, failure reporting, bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec

import jaxsci.dae as dae

TS = jnp.linspace(0.0, 0.03, 31)


def test_sweep_equals_loop_with_padding_and_sharding(getkey):
    c = dae.TransistorAmplifier()
    samples = jax.random.uniform(getkey(), (3, 10))
    mesh = Mesh(np.array(jax.devices()[:1]), ("batch",))
    sharding = NamedSharding(mesh, PartitionSpec("batch"))
    sol = dae.sweep(c, samples, TS, chunk_size=2, sharding=sharding, progress=False)
    assert sol.value.shape == (3, 31)
    assert not bool(jnp.any(sol.stats["failed"]))
    for j in range(3):
        one = dae.simulate(c, c.box(samples[j]), TS)
        # batched and unbatched XLA code round differently (fused multiply-adds, dot
        # orders); the adaptive step sequence turns that into ~1e-8 differences
        np.testing.assert_allclose(sol.value[j], one.value, rtol=1e-6, atol=1e-8)
    # the output starts at the consistent initial value U5(0) = 0 and varies with p
    np.testing.assert_allclose(sol.value[:, 0], 0.0, atol=1e-14)
    assert float(jnp.std(sol.value[:, -1])) > 1e-3


def test_sweep_bad_input():
    c = dae.TransistorAmplifier()
    with pytest.raises(ValueError, match=r"\(k, 10\)"):
        dae.sweep(c, jnp.zeros((4, 3)), TS, progress=False)
    with pytest.raises(ValueError, match="1-D"):
        dae.sweep(c, jnp.zeros((4, 10)), jnp.zeros((2, 2)), progress=False)
    with pytest.raises(ValueError, match="rtol"):
        dae.sweep(c, jnp.zeros((4, 10)), TS, rtol=0.0, progress=False)


def test_failure_is_reported_not_returned():
    c = dae.TransistorAmplifier()
    sol = dae.simulate(c, c.nominal, TS, max_steps=20, throw=False)
    assert sol.result == dae_results().max_steps_reached
    with pytest.raises(eqx.EquinoxRuntimeError, match="maximum number of steps"):
        dae.simulate(c, c.nominal, TS, max_steps=20)


def dae_results():
    from jaxsci._solution import RESULTS

    return RESULTS


@pytest.mark.slow
def test_circuit_gradient_vs_finite_differences():
    # d U5(t_end) / d(Ub, C1) through simulate (Rodas4 in diffrax, PID) vs central FD
    c = dae.TransistorAmplifier(t1=0.003)
    ts = jnp.linspace(0.0, 0.003, 4)

    def qoi(p):
        return dae.simulate(c, p, ts, rtol=1e-10, atol=1e-12).value[-1]

    p0 = c.nominal
    g = jax.grad(qoi)(p0)
    for name, eps in (("Ub", 1e-5), ("C1", 1e-12)):
        def shifted(d, name=name):
            return eqx.tree_at(lambda p: getattr(p, name), p0, getattr(p0, name) + d)

        fd = (qoi(shifted(eps)) - qoi(shifted(-eps))) / (2 * eps)
        np.testing.assert_allclose(getattr(g, name), fd, rtol=1e-4)
