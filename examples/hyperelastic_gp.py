"""Frankel et al. (first seed paper): GP vs tensor-basis GP vs strain-energy GP.

Reproduces, at a reduced scale stated in the output:

- Fig. 1: matrix exponential (section 4.3), component GP vs TBGP, RMSE against n on test
  points and on rotated training points;
- Fig. 2: Mooney-Rivlin stress RMSE against n for eigenvalues of B in [1.0, 1.5] and
  [0.9, 2.0], all three formulations;
- Fig. 5/6: strain-energy RMSE of the strain-energy GP, and predicted vs true energy;
- beyond the paper's figures (its section 7, eqs. 44-45): transversely isotropic TBGP vs
  the component GP on a fibre-reinforced Mooney-Rivlin material (`--ti-only` runs just this).

All trials of one size and all their hyperparameter restarts run in one `vmap`
(`jaxsci.mechanics.stress_rmse_trials`). Usage:
`python examples/hyperelastic_gp.py [--quick] [--trials T] [--restarts R] [--out DIR]
[--ti-only] [--ti-sizes N ...]`.
"""

import argparse
import pathlib

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from tqdm import tqdm

jax.config.update("jax_enable_x64", True)

from jaxsci import mechanics as mech  # noqa: E402


def _print_rows(rows):
    print(f"{'case':<14}{'model':<11}{'n':>5}{'median RMSE':>14}{'max/rot/UV':>14}")
    for c, m, n_, r1, r2 in rows:
        print(f"{c:<14}{m:<11}{n_:>5}{r1:>14.3e}{r2:>14.3e}")


def _rotated_rmse_trials(fit, Bs, Ss, key, R, fn):
    """Fig. 1 right: error on the training tensors after a random rotation."""

    def one(B, S, k):
        k1, k2 = jr.split(k)
        m = fit(B, S, key=k1, num_restarts=R, throw=False).value
        Q = mech.sample_rotation(key=k2, dtype=B.dtype)
        Br = jnp.einsum("ij,njk,lk->nil", Q, B, Q)
        return mech.stress_rmse(m, Br, jax.vmap(fn)(Br))

    return jax.jit(jax.vmap(one))(Bs, Ss, jr.split(key, Bs.shape[0]))


def transverse_study(a, out, plt):
    """Section 7 (eqs. 44-45): TI TBGP vs component GP, stress RMSE against n (S in MPa)."""
    mat = mech.FibreReinforcedMooneyRivlin()
    stress = jax.jit(jax.vmap(jax.vmap(lambda C, g: mech.transverse_pk2_stress(mat, C, g))))
    Ct, gt = mech.sample_transverse_deformations(200, key=jr.key(17))
    St = stress(Ct[None], gt[None])[0]
    rows, curves = [], {}
    for n in tqdm(a.ti_sizes, desc="TI (section 7)"):
        Cs, gs = mech.sample_transverse_deformations(a.trials * n, key=jr.key(2000 + n))
        Cs, gs = Cs.reshape(a.trials, n, 3, 3), gs.reshape(a.trials, n, 3)
        Ss = stress(Cs, gs)
        for name, fit in (("TI TBGP", mech.fit_transverse_tbgp), ("GP", mech.fit_transverse_component_gp)):
            r = np.asarray(mech.transverse_stress_rmse_trials(
                fit, Cs, gs, Ss, Ct, gt, St, key=jr.key(4), num_restarts=a.restarts))
            curves.setdefault(name, []).append((n, np.median(r)))
            rows.append(("TI [1.0,1.5]", name, n, float(np.median(r)), float(np.max(r))))
    # equivariance of one trained TI TBGP (n = first size) on the rotated test set, and the
    # coefficient round trip S = sum c_i A_i -> c on the test set with random coefficients
    n = a.ti_sizes[0]
    Cs, gs = mech.sample_transverse_deformations(n, key=jr.key(2000 + n))
    tb = mech.fit_transverse_tbgp(Cs, gs, stress(Cs[None], gs[None])[0], key=jr.key(4), num_restarts=a.restarts, throw=False).value
    Q = mech.sample_rotation(key=jr.key(18))
    pred = jax.jit(jax.vmap(lambda C, g: tb(C, g)[0]))
    P, Pr = pred(Ct, gt), pred(jnp.einsum("ij,njk,lk->nil", Q, Ct, Q), gt @ Q.T)
    rel = jnp.linalg.norm(jnp.einsum("ij,njk,lk->nil", Q, P, Q) - Pr, axis=(1, 2)) / jnp.linalg.norm(Pr, axis=(1, 2))
    c = jr.normal(jr.key(19), (Ct.shape[0], 6))
    c_back = jax.jit(jax.vmap(mech.transverse_extract_coefficients))(Ct, gt, jax.vmap(mech.transverse_expand)(c, Ct, gt))
    err = jnp.max(jnp.abs(c_back - c), axis=1)
    print(f"TI TBGP n={n}: equivariance error max {float(rel.max()):.2e}, median {float(jnp.median(rel)):.2e} "
          f"(theta1 {float(tb.posterior.kernel.theta1):.3g}, theta2 {float(tb.posterior.kernel.theta2):.3g}); coefficient round trip |c - c_back|_max: "
          f"median {float(jnp.median(err)):.1e}, 95% {float(jnp.quantile(err, 0.95)):.1e}, max {float(err.max()):.1e}")
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, v in curves.items():
        v = np.array(v)
        ax.loglog(v[:, 0], v[:, 1], "o-", label=name)
    ax.set_title("transversely isotropic (section 7)"); ax.set_xlabel("n"); ax.set_ylabel("median stress RMSE (MPa)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "transverse_gp.png", dpi=110)
    plt.close(fig)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--restarts", type=int, default=20)
    p.add_argument("--sizes", type=int, nargs="*", default=[10, 20, 40])
    p.add_argument("--energy-sizes", type=int, nargs="*", default=[10, 20])
    p.add_argument("--skip-fig1", action="store_true", help="only Figs. 2, 5, 6")
    p.add_argument("--out", default="jaxsci-out/hyperelastic_gp")
    p.add_argument("--ti-only", action="store_true", help="only the transversely isotropic study")
    p.add_argument("--ti-sizes", type=int, nargs="*", default=[10, 20, 40])
    a = p.parse_args(argv)
    from jaxsci import enable_compilation_cache

    enable_compilation_cache()  # opt-in persistent XLA cache: re-runs skip most compiles
    if a.quick:
        a.trials, a.restarts, a.sizes, a.energy_sizes, a.ti_sizes = 2, 3, [5, 10], [5], [5, 10]
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mr = mech.MooneyRivlin()
    mr_stress = lambda B: mech.cauchy_stress(mr, B)
    expm = lambda B: mech.isotropic_function(jnp.exp, B)
    sizes = a.ti_sizes if a.ti_only else a.sizes
    print(f"scale: {a.trials} trials per size, {a.restarts} restarts, sizes {sizes}")
    if a.ti_only:
        rows = transverse_study(a, out, plt)
        _print_rows(rows)
        return rows
    rows = []
    results = {}
    # ---- Fig. 1: matrix exponential on symmetric uniform matrices --------------------
    tests = jax.vmap(lambda k: mech.sample_symmetric_uniform(key=k))(jr.split(jr.key(99), 200))
    for n in tqdm([] if a.skip_fig1 else a.sizes, desc="Fig. 1"):
        Bs = jax.vmap(lambda k: mech.sample_symmetric_uniform(key=k))(jr.split(jr.key(n), a.trials * n))
        Bs = Bs.reshape(a.trials, n, 3, 3)
        Ss = jax.vmap(jax.vmap(expm))(Bs)
        for name, fit in (("TBGP", mech.fit_tbgp), ("GP", mech.fit_component_gp)):
            r = mech.stress_rmse_trials(fit, Bs, Ss, tests, jax.vmap(expm)(tests), key=jr.key(1), num_restarts=a.restarts)
            rr = _rotated_rmse_trials(fit, Bs, Ss, jr.key(2), a.restarts, expm)
            results.setdefault(("expm", name), []).append((n, np.median(r), np.median(rr)))
            rows.append(("expm", name, n, float(np.median(r)), float(np.median(rr))))
    # ---- Fig. 2: Mooney-Rivlin, two ranges, three formulations ----------------------
    for lo, hi in ((1.0, 1.5), (0.9, 2.0)):
        Bt = mech.sample_finger_tensors(200, key=jr.key(7), low=lo, high=hi)
        St = jax.vmap(mr_stress)(Bt)
        fits = [("TBGP", mech.fit_tbgp), ("GP", mech.fit_component_gp), ("energy GP", mech.fit_strain_energy_gp)]
        for n in tqdm(a.sizes, desc=f"Fig. 2 [{lo}, {hi}]"):
            Bs = mech.sample_finger_tensors(a.trials * n, key=jr.key(1000 + n), low=lo, high=hi)
            Bs = Bs.reshape(a.trials, n, 3, 3)
            Ss = jax.vmap(jax.vmap(mr_stress))(Bs)
            for name, fit in fits:
                if name == "energy GP" and n not in a.energy_sizes:
                    continue
                r = mech.stress_rmse_trials(fit, Bs, Ss, Bt, St, key=jr.key(3), num_restarts=a.restarts)
                results.setdefault((f"[{lo},{hi}]", name), []).append((n, np.median(r), np.nan))
                rows.append((f"MR [{lo},{hi}]", name, n, float(np.median(r)), float(np.max(r))))
    # ---- Fig. 5/6: energy of the strain-energy GP ------------------------------------
    n = a.energy_sizes[-1]
    Bs = mech.sample_finger_tensors(n, key=jr.key(5), low=1.0, high=1.5)
    egp = mech.fit_strain_energy_gp(Bs, jax.vmap(mr_stress)(Bs), key=jr.key(6), num_restarts=a.restarts, throw=False).value
    Bt = mech.sample_finger_tensors(200, key=jr.key(8), low=1.0, high=1.5)
    It = jax.vmap(mech.invariants)(Bt)
    phi_true = jax.vmap(mr)(It)
    phi_pred, _, phi_var = jax.vmap(egp.energy)(It)
    e_rmse = float(jnp.sqrt(jnp.mean((phi_pred - phi_true) ** 2)))
    unexplained = float(jnp.mean((phi_pred - phi_true) ** 2) / jnp.var(phi_true))
    rows.append(("energy", "energy GP", n, e_rmse, unexplained))
    rows += transverse_study(a, out, plt)
    _print_rows(rows)
    fig, axs = plt.subplots(1, 4, figsize=(17, 4))
    for (case, name), v in results.items():
        v = np.array(v, dtype=float)
        ax = axs[0] if case == "expm" else (axs[1] if case == "[1.0,1.5]" else axs[2])
        ax.loglog(v[:, 0], v[:, 1], "o-", label=f"{name} test")
        if case == "expm":
            ax.loglog(v[:, 0], v[:, 2], "s--", label=f"{name} rotated train")
    for ax, t in zip(axs[:3], ["Fig. 1: expm", "Fig. 2: MR [1.0, 1.5]", "Fig. 2: MR [0.9, 2.0]"]):
        ax.set_title(t); ax.set_xlabel("n"); ax.set_ylabel("RMSE"); ax.legend(fontsize=7)
    axs[3].plot(phi_true, phi_pred, ".", ms=3)
    axs[3].plot([phi_true.min(), phi_true.max()], [phi_true.min(), phi_true.max()], "k-")
    axs[3].set_title(f"Fig. 6: energy GP, n={n}"); axs[3].set_xlabel("true Phi"); axs[3].set_ylabel("predicted Phi")
    fig.tight_layout()
    fig.savefig(out / "hyperelastic_gp.png", dpi=110)
    plt.close(fig)
    return rows


if __name__ == "__main__":
    main()
