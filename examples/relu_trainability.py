"""Trainability of ReLU networks and data-dependent initialisation (Shin & Karniadakis 2020).

Reproduces, at a stated scale:

* Fig. E1: active-neuron distributions pi_1, pi_2, pi_3 of the (1, 6, 4, 2, ...) network on
  B_1 over 10^6 initialisations (three schemes), empirical against Lemma 5 / Lemma 6 theory;
* section 1: the width-2 failure probability >= 0.43;
* Figs. 4-5: empirical training success against Theorem 1's trainability for f1 = |x| (m = 2)
  and f2 (m = 4) on [-sqrt 3, sqrt 3], He initialisation with bias, >= 200 runs per width;
* Figs. 2-3: sin(4 pi x) + sin(6 pi x), width 500, He with / without bias and the
  data-dependent initialisation (eq. 5), Adam, dead neurons after training;
* Fig. 6: f3, f4 on [-1, 1]^2, width 100, 25 points, gradient descent with momentum, 10 runs.

    python examples/relu_trainability.py [--quick] [--out DIR] [--runs 200] [--num 1000000]

Training uses optax directly; all runs of one configuration are vmapped and the epochs are a
`lax.scan` inside one jit.
"""

import argparse
import math
import pathlib
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import matplotlib
import numpy as np
import optax
from tqdm.auto import tqdm

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from jaxsci.diagnostics import (  # noqa: E402
    active_distribution,
    born_dead_probability,
    first_layer_active_distribution,
    init_statistics,
    second_layer_transition,
    trainability_shallow,
)
from jaxsci.init import (  # noqa: E402
    NormalInit,
    UnitHypersphereInit,
    data_dependent_init,
    relu_init,
)

UH, NI = UnitHypersphereInit, NormalInit
SQ3 = math.sqrt(3.0)


# --------------------------------------------------------------------------- Fig. E1
def fig_e1(num, out):
    widths = (1, 6, 4, 2)
    cases = {
        "(a) unit hypersphere with bias": [UH(with_bias=True)] * 3,
        "(b) unit hypersphere without bias": [UH()] * 3,
        "(c) UH without bias, then normal with bias": [UH(), NI(with_bias=True), NI(with_bias=True)],
    }
    rows = []
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, (name, sch) in zip(axes, cases.items()):
        t0 = time.perf_counter()
        c = init_statistics(jr.key(0), widths, sch, num=num, progress=True)
        dt = time.perf_counter() - t0
        pi1_t = np.asarray(first_layer_active_distribution(6, 1, 1.0, with_bias=sch[0].with_bias))
        theory = {1: pi1_t}
        if not sch[0].with_bias:
            theory[2] = pi1_t @ np.asarray(second_layer_transition(sch[0], sch[1], 6, 4, 1.0))
        for t, n in zip((1, 2, 3), widths[1:]):
            pi, se = active_distribution(c[:, t - 1, 0], n)
            ax.plot(np.arange(n + 1), pi, "o-", label=f"empirical pi_{t}")
            if t in theory:
                z = np.max(np.abs(pi - theory[t]) / np.maximum(se, 1e-300) * (se > 0))
                ax.plot(np.arange(n + 1), theory[t], "k--", lw=1)
                rows.append((f"E1 {name[:3]} pi_{t}", f"max |emp-theory|/SE = {z:.2f}"))
        p_any_dead = float(np.mean(c[:, 0, 0] < 6))
        rows.append((f"E1 {name[:3]} Pr(layer-1 neuron dead)", f"{p_any_dead:.4f}"))
        rows.append((f"E1 {name[:3]} time ({num} inits)", f"{dt:.1f} s"))
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("active neurons")
        ax.legend(fontsize=8)
    fig.savefig(out / "fig_e1_active_distributions.png", dpi=120)
    plt.close(fig)
    return rows


# --------------------------------------------------------------------------- training
def _rmse(model, x, y):
    return jnp.sqrt(jnp.mean((jax.vmap(model)(x) - y) ** 2))


def train_many(models, x, y, opt, steps, record):
    """Full-batch training of a vmapped stack of models; returns (models, rmse history)."""
    params, static = eqx.partition(models, eqx.is_array)

    def loss(p):
        return jnp.mean((jax.vmap(eqx.combine(p, static))(x) - y) ** 2)

    @jax.jit
    def run(params):
        def one(p):
            state = opt.init(p)

            def block(carry, _):
                def step(carry, _):
                    p, s = carry
                    g = jax.grad(loss)(p)
                    u, s = opt.update(g, s, p)
                    return (optax.apply_updates(p, u), s), None

                carry, _ = jax.lax.scan(step, carry, None, length=record)
                return carry, jnp.sqrt(loss(carry[0]))

            (p, _), hist = jax.lax.scan(block, (p, state), None, length=steps // record)
            return p, hist

        return jax.vmap(one)(params)

    params, hist = run(params)
    return eqx.combine(params, static), np.asarray(hist)


def _mlp(d, width, key):
    return eqx.nn.MLP(d, "scalar", width, 1, activation=jax.nn.relu, key=key)


def _init_many(d, width, init, keys):
    return eqx.filter_vmap(lambda k: init(_mlp(d, width, jr.key(0)), k))(keys)


def _dead_first_layer(models, grid):
    w, b = models.layers[0].weight, models.layers[0].bias  # (R, n, d), (R, n)
    pre = jnp.einsum("rnd,kd->rkn", w, grid) + b[:, None, :]
    return np.asarray(jnp.all(pre <= 0, axis=1).sum(-1))


def f1(x):
    return jnp.abs(x)


def f2(x):
    c = SQ3 / (SQ3 - 1)
    return jnp.abs(x) - c * jax.nn.relu(x - 1) - c * jax.nn.relu(-x - 1)


def figs_4_5(runs, steps, n_train, out):
    rows = []
    he_b = NI(with_bias=True)
    init = lambda m, k: relu_init(m, key=k, schemes=he_b)  # noqa: E731
    xtr = jr.uniform(jr.key(1), (n_train,), minval=-SQ3, maxval=SQ3)
    xte = jr.uniform(jr.key(2), (1000,), minval=-SQ3, maxval=SQ3)
    opt = optax.adam(optax.cosine_decay_schedule(1e-2, steps, alpha=1e-2))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, (name, f, m, widths) in zip(
        axes, [("f1=|x|", f1, 2, [2, 3, 5, 10]), ("f2", f2, 4, [4, 5, 8, 14])]
    ):
        emp, theo = [], []
        for w in tqdm(widths, desc=f"Fig 4/5 {name}"):
            models = _init_many(1, w, init, jr.split(jr.key(w), runs))
            models, _ = train_many(models, xtr[:, None], f(xtr), opt, steps, steps // 10)
            err = np.asarray(
                eqx.filter_vmap(lambda mm: _rmse(mm, xte[:, None], f(xte)))(models)
            )
            s = float(np.mean(err < 1e-2))
            t = float(trainability_shallow(w, m, 1, SQ3))
            se = math.sqrt(max(s * (1 - s), 1e-12) / runs)
            emp.append(s)
            theo.append(t)
            ok = s <= t + 3 * se
            rows.append((f"{name} width {w}", f"success {s:.3f} <= trainability {t:.3f} (+3SE): {ok}"))
        ax.plot(widths, theo, "k-o", label="trainability (Thm 1)")
        ax.plot(widths, emp, "r-s", label=f"empirical success ({runs} runs)")
        ax.set_xlabel("width n")
        ax.set_title(name)
        ax.legend()
    fig.savefig(out / "fig_4_5_trainability.png", dpi=120)
    plt.close(fig)
    return rows


def figs_2_3(steps, out):
    x = jnp.linspace(-1.0, 1.0, 100)
    y = jnp.sin(4 * jnp.pi * x) + jnp.sin(6 * jnp.pi * x)
    width = 500
    inits = {
        "He with bias": lambda m, k: relu_init(m, key=k, schemes=NI(with_bias=True)),
        "He without bias": lambda m, k: relu_init(m, key=k, schemes=NI()),
        "data-dependent": lambda m, k: data_dependent_init(m, x[:, None], key=k),
    }
    grid = jnp.linspace(-1, 1, 2001)[:, None]
    rows = []
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4))
    a1.plot(x, y, "k", lw=2, label="target")
    for name, init in inits.items():
        models = _init_many(1, width, init, jr.split(jr.key(3), 1))
        dead0 = _dead_first_layer(models, grid)[0]
        models, hist = train_many(
            models, x[:, None], y, optax.adam(1e-3), steps, max(steps // 100, 1)
        )
        dead = _dead_first_layer(models, grid)[0]
        one = jax.tree_util.tree_map(lambda a: a[0] if eqx.is_array(a) else a, models)
        a1.plot(x, jax.vmap(one)(x[:, None]), label=name)
        a2.semilogy(np.arange(1, hist.shape[1] + 1) * (steps // hist.shape[1]), hist[0], label=name)
        rows.append((f"Fig 2-3 {name}", f"final RMSE {hist[0, -1]:.3e}, dead neurons {dead0} -> {dead}"))
    a1.legend()
    a2.set_xlabel("epoch")
    a2.set_ylabel("training RMSE")
    a2.legend()
    fig.savefig(out / "fig_2_3_sines.png", dpi=120)
    plt.close(fig)
    return rows


def fig_6(steps, runs, out):
    def f3(x):
        return jnp.sin(jnp.pi * x[0]) * jnp.cos(jnp.pi * x[1]) * jnp.exp(-x[0] ** 2 - x[1] ** 2)

    def f4(x):
        return jnp.sin(jnp.pi * (x[0] - x[1])) * jnp.exp(x[0] + x[1])

    g = jnp.linspace(-1, 1, 81)
    grid = jnp.stack(jnp.meshgrid(g, g), -1).reshape(-1, 2)
    x = jr.uniform(jr.key(4), (25, 2), minval=-1, maxval=1)
    inits = {
        "He with bias": lambda m, k: relu_init(
            m, key=k, schemes=[NI(with_bias=True), NI(with_bias=True)]
        ),
        "He without bias": lambda m, k: relu_init(m, key=k, schemes=NI()),
        "data-dependent": lambda m, k: data_dependent_init(m, x, key=k),
    }
    opt = optax.sgd(0.005, momentum=0.9)
    rows = []
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, (fname, f) in zip(axes, [("f3", f3), ("f4", f4)]):
        y = jax.vmap(f)(x)
        for name, init in inits.items():
            models = _init_many(2, 100, init, jr.split(jr.key(5), runs))
            models, hist = train_many(models, x, y, opt, steps, max(steps // 100, 1))
            dead = _dead_first_layer(models, grid)
            ep = np.arange(1, hist.shape[1] + 1) * (steps // hist.shape[1])
            mu, sd = hist.mean(0), hist.std(0)
            ax.semilogy(ep, mu, label=name)
            ax.fill_between(ep, np.maximum(mu - sd, 1e-8), mu + sd, alpha=0.2)
            rows.append(
                (f"Fig 6 {fname} {name}", f"RMSE {mu[-1]:.2e} +- {sd[-1]:.1e}, mean dead {dead.mean():.1f}")
            )
        ax.set_title(fname)
        ax.set_xlabel("epoch")
        ax.legend()
    fig.savefig(out / "fig_6_data_dependent.png", dpi=120)
    plt.close(fig)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced sizes (well under a minute)")
    ap.add_argument("--out", default="jaxsci-out/relu_trainability")
    ap.add_argument("--num", type=int, default=10**6, help="initialisations for Fig. E1")
    ap.add_argument("--runs", type=int, default=200, help="training runs per width (Figs 4-5)")
    ap.add_argument("--steps45", type=int, default=3000, help="Adam epochs, Figs 4-5")
    ap.add_argument("--ntrain45", type=int, default=600, help="training points, Figs 4-5")
    ap.add_argument("--steps23", type=int, default=15000, help="Adam epochs, Figs 2-3")
    ap.add_argument("--steps6", type=int, default=20000, help="momentum-GD epochs, Fig 6")
    ap.add_argument("--only", nargs="*", default=None, choices=["e1", "45", "23", "6"])
    args = ap.parse_args(argv)
    from jaxsci import enable_compilation_cache

    enable_compilation_cache()  # opt-in persistent XLA cache: re-runs skip most compiles
    jax.config.update("jax_enable_x64", True)
    if args.quick:
        args.num, args.runs, args.steps45, args.steps23, args.steps6 = 20000, 16, 300, 300, 300
        args.ntrain45 = 100
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    only = set(args.only or ["e1", "45", "23", "6"])
    p = float(born_dead_probability(1, 1.0))
    rows = [
        ("p_hat_1(1) (Thm 1)", f"{p:.6f}"),
        ("width-2 failure prob (sec. 1, >= 0.43)", f"{1 - float(trainability_shallow(2, 2, 1, 1.0)):.4f}"),
    ]
    if "e1" in only:
        rows += fig_e1(args.num, out)
    if "45" in only:
        rows += figs_4_5(args.runs, args.steps45, args.ntrain45, out)
    if "23" in only:
        rows += figs_2_3(args.steps23, out)
    if "6" in only:
        rows += fig_6(args.steps6, 10 if not args.quick else 3, out)
    w = max(len(r[0]) for r in rows)
    print(f"\n{'quantity':<{w}}  value")
    for k, v in rows:
        print(f"{k:<{w}}  {v}")
    print(f"plots in {out.resolve()}/")
    return rows


if __name__ == "__main__":
    main()
