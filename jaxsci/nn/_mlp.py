r"""Plain (multilayer-perceptron) adaptive-basis network, Gulian et al. eq. 9."""

from collections.abc import Callable
from typing import Literal

import equinox as eqx
import jax
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from ._base import AbstractAdaptiveBasisNet, check_point, make_head

__all__ = ["MLP", "make_hidden_layers", "check_sizes"]


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
