"""Full-batch line searches (review Section 6.2): defining conditions, exact steps, optax maps."""

import functools

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.optimize
from hypothesis import given

import jaxsci.optim as jo
from jaxsci.testing import spd_matrices


def cost(theta, a, s):
    return 0.5 * theta @ a @ theta + s * jnp.sum(jnp.sin(theta))


def _np_cost(theta, a, s):
    return 0.5 * theta @ a @ theta + s * np.sum(np.sin(theta))


@functools.cache
def _runner(name):
    ls = {
        "armijo": jo.armijo_linesearch(),
        "goldstein": jo.goldstein_linesearch(),
        "goldstein_wide": jo.goldstein_linesearch(alpha=0.3, beta=0.9),
        "wolfe": jo.wolfe_linesearch(),
        "exact": jo.exact_linesearch(),
    }[name]

    @jax.jit
    def run(a, x, s):
        f = functools.partial(cost, a=a, s=s)
        v, g = jax.value_and_grad(f)(x)
        d = -g
        u, state = ls.update(d, ls.init(x), x, value=v, grad=g, value_fn=f)
        return u, state, g, d

    return run


problem = st.tuples(
    spd_matrices(3, min_eigenvalue=0.1, max_eigenvalue=10.0),
    st.lists(st.floats(-3.0, 3.0), min_size=3, max_size=3),
    st.floats(0.0, 2.0),
)


@given(problem)
def test_armijo_conditions_and_smallest_exponent(prob):
    a, x, s = prob
    x = np.asarray(x)
    for _ in range(STEPS):  # every accepted step along a short GD + Armijo run
        x = _check_armijo_step(a, x, s)


STEPS = 3


def _check_armijo_step(a, x, s):
    u, state, g, d = _runner("armijo")(a, x, s)
    eps, slope = float(state.step), float(np.dot(g, d))
    if np.linalg.norm(g) < 1e-12:
        return x
    assert bool(state.accepted)
    j0 = _np_cost(x, a, s)
    alpha, beta, rho = 0.5, 0.65, 1.0  # Polak, Eq. (129)
    assert _np_cost(x + eps * np.asarray(d), a, s) - j0 <= alpha * eps * slope + 1e-12
    n = round(np.log(eps / rho) / np.log(beta))
    np.testing.assert_allclose(eps, rho * beta**n, rtol=1e-12)
    if n > 0:  # the previous trial rho*beta^(a-1) violated the rule
        prev = eps / beta
        assert _np_cost(x + prev * np.asarray(d), a, s) - j0 > alpha * prev * slope
    np.testing.assert_allclose(u, eps * np.asarray(d), rtol=1e-12)
    return x + np.asarray(u)


@pytest.mark.parametrize("name, alpha, beta", [("goldstein", 0.4, 0.6), ("goldstein_wide", 0.3, 0.9)])
@given(prob=problem)
def test_goldstein_sector(name, alpha, beta, prob):
    a, x, s = prob
    x = np.asarray(x)
    for _ in range(STEPS):
        u, state, g, d = _runner(name)(a, x, s)
        if np.linalg.norm(g) < 1e-12:
            return
        assert bool(state.accepted)
        eps, slope = float(state.step), float(np.dot(g, d))
        dj = _np_cost(x + eps * np.asarray(d), a, s) - _np_cost(x, a, s)
        assert beta * eps * slope - 1e-12 <= dj <= alpha * eps * slope + 1e-12  # Eq. (124)
        x = x + np.asarray(u)


@given(problem)
def test_wolfe_conditions(prob):
    a, x, s = prob
    x = np.asarray(x)
    for _ in range(STEPS):
        u, state, g, d = _runner("wolfe")(a, x, s)
        if np.linalg.norm(g) < 1e-12:
            return
        assert bool(state.accepted)
        eps, d = float(state.step), np.asarray(d)
        slope = float(np.dot(g, d))
        new = x + eps * d
        assert _np_cost(new, a, s) - _np_cost(x, a, s) <= 1e-4 * eps * slope + 1e-12  # (133)
        g_new = a @ new + s * np.cos(new)
        assert g_new @ d >= 0.9 * slope - 1e-12  # (134)
        x = new


@given(
    spd_matrices(3, min_eigenvalue=0.1, max_eigenvalue=10.0),
    st.lists(st.floats(-3.0, 3.0), min_size=3, max_size=3),
    st.floats(0.0, 0.09),
)
def test_exact_linesearch_is_line_minimiser(a, x, s):
    """Convex along the line (s < lambda_min): compare with scipy's bounded Brent search."""
    x = np.asarray(x)
    u, state, g, d = _runner("exact")(a, x, s)
    if np.linalg.norm(g) < 1e-6:
        return
    d = np.asarray(d)
    ref = scipy.optimize.minimize_scalar(
        lambda e: _np_cost(x + e * d, a, s), bounds=(0, 64), method="bounded",
        options={"xatol": 1e-12},
    ).x
    assert bool(state.accepted)
    np.testing.assert_allclose(float(state.step), ref, rtol=1e-5, atol=1e-8)


def test_exact_quadratic_step_and_bracket_expansion():
    a = jnp.diag(jnp.array([0.01, 0.02]))  # exact step ~ 60 >> max_learning_rate = 1
    x = jnp.array([1.0, 1.0])
    u, state, g, d = _runner("exact")(a, x, 0.0)
    exact = float(g @ g / (g @ a @ g))
    np.testing.assert_allclose(float(state.step), exact, rtol=1e-6)


def test_ascent_direction_rejected():
    """d = +g violates Eq. (121): rejected with `throw=False`, an error by default."""
    f = functools.partial(cost, a=jnp.eye(2), s=0.0)
    x = jnp.array([1.0, 2.0])
    v, g = jax.value_and_grad(f)(x)
    for make in (jo.armijo_linesearch, jo.goldstein_linesearch, jo.wolfe_linesearch):
        ls = make(throw=False)
        u, state = ls.update(g, ls.init(x), x, value=v, grad=g, value_fn=f)  # d = +g
        assert not bool(state.accepted)
        np.testing.assert_array_equal(u, 0.0)
        ls = make()
        with pytest.raises(ValueError, match="not a descent direction"):
            ls.update(g, ls.init(x), x, value=v, grad=g, value_fn=f)


def test_float32_and_extra_args_forwarded():
    def f(p, data):
        return jnp.sum((p - data) ** 2)

    x = jnp.zeros(3, jnp.float32)
    data = jnp.ones(3, jnp.float32)
    tx = optax.chain(optax.sgd(1.0), jo.armijo_linesearch())
    v, g = jax.value_and_grad(f)(x, data)
    u, _ = tx.update(g, tx.init(x), x, value=v, grad=g, value_fn=f, data=data)
    assert u.dtype == jnp.float32
    # eps = 1 and 0.65 violate Armijo (Delta J = 0 and -2.73 > -3.9); 0.65^2 is accepted.
    np.testing.assert_allclose(u, 0.65**2 * 2.0 * np.ones(3), rtol=1e-6)


def test_armijo_matches_optax_backtracking_first_step():
    f = functools.partial(cost, a=jnp.diag(jnp.array([1.0, 30.0])), s=0.3)
    x = jnp.array([1.5, -0.7])
    v, g = jax.value_and_grad(f)(x)
    ours = jo.armijo_linesearch(alpha=0.5, beta=0.65, rho=1.0)
    ref = optax.scale_by_backtracking_linesearch(
        max_backtracking_steps=50, slope_rtol=0.5, decrease_factor=0.65,
        increase_factor=1.0, max_learning_rate=1.0,
    )
    u1, _ = ours.update(-g, ours.init(x), x, value=v, grad=g, value_fn=f)
    u2, _ = ref.update(-g, ref.init(x), x, value=v, grad=g, value_fn=f)
    np.testing.assert_allclose(u1, u2, rtol=1e-12)


def test_optax_zoom_satisfies_strong_wolfe():
    """Mapping in docs/optimizers.md: optax's zoom search gives the strong Wolfe conditions."""
    f = functools.partial(cost, a=jnp.diag(jnp.array([1.0, 30.0])), s=0.3)
    x = jnp.array([1.5, -0.7])
    v, g = jax.value_and_grad(f)(x)
    zoom = optax.scale_by_zoom_linesearch(max_linesearch_steps=30, slope_rtol=1e-4, curv_rtol=0.9)
    u, _ = zoom.update(-g, zoom.init(x), x, value=v, grad=g, value_fn=f)
    eps = float(u[0] / -g[0])
    slope = float(-g @ g)
    assert f(x + u) - v <= 1e-4 * eps * slope
    assert abs(float(jax.grad(f)(x + u) @ -g)) <= 0.9 * abs(slope)


def test_bad_parameters():
    with pytest.raises(ValueError, match="alpha"):
        jo.armijo_linesearch(alpha=1.5)
    with pytest.raises(ValueError, match="alpha < beta"):
        jo.goldstein_linesearch(alpha=0.4, beta=0.3)
    with pytest.raises(ValueError, match="alpha < beta"):
        jo.wolfe_linesearch(alpha=0.9, beta=0.5)


def test_vmap_equals_loop():
    run = _runner("armijo")
    a = jnp.stack([jnp.eye(3) * s for s in (0.5, 1.0, 4.0)])
    x = jnp.array([[1.0, 2.0, -1.0], [0.3, 0.0, 2.0], [-1.0, 1.0, 1.0]])
    u_v = jax.vmap(run, (0, 0, None))(a, x, 0.7)[0]
    for i in range(3):
        np.testing.assert_allclose(u_v[i], run(a[i], x[i], 0.7)[0], rtol=1e-12)


def test_gd_armijo_several_steps_matches_numpy():
    """Algorithm 2 (GD + Armijo, Polak's parameters) written out by hand over 6 steps."""
    a = np.array([[4.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    s = 0.8
    x = np.array([1.0, -2.0, 0.5])
    xs = []
    for _ in range(6):
        g = a @ x + s * np.cos(x)
        eps = 1.0
        while _np_cost(x - eps * g, a, s) - _np_cost(x, a, s) > 0.5 * eps * -(g @ g):
            eps *= 0.65
        x = x - eps * g
        xs.append(x)
    run = _runner("armijo")
    y = jnp.array([1.0, -2.0, 0.5])
    for k in range(6):
        u, state, g, d = run(jnp.asarray(a), y, s)
        y = y + u
        np.testing.assert_allclose(y, xs[k], rtol=1e-12)
