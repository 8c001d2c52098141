import numpy as np
import pytest
from hypothesis import given

from jaxsci.testing import points_in_box, rotations, spd_matrices


@given(rotations())
def test_rotations_are_special_orthogonal(r):
    np.testing.assert_allclose(r.T @ r, np.eye(3), atol=1e-12)
    assert abs(np.linalg.det(r) - 1.0) < 1e-12


@given(spd_matrices(n=3, min_eigenvalue=0.5, max_eigenvalue=2.0))
def test_spd_eigenvalues_in_range(a):
    np.testing.assert_array_equal(a, a.T)
    lam = np.linalg.eigvalsh(a)
    assert lam.min() >= 0.5 - 1e-10 and lam.max() <= 2.0 + 1e-10


@given(spd_matrices(n=4, min_eigenvalue=1.0, max_eigenvalue=3.0, distinct=0.5))
def test_spd_distinct_eigenvalues(a):
    lam = np.sort(np.linalg.eigvalsh(a))
    assert np.all(np.diff(lam) >= 0.5 - 1e-9)


@given(points_in_box(lower=[-1.0, 0.0], upper=[1.0, 2.0], n=(1, 5)))
def test_points_in_box(x):
    assert x.ndim == 2 and x.shape[1] == 2
    assert np.all(x >= [-1.0, 0.0]) and np.all(x <= [1.0, 2.0])


def test_rotations_uniform_statistics():
    # Haar measure on SO(3): E[trace R] = 0 and E[R] = 0. Feed Shoemake's map uniform numbers.
    from jaxsci.testing._strategies import _quaternion_to_matrix

    rng = np.random.default_rng(0)
    u = rng.uniform(size=(20000, 3))
    a, b = np.sqrt(1 - u[:, 0]), np.sqrt(u[:, 0])
    q = np.stack(
        [a * np.sin(2 * np.pi * u[:, 1]), a * np.cos(2 * np.pi * u[:, 1]),
         b * np.sin(2 * np.pi * u[:, 2]), b * np.cos(2 * np.pi * u[:, 2])], axis=1
    )
    rs = np.stack([_quaternion_to_matrix(qi) for qi in q])
    # Each entry of a Haar rotation has mean 0 and variance 1/3.
    assert np.abs(rs.mean(axis=0)).max() < 4 * np.sqrt(1 / 3 / 20000)
    np.testing.assert_allclose(rs.var(axis=0), 1 / 3, atol=0.02)


def test_bad_arguments():
    with pytest.raises(ValueError, match="min_eigenvalue"):
        spd_matrices(min_eigenvalue=-1.0).example()
    with pytest.raises(ValueError, match="lower < upper"):
        points_in_box(lower=1.0, upper=0.0, d=1).example()
