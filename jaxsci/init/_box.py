r"""Box initialisation (Cyr et al.; Gulian et al., eq. 13) as pure model surgery.

Each ReLU neuron $\sigma(w_i \cdot x + b_i)$ of a layer whose input lies in a box
$B = [\text{lo}, \text{hi}]$ is set up as $\sigma(k (x - p)\cdot n)$ with

1. $p$ uniform in $B$ (a random point of the cut plane),
2. $n$ uniform on the unit sphere (a random orientation),
3. $k > 0$ such that $\max_{x \in B} k (x - p)\cdot n = M$ (eq. 13 with $M = 1$),
4. $w_i = k n$, $b_i = -k\, p\cdot n$.

(The paper prints $b_i = k\,p\cdot n$; the minus sign is what makes the cut plane pass
through $p$, which is the construction its figure describes.) Cut planes are thus
scattered through the region where data lives, every neuron is active on part of the box,
and for ReLU the neuron's maximum over the box is exactly $M$.

For deep networks each layer uses the range of its own input, found by interval
propagation: the pre-activation of neuron $i$ ranges over $[z^-_i, z^+_i]$ on $B$, so a
monotone $\sigma$ maps the box to $[\sigma(z^-), \sigma(z^+)]$ (plain networks, eq. 9) and a
residual block $h + \sigma(T h)$ maps $[\text{lo}, \text{hi}]$ to
$[\text{lo} + \sigma(z^-), \text{hi} + \sigma(z^+)]$ (ResNets, eq. 10).
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import jax.random as jr
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._checks import check_value
from ..nn import layer_view
from ._standard import _check_key, _check_scale

__all__ = ["box", "box_layer"]


def _as_box(lo, hi, n: int, dtype, name: str):
    lo = jnp.asarray(lo, dtype)
    hi = jnp.asarray(hi, dtype)
    for v, nm in ((lo, "lo"), (hi, "hi")):
        if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != n):
            raise ValueError(
                f"`{name}` bound `{nm}` must be a scalar or shape ({n},), got shape {v.shape}."
            )
    lo, hi = jnp.broadcast_to(lo, (n,)), jnp.broadcast_to(hi, (n,))
    # NaN / inf bounds, an empty or zero-width coordinate, or a width that overflows
    bad = ~(jnp.isfinite(lo) & jnp.isfinite(hi) & jnp.isfinite(hi - lo) & (hi > lo))
    lo = check_value(
        lo, bad,
        f"`{name}` = (lo, hi) must be finite with hi > lo in every coordinate (a box of "
        f"positive, representable width); got lo={_show(lo)}, hi={_show(hi)}.")
    return lo, hi


def _show(v):
    return "<traced>" if isinstance(v, jax.core.Tracer) else str(np.asarray(v).tolist())


def _check_finite_weights(w, b, where):
    bad = ~(jnp.all(jnp.isfinite(w)) & jnp.all(jnp.isfinite(b)))
    return check_value(w, bad, f"{where}: Box initialisation gave non-finite weights (the "
                       "box is too large or too small for the dtype): rescale the inputs to "
                       "an O(1) box.")


def _box_weights(key, shape, lo, hi, maximum, dtype):
    n_out, n_in = shape
    kp, kn = jr.split(key)
    lo, hi = lo[None, :], hi[None, :]
    p = lo + (hi - lo) * jr.uniform(kp, (n_out, n_in), dtype)
    n = jr.normal(kn, (n_out, n_in), dtype)
    n = n / jnp.linalg.norm(n, axis=1, keepdims=True)
    a, b = n * (lo - p), n * (hi - p)
    zmax_unit = jnp.sum(jnp.maximum(a, b), axis=1)  # max over the box of (x - p) . n
    zmin_unit = jnp.sum(jnp.minimum(a, b), axis=1)
    k = maximum / zmax_unit
    weight = k[:, None] * n
    bias = -k * jnp.sum(n * p, axis=1)
    return weight, bias, k * zmin_unit, k * zmax_unit


def box_layer(
    layer: eqx.nn.Linear,
    *,
    key: PRNGKeyArray,
    lo: Float[ArrayLike, "*in"] = 0.0,
    hi: Float[ArrayLike, "*in"] = 1.0,
    maximum: float | Float[ArrayLike, ""] = 1.0,
) -> eqx.nn.Linear:
    r"""Box-initialise one `eqx.nn.Linear` for inputs in the box `[lo, hi]` (eq. 13).

    Every row satisfies $\max_{x \in [\text{lo},\text{hi}]} (W x + b)_i = M$ with
    $M$ = `maximum`, attained at a vertex of the box, and the cut plane
    $\{W_i x + b_i = 0\}$ passes through a uniform random point of the box.

    **Arguments:** `layer` (with bias), `key`, `lo`/`hi` (scalars or shape `(in,)`, with
    `hi > lo`), `maximum` $M > 0$.

    **Returns:** the layer with new weight `(out, in)` and bias `(out,)`.

    **Raises:** `TypeError` for a non-`Linear` layer or a bad key; `ValueError` for a layer
    without bias, bounds of the wrong shape, and (eagerly; `EquinoxRuntimeError` under
    `jit` / `vmap`) NaN/inf bounds, `hi <= lo`, `maximum` not finite and > 0, or non-finite
    resulting weights.
    """
    _check_key(key, "key")
    if not isinstance(layer, eqx.nn.Linear):
        raise TypeError(f"`layer` must be an eqx.nn.Linear, got {type(layer).__name__}.")
    if layer.bias is None:
        raise ValueError("`layer` needs a bias for Box initialisation (use_bias=True).")
    maximum = _check_scale(maximum, "maximum", what="the neuron maximum M")
    dtype = layer.weight.dtype
    lo, hi = _as_box(lo, hi, layer.weight.shape[1], dtype, "(lo, hi)")
    w, b, _, _ = _box_weights(key, layer.weight.shape, lo, hi, maximum, dtype)
    w = _check_finite_weights(w, b, "box_layer")
    return eqx.tree_at(lambda l: (l.weight, l.bias), layer, (w, b.reshape(layer.bias.shape)))


def box(
    model: Any,
    *,
    key: PRNGKeyArray,
    box: tuple[Float[ArrayLike, "*d"], Float[ArrayLike, "*d"]] = (0.0, 1.0),
    maximum: float = 1.0,
    residual_maximum: float | None = None,
) -> Any:
    r"""Box initialisation of the hidden layers of a plain network or a ResNet (eq. 13).

    Layer 1 uses the user-given input `box = (lo, hi)`; every later layer uses the range of
    its own input, obtained by interval propagation through the previous layers (see the
    module docstring). Each neuron's maximum over its layer's input box is `maximum`
    ($M = 1$ in eq. 13); for the residual layers $2..L$ of a ResNet it is
    `residual_maximum` (default: `maximum`). A smaller `residual_maximum`, e.g. $1/L$,
    keeps the hidden states of very deep ResNets $O(1)$. The linear head is left unchanged
    (LSGD overwrites it).

    **Arguments:**

    - `model`: a `jaxsci.nn.MLP`, a `jaxsci.nn.ResNet`, or an `eqx.nn.MLP` (its last layer
      is treated as the head and left unchanged), read through `jaxsci.nn.layer_view`.
    - `key`: a JAX PRNG key.
    - `box`: `(lo, hi)` bounds of the input domain, scalars or shape `(d,)`.
    - `maximum`, `residual_maximum`: the neuron maxima $M$.

    **Returns:** a new model of the same structure. The activation must be monotone
    non-decreasing (ReLU, tanh, ...) for the interval propagation to be exact.

    **Raises:** `TypeError` for an unsupported model, a bad key or a `box` that is not a
    pair; `ValueError` for a model without hidden layers or biases, bounds of the wrong
    shape, and (eagerly; `EquinoxRuntimeError` under `jit` / `vmap`) NaN/inf bounds,
    `hi <= lo` (zero or negative width), `maximum` / `residual_maximum` not finite and > 0,
    or non-finite weights (a box too large or small for the dtype).
    """
    _check_key(key, "key")
    if not (isinstance(box, (tuple, list)) and len(box) == 2):
        raise TypeError(f"`box` must be a pair (lo, hi) of scalars or shape-(d,) arrays, got "
                        f"{box!r:.80}.")
    try:
        view = layer_view(model)
    except TypeError as e:
        raise TypeError(f"{e} For a single layer use `jaxsci.init.box_layer`.") from None
    layers, activation, residual = view.hidden, view.activation, view.residual
    if len(layers) == 0:
        raise ValueError("`model` has no hidden layer to Box-initialise.")
    if layers[0].bias is None:
        raise ValueError("Box initialisation needs hidden layers with biases.")
    maximum = _check_scale(maximum, "maximum", what="the neuron maximum M")
    res_max = maximum if residual_maximum is None else _check_scale(
        residual_maximum, "residual_maximum")
    dtype = layers[0].weight.dtype
    lo, hi = _as_box(box[0], box[1], layers[0].weight.shape[1], dtype, "box")
    keys = jr.split(key, len(layers))
    new = []
    for i, (k, layer) in enumerate(zip(keys, layers)):
        m = maximum if (i == 0 or not residual) else res_max
        w, b, zmin, zmax = _box_weights(k, layer.weight.shape, lo, hi, m, dtype)
        w = _check_finite_weights(w, b, f"box (hidden layer {i})")
        new.append((w, b))
        s_lo, s_hi = activation(zmin), activation(zmax)
        if residual and i > 0:
            lo, hi = lo + s_lo, hi + s_hi
        else:
            lo, hi = s_lo, s_hi
        # Guard against a degenerate (zero-width) coordinate, e.g. a constant activation.
        hi = jnp.maximum(hi, lo + jnp.finfo(dtype).eps)
    return eqx.tree_at(
        lambda m: [x for lay in layer_view(m).hidden for x in (lay.weight, lay.bias)],
        model,
        [x for wb in new for x in wb],
    )
