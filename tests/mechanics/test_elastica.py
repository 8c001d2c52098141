"""Elastica cantilever: circular arc under an end moment, pointing control, derivatives."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import mechanics as mech

BEAM = mech.Elastica(EI=2.0, L=1.5)


def test_pure_end_moment_gives_circular_arc():
    for M in (0.5, 3.0, -4.0):
        th = M * 1.5 / 2.0
        sol = mech.solve_cantilever(BEAM, jnp.array([0.0, 0.0, M]))
        want = [2.0 / M * np.sin(th), 2.0 / M * (1 - np.cos(th)), th]
        np.testing.assert_allclose(sol.value, want, rtol=0, atol=1e-8)
        np.testing.assert_allclose(sol.stats["root_moment"], M, atol=1e-8)
    shape = mech.cantilever_shape(BEAM, jnp.array([0.0, 0.0, 3.0]), 9)
    s = np.linspace(0, 1.5, 9)
    np.testing.assert_allclose(shape[:, 2], 3.0 * s / 2.0, atol=1e-8)
    np.testing.assert_allclose(shape[:, 3], 3.0, atol=1e-8)


# ~6 s of compilation (Levenberg-Marquardt around the shooting solve): kept out of the default
# suite's budget (run with -m slow).
@pytest.mark.slow
def test_controller_reaches_three_target_poses():
    true_loads = [jnp.array([0.5, 2.0, 0.5]), jnp.array([-1.0, 1.0, 3.0]), jnp.array([0.0, -4.0, 1.0])]
    for loads in true_loads:
        target = mech.solve_cantilever(BEAM, loads).value
        sol = mech.point_cantilever(BEAM, target)
        assert float(sol.stats["residual"]) < 1e-8
        np.testing.assert_allclose(mech.solve_cantilever(BEAM, sol.value).value, target, atol=1e-8)


def test_jit_and_grad_vs_finite_differences():
    loads = jnp.array([0.3, -0.5, 1.0])

    @jax.jit
    def value_and_grads(l):
        f = lambda l: mech.solve_cantilever(BEAM, l).value
        return f(l), jax.jacrev(f)(l)

    val, J = value_and_grads(loads)
    np.testing.assert_allclose(val, mech.solve_cantilever(BEAM, loads).value, rtol=1e-13, atol=1e-13)
    h = 1e-6
    for k in range(3):
        e = jnp.zeros(3).at[k].set(h)
        fd = (mech.solve_cantilever(BEAM, loads + e).value - mech.solve_cantilever(BEAM, loads - e).value) / (2 * h)
        np.testing.assert_allclose(J[:, k], fd, rtol=1e-6, atol=1e-8)
