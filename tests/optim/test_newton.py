"""Newton directions (Eqs. 130-132, Algorithm 3) and stochastic Newton with the cubic
second-order line search (Section 6.7, Algorithm 7)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxsci.optim as jo


def rosenbrock(p):
    return (1.0 - p["x"]) ** 2 + 100.0 * (p["y"] - p["x"] ** 2) ** 2


def saddle(p):  # saddle at 0, minima at (0, +-sqrt(2)): f = x^2 - y^2 + y^4/4
    return p[0] ** 2 - p[1] ** 2 + 0.25 * p[1] ** 4


def test_hessian_matrix_from_hvps():
    p = {"x": jnp.array(-1.2), "y": jnp.array(1.0)}
    h = jo.hessian_matrix(rosenbrock, p)
    ref = jax.hessian(lambda z: rosenbrock({"x": z[0], "y": z[1]}))(jnp.array([-1.2, 1.0]))
    np.testing.assert_allclose(h, ref, rtol=1e-12)


def test_newton_direction_cases():
    tx = jo.newton_direction(delta=1e-3)
    p = jnp.array([0.3, 0.2])  # indefinite Hessian diag(2, -2 + 3 y^2) at y = 0.2
    g = jax.grad(saddle)(p)
    d, st = tx.update(g, tx.init(p), p, value_fn=saddle)
    h = np.asarray(jax.hessian(saddle)(p))
    lmin = np.linalg.eigvalsh(h)[0]
    assert lmin < 0 and int(st.kind) == 1
    ref = -np.linalg.solve(h + (1e-3 - lmin) * np.eye(2), g)  # Eq. (132)
    np.testing.assert_allclose(d, ref, rtol=1e-8)
    assert float(g @ d) < 0
    tx_q = jo.newton_direction(regularize=False)
    d_q, _ = tx_q.update(g, tx_q.init(p), p, value_fn=saddle)
    np.testing.assert_allclose(d_q, -g)  # Eq. (131)
    p2 = jnp.array([0.3, 1.5])  # positive definite: pure Newton, Eq. (130)
    g2 = jax.grad(saddle)(p2)
    d2, st2 = tx.update(g2, tx.init(p2), p2, value_fn=saddle)
    np.testing.assert_allclose(d2, -np.linalg.solve(jax.hessian(saddle)(p2), g2), rtol=1e-10)
    assert int(st2.kind) == 0


def test_algorithm3_newton_armijo_rosenbrock():
    tx = optax.chain(jo.newton_direction(), jo.armijo_linesearch())
    p = {"x": jnp.array(-1.2), "y": jnp.array(1.0)}

    @jax.jit
    def step(p, s):
        v, g = jax.value_and_grad(rosenbrock)(p)
        u, s = tx.update(g, s, p, value=v, grad=g, value_fn=rosenbrock)
        return optax.apply_updates(p, u), s

    s = tx.init(p)
    for _ in range(40):
        p, s = step(p, s)
    np.testing.assert_allclose([p["x"], p["y"]], [1.0, 1.0], atol=1e-8)


def test_stochastic_newton_escapes_saddle_with_cubic_decrease():
    eta = 0.1
    tx = jo.stochastic_newton(eps_g=1e-8, eps_h=1e-3, eta=eta)

    @jax.jit
    def step(p, s):
        v, g = jax.value_and_grad(saddle)(p)
        u, s = tx.update(g, s, p, value=v, value_fn=saddle)
        return p + u, s, v

    p, s = jnp.array([0.5, 1e-9]), tx.init(jnp.zeros(2))  # next to the saddle
    kinds = []
    for _ in range(25):
        new, s, v = step(p, s)
        if bool(s.accepted):  # cubic sufficient decrease on every accepted step
            dn = float(jnp.linalg.norm(new - p)) / float(s.step)
            assert saddle(new) < v - eta / 6 * float(s.step) ** 3 * dn**3 + 1e-15
        kinds.append(int(s.kind))
        p = new
    assert 2 in kinds  # a negative-curvature step was taken at the saddle
    np.testing.assert_allclose(jnp.abs(p), [0.0, np.sqrt(2.0)], atol=1e-7)
    _, s, _ = step(p, s)
    assert bool(s.stationary)  # approximate second-order stationary point


def test_stochastic_newton_minibatch_regression():
    """Subsampled Newton on a logistic regression: the same sample gives J~, g~ and H~."""
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(200, 3)))
    lab = jnp.asarray((rng.uniform(size=200) < jax.nn.sigmoid(x @ jnp.array([1.0, -2.0, 0.5]))).astype(float))

    def loss(w, idx):
        z = x[idx] @ w
        return jnp.mean(jnp.logaddexp(0.0, z) - lab[idx] * z) + 1e-3 * w @ w

    tx = jo.stochastic_newton()

    @jax.jit
    def step(w, s, idx):
        f = functools.partial(loss, idx=idx)
        v, g = jax.value_and_grad(f)(w)
        u, s = tx.update(g, s, w, value=v, value_fn=f)
        return w + u, s

    w, s = jnp.zeros(3), tx.init(jnp.zeros(3))
    for k in range(30):
        idx = jnp.asarray(rng.choice(200, 100, replace=False))
        w, s = step(w, s, idx)
    full = functools.partial(loss, idx=jnp.arange(200))
    newton = jax.jit(lambda w: w - jnp.linalg.solve(jax.hessian(full)(w), jax.grad(full)(w)))
    w_star = w
    for _ in range(10):  # full-batch Newton reference
        w_star = newton(w_star)
    assert float(full(w)) - float(full(w_star)) < 0.05 * float(full(jnp.zeros(3)) - full(w_star))


def test_bad_input():
    with pytest.raises(ValueError, match="theta"):
        jo.stochastic_newton(theta=1.5)
    with pytest.raises(ValueError, match="delta"):
        jo.newton_direction(delta=0.0)


def test_stochastic_newton_matches_numpy_several_steps():
    """Algorithm 7 written out by hand (NumPy eigh, cubic backtracking) over 6 steps."""
    eps_h, eta, theta = 1e-3, 0.1, 0.5

    def f(p):
        return p[0] ** 2 - p[1] ** 2 + 0.25 * p[1] ** 4 + 0.3 * p[0] * p[1]

    def np_f(p):
        return p[0] ** 2 - p[1] ** 2 + 0.25 * p[1] ** 4 + 0.3 * p[0] * p[1]

    def np_g(p):
        return np.array([2 * p[0] + 0.3 * p[1], -2 * p[1] + p[1] ** 3 + 0.3 * p[0]])

    def np_h(p):
        return np.array([[2.0, 0.3], [0.3, -2.0 + 3 * p[1] ** 2]])

    p, ref = np.array([0.4, 0.05]), []
    for _ in range(6):
        g, h = np_g(p), np_h(p)
        lam, q = np.linalg.eigh(h)
        if lam[0] < -eps_h:
            v = q[:, 0]
            d = abs(lam[0]) * (-v if g @ v > 0 else v)
        elif lam[0] > np.sqrt(np.linalg.norm(g)):
            d = -np.linalg.solve(h, g)
        else:
            d = -np.linalg.solve(h + 2 * eps_h * np.eye(2), g)
        alpha = 1.0
        while not np_f(p + alpha * d) < np_f(p) - eta / 6 * alpha**3 * np.linalg.norm(d) ** 3:
            alpha *= theta
        p = p + alpha * d
        ref.append(p.copy())
    tx = jo.stochastic_newton(eps_h=eps_h, eta=eta, theta=theta)
    x, s = jnp.array([0.4, 0.05]), tx.init(jnp.zeros(2))
    step = jax.jit(lambda x, s: tx.update(jax.grad(f)(x), s, x, value=f(x), value_fn=f))
    for k in range(6):
        u, s = step(x, s)
        x = x + u
        np.testing.assert_allclose(x, ref[k], rtol=1e-10, atol=1e-12)
