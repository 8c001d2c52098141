r"""Plain (multilayer-perceptron) adaptive-basis network, Gulian et al. eq. 9."""

from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import equinox as eqx
import jax
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from ._base import AbstractAdaptiveBasisNet, check_key, check_out_size, check_point, make_head

__all__ = ["MLP", "LayerView", "layer_view", "make_hidden_layers", "check_sizes"]


def check_sizes(in_size, width, depth) -> None:
    for name, v in (("in_size", in_size), ("width", width), ("depth", depth)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"`{name}` must be a positive int, got {v!r}.")


def make_hidden_layers(in_size, width, depth, dtype, key) -> tuple[eqx.nn.Linear, ...]:
    keys = jr.split(key, depth)
    sizes = [in_size] + [width] * depth
    return tuple(
        eqx.nn.Linear(sizes[i], sizes[i + 1], dtype=dtype, key=keys[i]) for i in range(depth)
    )


class AbstractLayeredNet(AbstractAdaptiveBasisNet):
    """Shared construction of `MLP` and `ResNet`: `depth` hidden `eqx.nn.Linear` layers of
    width `width` and a bias-free linear head; subclasses define how the layers compose."""

    layers: tuple[eqx.nn.Linear, ...]
    head: eqx.nn.Linear
    activation: Callable[[Array], Array] = eqx.field(static=True)
    in_size: int = eqx.field(static=True)

    def __init__(
        self,
        in_size: int,
        width: int,
        depth: int,
        out_size: int | Literal["scalar"] = "scalar",
        activation: Callable[[Array], Array] = jax.nn.relu,
        *,
        dtype=None,
        key: PRNGKeyArray,
    ):
        check_sizes(in_size, width, depth)
        check_out_size(out_size)
        check_key(key)
        if not callable(activation):
            raise TypeError(f"`activation` must be callable, got {activation!r}.")
        k1, k2 = jr.split(key)
        self.layers = make_hidden_layers(in_size, width, depth, dtype, k1)
        self.head = make_head(width, out_size, dtype, k2)
        self.activation = activation
        self.in_size = in_size

    @property
    def depth(self) -> int:
        return len(self.layers)


class MLP(AbstractLayeredNet):
    r"""Plain network as an adaptive basis (eqs. 8-9).

    $$\Phi^\text{plain}(x; \xi^H) = \sigma \circ T_L \circ \cdots \circ \sigma \circ T_1(x),
    \qquad T_l(x) = W_l x + b_l,\qquad
    \mathcal{NN}_\xi(x) = \xi^L \Phi^\text{plain}(x; \xi^H).$$

    `layers[0]` maps $\mathbb{R}^d \to \mathbb{R}^w$, the others
    $\mathbb{R}^w \to \mathbb{R}^w$; all are `eqx.nn.Linear`, so any `jaxsci.init`
    surgery applies. Acts on ONE point `x` of shape `(in_size,)`.

    **Arguments:**

    - `in_size`: input dimension $d$.
    - `width`: $w$, the number of basis functions.
    - `depth`: $L \ge 1$, the number of hidden layers.
    - `out_size`: output size of the head (`"scalar"` for $p = 1$ and a scalar output).
    - `activation`: $\sigma$, any elementwise callable (`jax.nn.relu`, `jnp.tanh`, ...).
    - `dtype`: parameter dtype (default: JAX's default float).
    - `key`: PRNG key for equinox's default layer initialisation.

    **Raises:** `ValueError` for `in_size`, `width` or `depth` that is not a positive int,
    or an `out_size` that is neither `"scalar"` nor a positive int; `TypeError` for a
    non-callable `activation` or a `key` that is not a PRNG key. Calling the network on an
    array that is not ONE point of shape `(in_size,)` raises `ValueError` at trace time
    (batch with `jax.vmap`). The forward pass is not checked for NaN (it is the hot path):
    NaN in gives NaN out.
    """

    def hidden_states(self, x: Float[Array, " d"]) -> tuple[Float[Array, " w"], ...]:
        r"""Outputs $h_l = \sigma(T_l h_{l-1})$ of every hidden layer, $l = 1..L$."""
        check_point(x, self.in_size)
        out = []
        h = x
        for layer in self.layers:
            h = self.activation(layer(h))
            out.append(h)
        return tuple(out)

    def basis(self, x: Float[Array, " d"]) -> Float[Array, " w"]:
        r"""$\Phi^\text{plain}(x; \xi^H)$ (eq. 9), shape `(width,)`."""
        return self.hidden_states(x)[-1]


class LayerView(NamedTuple):
    r"""The layers of a feed-forward network, read the same way for every network type
    `layer_view` accepts: $h_1 = \sigma(T_1 x)$, $h_l = [h_{l-1} +]\ \sigma(T_l h_{l-1})$,
    output $= \tau(T_\text{head} h_L)$.

    **Fields:**

    - `hidden`: the hidden `eqx.nn.Linear` layers $T_1..T_L$, input to output.
    - `head`: the last `eqx.nn.Linear` $T_\text{head}$ (no activation after it but $\tau$).
    - `activation`: $\sigma$.
    - `residual`: `True` for a `ResNet` (layers $2..L$ are $h + \sigma(T h)$).
    - `final_activation`: $\tau$, or `None` for the identity.
    """

    hidden: tuple[eqx.nn.Linear, ...]
    head: eqx.nn.Linear
    activation: Callable[[Array], Array]
    residual: bool
    final_activation: Callable[[Array], Array] | None


def _identity_final(fn) -> bool:
    sentinel = object()
    try:
        return fn(sentinel) is sentinel
    except Exception:
        return False


def layer_view(model: Any) -> LayerView:
    """The one accessor for the layers of a feed-forward network: `jaxsci.nn.MLP` and
    `jaxsci.nn.ResNet` (hidden `layers`, bias-free `head`) and `eqx.nn.MLP` (its last layer
    is the head). Every function of jaxsci that takes "an MLP" (`jaxsci.init.box`, the
    Taylor-mode path of `jaxsci.pinn`) reads the network through it, so all three work.

    It only reads the attributes, so it can also be used inside `eqx.tree_at` as
    `lambda m: layer_view(m).hidden` (also on an `eqx.filter`-ed copy of the model).

    **Arguments:** `model` a `jaxsci.nn.MLP`, `jaxsci.nn.ResNet` or `eqx.nn.MLP`.

    **Returns:** a `LayerView`. Raises `TypeError` for any other model.
    """
    from ._resnet import ResNet

    if isinstance(model, (MLP, ResNet)):
        return LayerView(
            tuple(model.layers), model.head, model.activation, isinstance(model, ResNet), None
        )
    if isinstance(model, eqx.nn.MLP):
        final = None if _identity_final(model.final_activation) else model.final_activation
        return LayerView(
            tuple(model.layers[:-1]), model.layers[-1], model.activation, False, final
        )
    raise TypeError(
        "`model` must be a jaxsci.nn.MLP, jaxsci.nn.ResNet or eqx.nn.MLP, got "
        f"{type(model).__name__}."
    )
