r"""Batched accuracy studies: many independent trials of a fit, one `jit`, one `vmap`.

The paper's Figs. 1-2 and 5 repeat every fit over independent random training sets
(100 trials; 20 hyperparameter restarts each) and report the root-mean-square stress error
on held-out points. Here all trials run together: `vmap` over trials of a fit, inside one
compiled function; `jaxsci.gp.fit`'s `custom_vmap` rule puts the restarts of all trials
into one pool of L-BFGS slots (see docs/gp.md).
"""

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from ._kinematics import _sym_to_vec, check_finite_value
from ._tbgp import check_batch


def _check_test_set(arrays, names, inner, what):
    """Tier 1: test arrays of shapes `(m, *inner_i)` with one `m >= 1`; tier 2: finite stresses."""
    out = [check_batch(a, n, i, w) for a, n, i, w in zip(arrays, names, inner, what)]
    for a, n in zip(out[1:], names[1:]):
        if a.shape[0] != out[0].shape[0]:
            raise ValueError(
                f"`{n}` (shape {a.shape}) must have as many entries as `{names[0]}` "
                f"(shape {out[0].shape}): one per test point."
            )
    out[-1] = check_finite_value(out[-1], names[-1])
    return out


def _check_trials(arrays, names, inner):
    """Tier 1: training arrays of shapes `(t, n, *inner_i)` with `t, n >= 1` and equal `t, n`."""
    arrays = [jnp.asarray(a) for a in arrays]
    want = [(arrays[0].shape[:2] + i) for i in inner]
    if arrays[0].ndim != 2 + len(inner[0]) or any(a.shape != w for a, w in zip(arrays, want)):
        shapes = ", ".join(str(("t", "n") + i) for i in inner).replace("'", "")
        raise ValueError(
            f"`{'`, `'.join(names)}` must have shapes {shapes}, got "
            f"{', '.join(str(a.shape) for a in arrays)}."
        )
    if 0 in arrays[0].shape[:2]:
        raise ValueError(
            f"`{names[0]}` has shape {arrays[0].shape}: give at least one trial (t >= 1) with at "
            "least one training point (n >= 1)."
        )
    return arrays


def stress_rmse(model, Bs: Float[Array, "m 3 3"], sigmas: Float[Array, "m 3 3"]) -> Float[Array, ""]:
    r"""RMSE over the 6 independent stress components at `m` test tensors:
    $\sqrt{\frac{1}{6m}\sum_{a}\lVert \mathrm{vec}(\hat\sigma_a - \sigma_a)\rVert^2}$, with
    $\hat\sigma$ the mean prediction `model(B)[0]` of a `TensorBasisGP`, `ComponentGP` or
    `StrainEnergyGP`.

    **Raises:** `ValueError` (trace time) unless `Bs` and `sigmas` both have shape
    `(m, 3, 3)` with `m >= 1`; at run time NaN/inf in `sigmas`, and the model's own checks
    on each `B`."""
    Bs, sigmas = _check_test_set((Bs, sigmas), ("Bs", "sigmas"), ((3, 3), (3, 3)), ("test tensors", "test stresses"))
    P = jax.vmap(lambda B: model(B)[0])(Bs)
    d = jax.vmap(_sym_to_vec)(P - sigmas)
    return jnp.sqrt(jnp.mean(d * d))


@eqx.filter_jit
def stress_rmse_trials(
    fit: Callable,
    Bs: Float[Array, "t n 3 3"],
    sigmas: Float[Array, "t n 3 3"],
    Bs_test: Float[Array, "m 3 3"],
    sigmas_test: Float[Array, "m 3 3"],
    *,
    key: PRNGKeyArray,
    num_restarts: int = 20,
    sharding: jax.sharding.NamedSharding | None = None,
) -> Float[Array, " t"]:
    r"""Fit `t` independent models and return their test stress RMSEs `(t,)`.

    `fit` is one of `fit_tbgp`, `fit_component_gp`, `fit_strain_energy_gp` (or any
    function with their signature, returning a `Solution` of a model); it is called with
    `throw=False` so that a trial whose best restart hit the step limit still reports its
    error. Trials are `vmap`ped; with `sharding` (a `NamedSharding` partitioning the trial
    axis, e.g. over the CPU cores as host devices, see docs/gp.md) they are split over its
    devices, one pool per device (`fit_and_score_trials`); the RMSEs are unchanged.

    **Raises:** `ValueError` (trace time) unless `Bs`, `sigmas` have shape `(t, n, 3, 3)`
    with `t, n >= 1` and the test set is as in `stress_rmse`; the fit's and `stress_rmse`'s
    checks; `TypeError` / `ValueError` for a `sharding` that does not partition the trial
    axis or whose device count does not divide `t`.
    """
    Bs, sigmas = _check_trials((Bs, sigmas), ("Bs", "sigmas"), ((3, 3), (3, 3)))
    check_trial_sharding(sharding, Bs.shape[0])
    Bs_test, sigmas_test = _check_test_set(
        (Bs_test, sigmas_test), ("Bs_test", "sigmas_test"), ((3, 3), (3, 3)), ("test tensors", "test stresses")
    )
    return fit_and_score_trials(
        fit, (Bs, sigmas), lambda model: stress_rmse(model, Bs_test, sigmas_test),
        key=key, num_restarts=num_restarts, sharding=sharding,
    )


def fit_and_score_trials(
    fit: Callable, data: tuple, score: Callable, *, key: PRNGKeyArray, num_restarts: int,
    sharding: jax.sharding.NamedSharding | None = None,
):
    """`vmap` over the leading (trial) axis of every array in `data`: fit one model per trial
    with `fit(*data_t, key=k_t, num_restarts=..., throw=False).value` and return
    `score(model)` per trial. Shared by the isotropic and transversely isotropic studies.

    `sharding` (a `NamedSharding` whose spec partitions the leading axis, as
    `gp.fit_batched`'s; checked by `check_trial_sharding`): the trials are split over the
    mesh's devices with `jax.shard_map`, each device running ONE pool of all restarts of
    its own trials (no cross-device traffic); each trial's result equals the unsharded one
    (its starts are independent of the other trials')."""
    if key is None:
        raise ValueError("`key` is required for the random hyperparameter starts, e.g. key=jax.random.key(0).")
    keys = jr.split(key, data[0].shape[0])

    def one(*args):
        *arrays, k = args
        return score(fit(*arrays, key=k, num_restarts=num_restarts, throw=False).value)

    if sharding is None:
        return jax.vmap(one)(*data, keys)
    spec = jax.sharding.PartitionSpec(sharding.spec[0])
    run = jax.shard_map(
        lambda *a: jax.vmap(one)(*a), mesh=sharding.mesh, in_specs=spec, out_specs=spec, check_vma=False
    )
    return run(*data, keys)


def check_trial_sharding(sharding, num_trials: int):
    """Tier 1: `sharding` is `None` or a `NamedSharding` partitioning the leading (trial)
    axis over a number of devices that divides `num_trials`."""
    if sharding is None:
        return None
    spec = getattr(sharding, "spec", None)
    if not isinstance(sharding, jax.sharding.NamedSharding) or not spec or spec[0] is None:
        raise TypeError(
            "`sharding` must be a jax.sharding.NamedSharding that partitions the leading "
            "(trial) axis, e.g. NamedSharding(Mesh(jax.devices(), ('trials',)), "
            f"PartitionSpec('trials')); got {sharding!r}."
        )
    axes = spec[0] if isinstance(spec[0], tuple) else (spec[0],)
    groups = math.prod(sharding.mesh.shape[a] for a in axes)
    if num_trials % groups:
        raise ValueError(
            f"With `sharding` over {groups} devices the number of trials t = {num_trials} must "
            "be divisible by the number of devices."
        )
    return sharding
