"""Demo: ReLU trainability at initialisation (Shin & Karniadakis 2020), Monte Carlo vs theory."""

import pathlib

TITLE = "ReLU trainability: dead neurons at initialisation, Monte Carlo vs Theorem 1 / Lemma 6"


def run(out: pathlib.Path) -> list[tuple[str, str]]:
    import jax
    import matplotlib.pyplot as plt
    import numpy as np

    from jaxsci.diagnostics import (
        active_distribution,
        first_layer_active_distribution,
        init_statistics,
        second_layer_transition,
        trainability_shallow,
    )
    from jaxsci.init import NormalInit, UnitHypersphereInit

    num = 50_000
    # Section 1: a width-2 shallow network with He-with-bias initialisation on [-1, 1].
    c2 = init_statistics(jax.random.key(0), (1, 2), NormalInit(with_bias=True), num=num)
    fail_mc = float(np.mean(c2[:, 0, 0] < 2))
    fail_th = 1 - float(trainability_shallow(2, 2, 1, 1.0))
    se2 = np.sqrt(fail_mc * (1 - fail_mc) / num)
    # Fig. E1 (c): unit hypersphere without bias, then normal with bias; (1, 6, 4) on B_1.
    sch = [UnitHypersphereInit(), NormalInit(with_bias=True)]
    c = init_statistics(jax.random.key(1), (1, 6, 4), sch, num=num)
    pi1 = np.asarray(first_layer_active_distribution(6, 1, 1.0, with_bias=False))
    pi2_th = pi1 @ np.asarray(second_layer_transition(sch[0], sch[1], 6, 4, 1.0))
    pi2, se = active_distribution(c[:, 1, 0], 4)
    z = float(np.max(np.abs(pi2 - pi2_th) / np.where(se > 0, se, np.inf)))

    fig, ax = plt.subplots(figsize=(5, 3.5))
    k = np.arange(5)
    ax.bar(k - 0.2, pi2, 0.4, yerr=3 * se, label=f"Monte Carlo ({num} inits)")
    ax.bar(k + 0.2, pi2_th, 0.4, label="theory (Lemma 6)")
    ax.set_xlabel("active neurons in layer 2")
    ax.set_ylabel("probability")
    ax.set_title("(1, 6, 4) ReLU net on [-1, 1]")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "relu_active_distribution.png", dpi=120)
    plt.close(fig)
    return [
        ("width-2 failure prob, theory (>= 0.43)", f"{fail_th:.4f}"),
        ("width-2 failure prob, Monte Carlo", f"{fail_mc:.4f} +- {se2:.4f}"),
        ("pi_2 max |MC - theory| / SE", f"{z:.2f}"),
        ("E[m_2] MC / theory", f"{np.sum(k * pi2):.4f} / {np.sum(k * pi2_th):.4f}"),
    ]
