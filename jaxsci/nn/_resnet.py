r"""Residual adaptive-basis network, Gulian et al. eq. 10."""

from jaxtyping import Array, Float

from ._base import check_point
from ._mlp import AbstractLayeredNet

__all__ = ["ResNet"]


class ResNet(AbstractLayeredNet):
    r"""Residual network as an adaptive basis (eqs. 8, 10).

    $$\Phi^\text{res}(x; \xi^H) = (I + \sigma\circ T_L) \circ \cdots \circ
    (I + \sigma \circ T_2) \circ (\sigma \circ T_1)(x),\qquad
    \mathcal{NN}_\xi(x) = \xi^L \Phi^\text{res}(x; \xi^H).$$

    The first layer lifts $\mathbb{R}^d \to \mathbb{R}^w$ without a skip connection; layers
    $2..L$ are residual blocks $h \mapsto h + \sigma(W_l h + b_l)$. All layers are
    `eqx.nn.Linear`. Acts on ONE point `x` of shape `(in_size,)`.

    **Arguments:** as for `jaxsci.nn.MLP`: `in_size` $d$, `width` $w$, `depth` $L$,
    `out_size`, `activation` $\sigma$, `dtype`, `key`.
    """

    def hidden_states(self, x: Float[Array, " d"]) -> tuple[Float[Array, " w"], ...]:
        r"""States $h_1 = \sigma(T_1 x)$, $h_l = h_{l-1} + \sigma(T_l h_{l-1})$, $l = 1..L$."""
        check_point(x, self.in_size)
        h = self.activation(self.layers[0](x))
        out = [h]
        for layer in self.layers[1:]:
            h = h + self.activation(layer(h))
            out.append(h)
        return tuple(out)

    def basis(self, x: Float[Array, " d"]) -> Float[Array, " w"]:
        r"""$\Phi^\text{res}(x; \xi^H)$ (eq. 10), shape `(width,)`."""
        return self.hidden_states(x)[-1]
