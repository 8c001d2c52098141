"""Neural surrogates of the coefficient map and the weight-based sensitivity measure.

[PNDS] section 3.1 (eq. 19: tanh networks, 2 x 30 and 3 x 20 in section 4) and section 3.3
(eq. 25: weight-based sensitivity $S^W$; eq. 26: the extended network with a linear first
layer).
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from .._checks import as_float_array, check_value
from ..init import linear_layers


def tanh_network(
    in_size: int, out_size: int, width: int, depth: int, *, key: PRNGKeyArray
) -> eqx.nn.MLP:
    r"""$\Psi = T_L \circ \rho \circ \dots \circ \rho \circ T_1$ (eq. 19) with
    $\rho = \tanh$ (eq. 20), `depth` hidden layers of `width` neurons, linear output.

    An `eqx.nn.MLP` (its layers are `eqx.nn.Linear`, so jaxsci.init surgery applies).
    The paper's networks are `(q, r, 30, 2)` and `(q, r, 20, 3)`.
    """
    for name, val in (("in_size", in_size), ("out_size", out_size), ("width", width)):
        if isinstance(val, bool) or not isinstance(val, int) or val < 1:
            raise ValueError(f"`{name}` must be a positive int, got {val!r}.")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"`depth` must be a positive int, got {depth!r}.")
    return eqx.nn.MLP(in_size, out_size, width, depth, activation=jnp.tanh, key=key)


class LinearInputNetwork(eqx.Module):
    r"""The extended network $\hat\Psi = \hat T_{L+1} \circ \rho \circ \dots \circ \rho
    \circ \hat T_2 \circ \hat T_1$ of eq. (26): a purely linear first layer
    $\hat T_1: \mathbb{R}^q \to \mathbb{R}^q$ (no activation) in front of a network `body`.

    Its weight-based sensitivities (eq. 25) are read from $\hat T_1$, which has only
    $\hat N_1 = q$ neurons, so information from an input cannot be spread over many first-
    layer neurons and cancel later ([PNDS] section 3.3).
    """

    input_layer: eqx.nn.Linear
    body: Callable[[Float[Array, " q"]], Float[Array, " r"]]

    def __check_init__(self):
        layer = self.input_layer
        if not isinstance(layer, eqx.nn.Linear):
            raise TypeError(
                "`input_layer` must be an eqx.nn.Linear (the linear first layer of eq. 26), "
                f"got {type(layer).__name__}."
            )
        q_in, q_out = layer.in_features, layer.out_features
        if isinstance(q_in, str) or isinstance(q_out, str) or q_in != q_out:
            raise ValueError(
                "`input_layer` must map R^q to R^q (q neurons, eq. 26: in_features == "
                f"out_features), got in_features={q_in!r}, out_features={q_out!r}; build it "
                "with eqx.nn.Linear(q, q, key=...) or use `extended_network`."
            )
        if not callable(self.body):
            raise TypeError(f"`body` must be a callable network, got {type(self.body).__name__}.")
        leaves = jax.tree_util.tree_leaves(eqx.filter(layer, eqx.is_inexact_array))
        dtype = leaves[0].dtype if leaves else jnp.result_type(float)
        try:
            eqx.filter_eval_shape(self.body, jax.ShapeDtypeStruct((q_in,), dtype))
        except Exception as err:  # noqa: BLE001 - re-raised naming the argument
            raise ValueError(
                f"`body` cannot be applied to the output of `input_layer` (shape ({q_in},)): "
                f"{type(err).__name__}: {str(err).rstrip('.')}. Give a body whose input size is q = "
                f"{q_in}."
            ) from err

    def __call__(self, p: Float[Array, " q"]) -> Float[Array, " r"]:
        q = self.input_layer.in_features
        if jnp.shape(p) != (q,):
            raise ValueError(
                f"`p` must be one point of shape ({q},), got shape {jnp.shape(p)}; batch with "
                "jax.vmap(model)(points)."
            )
        return self.body(self.input_layer(p))


def extended_network(
    in_size: int, out_size: int, width: int, depth: int, *, key: PRNGKeyArray
) -> LinearInputNetwork:
    r"""A fresh eq. (26) network: linear `in_size -> in_size` layer, then a tanh network
    with `depth` hidden layers of `width` (the paper: $\hat N_1 = q$, $\hat N_2 = \hat N_3
    = 30$, i.e. `width=30, depth=2`)."""
    k1, k2 = jr.split(key)
    return LinearInputNetwork(
        input_layer=eqx.nn.Linear(in_size, in_size, key=k1),
        body=tanh_network(in_size, out_size, width, depth, key=k2),
    )


def extend_network(
    model: Callable[[Float[Array, " q"]], Float[Array, " r"]], in_size: int
) -> LinearInputNetwork:
    r"""Prepend an identity linear layer: $\hat T_1 = I$, $\hat T_{\ell+1} = T_\ell$, so
    $\hat\Psi = \Psi$ exactly ([PNDS] section 3.3: the extended network is at least as
    accurate as the original). Pure model surgery; train the result further as usual."""
    if not isinstance(in_size, int) or in_size < 1:
        raise ValueError(f"`in_size` must be a positive int, got {in_size!r}.")
    leaves = [x for x in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))]
    probe = jax.ShapeDtypeStruct((in_size,), leaves[0].dtype if leaves else jnp.result_type(float))
    try:
        eqx.filter_eval_shape(model, probe)
    except Exception as err:  # noqa: BLE001 - re-raised naming the argument
        raise ValueError(
            f"`model` cannot be applied to an input of size `in_size` = {in_size} "
            f"({type(err).__name__}: {err}); pass the model's own input size q."
        ) from err
    dtype = leaves[0].dtype if leaves else jnp.result_type(float)
    layer = eqx.nn.Linear(in_size, in_size, key=jr.key(0), dtype=dtype)
    layer = eqx.tree_at(
        lambda l: (l.weight, l.bias),
        layer,
        (jnp.eye(in_size, dtype=dtype), jnp.zeros(in_size, dtype=dtype)),
    )
    return LinearInputNetwork(input_layer=layer, body=model)


def first_linear_layer(model: PyTree) -> eqx.nn.Linear:
    """The first `eqx.nn.Linear` in `model` in pytree order (the operator $T_1$)."""
    layers = linear_layers(model)
    if not layers:
        raise TypeError(f"`model` contains no eqx.nn.Linear layer, got {type(model).__name__}.")
    return layers[0]


def weight_sensitivity(model: PyTree) -> Float[Array, " q"]:
    r"""Weight-based sensitivity measures $S_j^W = \sum_{i=1}^{N_1} w_{ij}^2$ (eq. 25),
    the squared Euclidean norms of the columns of the first layer's weight matrix $A_1$
    (shape $N_1 \times q$).

    **Arguments:** `model` any pytree containing `eqx.nn.Linear` layers (an `eqx.nn.MLP`,
    a `LinearInputNetwork`, an `OutputScaling`); the first one in pytree order is $T_1$.

    **Returns:** shape `(q,)`.
    """
    w = first_linear_layer(model).weight
    return jnp.sum(w**2, axis=0)


class OutputScaling(eqx.Module):
    r"""$p \mapsto \text{shift} + \text{scale} \odot \text{net}(p)$: lets a network be
    trained on targets mapped to $[-1, 1]$ (as MATLAB's `mapminmax`, which the paper's
    toolbox applies by default) while predicting the original coefficients $\hat a$.
    Train `net` on the scaled targets `(y - shift) / scale` with `fit_network`, then wrap
    the trained network; `shift`/`scale` are data, not trained."""

    net: Callable[[Float[Array, " q"]], Float[Array, " r"]]
    shift: Float[Array, " r"]
    scale: Float[Array, " r"]

    def __init__(
        self,
        net: Callable[[Float[Array, " q"]], Float[Array, " r"]],
        shift: Float[Array, " r"],
        scale: Float[Array, " r"],
    ):
        r"""**Arguments:** `net` the trained network; `shift`, `scale` scalars or shape
        `(r,)` (e.g. from `minmax_scaling`).

        **Raises:** `TypeError` if `net` is not callable; `ValueError` if `shift`/`scale`
        are not scalars or `(r,)` vectors of one shape; a value check (`ValueError` for
        concrete arrays, `EquinoxRuntimeError` under `jit`/`vmap`) if they contain NaN/inf
        or `scale` has a zero entry (every prediction would be the constant `shift`).
        """
        if not callable(net):
            raise TypeError(f"`net` must be a callable network, got {type(net).__name__}.")
        shift = as_float_array(shift, "shift")
        scale = as_float_array(scale, "scale")
        for name, arr in (("shift", shift), ("scale", scale)):
            if arr.ndim > 1:
                raise ValueError(
                    f"`{name}` must be a scalar or have shape (r,) (one entry per output), "
                    f"got shape {arr.shape}."
                )
        if shift.ndim == 1 and scale.ndim == 1 and shift.shape != scale.shape:
            raise ValueError(
                f"`shift` (shape {shift.shape}) and `scale` (shape {scale.shape}) must have "
                "the same shape (r,)."
            )
        self.net = net
        self.shift = check_value(shift, ~jnp.isfinite(shift), "`shift` contains NaN or inf.")
        scale = check_value(scale, ~jnp.isfinite(scale), "`scale` contains NaN or inf.")
        self.scale = check_value(
            scale,
            scale == 0,
            "`scale` has a zero entry, so that output would be the constant `shift`; use "
            "`minmax_scaling` (it gives constant columns scale 1).",
        )

    def __call__(self, p: Float[Array, " q"]) -> Float[Array, " r"]:
        try:
            out = self.net(p)
        except (TypeError, ValueError) as err:
            try:  # a shape problem (the net cannot take `p` at all) or a value check?
                eqx.filter_eval_shape(self.net, p)
            except Exception:  # noqa: BLE001 - re-raised naming the argument
                raise ValueError(
                    f"`net` cannot be applied to `p` of shape {jnp.shape(p)} "
                    f"({type(err).__name__}: {err}); give one point of the network's input "
                    "size and batch with jax.vmap(model)(points)."
                ) from err
            raise
        r = jnp.broadcast_shapes(self.shift.shape, self.scale.shape)
        if r and jnp.shape(out) != r:
            raise ValueError(
                f"`net` returns shape {jnp.shape(out)}, but `shift`/`scale` have shape {r}: "
                "the scaling must have one entry per network output."
            )
        return self.shift + self.scale * out


def minmax_scaling(
    targets: Float[Array, "k r"],
) -> tuple[Float[Array, " r"], Float[Array, " r"]]:
    r"""`(shift, scale)` mapping each column of `targets` onto $[-1, 1]$: $y =
    \text{shift} + \text{scale}\, z$. Constant columns get scale 1."""
    targets = jnp.asarray(targets)
    if targets.ndim != 2:
        raise ValueError(f"`targets` must have shape (k, r), got {targets.shape}.")
    if targets.shape[0] == 0:
        raise ValueError(f"`targets` is empty (shape {targets.shape}): give at least one row.")
    targets = check_value(targets, ~jnp.isfinite(targets), "`targets` contain NaN or inf.")
    lo, hi = jnp.min(targets, axis=0), jnp.max(targets, axis=0)
    half = (hi - lo) / 2
    scale = jnp.where(half > 0, half, jnp.ones_like(half))
    return (hi + lo) / 2, scale
