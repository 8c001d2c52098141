"""Time to first result (DESIGN rule 14): opt-in persistent cache, no needless recompiles."""

import os
import pathlib
import subprocess
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import optax
import pytest

import jaxsci
from jaxsci import dae, gp, kernels
from _xla import child_env


def test_import_does_not_enable_the_cache():
    code = "import jax, jaxsci; print(repr(jax.config.jax_compilation_cache_dir))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() in ("None", "''")


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("JAXSCI_CACHE_DIR", str(tmp_path / "c"))
    assert jaxsci.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("JAXSCI_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert jaxsci.default_cache_dir() == tmp_path / "jaxsci" / "xla"


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="min_compile_time_secs"):
        jaxsci.enable_compilation_cache(tmp_path, min_compile_time_secs=-1)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="cannot create"):
        jaxsci.enable_compilation_cache(blocker / "sub")


_PROGRAM = """
import sys, jax, jax.numpy as jnp, jax.monitoring as mon
import jaxsci
hits = []
mon.register_event_listener(lambda e, **k: hits.append(e) if "cache_hits" in e else None)
path = jaxsci.enable_compilation_cache(sys.argv[1])
print(path)
f = jax.jit(lambda x: jnp.sin(x) @ jnp.cos(x).T + 1.0)
f(jnp.ones((7, 7))).block_until_ready()
print(len(hits))
"""


def test_second_process_hits_the_cache(tmp_path):
    env = child_env()
    run = lambda: subprocess.run(  # noqa: E731
        [sys.executable, "-c", _PROGRAM, str(tmp_path / "xla")], capture_output=True, text=True,
        check=True, env=env,
    ).stdout.split()
    path, cold_hits = run()
    assert pathlib.Path(path) == tmp_path / "xla" and any(pathlib.Path(path).iterdir())
    _, warm_hits = run()
    assert int(cold_hits) == 0 and int(warm_hits) >= 1


def test_python_float_kernel_does_not_retrace_in_an_optax_loop():
    # ExpQuad(1.0, 1.0) used to hold weakly typed leaves, and the optimiser's update made
    # them strong: the step compiled three times (weak, strong, ...) instead of once.
    X = jr.uniform(jr.key(0), (12, 2))
    y = jnp.sin(X[:, 0])
    opt = optax.adam(1e-2)
    traces = []

    @eqx.filter_jit
    def step(k, s):
        traces.append(1)
        g = eqx.filter_grad(lambda k: -gp.log_marginal_likelihood(k, X, y, noise=1e-4))(k)
        u, s = opt.update(g, s)
        return eqx.apply_updates(k, u), s

    k = kernels.ExpQuad(1.0, 1.0)
    assert not any(leaf.weak_type for leaf in jax.tree_util.tree_leaves(k))
    s = opt.init(eqx.filter(k, eqx.is_array))
    for _ in range(3):
        k, s = step(k, s)
    assert len(traces) == 1


def test_circuit_parameters_are_strongly_typed():
    # `simulate(c, c.nominal)` and `simulate(c, c.box(p))` must share one program.
    for circuit in (dae.TransistorAmplifier(), dae.SchmittTrigger(), dae.TestSetAmplifier()):
        nominal = jax.tree_util.tree_leaves(circuit.nominal)
        boxed = jax.tree_util.tree_leaves(circuit.box(jnp.full(circuit.box.q, 0.5)))
        assert not any(a.weak_type for a in nominal)
        assert not any(a.weak_type for a in boxed)
        assert {a.dtype for a in nominal} == {a.dtype for a in boxed}


def test_short_gp_pool_is_one_phase():
    # a single fit of 20 starts at n = 50 compiles one copy of the pool loop, not two
    X = jr.uniform(jr.key(1), (50, 2))
    y = jnp.sin(3 * X[:, 0])
    hlo = gp.fit.lower(kernels.SquaredExponential(), X, y, key=jr.key(2), num_restarts=20).as_text()
    body_loops = hlo.count("stablehlo.while")
    hlo_big = gp.fit.lower(
        kernels.SquaredExponential(), X, y, key=jr.key(2), num_restarts=20, batch_size=8
    ).as_text()
    # with a queue behind 8 slots the tail is compacted: one more copy of the loop
    assert hlo_big.count("stablehlo.while") > body_loops
