"""Banded Jacobians for the Rosenbrock family (issue 22, structured linear algebra): the
banded LU against NumPy, the coloured Jacobian against `jax.jacfwd`, banded solves equal to
dense ones on the transmission-line DAE, and the out-of-band check."""

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsci.dae as dae
from jaxsci.dae._banded import (
    band_lu_factor,
    band_lu_solve,
    band_matvec,
    band_to_dense,
    banded_jacobian,
    dense_to_band,
)


def _random_banded(rng, n, kl, ku, zero_diagonal):
    a = np.zeros((n, n))
    for d in range(-kl, ku + 1):
        a += np.diag(rng.normal(size=n - abs(d)), d)
    if zero_diagonal:  # forces row swaps: elimination without pivoting would divide by 0
        a[np.arange(0, n, 3), np.arange(0, n, 3)] = 0.0
    return a


@pytest.mark.parametrize(
    "n, kl, ku, zero_diagonal", [(7, 0, 0, False), (9, 1, 1, True), (11, 3, 2, True), (6, 0, 3, True)]
)
def test_band_lu_solves_like_numpy(n, kl, ku, zero_diagonal):
    rng = np.random.default_rng(n + 10 * kl + 100 * ku)
    a = _random_banded(rng, n, kl, ku, zero_diagonal)
    if kl == 0 and zero_diagonal:  # no row below to pivot with: keep it nonsingular
        a[np.arange(0, n, 3), np.arange(0, n, 3)] = 1e-3
    b = rng.normal(size=n)
    rows = dense_to_band(jnp.asarray(a), kl, ku)
    np.testing.assert_array_equal(band_to_dense(rows, kl, ku), a)
    np.testing.assert_allclose(band_matvec(rows, jnp.asarray(b), kl), a @ b, rtol=1e-12, atol=1e-12)
    x = jax.jit(lambda r, b: band_lu_solve(band_lu_factor(r, kl), b))(rows, jnp.asarray(b))
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-8, atol=1e-8)


def test_band_lu_grad_matches_dense_solve():
    rng = np.random.default_rng(1)
    a = jnp.asarray(_random_banded(rng, 9, 2, 1, True))
    b = jnp.asarray(rng.normal(size=9))

    def banded(a, b):
        return jnp.sum(band_lu_solve(band_lu_factor(dense_to_band(a, 2, 1), 2), b) ** 2)

    def dense(a, b):
        return jnp.sum(jnp.linalg.solve(a, b) ** 2)

    ga, gb = jax.jit(jax.grad(banded, argnums=(0, 1)))(a, b)
    ra, rb = jax.grad(dense, argnums=(0, 1))(a, b)
    mask = (np.arange(9)[None, :] - np.arange(9)[:, None] >= -2) & (
        np.arange(9)[None, :] - np.arange(9)[:, None] <= 1)  # the band's entries
    np.testing.assert_allclose(np.asarray(ga)[mask], np.asarray(ra)[mask], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(gb, rb, rtol=1e-8, atol=1e-10)


def test_coloured_jacobian_equals_jacfwd():
    line = dae.TransmissionLine(n_nodes=11, output_node=3)
    p = line.nominal
    v = jnp.asarray(np.random.default_rng(2).uniform(-0.3, 0.3, 11))

    def f(y):
        return line.rhs(0.001, y, p)

    rows = banded_jacobian(f, v, 1, 1)
    np.testing.assert_allclose(band_to_dense(rows, 1, 1), jax.jacfwd(f)(v), rtol=1e-13, atol=0)
    # a wider declared band holds the same Jacobian with zeros around it
    wide = banded_jacobian(f, v, 2, 3)
    np.testing.assert_allclose(band_to_dense(wide, 2, 3), jax.jacfwd(f)(v), rtol=1e-13, atol=0)


LINE = dae.TransmissionLine(n_nodes=20, output_node=4, t1=0.002)
TS = jnp.linspace(0.0, 0.002, 5)


@pytest.fixture(scope="module")
def dense_states():
    return dae.simulate(LINE, LINE.nominal, TS, solver=dae.Rodas4(jacobian=dae.DenseJacobian()),
                        rtol=1e-8, atol=1e-10, save_state=True).value


def test_banded_rodas_equals_dense_and_vmaps(dense_states):
    solver = dae.Rodas4(jacobian=LINE.jacobian)
    banded = dae.simulate(LINE, LINE.nominal, TS, solver=solver, rtol=1e-8, atol=1e-10,
                          save_state=True).value
    np.testing.assert_allclose(banded, dense_states, rtol=0, atol=1e-12)
    assert float(jnp.max(jnp.abs(banded[-1]))) > 0.05  # the signal has entered the line
    # a sweep over two parameter samples, vmapped, with the banded solver
    samples = jnp.array([[0.5, 0.5, 0.5, 0.5], [0.0, 1.0, 0.2, 0.7]])
    ys = dae.sweep(LINE, samples, TS, solver=solver, rtol=1e-8, atol=1e-10,
                   progress=False).value
    np.testing.assert_allclose(ys[0], dense_states[:, LINE.output_node - 1], rtol=0, atol=1e-12)
    assert float(jnp.max(jnp.abs(ys[0] - ys[1]))) > 1e-4


def _coupled(t, y, args):
    # y[0] depends on y[3]: outside a (1, 1) band
    return jnp.stack([-y[0] + 0.5 * y[3], -y[1] + y[0], y[2] - y[1], -y[3]])


def test_couplings_outside_the_band_are_refused():
    term = dae.MassMatrixTerm(_coupled, jnp.diag(jnp.array([1.0, 1.0, 0.0, 1.0])))
    y0 = jnp.array([1.0, 1.0, 1.0, 1.0])

    def solve(jacobian):
        return dfx.diffeqsolve(term, dae.Rodas4(jacobian=jacobian), 0.0, 0.1, 0.01, y0,
                               stepsize_controller=dfx.PIDController(rtol=1e-6, atol=1e-8))

    with pytest.raises(eqx.EquinoxRuntimeError, match="outside the declared band"):
        solve(dae.BandedJacobian(1, 1))
    # declared wide enough (or unchecked and then the user's responsibility) it runs
    assert bool(jnp.all(jnp.isfinite(solve(dae.BandedJacobian(1, 3)).ys)))


def test_float32_banded_solve():
    line32 = dae.TransmissionLine(n_nodes=8, output_node=2, t1=0.001)
    p32 = jax.tree_util.tree_map(lambda x: x.astype(jnp.float32), line32.nominal)
    ts = jnp.linspace(0.0, 0.001, 3, dtype=jnp.float32)
    out = dae.simulate(line32, p32, ts, solver=dae.Rodas4(jacobian=line32.jacobian),
                       rtol=1e-4, atol=1e-6)
    assert out.value.dtype == jnp.float32
    assert bool(jnp.all(jnp.isfinite(out.value)))
