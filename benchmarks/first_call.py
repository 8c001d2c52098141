"""Time to first result: first-call (cold / warm persistent cache) and second-call times.

For every public entry point that the README tour and the docs pages use, a fresh Python
process imports jaxsci, builds the docs-sized problem (data generation is not timed) and
times

* **first call**: trace + lower + compile + run, as a user feels it on the first run;
* **second call**: the same entry point on new data of the same shapes (no recompile
  expected; a recompile would show here).

Each case runs twice: once with an empty persistent compilation cache (**cold**) and once
more in a new process with the cache the first process filled (**warm**). The cache is
switched on through `jaxsci.enable_compilation_cache(path)` where it exists, else through
`jax.config` directly (so the same script measures older jaxsci versions).

    python benchmarks/first_call.py                 # all cases, table on stdout
    python benchmarks/first_call.py --case gp.fit   # one case
    python benchmarks/first_call.py --json out.json # also write the figures

Import time of jax + jaxsci is reported separately (column `import`), not in the call
times. Before the last line, the end-to-end ratios (cold and warm cache): the geometric
mean over the cases of second-call / first-call time. The last line is `ratio: X`, the
geometric mean over the cases of cold-first-call / second-call (how much longer than
necessary a first run waits).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

from _timing import enable_cache  # benchmarks/, next to this script


def _block(x):
    import jax

    return jax.block_until_ready(jax.tree_util.tree_map(lambda a: a, x))


# --- the cases: each returns (data, call): data(i) builds data set i (not timed; i = 0 for
# the first call, 1 for the second), call(*data(i)) runs the entry point (timed) ---


def case_gp_fit():
    import jax.numpy as jnp
    import jax.random as jr

    from jaxsci import gp, kernels

    def data(i):
        X = jr.uniform(jr.key(10 * i), (50, 2))
        return X, jnp.sin(3 * X[:, 0]) * jnp.cos(2 * X[:, 1]), jr.key(10 * i + 1)

    def call(X, y, key):
        return gp.fit(kernels.SquaredExponential(), X, y, key=key, num_restarts=20)

    return data, call


def _finger_data(i, n=20):
    import jax
    import jax.random as jr

    from jaxsci import mechanics as mech

    Bs = mech.sample_finger_tensors(n, key=jr.key(100 + i), low=1.0, high=1.5)
    S = jax.vmap(lambda B: mech.cauchy_stress(mech.MooneyRivlin(), B))(Bs)
    return Bs, S


def case_fit_tbgp():
    import jax.random as jr

    from jaxsci import mechanics as mech

    def data(i):
        return (*_finger_data(i), jr.key(i))

    def call(Bs, S, key):
        return mech.fit_tbgp(Bs, S, key=key, num_restarts=20)

    return data, call


def case_fit_strain_energy_gp():
    import jax.random as jr

    from jaxsci import mechanics as mech

    def data(i):
        return (*_finger_data(i), jr.key(i))

    def call(Bs, S, key):
        return mech.fit_strain_energy_gp(Bs, S, key=key, num_restarts=20)

    return data, call


def case_dae_simulate():
    import jax
    import jax.numpy as jnp

    import jaxsci.dae as dae

    circuit = dae.TransistorAmplifier()
    ts = jnp.linspace(circuit.t0, circuit.t1, 500)

    def data(i):
        return (circuit.nominal if i == 0 else circuit.box(jax.random.uniform(jax.random.key(i), (circuit.box.q,))),)

    def call(params):
        return dae.simulate(circuit, params, ts).value

    return data, call


def case_dae_sweep():
    import jax
    import jax.numpy as jnp

    import jaxsci.dae as dae

    circuit = dae.TransistorAmplifier()
    ts = jnp.linspace(circuit.t0, circuit.t1, 500)

    def data(i):
        return (jax.random.uniform(jax.random.key(i), (8, circuit.box.q)),)

    def call(samples):
        return dae.sweep(circuit, samples, ts, progress=False).value

    return data, call


def case_rodas4_grad():
    import diffrax as dfx
    import jax
    import jax.numpy as jnp

    import jaxsci.dae as dae

    mass = jnp.diag(jnp.array([1.0, 0.0]))

    def f(t, y, a):
        return jnp.stack([y[1] * jnp.exp(-a * y[0]), y[1] - jnp.cos(t) * jnp.exp(jnp.sin(t))])

    def loss(a):
        sol = dfx.diffeqsolve(
            dae.MassMatrixTerm(f, mass), dae.Rodas4(), 0.0, 2.0, 1e-3, jnp.array([0.0, 1.0]),
            args=a, saveat=dfx.SaveAt(ts=jnp.linspace(0, 2, 21)),
            stepsize_controller=dfx.PIDController(rtol=1e-8, atol=1e-10))
        return jnp.sum(sol.ys[:, 0] ** 2)

    def data(i):
        return (jnp.asarray(1.0 + 0.1 * i),)

    return data, jax.grad(loss)


def case_train_fit():
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import jax.random as jr
    import optax

    from jaxsci.train import fit

    def loss_fn(model, args):
        x, y = args
        r = jax.vmap(model)(x) - y
        return jnp.mean(r**2), {"data": jnp.mean(r**2)}

    def data(i):
        x = jnp.linspace(-1, 1, 128)[:, None]
        y = jnp.sin(3 * x[:, 0] + i)
        return eqx.nn.MLP(1, "scalar", 20, 3, activation=jnp.tanh, key=jr.key(i)), x, y

    def call(net, x, y):
        return fit(loss_fn, net, optax.adam(1e-3), steps=500, args=(x, y))

    return data, call


def case_lsgd():
    import jax
    import jax.numpy as jnp
    import jax.random as jr
    import optax

    import jaxsci
    from jaxsci.train import LSTerm, lsgd

    x = jnp.linspace(0, 1, 256)[:, None]

    def data(i):
        terms = {"data": LSTerm(x, jnp.sin(2 * jnp.pi * x[:, 0] + i))}
        net = jaxsci.nn.ResNet(1, 32, 4, activation=jax.nn.relu, key=jr.key(i))
        return jaxsci.init.box(net, key=jr.key(i + 1), box=(0.0, 1.0)), terms

    def call(net, terms):
        return lsgd(net, terms, optax.adam(1e-3), num_steps=500)

    return data, call


def case_koopman_train():
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import optax

    from jaxsci.koopman import koopman_train

    x = jnp.linspace(-1, 1, 64)[:, None]

    def data(i):
        y = jnp.sin(3 * x[:, 0] + i)
        return eqx.nn.MLP(1, "scalar", 16, 2, activation=jnp.tanh, key=jax.random.key(i)), y

    def call(net, y):
        loss_fn = lambda m: jnp.mean((jax.vmap(m)(x) - y) ** 2)  # noqa: E731
        return koopman_train(loss_fn, optax.adam(3e-3), net, num_cycles=50, window=10, every=5,
                             target=1e-4, throw=False)

    return data, call


def case_init_statistics():
    import jax

    from jaxsci.diagnostics import init_statistics
    from jaxsci.init import NormalInit, UnitHypersphereInit

    sch = [UnitHypersphereInit(), NormalInit(with_bias=True)]

    def data(i):
        return (jax.random.key(i),)

    def call(key):
        return init_statistics(key, (1, 6, 4), sch, num=100_000)

    return data, call


CASES = {
    "gp.fit": case_gp_fit,
    "mechanics.fit_tbgp": case_fit_tbgp,
    "mechanics.fit_strain_energy_gp": case_fit_strain_energy_gp,
    "dae.simulate": case_dae_simulate,
    "dae.sweep": case_dae_sweep,
    "Rodas4 grad": case_rodas4_grad,
    "train.fit": case_train_fit,
    "train.lsgd": case_lsgd,
    "koopman.koopman_train": case_koopman_train,
    "diagnostics.init_statistics": case_init_statistics,
}


def _child(case, cache):
    t0 = time.perf_counter()
    import jax

    jax.config.update("jax_enable_x64", True)
    import jaxsci  # noqa: F401

    if cache:
        enable_cache(cache)
    t_import = time.perf_counter() - t0
    data, call = CASES[case]()
    d0, d1 = _block(data(0)), _block(data(1))
    t0 = time.perf_counter()
    _block(call(*d0))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    _block(call(*d1))
    second = time.perf_counter() - t0
    print(json.dumps({"import": t_import, "first": first, "second": second}))


def _run(case, cache):
    env = dict(os.environ)
    out = subprocess.run([sys.executable, __file__, "--child", case, "--cache", cache],
                         capture_output=True, text=True, env=env, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"{case} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", action="append", help="case name (repeatable); default: all")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--cache", default="", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        _child(a.child, a.cache)
        return
    import jax

    cases = a.case or list(CASES)
    print(f"python {sys.version.split()[0]}, jax {jax.__version__}, load {os.getloadavg()[0]:.2f}")
    print(f"| entry point | import (s) | first call, cold cache (s) | first call, warm cache (s) | second call (s) |")
    print("|---|---|---|---|---|")
    rows = {}
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="jaxsci-cache-") as d:
            cold = _run(case, d)
            warm = _run(case, d)
        rows[case] = {"import": cold["import"], "cold": cold["first"], "warm": warm["first"],
                      "second": min(cold["second"], warm["second"])}
        r = rows[case]
        print(f"| `{case}` | {r['import']:.2f} | {r['cold']:.2f} | {r['warm']:.2f} | {r['second']:.3f} |",
              flush=True)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    g = math.exp(sum(math.log(r["cold"] / max(r["second"], 1e-6)) for r in rows.values()) / len(rows))
    print(f"load after: {os.getloadavg()[0]:.2f}")
    # No reference tool here: the end-to-end ratios compare each entry point with itself,
    # run time (second call) / end-to-end first call, geometric mean over the cases
    # (1 = compile costs nothing; the cold figure is 1 / the last line's ratio).
    for phase in ("cold", "warm"):
        e = math.exp(sum(math.log(max(r["second"], 1e-6) / r[phase]) for r in rows.values())
                     / len(rows))
        print(f"end-to-end ratio ({phase} cache): {e:.3f}")
    print(f"ratio: {g:.1f}")


if __name__ == "__main__":
    main()
