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
import jax
import numpy as np
from jaxtyping import Array, Float

__all__ = ["AbstractAdaptiveBasisNet", "check_box", "check_key", "check_point"]


def check_key(key) -> None:
    """Trace-time check that `key` is a JAX PRNG key (new-style or raw uint32 pair)."""
    ok = isinstance(key, jax.Array) and (
        jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
        or (key.dtype == np.uint32 and key.shape == (2,))
    )
    if not ok:
        raise TypeError(
            f"`key` must be a JAX PRNG key such as `jax.random.key(0)`, got {key!r}."
        )


def check_out_size(out_size) -> None:
    """`out_size` is `"scalar"` or a positive int (trace time)."""
    if out_size == "scalar":
        return
    if isinstance(out_size, bool) or not isinstance(out_size, (int, np.integer)) or out_size < 1:
        raise ValueError(f'`out_size` must be "scalar" or a positive int, got {out_size!r}.')


def check_box(box, in_size: int) -> tuple[np.ndarray, np.ndarray]:
    """`box = (lo, hi)`: scalars or `(in_size,)` arrays, finite, `hi > lo` (concrete)."""
    try:
        lo_raw, hi_raw = box
    except (TypeError, ValueError):
        raise ValueError(f"`box` must be a pair (lo, hi), got {box!r}.") from None
    out = []
    for name, v in (("lo", lo_raw), ("hi", hi_raw)):
        if isinstance(v, jax.core.Tracer):
            raise TypeError(f"`box` must be concrete (not traced), got a traced `{name}`.")
        a = np.asarray(v, np.float64)
        if a.shape not in ((), (in_size,)):
            raise ValueError(
                f"`box` {name} must be a scalar or have shape ({in_size},) (one bound per "
                f"input coordinate), got shape {a.shape}."
            )
        out.append(np.broadcast_to(a, (in_size,)))
    lo, hi = out
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError(f"`box` must have finite bounds, got {box!r}.")
    if np.any(hi <= lo):
        raise ValueError(f"`box` must have hi > lo in every coordinate, got {box!r}.")
    return lo, hi


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
    check_out_size(out_size)
    check_key(key)
    return eqx.nn.Linear(width, out_size, use_bias=False, dtype=dtype, key=key)
