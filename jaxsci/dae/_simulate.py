r"""Solving circuit DAEs: one trajectory, and vmapped, chunked, sharded parameter sweeps."""

import dataclasses
import math

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._misc import progress as progress_iter
from .._solution import RESULTS, Solution, raise_if_failed
from ._box import ParameterBox, check_unit_samples
from ._circuits import AbstractCircuit
from ._rodas import AbstractRosenbrock, Rodas4
from ._term import MassMatrixTerm, refuse_solver_message
from ._validate import refuse_if


def _check_circuit(circuit) -> None:
    if not isinstance(circuit, AbstractCircuit):
        raise TypeError(
            "`circuit` must be a jaxsci.dae.AbstractCircuit (a shipped circuit such as "
            "TransistorAmplifier(), or your own subclass defining t0, t1, mass, rhs, "
            f"initial_state, qoi, nominal and box; see docs/dae.md), got {type(circuit).__name__}."
        )
    if not isinstance(circuit.term(), MassMatrixTerm):
        raise TypeError(
            f"`circuit.term()` must return a jaxsci.dae.MassMatrixTerm, got "
            f"{type(circuit.term()).__name__}."
        )


def _check_solver(solver) -> None:
    # The term refuses such a solver too (at trace time, deep inside diffeqsolve); this
    # says so before anything is traced.
    if not isinstance(solver, AbstractRosenbrock):
        raise TypeError("`solver`: " + refuse_solver_message(type(solver).__name__))


def _check_ts(ts) -> Float[Array, " m"]:
    ts = jnp.asarray(ts)
    if ts.ndim != 1 or ts.shape[0] < 1:
        raise ValueError(f"`ts` must be a non-empty 1-D array of times, got shape {ts.shape}.")
    if not jnp.issubdtype(ts.dtype, jnp.floating):
        ts = ts.astype(jnp.result_type(float))
    return ts


def _tols(rtol, atol, dtype):
    # Arrays, not Python floats: one compilation serves every tolerance.
    if not (float(rtol) > 0 and float(atol) >= 0) or not math.isfinite(float(rtol) + float(atol)):
        raise ValueError(
            f"`rtol` must be > 0 and `atol` >= 0 (both finite), got {rtol}, {atol}."
        )
    return jnp.asarray(rtol, dtype), jnp.asarray(atol, dtype)


def _check_max_steps(max_steps) -> int:
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"`max_steps` must be a positive int, got {max_steps!r}.")
    return max_steps


def _check_ts_range(ts, circuit):
    # diffrax would otherwise fail deep inside with a less direct message.
    t0, t1 = float(circuit.t0), float(circuit.t1)
    return refuse_if(
        ts,
        lambda xp, x: (x < min(t0, t1)) | (x > max(t0, t1)) | ~xp.isfinite(x),
        f"`ts` must be finite output times inside [circuit.t0, circuit.t1] = [{t0}, {t1}]; "
        "some are outside (or NaN/inf). Clip them to the interval.",
    )


def _solve_one(
    circuit: AbstractCircuit,
    params,
    ts: Float[Array, " m"],
    solver: dfx.AbstractAdaptiveSolver,
    rtol: float,
    atol: float,
    max_steps: int,
    save_state: bool,
    step_to_ts: bool,
):
    y0 = jax.tree_util.tree_map(
        lambda x: jnp.asarray(x).astype(ts.dtype), circuit.initial_state(params)
    )
    # Trial stages of rejected steps may overflow the junction law: let them give inf
    # (Rodas4 rejects non-finite steps) and report persistent failure via RESULTS.
    if hasattr(circuit, "check_overflow"):
        circuit = dataclasses.replace(circuit, check_overflow=False)
    if save_state:
        save_fn = lambda t, y, args: y  # noqa: E731
    else:
        save_fn = lambda t, y, args: circuit.qoi(y)  # noqa: E731
    sol = dfx.diffeqsolve(
        circuit.term(),
        solver,
        circuit.t0,
        circuit.t1,
        # An explicit first step: diffrax's initial-step heuristic probes an explicit
        # Euler step, which can overflow the exponential junction law.
        1e-6 * (circuit.t1 - circuit.t0),
        y0,
        params,
        saveat=dfx.SaveAt(ts=ts, fn=save_fn),
        stepsize_controller=dfx.PIDController(
            rtol=rtol, atol=atol, step_ts=ts if step_to_ts else None
        ),
        max_steps=max_steps,
        throw=False,
    )
    # diffrax's code passes through unchanged (max_steps_reached, dt_min_reached, ...);
    # under `vmap` it is a batch of codes, one per sample.
    result = RESULTS.promote(sol.result)
    return sol.ys, result, sol.stats["num_accepted_steps"], sol.stats["num_rejected_steps"]


@eqx.filter_jit
def _solve_batch(
    circuit, params, ts, solver, rtol, atol, max_steps, save_state, step_to_ts
):
    return jax.vmap(
        lambda p: _solve_one(
            circuit, p, ts, solver, rtol, atol, max_steps, save_state, step_to_ts
        )
    )(params)


# One trajectory without a batch axis: a `vmap` of size one used to cost ~0.8 s of tracing
# (the batching of diffrax's while loop) on every first call.
_solve_single = eqx.filter_jit(_solve_one)


def _check_params(circuit, params, name: str):
    """`circuit.check_params` after a tier-1 check that `params` has the pytree structure
    and leaf shapes of `circuit.nominal`.

    A parameter of the wrong shape would otherwise be read with JAX's clamped indexing
    (e.g. `R[5]` of a 3-vector silently gives `R[2]`), a wrong answer with no error.
    """
    ref_leaves, ref_def = jax.tree_util.tree_flatten(circuit.nominal)
    leaves, treedef = jax.tree_util.tree_flatten_with_path(params)
    if treedef != ref_def:
        raise ValueError(
            f"`{name}` must have the structure of `circuit.nominal` "
            f"({type(circuit.nominal).__name__}); got {treedef}."
        )
    for (path, leaf), ref in zip(leaves, ref_leaves):
        if jnp.shape(leaf) != jnp.shape(ref):
            key = jax.tree_util.keystr(path)
            raise ValueError(
                f"`{name}{key}` has shape {jnp.shape(leaf)}, but `circuit.nominal{key}` "
                f"has shape {jnp.shape(ref)}; give each parameter the nominal's shape."
            )
    return circuit.check_params(params, name)


def simulate(
    circuit: AbstractCircuit,
    params,
    ts: Float[Array, " m"],
    *,
    solver: dfx.AbstractAdaptiveSolver = Rodas4(),
    rtol: float = 1e-6,
    atol: float = 1e-8,
    max_steps: int = 100_000,
    save_state: bool = False,
    step_to_ts: bool = False,
    throw: bool = True,
) -> Solution:
    r"""Solve one circuit DAE $M(p)u' = \varphi(t, u, p)$, $u(t_0) = u_0(p)$ (paper eq. (1),
    (2)) on $[t_0, t_1]$ and return the QoI $y(t_i, p)$ (or the full state) at `ts`.

    Any DAE $M(p)\,y' = f(t, y, p)$ with constant $M$ runs here: subclass
    [`jaxsci.dae.AbstractCircuit`][] (its docstring lists what to define; docs/dae.md,
    "Your own DAE").

    **Arguments:**

    - `circuit`: an `AbstractCircuit` (e.g. `TransistorAmplifier()` or your own subclass).
    - `params`: its parameter pytree (physical values, e.g. `circuit.nominal`).
    - `ts`: output times, shape `(m,)`, inside $[t_0, t_1]$.
    - `solver`: a solver that honours the mass matrix: `Rodas4()` (the default),
      `Rodas5P()` (tight tolerances), `Rodas4P()`, `Rodas4P2()` or `ROS3P()` (loose
      tolerances). Any other solver raises a `TypeError` (a stock diffrax solver would
      solve $y' = f$).
    - `rtol`, `atol`: local error tolerances of the PID step-size controller.
    - `save_state`: return the whole state `(m, n)` instead of the QoI `(m,)`.
    - `step_to_ts`: make the steps land on the output times (`PIDController(step_ts=ts)`),
      so that outputs are order-4 step values rather than values of the order-3
      continuous extension. On the 5-node amplifier at rtol = atol = 1e-6 this takes
      825 instead of 605 steps and reduces the output error from 1.3e-4 to 1.6e-6 V
      (at 1e-10: 7.1e-7 -> 9.7e-9; errors against a 1e-12 solution). Off by default
      (fewer, cheaper steps; see docs/dae.md).
    - `throw`: raise if the integration failed; otherwise inspect `.result`.

    **Returns:** a `Solution` with `value` of shape `(m, *qoi)` (or `(m, n)` with
    `save_state`), `result` (`successful` or diffrax's own failure code, e.g.
    `max_steps_reached`, `dt_min_reached`), `stats = {"num_steps", "num_rejected"}`.

    **Raises** (before integrating): `TypeError` for a wrong `circuit` / `solver`;
    `ValueError` for bad `ts` (not 1-D, empty, outside $[t_0, t_1]$, NaN), tolerances or
    `max_steps`, and for `params` refused by `circuit.check_params` (NaN/inf; for the
    shipped circuits non-positive capacitances, resistances, ...; `EquinoxRuntimeError`
    when `params` are traced). A NaN/inf initial state raises `EquinoxRuntimeError`
    (from the solver); NaN/inf values met during the solve give `result = nonfinite`.
    See docs/dae.md, "Errors".
    """
    _check_circuit(circuit)
    _check_solver(solver)
    ts = _check_ts_range(_check_ts(ts), circuit)
    rtol, atol = _tols(rtol, atol, ts.dtype)
    max_steps = _check_max_steps(max_steps)
    params = _check_params(circuit, params, "params")
    ys, result, nacc, nrej = _solve_single(
        circuit, params, ts, solver, rtol, atol, max_steps, save_state, step_to_ts
    )
    sol = Solution(value=ys, result=result, stats={"num_steps": nacc, "num_rejected": nrej})
    return raise_if_failed(sol, throw)


def sweep(
    circuit: AbstractCircuit,
    samples: Float[Array, "k q"],
    ts: Float[Array, " m"],
    *,
    solver: dfx.AbstractAdaptiveSolver = Rodas4(),
    rtol: float = 1e-6,
    atol: float = 1e-8,
    max_steps: int = 100_000,
    chunk_size: int | None = 250,
    sharding: jax.sharding.Sharding | None = None,
    progress: bool = True,
    step_to_ts: bool = False,
    throw: bool = True,
) -> Solution:
    r"""QoI trajectories $Y_{ij} = y(t_i, \Xi(p_j))$ for $k$ parameter samples in $H^q$.

    Builds the data of the POD (paper eqs. (3)-(4): $Y \in \mathbb{R}^{m \times k}$; this
    returns its transpose, one row per sample). Samples are mapped to physical parameters
    by the circuit's $\Xi$ (`circuit.box`), each trajectory is integrated by `simulate`'s
    pointwise core and the samples are batched with `jax.vmap` -- one compiled call per
    chunk of `chunk_size` samples (the last chunk is padded, so there is one compilation).
    With `sharding` (e.g. `NamedSharding(mesh, PartitionSpec("batch"))` over all devices)
    every chunk is laid out along its sample axis, so jit runs it SPMD across devices.
    A `tqdm` bar over the chunks shows progress.

    **Arguments:**

    - `circuit`: an `AbstractCircuit` (a shipped circuit or your own subclass).
    - `samples`: points $p_j \in [0, 1]^q$, shape `(k, q)`, `q = circuit.box.q`; each is
      mapped to parameters by `circuit.box(p)`.
    - `ts`: output times, shape `(m,)`.
    - `solver`, `rtol`, `atol`, `max_steps`, `step_to_ts`: as in `simulate`.
    - `chunk_size`: samples per compiled call (`None`: all at once). Rounded up to a
      multiple of the number of devices of `sharding`.
    - `sharding`: optional `jax.sharding.Sharding` for the sample axis. Over several
      processes (`jax.distributed`) every process passes the same `samples`; the result
      is laid out over all processes' devices (`multihost_utils.process_allgather` gives
      a NumPy copy; docs/index.md#many-devices-and-many-hosts).
    - `progress`: show a tqdm progress bar.
    - `throw`: raise if any sample failed; otherwise failed rows are NaN.

    **Returns:** `Solution` with `value` of shape `(k, m, *qoi)`, `result` (successful or
    the code of the first failed sample, diffrax's own: `max_steps_reached`,
    `dt_min_reached`, ...), `stats = {"num_steps": (k,), "num_rejected": (k,),
    "failed": (k,), "result": (k,)}` (`stats["result"]`: every sample's `RESULTS` code).

    **Raises** (before integrating): as `simulate`, and `ValueError` for `samples` that are
    not `(k, q)`, empty, non-finite or outside $[0, 1]^q$, a non-positive `chunk_size`,
    or a `circuit.box` whose corners `circuit.check_params` refuses.
    """
    _check_circuit(circuit)
    _check_solver(solver)
    samples = jnp.asarray(samples)
    q = circuit.box.q
    if samples.ndim != 2 or samples.shape[1] != q:
        raise ValueError(
            f"`samples` must have shape (k, {q}) (points of the unit hypercube [0, 1]^{q}),"
            f" got {samples.shape}."
        )
    if not jnp.issubdtype(samples.dtype, jnp.floating):
        samples = samples.astype(jnp.result_type(float))
    if samples.shape[0] == 0:
        raise ValueError(
            f"`samples` is empty (shape {samples.shape}): give at least one point of [0, 1]^{q}."
        )
    samples = check_unit_samples(samples, "samples")
    ts = _check_ts_range(_check_ts(ts).astype(samples.dtype), circuit)
    rtol, atol = _tols(rtol, atol, ts.dtype)
    max_steps = _check_max_steps(max_steps)
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
    ):
        raise ValueError(f"`chunk_size` must be a positive int or None, got {chunk_size!r}.")
    # Xi maps [0, 1]^q onto the box, so checking the box's corners checks every sample.
    box = circuit.box
    if hasattr(box, "low") and hasattr(box, "high"):
        _check_params(circuit, box.low, "circuit.box.low")
        _check_params(circuit, box.high, "circuit.box.high")
    k = samples.shape[0]
    chunk = k if chunk_size is None else max(1, min(int(chunk_size), k))
    if sharding is not None:
        ndev = len(sharding.device_set)
        chunk = int(math.ceil(chunk / ndev) * ndev)
    n_chunks = int(math.ceil(k / chunk))
    # the samples were checked above: map them without a per-chunk value check
    to_params = jax.vmap(box.map_unchecked if isinstance(box, ParameterBox) else box)
    outs, results, naccs, nrejs = [], [], [], []
    it = progress_iter(
        range(n_chunks), desc=f"{type(circuit).__name__} sweep", unit="chunk", enabled=progress
    )
    for c in it:
        block = samples[c * chunk : (c + 1) * chunk]
        pad = chunk - block.shape[0]
        if pad:
            block = jnp.concatenate([block, jnp.repeat(block[-1:], pad, axis=0)])
        if sharding is not None:
            block = jax.device_put(block, sharding)
        params = to_params(block)
        ys, result, nacc, nrej = _solve_batch(
            circuit, params, ts, solver, rtol, atol, max_steps, False, step_to_ts
        )
        keep = chunk - pad
        outs.append(ys[:keep])
        results.append(jax.tree_util.tree_map(lambda v: v[:keep], result))
        naccs.append(nacc[:keep])
        nrejs.append(nrej[:keep])
    ys = jnp.concatenate(outs)
    per_sample = jax.tree_util.tree_map(lambda *v: jnp.concatenate(v), *results)
    failed = per_sample != RESULTS.successful
    ys = jnp.where(failed.reshape((k,) + (1,) * (ys.ndim - 1)), jnp.nan, ys)
    # The first failed sample's code (sample 0's, i.e. successful, if none failed).
    first = jnp.argmax(failed)
    result = jax.tree_util.tree_map(lambda v: v[first], per_sample)
    sol = Solution(
        value=ys,
        result=result,
        stats={
            "num_steps": jnp.concatenate(naccs),
            "num_rejected": jnp.concatenate(nrejs),
            "failed": failed,
            "result": per_sample,
        },
    )
    return raise_if_failed(sol, throw)
