r"""Initialisation schemes of the ReLU-trainability paper (eqs. 2-3) and data normalisation.

Shin & Karniadakis, "Trainability of ReLU networks and data-dependent initialization"
(J. Mach. Learn. Model. Comput. 2020), section 2.1. Every layer $t+1$ of a network with
widths $n_0, \dots, n_L$ is drawn independently, row by row:

* "normal" (eq. 2): $W^{t+1}_j \sim N(0, \sigma_{t+1}^2 I_{n_t})$ and either
  $b^{t+1}_j = 0$ (without bias) or $b^{t+1}_j \sim N(0, \sigma_{b,t+1}^2)$ (with bias).
  $\sigma^2 = 2/n_t$, $b = 0$ is the He initialisation; section 5.2 uses
  $[W, b] \sim N(0, 2/(n_t + 1))$ for "He with bias" (the default here).
* "unit hypersphere" (eq. 3): $W^{t+1}_j \sim \mathrm{Unif}(S^{n_t - 1})$, $b = 0$
  (without bias) or $[W^{t+1}_j, b^{t+1}_j] \sim \mathrm{Unif}(S^{n_t})$ (with bias).

The core is `AbstractReLUInit.sample(key, n_out, n_in, dtype) -> (W, b)`; it is used both by
the model surgery `relu_init` (for `eqx.nn.Linear` networks) and by the lean array form
`sample_relu_params` (a list of `(W, b)` pairs, `vmap`-able over keys) used for the
million-initialisation statistics of `jaxsci.diagnostics`.
"""

import abc
import math
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import check_nonempty, check_value, is_concrete, require_positive_int
from .._misc import as_float_array
from ._standard import _check_key, _check_scale, linear_layers, replace_linear

__all__ = [
    "AbstractReLUInit",
    "NormalInit",
    "UnitHypersphereInit",
    "sample_relu_params",
    "relu_init",
    "lift_to_sphere",
    "normalize_to_unit_ball",
]


class AbstractReLUInit(eqx.Module):
    """A row-wise i.i.d. distribution for one layer's `(W, b)` (Lemma 4's assumption)."""

    with_bias: eqx.AbstractVar[bool]

    def __check_init__(self):
        wb = self.with_bias
        if not isinstance(wb, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__}: `with_bias` must be True or False, got "
                            f"{type(wb).__name__} ({wb!r:.60}).")

    @abc.abstractmethod
    def sample(
        self,
        key: PRNGKeyArray,
        n_out: int,
        n_in: int,
        dtype: Any = float,
        batch: tuple[int, ...] = (),
    ) -> tuple[Float[Array, "n_out n_in *batch"], Float[Array, "n_out *batch"]]:
        """Draw `W` of shape `(n_out, n_in, *batch)` and `b` of shape `(n_out, *batch)`:
        `batch == ()` is one layer; a trailing batch holds many independent layers in
        batch-last ("structure of arrays") layout, the fast layout for the statistics of
        `jaxsci.diagnostics`."""


def _check_sample_args(key, n_out, n_in, dtype, batch, who):
    """Tier 1 checks of `sample(key, n_out, n_in, dtype, batch)` (static values and the key):
    a negative size was an MLIRError, a float size a raw shape error."""
    _check_key(key, "key")
    n_out = require_positive_int(n_out, "n_out")
    n_in = require_positive_int(n_in, "n_in")
    if not isinstance(batch, (tuple, list)) or not all(
            isinstance(b, (int, np.integer)) and not isinstance(b, bool) and b >= 1
            for b in batch):
        raise ValueError(f"{who}.sample: `batch` must be a tuple of positive ints (the "
                         f"trailing batch shape; () for one layer), got {batch!r:.80}.")
    try:
        floating = jnp.issubdtype(dtype, jnp.floating)
    except TypeError:
        floating = False
    if not floating:
        raise TypeError(f"{who}.sample: `dtype` must be a floating dtype (e.g. jnp.float32), "
                        f"got {dtype!r}.")
    return n_out, n_in, tuple(int(b) for b in batch)


class NormalInit(AbstractReLUInit):
    r"""The "normal" initialisation of eq. 2.

    **Arguments:**

    - `with_bias`: draw $b_j \sim N(0, \sigma_b^2)$ (True) or set $b = 0$ (False, default).
    - `variance`: $\sigma^2$ of the weights; `None` means He: $2/n_\text{in}$ without bias,
      $2/(n_\text{in} + 1)$ with bias (section 5.2).
    - `bias_variance`: $\sigma_b^2$; `None` means equal to the weight variance, which makes
      the row direction $[W_j, b_j]/\|[W_j, b_j]\|$ uniform on $S^{n_\text{in}}$, the
      assumption of Lemma 3 / Theorem 1.
    """

    with_bias: bool = eqx.field(static=True, default=False)
    variance: float | None = eqx.field(static=True, default=None)
    bias_variance: float | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        for name in ("variance", "bias_variance"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and not isinstance(v, bool)
                                      and math.isfinite(v) and v > 0):
                raise ValueError(f"NormalInit: `{name}` must be a finite number > 0 or None, "
                                 f"got {v!r}.")

    def weight_variance(self, n_in: int) -> float:
        if self.variance is not None:
            return self.variance
        return 2.0 / (n_in + 1) if self.with_bias else 2.0 / n_in

    def sample(self, key, n_out, n_in, dtype=float, batch=()):
        n_out, n_in, batch = _check_sample_args(key, n_out, n_in, dtype, batch, "NormalInit")
        kw, kb = jr.split(key)
        var = self.weight_variance(n_in)
        w = math.sqrt(var) * jr.normal(kw, (n_out, n_in, *batch), dtype)
        if self.with_bias:
            bvar = var if self.bias_variance is None else self.bias_variance
            b = math.sqrt(bvar) * jr.normal(kb, (n_out, *batch), dtype)
        else:
            b = jnp.zeros((n_out, *batch), dtype)
        return w, b


class UnitHypersphereInit(AbstractReLUInit):
    r"""The "unit hypersphere" initialisation of eq. 3: rows $W_j$ (or $[W_j, b_j]$ with
    bias) uniform on the unit sphere, drawn as normalised standard normals.

    **Arguments:** `with_bias` (a bool, default False): draw $[W_j, b_j]$ on $S^{n_\text{in}}$
    instead of $W_j$ on $S^{n_\text{in}-1}$ with $b = 0$.

    `sample(key, n_out, n_in, dtype, batch)` raises `TypeError` for a bad key or a
    non-floating `dtype` and `ValueError`/`TypeError` for sizes that are not ints >= 1 or a
    `batch` that is not a tuple of them; a non-bool `with_bias` is a `TypeError` at
    construction."""

    with_bias: bool = eqx.field(static=True, default=False)

    def sample(self, key, n_out, n_in, dtype=float, batch=()):
        n_out, n_in, batch = _check_sample_args(key, n_out, n_in, dtype, batch,
                                                "UnitHypersphereInit")
        cols = n_in + 1 if self.with_bias else n_in
        v = jr.normal(key, (n_out, cols, *batch), dtype)
        v = v / jnp.sqrt(jnp.sum(v * v, axis=1, keepdims=True))
        if self.with_bias:
            return v[:, :n_in], v[:, n_in]
        return v, jnp.zeros((n_out, *batch), dtype)


def per_layer_schemes(
    schemes: Any, n_layers: int, name: str = "schemes"
) -> list[AbstractReLUInit]:
    """`schemes` (one `AbstractReLUInit`, or one per layer) as a list of `n_layers` schemes.

    **Raises:** `ValueError` naming the argument `name` when `schemes` is a sequence of the
    wrong length or holding something else; `TypeError` when it is not a sequence (e.g. a
    number, `None`, or a scheme class instead of an instance) or when `n_layers` is not an
    int; `ValueError` for `n_layers < 1`.
    """
    n_layers = require_positive_int(n_layers, "n_layers")
    if isinstance(schemes, AbstractReLUInit):
        return [schemes] * n_layers
    want = (f"`{name}` must be one AbstractReLUInit or a sequence of {n_layers} of them "
            "(one per layer)")
    if isinstance(schemes, type):
        raise TypeError(f"{want}; got the class {schemes.__name__}: instantiate it, e.g. "
                        f"{schemes.__name__}().")
    if isinstance(schemes, (str, bytes)) or not hasattr(schemes, "__iter__"):
        raise TypeError(f"{want}; got {type(schemes).__name__} ({schemes!r:.80}).")
    schemes = list(schemes)
    if len(schemes) != n_layers or not all(isinstance(s, AbstractReLUInit) for s in schemes):
        raise ValueError(f"{want}; got {schemes!r:.200}.")
    return schemes


def sample_relu_params(
    key: PRNGKeyArray,
    widths: Sequence[int],
    schemes: AbstractReLUInit | Sequence[AbstractReLUInit],
    dtype: Any = float,
    batch: tuple[int, ...] = (),
) -> list[tuple[Float[Array, "n_out n_in *batch"], Float[Array, "n_out *batch"]]]:
    r"""One random network $\{(W^t, b^t)\}_{t=1}^{L}$ in lean array form.

    **Arguments:**

    - `key`: PRNG key (one network; `jax.vmap` over a batch of keys for many).
    - `widths`: $(n_0, n_1, \dots, n_L)$, static Python ints.
    - `schemes`: one scheme for all layers, or one per layer ($L$ of them).
    - `dtype`: floating dtype of the parameters.
    - `batch`: trailing batch shape (many networks, batch-last layout); `()` for one.

    **Returns:** a list of $L$ pairs `(W, b)` with `W.shape == (n_t, n_{t-1}, *batch)`.

    **Raises:** `ValueError` for `widths` not >= 2 positive ints, `batch` not a tuple of
    positive ints, `schemes` neither one scheme nor one per layer; `TypeError` for a bad key.
    """
    widths = list(widths)
    if (len(widths) < 2 or not all(isinstance(w, (int, np.integer)) and not isinstance(w, bool)
                                   for w in widths) or min(widths) < 1):
        raise ValueError(f"`widths` needs >= 2 positive ints (n_0, ..., n_L), got {widths}.")
    widths = [int(w) for w in widths]
    batch = tuple(batch)
    if not all(isinstance(b, (int, np.integer)) and not isinstance(b, bool) and b >= 1
               for b in batch):
        raise ValueError(f"`batch` must be a tuple of positive ints (the trailing batch "
                         f"shape), got {batch!r}.")
    _check_key(key, "key")
    schemes = per_layer_schemes(schemes, len(widths) - 1, "schemes")
    keys = jr.split(key, len(widths) - 1)
    return [
        s.sample(k, n_out, n_in, dtype, tuple(batch))
        for k, s, n_in, n_out in zip(keys, schemes, widths[:-1], widths[1:])
    ]


def relu_init(
    model: Any,
    *,
    key: PRNGKeyArray,
    schemes: AbstractReLUInit | Sequence[AbstractReLUInit] = NormalInit(),
) -> Any:
    r"""Re-initialise every `eqx.nn.Linear` of `model` with the schemes of eqs. 2-3.

    Layer $t$ (in `linear_layers` order) is drawn by `schemes[t]` (or by `schemes` for all
    layers) with the same per-layer core as `sample_relu_params`, so
    `relu_init(mlp, key=k, schemes=s)` holds exactly the arrays of
    `sample_relu_params(k, widths, s)`. Layers built with `use_bias=False` keep no bias.

    **Returns:** a new model with the same structure.
    """
    _check_key(key, "key")
    layers = linear_layers(model)
    if not layers:
        raise ValueError(f"`model` contains no `eqx.nn.Linear` layer; got {type(model).__name__}.")
    schemes = per_layer_schemes(schemes, len(layers), "schemes")
    keys = jr.split(key, len(layers))
    ws, bs = [], []
    for k, s, lay in zip(keys, schemes, layers):
        n_out, n_in = lay.weight.shape
        w, b = s.sample(k, n_out, n_in, lay.weight.dtype)
        ws.append(w)
        bs.append(b)
    return replace_linear(model, ws, bs)


def _check_k(k, bound, strict):
    """`k` finite and `> bound` (strict) or `>= bound`: Python numbers at once, arrays by
    `check_value` (traced: `eqx.error_if`)."""
    k = _check_scale(k, "k")
    want = f"> {bound:g} (alpha = r sqrt(k - 1) > 0)" if strict else f">= {bound:g}"
    if isinstance(k, (int, float, np.number)):
        if not (k > bound if strict else k >= bound):
            raise ValueError(f"`k` must be {want}, got {k!r}.")
        return k
    got = f", got {float(k)!r}" if is_concrete(k) else ""
    return check_value(k, (k <= bound) if strict else (k < bound), f"`k` must be {want}{got}.")


def _check_points(x):
    x = as_float_array(x, "x")
    if x.ndim != 2:
        raise ValueError(f"`x` must have shape (n, d), got {x.shape}.")
    check_nonempty(x, "x", what="data points")
    return check_value(x, ~jnp.isfinite(x), "`x` contains NaN or inf: clean or drop those "
                       "points before scaling.")


def normalize_to_unit_ball(
    x: Float[Array, "n d"], *, k: float = 1.0
) -> tuple[Float[Array, "n d"], Float[Array, ""]]:
    r"""Scale data into the closed ball $B_{1/\sqrt{k}}(0)$: $x_i \mapsto x_i/\sqrt{k r^2}$
    with $r = \max_i \|x_i\|$ (section 2.1; $k = 1$ maps onto the unit ball).

    **Returns:** `(x_scaled, scale)` with `x_scaled = x / scale`.

    **Raises:** `ValueError` for `x` not of shape `(n, d)` with $n \ge 1$ or `k` not finite
    and >= 1; eagerly `ValueError`, under `jit` / `vmap` `EquinoxRuntimeError`, for NaN/inf
    in `x` or all-zero data.
    """
    x = _check_points(x)
    k = _check_k(k, 1.0, False)
    r = jnp.max(jnp.linalg.norm(x, axis=1))
    r = eqx.error_if(r, r == 0, "normalize_to_unit_ball: all data points are zero.")
    scale = jnp.sqrt(k) * r
    return x / scale, scale


def lift_to_sphere(x: Float[Array, "n d"], *, k: float = 2.0) -> Float[Array, "n d+1"]:
    r"""The $[x; \alpha]$ lift of section 2.1: $z_i = \tilde x_i / \|\tilde x_i\|$ with
    $\tilde x_i = [x_i; \alpha]$, $\alpha = r\sqrt{k - 1}$, $r = \max_i\|x_i\|$, so that a
    point with $\|x_i\| = r$ maps to $[x_i/\sqrt{k r^2}; \sqrt{k-1}/\sqrt{k}]$ (Allen-Zhu et
    al. use $k = 2$). Every $z_i$ lies on the unit sphere $S^{d}$.

    **Raises:** as `normalize_to_unit_ball`, with `k > 1`.
    """
    x = _check_points(x)
    k = _check_k(k, 1.0, True)
    r = jnp.max(jnp.linalg.norm(x, axis=1))
    r = eqx.error_if(r, r == 0, "lift_to_sphere: all data points are zero.")
    alpha = r * jnp.sqrt(jnp.asarray(k - 1.0).astype(x.dtype))
    xt = jnp.concatenate([x, jnp.full((x.shape[0], 1), alpha, x.dtype)], axis=1)
    return xt / jnp.linalg.norm(xt, axis=1, keepdims=True)
