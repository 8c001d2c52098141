"""EDMD and Hankel DMD: known Koopman spectra, forecasts, dictionaries, errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci.koopman import (
    FunctionDictionary,
    Monomials,
    RadialBasis,
    edmd,
    hankel_dmd,
    hankel_matrix,
)

MU, LAM = 0.9, 0.5


def _map(z):
    # discrete-time x' = mu x, y' = lambda (y - x^2): exact Koopman eigenvalues 1, mu, lambda, mu^2
    return jnp.array([MU * z[0], LAM * z[1] + (MU**2 - LAM) * z[0] ** 2])


@pytest.fixture(scope="module")
def data():
    x = jax.random.uniform(jax.random.key(0), (60, 2), minval=-1, maxval=1)
    return x, jax.vmap(_map)(x)


def test_edmd_known_eigenvalues(data):
    x, y = data
    inv = FunctionDictionary(lambda z: jnp.array([1.0, z[0], z[1], z[0] ** 2]))
    model = eqx.filter_jit(edmd)(x, y, inv)
    np.testing.assert_allclose(
        np.sort(np.real(model.eigenvalues)), np.sort([1.0, MU, LAM, MU**2]), atol=1e-10
    )
    # eigenfunction of eigenvalue lambda: phi(T(z)) = lambda phi(z)
    z = jnp.array([0.3, -0.7])
    j = int(np.argmin(np.abs(np.asarray(model.eigenvalues) - LAM)))
    phi = lambda p: model.eigenfunctions(p)[j]
    np.testing.assert_allclose(phi(_map(z)), LAM * phi(z), atol=1e-10)
    # the invariant subspace lets EDMD forecast the state exactly
    traj = [z]
    for _ in range(4):
        traj.append(_map(traj[-1]))
    np.testing.assert_allclose(model.forecast(z, jnp.arange(5)), jnp.stack(traj), atol=1e-10)
    # time first for any shape of steps; jit / vmap over initial states
    assert model.forecast(z, jnp.arange(4).reshape(2, 2)).shape == (2, 2, 2)
    np.testing.assert_allclose(model.forecast(z, 3), traj[3], atol=1e-10)
    zs = jnp.stack(traj[:2])
    batched = eqx.filter_jit(jax.vmap(lambda p: model.forecast(p, jnp.arange(2))))(zs)
    np.testing.assert_allclose(batched[1], jnp.stack(traj[1:3]), atol=1e-10)


def test_edmd_monomial_dictionary_contains_spectrum(data):
    x, y = data
    mono = Monomials(2, 2)
    assert mono.exponents.shape == (6, 2)
    np.testing.assert_allclose(mono(jnp.array([2.0, 3.0])), [1, 2, 3, 4, 6, 9])
    lam = np.asarray(edmd(x, y, mono).eigenvalues)
    for known in (1.0, MU, LAM, MU**2):
        assert np.min(np.abs(lam - known)) < 1e-10


def test_edmd_rbf_short_forecast(data):
    x, y = data
    model = edmd(x, y, RadialBasis(x[:25], 0.7))
    z = jnp.array([0.5, 0.3])
    pred = model.forecast(z, jnp.arange(2))
    np.testing.assert_allclose(pred[0], z, atol=1e-8)
    np.testing.assert_allclose(pred[1], _map(z), atol=2e-2)


def test_edmd_bad_input(data):
    x, y = data
    with pytest.raises(ValueError, match="x"):
        edmd(x, y[:5], Monomials(2, 1))
    with pytest.raises(TypeError, match="dictionary"):
        edmd(x, y, lambda z: z)
    with pytest.raises(ValueError, match="degree"):
        Monomials(2, -1)
    with pytest.raises(Exception, match="NaN"):
        edmd(x.at[0, 0].set(jnp.nan), y, Monomials(2, 1))


def test_hankel_dmd_sum_of_exponentials():
    t = jnp.arange(40.0)
    series = 2 * 0.95**t + 0.5 * 0.8**t - 0.3 * (-0.6) ** t + 0.1
    model = hankel_dmd(series[None, :30], 6, rank=4)
    np.testing.assert_allclose(
        np.sort(np.real(model.eigenvalues)), [-0.6, 0.8, 0.95, 1.0], atol=1e-10
    )
    np.testing.assert_allclose(model.forecast(model.last, jnp.arange(11.0))[:, 0], series[29:], atol=1e-10)
    np.testing.assert_allclose(model.reconstruct(jnp.arange(30.0))[:, 0], series[:30], atol=1e-10)
    # from any window of `delays` snapshots (time first)
    np.testing.assert_allclose(model.forecast(series[10:16, None], jnp.arange(5.0))[:, 0],
                               series[15:20], atol=1e-10)
    with pytest.raises(ValueError, match="window"):
        model.forecast(series[:5, None], jnp.arange(3.0))
    # differentiable in the initial window (the forecast is linear in it)
    win, e = series[10:16, None], 1e-3 * jnp.arange(6.0)[:, None]
    jac = jax.jacfwd(lambda w: model.forecast(w, 3.0))(win)  # (1, 6, 1)
    np.testing.assert_allclose(model.forecast(win + e, 3.0) - model.forecast(win, 3.0),
                               jnp.tensordot(jac, e, 2), atol=1e-10)


def test_hankel_matrix_layout_and_errors():
    x = jnp.arange(10.0).reshape(2, 5)
    h = hankel_matrix(x, 3)
    assert h.shape == (6, 3)
    np.testing.assert_array_equal(h[:, 0], [0, 5, 1, 6, 2, 7])
    with pytest.raises(ValueError, match="delays"):
        hankel_matrix(x, 5)
    with pytest.raises(ValueError, match="snapshots"):
        hankel_matrix(jnp.ones(5), 2)
