"""Hexahedral quadrature (Oishi & Yagawa 2017, review section 2.3.1): Gauss-Legendre
exactness, trilinear shape functions, element stiffness against a hand-written NumPy
B^T D B reference, rigid-body modes, the eq. 401 / 402 errors and the Method 1 / 2 labels.

Sizes are small (a handful of elements, reference order 30 for one or two of them) so the
file runs in a few seconds; the paper-scale data set is examples/neural_quadrature.py.
"""

import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings

from jaxsci import mechanics as mech

MAT = mech.IsotropicElasticity(2.0, 0.3)
CUBE = np.array(
    [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]],
    dtype=np.float64,
)


# One compiled function per (q, factors or not), shared by the tests: eager calls would
# compile every primitive separately and dominate the run time.
stiffness = eqx.filter_jit(jax.vmap(mech.element_stiffness, in_axes=(0, None, None, 0)))
dets = jax.jit(jax.vmap(jax.vmap(lambda x, s: jnp.linalg.det(mech.hex_jacobian(x, s)),
                                 in_axes=(None, 0)), in_axes=(0, None)))


@pytest.fixture(scope="module")
def elements():
    return eqx.filter_jit(mech.distorted_hexahedra)(jr.key(0), 6)


@pytest.fixture(scope="module")
def Ks(elements):
    """Stiffnesses of all elements for q = 1, 2, 3 (no factors)."""
    return {q: stiffness(elements, MAT, q, None) for q in (1, 2, 3)}


@pytest.fixture(scope="module")
def reference(elements):
    """q = 30 stiffness of the first two elements (the eq. 401 reference)."""
    return stiffness(elements[:2], MAT, 30, None)


# ---------------------------------------------------------------- Gauss-Legendre, shapes


def test_gauss_legendre_1d_exact_to_degree_2q_minus_1():
    for q in range(1, 6):
        x, w = mech.gauss_legendre(q)
        assert x.shape == w.shape == (q,) and x.dtype == jnp.float64
        x, w = np.asarray(x), np.asarray(w)
        for d in range(2 * q + 1):
            exact = (1 - (-1) ** (d + 1)) / (d + 1)
            got = float(np.sum(w * x**d))
            if d <= 2 * q - 1:
                assert got == pytest.approx(exact, abs=1e-13), (q, d)
            elif d == 2 * q:
                assert abs(got - exact) > 1e-3, (q, d)


def test_tensor_rule_integrates_monomials_on_an_undistorted_element():
    """On the unit cube x = (xi + 1)/2, the q^3 rule integrates x^a y^b z^c exactly iff
    max(a, b, c) <= 2q - 1 (det J = 1/8 constant)."""
    for q in (1, 2, 3):
        pts, w = mech.tensor_gauss_legendre(q)
        assert pts.shape == (q**3, 3) and w.shape == (q**3,)
        det = np.asarray(dets(jnp.asarray(CUBE)[None], pts)[0])
        pts, w = np.asarray(pts), np.asarray(w)
        x = (pts + 1) / 2
        np.testing.assert_allclose(det, 1 / 8, rtol=1e-14)
        for a, b, c in [(2 * q - 1, 0, 0), (0, 2 * q - 1, 2 * q - 1), (1, 2 * q - 1, 0), (2 * q, 0, 0),
                        (0, 0, 2 * q)]:
            got = float(np.sum(w * det * x[:, 0] ** a * x[:, 1] ** b * x[:, 2] ** c))
            exact = 1 / ((a + 1) * (b + 1) * (c + 1))
            if max(a, b, c) <= 2 * q - 1:
                assert got == pytest.approx(exact, rel=1e-13), (q, a, b, c)
            else:
                assert abs(got - exact) > 1e-4, (q, a, b, c)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.floats(-1, 1), min_size=3, max_size=3))
def test_shape_functions_partition_of_unity_and_derivatives(xi):
    xi = jnp.asarray(xi)
    n = mech.hex_shape_functions(xi)
    assert float(jnp.sum(n)) == pytest.approx(1.0, abs=1e-14)
    assert bool(jnp.all(n >= -1e-15))
    dn = mech.hex_shape_derivatives(xi)
    np.testing.assert_allclose(dn, jax.jacfwd(mech.hex_shape_functions)(xi), atol=1e-14)
    np.testing.assert_allclose(jnp.sum(dn, axis=0), 0.0, atol=1e-14)


def test_shape_functions_kronecker_delta_at_nodes():
    corners = 2 * CUBE - 1
    np.testing.assert_allclose(jax.vmap(mech.hex_shape_functions)(corners), np.eye(8), atol=1e-15)
    xi = jnp.array([0.3, -0.7, 0.1])
    np.testing.assert_allclose(mech.hex_shape_functions(xi) @ CUBE, (xi + 1) / 2, atol=1e-15)


def test_jacobian_matches_autodiff_of_the_map(elements):
    xi = jnp.array([0.3, -0.7, 0.1])
    x = elements[0]
    J = mech.hex_jacobian(x, xi)
    np.testing.assert_allclose(J, jax.jacfwd(lambda s: mech.hex_shape_functions(s) @ x)(xi).T, atol=1e-14)
    np.testing.assert_allclose(mech.hex_jacobian(CUBE, xi), 0.5 * np.eye(3), atol=1e-15)


def test_distorted_hexahedra_have_positive_jacobian_everywhere(elements):
    assert elements.shape == (6, 8, 3) and elements.dtype == jnp.float64
    disp = np.asarray(elements) - CUBE
    assert np.all(np.abs(disp) <= 0.2) and np.std(disp) > 0.05
    # random points (not the generator's check grid) and the q = 30 points
    xi = jnp.concatenate([jr.uniform(jr.key(1), (400, 3), minval=-1, maxval=1),
                          mech.tensor_gauss_legendre(30)[0]])
    assert float(jnp.min(dets(elements, xi))) > 0


# ---------------------------------------------------------------- stiffness


def _numpy_stiffness(nodes, material, q):
    """Textbook K = sum_g w_g B_g^T D B_g det J_g, Voigt (xx, yy, zz, yz, xz, xy)."""
    nodes = np.asarray(nodes, np.float64)
    D = np.asarray(material.matrix())
    x, w = np.polynomial.legendre.leggauss(q)
    corners = 2 * CUBE - 1
    K = np.zeros((24, 24))
    for i in range(q):
        for j in range(q):
            for k in range(q):
                xi = np.array([x[i], x[j], x[k]])
                f = 1 + corners * xi
                dn = np.stack([corners[:, 0] * f[:, 1] * f[:, 2], corners[:, 1] * f[:, 0] * f[:, 2],
                               corners[:, 2] * f[:, 0] * f[:, 1]], 1) / 8
                J = dn.T @ nodes
                G = dn @ np.linalg.inv(J).T  # (8, 3) dN/dx
                B = np.zeros((6, 24))
                for a in range(8):
                    gx, gy, gz = G[a]
                    B[:, 3 * a:3 * a + 3] = [[gx, 0, 0], [0, gy, 0], [0, 0, gz],
                                              [0, gz, gy], [gz, 0, gx], [gy, gx, 0]]
                K += w[i] * w[j] * w[k] * np.linalg.det(J) * B.T @ D @ B
    return K


def test_stiffness_equals_numpy_reference(elements, Ks):
    for q in (2, 3):
        np.testing.assert_allclose(Ks[q][1], _numpy_stiffness(elements[1], MAT, q), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(MAT.matrix()[:3, :3], 2 / (1.3 * 0.4) * np.array(
        [[0.7, 0.3, 0.3], [0.3, 0.7, 0.3], [0.3, 0.3, 0.7]]), rtol=1e-14)


def test_stiffness_symmetric_psd_with_six_rigid_body_modes(elements, Ks):
    for x, K in zip(np.asarray(elements), np.asarray(Ks[2])):
        np.testing.assert_allclose(K, K.T, atol=1e-14)
        ev = np.linalg.eigvalsh(K)
        assert np.sum(np.abs(ev) < 1e-10 * ev[-1]) == 6 and ev[6] > 1e-3 * ev[-1]
        # translations and infinitesimal rotations are exactly the null space
        rb = [np.tile(e, 8) for e in np.eye(3)] + [np.cross(w, x).reshape(-1) for w in np.eye(3)]
        np.testing.assert_allclose(K @ np.stack(rb, 1), 0.0, atol=1e-12)
    # one-point integration leaves the 12 hourglass modes of the hexahedron as zero energy too
    ev1 = np.linalg.eigvalsh(np.asarray(Ks[1][0]))
    assert np.sum(np.abs(ev1) < 1e-10 * ev1[-1]) == 18


def test_constant_strain_patch_energy(elements, Ks):
    """A linear displacement u = eps x has constant strain on any trilinear element, so
    u^T K u = eps^T D eps * volume, exactly with 2x2x2 points (det J has degree <= 2 per axis)."""
    x = np.asarray(elements[2])
    grad_u = np.array([[0.1, 0.02, -0.03], [0.05, -0.2, 0.01], [0.0, 0.04, 0.07]])
    u = (x @ grad_u.T).reshape(-1)
    eps = 0.5 * (grad_u + grad_u.T)
    voigt = np.array([eps[0, 0], eps[1, 1], eps[2, 2], 2 * eps[1, 2], 2 * eps[0, 2], 2 * eps[0, 1]])
    pts, w = mech.tensor_gauss_legendre(2)
    volume = float(jnp.sum(w * dets(x[None], pts)[0]))
    K = np.asarray(Ks[2][2])
    assert u @ K @ u == pytest.approx(voigt @ np.asarray(MAT.matrix()) @ voigt * volume, rel=1e-12)


def test_point_stiffnesses_chunking_and_float32(elements, Ks):
    x = elements[3]
    # (K(r) = sum_g r_g K_g against element_stiffness(..., r) is checked through the search)
    parts = eqx.filter_jit(mech.point_stiffnesses)(x, MAT, 2)
    np.testing.assert_allclose(jnp.sum(parts, 0), Ks[2][3], atol=1e-14)
    batched = eqx.filter_jit(mech.element_stiffnesses)(elements, MAT, 2, chunk_size=4)
    np.testing.assert_allclose(batched, Ks[2], atol=1e-14)
    K32 = stiffness(elements.astype(jnp.float32), MAT, 2, None)
    assert K32.dtype == jnp.float32
    np.testing.assert_allclose(K32, Ks[2], rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- errors and labels


def test_error_decreases_with_q_and_method_1_labels(elements, Ks, reference):
    errs = jax.jit(jax.vmap(lambda x, K: mech.quadrature_errors(x, MAT, 8, K_ref=K)))(elements[:2], reference)
    e = np.asarray(errs)
    assert np.all(np.diff(e, axis=1) < 0), e
    assert np.all(e[:, 1] > 1e-3) and np.all(e[:, -1] < 1e-8)
    np.testing.assert_allclose(
        e[:, 2], jax.vmap(mech.quadrature_error)(Ks[3][:2], reference), rtol=1e-12)
    label = eqx.filter_jit(mech.minimum_order)  # a traced `tol`: one compilation for both
    assert int(label(elements[0], MAT, jnp.array(1e-4), K_ref=reference[0])) == np.argmax(e[0] <= 1e-4) + 1
    assert int(label(elements[0], MAT, jnp.array(1e-30), K_ref=reference[0])) == 9  # none: max_order + 1


ratio = jax.jit(jax.vmap(lambda x, r, K: mech.error_ratio(x, MAT, r, K_ref=K)))


def test_search_improves_ratio_is_one_with_unit_factors_and_grad(elements, reference):
    keys = jr.split(jr.key(2), 2)
    search = jax.jit(jax.vmap(lambda x, K, k: mech.search_correction_factors(
        x, MAT, key=k, num_sets=256, rounds=4, K_ref=K, chunk_size=128)))
    r, R = search(elements[:2], reference, keys)
    assert r.shape == (2, 8) and R.shape == (2,)
    assert np.all(np.asarray(R) < 1.0)
    assert float(jnp.max(jnp.abs(r - 1))) < 0.02  # the documented search neighbourhood
    # the search's K(r) = sum_g r_g K_g agrees with element_stiffness(..., weights_factor=r)
    np.testing.assert_allclose(ratio(elements[:2], r, reference), R, rtol=1e-10)
    np.testing.assert_allclose(ratio(elements[:2], jnp.ones((2, 8)), reference), 1.0, atol=1e-14)
    # grad of R wrt the factors against central differences, both through `ratio`
    x2, K2 = jnp.stack([elements[0]] * 2), jnp.stack([reference[0]] * 2)
    r0 = 1.0 + 0.003 * jnp.sin(jnp.arange(8.0) + 1.0)
    grad = jax.grad(lambda r: ratio(x2, jnp.stack([r, r]), K2)[0])(r0)
    fd = [jnp.subtract(*ratio(x2, jnp.stack([r0 + 1e-7 * e, r0 - 1e-7 * e]), K2)) / 2e-7 for e in jnp.eye(8)]
    np.testing.assert_allclose(grad, jnp.stack(fd), rtol=1e-5, atol=1e-7)


@pytest.mark.slow  # a second-order compile of the whole stiffness: 2 s for one extra check
def test_stiffness_is_differentiable_in_the_nodes(elements):
    g = jax.jit(lambda x: jnp.sum(mech.element_stiffness(x, MAT, 2) ** 2))
    x, v = elements[0], jr.normal(jr.key(4), (8, 3))
    fd = (g(x + 1e-6 * v) - g(x - 1e-6 * v)) / 2e-6
    assert float(jnp.sum(jax.grad(g)(x) * v)) == pytest.approx(float(fd), rel=1e-6)


def test_normalised_coordinates_rigid_invariance(elements):
    x = elements[4]
    q, _ = np.linalg.qr(np.asarray(jr.normal(jr.key(3), (3, 3))))
    q = q * np.sign(np.linalg.det(q))
    moved = x @ q.T + jnp.array([[3.0, -1.0, 0.5]])
    z = jax.jit(jax.vmap(mech.normalised_coordinates))(jnp.stack([x, moved, jnp.asarray(CUBE)]))
    assert z.shape == (3, 18)
    np.testing.assert_allclose(z[1], z[0], atol=1e-13)
    np.testing.assert_allclose(z[2], np.delete(CUBE.reshape(-1), [0, 1, 2, 4, 5, 11]), atol=1e-15)
