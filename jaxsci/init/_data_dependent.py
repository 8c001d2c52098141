r"""Data-dependent bias initialisation for overparameterised shallow ReLU networks.

Shin & Karniadakis, "Trainability of ReLU networks and data-dependent initialization"
(2020), section 4.1, Theorem 4 and eq. 5. For training inputs $x_1, \dots, x_m$ and a shallow
network of width $n = h m$ ($h \ge 1$):

$$ W^1_i \sim N(0, \sigma_\text{in}^2 I), \qquad
   b^1_i = -W^{1\,T}_i x_{j_i} + |\epsilon_i|, \quad \epsilon_i \sim N(0, \sigma_e^2), \quad
   j_i - 1 = (i - 1) \bmod m, $$

so neuron $i$ is $\phi(w_i^T(x - x_{j_i}) + |\epsilon_i|)$, located at datum $x_{j_i}$.
$W^2 \sim N(0, \sigma_\text{out}^2)$, $b^2 = 0$. With $\sigma_e = s\sigma_\text{in}$ Theorem
4 gives

$$ E_{X_m}[q(x)] = \frac{h \sigma_\text{out}^2\sigma_\text{in}^2}{m\pi}\sum_{k,i=1}^m
   \big[(s^2 + \Delta_{k,i}^2)\, h(s/\Delta_{k,i}) + s\Delta_{k,i}\big],
   \quad h(x) = \tan^{-1}(x) + \pi/2,\ \Delta_{k,i} = \|x_k - x_i\|, $$

and eq. 5 ($\sigma_\text{in}^2 = 2/d_\text{in}$, $\sigma_e = 0$,
$\sigma_\text{out}^2 = \frac1h \sum_j\|x_j\|^2 / \sum_{k<i}\|x_k - x_i\|^2$) matches the He
initialisation without bias, $E_{X_m}[q] = 2\|X\|_F^2/(d_\text{in} m)$.
"""

from typing import Any

import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import check_nonempty, check_value, is_concrete
from .._misc import as_float_array
from ._standard import _check_key, _check_scale, linear_layers, replace_linear


def _check_x(x, name, d=None):
    """Tier 1 (a float array of shape (m, d), m >= 1) and tier 2 (finite) checks of data."""
    x = as_float_array(x, name)
    want = "(m, d)" if d is None else f"(m, {d})"
    if x.ndim != 2 or (d is not None and x.shape[1] != d):
        raise ValueError(f"`{name}` must have shape {want}, got {x.shape}.")
    check_nonempty(x, name, what="data points (m >= 1)")
    return check_value(x, ~jnp.isfinite(x), f"`{name}` contains NaN or inf: clean or drop "
                       "those points before initialising.")


def _check_sigma_out(sig_out, name):
    got = f" (got sigma_out = {float(sig_out)})" if is_concrete(sig_out) else ""
    return check_value(
        sig_out, ~(jnp.isfinite(sig_out) & (sig_out > 0)),
        f"`{name}` is degenerate for eq. 5{got}: sigma_out needs data with a non-zero norm "
        "and, for s = 0, at least two distinct points. Give more (distinct) points, or "
        "s > 0.")

__all__ = ["data_dependent_init", "data_dependent_expected_q", "data_dependent_sigma_out"]


def _pair_dists(x: Float[Array, "m d"]) -> Float[Array, "m m"]:
    diff = x[:, None, :] - x[None, :, :]
    sq = jnp.sum(diff * diff, axis=-1)
    # sqrt with a safe zero (diagonal) so that gradients stay finite.
    safe = jnp.where(sq > 0, sq, 1.0)
    return jnp.where(sq > 0, jnp.sqrt(safe), 0.0)


def data_dependent_expected_q(
    x: Float[Array, "m d"], *, h: float, sigma_in: float, sigma_out: float, s: float = 0.0
) -> Float[Array, ""]:
    r"""$E_{X_m}[q(x)]$ of Theorem 4 for the data-dependent initialisation with
    $\sigma_e = s\sigma_\text{in}$ (the diagonal terms $\Delta = 0$ use the limit
    $(s^2)\pi$).

    **Raises:** `ValueError` for `x` not of shape `(m, d)` with $m \ge 1$, and (eagerly;
    `EquinoxRuntimeError` under `jit`) NaN/inf in `x`, `h`, `sigma_in`, `sigma_out` not
    finite and > 0 (`sigma_out` >= 0), `s` not finite and >= 0."""
    x = _check_x(x, "x")
    h = _check_scale(h, "h", what="width / number of data")
    sigma_in = _check_scale(sigma_in, "sigma_in")
    sigma_out = _check_scale(sigma_out, "sigma_out", zero_ok=True)
    s = _check_scale(s, "s", zero_ok=True)
    return _expected_q(x, h, sigma_in, sigma_out, s)


def _expected_q(x, h, sigma_in, sigma_out, s):
    m = x.shape[0]
    delta = _pair_dists(x)
    s = jnp.asarray(s, x.dtype)
    # h(s/Delta) with Delta = 0 -> h(+inf) = pi (s > 0); the term is then s^2 pi.
    hval = jnp.arctan2(s, delta) + jnp.pi / 2
    terms = (s**2 + delta**2) * hval + s * delta
    return h * sigma_out**2 * sigma_in**2 / (m * jnp.pi) * jnp.sum(terms)


def _sigma_out(x, h, sigma_in, s):
    """`data_dependent_sigma_out` without the input checks (done by the caller)."""
    unit = _expected_q(x, h, sigma_in, 1.0, s)
    return jnp.sqrt(sigma_in**2 * jnp.sum(x * x) / x.shape[0] / unit)


def data_dependent_sigma_out(
    x: Float[Array, "m d"], *, h: float, sigma_in: float, s: float = 0.0
) -> Float[Array, ""]:
    r"""$\sigma_\text{out}$ such that Theorem 4's $E_{X_m}[q]$ equals the He-without-bias
    value $\sigma_\text{in}^2\|X\|_F^2/m$; for $s = 0$ this is eq. 5.

    **Raises:** as `data_dependent_expected_q`; also if the data are degenerate (all zero,
    or, with $s = 0$, a single distinct point), where $\sigma_\text{out}$ would be 0 or
    inf."""
    x = _check_x(x, "x")
    h = _check_scale(h, "h", what="width / number of data")
    sigma_in = _check_scale(sigma_in, "sigma_in")
    s = _check_scale(s, "s", zero_ok=True)
    return _check_sigma_out(_sigma_out(x, h, sigma_in, s), "x")


def data_dependent_init(
    model: Any,
    x_train: Float[Array, "m d"],
    *,
    key: PRNGKeyArray,
    s: float = 0.0,
    sigma_in: float | None = None,
) -> Any:
    r"""Data-dependent initialisation (section 4.1, parameters of eq. 5) of a shallow
    network: `model` must contain exactly two `eqx.nn.Linear` layers
    ($d_\text{in} \to n \to d_\text{out}$, e.g. `eqx.nn.MLP(d, o, n, depth=1, activation=
    jax.nn.relu)`), with bias in the first one.

    **Arguments:**

    - `model`: the shallow network.
    - `x_train`: training inputs, shape `(m, d_in)`; requires width $n \ge m$.
    - `key`: PRNG key.
    - `s`: $\sigma_e = s\,\sigma_\text{in}$ (eq. 5: $s = 0$).
    - `sigma_in`: first-layer weight std; `None` means $\sqrt{2/d_\text{in}}$ (eq. 5).

    **Returns:** a new model; $\sigma_\text{out}$ follows `data_dependent_sigma_out`.

    **Raises:** `TypeError` for a bad key; `ValueError` for a model that is not shallow (two
    `Linear` layers, bias in the first), `x_train` not of shape `(m, d_in)` with
    $1 \le m \le n$, `s` / `sigma_in` out of range (`s >= 0`, `sigma_in > 0`, finite), and
    (eagerly; `EquinoxRuntimeError` under `jit` / `vmap`) NaN/inf in `x_train` or degenerate
    data (all zero, or one distinct point with `s = 0`).
    """
    _check_key(key, "key")
    layers = linear_layers(model)
    if len(layers) != 2:
        raise ValueError(
            f"data_dependent_init needs a shallow network with exactly 2 eqx.nn.Linear layers, "
            f"got {len(layers)}."
        )
    first, second = layers
    if first.bias is None:
        raise ValueError("data_dependent_init: the first layer must have a bias (use_bias=True).")
    n, d = first.weight.shape
    x_train = _check_x(x_train, "x_train", d)
    s = _check_scale(s, "s", zero_ok=True)
    if sigma_in is not None:
        sigma_in = _check_scale(sigma_in, "sigma_in")
    m = x_train.shape[0]
    if n < m:
        raise ValueError(
            f"data_dependent_init is for overparameterised networks (width n >= m data); got "
            f"n={n}, m={m}. Use a wider first layer or fewer data."
        )
    dtype = first.weight.dtype
    x_train = jnp.asarray(x_train, dtype)
    sig_in = (2.0 / d) ** 0.5 if sigma_in is None else sigma_in
    h = n / m
    k1, k2, k3 = jr.split(key, 3)
    w1 = sig_in * jr.normal(k1, (n, d), dtype)
    eps = s * sig_in * jr.normal(k2, (n,), dtype)
    centres = x_train[jnp.arange(n) % m]
    b1 = -jnp.sum(w1 * centres, axis=1) + jnp.abs(eps)
    sig_out = _check_sigma_out(_sigma_out(x_train, h, sig_in, s),
                               "x_train")
    w2 = sig_out * jr.normal(k3, second.weight.shape, dtype)
    b2 = None if second.bias is None else jnp.zeros_like(second.bias)
    return replace_linear(model, [w1, w2], [b1, b2])
