"""Multi-process runs (`jax.distributed`) give the one-process results.

Two processes on 127.0.0.1, one CPU device each (CPU collectives over gloo), form one
2-device mesh; the sharded `dae.sweep` and `diagnostics.init_statistics` must agree with
the same calls in this (one-device) process. This is the multi-host GPU setup of
docs/index.md#many-devices-and-many-hosts with CPUs standing in for the GPUs.
"""

import json
import os
import socket
import subprocess
import sys

import jax
import numpy as np

from jaxsci import dae, diagnostics, init
from _xla import child_env

CHILD = r"""
import json, sys
import jax
port, pid = sys.argv[1], int(sys.argv[2])
jax.config.update("jax_enable_x64", True)
jax.distributed.initialize(f"127.0.0.1:{port}", num_processes=2, process_id=pid,
                           initialization_timeout=60)
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from jaxsci import dae, diagnostics, init
assert jax.process_count() == 2 and len(jax.devices()) == 2 and len(jax.local_devices()) == 1
mesh = Mesh(np.array(jax.devices()), ("b",))
sh = NamedSharding(mesh, P("b"))
c = dae.TransistorAmplifier()
ts = np.linspace(float(c.t0), float(c.t1), 20)
s = np.random.default_rng(2).uniform(size=(5, c.box.q))
v = dae.sweep(c, s, ts, rtol=1e-5, atol=1e-7, progress=False, sharding=sh)
y = np.asarray(multihost_utils.process_allgather(v.value, tiled=True))
n = np.asarray(multihost_utils.process_allgather(v.stats["num_steps"], tiled=True))
counts = diagnostics.init_statistics(jax.random.key(3), (1, 6, 4), init.UnitHypersphereInit(with_bias=True),
                                     num=1000, chunk_size=256, sharding=sh)
print("@@" + json.dumps({"y": y.tolist(), "num_steps": n.tolist(), "counts": counts.tolist()}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_match_one_process():
    env = child_env(JAX_PLATFORMS="cpu")
    port = str(_free_port())
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD, port, str(i)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    results = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        assert p.returncode == 0, err[-4000:]
        results.append(json.loads(next(ln[2:] for ln in out.splitlines() if ln.startswith("@@"))))

    c = dae.TransistorAmplifier()
    ts = np.linspace(float(c.t0), float(c.t1), 20)
    s = np.random.default_rng(2).uniform(size=(5, c.box.q))
    ref = dae.sweep(c, s, ts, rtol=1e-5, atol=1e-7, progress=False)
    counts = diagnostics.init_statistics(jax.random.key(3), (1, 6, 4), init.UnitHypersphereInit(with_bias=True),
                                         num=1000, chunk_size=256)
    for r in results:  # every process holds the whole, identical result
        np.testing.assert_allclose(r["y"], ref.value, rtol=1e-8, atol=1e-10)
        np.testing.assert_array_equal(r["num_steps"], ref.stats["num_steps"])
        np.testing.assert_array_equal(r["counts"], counts)
    assert np.asarray(results[0]["counts"]).shape == (1000, 2, 3)
