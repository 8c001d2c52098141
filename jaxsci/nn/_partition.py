r"""Partitions of unity for POUnets (Lee, Trask, Patel, Gulian, Cyr; Gulian et al. eqs. 17, 19).

A partition of unity $\{\phi_\alpha\}_{\alpha=1}^{N_\text{part}}$ satisfies
$\phi_\alpha(x) \ge 0$ and $\sum_\alpha \phi_\alpha(x) = 1$ for every $x$. Both concrete
partitions here are a softmax of learnable logits, so the two properties hold exactly
(up to round-off) for any parameters.
"""

import abc
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ._base import check_box, check_key, check_point
from ._resnet import ResNet

__all__ = ["AbstractPartition", "RBFPartition", "ResNetPartition"]


class AbstractPartition(eqx.Module):
    r"""A learnable partition of unity $x \mapsto (\phi_1(x), \dots, \phi_{N}(x))$."""

    @property
    @abc.abstractmethod
    def n_part(self) -> int:
        """Number $N_\\text{part}$ of partition functions."""

    @abc.abstractmethod
    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " n_part"]:
        r"""$\phi(x)$ at one point: non-negative entries summing to one."""


def _box_arrays(box, in_size, dtype):
    lo, hi = check_box(box, in_size)
    return jnp.asarray(lo, dtype), jnp.asarray(hi, dtype)


def _softmax(z: Float[Array, " n"], fallback: Float[Array, " n"]) -> Float[Array, " n"]:
    r"""`softmax(z)` (max-shifted, so stable for any finite logits) that stays a partition
    of unity when the logits overflow: if the largest logit is $+\infty$ the weight is
    shared by the infinite logits; if every logit is $-\infty$ (every exponent overflowed)
    the limit is `fallback / sum(fallback)` (a non-negative `(n,)` mask)."""
    top = jnp.max(z)
    finite = jnp.isfinite(top)
    direct = jax.nn.softmax(jnp.where(finite, z, 0.0))
    mask = jnp.where(top == jnp.inf, (z == jnp.inf).astype(z.dtype), fallback.astype(z.dtype))
    limit = mask / jnp.sum(mask)
    return jnp.where(finite, direct, limit)


class RBFPartition(AbstractPartition):
    r"""Shallow RBF-network partition of unity (eq. 19):
    $$\phi_\alpha(x) = \frac{\exp(-|x - \xi_{1,\alpha}|^2 / \xi_{2,\alpha}^2)}
    {\sum_\beta \exp(-|x - \xi_{1,\beta}|^2 / \xi_{2,\beta}^2)}.$$

    `centres` $\xi_1$ has shape `(n_part, d)`, `shapes` $\xi_2$ shape `(n_part,)`; both are
    trained. Initialisation follows the paper: centres uniform in `box`, shapes one.

    **Arguments:** `n_part`, `in_size` $d$, `box=(lo, hi)` (scalars or `(d,)` arrays,
    default the unit cube), `dtype`, `key`.

    The softmax is max-shifted, and where every exponent overflows ($|x|\gtrsim10^{154}$ in
    float64, $10^{19}$ in float32) it takes its limit, the widest function(s)
    ($\max_\alpha|\xi_{2,\alpha}|$), so $\phi$ sums to one at every finite $x$.

    **Raises:** `ValueError` for `n_part`/`in_size` that are not positive ints, or a `box`
    that is not finite with `hi > lo`, or of the wrong shape; `TypeError` for a bad `key`;
    `ValueError` at trace time when called on anything but ONE point of shape `(d,)`.
    """

    centres: Float[Array, "n_part d"]
    shapes: Float[Array, " n_part"]

    def __init__(
        self,
        n_part: int,
        in_size: int,
        *,
        box: tuple[ArrayLike, ArrayLike] = (0.0, 1.0),
        dtype=None,
        key: PRNGKeyArray,
    ):
        if not isinstance(n_part, int) or n_part < 1:
            raise ValueError(f"`n_part` must be a positive int, got {n_part!r}.")
        if not isinstance(in_size, int) or in_size < 1:
            raise ValueError(f"`in_size` must be a positive int, got {in_size!r}.")
        check_key(key)
        dtype = jnp.result_type(float) if dtype is None else dtype
        lo, hi = _box_arrays(box, in_size, dtype)
        self.centres = jr.uniform(key, (n_part, in_size), dtype, minval=lo, maxval=hi)
        self.shapes = jnp.ones((n_part,), dtype)

    @property
    def n_part(self) -> int:
        return self.centres.shape[0]

    @property
    def in_size(self) -> int:
        return self.centres.shape[1]

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " n_part"]:
        check_point(x, self.centres.shape[1])
        sq = jnp.sum((x[None, :] - self.centres) ** 2, axis=1)
        s2 = self.shapes**2
        return _softmax(-sq / s2, s2 == jnp.max(s2))


class ResNetPartition(AbstractPartition):
    r"""Deep partition of unity: a ResNet (eq. 10) with `n_part` outputs composed with a
    softmax, $\phi(x) = \operatorname{softmax}(\mathcal{NN}(x; \xi))$ (eq. 17).

    **Arguments:** `n_part`, `in_size` $d$, `width`, `depth`, `activation`, `dtype`, `key`.
    The inner `resnet` is a `jaxsci.nn.ResNet`, so `jaxsci.init.box` / `he` apply to it.
    The softmax is max-shifted and stays a partition of unity for infinite logits.

    **Raises:** as `jaxsci.nn.ResNet`, and `ValueError` for an `n_part` that is not a
    positive int.
    """

    resnet: ResNet

    def __init__(
        self,
        n_part: int,
        in_size: int,
        width: int,
        depth: int,
        activation: Callable[[Array], Array] = jax.nn.relu,
        *,
        dtype=None,
        key: PRNGKeyArray,
    ):
        if not isinstance(n_part, int) or n_part < 1:
            raise ValueError(f"`n_part` must be a positive int, got {n_part!r}.")
        self.resnet = ResNet(in_size, width, depth, n_part, activation, dtype=dtype, key=key)

    @property
    def n_part(self) -> int:
        return self.resnet.head.out_features

    @property
    def in_size(self) -> int:
        return self.resnet.in_size

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " n_part"]:
        z = self.resnet(x)
        return _softmax(z, jnp.ones_like(z))
