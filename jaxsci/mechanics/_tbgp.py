r"""Tensor-basis GP (TBGP) and the component-wise GP baseline (Frankel et al., section 4).

**TBGP** (section 4.2): a single GP over the invariants $(I_1, I_2, I_3)$ of $B$ (eq. 16)
predicting the three coefficients $(c_0, c_1, c_2)$ of $\sigma = c_0 I + c_1 B + c_2 B^2$
(eq. 17), extracted from the data by eqs. 21-25. Rotation equivariance
$R f(B) R^T = f(R B R^T)$ (eq. 20) holds by construction.

**Component GP** (section 2 / 4.3 baseline): one GP from the 6 independent components of
$B$ to the 6 components of $\sigma$; not rotation-equivariant.

Both share one kernel across outputs, as the paper does. Predictive variances: the outputs
of a shared-kernel GP have the same posterior variance $v(x)$, so for the TBGP
$\operatorname{Var}[\sigma_{ij}] = v \sum_k (A_k)_{ij}^2$ with $A_k \in \{I, B, B^2\}$.

**The model and fit contract** (all of `jaxsci.mechanics`' GPs): a fitted model is called on
one deformation (`model(B)`, or `model(C, g)` for the transversely isotropic ones) and returns
`(mean, var)`, the predicted stress `(3, 3)` and its component-wise posterior variance
`(3, 3)`. A fit (`fit_tbgp`, `fit_component_gp`, `fit_strain_energy_gp`,
`fit_transverse_tbgp`, `fit_transverse_component_gp`) returns a `jaxsci.Solution` whose
`value` is the model, with `result`/`stats` of `jaxsci.gp.fit` (the GP is factorised once,
inside `gp.fit`); `fit_hyperparameters=False` keeps the kernel's hyperparameters and only
conditions on the data, and so does `key=None` (the default).
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .. import gp
from .._checks import as_float_array, check_nonempty
from .._solution import Solution
from ..kernels import AbstractKernel, SquaredExponential
from ._coefficients import _extract_coefficients
from ._kinematics import (
    _invariants,
    _sym_to_vec,
    _tensor_basis,
    _vec_to_sym,
    check_tensor,
    require_spd,
    require_symmetric,
)


def check_batch(X, name: str, inner: tuple[int, ...], what: str):
    """Tier 1: `X` has shape `(n, *inner)` with `n >= 1`, floating dtype."""
    X = jnp.asarray(X)
    if X.ndim != 1 + len(inner) or X.shape[1:] != inner:
        want = ", ".join(("n",) + tuple(str(i) for i in inner))
        raise ValueError(f"`{name}` must have shape ({want}) ({what}), got {X.shape}.")
    check_nonempty(X, name, what=what)
    return as_float_array(X, name) if not jnp.issubdtype(X.dtype, jnp.floating) else X


def _check_pairs(Bs, sigmas, positive_definite=False):
    Bs = check_batch(Bs, "Bs", (3, 3), "deformation tensors")
    sigmas = jnp.asarray(sigmas)
    if sigmas.shape != Bs.shape:
        raise ValueError(
            f"`sigmas` must match `Bs` with shape {Bs.shape}, got {sigmas.shape}."
        )
    sigmas = check_batch(sigmas, "sigmas", (3, 3), "stresses")
    dtype = jnp.promote_types(Bs.dtype, sigmas.dtype)
    Bs, sigmas = Bs.astype(dtype), sigmas.astype(dtype)
    # Tier-2 checks: every B finite and symmetric (positive definite where the model needs
    # sqrt(I3)); every sigma finite and symmetric (its antisymmetric part would be dropped).
    Bs = jax.vmap(lambda B: require_spd(B, "Bs", positive_definite))(Bs)
    sigmas = jax.vmap(lambda S: require_symmetric(S, "sigmas"))(sigmas)
    return Bs, sigmas


def key_none_conditions(fit):
    """Decorator (outside `eqx.filter_jit`): `key=None` becomes `fit_hyperparameters=False`
    before tracing, so a fit without a key conditions only and reuses the compiled
    condition-only program instead of compiling another one."""

    @functools.wraps(fit)
    def wrapper(*args, key=None, fit_hyperparameters=True, **kwargs):
        if key is None:
            fit_hyperparameters = False
        return fit(*args, key=key, fit_hyperparameters=fit_hyperparameters, **kwargs)

    return wrapper


def fit_gp_model(model_cls, kernel, X, Y, *, key, num_restarts, noise, fit_hyperparameters, throw, which=None):
    """`gp.fit` (or conditioning only), its posterior wrapped in `model_cls`: a `Solution[model]`
    with `gp.fit`'s result code and stats.

    `key=None` means "condition only" (as `fit_hyperparameters=False`), decided here so that
    it does not depend on how `gp.fit` treats a missing key."""
    kernel = SquaredExponential() if kernel is None else kernel
    if key is None:
        fit_hyperparameters = False
    sol = gp.fit(
        kernel, X, Y, key=key, which=which, num_restarts=num_restarts, noise=noise,
        fit_hyperparameters=fit_hyperparameters, throw=throw,
    )
    return Solution(model_cls(sol.value), sol.result, sol.stats, sol.history, sol.state)


def check_posterior(posterior, model: str, d: int, p: int | None, inputs: str, outputs: str, fit: str):
    """Tier 1 (`__check_init__` of every mechanics GP model): `posterior` is a
    `gp.Posterior` over `d` inputs with `p` outputs (`None`: one output, weights `(n,)`).

    A posterior over other inputs or outputs would fail deep inside `gp.predict` with a
    message about `Xs`, or (too few outputs) index past them silently."""
    if not isinstance(posterior, gp.Posterior):
        raise TypeError(
            f"{model}: `posterior` must be a jaxsci.gp.Posterior over the {inputs}, got "
            f"{type(posterior).__name__}; build the model with `{fit}(...).value`."
        )
    X, w = posterior.X, posterior.weights
    x_shape, w_shape = getattr(X, "shape", None), getattr(w, "shape", None)
    if x_shape is None or len(x_shape) != 2 or x_shape[1] != d:
        raise ValueError(
            f"{model}: `posterior` must be conditioned on {d} inputs (the {inputs}), i.e. "
            f"training points `X` of shape (n, {d}), got {x_shape}; build the model with "
            f"`{fit}(...).value`."
        )
    want = (x_shape[0],) if p is None else (x_shape[0], p)
    if w_shape != want:
        got = "one output" if w_shape is not None and len(w_shape) == 1 else (
            f"{w_shape[1]} outputs" if w_shape is not None and len(w_shape) == 2 else "")
        raise ValueError(
            f"{model}: `posterior` must predict {outputs}, i.e. weights of shape "
            f"{want}, got {w_shape}{f' ({got})' if got else ''}; build the model with "
            f"`{fit}(...).value`."
        )


class TensorBasisGP(eqx.Module):
    """A fitted TBGP: a GP posterior from invariants `(3,)` to coefficients `(3,)`.

    Built by `fit_tbgp`; by hand, `posterior` must be a `jaxsci.gp.Posterior` with training
    points `(n, 3)` and weights `(n, 3)` (else `TypeError`/`ValueError` at construction)."""

    posterior: gp.Posterior

    def __check_init__(self):
        check_posterior(self.posterior, "TensorBasisGP", 3, 3, "invariants (I1, I2, I3)",
                        "the 3 coefficients (c0, c1, c2)", "fit_tbgp")

    def coefficients(self, B: Float[ArrayLike, "3 3"]) -> tuple[Float[Array, " 3"], Float[Array, ""]]:
        """Predicted coefficients `(3,)` and their (shared) posterior variance at one `B`.

        **Raises:** as `__call__`."""
        return self._coefficients(require_symmetric(check_tensor(B)))

    def _coefficients(self, B):
        mean, var = gp.predict(self.posterior, _invariants(B)[None, :])
        return mean[0], var[0]

    def __call__(self, B: Float[ArrayLike, "3 3"]) -> tuple[Float[Array, "3 3"], Float[Array, "3 3"]]:
        """Predicted stress `(3, 3)` (eq. 17) and its component-wise variance at one `B`.

        **Raises:** `ValueError` (trace time) for a shape other than `(3, 3)`; at run time
        (tier 2) if `B` has NaN/inf or is not symmetric (`require_spd`)."""
        B = require_symmetric(check_tensor(B))
        c, v = self._coefficients(B)
        A = _tensor_basis(B)
        return jnp.tensordot(c, A, axes=1), v * jnp.sum(A * A, axis=0)


@key_none_conditions
@eqx.filter_jit
def fit_tbgp(
    Bs: Float[ArrayLike, "n 3 3"],
    sigmas: Float[ArrayLike, "n 3 3"],
    *,
    key: PRNGKeyArray | None = None,
    kernel: AbstractKernel | None = None,
    fit_hyperparameters: bool = True,
    num_restarts: int = 20,
    noise: float = gp.DEFAULT_NOISE,
    throw: bool = True,
) -> Solution:
    r"""Fit a TBGP to `(B, sigma)` pairs (section 4.2).

    Coefficients are extracted per pair (eqs. 21-25), the GP inputs are the invariants
    (eq. 16), and the hyperparameters maximise the summed log marginal likelihood of the
    three coefficient outputs (`jaxsci.gp.fit`).

    **Arguments:**

    - `Bs (n, 3, 3)`, `n >= 1`: Finger tensors, or any symmetric tensors (section 4.3 fits
      the matrix exponential of indefinite ones); `sigmas (n, 3, 3)`: their (symmetric)
      Cauchy stresses.
    - `key`: PRNG key for the random L-BFGS starts; `None` (the default) conditions only,
      as `fit_hyperparameters=False`.
    - `kernel`: the starting kernel, default the paper's squared exponential (eq. 5).
    - `fit_hyperparameters`: `False` keeps `kernel`'s hyperparameters and only conditions.
    - `num_restarts`: L-BFGS starts (paper: 20); `noise`: $\varepsilon^2$, default $10^{-10}$.
    - `throw`: raise at run time if the fit failed (else inspect `.result`).

    **Returns:** a `jaxsci.Solution` with `value` a `TensorBasisGP`, and `result` and
    `stats` of `jaxsci.gp.fit`.

    **Raises:** `ValueError` at trace time for shapes other than `(n, 3, 3)`, mismatched
    shapes or `n = 0`; at run time (`EquinoxRuntimeError`) for NaN/inf in `Bs` or `sigmas`,
    or a non-symmetric tensor among them; `jaxsci.gp.fit`'s own checks and result codes.
    """
    Bs, sigmas = _check_pairs(Bs, sigmas)
    X = jax.vmap(_invariants)(Bs)
    C = jax.vmap(_extract_coefficients)(Bs, sigmas)
    return fit_gp_model(
        TensorBasisGP, kernel, X, C, key=key, num_restarts=num_restarts, noise=noise,
        fit_hyperparameters=fit_hyperparameters, throw=throw,
    )


class ComponentGP(eqx.Module):
    """A fitted component-wise GP: 6 components of `B` -> 6 components of `sigma`.

    Built by `fit_component_gp`; by hand, `posterior` must be a `jaxsci.gp.Posterior` with
    training points `(n, 6)` and weights `(n, 6)` (else `TypeError`/`ValueError`)."""

    posterior: gp.Posterior

    def __check_init__(self):
        check_posterior(self.posterior, "ComponentGP", 6, 6,
                        "6 components of B (sym_to_vec)", "the 6 components of sigma",
                        "fit_component_gp")

    def __call__(self, B: Float[ArrayLike, "3 3"]) -> tuple[Float[Array, "3 3"], Float[Array, "3 3"]]:
        """Predicted stress `(3, 3)` and component-wise variance at one `B`.

        **Raises:** as `TensorBasisGP.__call__`."""
        B = require_symmetric(check_tensor(B))
        mean, var = gp.predict(self.posterior, _sym_to_vec(B)[None, :])
        return _vec_to_sym(mean[0]), jnp.full((3, 3), var[0])


@key_none_conditions
@eqx.filter_jit
def fit_component_gp(
    Bs: Float[ArrayLike, "n 3 3"],
    sigmas: Float[ArrayLike, "n 3 3"],
    *,
    key: PRNGKeyArray | None = None,
    kernel: AbstractKernel | None = None,
    fit_hyperparameters: bool = True,
    num_restarts: int = 20,
    noise: float = gp.DEFAULT_NOISE,
    throw: bool = True,
) -> Solution:
    """Fit the component-wise baseline GP (6 upper-triangle components in and out).

    Arguments as `fit_tbgp`. **Returns:** a `jaxsci.Solution` with `value` a `ComponentGP`.
    """
    Bs, sigmas = _check_pairs(Bs, sigmas)
    X = jax.vmap(_sym_to_vec)(Bs)
    Y = jax.vmap(_sym_to_vec)(sigmas)
    return fit_gp_model(
        ComponentGP, kernel, X, Y, key=key, num_restarts=num_restarts, noise=noise,
        fit_hyperparameters=fit_hyperparameters, throw=throw,
    )
