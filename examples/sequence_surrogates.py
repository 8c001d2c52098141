"""Path-dependent constitutive surrogate: LSTM vs strain-only MLP on 1-D elastoplasticity.

Review seed §11 (Wang & Sun 2018): 2 x 80 LSTM, dropout 0.2 after each layer, dense sigmoid
output on targets normalised to [0, 1]. Data from `jaxsci.mechanics.stress_path` (1-D return
mapping, isotropic + kinematic hardening) on random loading/unloading paths; tested on unseen
random paths and unseen growing-amplitude cyclic paths. Baseline: an MLP on the current strain
only (it cannot represent hysteresis). Also plots elastica beam shapes for three targets.

    python examples/sequence_surrogates.py --quick --out /tmp/seq
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

from jaxsci import mechanics as mech
from jaxsci import nn

AMP = 6e-3


def make_data(n, steps, key, mat):
    paths = jax.vmap(lambda k: mech.random_strain_path(steps, key=k, n_segments=6, amplitude=AMP))(jr.split(key, n))
    return paths, jax.vmap(lambda e: mech.stress_path(mat, e)[0])(paths)


class LSTMNet(eqx.Module):
    c1: nn.LSTMCell
    c2: nn.LSTMCell
    head: eqx.nn.Linear

    def __init__(self, hidden, key):
        k1, k2, k3 = jr.split(key, 3)
        self.c1, self.c2 = nn.LSTMCell(1, hidden, key=k1), nn.LSTMCell(hidden, hidden, key=k2)
        self.head = eqx.nn.Linear(hidden, 1, key=k3)

    def __call__(self, x, key=None):
        h = jnp.zeros(self.c1.hidden_size)
        hs = nn.scan_cell(self.c1, x[:, None], (h, h))[1][0]
        hs = _dropout(hs, key, 0)
        hs = nn.scan_cell(self.c2, hs, (h, h))[1][0]
        hs = _dropout(hs, key, 1)
        return jax.nn.sigmoid(jax.vmap(self.head)(hs)[:, 0])


def _dropout(h, key, i, rate=0.2):
    if key is None:
        return h
    keep = jr.bernoulli(jr.fold_in(key, i), 1 - rate, h.shape)
    return jnp.where(keep, h / (1 - rate), 0.0)


class MLPNet(eqx.Module):
    mlp: eqx.nn.MLP

    def __init__(self, key):
        self.mlp = eqx.nn.MLP(1, 1, 64, 2, activation=jnp.tanh, key=key)

    def __call__(self, x, key=None):
        return jax.nn.sigmoid(jax.vmap(self.mlp)(x[:, None])[:, 0])


def train(model, X, Y, steps, batch, lr, key, label, every):
    opt = optax.adam(lr)
    state = opt.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def step(model, state, xb, yb, key):
        def loss(m):
            keys = jr.split(key, xb.shape[0])
            pred = jax.vmap(m)(xb, keys)
            return jnp.mean((pred - yb) ** 2)

        l, g = eqx.filter_value_and_grad(loss)(model)
        upd, state = opt.update(g, state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, upd), state, l

    losses = []
    t0 = time.time()
    for i in range(steps):
        key, kb, kd = jr.split(key, 3)
        idx = jr.choice(kb, X.shape[0], (batch,), replace=False)
        model, state, l = step(model, state, X[idx], Y[idx], kd)
        losses.append(float(l))
        if i % every == 0 or i == steps - 1:
            print(f"  [{label}] step {i:5d}  loss {losses[-1]:.3e}  ({time.time() - t0:.0f} s)", flush=True)
    return model, np.array(losses)


def rel_l2(pred, true):
    return float(np.linalg.norm(pred - true) / np.linalg.norm(true))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small data and short training")
    ap.add_argument("--out", type=pathlib.Path, default=None, help="folder for PNG plots")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    jax.config.update("jax_enable_x64", True)
    n_train, steps, train_steps, hidden = (64, 60, 400, 32) if a.quick else (512, 100, 4000, 80)
    mat = mech.Plasticity1D(200_000.0, 250.0, 4000.0, 6000.0)
    key = jr.key(a.seed)
    print(f"phase 1: data ({n_train} random training paths of {steps} steps)")
    Xtr, Str = make_data(n_train, steps, jr.fold_in(key, 1), mat)
    Xte, Ste = make_data(64, steps, jr.fold_in(key, 2), mat)
    Xcy = jnp.stack([mech.cyclic_strain_path(steps, n_cycles=c, amplitude_start=2e-3, amplitude_end=AMP)
                     for c in (2, 3)])
    Scy = jax.vmap(lambda e: mech.stress_path(mat, e)[0])(Xcy)
    lo, hi = float(Str.min()), float(Str.max())
    pad = 0.2 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    norm = lambda s: (s - lo) / (hi - lo)
    denorm = lambda y: y * (hi - lo) + lo
    x = lambda e: e / AMP

    print("phase 2: training")
    lstm, l_lstm = train(LSTMNet(hidden, jr.fold_in(key, 3)), x(Xtr), norm(Str), train_steps, 16, 3e-3,
                         jr.fold_in(key, 4), "LSTM 2x%d" % hidden, max(train_steps // 10, 1))
    mlp, l_mlp = train(MLPNet(jr.fold_in(key, 5)), x(Xtr), norm(Str), train_steps, 16, 3e-3,
                       jr.fold_in(key, 6), "MLP(strain)", max(train_steps // 10, 1))

    pred = lambda m, X: np.asarray(denorm(jax.jit(jax.vmap(m))(x(X))))
    rows = []
    for name, X, S in [("unseen random", Xte, Ste), ("unseen cyclic", Xcy, Scy)]:
        e_l, e_m = rel_l2(pred(lstm, X), np.asarray(S)), rel_l2(pred(mlp, X), np.asarray(S))
        rows.append((name, e_l, e_m, e_m / e_l))
    print("\n| paths | LSTM rel. L2 | strain-only MLP rel. L2 | MLP / LSTM |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.3f} | {r[2]:.3f} | {r[3]:.1f}x |")
    print("(paper: Wang & Sun 2018 report no comparable number; acceptance: MLP/LSTM >= 5 on cyclic)")

    if a.out is not None:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        a.out.mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        ax[0].plot(Xcy[1], Scy[1], "k", label="return mapping")
        ax[0].plot(Xcy[1], pred(lstm, Xcy[1:2])[0], "r--", label="LSTM")
        ax[0].plot(Xcy[1], pred(mlp, Xcy[1:2])[0], "b:", label="MLP (strain only)")
        ax[0].set_xlabel("strain"); ax[0].set_ylabel("stress (MPa)"); ax[0].legend(); ax[0].set_title("unseen cyclic path")
        ax[1].semilogy(l_lstm, label="LSTM"); ax[1].semilogy(l_mlp, label="MLP")
        ax[1].set_xlabel("step"); ax[1].set_ylabel("training MSE (normalised)"); ax[1].legend()
        fig.tight_layout(); fig.savefig(a.out / "sequence_surrogates.png", dpi=110); plt.close(fig)

        print("phase 3: beam pointing (three targets)")
        beam = mech.Elastica(2.0, 1.5)
        fig, ax = plt.subplots(figsize=(5, 5))
        for loads in [jnp.array([0.5, 2.0, 0.5]), jnp.array([-1.0, 1.0, 3.0]), jnp.array([0.0, -4.0, 1.0])]:
            target = mech.solve_cantilever(beam, loads).value
            sol = mech.point_cantilever(beam, target)
            shape = mech.cantilever_shape(beam, sol.value)
            print(f"  target {np.asarray(target).round(4)}  loads {np.asarray(sol.value).round(4)}  "
                  f"residual {float(sol.stats['residual']):.1e}")
            ax.plot(shape[:, 0], shape[:, 1])
            ax.plot(target[0], target[1], "ko")
        ax.set_aspect("equal"); ax.set_title("elastica cantilever: three pointing targets")
        fig.savefig(a.out / "beam_pointing.png", dpi=110); plt.close(fig)


if __name__ == "__main__":
    main()
