"""The batched L-BFGS pool on its own (`jaxsci.gp._pool.lbfgs_pool`)."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxsci.gp._pool import MAX_BACKTRACKS, lbfgs_pool


def _rosenbrock(x, pid):
    f = lambda v: jnp.sum(100.0 * (v[1:] - v[:-1] ** 2) ** 2 + (1.0 - v[:-1]) ** 2)
    return jax.vmap(jax.value_and_grad(f))(x)


def test_pool_minimises_rosenbrock_from_many_starts():
    x0 = jnp.asarray(np.random.default_rng(0).uniform(-2, 2, (12, 3)))
    x, f, nit, conv, lsfail, evals, iters, g = jax.jit(
        lambda x0: lbfgs_pool(_rosenbrock, x0, batch_size=4, max_steps=500, gtol=1e-8, ftol=0.0)
    )(x0)
    np.testing.assert_allclose(x, 1.0, atol=1e-5)
    assert bool(jnp.all(conv)) and not bool(jnp.any(lsfail))
    assert bool(jnp.all(evals >= nit)) and bool(jnp.all(evals > 0))


def test_noise_floor_stops_the_line_search_early():
    # Rosenbrock + deterministic "rounding noise" of relative size 1e-6 in the value (the
    # gradient is exact), much larger than ftol: near the minimum no step can decrease f by
    # more than ftol relative, and the pool must stop there (flagged in `lsfail`) instead of
    # backtracking into the noise. Measured: rejected trials per problem 4-12 with the
    # floor rule, 12-35 without it.
    def noisy(x, pid):
        def f(v):
            base = 1.0 + jnp.sum(100.0 * (v[1:] - v[:-1] ** 2) ** 2 + (1.0 - v[:-1]) ** 2)
            return base + jax.lax.stop_gradient(1e-6 * base * jnp.sin(1e9 * jnp.sum(v)))
        return jax.vmap(jax.value_and_grad(f))(x)

    x0 = jnp.asarray(np.random.default_rng(1).uniform(-2, 2, (6, 2)))
    x, f, nit, conv, lsfail, evals, _, _ = jax.jit(
        lambda x0: lbfgs_pool(noisy, x0, batch_size=6, max_steps=200, gtol=1e-12, ftol=2.2e-9)
    )(x0)
    assert bool(jnp.all(conv)) and bool(jnp.all(lsfail))
    np.testing.assert_allclose(x, 1.0, atol=2e-3)  # at the minimum up to the noise
    assert int(jnp.max(evals - nit)) < 20


def test_reported_rounding_error_ends_the_search_at_the_noise():
    # Same noisy Rosenbrock, noise 1e-3 absolute: when the objective reports that error as
    # a third output, the line search stops once its predicted decrease is below it, with
    # fewer evaluations than when it has to find the floor through `ftol` by itself.
    amp = 1e-3

    def noisy(x, pid, report):
        def f(v):
            base = 1.0 + jnp.sum(100.0 * (v[1:] - v[:-1] ** 2) ** 2 + (1.0 - v[:-1]) ** 2)
            return base + jax.lax.stop_gradient(amp * jnp.sin(1e9 * jnp.sum(v)))
        fx, g = jax.vmap(jax.value_and_grad(f))(x)
        return (fx, g, jnp.full_like(fx, amp)) if report else (fx, g)

    x0 = jnp.asarray(np.random.default_rng(2).uniform(-2, 2, (8, 2)))
    run = lambda report: jax.jit(
        lambda x0: lbfgs_pool(lambda x, p: noisy(x, p, report), x0, batch_size=8, max_steps=200, gtol=1e-12, ftol=2.2e-9)
    )(x0)
    x_r, f_r, _, conv_r, _, evals_r, _, _ = run(True)
    x_n, f_n, _, conv_n, _, evals_n, _, _ = run(False)
    assert bool(jnp.all(conv_r)) and bool(jnp.all(conv_n))
    assert bool(jnp.all(f_r <= 1.0 + 50 * amp))  # reached the noise level of the minimum
    assert int(jnp.sum(evals_r)) < 0.9 * int(jnp.sum(evals_n))  # measured: 268 vs 326
