"""Morris elementary effects against SALib 1.6 on the same trajectories, and known answers."""

import hypothesis
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from scipy.spatial.distance import cdist

import jaxsci.sensitivity as sa

SALib = pytest.importorskip("SALib")
from SALib.analyze import morris as salib_analyze  # noqa: E402
from SALib.sample import morris as salib_sample  # noqa: E402
from SALib.sample.morris import BruteForce, LocalOptimisation  # noqa: E402

D, T, R = 4, 12, 40
PROBLEM = {"num_vars": D, "names": [f"x{i}" for i in range(D)], "bounds": [[0.0, 1.0]] * D}
X_SALIB = salib_sample.sample(PROBLEM, T, num_levels=4, seed=11)  # (T (D + 1), D)
COEF = np.array([1.0, -2.0, 3.0, 0.0])


def model(x):
    """Three outputs: nonlinear with interactions, linear, sign-changing."""
    x = np.asarray(x)
    return np.stack(
        [np.sin(x @ COEF) + x[:, 0] * x[:, 1] ** 2, x @ COEF, (x[:, 2] - 0.5) ** 2 - x[:, 3]], 1
    )


Y_SALIB = model(X_SALIB)
_rng = np.random.default_rng(5)
IDX = np.stack([_rng.integers(T, size=(R, T)) for _ in range(D)])  # SALib's draw order


def _salib(y, problem=PROBLEM, x=X_SALIB, levels=4):
    return salib_analyze.analyze(problem, x, y.copy(), num_resamples=R, num_levels=levels, seed=5)


@pytest.mark.parametrize("out", [0, 1, 2])
def test_against_salib_same_trajectories(out):
    mine = sa.morris_analyze(X_SALIB, Y_SALIB, 4, resample_indices=IDX)
    ref = _salib(Y_SALIB[:, out])
    for name in ("mu", "mu_star", "sigma", "mu_star_conf"):
        np.testing.assert_allclose(getattr(mine, name)[:, out], ref[name], rtol=0, atol=1e-10)


def test_against_salib_groups_and_bounds():
    groups = ["a", "b", "a", "c", "b", "c"]
    problem = {"num_vars": 6, "names": list("uvwxyz"), "bounds": [[-1.0, 2.0]] * 6,
               "groups": groups}
    x = salib_sample.sample(problem, 8, num_levels=6, seed=2)
    y = np.sin(x @ np.arange(1.0, 7.0))
    rng = np.random.default_rng(3)
    idx = np.stack([rng.integers(8, size=(R, 8)) for _ in range(6)])
    ref = salib_analyze.analyze(problem, x, y, num_resamples=R, num_levels=6, seed=3)
    mine = sa.morris_analyze(x, y, 6, groups=groups, resample_indices=idx)
    for name in ("mu", "mu_star", "mu_star_conf"):
        np.testing.assert_allclose(getattr(mine, name), ref[name], rtol=0, atol=1e-10)
    assert np.all(np.isnan(ref["sigma"])) and np.all(np.isfinite(mine.sigma))  # documented


def test_linear_model_exact(getkey):
    # y = c . x on [lo, hi]^d: every elementary effect is c_i (hi_i - lo_i), so sigma = 0
    bounds = jnp.array([[0.0, 1.0], [-1.0, 1.0], [2.0, 5.0], [0.0, 0.5]])
    x = sa.morris_sample(getkey(), D, T, 4, bounds=bounds)
    mine = sa.morris_analyze(x, x @ COEF, 4, resample_indices=IDX)
    width = np.asarray(bounds[:, 1] - bounds[:, 0])
    np.testing.assert_allclose(mine.mu, COEF * width, rtol=0, atol=1e-12)
    np.testing.assert_allclose(mine.mu_star, np.abs(COEF) * width, rtol=0, atol=1e-12)
    np.testing.assert_allclose(mine.sigma, 0.0, atol=1e-12)
    np.testing.assert_allclose(mine.mu_star_conf, 0.0, atol=1e-12)


def test_trajectories_are_one_at_a_time_on_the_grid(key):
    p = 6
    delta = p / (2 * (p - 1))
    traj = np.asarray(sa.morris_trajectories(key, 5, 20, p, groups=[0, 1, 0, 2, 2]))
    assert traj.shape == (20, 4, 5)
    np.testing.assert_allclose(traj * (p - 1), np.round(traj * (p - 1)), atol=1e-12)
    assert traj.min() >= 0.0 and traj.max() <= 1.0
    step = np.diff(traj, axis=1)  # (20, 3, 5): each factor moves once, by +-delta
    np.testing.assert_array_equal(np.sum(step != 0, axis=1), 1)
    np.testing.assert_allclose(np.abs(step).sum(axis=1), delta, atol=1e-12)
    np.testing.assert_array_equal(step[:, :, 0] != 0, step[:, :, 2] != 0)  # same group


CAND = np.asarray(sa.morris_trajectories(jr.key(0), D, 14, 4))  # candidates (14, 5, 4)


def test_distances_against_salib_and_scipy():
    traj = CAND
    mine = np.asarray(sa.trajectory_distances(traj))
    exact = np.array([[0.0 if i == j else cdist(a, b).sum() for j, b in enumerate(traj)]
                      for i, a in enumerate(traj)])
    np.testing.assert_allclose(mine, exact, rtol=1e-13, atol=0)
    salib = BruteForce().compute_distance_matrix(traj.reshape(-1, D), 14, D, D, True)
    np.testing.assert_allclose(mine, salib, rtol=1e-6)  # SALib stores float32


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_selection_equals_salib_on_same_candidates(seed):
    # both algorithms are deterministic given the distances (exact ties aside)
    traj = CAND if seed == 0 else np.asarray(sa.morris_trajectories(jr.key(seed), D, 14, 4))
    flat = traj.reshape(-1, D)
    local = LocalOptimisation().find_local_maximum(flat, 14, D, 3, D)
    np.testing.assert_array_equal(sa.select_trajectories_local(traj, 3), local)
    brute = BruteForce().brute_force_most_distant(flat, 14, D, 3, D)
    np.testing.assert_array_equal(sa.select_trajectories_brute(traj, 3), brute)


def test_optimised_design_spreads_more():
    cand = CAND
    dist = np.asarray(sa.trajectory_distances(cand))

    def spread(idx):
        sub = dist[np.ix_(idx, idx)]
        return np.sqrt(np.sum(np.triu(sub, 1) ** 2))

    best = np.asarray(sa.select_trajectories_brute(cand, 3))
    local = np.asarray(sa.select_trajectories_local(cand, 3))
    assert spread(best) >= spread(local) - 1e-12
    assert spread(local) >= spread(np.arange(3))
    x = sa.morris_sample(jr.key(0), D, 14, 4, num_choices=3, select=sa.select_trajectories_brute)
    np.testing.assert_array_equal(x, cand[best].reshape(-1, D))


def test_jit_many_outputs_and_grad():
    def f(x, y):
        return sa.morris_analyze(x, y, 4, resample_indices=IDX)

    eager = f(X_SALIB, Y_SALIB)
    jitted = jax.jit(f)(X_SALIB, Y_SALIB)
    for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted)):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-14)
    for out in range(3):  # all outputs at once == one output at a time
        one = f(X_SALIB, Y_SALIB[:, out])
        for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(one)):
            np.testing.assert_allclose(a[:, out], b, rtol=1e-14, atol=1e-14)
    # grad of a weighted sigma against a central difference; factor 3 has no effect on
    # output 0, so sigma_3 = 0, where the gradient stays finite (safe sqrt)
    w = jnp.array([0.3, -1.0, 0.7, 2.0])
    val_grad = jax.jit(jax.value_and_grad(lambda y: sa.morris_analyze(X_SALIB, y).sigma @ w))
    y0, v = jnp.asarray(Y_SALIB[:, 0]), jr.normal(jr.key(1), (T * (D + 1),))
    h = 1e-6
    fd = (val_grad(y0 + h * v)[0] - val_grad(y0 - h * v)[0]) / (2 * h)
    grad = val_grad(y0)[1]
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad @ v, fd, rtol=1e-6)


def test_float32(key):
    traj = sa.morris_trajectories(key, D, T, 4, dtype=jnp.float32)
    assert traj.dtype == jnp.float32
    x = traj.reshape(-1, D)
    res = sa.morris_analyze(x, x @ jnp.asarray(COEF, jnp.float32), 4, key=key)
    assert res.mu.dtype == res.mu_star_conf.dtype == jnp.float32
    np.testing.assert_allclose(res.mu, COEF, atol=1e-5)


@hypothesis.settings(max_examples=10, deadline=None)
@hypothesis.given(
    y=st.lists(st.floats(-1e3, 1e3), min_size=T * (D + 1), max_size=T * (D + 1)),
    shift=st.floats(-1e3, 1e3),
)
def test_invariants(y, shift):
    # mu* >= |mu| (triangle inequality) and every measure ignores a constant offset
    y = np.asarray(y)
    a = sa.morris_analyze(X_SALIB, y, resample_indices=IDX)
    b = sa.morris_analyze(X_SALIB, y + shift, resample_indices=IDX)
    assert np.all(np.asarray(a.mu_star) >= np.abs(np.asarray(a.mu)) - 1e-12)
    for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-9)
