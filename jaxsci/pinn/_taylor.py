r"""Batched Taylor-mode derivatives $(u, u_x, u_{xx}, u_t)$ of an MLP on space-time points,
and their hand-written reverse pass.

For a network $h_{\ell+1} = \sigma(W_\ell h_\ell + b_\ell)$ the first and second derivatives
along the input directions propagate layer by layer in closed form (forward Taylor mode):

$$z = W h + b,\quad z_x = W h_x,\quad z_t = W h_t,\quad z_{xx} = W h_{xx},$$
$$h' = \sigma(z),\quad h'_x = \sigma'(z) z_x,\quad h'_t = \sigma'(z) z_t,\quad
h'_{xx} = \sigma''(z) z_x^2 + \sigma'(z) z_{xx}.$$

The streams are kept feature-major (`(width, n_points)`), so every layer is four matrix
products $W H$ over the whole batch, and the first layer needs none for the tangents
($z_x = W_{:,0}$, $z_t = W_{:,1}$, $z_{xx} = 0$). There is no duplicated first-derivative
stream as in nested `jvp`.

`mlp_sq_residual_vjp` adds the reverse pass written out by hand (the transpose of the
recursion above: three products per stream and layer, $\partial W = \sum_s G_s H_s^T$,
$\partial H_s = W^T G_s$, and the chain rule through $\sigma, \sigma', \sigma''$, which needs
$\sigma'''$). It is what `jaxsci.pinn` problems use, chunk by chunk, for the gradient of the
residual loss of eqs. (16)/(22) (Fuks & Tchelepi) when the model is a plain MLP (a
`jaxsci.nn.MLP` or an `eqx.nn.MLP`, read through `jaxsci.nn.layer_view`); anything else falls
back to automatic differentiation (same values; checked in the tests). Any problem that
subclasses `AbstractSpaceTime1DProblem` gets both passes.
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..nn import layer_view
from ._operators import derivatives_1d


def _is_tanh(act) -> bool:
    return act is jnp.tanh or act is jax.nn.tanh


def _activation_derivs(act, z, order: int = 2):
    r"""$(\sigma, \sigma', \sigma'', [\sigma'''])(z)$ elementwise."""
    if _is_tanh(act):
        a = jnp.tanh(z)
        d1 = 1 - a * a
        d2 = -2 * a * d1
        return (a, d1, d2) if order == 2 else (a, d1, d2, d1 * (6 * a * a - 2))

    def deriv(f):
        return lambda q: jax.jvp(f, (q,), (jnp.ones_like(q),))[1]

    fs = [act]
    for _ in range(order):
        fs.append(deriv(fs[-1]))
    flat = z.reshape(-1)
    out = jax.vmap(lambda q: tuple(f(q) for f in fs))(flat)
    return tuple(o.reshape(z.shape) for o in out)


def _plain_layers(model, in_size: int | None = 2) -> tuple[eqx.nn.Linear, ...] | None:
    """All layers (hidden and head) of a plain MLP with `in_size` inputs (`None`: any int),
    a scalar output and an identity final activation, or `None` if `model` is not one."""
    try:
        view = layer_view(model)
    except TypeError:
        return None
    if view.residual or view.final_activation is not None or not callable(view.activation):
        return None
    layers = (*view.hidden, view.head)
    # the hand-written reverse pass writes cotangents into `.weight` fields; a layer with
    # another parametrisation (e.g. `FactorizedLinear`) takes the autodiff path
    if not all(type(layer) is eqx.nn.Linear for layer in layers):
        return None
    n_in = layers[0].in_features
    if not isinstance(n_in, int) or (in_size is not None and n_in != in_size):
        return None
    if view.head.out_features not in ("scalar", 1):
        return None
    return layers


def _is_plain_mlp(model) -> bool:
    return _plain_layers(model) is not None


def _check(model, points):
    if not _is_plain_mlp(model):
        raise TypeError(
            "the Taylor-mode path needs a plain MLP (`jaxsci.nn.MLP` or `eqx.nn.MLP`) with 2 "
            "inputs (x, t), a scalar output and an identity final activation; got "
            f"{type(model).__name__}. Use `batch_derivatives_1d`, which falls back to "
            "`derivatives_1d` for other models."
        )
    if not hasattr(points, "ndim") or points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(
            f"`points` must have shape (n, 2), got {getattr(points, 'shape', type(points))}."
        )


def _forward(model, points):
    """Taylor-mode forward pass; returns the four output rows and what the reverse pass
    needs: the pre-activations `(z, zx, zt, zxx)` of every hidden layer and the stream
    inputs `(h, hx, ht, hxx)` of every layer after the first."""
    layers = _plain_layers(model)
    activation = layer_view(model).activation
    n = points.shape[0]
    last = len(layers) - 1
    pre, inputs = [], []
    h = hx = ht = hxx = None
    for i, layer in enumerate(layers):
        w = layer.weight
        if i == 0:
            z = w @ points.T
            zx, zt, zxx = w[:, 0:1], w[:, 1:2], None
        else:
            inputs.append((h, hx, ht, hxx))
            z, zx, zt = w @ h, w @ hx, w @ ht
            zxx = w @ hxx
        if layer.bias is not None:
            z = z + layer.bias[:, None]
        if i == last:
            zxx = jnp.zeros_like(z) if zxx is None else zxx
            out = tuple(jnp.broadcast_to(s[0], (n,)) for s in (z, zx, zxx, zt))
            return out, (pre, inputs)
        pre.append((z, zx, zt, zxx))
        a, d1, d2 = _activation_derivs(activation, z)
        h, hx, ht = a, d1 * zx, d1 * zt
        hxx = d2 * zx * zx if zxx is None else d2 * zx * zx + d1 * zxx
    raise AssertionError("unreachable")


def _backward(model, points, saved, cotangents):
    """Reverse pass of `_forward`: cotangents of `(u, u_x, u_xx, u_t)` (each `(n,)`) ->
    (weight grads, bias grads, point grads)."""
    pre, inputs = saved
    layers = _plain_layers(model)
    activation = layer_view(model).activation
    n = points.shape[0]
    gu, gux, guxx, gut = (c[None, :] for c in cotangents)
    g_z, g_zx, g_zt, g_zxx = gu, gux, gut, guxx
    g_w = [None] * len(layers)
    g_b = [None] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        w = layers[i].weight
        g_b[i] = jnp.sum(g_z, axis=1) if layers[i].bias is not None else None
        if i == 0:
            g_w[0] = (g_z @ points).at[:, 0].add(jnp.sum(g_zx, 1)).at[:, 1].add(jnp.sum(g_zt, 1))
            g_x = (w.T @ g_z).T
            return g_w, g_b, jnp.broadcast_to(g_x, (n, 2))
        h, hx, ht, hxx = inputs[i - 1]
        g_w[i] = g_z @ h.T + g_zx @ hx.T + g_zt @ ht.T + g_zxx @ hxx.T
        gh, ghx, ght, ghxx = w.T @ g_z, w.T @ g_zx, w.T @ g_zt, w.T @ g_zxx
        z, zx, zt, zxx = pre[i - 1]
        _, d1, d2, d3 = _activation_derivs(activation, z, order=3)
        # cotangent of d1 (sigma') and d2 (sigma'') in the recursion of the module docstring
        g_d1 = ghx * zx + ght * zt
        if zxx is not None:
            g_d1 = g_d1 + ghxx * zxx
        g_d2 = ghxx * zx * zx
        g_z = d1 * gh + d2 * g_d1 + d3 * g_d2
        g_zx = d1 * ghx + 2 * d2 * zx * ghxx
        g_zt = d1 * ght
        g_zxx = d1 * ghxx
    raise AssertionError("unreachable")


def mlp_derivatives_1d(
    model: Any, points: Float[Array, "n 2"]
) -> tuple[Float[Array, " n"], Float[Array, " n"], Float[Array, " n"], Float[Array, " n"]]:
    r"""$(u, u_x, u_{xx}, u_t)$ at a batch of space-time points $(x, t)$ by the Taylor-mode
    forward pass (module docstring): one matrix product per stream and layer.

    **Arguments:**

    - `model`: a plain MLP read through `jaxsci.nn.layer_view`: a `jaxsci.nn.MLP` or an
      `eqx.nn.MLP` with `in_size=2`, scalar output and identity final activation; any
      elementwise activation ($\tanh$ in closed form, others by nested `jvp`).
    - `points`: `(n, 2)` array of $(x, t)$.

    **Returns:** four `(n,)` arrays `(u, u_x, u_xx, u_t)`, equal to `vmap` of
    `derivatives_1d` to float rounding. Differentiable by JAX in both modes; `jit` and
    `vmap` apply. Raises `TypeError` for any other model (use `batch_derivatives_1d`).
    """
    _check(model, points)
    return _forward(model, points)[0]


def mlp_sq_residual_vjp(problem, model: Any, points: Float[Array, "n 2"],
                        weights: Float[Array, " n"]):
    r"""$v = \sum_i w_i\, r_i^2$ for the residual
    $r = $ `problem.residual_from_derivatives(u, ux, uxx, ut, points)` (e.g. eq. (22)), and its
    gradient with respect to the model's arrays, the problem's arrays (e.g. $\epsilon$) and
    the points, by the Taylor-mode forward pass and the hand-written reverse pass.

    **Returns:** `(v, grad_model, grad_problem, grad_points)`; the first two gradients have
    the structure of `eqx.partition(., eqx.is_inexact_array)[0]` of the model / problem.
    """
    _check(model, points)
    derivs, saved = _forward(model, points)
    pdyn, pstatic = eqx.partition(problem, eqx.is_inexact_array)

    def res(d, pdyn, x):
        return eqx.combine(pdyn, pstatic).residual_from_derivatives(*d, x)

    r, vjp = jax.vjp(res, derivs, pdyn, points)
    value = jnp.sum(weights * r * r)
    g_derivs, g_problem, g_x_res = vjp(2 * weights * r)
    g_w, g_b, g_x = _backward(model, points, saved, g_derivs)
    params = eqx.filter(model, eqx.is_inexact_array)

    def all_layers(m):
        view = layer_view(m)
        return (*view.hidden, view.head)

    g_model = eqx.tree_at(lambda m: [layer.weight for layer in all_layers(m)], params, g_w)
    with_bias = [i for i, layer in enumerate(all_layers(model)) if layer.bias is not None]
    g_model = eqx.tree_at(
        lambda m: [all_layers(m)[i].bias for i in with_bias],
        g_model,
        [g_b[i] for i in with_bias],
    )
    return value, g_model, g_problem, g_x + g_x_res


def batch_derivatives_1d(
    model, points: Float[Array, "n 2"]
) -> tuple[Float[Array, " n"], Float[Array, " n"], Float[Array, " n"], Float[Array, " n"]]:
    r"""$(u, u_x, u_{xx}, u_t)$ at a batch of space-time points $(x, t)$ for any model: the
    Taylor-mode path of `mlp_derivatives_1d` when `model` is a plain MLP (`jaxsci.nn.MLP` or
    `eqx.nn.MLP`, see there), otherwise `vmap` of the pointwise `derivatives_1d`.

    **Arguments:** `model` any callable `(2,) -> scalar`; `points` `(n, 2)`.

    **Returns:** four `(n,)` arrays `(u, u_x, u_xx, u_t)`.
    """
    if _is_plain_mlp(model):
        return mlp_derivatives_1d(model, points)
    return jax.vmap(lambda p: derivatives_1d(model, p))(points)


def taylor_derivatives(
    model: Any, points: Float[Array, "n d"]
) -> tuple[Float[Array, " n"], Float[Array, "n d"], Float[Array, "n d"]]:
    r"""$u$, the gradient $\partial_j u$ and the pure second derivatives
    $\partial_j^2 u$ ($j = 1..d$) at a batch of points, by the Taylor-mode forward pass of
    the module docstring with one first- and one second-derivative stream per input
    direction (for any PDE whose residual needs only these, e.g. a Laplacian
    $\sum_j \partial_j^2 u$, an advection term or $u_t$ as one coordinate).

    **Arguments:**

    - `model`: a plain MLP (`jaxsci.nn.MLP` or `eqx.nn.MLP`) with any integer input size
      $d$, scalar output and identity final activation (read through
      `jaxsci.nn.layer_view`).
    - `points`: `(n, d)`.

    **Returns:** `(u, grad, second)` of shapes `(n,)`, `(n, d)`, `(n, d)`; equal to
    `jax.jacfwd` / the diagonal of `jax.hessian` of the model to float rounding.
    Differentiable in both modes; `jit` and `vmap` apply. Raises `TypeError` for any other
    model (use `jax.hessian` / `jaxsci.pinn.laplacian` pointwise there).
    """
    layers = _plain_layers(model, in_size=None)
    if layers is None:
        raise TypeError(
            "`taylor_derivatives` needs a plain MLP (`jaxsci.nn.MLP` or `eqx.nn.MLP`) with a "
            f"scalar output and an identity final activation; got {type(model).__name__}."
        )
    d = layers[0].in_features
    if not hasattr(points, "ndim") or points.ndim != 2 or points.shape[1] != d:
        raise ValueError(
            f"`points` must have shape (n, {d}), got {getattr(points, 'shape', type(points))}."
        )
    activation = layer_view(model).activation
    n = points.shape[0]
    last = len(layers) - 1
    h = hj = hjj = None
    for i, layer in enumerate(layers):
        w = layer.weight
        if i == 0:
            z = w @ points.T  # (width, n)
            zj = jnp.broadcast_to(w[:, :, None], (*w.shape, n))  # (width, d, n)
            zjj = None
        else:
            z = w @ h
            zj = jnp.einsum("ok,kdn->odn", w, hj)
            zjj = jnp.einsum("ok,kdn->odn", w, hjj)
        if layer.bias is not None:
            z = z + layer.bias[:, None]
        if i == last:
            second = jnp.zeros((n, d), z.dtype) if zjj is None else zjj[0].T
            return jnp.broadcast_to(z[0], (n,)), zj[0].T, second
        a, d1, d2 = _activation_derivs(activation, z)
        h, hj = a, d1[:, None, :] * zj
        hjj = d2[:, None, :] * zj * zj
        if zjj is not None:
            hjj = hjj + d1[:, None, :] * zjj
    raise AssertionError("unreachable")
