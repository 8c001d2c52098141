"""Shared test helpers: tree comparison, finite-difference checks, problems with known answers."""

import contextlib
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np


def tree_allclose(x, y, *, rtol: float = 1e-8, atol: float = 1e-10) -> bool:
    """True if two pytrees have the same structure and allclose array leaves."""
    x_leaves, x_def = jtu.tree_flatten(eqx.filter(x, eqx.is_array))
    y_leaves, y_def = jtu.tree_flatten(eqx.filter(y, eqx.is_array))
    if x_def != y_def:
        return False
    return all(
        a.shape == b.shape and np.allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)
        for a, b in zip(x_leaves, y_leaves)
    )


def assert_tree_allclose(x, y, *, rtol: float = 1e-8, atol: float = 1e-10) -> None:
    x_leaves, x_def = jtu.tree_flatten(eqx.filter(x, eqx.is_array))
    y_leaves, y_def = jtu.tree_flatten(eqx.filter(y, eqx.is_array))
    assert x_def == y_def, f"tree structures differ:\n{x_def}\n{y_def}"
    for a, b in zip(x_leaves, y_leaves):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


def finite_difference_grad(
    f: Callable[[jax.Array], jax.Array], x: jax.Array, eps: float = 1e-6
) -> jax.Array:
    """Central finite-difference gradient of a scalar function of an array (float64)."""
    x = jnp.asarray(x, dtype=jnp.float64)
    flat = x.reshape(-1)
    grads = []
    for i in range(flat.size):
        e = jnp.zeros_like(flat).at[i].set(eps).reshape(x.shape)
        grads.append((f(x + e) - f(x - e)) / (2 * eps))
    return jnp.stack(grads).reshape(x.shape)


def check_grad_fd(
    f: Callable[[jax.Array], jax.Array],
    x: jax.Array,
    *,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
) -> None:
    """Assert `jax.grad(f)(x)` matches central finite differences."""
    np.testing.assert_allclose(
        np.asarray(jax.grad(f)(x)),
        np.asarray(finite_difference_grad(f, x, eps)),
        rtol=rtol,
        atol=atol,
    )


def check_jit_eager(f: Callable, *args, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    """Assert `eqx.filter_jit(f)(*args)` equals `f(*args)`."""
    assert_tree_allclose(eqx.filter_jit(f)(*args), f(*args), rtol=rtol, atol=atol)


def check_vmap_loop(
    f: Callable, batched_args: tuple, *, rtol: float = 1e-10, atol: float = 1e-12
) -> None:
    """Assert `vmap(f)` over the leading axis of every arg equals a Python loop."""
    out_v = jax.vmap(f)(*batched_args)
    n = jtu.tree_leaves(batched_args)[0].shape[0]
    outs = [f(*jtu.tree_map(lambda a: a[i], batched_args)) for i in range(n)]
    out_l = jtu.tree_map(lambda *xs: jnp.stack(xs), *outs)
    assert_tree_allclose(out_v, out_l, rtol=rtol, atol=atol)


# --- A zoo of problems with known answers -------------------------------------------------


def branin(x: jax.Array) -> jax.Array:
    """Smooth 2-D test function (Branin) on [-5, 10] x [0, 15]."""
    a, b, c = 1.0, 5.1 / (4 * jnp.pi**2), 5.0 / jnp.pi
    r, s, t = 6.0, 10.0, 1.0 / (8 * jnp.pi)
    return a * (x[1] - b * x[0] ** 2 + c * x[0] - r) ** 2 + s * (1 - t) * jnp.cos(x[0]) + s


def smooth_nd(x: jax.Array) -> jax.Array:
    r"""$f(x) = \sin(x_1) + \tfrac12 \cos(2 x_2) + \dots$: smooth, known gradient."""
    k = jnp.arange(1, x.shape[-1] + 1, dtype=x.dtype)
    return jnp.sum(jnp.sin(k * x) / k)


def smooth_nd_grad(x: jax.Array) -> jax.Array:
    k = jnp.arange(1, x.shape[-1] + 1, dtype=x.dtype)
    return jnp.cos(k * x)


def linear_ode_solution(a: jax.Array, y0: jax.Array, t: float) -> jax.Array:
    """Exact solution y(t) = expm(a t) y0 of y' = a y."""
    return jax.scipy.linalg.expm(a * t) @ y0


@contextlib.contextmanager
def count_compiles():
    """Number of XLA compilations inside the block (a one-element list, read after it)."""
    n = [0]

    def listener(name, duration, **kwargs):
        if name == "/jax/core/compile/backend_compile_duration":
            n[0] += 1

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield n
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
