r"""Random weight factorisation (RWF; Wang, Wang, Seidman & Perdikaris 2022/2023,
arXiv 2210.01274 eqs. 3.1-3.3; jaxpi, Wang et al. 2023, arXiv 2308.08468 section 4.3):

$$W = \operatorname{diag}(e^{s})\, V,\qquad s \sim N(\mu, \sigma^2 I),\quad
V = \operatorname{diag}(e^{-s})\, W_0,$$

so the factorised layer starts as exactly the layer it replaces ($W = W_0$) while gradient
descent on $(s, V)$ moves every output neuron's scale on its own (a per-neuron adaptive
learning rate; jaxpi's defaults $\mu = 1$, $\sigma = 0.1$).
"""

from typing import Any, Literal

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ._validate import prng_key


def _check_float(v, name, positive=False):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not np.isfinite(v):
        raise ValueError(f"`{name}` must be a finite Python float, got {v!r}.")
    if positive and v <= 0:
        raise ValueError(f"`{name}` must be > 0, got {v!r}.")
    return float(v)


class FactorizedLinear(eqx.Module):
    r"""A linear layer $y = \operatorname{diag}(e^{s}) V x + b$ (RWF, arXiv 2210.01274
    eq. 3.1), a drop-in for `eqx.nn.Linear` (same call, same `"scalar"` conventions, and a
    `weight` property $= \operatorname{diag}(e^s) V$).

    Build it from a layer with `FactorizedLinear.from_linear(layer, key=..., mu=1.0,
    sigma=0.1)` (output unchanged) or factorise a whole model with
    `random_weight_factorization`.
    """

    scale: Float[Array, " out"]
    direction: Float[Array, "out in"]
    bias: Float[Array, " out"] | None
    in_features: int | Literal["scalar"] = eqx.field(static=True)
    out_features: int | Literal["scalar"] = eqx.field(static=True)

    @staticmethod
    def from_linear(linear: eqx.nn.Linear, *, key: PRNGKeyArray, mu: float = 1.0,
                    sigma: float = 0.1) -> "FactorizedLinear":
        r"""The factorisation of `linear` with $s \sim N(\mu, \sigma^2)$ (eq. 3.3), equal to it
        at construction.

        **Raises:** `TypeError` if `linear` is not an `eqx.nn.Linear` or `key` not a PRNG
        key; `ValueError` unless `mu` is finite and `sigma` finite and > 0."""
        if not isinstance(linear, eqx.nn.Linear):
            raise TypeError(f"`linear` must be an eqx.nn.Linear, got {type(linear).__name__}.")
        prng_key(key, "key")
        mu = _check_float(mu, "mu")
        sigma = _check_float(sigma, "sigma", positive=True)
        w = linear.weight
        s = mu + sigma * jr.normal(key, w.shape[:1], dtype=w.dtype)
        return FactorizedLinear(s, jnp.exp(-s)[:, None] * w, linear.bias, linear.in_features,
                                linear.out_features)

    @property
    def weight(self) -> Float[Array, "out in"]:
        return jnp.exp(self.scale)[:, None] * self.direction

    def __call__(self, x: Array, *, key: PRNGKeyArray | None = None) -> Array:
        if self.in_features == "scalar":
            if jnp.shape(x) != ():
                raise ValueError(f"`x` must be a scalar for a layer with in_features='scalar', "
                                 f"got shape {jnp.shape(x)}.")
            x = jnp.broadcast_to(x, (1,))
        elif jnp.shape(x) != (self.in_features,):
            raise ValueError(f"`x` must have shape ({self.in_features},), got {jnp.shape(x)}; "
                             "batch with jax.vmap.")
        y = jnp.exp(self.scale) * (self.direction @ x)
        if self.bias is not None:
            y = y + self.bias
        return jnp.squeeze(y) if self.out_features == "scalar" else y


def random_weight_factorization(model: Any, *, key: PRNGKeyArray, mu: float = 1.0,
                                sigma: float = 0.1) -> Any:
    r"""Replace every `eqx.nn.Linear` inside `model` (an `eqx.nn.MLP`, a `jaxsci.nn.MLP`, an
    `EmbeddedModel`, ...) by its `FactorizedLinear` (RWF, arXiv 2210.01274 eq. 3.3, each
    layer its own key): the returned model computes the same function, with parameters
    $(s, V, b)$ in place of $(W, b)$.

    **Raises:** `TypeError` if `key` is not a PRNG key; `ValueError` as
    `FactorizedLinear.from_linear` for `mu`, `sigma`, and if `model` holds no
    `eqx.nn.Linear`.
    """
    prng_key(key, "key")
    is_linear = lambda x: isinstance(x, eqx.nn.Linear)  # noqa: E731
    leaves, treedef = jtu.tree_flatten(model, is_leaf=is_linear)
    n = sum(map(is_linear, leaves))
    if n == 0:
        raise ValueError(f"`model` ({type(model).__name__}) contains no eqx.nn.Linear layer to "
                         "factorise.")
    keys = iter(jr.split(key, n))
    leaves = [FactorizedLinear.from_linear(x, key=next(keys), mu=mu, sigma=sigma)
              if is_linear(x) else x for x in leaves]
    return jtu.tree_unflatten(treedef, leaves)
