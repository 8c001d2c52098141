"""Demo: hexahedral quadrature error and corrected 2x2x2 weights (Oishi & Yagawa 2017,
review section 2.3.1, eqs. 401-402).

200 distorted trilinear hexahedra (unit cube, nodes moved by U[-0.2, 0.2]); the q = 30
Gauss-Legendre stiffness is the reference. Prints the median error e_q of eq. 401 for
q = 1..6 and the Method 2 labels: the share of elements whose 2x2x2 error the random
search over correction factors r (w_opt = r w_GL) reduces (R_error < 1, eq. 402), beside
the paper's > 97 % (that figure is for the network's predicted factors, not the labels).
"""

import pathlib

TITLE = "mechanics: hexahedral quadrature error and corrected 2x2x2 weights (Oishi & Yagawa)"


def run(out: pathlib.Path) -> list[tuple[str, str]]:
    import jax
    import jax.numpy as jnp
    import jax.random as jr
    import matplotlib.pyplot as plt
    import numpy as np

    import jaxsci.mechanics as mech

    n = 200
    mat = mech.IsotropicElasticity(1.0, 0.3)
    x = jax.jit(lambda k: mech.distorted_hexahedra(k, n))(jr.key(0))
    K_ref = jax.jit(lambda x: mech.element_stiffnesses(x, mat, 30, chunk_size=16))(x)
    errs = jax.jit(jax.vmap(lambda x, K: mech.quadrature_errors(x, mat, 6, K_ref=K)))(x, K_ref)
    search = jax.jit(jax.vmap(lambda x, K, k: mech.search_correction_factors(
        x, mat, key=k, num_sets=512, rounds=6, K_ref=K)))
    _, R = search(x, K_ref, jr.split(jr.key(1), n))
    e, R = np.asarray(errs), np.asarray(R)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(R, bins=30)
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xlabel("$R_{error}$ (eq. 402), random-search factors")
    ax.set_ylabel("elements")
    ax.set_title(f"{n} distorted hexahedra: corrected 2x2x2 weights")
    fig.tight_layout()
    fig.savefig(out / "neural_quadrature_rerror.png", dpi=110)
    plt.close(fig)

    rows = [
        ("elements", f"{n}, amplitude 0.2, reference q = 30"),
        ("median e_q, q = 1..6 (eq. 401)", " ".join(f"{v:.1e}" for v in np.median(e, axis=0))),
        ("search labels: median R_error", f"{np.median(R):.3f}"),
        ("search labels: share R < 1 (paper, network: > 97 %)", f"{100 * np.mean(R < 1):.1f} %"),
    ]
    for m, val in rows:
        print(f"    {m}: {val}")
    return rows
