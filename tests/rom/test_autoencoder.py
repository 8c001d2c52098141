"""The masked autoencoder (issue 17): banded sparse decoder, row-wise decoding, training."""

import jax
import jax.numpy as jnp
import jax.random as jr

from jaxsci import rom


def _small(key=0, **kw):
    return rom.MaskedAutoencoder(12, 3, 10, 4, 2, key=jr.key(key), **kw)


def test_mask_structure_and_hidden_width():
    ae = _small()
    assert ae.hidden_width == 4 + 11 * 2
    dense = ae.dense_last_layer()
    nnz = jnp.sum(dense != 0, axis=1)
    assert jnp.all(nnz == 4)                      # each output sees exactly b hidden units
    cols = jnp.arange(ae.hidden_width)
    for i in (0, 5, 11):
        assert jnp.array_equal(jnp.nonzero(dense[i])[0], cols[2 * i: 2 * i + 4])


def test_decoder_equals_dense_masked_layer_and_its_jacobian():
    ae = _small()
    dense = ae.dense_last_layer()

    def dense_decode(xhat):
        return dense @ jax.nn.swish(ae.dec_w1 @ xhat + ae.dec_b1) + ae.dec_b2

    xhat = jr.normal(jr.key(1), (3,))
    assert jnp.allclose(ae.decode(xhat), dense_decode(xhat), atol=1e-13)
    jac = jax.jacfwd(ae.decode)(xhat)
    assert jac.shape == (12, 3)
    assert jnp.allclose(jac, jax.jacrev(dense_decode)(xhat), atol=1e-13)
    rows = jnp.array([7, 0, 11, 3])
    assert jnp.allclose(ae.decode_rows(xhat, rows), ae.decode(xhat)[rows], atol=1e-13)
    assert jnp.allclose(jax.jacfwd(ae.decode_rows)(xhat, rows), jac[rows], atol=1e-13)
    # jit == eager, vmap == loop
    assert jnp.allclose(jax.jit(lambda m, x, r: m.decode_rows(x, r))(ae, xhat, rows), ae.decode_rows(xhat, rows), atol=1e-14)
    xs = jr.normal(jr.key(2), (4, 3))
    assert jnp.allclose(jax.vmap(ae.decode)(xs), jnp.stack([ae.decode(x) for x in xs]), atol=1e-13)
    assert ae.encode(jnp.ones(12)).shape == (3,)


def test_linear_manifold_and_float32():
    basis = jnp.linalg.qr(jr.normal(jr.key(0), (8, 2)))[0]
    lin = rom.LinearManifold(basis)
    q = jnp.array([0.3, -1.0])
    assert jnp.allclose(lin.decode(q), basis @ q)
    assert jnp.allclose(lin.encode(lin.decode(q)), q)
    assert jnp.allclose(lin.decode_rows(q, jnp.array([1, 5])), (basis @ q)[jnp.array([1, 5])])
    ae32 = _small(dtype=jnp.float32)
    assert ae32.decode(jnp.ones(3, jnp.float32)).dtype == jnp.float32


def _travelling_waves(n_grid=12, n_snap=60):
    x = jnp.linspace(0, 1, n_grid)
    shifts = jnp.linspace(0, 0.5, n_snap)
    return jnp.exp(-30 * (x[None, :] - 0.25 - shifts[:, None]) ** 2)


def test_training_reduces_the_loss_and_returns_the_best_validation_model():
    data = _travelling_waves()
    ae = _small()
    key = jr.key(3)
    sol = rom.train_autoencoder(ae, data, key=key, epochs=60, batch_size=6, patience=60)
    hist = sol.history["valid_loss"]
    assert sol.stats["valid_loss"] < 0.5 * sol.stats["initial_valid_loss"]
    assert jnp.nanmean(sol.history["train_loss"][-5:]) < sol.history["train_loss"][0]
    # the returned model is the best-validation one: recompute its loss on the same split
    perm = jr.permutation(jr.fold_in(key, 0), data.shape[0])
    valid = data[perm[:6]]
    best = rom.reconstruction_loss(sol.value, valid)
    assert jnp.allclose(best, sol.stats["valid_loss"], rtol=1e-10)
    assert jnp.allclose(best, jnp.nanmin(hist), rtol=1e-10)
    # early stopping: a huge learning rate makes the validation loss stall; patience 3 stops
    sol2 = rom.train_autoencoder(ae, data, key=key, epochs=60, batch_size=6, patience=3,
                                 learning_rate=0.3)
    assert bool(sol2.stats["stopped_early"]) and int(sol2.stats["epochs"]) < 60
    assert int(sol2.stats["epochs"]) - int(sol2.stats["best_epoch"]) == 3
    assert jnp.allclose(rom.reconstruction_loss(sol2.value, valid), sol2.stats["valid_loss"], rtol=1e-10)
