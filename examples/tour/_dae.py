"""Demo: the paper's 5-node transistor amplifier (a circuit DAE with singular mass matrix)
solved by the RODAS4 mass-matrix solver inside diffrax, for the nominal parameters and a
batch of random parameter samples (+-20 %, the map Xi) in one vmapped call.
"""

import pathlib

TITLE = "dae: transistor-amplifier DAE, Rodas4 in diffrax, parameter sweep (jaxsci.dae)"


def run(out: pathlib.Path) -> list[tuple[str, str]]:
    import time

    import jax
    import jax.numpy as jnp
    import matplotlib.pyplot as plt
    import numpy as np

    import jaxsci.dae as dae

    circuit = dae.TransistorAmplifier()
    ts = jnp.linspace(circuit.t0, circuit.t1, 300)
    k = 16
    samples = jnp.concatenate(
        [jnp.full((1, 10), 0.5), jax.random.uniform(jax.random.key(0), (k - 1, 10))]
    )
    t = time.perf_counter()
    sol = dae.sweep(circuit, samples, ts, rtol=1e-6, atol=1e-8, chunk_size=k,
                    progress=False)
    y = np.asarray(jax.block_until_ready(sol.value))
    t_first = time.perf_counter() - t
    t = time.perf_counter()
    jax.block_until_ready(dae.sweep(circuit, samples, ts, chunk_size=k, progress=False))
    t_run = time.perf_counter() - t

    fig, ax = plt.subplots(figsize=(7, 3.6))
    tt = np.asarray(ts)
    for j in range(1, k):
        ax.plot(tt, y[j], color="0.7", lw=0.8)
    ax.plot(tt, y[0], color="C0", lw=1.8, label="$u_5$, nominal parameters")
    ax.plot(tt, 0.4 * np.sin(2 * np.pi * tt / 0.01), "C1--", lw=1, label="input $u_e$")
    ax.set_xlabel("t [s]")
    ax.set_ylabel("voltage [V]")
    ax.set_title(f"5-node transistor amplifier, nominal + {k - 1} samples (+-20 %)")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(out / "dae_amplifier_sweep.png", dpi=110)
    plt.close(fig)

    steps = np.asarray(sol.stats["num_steps"])
    rows = [
        ("samples x outputs", f"{k} x {len(ts)} (rtol 1e-6, atol 1e-8)"),
        ("sweep: compile+run / run", f"{t_first:.1f} s / {t_run:.2f} s"),
        ("Rodas4 steps per sample", f"{steps.mean():.0f} (min {steps.min()}, max {steps.max()})"),
        ("u5 range, nominal", f"[{y[0].min():.3f}, {y[0].max():.3f}] V"),
        ("u5 at t_end, spread over samples", f"{y[:, -1].std():.3f} V (std)"),
    ]
    for m, val in rows:
        print(f"    {m}: {val}")
    return rows
