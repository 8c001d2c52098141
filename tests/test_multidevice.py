"""Sharded sweeps on several simulated CPU devices give the one-device results.

jaxlib 0.10 deadlocked `gp.fit_batched(sharding=...)` over several CPU devices (their
batched LAPACK calls shared and blocked one intra-op pool, docs/gp.md); jaxlib >= 0.11.1
does not. Each device count runs in one subprocess, since the device count must be fixed
before JAX starts (`jax_num_cpu_devices`).
"""

import os
import subprocess
import sys

import pytest
from _xla import child_env

CHILD = r"""
import sys
import jax
jax.config.update("jax_num_cpu_devices", int(sys.argv[1]))
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp, jax.random as jr, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from jaxsci import dae, gp, kernels
assert len(jax.devices()) == int(sys.argv[1]), jax.devices()
sh = NamedSharding(Mesh(np.array(jax.devices()), ("b",)), P("b"))

X = jr.uniform(jr.key(0), (4, 12, 2))
y = jnp.sin(3 * X[..., 0]) * jnp.cos(X[..., 1])
kw = dict(key=jr.key(1), num_restarts=4, noise=1e-6)
one = gp.fit_batched(kernels.SquaredExponential(), X, y, **kw)
many = gp.fit_batched(kernels.SquaredExponential(), X, y, sharding=sh, **kw)
np.testing.assert_allclose(many.stats["log_marginal_likelihood"], one.stats["log_marginal_likelihood"], rtol=1e-9)
np.testing.assert_array_equal(many.stats["best_start"], one.stats["best_start"])
for a, b in zip(jax.tree.leaves(many.value), jax.tree.leaves(one.value)):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
assert len(many.stats["log_marginal_likelihood"].sharding.device_set) == len(jax.devices())

c = dae.TransistorAmplifier()
ts = jnp.linspace(c.t0, c.t1, 20)
s = jr.uniform(jr.key(2), (5, c.box.q))        # 5 samples: the chunk is padded per device
kw = dict(rtol=1e-5, atol=1e-7, progress=False)
u = dae.sweep(c, s, ts, **kw)
v = dae.sweep(c, s, ts, sharding=sh, **kw)
# batches of different size round differently inside the adaptive solver
np.testing.assert_allclose(v.value, u.value, rtol=1e-8, atol=1e-10)
np.testing.assert_array_equal(v.stats["num_steps"], u.stats["num_steps"])

from jaxsci import sensitivity as se
x = jr.uniform(jr.key(3), (40, 3))     # chunk 7 is rounded up to a multiple of the devices
f = lambda p: jnp.stack([jnp.sin(p[0]) * p[1], p[2] ** 2])
a = se.evaluate_samples(f, x)
for chunk in (None, 7):
    b = se.evaluate_samples(f, x, chunk_size=chunk, sharding=sh)
    np.testing.assert_allclose(b, a, rtol=1e-14)

from jaxsci import mechanics as mech   # the hyperelastic study: one pool per device
Bs = mech.sample_finger_tensors(4 * 8, key=jr.key(4)).reshape(4, 8, 3, 3)
S = jax.vmap(lambda B: mech.cauchy_stress(mech.MooneyRivlin(), B))(Bs.reshape(-1, 3, 3)).reshape(Bs.shape)
kw = dict(key=jr.key(5), num_restarts=3)
if int(sys.argv[1]) == 4:  # the values: in the -m slow case only (two more compiles, ~6 s)
    r1 = mech.stress_rmse_trials(mech.fit_component_gp, Bs, S, Bs[0], S[0], **kw)
    rn = mech.stress_rmse_trials(mech.fit_component_gp, Bs, S, Bs[0], S[0], sharding=sh, **kw)
    np.testing.assert_allclose(rn, r1, rtol=1e-6)
try:
    mech.stress_rmse_trials(mech.fit_component_gp, Bs[:3], S[:3], Bs[0], S[0], sharding=sh, **kw)
    raise AssertionError("3 trials over several devices must be refused")
except ValueError as e:
    assert "divisible" in str(e)
print("ok")
"""


# 2 devices in the default suite (5 DAE samples and chunks of 7 still split unevenly); 4
# devices with `-m slow` (each case is a fresh subprocess that compiles everything: 4
# devices took 32 s of the default suite, 2 take about half)
@pytest.mark.parametrize("devices", [2, pytest.param(4, marks=pytest.mark.slow)])
def test_sharded_fit_batched_and_sweep_equal_one_device(devices):
    env = child_env(JAX_PLATFORMS="cpu")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(devices)], capture_output=True, text=True, timeout=300,
        env=env,
    )
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-4000:]
