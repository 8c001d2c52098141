r"""Partition-of-unity networks (POUnets), Gulian et al. eqs. 16-18."""

from typing import Literal

import equinox as eqx
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

import jax.numpy as jnp

from ._base import AbstractAdaptiveBasisNet, check_key, make_head
from ._partition import AbstractPartition
from ._polynomial import LegendreSpace

__all__ = ["POUNet"]


class POUNet(AbstractAdaptiveBasisNet):
    r"""POUnet approximant (eq. 16)
    $$y_\text{POU}(x) = \sum_{\alpha=1}^{N_\text{part}} \phi_\alpha(x; \xi)
    \sum_{\beta=1}^{\dim V} c_{\alpha,\beta} P_\beta(x).$$

    It is an adaptive-basis network (eq. 8) with basis functions
    $\Phi_{(\alpha,\beta)}(x) = \phi_\alpha(x;\xi) P_\beta(x)$ (flattened $\alpha$-major,
    index $\alpha \dim V + \beta$) and head $\xi^L = c$, so the coefficients are found by
    the LSGD least-squares step and $\xi$ by gradient descent (eq. 18).

    **Arguments:**

    - `partition`: an `AbstractPartition` ($\phi$, e.g. `RBFPartition`, `ResNetPartition`).
    - `space`: a `LegendreSpace` ($V = \pi_m(\mathbb{R}^d)$).
    - `out_size`: head output size (default `"scalar"`).
    - `key`: PRNG key for the initial head.

    Far outside the box of `space` a partition function underflows to exactly 0 while its
    polynomial may overflow; such a product is 0 (its true size), not `0 * inf = NaN`.

    **Raises:** `TypeError` for a `partition` that is not an `AbstractPartition`, a `space`
    that is not a `LegendreSpace` or a bad `key`; `ValueError` if the partition's and the
    space's input dimensions differ, or for a bad `out_size`.
    """

    partition: AbstractPartition
    space: LegendreSpace
    head: eqx.nn.Linear

    def __init__(
        self,
        partition: AbstractPartition,
        space: LegendreSpace,
        out_size: int | Literal["scalar"] = "scalar",
        *,
        dtype=None,
        key: PRNGKeyArray,
    ):
        if not isinstance(partition, AbstractPartition):
            raise TypeError(f"`partition` must be an AbstractPartition, got {partition!r}.")
        if not isinstance(space, LegendreSpace):
            raise TypeError(f"`space` must be a LegendreSpace, got {space!r}.")
        d = getattr(partition, "in_size", None)
        if d is not None and d != space.in_size:
            raise ValueError(
                f"`partition` takes points of dimension {d} but `space` has in_size "
                f"{space.in_size}: build both for the same input dimension."
            )
        check_key(key)
        self.partition = partition
        self.space = space
        self.head = make_head(partition.n_part * space.dim, out_size, dtype, jr.fold_in(key, 0))

    @property
    def coefficients(self) -> Float[Array, "n_part dim"]:
        r"""$c_{\alpha,\beta}$ for a scalar output, shape `(n_part, dim V)`."""
        return self.head.weight.reshape(self.partition.n_part, self.space.dim)

    def basis(self, x: Float[Array, " d"]) -> Float[Array, " w"]:
        r"""$(\phi_\alpha(x) P_\beta(x))_{\alpha,\beta}$, shape `(n_part * dim V,)`."""
        phi = self.partition(x)
        p = self.space(x).astype(phi.dtype)
        off = (phi == 0)[:, None]
        return (phi[:, None] * jnp.where(off, 0.0, p[None, :])).reshape(-1)
