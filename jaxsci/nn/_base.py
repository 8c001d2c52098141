r"""The adaptive-basis interpretation of a network (Gulian et al., eq. 8).

A network $\mathcal{NN}_\xi : \mathbb{R}^d \to \mathbb{R}^p$ is written as a linear head
$\xi^L$ acting on $w$ learned basis functions,
$$\mathcal{NN}_\xi(x) = \sum_{i=1}^{w} \xi^L_i \, \Phi_i(x; \xi^H).$$
`basis` evaluates $\Phi(x; \xi^H)$ and `head` holds $\xi^L$ (an `eqx.nn.Linear` without
bias), so least-squares training (`jaxsci.train.lsgd`) can solve for $\xi^L$ exactly.
"""

import abc
from typing import Literal

import equinox as eqx
from jaxtyping import Array, Float

__all__ = ["AbstractAdaptiveBasisNet", "check_point"]


def check_point(x: Array, in_size: int, name: str = "x") -> None:
    """Trace-time check that `x` is one point of shape `(in_size,)`."""
    if not hasattr(x, "shape") or x.shape != (in_size,):
        raise ValueError(
            f"`{name}` must be ONE point of shape ({in_size},), got shape "
            f"{getattr(x, 'shape', type(x))}; batch with `jax.vmap(model)(xs)`."
        )


class AbstractAdaptiveBasisNet(eqx.Module):
    r"""A model $x \mapsto \xi^L \Phi(x; \xi^H)$ (eq. 8) acting on one point.

    Subclasses provide `basis` (the hidden features $\Phi$, shape `(width,)`) and the
    attribute `head`: an `eqx.nn.Linear(width, out_size, use_bias=False)` holding
    $\xi^L$ (weight shape `(out, width)`).
    """

    head: eqx.AbstractVar[eqx.nn.Linear]

    @abc.abstractmethod
    def basis(self, x: Float[Array, " d"]) -> Float[Array, " w"]:
        r"""The hidden basis $\Phi(x; \xi^H) \in \mathbb{R}^w$ at one point `x`."""

    @property
    def width(self) -> int:
        """Number $w$ of basis functions."""
        return self.head.in_features

    @property
    def out_size(self) -> int | Literal["scalar"]:
        return self.head.out_features

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, "*p"]:
        r"""$\mathcal{NN}_\xi(x) = \xi^L \Phi(x; \xi^H)$; a scalar if `out_size="scalar"`."""
        return self.head(self.basis(x))

    def with_head(self, weight: Float[Array, "p w"]) -> "AbstractAdaptiveBasisNet":
        r"""A copy with head weight $\xi^L$ replaced (shape `(out, width)`)."""
        if weight.shape != self.head.weight.shape:
            raise ValueError(
                f"`weight` must have shape {self.head.weight.shape}, got {weight.shape}."
            )
        return eqx.tree_at(lambda m: m.head.weight, self, weight)


def make_head(width: int, out_size, dtype, key) -> eqx.nn.Linear:
    r"""The linear head $\xi^L$: `eqx.nn.Linear(width, out_size, use_bias=False)` with
    equinox's default (LeCun-uniform) weights, so plain gradient descent can start from it."""
    return eqx.nn.Linear(width, out_size, use_bias=False, dtype=dtype, key=key)
