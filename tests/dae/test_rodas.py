"""Rosenbrock methods (Rodas4, Rodas4P, Rodas4P2, Rodas5P, ROS3P): tableau order
conditions, observed order on a stiff ODE and an index-1 DAE, dense output, adaptive stepping
inside diffrax, gradients."""

import diffrax as dfx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsci.dae as dae
from jaxsci.dae._tableau import TABLEAUS

METHODS = [dae.Rodas4, dae.Rodas4P, dae.Rodas4P2, dae.Rodas5P, dae.ROS3P]


def _order_conditions(t, m):
    # Hairer-Wanner IV.7, Table 7.1: order conditions of Rosenbrock methods up to order 4,
    # in the original coefficients (alpha_ij, gamma_ij, b_i), recovered from the
    # implementation form (a, c, m): Gamma^{-1} = diag(1/gamma) - C, A = a Gamma, b = m Gamma.
    # Returns the residuals of the conditions of order 1, 2, 3, 4 (one list per order).
    g, s = t.gamma, t.num_stages
    gam = np.linalg.inv(np.eye(s) / g - t.c)
    alpha = t.a @ gam
    beta = np.tril(alpha + gam, -1)
    np.testing.assert_allclose(np.diag(gam), g, atol=1e-14)
    np.testing.assert_allclose(alpha.sum(1), t.alpha, atol=1e-12)
    np.testing.assert_allclose(gam.sum(1), t.gamma_i, atol=1e-12)
    b, a_i, bp = m @ gam, alpha.sum(1), beta.sum(1)
    return [
        [b.sum() - 1.0],
        [b @ bp - (0.5 - g)],
        [b @ a_i**2 - 1 / 3, b @ beta @ bp - (1 / 6 - g + g**2)],
        [
            b @ a_i**3 - 1 / 4,
            b @ (a_i * (alpha @ bp)) - (1 / 8 - g / 3),
            b @ beta @ a_i**2 - (1 / 12 - g / 3),
            b @ beta @ beta @ bp - (1 / 24 - g / 2 + 1.5 * g**2 - g**3),
        ],
    ]


@pytest.mark.parametrize("name", sorted(TABLEAUS))
def test_tableau_order_conditions(name):
    # every condition up to the method's (and the embedded method's) order holds, and the
    # embedded method is of exactly its stated order (so the error estimate is not zero);
    # order 5 of Rodas5P is checked by the observed order below
    t = TABLEAUS[name]
    for m, order in ((t.m, t.order), (t.m_hat, t.embedded_order)):
        res = _order_conditions(t, m)
        for q in range(min(order, 4)):
            assert np.max(np.abs(res[q])) < 1e-10, (name, q + 1, res[q])
        if order < 4:
            assert np.max(np.abs(res[order])) > 1e-3, (name, order + 1)
    if t.stiffly_accurate:
        np.testing.assert_array_equal(t.m[:-1], t.a[-1, :-1])
        assert t.m[-1] == 1.0


def _observed_orders(errs):
    errs = np.asarray(errs)
    return np.log2(errs[:-1] / errs[1:])


def test_order_stiff_ode_kaps():
    # Kaps' problem, stiffness 1e6: y1 = exp(-2t), y2 = exp(-t).
    lam = 1e6

    def vf(t, y, args):
        return jnp.stack([-(lam + 2) * y[0] + lam * y[1] ** 2, y[0] - y[1] - y[1] ** 2])

    @jax.jit
    def run(dt):
        sol = dfx.diffeqsolve(
            dfx.ODETerm(vf), dae.Rodas4(), 0.0, 1.0, dt, jnp.array([1.0, 1.0]),
            stepsize_controller=dfx.ConstantStepSize(), max_steps=64,
        )
        return sol.ys[-1]

    exact = np.array([np.exp(-2.0), np.exp(-1.0)])
    errs = [np.max(np.abs(run(1.0 / n) - exact)) for n in (4, 8, 16, 32)]
    orders = _observed_orders(errs)
    assert np.all(orders >= 3.5), orders


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.__name__)
def test_order_and_dense_output_index1_dae(method):
    # Non-autonomous semi-explicit index-1 DAE with a singular mass matrix:
    #   y1' = y2 exp(-y1),  0 = y2 - cos(t) exp(sin t);  y1 = sin t, y2 = cos t e^{sin t}.
    # Measured slopes (80 -> 160 -> 320 steps): Rodas4 4.02, 4.01; Rodas4P 3.89, 3.95;
    # Rodas4P2 3.92, 3.96; Rodas5P 4.97, 5.03; ROS3P 3.00, 3.00 (docs/dae.md).
    mass = jnp.diag(jnp.array([1.0, 0.0]))

    def vf(t, y, args):
        return jnp.stack([y[1] * jnp.exp(-y[0]), y[1] - jnp.cos(t) * jnp.exp(jnp.sin(t))])

    t_end = 2.0
    ts = jnp.array([0.37, 1.111, 1.55, t_end])  # off the step grid except the end

    @jax.jit
    def run(dt):
        sol = dfx.diffeqsolve(
            dae.MassMatrixTerm(vf, mass), method(), 0.0, t_end, dt,
            jnp.array([0.0, 1.0]), saveat=dfx.SaveAt(ts=ts),
            stepsize_controller=dfx.ConstantStepSize(), max_steps=320,
        )
        return sol.ys

    tt = np.asarray(ts)
    exact = np.stack([np.sin(tt), np.cos(tt) * np.exp(np.sin(tt))], -1)
    ys = [np.asarray(run(t_end / n)) for n in (80, 160, 320)]
    end_errs = [np.max(np.abs(y[-1] - exact[-1])) for y in ys]
    dense_errs = [np.max(np.abs(y[:-1] - exact[:-1])) for y in ys]
    tab = method.tableau
    # the bar: observed slopes within 0.2 of the theory
    assert np.all(np.abs(_observed_orders(end_errs) - tab.order) <= 0.2), end_errs
    # the continuous extension's order (mean over 2 halvings: single ratios scatter because
    # the off-grid points sit at different step fractions)
    assert np.log2(dense_errs[0] / dense_errs[-1]) / 2 >= tab.dense_order - 0.5, dense_errs


def test_adaptive_pid_and_grad_vs_fd():
    # y1' = -p y1 + y2, 0 = y2 - sin(t) y1 ... closed loop index-1 system with a parameter;
    # the gradient of y(T) w.r.t. p through diffeqsolve(PIDController) matches FD.
    mass = jnp.diag(jnp.array([1.0, 0.0]))

    def vf(t, y, p):
        return jnp.stack([-p * y[0] + y[1], y[1] - jnp.sin(3 * t) * y[0] ** 2])

    def final(p):
        sol = dfx.diffeqsolve(
            dae.MassMatrixTerm(vf, mass), dae.Rodas4(), 0.0, 2.0, 1e-3,
            jnp.array([1.0, 0.0]), p, saveat=dfx.SaveAt(ts=jnp.array([1.0, 2.0])),
            stepsize_controller=dfx.PIDController(rtol=1e-10, atol=1e-12),
            max_steps=4096,
        )
        return sol.ys[-1, 0] + sol.ys[0, 1]

    f = jax.jit(final)
    g = jax.jit(jax.grad(final))
    p = jnp.asarray(0.7)
    eps = 1e-5
    fd = (f(p + eps) - f(p - eps)) / (2 * eps)
    assert np.isfinite(float(g(p)))
    np.testing.assert_allclose(g(p), fd, rtol=1e-5)


def test_bad_mass_shape():
    # refused when the term is built (a constant mass); a callable mass when it is used
    with pytest.raises(ValueError, match="square"):
        dae.MassMatrixTerm(lambda t, y, a: y, jnp.ones((3, 2)))
    term = dae.MassMatrixTerm(lambda t, y, a: y, lambda a: jnp.ones((3, 2)))
    with pytest.raises(ValueError, match="square"):
        term.mass_matrix(None)


def test_event_located_by_the_continuous_extension():
    # diffrax's Event works with the Rosenbrock solvers: the crossing is found by a root
    # find on the dense output. y1 = sin t crosses 0.5 at t = pi/6; Rodas5P's order-4
    # extension at rtol = atol = 1e-10 places it to 7.8e-12 (Rodas4, order 3: 3.3e-10).
    import optimistix as optx

    mass = jnp.diag(jnp.array([1.0, 0.0]))

    def vf(t, y, args):
        return jnp.stack([y[1] * jnp.exp(-y[0]), y[1] - jnp.cos(t) * jnp.exp(jnp.sin(t))])

    event = dfx.Event(lambda t, y, args, **kw: y[0] - 0.5, optx.Newton(rtol=1e-14, atol=1e-14))
    sol = dfx.diffeqsolve(
        dae.MassMatrixTerm(vf, mass), dae.Rodas5P(), 0.0, 2.0, 1e-3, jnp.array([0.0, 1.0]),
        event=event, stepsize_controller=dfx.PIDController(rtol=1e-10, atol=1e-10),
    )
    assert bool(sol.event_mask)
    assert abs(float(sol.ts[-1]) - np.pi / 6) < 1e-10
