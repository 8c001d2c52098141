"""Return mapping (1-D and 3-D J2 plasticity) against closed forms, consistency, tangents."""

import functools

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from jaxsci import mechanics as mech

E, SY, K, H = 200_000.0, 250.0, 4000.0, 6000.0
MAT1 = mech.Plasticity1D(E, SY, K, H)
MAT3 = mech.J2Plasticity(E, 0.3, SY, K, H)


def _diag(e):
    return jnp.zeros(e.shape + (3, 3)).at[..., 0, 0].set(e)


def test_monotonic_uniaxial_closed_form_and_unloading_slope():
    eps = jnp.concatenate([jnp.linspace(1e-4, 5e-3, 50), 5e-3 - jnp.linspace(1e-4, 1e-3, 10)])
    sig, states = mech.stress_path(MAT1, eps)
    ey = SY / E
    Hs = K + H
    load = np.asarray(eps[:50])
    ref = np.where(load <= ey, E * load, SY + E * Hs / (E + Hs) * (load - ey))
    np.testing.assert_allclose(sig[:50], ref, rtol=1e-12, atol=1e-9)
    # unloading from the peak is elastic, slope E
    np.testing.assert_allclose(np.diff(np.asarray(sig[49:])), -E * 1e-4, rtol=1e-10)
    np.testing.assert_allclose(states.eps_p[50:], states.eps_p[49], rtol=0, atol=0)
    assert float(states.alpha[-1]) > 0


@functools.partial(jax.jit, static_argnums=0)
def _random_paths(mat, keys):
    eps = jax.vmap(lambda k: mech.random_strain_path(80, key=k, n_segments=6, amplitude=6e-3))(keys)
    if isinstance(mat, mech.J2Plasticity):
        # a non-proportional 3-D path: axial strain plus a shear that rotates the deviator
        eps = _diag(eps).at[..., 0, 1].set(0.5 * eps[:, ::-1]).at[..., 1, 0].set(0.5 * eps[:, ::-1])
    sig, states = jax.vmap(lambda e: mech.stress_path(mat, e))(eps)
    f = jax.vmap(jax.vmap(lambda s, st: mech.yield_function(mat, s, st)))(sig, states)
    return eps, sig, states, f


KEYS = jr.split(jr.key(1), 4)


@pytest.mark.parametrize("mat", [MAT1, MAT3], ids=["1d", "3d"])
def test_consistency_condition_on_random_paths(mat):
    _, _, states, f = _random_paths(mat, KEYS)
    plastic = np.diff(np.asarray(states.alpha), axis=1, prepend=0.0) > 0
    assert plastic.mean() > 0.2 and (~plastic).mean() > 0.1
    assert float(jnp.max(f)) <= 1e-9 * SY
    np.testing.assert_allclose(np.asarray(f)[plastic], 0.0, atol=1e-9 * SY)
    assert np.all(np.diff(np.asarray(states.alpha), axis=1) >= 0)


def test_bauschinger_shift_kinematic_vs_isotropic():
    eps = jnp.concatenate([jnp.linspace(1e-4, 4e-3, 40), 4e-3 - jnp.linspace(1e-5, 8e-3, 800)])
    kin = mech.Plasticity1D(E, SY, 0.0, 10_000.0)
    iso = mech.Plasticity1D(E, SY, 10_000.0, 0.0)
    for mat, reverse_yield in [(kin, lambda smax: smax - 2 * SY), (iso, lambda smax: -smax)]:
        sig, states = mech.stress_path(mat, eps)
        smax = float(sig[39])
        first = int(np.argmax(np.diff(np.asarray(states.alpha[39:])) > 0)) + 40
        # the first reverse plastic step starts from the reverse yield stress (step 1e-5 -> 2 MPa)
        assert abs(float(sig[first - 1]) - reverse_yield(smax)) < 2.5
    # same hardening modulus, so both peak at the same stress, but kinematic reverses earlier
    assert float(mech.stress_path(kin, eps)[0][39]) == pytest.approx(float(mech.stress_path(iso, eps)[0][39]))


def _uniaxial_stress_3d(mat, axial):
    """3-D path under sigma_22 = sigma_33 = 0 (lateral strain by Newton at every step)."""

    def step(carry, e):
        state, lat = carry

        def s22(l):
            eps = jnp.diag(jnp.stack([e, l, l]))
            return mech.return_map(mat, state, eps)[0][1, 1]

        for _ in range(8):
            lat = lat - s22(lat) / jax.grad(s22)(lat)
        stress, new = mech.return_map(mat, state, jnp.diag(jnp.stack([e, lat, lat])))
        return (new, lat), stress

    _, stresses = jax.lax.scan(step, (mech.initial_state(mat), jnp.zeros(())), axial)
    return stresses


def test_3d_uniaxial_stress_equals_1d():
    axial = jnp.concatenate([jnp.linspace(2e-4, 4e-3, 20), 4e-3 - jnp.linspace(5e-4, 8e-3, 16)])
    s3 = jax.jit(_uniaxial_stress_3d, static_argnums=0)(MAT3, axial)
    s1, _ = mech.stress_path(MAT1, axial)
    np.testing.assert_allclose(s3[:, 0, 0], s1, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(s3[:, 1, 1], 0.0, atol=1e-8)


def _history_3d():
    path = _diag(mech.cyclic_strain_path(30, n_cycles=1, amplitude_start=3e-3, amplitude_end=4e-3))
    _, states = mech.stress_path(MAT3, path)
    return jax.tree.map(lambda x: x[-1], states)


def test_grad_is_consistent_tangent_1d():
    st = mech.initial_state(MAT1)
    for eps, want in [(1e-3, E), (3e-3, E * (K + H) / (E + K + H)), (-2e-3, E * (K + H) / (E + K + H))]:
        g = jax.grad(lambda e: mech.return_map(MAT1, st, e)[0])(jnp.asarray(eps))
        np.testing.assert_allclose(g, want, rtol=1e-12)
        np.testing.assert_allclose(mech.consistent_tangent(MAT1, st, eps), want, rtol=1e-12)
        fd = (mech.return_map(MAT1, st, eps + 1e-8)[0] - mech.return_map(MAT1, st, eps - 1e-8)[0]) / 2e-8
        np.testing.assert_allclose(fd, want, rtol=1e-6)


def test_grad_is_consistent_tangent_3d():
    st = _history_3d()
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 3))
    d = jnp.asarray(a + a.T)
    base = jnp.diag(jnp.array([4e-3, -1.5e-3, -1e-3])).at[0, 2].set(1e-3).at[2, 0].set(1e-3)
    @jax.jit
    def tangents(eps):
        def sig(e):
            return mech.return_map(MAT3, st, e)[0]

        J = jax.jacfwd(sig)(eps)
        h = 1e-9
        fd = (sig(eps + h * d) - sig(eps - h * d)) / (2 * h)
        C = mech.consistent_tangent(MAT3, st, eps)
        return mech.return_map(MAT3, st, eps)[1].alpha, 0.5 * (J + J.swapaxes(2, 3)), C, fd

    for eps, plastic in [(base, True), (jnp.asarray(st.eps_p) + 1e-5 * d, False)]:
        alpha, J, C, fd = tangents(eps)
        assert bool(alpha > st.alpha) == plastic
        np.testing.assert_allclose(J, C, rtol=1e-10, atol=1e-6)
        np.testing.assert_allclose(fd, jnp.einsum("ijkl,kl->ij", C, d), rtol=1e-5, atol=1e-2)


def test_jit_equals_eager_and_vmap_equals_loop():
    paths, batched, _, _ = _random_paths(MAT1, KEYS)  # jit of vmap
    loop = jnp.stack([mech.stress_path(MAT1, p)[0] for p in paths])
    np.testing.assert_allclose(batched, loop, rtol=1e-13, atol=1e-10)


def test_material_parameters_differentiable():
    eps = mech.cyclic_strain_path(40)

    def total(sy):
        return jnp.sum(mech.stress_path(mech.Plasticity1D(E, sy, K, H), eps)[0] ** 2)

    g = jax.grad(total)(jnp.asarray(SY))
    fd = (total(SY + 1e-3) - total(SY - 1e-3)) / 2e-3
    np.testing.assert_allclose(g, fd, rtol=1e-6)


def test_loading_paths():
    e = np.asarray(_random_paths(MAT1, KEYS)[0])
    assert e.shape == (4, 80) and np.abs(e).max() <= 6e-3
    assert not np.allclose(e[0], e[1])
    for path in e:
        turns = np.sum(np.diff(np.sign(np.diff(path))) != 0)
        assert 4 <= turns <= 2 * 5  # 5 reversals (a kink may straddle two samples)
    c = mech.cyclic_strain_path(400, n_cycles=4, amplitude_start=1e-3, amplitude_end=5e-3)
    peaks = np.asarray(c).reshape(4, 100).max(axis=1)
    assert np.all(np.diff(peaks) > 0) and peaks[-1] <= 5e-3 + 1e-12
    assert c.dtype == jnp.float64
    assert mech.cyclic_strain_path(10, dtype=jnp.float32).dtype == jnp.float32
