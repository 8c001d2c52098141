"""Optimisers of the deep-learning review (Vu-Quoc & Humer 2023, Sections 6.2-6.7) side by side.

Two problems: a 1-10-10-1 tanh regression network on noisy samples of sin(pi x) (256 points,
minibatch 32), and the XOR problem of Section 4.5 (4 points, 2-3-1 tanh network, MSE cost).
Methods: full-batch gradient descent with the exact, Goldstein, Armijo and Wolfe line searches
and Newton + Armijo (Alg. 3); SGD, heavy ball, Nesterov, Algorithm 4 (momentum + weight decay
+ cosine annealing), decay on stagnation; the unified adaptive Algorithm 5 as AdaGrad, RMSProp,
AdaDelta, Adam, AMSGrad, AdamX, Nostalgic Adam, AdamW; SGD + stochastic Armijo (Alg. 6) and
stochastic Newton with the cubic line search (Alg. 7). The SGD step is tuned on a log grid
(Section 6.3.3). A third figure compares step decay with minibatch-size increase (Sec. 6.3.5).

    python examples/optimizers.py [--quick] [--out jaxsci-out/optimizers]
"""

import argparse
import pathlib
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from tqdm import tqdm

import jaxsci
import jaxsci.optim as jo


QUICK = ("GD + Armijo", "Nesterov", "Alg. 4 (mom+wd+cos)", "Adam", "AMSGrad",
         "SGD + stoch. Armijo (Alg. 6)", "stoch. Newton (Alg. 7)")


def make_problem(name: str, key):
    kd, km = jr.split(key)
    if name == "regression":
        x = jnp.linspace(-1.0, 1.0, 256)[:, None]
        y = jnp.sin(jnp.pi * x) + 0.05 * jr.normal(kd, x.shape)
        model = eqx.nn.MLP(1, 1, 10, 2, activation=jnp.tanh, key=km)
        batch = 32
    else:
        x = jnp.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        y = jnp.array([[0.0], [1.0], [1.0], [0.0]])
        model = eqx.nn.MLP(2, 1, 3, 1, activation=jnp.tanh, key=km)
        batch = 2

    def loss(m, xb, yb):
        pred = jax.vmap(m)(xb)
        return 0.5 * jnp.mean(jnp.sum((pred - yb) ** 2, axis=-1))

    return model, loss, x, y, batch


def methods(n_examples: int, batch: int, steps: int, eps_sgd: float):
    """name -> (transformation, uses minibatches)."""
    neg = optax.scale(-1.0)
    kmax = n_examples // batch
    ea = jo.ExponentialAverage
    nobc = dict(bias_correction_m=False, bias_correction_v=False)
    return {
        "GD + exact (golden)": (optax.chain(neg, jo.exact_linesearch(max_steps=40)), False),
        "GD + Goldstein": (optax.chain(neg, jo.goldstein_linesearch()), False),
        "GD + Armijo": (optax.chain(neg, jo.armijo_linesearch()), False),
        "GD + Wolfe": (optax.chain(neg, jo.wolfe_linesearch()), False),
        "Newton + Armijo (Alg. 3)": (optax.chain(jo.newton_direction(), jo.armijo_linesearch()), False),
        "SGD": (jo.sgd_momentum(eps_sgd), True),
        "heavy ball": (jo.sgd_momentum(eps_sgd / 10, zeta=0.9), True),
        "Nesterov": (jo.sgd_momentum(eps_sgd / 10, zeta=0.9, gamma=0.9), True),
        "Alg. 4 (mom+wd+cos)": (jo.sgd_momentum(eps_sgd / 10, zeta=0.9, weight_decay=1e-5,
                                                annealing=jo.cosine_annealing([steps // 4] * 4)), True),
        "SGD + stagnation decay": (optax.chain(jo.sgd_momentum(eps_sgd),
                                               on_full_cost(jo.scale_by_stagnation_decay(kmax, 0.9))), True),
        "AdaGrad": (jo.unified_adaptive(0.05, beta1=0.0, second_moment=jo.SumOfSquares(), eps=1e-7, **nobc), True),
        "RMSProp": (jo.unified_adaptive(3e-3, beta1=0.0, second_moment=ea(0.9), eps=1e-6,
                                        eps_in_sqrt=True, **nobc), True),
        "AdaDelta": (jo.unified_adaptive(1.0, beta1=0.0, second_moment=ea(0.95), eps=1e-6,
                                         eps_in_sqrt=True, unit_correction=True, **nobc), True),
        "Adam": (jo.unified_adaptive(3e-3), True),
        "AMSGrad": (jo.unified_adaptive(3e-3, max_v=True, **nobc), True),
        "AdamX": (jo.adamx(3e-3), True),
        "Nostalgic Adam": (jo.nostalgic_adam(3e-3), True),
        "AdamW (cos)": (jo.unified_adaptive(3e-3, weight_decay=1e-5,
                                            multiplier=jo.cosine_annealing([steps // 4] * 4)), True),
        "SGD + stoch. Armijo (Alg. 6)": (optax.chain(neg, jo.stochastic_armijo(batch_fraction=batch / n_examples)), True),
        "stoch. Newton (Alg. 7)": (jo.stochastic_newton(), True),
    }


def on_full_cost(tx):
    """Feed Eq. (151) the full-training-set cost (Wilson et al. monitor a held-out set); with
    the noisy minibatch cost the rule fires almost every epoch and freezes training."""

    def update(updates, state, params=None, *, full_value, **extra_args):
        return tx.update(updates, state, params, value=full_value)

    return optax.GradientTransformationExtraArgs(tx.init, update)


GROUPS = {
    "full-batch line searches, Newton (Sec. 6.2)": 5,
    "SGD family, Algorithm 4 (Sec. 6.3)": 5,
    "unified adaptive, Algorithm 5 (Sec. 6.5)": 8,
    "stochastic line searches, Alg. 6 and 7 (Sec. 6.6-6.7)": 2,
}


class ReviewOptax(jaxsci.train.AbstractTrainer):
    """`jaxsci.train.Optax` plus the extra arguments the review's transformations read:
    `grad_fn` (Alg. 7's cubic line search) and `full_value`, the full-training-set cost
    (Eq. (151)'s monitor). A user-defined trainer of `jaxsci.train.fit`: `step` returns the
    loss and terms at the parameters before the step."""

    optimizer: optax.GradientTransformation

    def init(self, loss_fn, params, static, args):
        return optax.with_extra_args_support(self.optimizer).init(params)

    def step(self, loss_fn, params, static, args, state):
        opt = optax.with_extra_args_support(self.optimizer)

        def value(p):
            return loss_fn(eqx.combine(p, static), args)[0]

        (loss, terms), grads = jax.value_and_grad(
            lambda p: loss_fn(eqx.combine(p, static), args), has_aux=True)(params)
        updates, state = opt.update(grads, state, params, value=loss, grad=grads,
                                    value_fn=value, grad_fn=jax.grad(value),
                                    full_value=terms["full"])
        return optax.apply_updates(params, updates), state, loss, terms, grads


class Data(eqx.Module):
    """Full data, the current minibatch and the step counter (the `args` of `fit`)."""

    x: jax.Array
    y: jax.Array
    xb: jax.Array
    yb: jax.Array
    k: jax.Array


def minibatcher(batch: int, key):
    """`UpdateArgs` function: minibatch `k % kmax` of epoch `k // kmax`'s permutation."""

    def draw(model, d, _key):
        n = d.x.shape[0]
        kmax = n // batch
        perm = jr.permutation(jr.fold_in(key, d.k // kmax), n)
        idx = jax.lax.dynamic_slice(perm, ((d.k % kmax) * batch,), (batch,))
        return Data(d.x, d.y, d.x[idx], d.y[idx], d.k + 1)

    return draw


def train(tx, minibatch, model, loss, x, y, batch, steps, key):
    """Full-batch cost J after every step (`jaxsci.train.fit`, one compiled loop)."""

    def loss_fn(m, d):
        return loss(m, d.xb, d.yb), {"full": loss(m, d.x, d.y)}

    nb = batch if minibatch else x.shape[0]  # the minibatch is drawn before every step
    data = Data(x, y, x[:nb], y[:nb], jnp.zeros((), jnp.int32))
    callbacks = (jaxsci.train.UpdateArgs(minibatcher(batch, key), every=1),) if minibatch else ()
    sol = jaxsci.train.fit(loss_fn, model, ReviewOptax(tx), steps=steps, args=data,
                           callbacks=callbacks, throw=False)
    # history["full"][i] is J before step i: drop J(w_0), append J of the returned model
    full = np.asarray(sol.history["full"])
    return np.append(full[1:], float(loss(sol.value, x, y)))


class Epoch(eqx.Module):
    """One epoch's data for `batch_vs_decay`: the index sets, the current minibatch, its row."""

    x: jax.Array
    y: jax.Array
    idx: jax.Array
    xb: jax.Array
    yb: jax.Array
    i: jax.Array


def _next_minibatch(model, d, _key):
    return Epoch(d.x, d.y, d.idx, d.x[d.idx[d.i]], d.y[d.idx[d.i]], d.i + 1)


def batch_vs_decay(model, loss, x, y, epochs, key):
    """Section 6.3.5: step decay (eps/5 at 1/2 and 3/4 of the epochs, m = 8) against batch
    increase (m x 5 at the same epochs, eps fixed); SGD, same data order. Each epoch is one
    `jaxsci.train.fit` over its minibatches (Eqs. (135)-(136))."""
    n = x.shape[0]
    bounds = [epochs // 2, 3 * epochs // 4]
    m_sched = jo.batch_size_schedule(8, bounds, 5, n)

    def loss_fn(m, d):
        return loss(m, d.xb, d.yb), {}

    next_batch = jaxsci.train.UpdateArgs(_next_minibatch, every=1)
    out = {}
    for name in ("step decay", "batch increase"):
        mdl, curve, updates, count = model, [], [], 0
        for e in range(epochs):
            n_dec = sum(1 for b in bounds if b <= e)
            eps, m = (0.05 / 5**n_dec, 8) if name == "step decay" else (0.05, m_sched(e))
            idx = jo.epoch_minibatches(jr.fold_in(key, e), n, m)
            d = Epoch(x, y, idx, x[idx[0]], y[idx[0]], jnp.zeros((), jnp.int32))
            mdl = jaxsci.train.fit(loss_fn, mdl, optax.sgd(eps), steps=n // m, args=d,
                                   callbacks=next_batch).value
            count += n // m
            curve.append(float(loss(mdl, x, y)))
            updates.append(count)
        out[name] = (np.array(curve), np.array(updates))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced run (well under a minute)")
    parser.add_argument("--out", default="jaxsci-out/optimizers")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from jaxsci import enable_compilation_cache

    enable_compilation_cache()  # opt-in persistent XLA cache: re-runs skip most compiles
    jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    steps = {"regression": 400 if args.quick else 3000, "xor": 300 if args.quick else 2000}
    newton_steps = 15 if args.quick else 60  # each step builds the Hessian from P HVPs
    key = jr.key(args.seed)
    table = {}
    for prob in ("regression", "xor"):
        model, loss, x, y, batch = make_problem(prob, jr.fold_in(key, 1))
        n_tune = steps[prob] // 4

        def tune_run(e):
            return train(jo.sgd_momentum(e), True, model, loss, x, y, batch, n_tune, key)[-1]

        best, scores = jo.tune_initial_step(tune_run)
        print(f"[{prob}] log-grid tuned SGD step eps0 = {best}  (scores {scores})")
        curves = {}
        ms = methods(x.shape[0], batch, steps[prob], best)
        if args.quick:
            ms = {k: v for k, v in ms.items() if k in QUICK}
        for name, (tx, mb) in tqdm(ms.items(), desc=prob):
            t0 = time.perf_counter()
            n_steps = min(steps[prob], newton_steps) if "Newton" in name else steps[prob]
            curves[name] = train(tx, mb, model, loss, x, y, batch, n_steps, key)
            table.setdefault(name, {})[prob] = (curves[name][-1], time.perf_counter() - t0)
        fig, axs = plt.subplots(2, 2, figsize=(12, 8), sharey=True)
        names = list(methods(x.shape[0], batch, steps[prob], best))
        start = 0
        for ax, (title, count) in zip(axs.ravel(), GROUPS.items()):
            for name in names[start:start + count]:
                if name in curves:
                    ax.semilogy(curves[name], label=name, lw=1.0)
            start += count
            ax.set(title=title, xlabel="iteration", ylabel="full-batch cost J")
            ax.legend(fontsize=7)
        fig.suptitle(f"{prob}: optimisers of the review side by side")
        fig.tight_layout()
        fig.savefig(out / f"{prob}_loss.png", dpi=120)
        plt.close(fig)

    model, loss, x, y, _ = make_problem("regression", jr.fold_in(key, 1))
    res = batch_vs_decay(model, loss, x, y, 40 if args.quick else 200, key)
    fig, axs = plt.subplots(1, 2, figsize=(10, 4))
    for name, (c, u) in res.items():
        axs[0].semilogy(np.arange(1, len(c) + 1), c, label=name)
        axs[1].semilogy(u, c, label=name)
    axs[0].set(xlabel="epoch", ylabel="full-batch cost J")
    axs[1].set(xlabel="number of parameter updates")
    axs[0].legend()
    fig.suptitle("Step decay vs minibatch-size increase (Sec. 6.3.5, Smith et al. 2018)")
    fig.tight_layout()
    fig.savefig(out / "batch_vs_decay.png", dpi=120)
    plt.close(fig)

    print(f"\n{'method':<30} {'regression J':>14} {'xor J':>12} {'time reg+xor (s)':>18}")
    for name, r in table.items():
        print(f"{name:<30} {r['regression'][0]:>14.3e} {r['xor'][0]:>12.3e} "
              f"{r['regression'][1] + r['xor'][1]:>18.1f}")
    for name, (c, u) in res.items():
        print(f"{name:<30} final J {c[-1]:.3e} after {u[-1]} updates")
    print(f"plots in {out.resolve()}/")
    return table, res


if __name__ == "__main__":
    main()
