"""DEIM / greedy gappy-POD sampling (issue 17: DEIM is exact on its basis's span)."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxsci import rom


def _numpy_deim(u):
    """Chaturantabut & Sorensen (2010) Algorithm 1, written out in NumPy."""
    p = [int(np.argmax(np.abs(u[:, 0])))]
    for l in range(1, u.shape[1]):
        c = np.linalg.solve(u[p, :l], u[p, l])
        p.append(int(np.argmax(np.abs(u[:, l] - u[:, :l] @ c))))
    return p


def test_deim_matches_algorithm_and_interpolates_span_exactly():
    key1, key2 = jax.random.split(jax.random.key(1))
    basis = jnp.linalg.qr(jax.random.normal(key1, (60, 6)))[0]
    idx = rom.deim_indices(basis)
    assert list(np.asarray(idx)) == _numpy_deim(np.asarray(basis))
    v = basis @ jax.random.normal(key2, (6,))
    for rows in (idx, rom.deim_indices(basis, 11)):
        assert len(set(np.asarray(rows).tolist())) == rows.shape[0]      # distinct
        rec = basis @ (rom.gappy_projector(basis, rows) @ v[rows])
        assert jnp.allclose(rec, v, atol=1e-12)
    over = rom.deim_indices(basis, 11)
    assert jnp.array_equal(over[:6], idx)                                # DEIM first
    assert jnp.array_equal(jax.jit(rom.deim_indices, static_argnums=1)(basis, 11), over)
