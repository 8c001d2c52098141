"""Demo: tensor-basis GP vs component-wise GP for Mooney-Rivlin stress (Frankel et al., Fig. 2).

Training sets of n = 12 random Finger tensors with eigenvalues in [1.0, 1.5]
(eqs. 42-43), Mooney-Rivlin stress (eq. 41); 2 trials and 4 hyperparameter
restarts (reduced from the paper's 100 trials / 20 restarts and its range of sizes to fit
the 20 s demo budget: every size costs one compilation per model; see
`examples/hyperelastic_gp.py` for the size sweep), all
trials and restarts of one size in one `vmap`. Test RMSE on 100 held-out tensors.
"""

import pathlib

TITLE = "Hyperelasticity: tensor-basis GP vs component GP stress (jaxsci.mechanics)"

SIZES = (12,)
TRIALS = 2
RESTARTS = 4


def run(out: pathlib.Path) -> list[tuple[str, str]]:
    import jax
    import jax.random as jr
    import matplotlib.pyplot as plt
    import numpy as np

    from jaxsci import mechanics as mech

    mr = mech.MooneyRivlin()
    stress = jax.jit(jax.vmap(lambda B: mech.cauchy_stress(mr, B)))  # one program, not op by op
    res = {"TBGP": [], "component GP": []}
    for i, n in enumerate(SIZES):
        # test and training tensors in one draw: one shape, one sampling program
        B = mech.sample_finger_tensors(100 + TRIALS * n, key=jr.key(10 + i))
        S_all = stress(B)
        Bt, St = B[:100], S_all[:100]
        Bs, S = B[100:].reshape(TRIALS, n, 3, 3), S_all[100:].reshape(TRIALS, n, 3, 3)
        for name, fit in (("TBGP", mech.fit_tbgp), ("component GP", mech.fit_component_gp)):
            r = mech.stress_rmse_trials(fit, Bs, S, Bt, St, key=jr.key(i), num_restarts=RESTARTS)
            res[name].append(float(np.mean(np.asarray(r))))
    fig, ax = plt.subplots(figsize=(5, 3.5))
    names = list(res)
    ax.bar(names, [res[k][0] for k in names], color=["C0", "C1"])
    ax.set_yscale("log")
    ax.set_xlabel(f"model (n = {SIZES[0]})")
    ax.set_ylabel("stress RMSE [MPa]")
    ax.set_title("Mooney-Rivlin, eigenvalues of B in [1.0, 1.5]")
    fig.tight_layout()
    fig.savefig(out / "mechanics_rmse.png", dpi=120)
    plt.close(fig)
    rows = [("setting", f"{TRIALS} trials x {RESTARTS} restarts, 100 test tensors")]
    for j, n in enumerate(SIZES):
        tb, cg = res["TBGP"][j], res["component GP"][j]
        rows.append((f"n={n}: RMSE TBGP / component GP", f"{tb:.2e} / {cg:.2e} ({cg / tb:.0f}x)"))
    return rows
