"""Bad input for jaxsci.rom (DESIGN rule 6): errors name the argument and say what to do."""

import jax
import jax.numpy as jnp
import pytest

from jaxsci import rom


def test_abstract_fom_cannot_be_built():
    with pytest.raises(TypeError):
        rom.AbstractFOM()


def test_burgers1d_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_nodes"):
        rom.Burgers1D(n_nodes=2)
    with pytest.raises(ValueError, match="dt"):
        rom.Burgers1D(dt=-1.0)


def test_solve_fom_rejects_bad_arguments():
    fom = rom.Burgers1D(n_nodes=11, n_steps=2)
    with pytest.raises(ValueError, match="mu"):
        rom.solve_fom(fom, jnp.ones(3))
    with pytest.raises(TypeError, match="fom"):
        rom.solve_fom("burgers", 1.0)
    with pytest.raises(ValueError, match="max_newton"):
        rom.solve_fom(fom, 1.0, max_newton=0)


def test_deim_rejects_bad_bases_and_sample_counts():
    basis = jnp.eye(5)[:, :2]
    with pytest.raises(ValueError, match="basis"):
        rom.deim_indices(jnp.ones(5))
    with pytest.raises(ValueError, match="n_samples"):
        rom.deim_indices(basis, 1)
    with pytest.raises(ValueError, match="rows"):
        rom.gappy_projector(basis, jnp.array([0]))


def test_linear_roms_reject_bad_bases():
    fom = rom.Burgers1D(n_nodes=11, n_steps=2)
    for method in (rom.galerkin_rom, rom.lspg_rom):
        with pytest.raises(ValueError, match="basis"):
            method(fom, jnp.ones((5, 2)), 1.0)
        with pytest.raises(TypeError, match="fom"):
            method(None, jnp.ones((10, 2)), 1.0)
        with pytest.raises(ValueError, match="max_iterations"):
            method(fom, jnp.ones((10, 2)), 1.0, max_iterations=0)
    with pytest.raises(ValueError, match="approx"):
        rom.relative_error(jnp.ones((3, 4)), jnp.ones((3, 5)))


# --- rom2: Burgers2D, POD-LSTM -------------------------------------------------------------


def test_burgers2d_rejects_bad_settings():
    with pytest.raises(ValueError, match="n_nodes"):
        rom.Burgers2D(n_nodes=3)
    with pytest.raises(ValueError, match="dt"):
        rom.Burgers2D(dt=0.0)
    with pytest.raises(ValueError, match="reynolds"):
        rom.Burgers2D(reynolds=-1.0)
    with pytest.raises(ValueError, match="linear_rtol"):
        rom.Burgers2D(linear_rtol=2.0)
    with pytest.raises(ValueError, match="mu"):
        rom.Burgers2D(n_nodes=5).initial_condition(jnp.ones(2))


# --- nonlinear-manifold ROMs and hyper-reduction (helper nmrom) ---

def test_manifolds_reject_bad_sizes_and_inputs():
    import jax.random as jr

    with pytest.raises(TypeError):
        rom.AbstractManifold()
    with pytest.raises(ValueError, match="band"):
        rom.MaskedAutoencoder(10, 2, 4, 0, 1, key=jr.key(0))
    with pytest.raises(TypeError, match="activations"):
        rom.MaskedAutoencoder(10, 2, 4, 3, 1, key=jr.key(0), decoder_activation="swish")
    ae = rom.MaskedAutoencoder(10, 2, 4, 3, 1, key=jr.key(0))
    with pytest.raises(ValueError, match="xhat"):
        ae.decode(jnp.ones(3))
    with pytest.raises(ValueError, match="rows"):
        ae.decode_rows(jnp.ones(2), jnp.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="`x`"):
        ae.encode(jnp.ones((2, 10)))
    with pytest.raises(ValueError, match="basis"):
        rom.LinearManifold(jnp.ones(5))


def test_train_autoencoder_rejects_bad_arguments():
    import jax.random as jr

    ae = rom.MaskedAutoencoder(10, 2, 4, 3, 1, key=jr.key(0))
    data = jnp.ones((30, 10))
    with pytest.raises(TypeError, match="model"):
        rom.train_autoencoder("ae", data, key=jr.key(0))
    with pytest.raises(ValueError, match="snapshots"):
        rom.train_autoencoder(ae, jnp.ones((30, 9)), key=jr.key(0))
    with pytest.raises(ValueError, match="epochs"):
        rom.train_autoencoder(ae, data, key=jr.key(0), epochs=0)
    with pytest.raises(ValueError, match="batch_size"):
        rom.train_autoencoder(ae, data, key=jr.key(0), batch_size=40)
    with pytest.raises(ValueError, match="validation_fraction"):
        rom.train_autoencoder(ae, data, key=jr.key(0), validation_fraction=1.5)
    with pytest.raises(ValueError, match="snapshots"):
        rom.reconstruction_loss(ae, jnp.ones((3, 9)))


def test_manifold_roms_reject_bad_arguments():
    fom = rom.Burgers1D(n_nodes=11, n_steps=2)
    lin = rom.LinearManifold(jnp.eye(10)[:, :2])
    hyper = rom.hyper_reduction(fom, jnp.eye(10)[:, :2], 3)
    for method in (rom.nm_lspg_rom, rom.nm_galerkin_rom):
        with pytest.raises(TypeError, match="manifold"):
            method(fom, jnp.eye(10), 1.0)
        with pytest.raises(ValueError, match="manifold"):
            method(fom, rom.LinearManifold(jnp.eye(5)), 1.0)
        with pytest.raises(ValueError, match="max_iterations"):
            method(fom, lin, 1.0, max_iterations=0)
        with pytest.raises(ValueError, match="mu"):
            method(fom, lin, jnp.ones(2))
    with pytest.raises(TypeError, match="hyper"):
        rom.nm_lspg_hr_rom(fom, lin, None, 1.0)
    bad = rom.HyperReduction(hyper.rows, hyper.entries, hyper.stencil_local, hyper.rows_local,
                             jnp.ones((2, 5)))
    with pytest.raises(ValueError, match="projector"):
        rom.nm_lspg_hr_rom(fom, lin, bad, 1.0)
    with pytest.raises(ValueError, match="residual_basis"):
        rom.hyper_reduction(fom, jnp.eye(5), 3)
    with pytest.raises(TypeError, match="fom"):
        rom.hyper_reduction(None, jnp.eye(10), 3)
    with pytest.raises(ValueError, match="max_newton"):
        rom.residual_snapshots(fom, 1.0, max_newton=0)
    with pytest.raises(TypeError, match="fom"):
        rom.residual_snapshots("fom", 1.0)

def test_pod_lstm_pieces_reject_bad_input():
    series = jnp.ones((10, 2))
    with pytest.raises(ValueError, match="snapshots"):
        rom.pod_coefficients(jnp.ones(5), 2)
    with pytest.raises(ValueError, match="rank"):
        rom.pod_coefficients(jnp.ones((4, 6)), 0)
    with pytest.raises(ValueError, match="series"):
        rom.moving_windows(jnp.ones(10), 3)
    with pytest.raises(ValueError, match="too few"):
        rom.moving_windows(series, 8, 3)
    with pytest.raises(ValueError, match="n_modes"):
        rom.PODLSTM(0, 4, key=jax.random.key(0))
    with pytest.raises(TypeError, match="bidirectional"):
        rom.PODLSTM(2, 4, key=jax.random.key(0), bidirectional="yes")
    with pytest.raises(ValueError, match="scale"):
        rom.PODLSTM(2, 4, key=jax.random.key(0), scale=jnp.ones(3))
    model = rom.PODLSTM(2, 4, key=jax.random.key(0))
    with pytest.raises(ValueError, match="window"):
        model(jnp.ones((5, 3)))
    with pytest.raises(ValueError, match="n_steps"):
        rom.rollout(model, series[:3], 0)
    with pytest.raises(TypeError, match="model"):
        rom.rollout(lambda w: w[-1], series[:3], 2)
    with pytest.raises(ValueError, match="moving_windows"):
        rom.forecast_loss(model, (jnp.ones((4, 3, 2)), jnp.ones((5, 1, 2))))
