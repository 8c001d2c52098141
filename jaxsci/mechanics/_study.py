r"""Batched accuracy studies: many independent trials of a fit, one `jit`, one `vmap`.

The paper's Figs. 1-2 and 5 repeat every fit over independent random training sets
(100 trials; 20 hyperparameter restarts each) and report the root-mean-square stress error
on held-out points. Here all trials run together: `vmap` over trials of a fit, inside one
compiled function; `jaxsci.gp.fit`'s `custom_vmap` rule puts the restarts of all trials
into one pool of L-BFGS slots (see docs/gp.md).
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from ._kinematics import sym_to_vec


def stress_rmse(model, Bs: Float[Array, "m 3 3"], sigmas: Float[Array, "m 3 3"]) -> Float[Array, ""]:
    r"""RMSE over the 6 independent stress components at `m` test tensors:
    $\sqrt{\frac{1}{6m}\sum_{a}\lVert \mathrm{vec}(\hat\sigma_a - \sigma_a)\rVert^2}$, with
    $\hat\sigma$ the mean prediction `model(B)[0]` of a `TensorBasisGP`, `ComponentGP` or
    `StrainEnergyGP`."""
    P = jax.vmap(lambda B: model(B)[0])(Bs)
    d = jax.vmap(sym_to_vec)(P - sigmas)
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
) -> Float[Array, " t"]:
    r"""Fit `t` independent models and return their test stress RMSEs `(t,)`.

    `fit` is one of `fit_tbgp`, `fit_component_gp`, `fit_strain_energy_gp` (or any
    function with their signature, returning a `Solution` of a model); it is called with
    `throw=False` so that a trial whose best restart hit the step limit still reports its
    error. Trials are `vmap`ped.
    """
    if Bs.ndim != 4 or Bs.shape[2:] != (3, 3) or sigmas.shape != Bs.shape:
        raise ValueError(
            f"`Bs` and `sigmas` must both have shape (t, n, 3, 3), got {Bs.shape}, {sigmas.shape}."
        )
    return fit_and_score_trials(
        fit, (Bs, sigmas), lambda model: stress_rmse(model, Bs_test, sigmas_test),
        key=key, num_restarts=num_restarts,
    )


def fit_and_score_trials(fit: Callable, data: tuple, score: Callable, *, key: PRNGKeyArray, num_restarts: int):
    """`vmap` over the leading (trial) axis of every array in `data`: fit one model per trial
    with `fit(*data_t, key=k_t, num_restarts=..., throw=False).value` and return
    `score(model)` per trial. Shared by the isotropic and transversely isotropic studies."""
    keys = jr.split(key, data[0].shape[0])

    def one(*args):
        *arrays, k = args
        return score(fit(*arrays, key=k, num_restarts=num_restarts, throw=False).value)

    return jax.vmap(one)(*data, keys)
