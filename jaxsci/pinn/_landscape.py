r"""Loss-landscape slices with filter-normalised random directions (Li et al. 2018), as used
by Fuks & Tchelepi section 5.2 (Figs. 8-10):

$$f(\alpha, \beta) = L(\theta + \alpha\,\delta + \beta\,\eta).$$

$\delta, \eta$ are Gaussian directions rescaled *filter-wise*: for every `eqx.nn.Linear`
layer each row $d_i$ of the weight direction (one output neuron's incoming weights, the
"filter") is rescaled to $d_i \|\theta_i\| / \|d_i\|$; bias directions are rescaled as one
vector to the norm of the bias (or zeroed with `ignore_bias=True`, Li et al.'s choice).
Other array leaves are normalised as a whole.
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
from jaxtyping import Array, Float, PRNGKeyArray

from .._misc import safe_norm
from ._validate import count, finite_array
from ..init import layer_blocks, replace_layer_blocks


def _normalise(d, p):
    return d * (safe_norm(p) / jnp.maximum(safe_norm(d), jnp.finfo(d.dtype).tiny))


def filter_normalized_direction(
    model: Any, *, key: PRNGKeyArray, ignore_bias: bool = False
) -> Any:
    r"""A random direction with the structure of `model` (inexact arrays only; other leaves
    `None`), filter-normalised as described in the module docstring."""
    params = eqx.filter(model, eqx.is_inexact_array)
    if not jtu.tree_leaves(params):
        raise TypeError(
            f"`model` ({type(model).__name__}) has no floating-point arrays to perturb; pass "
            "the model (e.g. an eqx.nn.MLP), not a plain function."
        )
    blocks = layer_blocks(params)
    keys = jr.split(key, max(len(blocks), 1))
    out = []
    for k, leaf in zip(keys, blocks):
        if isinstance(leaf, eqx.nn.Linear):
            kw, kb = jr.split(k)
            w = leaf.weight
            dw = jr.normal(kw, w.shape, w.dtype)
            wn = jnp.sqrt(jnp.sum(w**2, axis=-1, keepdims=True))
            dn = jnp.sqrt(jnp.sum(dw**2, axis=-1, keepdims=True))
            new = eqx.tree_at(lambda lin: lin.weight, leaf, dw * wn / jnp.maximum(dn, 1e-30))
            if leaf.bias is not None:
                b = leaf.bias
                db = jnp.zeros_like(b) if ignore_bias else _normalise(jr.normal(kb, b.shape, b.dtype), b)
                new = eqx.tree_at(lambda lin: lin.bias, new, db)
            out.append(new)
        else:
            out.append(_normalise(jr.normal(k, leaf.shape, leaf.dtype), leaf))
    return replace_layer_blocks(params, out)


def loss_surface(
    loss: Callable[[Any], Float[Array, ""]],
    model: Any,
    direction1: Any,
    direction2: Any,
    alphas: Float[Array, " a"],
    betas: Float[Array, " b"],
    *,
    batch_size: int | None = None,
) -> Float[Array, "a b"]:
    r"""$f(\alpha_i, \beta_j) = L(\theta + \alpha_i\delta + \beta_j\eta)$ on a grid.

    **Arguments:** `loss(model) -> scalar`; `direction1`, `direction2` from
    `filter_normalized_direction`; `alphas`, `betas` 1-D grids (paper: $(-0.5, 0.5)$);
    `batch_size` evaluates that many grid points at a time with `jax.lax.map` (default: all
    at once with `vmap`).

    **Returns:** array `(len(alphas), len(betas))`.
    """
    alphas = jnp.asarray(alphas)
    betas = jnp.asarray(betas)
    if alphas.ndim != 1 or betas.ndim != 1:
        raise ValueError(
            f"`alphas` and `betas` must be 1-D, got shapes {alphas.shape}, {betas.shape}."
        )
    if alphas.shape[0] == 0 or betas.shape[0] == 0:
        raise ValueError(
            f"`alphas` and `betas` must be non-empty grids, got shapes {alphas.shape}, "
            f"{betas.shape}."
        )
    if batch_size is not None:
        batch_size = count(batch_size, "batch_size", what="grid points per batch")
    alphas = finite_array(alphas, "alphas")
    betas = finite_array(betas, "betas")
    params, static = eqx.partition(model, eqx.is_inexact_array)
    d1 = eqx.filter(direction1, eqx.is_inexact_array)
    d2 = eqx.filter(direction2, eqx.is_inexact_array)
    for name, d in (("direction1", d1), ("direction2", d2)):
        if jtu.tree_structure(d) != jtu.tree_structure(params) or any(
            a.shape != b.shape for a, b in zip(jtu.tree_leaves(d), jtu.tree_leaves(params))
        ):
            raise ValueError(
                f"`{name}` must have the structure and shapes of `model`'s arrays; build it "
                "with `filter_normalized_direction(model, key=...)`."
            )
    out = eqx.filter_eval_shape(loss, model)
    if not hasattr(out, "shape") or out.shape != ():
        raise ValueError(
            f"`loss(model)` must return a scalar, got {getattr(out, 'shape', type(out))}."
        )

    def at(ab):
        a, b = ab[0], ab[1]
        p = jtu.tree_map(lambda t, x, y: t + a * x + b * y, params, d1, d2)
        return loss(eqx.combine(p, static))

    grid = jnp.stack(jnp.meshgrid(alphas, betas, indexing="ij"), axis=-1).reshape(-1, 2)
    vals = jax.lax.map(at, grid, batch_size=batch_size) if batch_size else jax.vmap(at)(grid)
    return vals.reshape(alphas.shape[0], betas.shape[0])


def plot_loss_surface(
    surface: Float[Array, "a b"],
    alphas: Float[Array, " a"],
    betas: Float[Array, " b"],
    *,
    ax: Any = None,
    levels: int = 30,
    title: str | None = None,
) -> Any:
    """Contour plot of a `loss_surface` (matplotlib, imported lazily). Returns the axes."""
    import matplotlib.pyplot as plt

    shape = jnp.shape(surface)
    if len(shape) != 2 or shape != (jnp.shape(alphas)[0], jnp.shape(betas)[0]):
        raise ValueError(
            f"`surface` must have shape (len(alphas), len(betas)) = "
            f"({jnp.shape(alphas)[0]}, {jnp.shape(betas)[0]}), got {shape}."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    cs = ax.contour(jnp.asarray(alphas), jnp.asarray(betas), jnp.asarray(surface).T, levels=levels)
    ax.figure.colorbar(cs, ax=ax)
    ax.plot([0.0], [0.0], "k+", ms=10)
    ax.set_xlabel("first random direction")
    ax.set_ylabel("second random direction")
    if title:
        ax.set_title(title)
    return ax
