r"""Transversely isotropic GPs: the TI tensor-basis GP (invariants -> coefficients of eq. 45)
and the component-GP baseline, their fits, fibre/deformation sampling and the accuracy
studies (Frankel et al., first seed paper, section 7, Fig. 9). The kinematics, basis and
coefficient extraction are in `_transverse`.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .. import gp
from .._checks import require_positive_int
from .._misc import as_float_array
from .._solution import Solution
from ..kernels import AbstractKernel
from ._kinematics import _sym_to_vec, _vec_to_sym, require_spd, require_symmetric
from ._sampling import _dtype, sample_finger_tensor
from ._study import _check_test_set, _check_trials, check_trial_sharding, fit_and_score_trials
from ._tbgp import check_batch, check_posterior, fit_gp_model, key_none_conditions
from ._transverse import (
    _HIGHEST,
    _basis,
    _checked_pair,
    _transverse_extract_coefficients,
    _transverse_invariants,
    require_unit,
)


def _check_triples(Cs, gs, Ss):
    Cs = check_batch(Cs, "Cs", (3, 3), "right Cauchy-Green tensors")
    gs, Ss = jnp.asarray(gs), jnp.asarray(Ss)
    if gs.shape != (Cs.shape[0], 3):
        raise ValueError(f"`gs` must have shape ({Cs.shape[0]}, 3) to match `Cs`, got {gs.shape}.")
    if Ss.shape != Cs.shape:
        raise ValueError(f"`Ss` must match `Cs` with shape {Cs.shape}, got {Ss.shape}.")
    Cs, gs, Ss = (as_float_array(a, n) for a, n in ((Cs, "Cs"), (gs, "gs"), (Ss, "Ss")))
    dtype = jnp.result_type(Cs.dtype, gs.dtype, Ss.dtype)
    Cs, gs, Ss = Cs.astype(dtype), gs.astype(dtype), Ss.astype(dtype)
    Cs = jax.vmap(lambda C: require_spd(C, "Cs"))(Cs)
    gs = jax.vmap(lambda g: require_unit(g, "gs"))(gs)
    Ss = jax.vmap(lambda S: require_symmetric(S, "Ss"))(Ss)
    return Cs, gs, Ss


class TransverseTensorBasisGP(eqx.Module):
    """A fitted TI TBGP: a GP posterior from the invariants `(5,)` to the coefficients `(6,)`.

    Built by `fit_transverse_tbgp`; by hand, `posterior` must be a `jaxsci.gp.Posterior`
    with training points `(n, 5)` and weights `(n, 6)` (else `TypeError`/`ValueError`)."""

    posterior: gp.Posterior

    def __check_init__(self):
        check_posterior(self.posterior, "TransverseTensorBasisGP", 5, 6,
                        "5 invariants (transverse_invariants)", "the 6 coefficients of eq. 45",
                        "fit_transverse_tbgp")

    def coefficients(
        self, C: Float[ArrayLike, "3 3"], g: Float[ArrayLike, " 3"]
    ) -> tuple[Float[Array, " 6"], Float[Array, ""]]:
        """Predicted coefficients `(6,)` of eq. 45 and their shared posterior variance.

        **Raises:** as `__call__`."""
        return self._coefficients(*_checked_pair(C, g, positive_definite=True))

    def _coefficients(self, C, g):
        mean, var = gp.predict(self.posterior, _transverse_invariants(C, g)[None, :])
        return mean[0], var[0]

    def __call__(
        self, C: Float[ArrayLike, "3 3"], g: Float[ArrayLike, " 3"]
    ) -> tuple[Float[Array, "3 3"], Float[Array, "3 3"]]:
        r"""Predicted $S$ `(3, 3)` (eq. 45) and its component-wise variance
        $v\sum_k (A_k)_{ij}^2$ at one $(C, g)$.

        **Raises:** `ValueError` (trace time) for shapes other than `(3, 3)` / `(3,)`; at run
        time (tier 2) NaN/inf, a `C` that is not symmetric positive definite (a right
        Cauchy-Green tensor, as the fit requires) or a non-unit `g`."""
        C, g = _checked_pair(C, g, positive_definite=True)
        c, v = self._coefficients(C, g)
        A = _basis(C, jnp.outer(g, g))
        return jnp.tensordot(c, A, axes=1, precision=_HIGHEST), v * jnp.sum(A * A, axis=0)


@key_none_conditions
@eqx.filter_jit
def fit_transverse_tbgp(
    Cs: Float[ArrayLike, "n 3 3"],
    gs: Float[ArrayLike, "n 3"],
    Ss: Float[ArrayLike, "n 3 3"],
    *,
    key: PRNGKeyArray | None = None,
    kernel: AbstractKernel | None = None,
    fit_hyperparameters: bool = True,
    num_restarts: int = 20,
    noise: float = gp.DEFAULT_NOISE,
    throw: bool = True,
) -> Solution:
    r"""Fit a transversely isotropic TBGP to `(C, g, S)` triples (section 7, eqs. 44-45).

    Coefficients are extracted per triple (`transverse_extract_coefficients`), the GP
    inputs are the five invariants, and the hyperparameters maximise the summed log
    marginal likelihood of the six outputs (`jaxsci.gp.fit`). Every $C$ is checked
    symmetric positive definite, every $S$ symmetric and every $g$ unit at run time.

    **Arguments:**

    - `Cs (n, 3, 3)`: right Cauchy-Green tensors; `gs (n, 3)`: unit fibre directions;
      `Ss (n, 3, 3)`: second Piola-Kirchhoff stresses.
    - `key`, `kernel`, `fit_hyperparameters`, `num_restarts`, `noise`, `throw`: as in
      `fit_tbgp` (default kernel eq. 5, noise $10^{-10}$; `fit_hyperparameters=False`
      or `key=None` only conditions).

    **Returns:** a `jaxsci.Solution` with `value` a `TransverseTensorBasisGP`, and `result`
    and `stats` of `jaxsci.gp.fit`.

    **Raises:** `ValueError` at trace time for wrong or mismatched shapes or `n = 0`; at run
    time (`EquinoxRuntimeError`) for NaN/inf, a `C` that is not symmetric positive definite,
    a non-unit `g` or a non-symmetric `S`.
    """
    Cs, gs, Ss = _check_triples(Cs, gs, Ss)
    X = jax.vmap(_transverse_invariants)(Cs, gs)
    Y = jax.vmap(_transverse_extract_coefficients)(Cs, gs, Ss)
    return fit_gp_model(
        TransverseTensorBasisGP, kernel, X, Y, key=key, num_restarts=num_restarts, noise=noise,
        fit_hyperparameters=fit_hyperparameters, throw=throw,
    )


def _component_input(C, g):
    return jnp.concatenate([_sym_to_vec(C), _sym_to_vec(jnp.outer(g, g))])


class TransverseComponentGP(eqx.Module):
    """Component-wise baseline: 6 components of `C` and 6 of `G` -> 6 components of `S`.

    Built by `fit_transverse_component_gp`; by hand, `posterior` must be a
    `jaxsci.gp.Posterior` with training points `(n, 12)` and weights `(n, 6)` (else
    `TypeError`/`ValueError`)."""

    posterior: gp.Posterior

    def __check_init__(self):
        check_posterior(self.posterior, "TransverseComponentGP", 12, 6,
                        "6 components of C and 6 of G = g g^T", "the 6 components of S",
                        "fit_transverse_component_gp")

    def __call__(
        self, C: Float[ArrayLike, "3 3"], g: Float[ArrayLike, " 3"]
    ) -> tuple[Float[Array, "3 3"], Float[Array, "3 3"]]:
        """Predicted `S (3, 3)` and component-wise variance at one `(C, g)`.

        **Raises:** as `TransverseTensorBasisGP.__call__` (`C` symmetric positive definite,
        `g` a unit vector)."""
        C, g = _checked_pair(C, g, positive_definite=True)
        mean, var = gp.predict(self.posterior, _component_input(C, g)[None, :])
        return _vec_to_sym(mean[0]), jnp.full((3, 3), var[0])


@key_none_conditions
@eqx.filter_jit
def fit_transverse_component_gp(
    Cs: Float[ArrayLike, "n 3 3"],
    gs: Float[ArrayLike, "n 3"],
    Ss: Float[ArrayLike, "n 3 3"],
    *,
    key: PRNGKeyArray | None = None,
    kernel: AbstractKernel | None = None,
    fit_hyperparameters: bool = True,
    num_restarts: int = 20,
    noise: float = gp.DEFAULT_NOISE,
    throw: bool = True,
) -> Solution:
    """Fit the component-wise baseline for TI data (12 inputs: `C` and `G = g g^T`; 6 outputs).

    Arguments as `fit_transverse_tbgp`. **Returns:** a `jaxsci.Solution` with `value` a
    `TransverseComponentGP`.
    """
    Cs, gs, Ss = _check_triples(Cs, gs, Ss)
    X = jax.vmap(_component_input)(Cs, gs)
    Y = jax.vmap(_sym_to_vec)(Ss)
    return fit_gp_model(
        TransverseComponentGP, kernel, X, Y, key=key, num_restarts=num_restarts, noise=noise,
        fit_hyperparameters=fit_hyperparameters, throw=throw,
    )


# ----------------------------------------------------------------------------- data, studies


def sample_fibre_direction(*, key: PRNGKeyArray, dtype=None) -> Float[Array, " 3"]:
    """A unit vector uniform on the sphere (normalised Gaussian).

    **Raises:** `TypeError` for a non-floating `dtype`."""
    dtype = _dtype(dtype)
    v = jr.normal(key, (3,), dtype)
    return v / jnp.linalg.norm(v)


def sample_transverse_deformation(
    *, key: PRNGKeyArray, low: float = 1.0, high: float = 1.5, dtype=None
) -> tuple[Float[Array, "3 3"], Float[Array, " 3"]]:
    r"""$(C, g)$ with $C = F^T F$, $F = R U$, $U = Q\operatorname{diag}(\sqrt{\lambda})Q^T$:
    $C = Q\operatorname{diag}(\lambda)Q^T$, $Q$ Haar on SO(3), $\lambda_i \sim U[$`low`,
    `high`$]$ (the law of $B$ in eqs. 42-43, reused via `sample_finger_tensor`), and $g$
    uniform on the sphere, independent of $C$."""
    kc, kg = jr.split(key)
    C = sample_finger_tensor(key=kc, low=low, high=high, dtype=dtype)
    return C, sample_fibre_direction(key=kg, dtype=C.dtype)


def sample_transverse_deformations(
    n: int, *, key: PRNGKeyArray, low: float = 1.0, high: float = 1.5, dtype=None
) -> tuple[Float[Array, "n 3 3"], Float[Array, "n 3"]]:
    """`n` independent `sample_transverse_deformation` draws: `(Cs (n, 3, 3), gs (n, 3))`.

    **Raises:** as `sample_finger_tensor`; `n` must be a Python int `>= 0`."""
    n = require_positive_int(n, "n", minimum=0)
    return jax.vmap(lambda k: sample_transverse_deformation(key=k, low=low, high=high, dtype=dtype))(
        jr.split(key, n)
    )


def transverse_stress_rmse(
    model, Cs: Float[Array, "m 3 3"], gs: Float[Array, "m 3"], Ss: Float[Array, "m 3 3"]
) -> Float[Array, ""]:
    r"""RMSE over the 6 independent components of $S$ at `m` test points (mean prediction of
    a `TransverseTensorBasisGP` or `TransverseComponentGP`).

    **Raises:** `ValueError` (trace time) unless the shapes are `(m, 3, 3)`, `(m, 3)`,
    `(m, 3, 3)` with `m >= 1`; at run time NaN/inf in `Ss`, and the model's checks."""
    Cs, gs, Ss = _check_test_set(
        (Cs, gs, Ss), ("Cs", "gs", "Ss"), ((3, 3), (3,), (3, 3)), ("test tensors", "fibre directions", "test stresses")
    )
    P = jax.vmap(lambda C, g: model(C, g)[0])(Cs, gs)
    d = jax.vmap(_sym_to_vec)(P - Ss)
    return jnp.sqrt(jnp.mean(d * d))


@eqx.filter_jit
def transverse_stress_rmse_trials(
    fit: Callable,
    Cs: Float[Array, "t n 3 3"],
    gs: Float[Array, "t n 3"],
    Ss: Float[Array, "t n 3 3"],
    Cs_test: Float[Array, "m 3 3"],
    gs_test: Float[Array, "m 3"],
    Ss_test: Float[Array, "m 3 3"],
    *,
    key: PRNGKeyArray,
    num_restarts: int = 20,
    sharding: jax.sharding.NamedSharding | None = None,
) -> Float[Array, " t"]:
    """Fit `t` independent models (`fit_transverse_tbgp` or `fit_transverse_component_gp`,
    called with `throw=False`) under one `vmap` and return their test RMSEs `(t,)`;
    `sharding` splits the trials over devices as in `stress_rmse_trials`.

    **Raises:** as `stress_rmse_trials` (shapes `(t, n, 3, 3)`, `(t, n, 3)`, `(t, n, 3, 3)`,
    and `sharding`)."""
    Cs, gs, Ss = _check_trials((Cs, gs, Ss), ("Cs", "gs", "Ss"), ((3, 3), (3,), (3, 3)))
    check_trial_sharding(sharding, Cs.shape[0])
    Cs_test, gs_test, Ss_test = _check_test_set(
        (Cs_test, gs_test, Ss_test), ("Cs_test", "gs_test", "Ss_test"), ((3, 3), (3,), (3, 3)),
        ("test tensors", "fibre directions", "test stresses"),
    )
    return fit_and_score_trials(
        fit, (Cs, gs, Ss), lambda model: transverse_stress_rmse(model, Cs_test, gs_test, Ss_test),
        key=key, num_restarts=num_restarts, sharding=sharding,
    )
