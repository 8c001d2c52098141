r"""Glorot and He initialisation as pure model surgery.

Every function here has the signature `(model, *, key, ...) -> model`: it finds every
`eqx.nn.Linear` inside `model` (any pytree: `eqx.nn.MLP`, `jaxsci.nn.ResNet`, a tuple of
layers, ...), draws new weights, sets the biases to zero, and returns a new model with
`eqx.tree_at`. The input model is not modified. Weights keep their dtype.
"""

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
from jaxtyping import PRNGKeyArray

from .._checks import check_key, check_value, is_concrete

__all__ = ["glorot", "he", "layer_blocks", "linear_layers", "replace_layer_blocks", "replace_linear"]


def _is_linear(x: Any) -> bool:
    return isinstance(x, eqx.nn.Linear)


def linear_layers(model: Any) -> list[eqx.nn.Linear]:
    """All `eqx.nn.Linear` layers of `model`, in pytree-flattening order.

    For `jaxsci.nn` networks and `eqx.nn.MLP` this is input-to-output order.
    """
    return [x for x in jtu.tree_leaves(model, is_leaf=_is_linear) if _is_linear(x)]


def _is_block(x: Any) -> bool:
    return _is_linear(x) or eqx.is_inexact_array(x)


def layer_blocks(model: Any) -> list[eqx.nn.Linear | jax.Array]:
    """The layer blocks of `model`: every `eqx.nn.Linear` (as one block) and every other
    inexact array leaf outside those layers, in pytree-flattening order.

    This is the walker for per-layer / per-neuron treatments that must also cover arrays
    not held in a `Linear` (e.g. a trainable scale); `linear_layers` is the same walk
    restricted to the `Linear` blocks.

    **Arguments:** `model` any pytree.

    **Returns:** a list of `eqx.nn.Linear` modules and JAX arrays.
    """
    return [x for x in jtu.tree_leaves(model, is_leaf=_is_linear) if _is_block(x)]


def replace_layer_blocks(model: Any, blocks: list[eqx.nn.Linear | jax.Array]) -> Any:
    """Inverse of `layer_blocks`: a copy of `model` with its blocks replaced, in order.

    **Arguments:** `model` any pytree; `blocks` as many entries as `layer_blocks(model)`
    (each an `eqx.nn.Linear` or array of the matching block, or any pytree to put there,
    e.g. `None` to drop a block from a filtered tree).

    **Returns:** the new pytree (the input is not modified).
    """
    leaves, treedef = jtu.tree_flatten(model, is_leaf=_is_linear)
    n = sum(map(_is_block, leaves))
    if len(blocks) != n:
        raise ValueError(f"`blocks` must have {n} entries (one per layer block), got {len(blocks)}.")
    it = iter(blocks)
    return jtu.tree_unflatten(treedef, [next(it) if _is_block(x) else x for x in leaves])


def _check_scale(v: Any, name: str, *, zero_ok: bool = False, what: str = "") -> Any:
    """Tier 1/2: a finite number `> 0` (`>= 0` with `zero_ok`): Python numbers and concrete
    arrays at once (`ValueError`), traced ones by `eqx.error_if`. Returns `v` threaded."""
    want = ">= 0" if zero_ok else "> 0"
    hint = f" ({what})" if what else ""
    if isinstance(v, bool) or not (isinstance(v, (int, float, np.number)) or eqx.is_array(v)):
        raise TypeError(f"`{name}`{hint} must be a finite number {want}, got "
                        f"{type(v).__name__}.")
    if isinstance(v, (int, float, np.number)):
        if not (np.isfinite(v) and (v >= 0 if zero_ok else v > 0)):
            raise ValueError(f"`{name}`{hint} must be a finite number {want}, got {v!r}.")
        return v
    if jnp.ndim(v) != 0:
        raise ValueError(f"`{name}`{hint} must be a scalar, got shape {jnp.shape(v)}.")
    bad = ~jnp.isfinite(v) | ((v < 0) if zero_ok else (v <= 0))
    got = f", got {float(v)}" if is_concrete(v) else ""
    return check_value(v, bad, f"`{name}`{hint} must be a finite number {want}{got}.")


_check_key = check_key  # tier 1: a JAX PRNG key (shared helper)


def replace_linear(
    model: Any,
    weights: list[jax.Array],
    biases: list[jax.Array | None],
) -> Any:
    """Return `model` with its `eqx.nn.Linear` weights / biases replaced (in the order of
    `linear_layers`). Entries of `biases` are ignored for layers without bias."""
    layers = linear_layers(model)
    if len(weights) != len(layers) or len(biases) != len(layers):
        raise ValueError(
            f"Expected {len(layers)} weights and biases, got {len(weights)} and {len(biases)}."
        )
    model = eqx.tree_at(
        lambda m: [lay.weight for lay in linear_layers(m)], model, list(weights)
    )
    with_bias = [i for i, lay in enumerate(layers) if lay.bias is not None]
    if with_bias:
        model = eqx.tree_at(
            lambda m: [linear_layers(m)[i].bias for i in with_bias],
            model,
            [biases[i] for i in with_bias],
        )
    return model


def _surgery(model: Any, key: PRNGKeyArray, draw, name: str) -> Any:
    _check_key(key, "key")
    layers = linear_layers(model)
    if not layers:
        raise ValueError(
            f"`{name}`: `model` contains no `eqx.nn.Linear` layer; got {type(model).__name__}."
        )
    keys = jr.split(key, len(layers))
    weights, biases = [], []
    for k, lay in zip(keys, layers):
        fan_out, fan_in = lay.weight.shape
        weights.append(draw(k, lay.weight.shape, lay.weight.dtype, fan_in, fan_out))
        biases.append(None if lay.bias is None else jnp.zeros_like(lay.bias))
    return replace_linear(model, weights, biases)


def glorot(model: Any, *, key: PRNGKeyArray, uniform: bool = True, gain: float = 1.0) -> Any:
    r"""Glorot (Xavier) initialisation of every `eqx.nn.Linear` in `model`.

    For a layer with weight $W \in \mathbb{R}^{n_\text{out} \times n_\text{in}}$ the
    weights are drawn with variance
    $$\operatorname{Var} W_{ij} = g^2 \frac{2}{n_\text{in} + n_\text{out}},$$
    either uniformly on $[-a, a]$ with $a = g\sqrt{6 / (n_\text{in} + n_\text{out})}$
    (`uniform=True`, the default, Glorot & Bengio 2010 eq. 16) or from a centred normal
    (`uniform=False`). Biases are set to zero.

    This is one of the two reference initialisations of Cyr et al. / Gulian
    ("adaptive basis" paper, Box-initialisation figure) that collapse deep ReLU bases.

    **Arguments:**

    - `model`: any pytree containing `eqx.nn.Linear` layers.
    - `key`: a JAX PRNG key.
    - `uniform`: uniform (default) or normal distribution.
    - `gain`: multiplies the standard deviation (finite, > 0).

    **Returns:** a new model of the same structure.

    **Raises:** `TypeError` for a `key` that is not a PRNG key; `ValueError` for a model
    without `eqx.nn.Linear` layers or a `gain` not finite and > 0 (a traced `gain`:
    `EquinoxRuntimeError` under `jit`).
    """
    gain = _check_scale(gain, "gain")

    def draw(k, shape, dtype, fan_in, fan_out):
        std = gain * math.sqrt(2.0 / (fan_in + fan_out))
        if uniform:
            a = math.sqrt(3.0) * std
            return jr.uniform(k, shape, dtype, minval=-a, maxval=a)
        return std * jr.normal(k, shape, dtype)

    return _surgery(model, key, draw, "glorot")


def he(model: Any, *, key: PRNGKeyArray, uniform: bool = False, gain: float = 1.0) -> Any:
    r"""He (Kaiming) initialisation of every `eqx.nn.Linear` in `model`.

    Weights have variance $\operatorname{Var} W_{ij} = g^2 \cdot 2 / n_\text{in}$ (fan-in
    mode, He et al. 2015 eq. 10), drawn from a centred normal by default (`uniform=False`)
    or uniformly on $[-a, a]$ with $a = g\sqrt{6 / n_\text{in}}$. Biases are set to zero.
    With ReLU activations this keeps $\mathbb{E}|h_l|^2$ constant across layers of a plain
    network (variance preservation).

    **Arguments:**

    - `model`: any pytree containing `eqx.nn.Linear` layers.
    - `key`: a JAX PRNG key.
    - `uniform`: normal (default) or uniform distribution.
    - `gain`: multiplies the standard deviation (finite, > 0).

    **Returns:** a new model of the same structure.

    **Raises:** as `glorot`.
    """
    gain = _check_scale(gain, "gain")

    def draw(k, shape, dtype, fan_in, fan_out):
        std = gain * math.sqrt(2.0 / fan_in)
        if uniform:
            a = math.sqrt(3.0) * std
            return jr.uniform(k, shape, dtype, minval=-a, maxval=a)
        return std * jr.normal(k, shape, dtype)

    return _surgery(model, key, draw, "he")
