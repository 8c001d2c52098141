"""Regression test: two independent batched LAPACK calls in one program do not deadlock.

jaxlib 0.10's CPU LAPACK kernels split a batch over XLA's intra-op pool and blocked a pool
thread until the pieces finished (`jax::ParallelBatchMap`); two such calls running
concurrently could each hold a thread of a 2-thread pool and wait forever (docs/gp.md,
"XLA:CPU deadlock (jaxlib 0.10, fixed upstream)"). jaxlib >= 0.11.1 dropped that path and
jaxsci requires jax >= 0.11.2. The docs' reproducer runs here in a subprocess with a
timeout: on jaxlib 0.10.2 it hung in 3 of 3 runs (killed after 20 s); on jaxlib 0.12 its
300 iterations take ~2.5 s.
"""

import os
import subprocess
import sys

REPRODUCER = """
import jax, jax.numpy as jnp, jax.scipy as jsp
jax.config.update("jax_enable_x64", True)
A = jax.random.normal(jax.random.key(0), (8, 200, 200))
L = jnp.linalg.cholesky(A @ jnp.swapaxes(A, 1, 2) + 200 * jnp.eye(200))
two = jax.jit(lambda L, s: (jsp.linalg.cho_solve((L, True), jnp.ones((8, 200, 6)) * s),
                            jsp.linalg.cho_solve((L, True), jnp.broadcast_to(jnp.eye(200) * s, L.shape))))
for i in range(300):
    jax.block_until_ready(two(L, 1.0 + i))
print("finished")
"""


def test_two_independent_batched_cho_solves_finish_within_60s():
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    try:
        out = subprocess.run(
            [sys.executable, "-c", REPRODUCER], capture_output=True, text=True, timeout=60, env=env
        )
    except subprocess.TimeoutExpired as e:  # pragma: no cover - the regression itself
        raise AssertionError(
            "two independent batched cho_solves did not finish within 60 s: the XLA:CPU "
            "LAPACK deadlock of jaxlib 0.10 is back (docs/gp.md)."
        ) from e
    assert out.returncode == 0, out.stderr[-3000:]
    assert "finished" in out.stdout
