r"""Neuron states of a ReLU network on the ball $B_r(0)$ (section 3.2).

Shin & Karniadakis, "Trainability of ReLU networks and data-dependent initialization"
(2020). A neuron $\phi(w^T x^{t-1} + b)$ of hidden layer $t$ is

* **dead** on $B_r(0)$ if it is a constant function of $x \in B_r(0)$ (section 2.2);
* **permanently dead** if it is dead and stays dead for *any* change of its input
  $x^{t-1} \ge 0$: for $t > 1$ exactly when $w \le 0$ and $b \le 0$ componentwise
  ($\sup_{x \ge 0} w^T x + b \le 0$); in the first layer every dead neuron is permanently
  dead (Lemma 1), and the first-layer rule is exact: dead iff $b \le -r\|w\|$;
* **tentatively dead** if it is dead but not permanently dead;
* **active** otherwise.

For $d_\text{in} = 1$ the network is piecewise linear on $[-r, r]$, so deadness is decided
exactly from the values at the interval ends and at every kink of earlier layers (the zero
crossings of earlier pre-activations): `neuron_states_1d`. For $d_\text{in} > 1$
`neuron_states_sampled` uses the exact first-layer rule and a dense sample of the ball for
deeper layers (sampling can only miss activity, so "dead" there is an upper estimate).

States are integers `ACTIVE = 0`, `TENTATIVE = 1`, `PERMANENT = 2`, one array per hidden
layer. The functions act on a network in lean form, a list of hidden-layer `(W, b)` pairs
with `W.shape == (n_out, n_in, *batch)` and `b.shape == (n_out, *batch)`: `batch == ()` is
one network (then `jax.vmap` works as usual), a trailing batch evaluates many networks in
the batch-last layout that vectorises best on CPU (`jaxsci.init.sample_relu_params(...,
batch=(N,))`). Returned state arrays have shape `(n_t, *batch)`.
"""

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from .._checks import check_value, is_concrete
from ..init import linear_layers

__all__ = [
    "ACTIVE",
    "TENTATIVE",
    "PERMANENT",
    "first_layer_dead",
    "permanently_dead",
    "neuron_states_1d",
    "neuron_states_sampled",
    "neuron_states",
    "state_counts",
    "hidden_params",
    "sample_ball",
]

ACTIVE = 0
TENTATIVE = 1
PERMANENT = 2

LayerParams = tuple[Float[Array, "n_out n_in"], Float[Array, " n_out"]]


def check_radius(r: Any, name: str = "r") -> Any:
    """`r` (a ball radius, possibly traced) must be a finite scalar > 0.

    A concrete `r` is checked with NumPy (a `ValueError` now, even inside the caller's
    `jit`, where `jnp` would stage the test out); a traced one with `eqx.error_if`, whose
    result is returned and must be used."""
    concrete = is_concrete(r)
    arr = np.asarray(r) if concrete else jnp.asarray(r)
    if arr.ndim != 0 or not np.issubdtype(arr.dtype, np.number) or np.issubdtype(
        arr.dtype, np.complexfloating
    ):
        raise ValueError(f"`{name}` must be a real scalar radius, got {r!r}.")
    xp = np if concrete else jnp
    bad = ~(xp.isfinite(arr) & (arr > 0))
    got = f"{float(arr)}" if concrete else "a bad value"
    out = check_value(arr, bad, f"`{name}` (the radius of B_r(0)) must be finite and > 0, got {got}.")
    return r if concrete else out


def _check_layer(w, b, name_w: str = "w", name_b: str = "b") -> None:
    if w.ndim < 2 or b.shape != (w.shape[0], *w.shape[2:]):
        raise ValueError(
            f"`{name_w}` must be (n_out, n_in, *batch) and `{name_b}` (n_out, *batch), got "
            f"{w.shape} and {b.shape}."
        )


def _check_params_finite(params, r, name: str = "params"):
    """Refuse NaN/inf parameters; returns `r` to use in the classification. Concrete
    parameters are checked at once with NumPy. For traced ones the check is threaded
    through the scalar `r`, on which every state depends: threading the (batch of)
    parameters or the states through `eqx.error_if` instead would split XLA's fusion of the
    classification (measured 1.16x slower for widths (1, 6, 4, 2); this way about 1 %)."""
    msg = f"`{name}` contains NaN or inf weights or biases; give finite parameters."
    leaves = [a for wb in params for a in wb]
    if is_concrete(leaves):
        check_value(None, np.stack([~np.all(np.isfinite(np.asarray(a))) for a in leaves]), msg)
        return r
    dtype = jnp.result_type(leaves[0].dtype, float)
    bad = jnp.any(jnp.stack([jnp.any(~jnp.isfinite(a)) for a in leaves]))
    return check_value(jnp.asarray(r, dtype), bad, msg)


def first_layer_dead(
    w: Float[Array, "n d *batch"], b: Float[Array, "n *batch"], r: float
) -> Bool[Array, "n *batch"]:
    r"""Exact first-layer rule: $\phi(w^T x + b)$ is dead on $B_r(0)$ iff
    $b \le -r\|w\|$ (then $w^T x + b \le 0$ on the ball; Lemma 3's event).

    **Raises:** `ValueError` for shapes that do not match; `ValueError` (eager) /
    `EquinoxRuntimeError` (traced) for `r` not finite and > 0 or NaN/inf in `w`, `b`."""
    w, b = jnp.asarray(w), jnp.asarray(b)
    _check_layer(w, b)
    r = check_radius(r)
    return _first_layer_dead(w, b, _check_params_finite([(w, b)], r, "w, b"))


def _first_layer_dead(w, b, r):
    return b <= -r * jnp.sqrt(jnp.sum(w * w, axis=1))


def permanently_dead(
    w: Float[Array, "n d *batch"], b: Float[Array, "n *batch"]
) -> Bool[Array, "n *batch"]:
    r"""Exact permanent-death rule for a layer $t > 1$ (inputs $x^{t-1} \ge 0$):
    $w \le 0$ and $b \le 0$ componentwise (section 3.2).

    **Raises:** `ValueError` for shapes that do not match; `ValueError` (eager) /
    `EquinoxRuntimeError` (traced) for NaN in `w`, `b` (a NaN weight is neither <= 0 nor
    > 0)."""
    w, b = jnp.asarray(w), jnp.asarray(b)
    _check_layer(w, b)
    return check_value(
        _permanently_dead(w, b),
        jnp.any(jnp.isnan(w)) | jnp.any(jnp.isnan(b)),
        "`w` or `b` contains NaN; give finite parameters.",
    )


def _permanently_dead(w, b):
    if w.shape[1] > 32:
        return jnp.all(w <= 0, axis=1) & (b <= 0)
    # Unrolled: an XLA:CPU reduce over a non-minor axis of batch-last arrays is slow.
    return functools.reduce(jnp.logical_and, [w[:, i] <= 0 for i in range(w.shape[1])], b <= 0)


def _check_params(params: Sequence[LayerParams], name: str = "params") -> None:
    if not isinstance(params, (list, tuple)) or len(params) == 0:
        raise ValueError(f"`{name}` must be a list holding at least one hidden layer (W, b).")
    for t, layer in enumerate(params):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise ValueError(f"`{name}[{t}]` must be a pair (W, b).")
        w, b = layer
        if not (hasattr(w, "shape") and hasattr(b, "shape")):
            raise TypeError(f"`{name}[{t}]` must hold arrays (W, b), got {type(w).__name__}.")
        if w.ndim < 2 or b.shape != (w.shape[0], *w.shape[2:]) or (
            w.shape[2:] != params[0][0].shape[2:]
        ):
            raise ValueError(
                f"`{name}[{t}]` must be (W of shape (n_out, n_in, *batch), b of shape "
                f"(n_out, *batch)) with one batch shape for all layers; got {w.shape} and "
                f"{b.shape}."
            )
        if t > 0 and w.shape[1] != params[t - 1][0].shape[0]:
            raise ValueError(
                f"`{name}[{t}]` has {w.shape[1]} inputs but layer {t - 1} has "
                f"{params[t - 1][0].shape[0]} neurons."
            )


def _affine(h, w, b):
    # z = W h + b at every point, as a fixed sequence of elementwise multiply-adds (no
    # matmul, no reduce): identical inputs give bit-identical outputs at every point, so
    # "constant" neurons compare exactly equal across knots. It is also the fastest form for
    # small widths, and sidesteps a wrong XLA:CPU fusion of the equivalent
    # `jnp.sum(..., axis=2)` seen for float32 batch-last inputs with jax 0.10.2.
    n_in = w.shape[1]
    z = jnp.broadcast_to(b[None], (h.shape[0],) + b.shape)
    if n_in <= 32:
        for i in range(n_in):
            z = z + h[:, i][:, None] * w[:, i][None]
        return z
    return jax.lax.fori_loop(0, n_in, lambda i, z: z + h[:, i][:, None] * w[:, i][None], z)


def _pre_activations(params: Sequence[LayerParams], x: Float[Array, "k d *batch"]) -> list:
    zs = []
    h = x
    for w, b in params:
        z = _affine(h, w, b)
        zs.append(z)
        h = jnp.maximum(z, 0)
    return zs


def _classify(t: int, dead, w, b) -> Int[Array, " n"]:
    if t == 0:
        return jnp.where(dead, PERMANENT, ACTIVE)
    perm = dead & _permanently_dead(w, b)
    return jnp.where(perm, PERMANENT, jnp.where(dead, TENTATIVE, ACTIVE))


def _constant(z: Float[Array, "k n *batch"]) -> Bool[Array, "n *batch"]:
    # Row-wise max / min (a chain of elementwise ops): an XLA:CPU reduce over the leading
    # axis of a batch-last array is several times slower.
    if z.shape[0] > 64:  # many sample points: a reduce keeps the program small
        a = jnp.maximum(z, 0)
        return jnp.max(a, axis=0) == jnp.min(a, axis=0)
    rows = [jnp.maximum(z[i], 0) for i in range(z.shape[0])]
    return functools.reduce(jnp.maximum, rows) == functools.reduce(jnp.minimum, rows)


def _batcher_pairs(k: int) -> list[tuple[int, int]]:
    # Batcher's odd-even merge sort on the next power of two; comparators touching the
    # (virtual, +inf) padding are dropped, which keeps the network valid.
    n = 1
    while n < k:
        n *= 2
    pairs = []
    p = 1
    while p < n:
        kk = p
        while kk >= 1:
            for j in range(kk % p, n - kk, 2 * kk):
                for i in range(min(kk, n - j - kk)):
                    if (i + j) // (2 * p) == (i + j + kk) // (2 * p):
                        pairs.append((i + j, i + j + kk))
            kk //= 2
        p *= 2
    return [(i, j) for i, j in pairs if j < k]


def _sort_rows(x, z):
    # Sort the knots (axis 0) and carry the pre-activation rows along with a static
    # compare-exchange network: vectorises over any trailing batch, and avoids a batched
    # argsort/gather that XLA:CPU miscompiled for large float32 batch-last inputs.
    xs = [x[i] for i in range(x.shape[0])]
    zs = [z[i] for i in range(z.shape[0])]
    for i, j in _batcher_pairs(len(xs)):
        swap = xs[i] > xs[j]
        xs[i], xs[j] = jnp.minimum(xs[i], xs[j]), jnp.maximum(xs[i], xs[j])
        zs[i], zs[j] = jnp.where(swap[None], zs[j], zs[i]), jnp.where(swap[None], zs[i], zs[j])
    return jnp.stack(xs), jnp.stack(zs)


def _inputs_constant(prev_dead, w) -> Bool[Array, "n *batch"]:
    # z_j = b_j + sum_i w_ji h_i is constant when every input it uses is a dead (constant)
    # neuron of the previous layer. Decided structurally, not by comparing z across knots:
    # XLA:CPU may contract `acc + h * w` into an FMA at some knots and not at others inside
    # one fusion, so a neuron fed only by constants could differ in its last bit across
    # knots and be miscounted as active (seen with jax 0.12 in 1 of 2^17 networks).
    return jnp.all(prev_dead[None] | (w == 0), axis=1)


def neuron_states_1d(
    params: Sequence[LayerParams], r: float
) -> list[Int[Array, "n_t *batch"]]:
    r"""Exact states of every hidden neuron for $d_\text{in} = 1$ on $[-r, r]$.

    Knots $K_0 = \{-r, r\}$; for layer $t$ every pre-activation $z^t_j$ is linear between
    consecutive knots of $K_{t-1}$, so $\phi(z^t_j)$ is constant on $[-r, r]$ iff its values at
    $K_{t-1}$ are all equal (or, decided without rounding, if every input it uses is a
    dead neuron of layer $t-1$); $K_t = K_{t-1} \cup \{$zero crossings of $z^t_j$ on each
    segment$\}$ (at most $|K_{t-1}| - 1$ per neuron, padded with harmless in-domain points).

    **Arguments:** `params`: hidden layers `[(W1, b1), ..., (W_{L-1}, b_{L-1})]`, `W1` of
    shape `(n_1, 1)`; `r`: radius.

    **Returns:** list of integer state arrays, one per hidden layer.

    **Raises:** `ValueError` for malformed `params` or $d_\text{in} \ne 1$; `ValueError`
    (eager) / `EquinoxRuntimeError` (traced) for `r` not finite and > 0 or NaN/inf
    parameters (which no state describes).
    """
    _check_params(params)
    if params[0][0].shape[1] != 1:
        raise ValueError(
            f"neuron_states_1d needs d_in = 1, got W1 of shape {params[0][0].shape}; use "
            "neuron_states_sampled for d_in > 1."
        )
    r = check_radius(r)
    return _neuron_states_1d(params, _check_params_finite(params, r))


def _neuron_states_1d(params, r):
    # unchecked core (`init_statistics` checks its options once, draws finite parameters)
    dtype = jnp.result_type(params[0][0].dtype, float)
    batch = params[0][0].shape[2:]
    ends = jnp.asarray([-r, r], dtype).reshape((2,) + (1,) * len(batch))
    knots = jnp.broadcast_to(ends, (2, *batch))  # (K, *batch)
    h = knots[:, None]  # inputs at the knots, (K, n_{t-1}, *batch)
    states = []
    dead = None
    for t, (w, b) in enumerate(params):
        z = _affine(h, w, b)  # (K, n_t, *batch): exact values at the knots
        dead = _constant(z) if t == 0 else _constant(z) | _inputs_constant(dead, w)
        states.append(_classify(t, dead, w, b))
        if t == len(params) - 1:
            break
        xs, zs = jax.lax.optimization_barrier(_sort_rows(knots, z))
        za, zb = zs[:-1], zs[1:]  # (K-1, n_t, *batch)
        cross = (za > 0) != (zb > 0)
        lam = jnp.where(cross, za / jnp.where(cross, za - zb, 1.0), 0.0)
        new_x = xs[:-1, None] + lam * (xs[1:, None] - xs[:-1, None])
        # Every z^s, s <= t, is linear between consecutive knots, so the values of layer t at
        # the new knot (segment k, neuron j's crossing) interpolate the segment's ends; the
        # form za + lam (zb - za) keeps constant neurons bit-exactly constant, and the
        # crossing neuron itself is exactly 0 there.
        new_z = za[:, None] + lam[:, :, None] * (zb - za)[:, None]  # (K-1, n_t, n_t, *batch)
        eye = jnp.eye(z.shape[1], dtype=bool).reshape((1, z.shape[1], z.shape[1]) + (1,) * len(batch))
        new_z = jnp.where(eye & cross[:, :, None], 0.0, new_z)
        knots = jnp.concatenate([xs, new_x.reshape((-1, *batch))])
        z_all = jnp.concatenate([zs, new_z.reshape((-1,) + zs.shape[1:])])
        h = jax.lax.optimization_barrier(jnp.maximum(z_all, 0))
    return states


def neuron_states_sampled(
    params: Sequence[LayerParams], x: Float[Array, "k d"], r: float
) -> list[Int[Array, "n_t *batch"]]:
    r"""States for any $d_\text{in}$: exact first layer ($b \le -r\|w\|$), deeper layers dead
    iff $\phi(z^t_j)$ is constant over the sample points `x` (points of $B_r(0)$, e.g. from
    `sample_ball`), permanent by the exact rule $w \le 0, b \le 0$.

    **Raises:** `ValueError` for malformed `params` or `x` not a non-empty `(k, d_in)`
    array; `ValueError` (eager) / `EquinoxRuntimeError` (traced) for `r` not finite and
    > 0, NaN/inf parameters, or sample points that are not finite or lie outside
    $B_r(0)$."""
    _check_params(params)
    x = jnp.asarray(x)
    if x.ndim != 2 or x.shape[1] != params[0][0].shape[1]:
        raise ValueError(
            f"`x` must have shape (k, {params[0][0].shape[1]}), got {x.shape}."
        )
    if x.shape[0] == 0:
        raise ValueError("`x` holds no sample points: give points of B_r(0) (see sample_ball).")
    r = check_radius(r)
    x = check_points(x, r)
    return _neuron_states_sampled(params, x, _check_params_finite(params, r))


def check_points(x, r, name: str = "x"):
    """Sample points must be finite and lie in $B_r(0)$ (up to rounding)."""
    norm = jnp.sqrt(jnp.sum(x * x, axis=1))
    tol = 1 + 64 * jnp.finfo(jnp.result_type(x.dtype, float)).eps
    return check_value(
        x,
        ~jnp.isfinite(norm) | (norm > r * tol),
        f"`{name}` must hold finite points of the ball B_r(0) (|x| <= r); some are NaN/inf "
        "or outside: draw them with sample_ball(key, num, d, r).",
    )


def _neuron_states_sampled(params, x, r):
    batch = params[0][0].shape[2:]
    zs = _pre_activations(params, x.reshape(x.shape + (1,) * len(batch)))
    states = []
    dead = None
    for t, ((w, b), z) in enumerate(zip(params, zs)):
        dead = _first_layer_dead(w, b, r) if t == 0 else _constant(z) | _inputs_constant(dead, w)
        states.append(_classify(t, dead, w, b))
    return states


def sample_ball(key: jax.Array, num: int, d: int, r: float, dtype: Any = float) -> Float[Array, "k d"]:
    r"""`num` points uniform in $B_r(0) \subset \mathbb{R}^d$ plus the $2d$ points
    $\pm r e_i$ on the boundary (returned first).

    **Raises:** `ValueError` for `num < 0` or `d < 1` (not ints); `ValueError` (eager) /
    `EquinoxRuntimeError` (traced) for `r` not finite and > 0."""
    for name, v, lo in (("num", num, 0), ("d", d, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"`{name}` must be an int >= {lo}, got {v!r}.")
    r = check_radius(r)
    kd, kr = jax.random.split(key)
    g = jax.random.normal(kd, (num, d), dtype)
    g = g / jnp.linalg.norm(g, axis=1, keepdims=True)
    rad = r * jax.random.uniform(kr, (num, 1), dtype) ** (1.0 / d)
    eye = r * jnp.eye(d, dtype=dtype)
    return jnp.concatenate([eye, -eye, g * rad], axis=0)


def hidden_params(model: Any) -> list[LayerParams]:
    """The `(W, b)` of every `eqx.nn.Linear` of `model` but the last (the output layer)."""
    layers = linear_layers(model)
    if len(layers) < 2:
        raise ValueError(f"`model` needs >= 2 eqx.nn.Linear layers, found {len(layers)}.")
    out = []
    for lay in layers[:-1]:
        b = jnp.zeros(lay.weight.shape[0], lay.weight.dtype) if lay.bias is None else lay.bias
        out.append((lay.weight, b))
    return out


def neuron_states(
    model: Any, *, r: float = 1.0, x: Float[Array, "k d"] | None = None
) -> list[Int[Array, " n_t"]]:
    r"""States of the hidden neurons of an `eqx.nn.Linear` ReLU network (e.g. `eqx.nn.MLP`
    with `activation=jax.nn.relu`) on $B_r(0)$: exact for $d_\text{in} = 1$, otherwise
    sampled at the points `x` (required). Checks as in `neuron_states_1d` /
    `neuron_states_sampled` (`r` finite and > 0, finite weights, `x` in $B_r(0)$)."""
    params = hidden_params(model)
    if params[0][0].shape[1] == 1 and x is None:
        return neuron_states_1d(params, r)
    if x is None:
        raise ValueError("`x` (sample points of B_r(0), see sample_ball) is required for d_in > 1.")
    return neuron_states_sampled(params, x, r)


def state_counts(states: Sequence[Int[Array, "n_t *batch"]]) -> Int[Array, "L 3 *batch"]:
    """Per hidden layer: `[#active, #tentatively dead, #permanently dead]` (shape
    `(L, 3, *batch)`).

    **Raises:** `ValueError` for an empty list or state arrays of different batch shapes;
    `TypeError` for non-integer states."""
    if not isinstance(states, (list, tuple)) or len(states) == 0:
        raise ValueError("`states` must be a non-empty list of state arrays (one per layer).")
    states = [jnp.asarray(s) for s in states]
    for t, s in enumerate(states):
        if not jnp.issubdtype(s.dtype, jnp.integer):
            raise TypeError(f"`states[{t}]` must be integer states (0, 1, 2), got {s.dtype}.")
        if s.ndim < 1 or s.shape[1:] != states[0].shape[1:]:
            raise ValueError(
                f"`states[{t}]` must be (n_t, *batch) with one batch shape for all layers, got "
                f"{s.shape}."
            )

    def count(s, k):
        if s.shape[0] > 64:
            return jnp.sum(s == k, axis=0, dtype=jnp.int32)
        # Unrolled sum over neurons (see `_constant`: leading-axis reduces are slow on CPU).
        return functools.reduce(jnp.add, [(s[i] == k).astype(jnp.int32) for i in range(s.shape[0])])

    return jnp.stack(
        [jnp.stack([count(s, k) for k in (ACTIVE, TENTATIVE, PERMANENT)]) for s in states]
    )
