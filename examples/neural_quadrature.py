"""Neural-network-enhanced quadrature of hexahedra (Oishi & Yagawa, CMAME 327 (2017); the
deep-learning review, section 2.3.1 / 10, eqs. 401-402, Fig. 10).

Data (jaxsci.mechanics): distorted hexahedra (unit cube, nodes moved by U[-0.2, 0.2]),
reference stiffness at q = 30, Method 1 labels (least q with e_q <= tol), Method 2 labels
(random search over 2x2x2 correction factors, 8 x 2048 sets; the paper 10^6). Networks
(equinox + optax, here as mechanics may not import nn/train): Method 1 classifier
(1-5 hidden x 50), Net A (4 x 30 sigmoid, "can the error be reduced by more than
--improvable"), Net B (5 x 50 sigmoid, regression of the 8 factors). Half train, half test.

    python examples/neural_quadrature.py --quick --out /tmp/nq
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

import jaxsci.mechanics as mech


def train(model, loss, X, Y, steps, lr, key, name):
    opt = optax.adam(lr)
    state = opt.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def step(model, state, k):
        i = jr.choice(k, len(X), (min(256, len(X)),), replace=False)
        val, g = eqx.filter_value_and_grad(loss)(model, X[i], Y[i])
        upd, state = opt.update(g, state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, upd), state, val

    for t, k in enumerate(jr.split(key, steps)):
        model, state, val = step(model, state, k)
        if (t + 1) % max(1, steps // 4) == 0:
            print(f"    {name}: step {t + 1}/{steps} loss {float(val):.4f}", flush=True)
    return model


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="400 elements, short training")
    p.add_argument("--elements", type=int, default=10_000)
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--tol", type=float, default=1e-3, help="Method 1 tolerance on e_q")
    p.add_argument("--improvable", type=float, default=0.98, help="Net A label: best R < this")
    p.add_argument("--out", type=pathlib.Path, default=None)
    a = p.parse_args()
    jax.config.update("jax_enable_x64", True)
    n, steps = (400, 1500) if a.quick else (a.elements, a.steps)
    mat = mech.IsotropicElasticity(1.0, 0.3)
    t0 = time.perf_counter()
    print(f"[1/4] data: {n} elements, q = 30 references, labels", flush=True)
    x = jax.jit(lambda k: mech.distorted_hexahedra(k, n))(jr.key(0))
    K_ref = jax.jit(lambda x: mech.element_stiffnesses(x, mat, 30, chunk_size=32))(x)
    q_lab = jax.jit(jax.vmap(lambda x, K: mech.minimum_order(x, mat, a.tol, K_ref=K)))(x, K_ref)
    search = jax.jit(lambda x, K, k: jax.lax.map(lambda t: mech.search_correction_factors(
        t[0], mat, key=t[2], K_ref=t[1]), (x, K, k), batch_size=32))
    r_lab, R_lab = search(x, K_ref, jr.split(jr.key(1), n))
    feats = jax.vmap(mech.normalised_coordinates)(x)
    mu, sd = jnp.mean(feats, 0), jnp.std(feats, 0)
    X = (feats - mu[None]) / sd[None]
    print(f"    done in {time.perf_counter() - t0:.0f} s; q labels {np.bincount(np.asarray(q_lab))}", flush=True)
    tr, te = slice(0, n // 2), slice(n // 2, n)

    print("[2/4] Method 1 classifiers (hidden x 50)", flush=True)
    qmin = int(jnp.min(q_lab))
    cls = q_lab - qmin
    ncls = int(jnp.max(cls)) + 1

    def ce(m, X, y):
        logits = jax.vmap(m)(X)
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y))

    acc = {}
    for depth in ((1, 3) if a.quick else (1, 2, 3, 4, 5)):
        m = eqx.nn.MLP(18, ncls, 50, depth, activation=jax.nn.sigmoid, key=jr.key(10 + depth))
        m = train(m, ce, X[tr], cls[tr], steps, 3e-3, jr.key(20 + depth), f"{depth} layers")
        acc[depth] = float(jnp.mean(jnp.argmax(jax.vmap(m)(X[te]), 1) == cls[te]))

    print("[3/4] Net A (4 x 30 sigmoid)", flush=True)
    yA = (R_lab < a.improvable).astype(jnp.int32)
    bce = lambda m, X, y: jnp.mean(optax.sigmoid_binary_cross_entropy(jax.vmap(m)(X)[:, 0], y))  # noqa: E731
    netA = eqx.nn.MLP(18, 1, 30, 4, activation=jax.nn.sigmoid, key=jr.key(2))
    netA = train(netA, bce, X[tr], yA[tr].astype(X.dtype), steps, 3e-3, jr.key(3), "Net A")
    accA = float(jnp.mean((jax.vmap(netA)(X[te])[:, 0] > 0) == (yA[te] == 1)))

    print("[4/4] Net B (5 x 50 sigmoid, 8 factors)", flush=True)
    Y = (r_lab - 1.0) * 100.0  # factors are within ~1e-2 of 1
    mse = lambda m, X, y: jnp.mean((jax.vmap(m)(X) - y) ** 2)  # noqa: E731
    netB = eqx.nn.MLP(18, 8, 50, 5, activation=jax.nn.sigmoid, key=jr.key(4))
    netB = train(netB, mse, X[tr], Y[tr], steps, 1e-3, jr.key(5), "Net B")
    r_pred = 1.0 + jax.vmap(netB)(X[te]) / 100.0
    R_pred = np.asarray(jax.jit(jax.vmap(lambda x, r, K: mech.error_ratio(x, mat, r, K_ref=K)))(
        x[te], r_pred, K_ref[te]))
    R_opt = np.asarray(R_lab[te])

    rows = [("Method 1 test accuracy, " + ", ".join(f"{d} layers" for d in acc), " ".join(f"{v:.3f}" for v in acc.values()), "not in seed"),
            ("Net A test accuracy", f"{accA:.3f}", "not in seed"),
            ("search labels: median R_error (test)", f"{np.median(R_opt):.3f}", "-"),
            ("Net B: median R_error (test)", f"{np.median(R_pred):.3f}", "-"),
            ("Net B: share of test elements with R < 1", f"{100 * np.mean(R_pred < 1):.1f} %", "> 97 %")]
    print(f"\n{'quantity':<55} {'ours':>20} {'paper':>12}")
    for r in rows:
        print(f"{r[0]:<55} {r[1]:>20} {r[2]:>12}")
    if a.out is not None:
        import matplotlib.pyplot as plt

        a.out.mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(figsize=(6, 3.5))
        bins = np.linspace(min(R_opt.min(), R_pred.min()), max(1.05, R_pred.max()), 40)
        ax.hist(R_opt, bins, color="r", alpha=0.6, label="Optimized (search)")
        ax.hist(R_pred, bins, color="b", alpha=0.6, label="Estimated by Net B")
        ax.axvline(1.0, color="k", lw=0.8)
        ax.set_xlabel("$R_{error}$ (eq. 402)")
        ax.set_ylabel("test elements")
        ax.legend()
        fig.tight_layout()
        fig.savefig(a.out / "neural_quadrature_rerror.png", dpi=110)
        print(f"wrote {a.out / 'neural_quadrature_rerror.png'}")


if __name__ == "__main__":
    main()
