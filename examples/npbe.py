"""nPBE PINNs against the finite-volume reference (seed 003, Dogra; issue 20).

A molecule-like charge set in [-1, 1]^3 with piecewise (tanh-smoothed) permittivity and
screening (`jaxsci.pinn.MolecularPoissonBoltzmann`), the seed's Debye-Hueckel g enforced by
Phi_N = g + (1 - exp(-d^2)) Phi_hat, trained by Adam on the pointwise nPBE residual, then
compared with `jaxsci.pinn.solve_pbe` (Newton + Jacobi-preconditioned lineax CG) on the node
grid, excluding nodes within `--exclude` of a charge. Second part: the 9-input network
phi(x, omega) of `RigidMotionPoissonBoltzmann` over held-out orientations (reference solves
vmapped over omega).

    python examples/npbe.py --quick

Full-mode defaults are a guess at what reaches the issue's targets (1e-2 3-D, 3e-2 9-input);
they were not run in this round.
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

from jaxsci import pinn
from jaxsci.init import glorot
from jaxsci.train import fit


def make_molecule():
    pos = jnp.array([[0.25, 0.0, 0.0], [-0.2, 0.15, 0.0], [0.0, -0.2, 0.2]])
    return pinn.MolecularPoissonBoltzmann(pos, jnp.array([1.0, -1.0, 0.5]), radius=0.3,
                                          width=0.15, xi_in=1.0, xi_out=4.0, kappa=1.0,
                                          strength=4.0, sigma=0.15)


def train(problem, dim, key, width, depth, n_residual, steps, lr):
    k1, k2, k3 = jr.split(key, 3)
    net = glorot(eqx.nn.MLP(dim, "scalar", width, depth, activation=jnp.tanh, key=k1), key=k2)
    model = pinn.HardConstraintModel(net, problem.boundary_value, problem.sq_distance)
    batch = pinn.sample_collocation(problem, key=k3, n_interior=n_residual, n_constraint={},
                                    sampler=pinn.Sobol())
    args = pinn.PINNArgs(problem, batch, {"pde": 1.0})
    sched = optax.exponential_decay(lr, steps, 0.05)
    res = fit(pinn.pinn_loss, model, optax.adam(sched), steps=steps, args=args,
              progress=max(1, steps // 10))
    return res.value, np.asarray(res.history["loss"])


def rel_l2(pred, ref, mask):
    return float(jnp.linalg.norm(jnp.where(mask, pred - ref, 0.0))
                 / jnp.linalg.norm(jnp.where(mask, ref, 0.0)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default="jaxsci-out/npbe")
    p.add_argument("--grid", type=int, default=41)
    p.add_argument("--n-residual", type=int, default=8000)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--steps9", type=int, default=40000)
    p.add_argument("--width", type=int, default=48)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--exclude", type=float, default=0.3,
                   help="exclusion radius about each charge for the error (default 0.3 = 2 sigma)")
    p.add_argument("--n-orient", type=int, default=4, help="held-out orientations")
    a = p.parse_args(argv)
    if a.quick:
        a.grid, a.n_residual, a.steps, a.steps9, a.width, a.depth, a.n_orient = (
            17, 300, 150, 150, 16, 2, 2)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    jax.config.update("jax_enable_x64", True)
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    mol = make_molecule()
    n = a.grid
    pts = pinn.node_grid(mol.domain.lower, mol.domain.upper, n).reshape(-1, 3)

    print(f"[1/4] reference solve {n}^3 ...", flush=True)
    t0 = time.perf_counter()
    ref = eqx.filter_jit(pinn.solve_pbe)(mol, n)
    print(f"      Newton steps {int(ref.stats['num_steps'])}, CG steps "
          f"{int(ref.stats['cg_steps'])}, |F| {float(ref.stats['residual_norm']):.2e} "
          f"({time.perf_counter() - t0:.1f} s)")
    phi_ref = ref.value.reshape(-1)
    dist = jnp.min(jnp.linalg.norm(pts[:, None, :] - mol.positions[None], axis=-1), axis=1)
    mask = dist > a.exclude

    print("[2/4] 3-D PINN ...", flush=True)
    t0 = time.perf_counter()
    model, hist = train(mol, 3, jr.key(0), a.width, a.depth, a.n_residual, a.steps, 3e-3)
    t3 = time.perf_counter() - t0
    phi_nn = eqx.filter_jit(jax.vmap(model))(pts)
    err3 = rel_l2(phi_nn, phi_ref, mask)

    print("[3/4] 9-input PINN and held-out orientation references ...", flush=True)
    rig = pinn.RigidMotionPoissonBoltzmann(mol, max_rotation=0.5, max_translation=0.15)
    t0 = time.perf_counter()
    model9, hist9 = train(rig, 9, jr.key(1), a.width, a.depth, a.n_residual, a.steps9, 3e-3)
    t9 = time.perf_counter() - t0
    lo, hi = rig.domain.lower[3:], rig.domain.upper[3:]
    omegas = lo + (hi - lo) * jr.uniform(jr.key(123), (a.n_orient, 6))
    refs = eqx.filter_jit(jax.vmap(lambda w: pinn.solve_pbe(rig.at(w), n).value))(omegas)
    errs9 = []
    for w, r in zip(omegas, refs):
        xw = jnp.concatenate([pts, jnp.broadcast_to(w, (pts.shape[0], 6))], axis=1)
        pos = rig.charge_positions(w)
        m = jnp.min(jnp.linalg.norm(pts[:, None, :] - pos[None], axis=-1), axis=1) > a.exclude
        errs9.append(rel_l2(eqx.filter_jit(jax.vmap(model9))(xw), r.reshape(-1), m))

    print("[4/4] plots ...", flush=True)
    mid = n // 2
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, field, title in [(axes[0], phi_ref, "reference (FV)"), (axes[1], phi_nn, "PINN"),
                             (axes[2], phi_nn - phi_ref, "error")]:
        im = ax.imshow(np.asarray(field).reshape(n, n, n)[:, :, mid].T, origin="lower",
                       extent=(-1, 1, -1, 1))
        fig.colorbar(im, ax=ax)
        ax.set_title(f"{title}, z = 0")
    fig.tight_layout()
    fig.savefig(out / "npbe_slices.png", dpi=110)
    plt.close(fig)
    plt.figure(figsize=(5, 3.5))
    plt.semilogy(hist, label="3-D")
    plt.semilogy(hist9, label="9-input")
    plt.xlabel("Adam step")
    plt.ylabel("residual loss")
    plt.legend()
    plt.tight_layout()
    plt.savefig(out / "npbe_loss.png", dpi=110)
    plt.close()

    print("\nResults (float64; error on the node grid, nodes within "
          f"{a.exclude} of a charge excluded)")
    print(f"  {'case':<22} {'rel. L2':>10} {'target':>8} {'final loss':>11} {'train s':>8}")
    print(f"  {'3-D, fixed pose':<22} {err3:>10.3e} {'1e-2':>8} {hist[-1]:>11.3e} {t3:>8.1f}")
    print(f"  {'9-input, held-out':<22} {max(errs9):>10.3e} {'3e-2':>8} {hist9[-1]:>11.3e} {t9:>8.1f}")
    print(f"  (9-input per orientation: {', '.join(f'{e:.3e}' for e in errs9)})")
    print(f"  scale: grid {n}^3, Nr={a.n_residual}, MLP {a.depth} x {a.width} tanh, Adam "
          f"{a.steps} / {a.steps9} steps")
    return {"rel_l2_3d": err3, "rel_l2_9d": max(errs9)}


if __name__ == "__main__":
    main()
