r"""Tensor kinematics: invariants of the Finger tensor and the isotropic tensor basis.

Frankel et al. (first seed paper), section 4.1: for a symmetric positive-definite
$B \in \mathbb{R}^{3\times3}$,

$$I_1 = \operatorname{tr} B,\quad I_2 = \tfrac12\big[(\operatorname{tr} B)^2 -
\operatorname{tr}(B^2)\big],\quad I_3 = \det B\qquad\text{(eq. 16)}$$

and the tensor basis $\{I, B, B^2\}$ of eq. 17. The invariants are computed from the
entries (not from eigenvalues), so they are polynomials in $B$ with finite gradients
everywhere, including at repeated eigenvalues.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import as_float_array, check_value, is_concrete

_HIGHEST = jax.lax.Precision.HIGHEST


def _got(x) -> str:
    """`", got [...]"` for a small concrete array (for messages); empty otherwise."""
    if is_concrete(x) and np.size(x) <= 9:
        return ", got " + np.array2string(np.asarray(x), precision=4, separator=", ").replace("\n", "")
    return ""


def check(x, bad, message: str, detail=None):
    """`check_value` whose message gains `detail()` (e.g. the received values) when the
    refusal is raised eagerly (under `jit` the values are not known when the message is built)."""
    if detail is not None and is_concrete(bad) and bool(np.any(np.asarray(bad))):
        message = message.format(got=detail())
    else:
        message = message.format(got="")
    return check_value(x, bad, message)


def check_finite_value(x, name: str, what: str = "entries"):
    """Tier 2: refuse NaN/inf anywhere in `x` (ValueError eagerly, `eqx.error_if` traced)."""
    return check(
        x,
        ~jnp.all(jnp.isfinite(x)),
        f"`{name}` contains NaN or inf{{got}}; all its {what} must be finite: clean or drop them.",
        lambda: _got(x),
    )


def check_tensor(B: Float[ArrayLike, "3 3"], name: str = "B") -> Float[Array, "3 3"]:
    """Trace-time check that `B` is one 3x3 real tensor (DESIGN rule 6, tier 1)."""
    B = jnp.asarray(B)
    if B.shape != (3, 3):
        raise ValueError(
            f"`{name}` must be one 3x3 tensor (vmap over a batch), got shape {B.shape}."
        )
    if jnp.issubdtype(B.dtype, jnp.floating):
        return B
    return as_float_array(B, name)


def check_vector(v: ArrayLike, name: str, size: int, what: str = "") -> Array:
    """Trace-time check that `v` is one real vector of shape `(size,)`."""
    v = jnp.asarray(v)
    if v.shape != (size,):
        hint = f" ({what})" if what else ""
        raise ValueError(f"`{name}` must have shape ({size},){hint}, got shape {v.shape}.")
    if jnp.issubdtype(v.dtype, jnp.floating):
        return v
    return as_float_array(v, name)


def _sym_tol(B):
    # Dtype-aware: 100 ulps of the tensor's scale (at least 1), so B = F @ F.T computed in
    # floating point passes, while a genuinely non-symmetric tensor does not.
    scale = jnp.maximum(jnp.max(jnp.abs(B)), 1.0)
    return 100 * jnp.finfo(B.dtype).eps * scale


def require_spd(
    B: Float[Array, "3 3"], name: str = "B", positive_definite: bool = True
) -> Float[Array, "3 3"]:
    r"""Run-time check (tier 2) that `B` is finite, symmetric and (if `positive_definite`)
    positive definite; returns `B` (thread it onward so the check is kept under `jit`).

    Symmetric means $\max|B - B^T| \le 100\,\epsilon \max(\max|B|, 1)$ ($\epsilon$ of `B`'s
    dtype). Positive definite means the pivots of $B = LDL^T$ (ratios of the leading
    principal minors) all exceed that tolerance, so singular and negative-determinant
    tensors are refused too.

    **Raises:** `ValueError` when `B` is concrete (an eager call); under `jit`/`vmap` an
    `eqx.EquinoxRuntimeError` with the same message (DESIGN rule 6, tier 2).
    """
    B = check_finite_value(B, name)
    tol = _sym_tol(B)
    B = check(
        B,
        ~(jnp.max(jnp.abs(B - B.T)) <= tol),
        f"`{name}` is not symmetric{{got}}; pass a symmetric tensor such as 0.5 * (B + B.T).",
        lambda: _got(B),
    )
    if not positive_definite:
        return B
    Bs = 0.5 * (B + B.T)
    # Leading principal minors; their ratios are the LDL^T pivots (Sylvester's criterion
    # with a tolerance, so a singular tensor with round-off-sized pivots is refused).
    m1 = Bs[0, 0]
    m2 = Bs[0, 0] * Bs[1, 1] - Bs[0, 1] * Bs[1, 0]
    m3 = jnp.linalg.det(Bs)
    pd = (m1 > tol) & (m2 > tol * m1) & (m3 > tol * m2)
    return check(
        B,
        ~pd,
        f"`{name}` is not positive definite{{got}}; a Finger or Cauchy-Green tensor "
        "(F F^T or F^T F) has positive eigenvalues, i.e. det F != 0.",
        lambda: _got(B) + f" (eigenvalues {np.linalg.eigvalsh(np.asarray(Bs))})",
    )


def require_symmetric(B: Float[Array, "3 3"], name: str = "B") -> Float[Array, "3 3"]:
    """`require_spd(B, name, positive_definite=False)`: finite and symmetric."""
    return require_spd(B, name, positive_definite=False)


def _invariants(B):
    I1 = jnp.trace(B)
    I2 = 0.5 * (I1**2 - jnp.trace(jnp.matmul(B, B, precision=_HIGHEST)))
    I3 = jnp.linalg.det(B)
    return jnp.stack([I1, I2, I3])


def _tensor_basis(B):
    return jnp.stack([jnp.eye(3, dtype=B.dtype), B, jnp.matmul(B, B, precision=_HIGHEST)])


def invariants(B: Float[ArrayLike, "3 3"]) -> Float[Array, " 3"]:
    r"""Principal invariants $(I_1, I_2, I_3)$ of one symmetric tensor (eq. 16).

    Polynomial in the entries of $B$, hence smooth with finite gradients everywhere.
    $B$ need not be positive definite (the isotropic tensor functions of section 4.3 take
    any symmetric argument); the hyperelastic functions (`cauchy_stress`, ...) require it.

    **Raises:** `ValueError` (trace time) for a shape other than `(3, 3)`; at run time
    (tier 2: `ValueError` eagerly, `EquinoxRuntimeError` under `jit`/`vmap`) if `B` has
    NaN/inf or is not symmetric (`require_spd`).
    """
    return _invariants(require_symmetric(check_tensor(B)))


def tensor_basis(B: Float[ArrayLike, "3 3"]) -> Float[Array, "3 3 3"]:
    r"""The isotropic tensor basis $\{I, B, B^2\}$ of eq. 17, stacked on the leading axis.

    **Raises:** as `invariants`.
    """
    return _tensor_basis(require_symmetric(check_tensor(B)))


def _expand(c, B):
    return jnp.tensordot(c, _tensor_basis(B), axes=1, precision=_HIGHEST)


def expand(coefficients: Float[ArrayLike, " 3"], B: Float[ArrayLike, "3 3"]) -> Float[Array, "3 3"]:
    r"""$\sigma = c_0 I + c_1 B + c_2 B^2$ (eq. 17).

    **Raises:** `ValueError` for `coefficients` not of shape `(3,)` or NaN/inf in them;
    as `invariants` for `B`.
    """
    c = check_finite_value(check_vector(coefficients, "coefficients", 3), "coefficients")
    B = require_symmetric(check_tensor(B))
    return _expand(c.astype(jnp.promote_types(c.dtype, B.dtype)), B)


_UPPER = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))


def _sym_to_vec(A):
    return jnp.stack([A[i, j] for i, j in _UPPER])


def _vec_to_sym(v):
    A = jnp.zeros((3, 3), v.dtype)
    for k, (i, j) in enumerate(_UPPER):
        A = A.at[i, j].set(v[k]).at[j, i].set(v[k])
    return A


def sym_to_vec(A: Float[ArrayLike, "3 3"]) -> Float[Array, " 6"]:
    """The 6 independent components (upper triangle: 11, 22, 33, 12, 13, 23) of a symmetric tensor.

    **Raises:** as `invariants` (a non-symmetric `A` would lose its lower triangle).
    """
    return _sym_to_vec(require_symmetric(check_tensor(A, "A"), "A"))


def vec_to_sym(v: Float[ArrayLike, " 6"]) -> Float[Array, "3 3"]:
    """Inverse of `sym_to_vec`.

    **Raises:** `ValueError` for a shape other than `(6,)`; NaN/inf in `v` (tier 2).
    """
    v = check_finite_value(check_vector(v, "v", 6), "v")
    return _vec_to_sym(v)
