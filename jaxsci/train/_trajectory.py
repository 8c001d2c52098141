r"""Training as a discrete dynamical system $w(t+1) = T(w(t))$: trajectory recording.

Dogra 2020 ("Dynamical systems and neural networks", arXiv:2004.11826, Eq. (1)) and Dogra &
Redman 2020 ("Optimizing neural networks via Koopman operator theory", NeurIPS 2020, Sec. 2)
treat the weights/biases $w$ as the state of the dynamical system defined by the optimiser.
This module runs any training step — an optax optimiser via `optax_step`, or any user step
function with the signature below (LSGD plugs in the same way) — inside one `lax.scan`, and
records snapshots of the weights, the loss and the gradient norm every `every` steps. Inside
`jaxsci.train.fit` the same record is the `Record(every)` callback (any trainer, with
`fit`'s stops and NaN policy); `record_trajectory` keeps the bare two-level `lax.scan` for
user step functions.

A *step function* is `step(params, state) -> (params, state, stats)` where `stats` is a dict of
scalars containing at least `"loss"` (the loss at the params *before* the update) and, if
available, `"grad_norm"`.

Weights are flattened either per layer (one vector per `eqx.nn.Linear`: `[W.ravel(), b]`) or per
neuron (one row `[W_i, b_i]` per output unit, the "node" observables of Dogra & Redman 2020,
Sec. 3.2); other array leaves form blocks of their own.
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PyTree

from .._checks import require_positive_int
from ..init import linear_layers

StepFn = Callable[[PyTree, Any], tuple[PyTree, Any, dict[str, Array]]]


def _linear_test(params: PyTree):
    """`x -> x is one of the eqx.nn.Linear layers of params` (found by `init.linear_layers`)."""
    ids = {id(layer) for layer in linear_layers(params)}
    return lambda x: id(x) in ids


def _block_test(params: PyTree):
    """`(is_leaf, is_block)` for the blocks of `params`: `eqx.nn.Linear` layers holding a
    weight array (a filtered-out layer, e.g. the head of `hidden_parameters`, is skipped) and
    other inexact array leaves."""
    is_linear = _linear_test(params)

    def is_block(x):
        if is_linear(x):
            if not eqx.is_inexact_array(x.weight) and eqx.is_inexact_array(x.bias):
                raise ValueError("`params` has an eqx.nn.Linear with a bias but no weight (a "
                                 "partial filter): keep both arrays of a layer or neither.")
            return eqx.is_inexact_array(x.weight)
        return eqx.is_inexact_array(x)

    return is_linear, is_block


def _blocks(params: PyTree) -> list:
    """The layer blocks of `params` (see `_block_test`)."""
    is_linear, is_block = _block_test(params)
    return [x for x in jtu.tree_leaves(params, is_leaf=is_linear) if is_block(x)]


def _neuron_matrix(block) -> Float[Array, "out in1"]:
    if isinstance(block, eqx.nn.Linear):
        w = block.weight.reshape(block.weight.shape[0], -1)
        if block.bias is None:
            return w
        return jnp.concatenate([w, block.bias.reshape(-1, 1)], axis=1)
    return block.reshape(1, -1)


def _nonempty_blocks(params: PyTree, name: str = "params") -> list:
    """`_blocks(params)`, refusing a pytree without any inexact array (tier 1)."""
    blocks = _blocks(params)
    if not blocks:
        raise ValueError(
            f"`{name}` has no inexact (floating) arrays, so no weights to flatten (got "
            f"{type(params).__name__}): pass the model or its parameter pytree."
        )
    return blocks


def per_neuron(params: PyTree) -> list[Float[Array, "out in1"]]:
    r"""Per-neuron vectors: for each `eqx.nn.Linear` a matrix whose row $i$ is
    $[W_{i,:}, b_i]$; any other inexact array leaf becomes a `(1, size)` matrix.

    **Raises:** `ValueError` if `params` holds no inexact array (nothing to flatten)."""
    return [_neuron_matrix(b) for b in _nonempty_blocks(params)]


def per_layer(params: PyTree) -> list[Float[Array, " n"]]:
    r"""Per-layer vectors: for each block the concatenation $[\mathrm{vec}(W), b]$ (row-major,
    the same numbers as `per_neuron`, flattened).

    **Raises:** `ValueError` if `params` holds no inexact array (nothing to flatten)."""
    return [m.reshape(-1) for m in per_neuron(params)]


def _check_blocks(params, blocks, name, flat):
    """Tier 1: `blocks` is a list/tuple with one array per block of `params`, each of the
    block's `per_neuron` shape (`flat`: its `per_layer` shape), real-valued; returns the
    blocks as arrays of the parameters' dtypes."""
    old = _nonempty_blocks(params)
    if not isinstance(blocks, (list, tuple)):
        raise TypeError(f"`{name}` must be a list of arrays (one per block, as "
                        f"`{'per_layer' if flat else 'per_neuron'}` returns), got "
                        f"{type(blocks).__name__}.")
    if len(blocks) != len(old):
        raise ValueError(f"`{name}` must have {len(old)} entries, got {len(blocks)}.")
    out = []
    for i, (b, m) in enumerate(zip(old, blocks)):
        m = jnp.asarray(m)
        want = _neuron_matrix(b).shape
        want = (int(np.prod(want)),) if flat else want
        if m.shape != want:
            raise ValueError(f"`{name}[{i}]` must have shape {want} (that of block {i} of "
                             f"`params`), got {m.shape}.")
        dtype = b.weight.dtype if isinstance(b, eqx.nn.Linear) else b.dtype
        if jnp.iscomplexobj(m) and not jnp.iscomplexobj(jnp.zeros((), dtype)):
            raise TypeError(f"`{name}[{i}]` is complex ({m.dtype}) but the parameters are "
                            f"{dtype}: pass its real part (`.real`).")
        out.append(m.astype(dtype))
    return old, out


def _write_blocks(params: PyTree, old: list, blocks: list) -> PyTree:
    new = []
    for b, m in zip(old, blocks):
        m = m.reshape(_neuron_matrix(b).shape)
        if isinstance(b, eqx.nn.Linear):
            nw = b.weight.size // b.weight.shape[0]
            lin = eqx.tree_at(lambda l: l.weight, b, m[:, :nw].reshape(b.weight.shape))
            if b.bias is not None:
                lin = eqx.tree_at(lambda l: l.bias, lin, m[:, nw].reshape(b.bias.shape))
            new.append(lin)
        else:
            new.append(m.reshape(b.shape))
    is_linear, is_block = _block_test(params)
    leaves, treedef = jtu.tree_flatten(params, is_leaf=is_linear)
    it = iter(new)
    leaves = [next(it) if is_block(x) else x for x in leaves]
    return jtu.tree_unflatten(treedef, leaves)


def from_per_neuron(params: PyTree, blocks: list[Float[Array, "out in1"]]) -> PyTree:
    """Inverse of `per_neuron`: write the matrices back into a copy of `params` (cast to the
    parameters' dtypes; the values are written as given, NaN included).

    **Raises:** `TypeError` if `blocks` is not a list/tuple or an entry is complex for real
    parameters; `ValueError` if `params` holds no inexact array, or `blocks` has the wrong
    number of entries or an entry not of its block's `per_neuron` shape."""
    return _write_blocks(params, *_check_blocks(params, blocks, "blocks", flat=False))


def from_per_layer(params: PyTree, vectors: list[Float[Array, " n"]]) -> PyTree:
    """Inverse of `per_layer` (raises as `from_per_neuron`, for the `per_layer` shapes)."""
    return _write_blocks(params, *_check_blocks(params, vectors, "vectors", flat=True))


class Trajectory(eqx.Module):
    r"""Snapshots of a training run, all with leading axis `s` (snapshot index).

    **Attributes:**
    - `params`: the parameters $w(j\,k)$ at steps $j k$, $j = 0..s-1$ ($k$ = `every`), as a
      pytree of stacked arrays (non-array leaves as in the initial params).
    - `loss`: $L(w(jk))$, `(s,)`.
    - `grad_norm`: $\|\nabla L(w(jk))\|$ (NaN if the step function does not report it), `(s,)`.
    - `step`: the step counts $jk$, `(s,)`.
    - `final_params`, `final_state`: parameters and optimiser state after all `s k` steps.
    """

    params: PyTree
    loss: Float[Array, " s"]
    grad_norm: Float[Array, " s"]
    step: Int[Array, " s"]
    final_params: PyTree
    final_state: Any

    def layer_snapshots(self) -> list[Float[Array, "n s"]]:
        """Per-layer snapshot matrices, columns are time (the `dmd` convention)."""
        return [v.T for v in eqx.filter_vmap(per_layer)(self.params)]

    def neuron_snapshots(self) -> list[Float[Array, "out in1 s"]]:
        """Per-neuron snapshot matrices: `(out, in+1, s)` per layer."""
        return [jnp.moveaxis(v, 0, -1) for v in eqx.filter_vmap(per_neuron)(self.params)]


def optax_step(
    loss_fn: Callable[[PyTree], Float[Array, ""]], optimizer: optax.GradientTransformation
) -> StepFn:
    r"""A step function for an optax optimiser on `loss_fn(params) -> scalar`:
    $w \leftarrow w + \mathrm{update}(\nabla L(w))$. Returns `stats = {"loss", "grad_norm"}`.
    One gradient evaluation per step."""

    def step(params, state):
        loss, grads = eqx.filter_value_and_grad(loss_fn)(params)
        updates, state = optimizer.update(grads, state, eqx.filter(params, eqx.is_array))
        params = eqx.apply_updates(params, updates)
        return params, state, {"loss": loss, "grad_norm": optax.global_norm(grads)}

    return step


def record_trajectory(
    step: StepFn,
    params: PyTree,
    state: Any,
    *,
    num_snapshots: int,
    every: int = 1,
    throw: bool = True,
) -> Trajectory:
    r"""Run `num_snapshots * every` steps of `step` in one `lax.scan`, recording a snapshot
    of $(w, L(w), \|\nabla L(w)\|)$ before each block of `every` steps.

    **Arguments:**
    - `step`: a step function (see module docstring), e.g. `optax_step(loss_fn, optax.adam(1e-3))`.
    - `params`: initial parameters (any pytree, e.g. an `eqx.nn.MLP`).
    - `state`: initial optimiser state (e.g. `optimizer.init(eqx.filter(params, eqx.is_array))`).
    - `num_snapshots`, `every`: static ints.
    - `throw`: raise at run time if a recorded loss is NaN/inf; with `throw=False` the
      non-finite values are recorded and the caller decides (e.g. `koopman_train` and
      `scale_up` report `RESULTS.nonfinite_loss` and keep the best iterate).

    **Returns:** a `Trajectory`. jit with `eqx.filter_jit`; batch over seeds (or architectures of
    equal shape) with `record_trajectories`.
    """
    num_snapshots = require_positive_int(num_snapshots, "num_snapshots")
    every = require_positive_int(every, "every")
    if not callable(step):
        raise TypeError(f"`step` must be a step function `step(params, state) -> (params, "
                        f"state, stats)` (e.g. `optax_step(loss_fn, optimizer)`), got "
                        f"{type(step).__name__}.")
    dyn, static = eqx.partition(params, eqx.is_array)

    def inner(carry, _):
        d, s = carry
        out = step(eqx.combine(d, static), s)
        if not (isinstance(out, tuple) and len(out) == 3 and isinstance(out[2], dict)
                and "loss" in out[2]):
            got = (f"stats {out[2]!r:.80}" if isinstance(out, tuple) and len(out) == 3
                   else f"a {type(out).__name__}"
                   + (f" of length {len(out)}" if isinstance(out, tuple) else ""))
            raise TypeError("`step` must return `(params, state, stats)` with `stats` a dict "
                            f"holding at least \"loss\" (see `optax_step`), got {got}.")
        d, s, stats = out
        d = eqx.filter(d, eqx.is_array)
        loss = jnp.asarray(stats["loss"])
        gn = jnp.asarray(stats.get("grad_norm", jnp.full_like(loss, jnp.nan)))
        return (d, s), (loss, gn)

    def outer(carry, _):
        d0 = carry[0]
        carry, (loss, gn) = jax.lax.scan(inner, carry, None, length=every)
        return carry, (d0, loss[0], gn[0])

    (d, s), (snaps, loss, gn) = jax.lax.scan(outer, (dyn, state), None, length=num_snapshots)
    if throw:
        loss = eqx.error_if(
            loss, ~jnp.all(jnp.isfinite(loss)),
            "Non-finite loss during training: lower the learning rate or check the data.",
        )
    steps = jnp.arange(num_snapshots, dtype=jnp.int32) * every
    return Trajectory(eqx.combine(snaps, static), loss, gn, steps, eqx.combine(d, static), s)


def record_trajectories(
    step: StepFn, params: PyTree, state: Any, *, num_snapshots: int, every: int = 1,
    throw: bool = True,
) -> Trajectory:
    """`record_trajectory` vmapped over a leading batch axis of `params` and `state` (many
    seeds, or several architectures of equal shape stacked with `eqx.filter_vmap`).

    **Raises:** as `record_trajectory`, and `ValueError` (tier 1) unless every array of
    `params` and `state` has the same leading batch size >= 1 (`params` holding at least
    one array)."""
    sizes = []
    for name, tree in (("params", params), ("state", state)):
        for path, leaf in jtu.tree_leaves_with_path(tree):
            if eqx.is_array(leaf):
                if jnp.ndim(leaf) == 0:
                    raise ValueError(
                        f"`{name}` must be batched (a leading axis over seeds, e.g. built with "
                        f"`eqx.filter_vmap`), got a 0-d array at {name}{jtu.keystr(path)}; "
                        "for one run use `record_trajectory`.")
                sizes.append((name, jtu.keystr(path), jnp.shape(leaf)))
    if not any(n == "params" for n, _, _ in sizes):
        raise ValueError(f"`params` holds no arrays (got {type(params).__name__}): pass the "
                         "stacked models.")
    name0, path0, (n0, *_) = sizes[0]
    for name, path, shape in sizes:
        if shape[0] != n0:
            raise ValueError(
                "every array of `params` and `state` must have the same leading batch size: "
                f"{name}{path} has shape {shape} but {name0}{path0} has {n0} entries. Stack "
                "the models and states with `eqx.filter_vmap` over the same keys.")
    if n0 == 0:
        raise ValueError("`params` has batch size 0: stack at least one model.")
    fn = lambda p, s: record_trajectory(step, p, s, num_snapshots=num_snapshots, every=every,
                                        throw=throw)
    return eqx.filter_vmap(fn)(params, state)
