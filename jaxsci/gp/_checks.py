"""Input validation for the GP routines (DESIGN rule 6, tiers 1 and 2)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu

from .._checks import check_nonempty, check_value, is_concrete
from .._misc import as_float_array, check_finite
from ..kernels import AbstractKernel

DEFAULT_NOISE = 1e-10
"""The paper's noise variance $\\varepsilon^2 = 10^{-10}$ (Frankel et al., section 3)."""


def check_kernel(kernel) -> AbstractKernel:
    if not isinstance(kernel, AbstractKernel):
        raise TypeError(
            f"`kernel` must be a jaxsci.kernels.AbstractKernel, got {type(kernel).__name__}."
        )
    return kernel


def check_kernel_values(kernel: AbstractKernel) -> AbstractKernel:
    """Tier 2: every floating-point leaf of the kernel (its stored log-hyperparameters) is
    finite. Constructors already refuse non-positive or infinite values; this catches
    kernels edited with `eqx.tree_at` or produced by an optimiser (a NaN step)."""
    params, static = eqx.partition(kernel, eqx.is_inexact_array)
    leaves = jtu.tree_flatten_with_path(params)[0]
    if not leaves:
        return kernel
    names = [type(kernel).__name__ + jtu.keystr(path) for path, _ in leaves]
    if is_concrete(params):
        for name, (_, leaf) in zip(names, leaves):
            check_value(leaf, ~jnp.isfinite(leaf), _nonfinite_hyperparameter(f"`{name}` is"))
        return kernel
    # traced: one run-time check for all leaves (each `error_if` costs a little in a jitted
    # gradient), naming them all
    bad = jnp.any(jnp.stack([~jnp.all(jnp.isfinite(leaf)) for _, leaf in leaves]))
    which = ", ".join(f"`{n}`" for n in names)
    params = check_value(params, bad, _nonfinite_hyperparameter(f"(one of {which}) is"))
    return eqx.combine(params, static)


def _nonfinite_hyperparameter(what: str) -> str:
    return (
        f"A kernel hyperparameter {what} NaN or inf. Rebuild the kernel from positive "
        "finite values (e.g. `ExpQuad(variance=1.0, lengthscale=1.0)`)."
    )


def _owner(tree, path):
    """The object holding the leaf at `path` (its parent in the pytree)."""
    node = tree
    for k in path[:-1]:
        if isinstance(k, jtu.GetAttrKey):
            node = getattr(node, k.name)
        elif isinstance(k, jtu.SequenceKey):
            node = node[k.idx]
        elif isinstance(k, jtu.DictKey):
            node = node[k.key]
        else:  # pragma: no cover - flattened index keys of custom nodes
            return None
    return node


def log_parameter_mask(tree) -> list[bool]:
    """For each inexact-array leaf of `tree` (in `jtu.tree_leaves` order of
    `eqx.partition(tree, eqx.is_inexact_array)[0]`): `True` if it is the logarithm of a
    positive hyperparameter (field named `log_*`), `False` if its owner declares the field
    unconstrained (listed in the class attribute `unconstrained_fields`, e.g. the
    coregionalisation matrix `W` or a mean function's coefficients).

    **Raises** `ValueError` for a leaf that is neither: `fit` draws starts log-uniformly in
    the prior box, which would make e.g. a raw `variance` start at `log(1e-5) = -11.5`.
    """
    params, _ = eqx.partition(tree, eqx.is_inexact_array)
    mask, bad = [], []
    for path, _leaf in jtu.tree_flatten_with_path(params)[0]:
        names = [k.name for k in path if isinstance(k, jtu.GetAttrKey)]
        last = path[-1] if path else None
        field = last.name if isinstance(last, jtu.GetAttrKey) else None
        owner = _owner(tree, path) if field is not None else None
        if names and names[-1].startswith("log_"):
            mask.append(True)
        elif field is not None and field in getattr(type(owner), "unconstrained_fields", ()):
            mask.append(False)
        else:
            mask.append(False)
            bad.append(type(tree).__name__ + jtu.keystr(path))
    if bad:
        raise ValueError(
            f"`fit` optimises every floating-point array of the kernel either as the logarithm "
            f"of a positive hyperparameter (fields named `log_*`) or as an unconstrained "
            f"parameter (fields listed in the class attribute `unconstrained_fields`), but "
            f"{', '.join(bad)} is not stored as a logarithm (its field name does not start "
            "with `log_`) and not declared unconstrained. Store a positive parameter as its "
            "logarithm in a field named `log_<name>` and use `jnp.exp(self.log_<name>)` in "
            "`evaluate` (as jaxsci.kernels do); declare a parameter of any sign with "
            "`unconstrained_fields: ClassVar[tuple[str, ...]] = ('<name>',)`; or, to keep it "
            "fixed, store it as a Python float (not fitted)."
        )
    return mask


def check_log_parameters(kernel: AbstractKernel) -> AbstractKernel:
    """Trace-time check that every hyperparameter `fit` optimises is either stored as a
    logarithm (`log_*` fields) or declared unconstrained (see `log_parameter_mask`)."""
    log_parameter_mask(kernel)
    return kernel


def cast_kernel(kernel: AbstractKernel, dtype) -> AbstractKernel:
    """Cast the kernel's floating leaves to the data dtype: dtype follows the inputs."""
    return jtu.tree_map(
        lambda x: x.astype(dtype) if eqx.is_inexact_array(x) else x, kernel
    )


def check_data(X, y, which=None, *, finite: bool = True):
    """Validate `X (n, d)`, `y (n,)` or `(n, p)` and `which (n,)`; common float dtype."""
    X = as_float_array(X, "X")
    y = as_float_array(y, "y")
    if X.ndim != 2:
        raise ValueError(
            f"`X` must have shape (n, d), got shape {X.shape}. Use `X[:, None]` for 1-D inputs."
        )
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"`y` must have shape (n,) or (n, p) with n = X.shape[0] = {X.shape[0]}, got "
            f"`X` shape {X.shape} and `y` shape {y.shape}."
        )
    check_nonempty(X, "X", what="training points")
    check_nonempty(X, "X", axis=1, what="input dimensions (columns)")
    if y.ndim == 2:
        check_nonempty(y, "y", axis=1, what="outputs (columns)")
    dtype = jnp.result_type(X.dtype, y.dtype)
    X, y = X.astype(dtype), y.astype(dtype)
    if finite:
        X = check_finite(X, "X")
        y = check_finite(y, "y")
    which = check_which(which, X, "which")
    return X, y, which


def check_which(which, X, name: str):
    """`which (n,)` integers: -1 for a function value, i in [0, d) for d/dx_i."""
    if which is None:
        return None
    which = jnp.asarray(which)
    if not jnp.issubdtype(which.dtype, jnp.integer):
        raise TypeError(f"`{name}` must be an integer array, got dtype {which.dtype}.")
    if which.shape != (X.shape[0],):
        raise ValueError(
            f"`{name}` must have shape (n,) = ({X.shape[0]},) matching the points, got shape "
            f"{which.shape}."
        )
    d = X.shape[1]
    return eqx.error_if(
        which,
        (which < -1) | (which >= d),
        f"`{name}` entries must be -1 (function value) or a partial-derivative index in "
        f"[0, {d}).",
    )


def check_noise(noise, dtype, n: int):
    """Noise variance: a positive scalar or a positive `(n,)` vector."""
    if isinstance(noise, (int, float)):
        if not noise > 0 or noise == float("inf"):
            raise ValueError(
                f"`noise` (the noise variance) must be positive and finite, got {noise}. "
                f"Use a small positive value such as {DEFAULT_NOISE} for noise-free data."
            )
        return jnp.asarray(noise, dtype)
    noise = as_float_array(noise, "noise").astype(dtype)
    if noise.ndim not in (0, 1) or (noise.ndim == 1 and noise.shape[0] != n):
        raise ValueError(
            f"`noise` must be a scalar or have shape (n,) = ({n},), got shape {noise.shape}."
        )
    if not isinstance(noise, jax.core.Tracer):
        if not bool(jnp.all((noise > 0) & jnp.isfinite(noise))):
            raise ValueError(f"`noise` must be positive and finite, got {noise}.")
        return noise
    return eqx.error_if(
        noise,
        ~jnp.all((noise > 0) & jnp.isfinite(noise)),
        "`noise` must be positive and finite; use a small positive value for noise-free data.",
    )


def check_jitter(jitter, dtype):
    """`jitter`: `None` (the dtype's default) or a finite number `>= 0` (tier 1 for Python
    numbers, tier 2 for arrays)."""
    if jitter is None:
        return None
    if isinstance(jitter, (int, float)):
        if not (0 <= jitter < float("inf")):
            raise ValueError(
                f"`jitter` (the floor on the diagonal term) must be finite and >= 0, got "
                f"{jitter}. Pass None for the default ({1e-10} in float64)."
            )
        return jitter
    jitter = as_float_array(jitter, "jitter").astype(dtype)
    if jitter.ndim != 0:
        raise ValueError(f"`jitter` must be a scalar, got shape {jitter.shape}.")
    return check_value(
        jitter,
        ~((jitter >= 0) & jnp.isfinite(jitter)),
        "`jitter` (the floor on the diagonal term) must be finite and >= 0; pass None for the "
        "default.",
    )
