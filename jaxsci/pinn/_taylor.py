r"""Batched Taylor-mode derivatives $(u, u_x, u_{xx}, u_t)$ of an MLP on space-time points.

For a network $h_{\ell+1} = \sigma(W_\ell h_\ell + b_\ell)$ the first and second derivatives
along the input directions propagate layer by layer in closed form (forward Taylor mode):

$$z = W h + b,\quad z_x = W h_x,\quad z_t = W h_t,\quad z_{xx} = W h_{xx},$$
$$h' = \sigma(z),\quad h'_x = \sigma'(z) z_x,\quad h'_t = \sigma'(z) z_t,\quad
h'_{xx} = \sigma''(z) z_x^2 + \sigma'(z) z_{xx}.$$

The four streams share one matrix product per layer (stacked rows), and there is no
duplicated first-derivative stream as in nested `jvp`. This is the lean path that
`jaxsci.pinn` problems use for `eqx.nn.MLP` models; anything else falls back to the generic
pointwise `derivatives_1d` under `vmap` (same values, checked in the tests).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._operators import derivatives_1d


def _activation_derivs(act, z):
    if act is jnp.tanh or act is jax.nn.tanh:
        a = jnp.tanh(z)
        d1 = 1 - a * a
        return a, d1, -2 * a * d1
    flat = z.reshape(-1)

    def scalar(q):
        def first(r):
            return jax.jvp(act, (r,), (jnp.ones_like(r),))

        (a, d1), (_, d2) = jax.jvp(first, (q,), (jnp.ones_like(q),))
        return a, d1, d2

    a, d1, d2 = jax.vmap(scalar)(flat)
    return a.reshape(z.shape), d1.reshape(z.shape), d2.reshape(z.shape)


def _is_plain_mlp(model) -> bool:
    if not isinstance(model, eqx.nn.MLP):
        return False
    if model.in_size != 2 or model.out_size not in ("scalar", 1):
        return False
    sentinel = object()
    try:
        identity = model.final_activation(sentinel) is sentinel
    except Exception:
        identity = False
    return identity and callable(model.activation)


def mlp_derivatives_1d(
    model: eqx.nn.MLP, points: Float[Array, "n 2"]
) -> tuple[Float[Array, " n"], Float[Array, " n"], Float[Array, " n"], Float[Array, " n"]]:
    r"""$(u, u_x, u_{xx}, u_t)$ at `points` $(x, t)$ for a scalar-output `eqx.nn.MLP` with an
    elementwise activation and identity final activation (module docstring)."""
    if not _is_plain_mlp(model):
        raise TypeError(
            "`mlp_derivatives_1d` needs an eqx.nn.MLP with in_size=2, scalar output and an "
            f"identity final activation; got {type(model).__name__}. Use `derivatives_1d`."
        )
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"`points` must have shape (n, 2), got {points.shape}.")
    n = points.shape[0]
    h = points
    hx = jnp.zeros_like(points).at[:, 0].set(1)
    ht = jnp.zeros_like(points).at[:, 1].set(1)
    hxx = jnp.zeros_like(points)
    layers = model.layers
    for i, layer in enumerate(layers):
        z_all = jnp.concatenate([h, hx, ht, hxx], axis=0) @ layer.weight.T
        z, zx, zt, zxx = z_all[:n], z_all[n : 2 * n], z_all[2 * n : 3 * n], z_all[3 * n :]
        if layer.bias is not None:
            z = z + layer.bias[None, :]
        if i == len(layers) - 1:
            return z[:, 0], zx[:, 0], zxx[:, 0], zt[:, 0]
        a, d1, d2 = _activation_derivs(model.activation, z)
        h, hx, ht, hxx = a, d1 * zx, d1 * zt, d2 * zx * zx + d1 * zxx
    raise AssertionError("unreachable")


def batch_derivatives_1d(
    model, points: Float[Array, "n 2"]
) -> tuple[Float[Array, " n"], Float[Array, " n"], Float[Array, " n"], Float[Array, " n"]]:
    r"""$(u, u_x, u_{xx}, u_t)$ at a batch of points: the Taylor-mode MLP path when `model`
    is a plain `eqx.nn.MLP`, otherwise `vmap` of the pointwise `derivatives_1d`."""
    if _is_plain_mlp(model):
        return mlp_derivatives_1d(model, points)
    return jax.vmap(lambda p: derivatives_1d(model, p))(points)
