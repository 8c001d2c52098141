"""Nonlinear-manifold ROMs and hyper-reduction (issue 17)."""

import jax
import jax.numpy as jnp
import jax.random as jr

from jaxsci import rom

FOM = rom.Burgers1D(n_nodes=17, dt=2e-3, n_steps=8)   # N = 16, c = dt/dx = 0.016


def test_exact_manifold_reproduces_the_fom():
    ref = rom.solve_fom(FOM, 1.0).value
    ident = rom.LinearManifold(jnp.eye(FOM.size))
    for method in (rom.nm_lspg_rom, rom.nm_galerkin_rom):
        sol = method(FOM, ident, 1.0)
        assert jnp.max(jnp.abs(sol.value - ref)) < 1e-9
    hyper = rom.hyper_reduction(FOM, jnp.eye(FOM.size), FOM.size)
    assert jnp.array_equal(jnp.sort(hyper.rows), jnp.arange(FOM.size))
    hr = rom.nm_lspg_hr_rom(FOM, ident, hyper, 1.0)
    assert jnp.max(jnp.abs(hr.value - ref)) < 1e-9


def test_hr_with_all_rows_equals_nm_lspg_on_an_autoencoder_manifold():
    ae = rom.MaskedAutoencoder(FOM.size, 3, 8, 4, 2, key=jr.key(0))
    hyper = rom.hyper_reduction(FOM, jnp.eye(FOM.size), FOM.size)
    full = rom.nm_lspg_rom(FOM, ae, 1.0, throw=False)
    hr = rom.nm_lspg_hr_rom(FOM, ae, hyper, 1.0, throw=False)
    assert jnp.allclose(hr.stats["latent"], full.stats["latent"], atol=1e-8)
    assert jnp.allclose(full.value[0], FOM.initial_condition(1.0), atol=1e-14)  # x^0 exact
    # vmap == loop over parameters
    mus = jnp.array([0.9, 1.1])
    batch = jax.vmap(lambda m: rom.nm_lspg_hr_rom(FOM, ae, hyper, m, throw=False).stats["latent"])(mus)
    assert jnp.allclose(batch[1], rom.nm_lspg_hr_rom(FOM, ae, hyper, 1.1, throw=False).stats["latent"], atol=1e-10)


def test_residual_snapshots_include_newton_iterates_and_hr_sampling():
    res, valid = rom.residual_snapshots(FOM, 1.0)
    iters = rom.solve_fom(FOM, 1.0).stats["newton_iterations"]
    assert int(valid.sum()) == int(iters.sum())       # one residual per Newton update
    basis = jnp.linalg.svd(res[valid].T, full_matrices=False)[0][:, :4]
    hyper = rom.hyper_reduction(FOM, basis, 6)
    assert hyper.rows.shape == (6,) and hyper.projector.shape == (4, 6)
    assert jnp.array_equal(hyper.entries[hyper.rows_local], hyper.rows)
    lin = rom.LinearManifold(jnp.eye(FOM.size)[:, :4])
    sol = rom.nm_lspg_hr_rom(FOM, lin, hyper, 1.0, throw=False, reconstruct=False)
    assert sol.value.shape == (FOM.n_steps + 1, 4)


def test_forward_derivative_wrt_mu_matches_finite_differences():
    ident = rom.LinearManifold(jnp.eye(FOM.size))
    f = lambda m: jnp.sum(rom.nm_lspg_rom(FOM, ident, m, rtol=1e-12).value[-1] ** 2)
    d = jax.jacfwd(f)(1.0)
    h = 1e-5
    assert jnp.allclose(d, (f(1.0 + h) - f(1.0 - h)) / (2 * h), rtol=1e-5)
