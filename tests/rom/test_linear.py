"""Linear-subspace ROMs (issue 17: POD-Galerkin / LSPG reproduce an exactly low-rank FOM)."""

import equinox as eqx
import jax
import jax.numpy as jnp

from jaxsci import rom


class _Heat(rom.AbstractFOM):
    """Periodic heat equation, backward Euler: Fourier modes are exact eigenvectors."""

    n: int = eqx.field(static=True, default=32)
    dt: float = eqx.field(static=True, default=1e-3)
    n_steps: int = eqx.field(static=True, default=20)

    @property
    def size(self):
        return self.n

    def initial_condition(self, mu):
        x = jnp.arange(self.n) * 2 * jnp.pi / self.n
        return mu * jnp.sin(x) + 0.5 * jnp.cos(3 * x)

    def stencil(self, rows):
        return jnp.stack([rows, (rows - 1) % self.n, (rows + 1) % self.n], axis=-1)

    def residual_row(self, row, xs, x_prev_row, mu):
        dx = 2 * jnp.pi / self.n
        return xs[0] - x_prev_row - self.dt * (xs[1] - 2 * xs[0] + xs[2]) / dx**2


def test_galerkin_and_lspg_reproduce_an_exactly_low_rank_fom():
    fom = _Heat()
    x = jnp.arange(fom.n) * 2 * jnp.pi / fom.n
    basis = jnp.linalg.qr(jnp.stack([jnp.sin(x), jnp.cos(3 * x)], axis=1))[0]
    ref = rom.solve_fom(fom, 1.3).value
    for method in (rom.galerkin_rom, rom.lspg_rom):
        sol = method(fom, basis, 1.3)
        assert jnp.max(jnp.abs(sol.value - ref)) < 1e-10
        assert jnp.all(rom.relative_error(sol.value, ref) < 1e-10)
    batch = jax.vmap(lambda m: rom.lspg_rom(fom, basis, m).value)(jnp.array([1.0, 1.3]))
    assert jnp.allclose(batch[1], rom.lspg_rom(fom, basis, 1.3).value, atol=1e-12)
