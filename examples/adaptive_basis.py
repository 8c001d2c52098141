"""Adaptive-basis networks, Box initialisation, LSGD and POUnets (Gulian et al.).

Reproduces, at a configurable scale:

  (i)   sin(2 pi x) on 256 points, ResNet width 32: mean +- std of log10 loss over 16
        vmapped seeds for joint gradient descent vs LSGD (same optimiser, same steps);
  (ii)  Box vs He vs Glorot ResNets of depth 8..128: images of the unit square under the
        hidden layers (width 2), numerical rank / condition number of the width-32 basis,
        and LSGD training loss on (i);
  (iii) the advection PINN of eq. 14: a = 1 (width 32, depth 1; exact solution in range)
        GD vs LSGD, and a = x (eq. 15) with eps = W^(-1/2), error against width;
  (iv)  POUnets: RBF partitions on the cross-shaped sine (N_part x degree table) and
        ResNet-softmax partitions on TRI(x; p) / TRI^2 against ResNet baselines.

    python examples/adaptive_basis.py [--quick] [--out DIR] [--parts i ii iii iv]

Writes PNG plots to --out and prints a results table per part.
"""

import argparse
import pathlib
import time

import jax

jax.config.update("jax_enable_x64", True)

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from tqdm import tqdm  # noqa: E402

import jaxsci  # noqa: E402
from jaxsci.train import (  # noqa: E402
    LinearCombination,
    LSTerm,
    PartialDerivative,
    joint_gd,
    lsgd,
    two_phase_lsgd,
)

INITS = {
    "Glorot": lambda m, k: jaxsci.init.glorot(m, key=k),
    "He": lambda m, k: jaxsci.init.he(m, key=k),
    "Box": lambda m, k: jaxsci.init.box(m, key=k),
}


def _table(title, header, rows):
    print(f"\n{title}")
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(f"{h:<{w}}" for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(f"{str(v):<{w}}" for v, w in zip(r, widths)))


def sin_terms(n=256):
    x = jnp.linspace(0.0, 1.0, n)[:, None]
    return {"data": LSTerm(x, jnp.sin(2 * jnp.pi * x[:, 0]))}


def _batched_resnets(n_seeds, width, depth, init, key, in_size=1):
    def make(k):
        m = jaxsci.nn.ResNet(in_size, width, depth, key=k)
        return INITS[init](m, jr.fold_in(k, 1))

    return eqx.filter_vmap(make)(jr.split(key, n_seeds))


# ----------------------------------------------------------------------------- part (i)
I_OPTIMISERS = {  # name -> (factory of the number of steps, fixed rate?)
    "GD 1e-2": (lambda n: optax.sgd(1e-2), True),
    "Adam 1e-3": (lambda n: optax.adam(1e-3), True),
    "Adam 1e-2": (lambda n: optax.adam(1e-2), True),
    "Adam cos 1e-2": (lambda n: optax.adam(optax.cosine_decay_schedule(1e-2, n, 1e-2)), False),
}


def part_i(out, quick, steps=None, optimisers=None):
    """Joint training (optimiser X on all parameters) vs LSGD (optimiser X on the hidden
    parameters, head by least squares), same X, same number of gradient steps, same seeds.
    A fixed-rate optimiser's loss after n steps of a longer run equals that of an n-step
    run, so one run per (optimiser, method) gives the ratio at every checkpoint; the
    cosine-decayed Adam (rate 1e-2 -> 1e-4 over the run) is reported at the end only."""
    n_seeds, depth = (4, 4) if quick else (16, 4)
    steps = (300 if quick else 1000) if steps is None else steps
    optimisers = list(I_OPTIMISERS) if optimisers is None else optimisers
    checkpoints = [n for n in (100, 300, 1000, 3000, 10000) if n < steps] + [steps]
    terms = sin_terms()
    models = _batched_resnets(n_seeds, 32, depth, "Box", jr.key(0))
    rows, curves = [], {}
    for opt_name in optimisers:
        opt = I_OPTIMISERS[opt_name][0](steps)
        for name, fn in [("joint", joint_gd), ("LSGD", lsgd)]:
            run = eqx.filter_jit(eqx.filter_vmap(
                lambda m, fn=fn, opt=opt: fn(m, terms, opt, num_steps=steps, throw=False)
            ))
            t0 = time.perf_counter()
            sol = run(models)
            hist = np.log10(np.asarray(sol.history["loss"]))
            dt = time.perf_counter() - t0
            curves[(opt_name, name)] = hist
            rows.append((opt_name, name, steps, f"{hist[:, -1].mean():.2f} +- "
                         f"{hist[:, -1].std():.2f}", f"{np.mean(10 ** hist[:, -1]):.2e}",
                         f"{dt:.1f}"))
    ratios = []
    for opt_name in optimisers:
        gd, ls = curves[(opt_name, "joint")], curves[(opt_name, "LSGD")]
        # a decaying schedule's loss after n < steps is not that of an n-step run
        for n in checkpoints if I_OPTIMISERS[opt_name][1] else [steps]:
            ratios.append((opt_name, n, f"{gd[:, n].mean():.2f} +- {gd[:, n].std():.2f}",
                           f"{ls[:, n].mean():.2f} +- {ls[:, n].std():.2f}",
                           f"{10 ** (gd[:, n].mean() - ls[:, n].mean()):.1f}",
                           f"{np.mean(10 ** gd[:, n]) / np.mean(10 ** ls[:, n]):.1f}"))
    _table(f"(i) sin(2 pi x), 256 pts, ResNet width 32 depth {depth}, Box init, {n_seeds} seeds",
           ["optimiser X", "method", "steps", "log10 final loss", "mean loss", "wall s"], rows)
    _table("(i) joint-X / LSGD-X final-loss ratio after n gradient steps (same X, same seeds)",
           ["optimiser X", "n", "joint log10 loss", "LSGD log10 loss",
            "10^(mean log10 gap)", "ratio of mean losses"], ratios)
    fig, axes = plt.subplots(1, len(optimisers), figsize=(5 * len(optimisers), 4))
    for ax, opt_name in zip(np.atleast_1d(axes), optimisers):
        for name, c in [("joint", "C0"), ("LSGD", "C3")]:
            h = curves[(opt_name, name)]
            mu, sd = h.mean(0), h.std(0)
            it = np.arange(h.shape[1])
            ax.plot(it, mu, c, label=f"{name} ({opt_name})")
            ax.fill_between(it, mu - sd, mu + sd, color=c, alpha=0.25)
        ax.set(xlabel="gradient step", ylabel="log10 loss", title=opt_name)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out / "i_sin_gd_vs_lsgd.png", dpi=120)
    plt.close(fig)
    return ratios


# ---------------------------------------------------------------------------- part (ii)
def _rank_cond(basis_values):
    s = np.linalg.svd(np.asarray(basis_values), compute_uv=False)
    tol = s[0] * max(basis_values.shape) * np.finfo(np.float64).eps
    return int(np.sum(s > tol)), float(s[0] / s[-1]) if s[-1] > 0 else np.inf


def part_ii(out, quick, train_steps=None):
    depths = (8, 16, 32) if quick else (8, 16, 32, 64, 128)
    n_seeds = 2 if quick else 4
    steps = (100 if quick else 300) if train_steps is None else train_steps
    g = jnp.linspace(0, 1, 25)
    square = jnp.stack(jnp.meshgrid(g, g), -1).reshape(-1, 2)
    terms = sin_terms()
    opt = optax.adam(1e-3)
    ranks = {}
    fig, axes = plt.subplots(3, len(depths), figsize=(3 * len(depths), 9))
    # Pass 1 (cheap): images of the unit square and rank / conditioning of the basis.
    for j, depth in enumerate(tqdm(depths, desc="(ii) ranks")):
        for i, (name, init) in enumerate(INITS.items()):
            key = jr.key(depth)
            m2 = init(jaxsci.nn.ResNet(2, 2, depth, key=key), jr.fold_in(key, 1))
            img = np.asarray(jax.jit(jax.vmap(m2.basis))(square))
            ax = axes[i, j]
            ax.scatter(img[:, 0], img[:, 1], s=2, c=np.asarray(square[:, 0]), cmap="viridis")
            ax.set_title(f"{name}, L={depth}", fontsize=9)
            m32 = init(jaxsci.nn.ResNet(2, 32, depth, key=key), jr.fold_in(key, 1))
            ranks[(depth, name)] = _rank_cond(jax.jit(jax.vmap(m32.basis))(square))
            print(f"  depth {depth:>3} {name:<6} rank {ranks[(depth, name)][0]:>2}/32 "
                  f"cond {ranks[(depth, name)][1]:.2e}", flush=True)
    fig.tight_layout()
    fig.savefig(out / "ii_unit_square_images.png", dpi=110)
    plt.close(fig)
    # Pass 2 (expensive): LSGD training loss on (i) for each depth and initialisation.
    rows = []
    for depth in tqdm(depths, desc="(ii) training"):
        for name in INITS:
            loss = ""
            if steps > 0:
                models = _batched_resnets(n_seeds, 32, depth, name, jr.key(depth))
                run = eqx.filter_jit(eqx.filter_vmap(
                    lambda m: lsgd(m, terms, opt, num_steps=steps, throw=False).stats["loss"]))
                losses = np.log10(np.asarray(run(models)))
                loss = f"{losses.mean():.2f} +- {losses.std():.2f}"
                print(f"  depth {depth:>3} {name:<6} log10 loss {loss}", flush=True)
            rank, cond = ranks[(depth, name)]
            rows.append((depth, name, rank, f"{cond:.2e}", loss))
    _table(f"(ii) ResNet width 32: rank of the basis on a 25x25 grid of [0,1]^2 (of 32), and "
           f"log10 LSGD loss on (i) after {steps} Adam steps ({n_seeds} seeds)",
           ["depth", "init", "rank", "cond", "log10 loss"], rows)
    return rows


# --------------------------------------------------------------------------- part (iii)
def _hat(x):
    # u0: a hat supported in [0.1, 0.5], zero at x <= 0 (Dirichlet data u(0, t) = 0)
    return jax.nn.relu(x - 0.1) - 2 * jax.nn.relu(x - 0.3) + jax.nn.relu(x - 0.5)


def _bump(x):
    return jnp.exp(-(((x - 0.5) / 0.15) ** 2))


def advection_terms(n, velocity, u0, eps):
    g = jnp.linspace(0, 1, n)
    xt = jnp.stack(jnp.meshgrid(g, g), -1).reshape(-1, 2)  # columns (x, t)
    op = LinearCombination((PartialDerivative(1), PartialDerivative(0)), (1.0, velocity))
    return {
        "pde": LSTerm(xt, jnp.zeros(n * n), op, weight=eps),
        "ic": LSTerm(jnp.stack([g, 0 * g], 1), u0(g)),
        "bc": LSTerm(jnp.stack([0 * g, g], 1), jnp.zeros(n)),
    }


def part_iii(out, quick):
    n = 21 if quick else 41
    steps = 300 if quick else 5000
    rows = []
    # a = 1: depth-1 ReLU network of width 32, Box initialisation, lr 0.005
    terms = advection_terms(n, 1.0, _hat, 1.0)
    net = jaxsci.init.box(jaxsci.nn.MLP(2, 32, 1, key=jr.key(0)), key=jr.key(1))
    opt = optax.adam(5e-3)
    sols = {name: fn(net, terms, opt, num_steps=steps, throw=False)
            for name, fn in [("GD", joint_gd), ("LSGD", lsgd)]}
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for name, sol in sols.items():
        axes[0].semilogy(np.asarray(sol.history["loss"]), label=name)
        rows.append(("a=1", name, 32, steps, f"{float(sol.stats['loss']):.2e}"))
    axes[0].set(xlabel="step", ylabel="loss", title="advection a = 1")
    axes[0].legend()
    g = jnp.linspace(0, 1, 101)
    for name, sol in sols.items():
        axes[1].plot(g, jax.vmap(sol.value)(jnp.stack([g, 0.3 + 0 * g], 1)), label=name)
    axes[1].plot(g, _hat(g - 0.3), "k--", label="exact")
    axes[1].set(title="u(x, t=0.3)", xlabel="x")
    axes[1].legend()
    # a = x: eps = W^(-1/2); error against width (tanh, LSGD)
    widths = (8, 16, 32) if quick else (8, 16, 32, 64, 128)
    errs = []
    gx = jnp.stack(jnp.meshgrid(g, g), -1).reshape(-1, 2)
    exact = _bump(gx[:, 0] * jnp.exp(-gx[:, 1]))
    for w in tqdm(widths, desc="(iii) widths"):
        terms = advection_terms(n, lambda p: p[0], _bump, w ** -0.5)
        net = jaxsci.init.box(jaxsci.nn.MLP(2, w, 1, activation=jnp.tanh, key=jr.key(w)),
                              key=jr.key(w + 1))
        sol = lsgd(net, terms, optax.adam(1e-2), num_steps=steps, throw=False)
        err = float(jnp.sqrt(jnp.mean((jax.vmap(sol.value)(gx) - exact) ** 2)))
        errs.append(err)
        rows.append(("a=x", "LSGD tanh", w, steps, f"{float(sol.stats['loss']):.2e}",
                     f"{err:.2e}"))
    axes[2].loglog(widths, errs, "o-")
    axes[2].set(xlabel="width W", ylabel="RMS error", title="advection a = x, eps = W^-1/2")
    fig.tight_layout()
    fig.savefig(out / "iii_advection.png", dpi=120)
    plt.close(fig)
    rows = [r + ("",) * (6 - len(r)) for r in rows]
    _table("(iii) advection PINN (eq. 14)", ["case", "method", "width", "steps", "loss",
                                             "RMS error"], rows)
    return rows


# ---------------------------------------------------------------------------- part (iv)
def tri(x, p):
    """Eq. 23: TRI(x; p) = 2 |p x - floor(p x + 1/2)| - 1."""
    return 2 * jnp.abs(p * x - jnp.floor(p * x + 0.5)) - 1


def part_iv(out, quick, tri_p=None, cross=True, tri2=True, tri_l2=1e-3, l2_scaled=True,
            baselines=True, lr_scaled=True, tri_post=None):
    rows_cross, rows_tri = [], []
    # cross-shaped sine on [-1, 1]^2, 501 samples per axis, RBF partitions
    s = jnp.linspace(-1, 1, 101 if quick else 501)
    xs = jnp.concatenate([jnp.stack([s, 0 * s], 1), jnp.stack([0 * s, s], 1)])
    ys = jnp.concatenate([jnp.sin(2 * jnp.pi * s), jnp.sin(2 * jnp.pi * s)])
    cross_terms = {"data": LSTerm(xs, ys)}
    parts_list = ((1, 4, 16) if quick else (1, 2, 4, 8, 16)) if cross else ()
    degrees = (0, 2, 4) if quick else (0, 1, 2, 3, 4)
    steps_cross = 200 if quick else 2000
    table = np.zeros((len(parts_list), len(degrees)))
    for i, npart in enumerate(tqdm(parts_list, desc="(iv) cross sine", disable=not cross)):
        for j, m in enumerate(degrees):
            part = jaxsci.nn.RBFPartition(npart, 2, box=(-1.0, 1.0), key=jr.key(npart))
            net = jaxsci.nn.POUNet(part, jaxsci.nn.LegendreSpace(2, m, box=(-1.0, 1.0)),
                                   key=jr.key(0))
            sol = lsgd(net, cross_terms, optax.adam(1e-2), num_steps=steps_cross, throw=False)
            table[i, j] = np.sqrt(float(sol.stats["loss"]))
    for i, npart in enumerate(parts_list):
        rows_cross.append((npart, *[f"{v:.1e}" for v in table[i]]))
    if cross:
        _table("(iv-a) cross-shaped sine, RBF-POUnet RMSE (rows N_part, columns degree)",
               ["N_part", *[f"m={m}" for m in degrees]], rows_cross)
    # TRI / TRI^2: N_part = 2^p pieces (frequency 2^(p-1)), width 4 * 2^p, depth 8
    ps = tri_p or ((1, 2, 3) if quick else (1, 2, 3, 4, 5))
    n_pts = 1000
    x = jnp.linspace(0, 1, n_pts)[:, None]
    pre, post = (300, 300) if quick else (2000, 3000)
    post = post if tri_post is None else tri_post
    targets = (("TRI", 1), ("TRI^2", 2)) if tri2 else (("TRI", 1),)
    fig, axes = plt.subplots(len(targets), len(ps), figsize=(3.2 * len(ps), 3 * len(targets)))
    axes = np.asarray(axes).reshape(len(targets), len(ps))
    for j, p in enumerate(tqdm(ps, desc="(iv) TRI")):
        for i, (fname, m) in enumerate(targets):
            y = tri(x[:, 0], 2 ** (p - 1))
            y = y if m == 1 else y**2
            terms = {"data": LSTerm(x, y)}
            width, npart = 4 * 2**p, 2**p
            part = jaxsci.nn.ResNetPartition(npart, 1, width, 8, key=jr.key(p))
            part = eqx.tree_at(lambda q: q.resnet,
                               part, jaxsci.init.box(part.resnet, key=jr.key(p + 1)))
            pou = jaxsci.nn.POUNet(part, jaxsci.nn.LegendreSpace(1, m), key=jr.key(2))
            # Phase 1 with an l2 penalty against collapsing partitions; cosine-decayed Adam
            # lets phase 2 settle (a constant rate leaves the kinks oscillating ~1e-4).
            opt = optax.adam(optax.cosine_decay_schedule(1e-2, max(pre, post), 1e-3))
            # Rate ~ 1/width for the partition: at width 128 the first Adam steps at 1e-2
            # saturate the softmax into one part, whose rivals then get no gradient.
            lr_p = 1e-2 * 2.0 ** (-(p - 1)) if lr_scaled else 1e-2
            opt_p = optax.adam(optax.cosine_decay_schedule(lr_p, max(pre, post), 1e-3))
            # The penalty must stay small against the loss at the localised solution, whose
            # global-Legendre coefficients have |c|^2 ~ q^3 for TRI(x; q), q = 2^(p-1).
            lam = tri_l2 * 8.0 ** (-(p - 1)) if l2_scaled else tri_l2
            sol_p = two_phase_lsgd(pou, terms, opt_p, num_pre_steps=pre, num_steps=post,
                                   l2=lam, rho=0.5, n_stag=50, throw=False)
            r_p = np.sqrt(float(sol_p.stats["loss"]))
            r_b = r_s = np.nan
            if baselines:
                base = jaxsci.init.box(jaxsci.nn.ResNet(1, width, 8, key=jr.key(p)),
                                       key=jr.key(p + 3))
                sol_b = lsgd(base, terms, opt, num_steps=pre + post, throw=False)
                # "standard training" baseline: He init, joint Adam on all parameters
                std = jaxsci.init.he(jaxsci.nn.ResNet(1, width, 8, key=jr.key(p)),
                                     key=jr.key(p + 3))
                sol_s = joint_gd(std, terms, opt, num_steps=pre + post, throw=False)
                r_b = np.sqrt(float(sol_b.stats["loss"]))
                r_s = np.sqrt(float(sol_s.stats["loss"]))
            rows_tri.append((fname, p, 2**p, width, f"{r_p:.2e}", f"{r_b:.2e}", f"{r_s:.2e}"))
            print(f"  {fname} p={p} (lambda {lam:.1e}, rate {lr_p:.1e}): POUnet RMSE "
                  f"{r_p:.2e}, ResNet (Box+LSGD) RMSE {r_b:.2e}, ResNet (He+Adam) RMSE "
                  f"{r_s:.2e}", flush=True)
            ax = axes[i, j]
            ax.plot(x[:, 0], y, "k", lw=1, label="target")
            if baselines:
                ax.plot(x[:, 0], jax.vmap(sol_b.value)(x), color="limegreen", lw=1,
                        label="ResNet")
            ax.plot(x[:, 0], jax.vmap(sol_p.value)(x), color="orange", lw=1, ls="--",
                    label="POUnet")
            ax.set_title(f"{fname}, p={p}", fontsize=9)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "iv_tri_pounet_vs_resnet.png", dpi=120)
    plt.close(fig)
    _table(f"(iv-b) TRI / TRI^2 RMSE on {n_pts} points: POUnet (ResNet-softmax partition, "
           f"two-phase LSGD {pre}+{post} Adam steps) vs ResNet baseline (depth 8, LSGD "
           f"{pre + post} steps)",
           ["target", "p", "N_part", "width", "POUnet RMSE", "ResNet Box+LSGD RMSE",
            "ResNet He+Adam RMSE"], rows_tri)
    if not cross:
        return rows_cross, rows_tri
    fig, ax = plt.subplots(figsize=(5, 4))
    for i, npart in enumerate(parts_list):
        ax.semilogy(degrees, table[i], "o-", label=f"N_part={npart}")
    ax.set(xlabel="polynomial degree m", ylabel="RMSE", title="cross-shaped sine, RBF-POUnet")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "iv_cross_sine.png", dpi=120)
    plt.close(fig)
    return rows_cross, rows_tri


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes (< 1 min idle)")
    parser.add_argument("--out", default="jaxsci-out/adaptive_basis")
    parser.add_argument("--parts", nargs="*", default=["i", "ii", "iii", "iv"],
                        choices=["i", "ii", "iii", "iv"])
    parser.add_argument("--tri-p", nargs="*", type=int, default=None,
                        help="(iv) frequencies p to run (default 1..5, quick 1..3)")
    parser.add_argument("--tri-l2", type=float, default=1e-3,
                        help="(iv) phase-1 regulariser lambda of the TRI POUnets")
    parser.add_argument("--tri-l2-fixed", action="store_true",
                        help="(iv) lambda = tri_l2 for every p (default: tri_l2 * 8^-(p-1), "
                             "since the localised solution's |c|^2 grows ~q^3)")
    parser.add_argument("--tri-lr-fixed", action="store_true",
                        help="(iv) POUnet Adam rate 1e-2 for every p (default 1e-2 * 2^-(p-1))")
    parser.add_argument("--tri-post", type=int, default=None,
                        help="(iv) phase-2 steps of the TRI POUnets (default 3000, quick 300)")
    parser.add_argument("--tri-no-baselines", action="store_true",
                        help="(iv) POUnets only (skip the ResNet baselines)")
    parser.add_argument("--no-cross", action="store_true", help="(iv) skip the cross sine")
    parser.add_argument("--no-tri2", action="store_true", help="(iv) skip TRI^2")
    parser.add_argument("--i-steps", type=int, default=None,
                        help="(i) gradient steps (default 1000, quick 300)")
    parser.add_argument("--i-optimisers", nargs="*", default=None, choices=list(I_OPTIMISERS),
                        help="(i) optimisers X (default all)")
    parser.add_argument("--ii-train-steps", type=int, default=None,
                        help="(ii) LSGD steps per depth (0: ranks only)")
    args = parser.parse_args(argv)
    from jaxsci import enable_compilation_cache

    enable_compilation_cache()  # opt-in persistent XLA cache: re-runs skip most compiles
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    def iv(out, quick):
        return part_iv(out, quick, args.tri_p, not args.no_cross, not args.no_tri2, args.tri_l2,
                       not args.tri_l2_fixed, not args.tri_no_baselines, not args.tri_lr_fixed,
                       args.tri_post)

    def ii(out, quick):
        return part_ii(out, quick, args.ii_train_steps)

    def i(out, quick):
        return part_i(out, quick, args.i_steps, args.i_optimisers)

    for name, fn in (("i", i), ("ii", ii), ("iii", part_iii), ("iv", iv)):
        if name in args.parts:
            t0 = time.perf_counter()
            results[name] = fn(out, args.quick)
            print(f"(part {name}: {time.perf_counter() - t0:.1f} s)", flush=True)
    print(f"\nplots in {out.resolve()}/")
    return results


if __name__ == "__main__":
    main()
