"""Demo: linear-subspace vs nonlinear-manifold ROMs of 1-D inviscid Burgers at n_s = 5.

Kim, Choi, Widemann & Zohdi (JCP 451:110841, 2022): snapshots at mu in {0.9, 1.1}, test
mu = 1.0; 5 POD modes (LS-LSPG) against the shallow masked autoencoder (NM-LSPG and the
hyper-reduced NM-LSPG-HR) on a reduced grid (N = 200, dt/dx as the paper) with a short
training run. The full-size table is examples/nonlinear_manifold_rom.py.
"""

import pathlib

TITLE = "rom: LS-LSPG vs NM-LSPG(-HR) with a masked autoencoder, 1-D Burgers, n_s = 5"

# reduced grid and training budget of the demo (the paper: N = 1000, up to 10,000 epochs)
N_NODES, DT, N_STEPS, M1, BAND, SHIFT, EPOCHS = 201, 5e-3, 100, 400, 36, 12, 150


def run(out: pathlib.Path) -> list[tuple[str, str]]:
    import jax
    import jax.numpy as jnp
    import jax.random as jr
    import matplotlib.pyplot as plt
    import numpy as np

    import jaxsci.surrogates as sur
    from jaxsci import rom

    fom = rom.Burgers1D(n_nodes=N_NODES, dt=DT, n_steps=N_STEPS)
    n = fom.size
    mus = jnp.array([0.9, 1.1])
    train = jax.vmap(lambda m: rom.solve_fom(fom, m).value)(mus)
    x0s = jax.vmap(fom.initial_condition)(mus)
    centred = (train - x0s[:, None, :]).reshape(-1, n)
    ref = rom.solve_fom(fom, 1.0).value

    basis = sur.pod(centred.T, rank=5).basis
    ls = rom.lspg_rom(fom, basis, 1.0).value

    ae = rom.MaskedAutoencoder(n, 5, M1, BAND, SHIFT, key=jr.key(0), dtype=jnp.float32)
    fit = rom.train_autoencoder(ae, centred.astype(jnp.float32), key=jr.key(1), epochs=EPOCHS)
    nm = rom.nm_lspg_rom(fom, fit.value, 1.0, throw=False).value
    res = [rom.residual_snapshots(fom, m) for m in mus]
    res = jnp.concatenate([r[np.asarray(v)] for r, v in res])
    hyper = rom.hyper_reduction(fom, sur.pod(res.T, rank=31).basis, 47)
    hr = rom.nm_lspg_hr_rom(fom, fit.value, hyper, 1.0, throw=False).value

    errs = {name: np.asarray(rom.relative_error(s, ref)) for name, s in
            (("LS-LSPG", ls), ("NM-LSPG", nm), ("NM-LSPG-HR", hr))}
    x = np.asarray(fom.grid)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(x, np.asarray(ref[-1]), "k-", lw=2, label="FOM")
    for (name, s), style in zip((("LS-LSPG", ls), ("NM-LSPG", nm), ("NM-LSPG-HR", hr)),
                                ("g-.", "b:", "r--")):
        ax.plot(x, np.asarray(s[-1]), style, label=name)
    ax.set_title(f"1-D Burgers, mu = 1, t = {N_STEPS * DT:.2f}, n_s = 5 (N = {n})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "rom_burgers1d_ls_vs_nm.png", dpi=110)
    plt.close(fig)

    rows = [("grid / training", f"N = {n}, {N_STEPS} steps; {int(fit.stats['epochs'])} epochs, "
                                f"valid mse {float(fit.stats['valid_loss']):.1e}")]
    rows += [(f"{name} avg / max rel. error", f"{100 * e.mean():.2f} % / {100 * e.max():.2f} %")
             for name, e in errs.items()]
    rows.append(("hyper-reduction", f"{hyper.rows.shape[0]} sampled rows, "
                                    f"{hyper.entries.shape[0]} decoded entries of {n}"))
    for m, val in rows:
        print(f"    {m}: {val}")
    return rows
