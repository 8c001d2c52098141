r"""The residual loss $L_r = \frac{1}{N_r}\sum_i r_\theta(x_r^i)^2$ (Fuks & Tchelepi eq. 16)
evaluated chunk by chunk, with its gradient accumulated over the chunks.

Why: at $N_r = 10^4$ points every intermediate of the batched residual (four Taylor streams
per layer, their cotangents) is a `(20, 10^4)` array, and the step becomes bound by memory
traffic, not arithmetic. Processing `chunk_size` points at a time inside a `lax.scan` keeps
the working set in cache (faster on CPU at $N_r = 10^4$; figures in `docs/benchmarks.md`). Because $L_r$ is a sum over points, its gradient is the sum of
per-chunk gradients, which `jax.custom_vjp` computes in the forward pass (one scan, no
second sweep over stored activations); the backward rule only scales them by the incoming
cotangent. The values are those of the unchunked expression up to float rounding.

Limitation: a `custom_vjp` function supports reverse mode (`grad`, also nested) and `vmap`,
but not forward mode (`jvp`, `jax.hessian`, `jaxsci.optim.hessian_matrix`); pass
`chunk_size=None` for a plain differentiable graph there.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


def chunked_mse(
    chunk_vjp: Callable,
    problem,
    model,
    points: Float[Array, "n d"],
    chunk_size: int,
) -> Float[Array, ""]:
    r"""$\frac{1}{n}\sum_i r(x_i)^2$ over `points`, `chunk_size` points at a time.

    `chunk_vjp(problem, model, x, w) -> (sum_i w_i r_i^2, grad_model, grad_problem, grad_x)`
    evaluates one chunk (gradients with the structure of `eqx.partition(.,
    eqx.is_inexact_array)[0]`); `w` is $1/n$ on real points and 0 on padding.
    """
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"`chunk_size` must be a positive int or None, got {chunk_size!r}.")
    if points.ndim != 2:
        raise ValueError(f"`points` must have shape (n, d), got {points.shape}.")
    n, d = points.shape
    c = min(chunk_size, n)
    n_chunks = -(-n // c)
    pad = n_chunks * c - n
    params, mstatic = eqx.partition(model, eqx.is_inexact_array)
    pdyn, pstatic = eqx.partition(problem, eqx.is_inexact_array)

    def split(x):
        if pad:
            x = jnp.concatenate([x, jnp.broadcast_to(x[:1], (pad, d))])
        w = jnp.where(jnp.arange(n_chunks * c) < n, 1 / n, 0).astype(x.dtype)
        return x.reshape(n_chunks, c, d), w.reshape(n_chunks, c)

    def value_only(params, pdyn, x):
        m, pr = eqx.combine(params, mstatic), eqx.combine(pdyn, pstatic)
        xs, ws = split(x)

        def body(acc, xw):
            r = pr.residuals(m, xw[0])
            return acc + jnp.sum(xw[1] * r * r), None

        return jax.lax.scan(body, jnp.zeros((), x.dtype), (xs, ws))[0]

    @jax.custom_vjp
    def mse(params, pdyn, x):
        return value_only(params, pdyn, x)

    def fwd(params, pdyn, x):
        m, pr = eqx.combine(params, mstatic), eqx.combine(pdyn, pstatic)
        xs, ws = split(x)

        def body(acc, xw):
            v, gm, gp, gx = chunk_vjp(pr, m, xw[0], xw[1])
            return jax.tree.map(jnp.add, acc, (v, gm, gp)), gx

        zeros = jax.tree.map(jnp.zeros_like, (jnp.zeros((), x.dtype), params, pdyn))
        (v, gm, gp), gxs = jax.lax.scan(body, zeros, (xs, ws))
        return v, (gm, gp, gxs.reshape(n_chunks * c, d)[:n])

    def bwd(res, g):
        return jax.tree.map(lambda t: g * t, res)

    mse.defvjp(fwd, bwd)
    return mse(params, pdyn, points)


def autodiff_chunk_vjp(problem, model, x, w):
    """`chunk_vjp` for any model and problem: reverse-mode autodiff of `problem.residuals`."""
    params, mstatic = eqx.partition(model, eqx.is_inexact_array)
    pdyn, pstatic = eqx.partition(problem, eqx.is_inexact_array)

    def f(params, pdyn, x):
        r = eqx.combine(pdyn, pstatic).residuals(eqx.combine(params, mstatic), x)
        return jnp.sum(w * r * r)

    v, (gm, gp, gx) = jax.value_and_grad(f, argnums=(0, 1, 2))(params, pdyn, x)
    return v, gm, gp, gx
