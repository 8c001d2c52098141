"""Demo: path-dependent stress surrogate, 2-layer LSTM vs strain-only MLP (tiny training).

Data from the 1-D return mapping (`jaxsci.mechanics.stress_path`) on random loading/unloading
paths; errors on unseen growing-amplitude cyclic paths (review §11, Wang & Sun 2018).
"""

import importlib.util
import pathlib

TITLE = "mechanics: LSTM vs strain-only MLP stress surrogate on elastoplastic cyclic paths"


def _example():
    path = pathlib.Path(__file__).resolve().parents[1] / "sequence_surrogates.py"
    spec = importlib.util.spec_from_file_location("_seq_surrogates_example", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(out: pathlib.Path) -> list[tuple[str, str]]:
    import jax
    import jax.numpy as jnp
    import jax.random as jr
    import numpy as np

    from jaxsci import mechanics as mech

    ex = _example()
    mat = mech.Plasticity1D(200_000.0, 250.0, 4000.0, 6000.0)
    key = jr.key(0)
    X, S = ex.make_data(32, 50, jr.fold_in(key, 1), mat)
    Xcy = mech.cyclic_strain_path(50, n_cycles=2, amplitude_start=2e-3, amplitude_end=ex.AMP)[None]
    Scy = jax.vmap(lambda e: mech.stress_path(mat, e)[0])(Xcy)
    lo, hi = float(S.min()), float(S.max())
    lo, hi = lo - 0.2 * (hi - lo), hi + 0.2 * (hi - lo)
    Y = (S - lo) / (hi - lo)
    lstm, _ = ex.train(ex.LSTMNet(16, jr.fold_in(key, 2)), X / ex.AMP, Y, 250, 16, 5e-3,
                       jr.fold_in(key, 3), "LSTM", 125)
    mlp, _ = ex.train(ex.MLPNet(jr.fold_in(key, 4)), X / ex.AMP, Y, 250, 16, 5e-3,
                      jr.fold_in(key, 5), "MLP", 125)

    def err(m):
        pred = jax.vmap(m)(Xcy / ex.AMP) * (hi - lo) + lo
        return ex.rel_l2(np.asarray(pred), np.asarray(Scy))

    e_l, e_m = err(lstm), err(mlp)
    rows = [
        ("training", "32 random paths x 50 steps, 250 Adam steps, LSTM 2 x 16"),
        ("cyclic rel. L2 error, LSTM", f"{e_l:.3f}"),
        ("cyclic rel. L2 error, strain-only MLP", f"{e_m:.3f}"),
        ("MLP / LSTM", f"{e_m / e_l:.1f}x"),
    ]
    for m, val in rows:
        print(f"    {m}: {val}")
    return rows
