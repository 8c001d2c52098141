"""Strain energy -> stress: autodiff through eq. 28 == closed form eq. 31; eqs. 32-33."""

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given

from jaxsci import mechanics as mech
from jaxsci.testing import spd_matrices

MR = mech.MooneyRivlin()


def user_energy(I):
    return 0.3 * (I[0] - 3.0) ** 2 + 0.1 * (I[1] - 3.0) + jnp.log(I[2]) ** 2


stress_ad = jax.jit(lambda B: mech.cauchy_stress(MR, B))
stress_cf = jax.jit(lambda B: mech.cauchy_stress_closed_form(MR, B))
user_ad = jax.jit(lambda B: mech.cauchy_stress(user_energy, B))
user_cf = jax.jit(lambda B: mech.cauchy_stress_closed_form(user_energy, B))


@given(spd_matrices(min_eigenvalue=0.5, max_eigenvalue=2.5))
def test_autodiff_equals_closed_form(B):
    B = jnp.asarray(B)
    np.testing.assert_allclose(stress_ad(B), stress_cf(B), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(user_ad(B), user_cf(B), rtol=1e-10, atol=1e-12)


def test_mooney_rivlin_reference_state():
    assert abs(float(MR(jnp.array([3.0, 3.0, 1.0])))) < 1e-15
    np.testing.assert_allclose(mech.cauchy_stress(MR, jnp.eye(3)), np.zeros((3, 3)), atol=1e-14)


def test_uniaxial_analytic():
    # incompressible-like check of eq. 31 by hand for B = diag(a, b, b)
    a, b = 1.4, 0.9
    B = jnp.diag(jnp.array([a, b, b]))
    I = mech.invariants(B)
    g = jax.grad(MR)(I)
    I1, I3 = float(I[0]), float(I[2])
    r = 2 / np.sqrt(I3)
    want11 = r * (I3 * g[2] + (g[0] + I1 * g[1]) * a - g[1] * a * a)
    np.testing.assert_allclose(mech.cauchy_stress(MR, B)[0, 0], want11, rtol=1e-12)


def test_eq32_eq33_inverse(key):
    I = jnp.array([3.3, 3.5, 1.2])
    c = jnp.array([0.2, -0.5, 0.1])
    d = mech.energy_gradient_from_coefficients(I, c)
    np.testing.assert_allclose(mech.coefficients_from_energy_gradient(I, d), c, rtol=1e-13)


def test_extracted_coefficients_match_eq32(key):
    B = mech.sample_finger_tensor(key=key, low=0.9, high=2.0)
    I = mech.invariants(B)
    c_true = mech.coefficients_from_energy_gradient(I, jax.grad(MR)(I))
    np.testing.assert_allclose(mech.extract_coefficients(B, mech.cauchy_stress(MR, B)), c_true, rtol=1e-7)


def test_float32():
    B = jnp.diag(jnp.array([1.2, 1.1, 0.9], dtype=jnp.float32))
    s = mech.cauchy_stress(MR, B)
    assert s.dtype == jnp.float32
    np.testing.assert_allclose(s, stress_ad(B.astype(jnp.float64)), rtol=1e-3, atol=1e-4)
