r"""Tensor kinematics: invariants of the Finger tensor and the isotropic tensor basis.

Frankel et al. (first seed paper), section 4.1: for a symmetric positive-definite
$B \in \mathbb{R}^{3\times3}$,

$$I_1 = \operatorname{tr} B,\quad I_2 = \tfrac12\big[(\operatorname{tr} B)^2 -
\operatorname{tr}(B^2)\big],\quad I_3 = \det B\qquad\text{(eq. 16)}$$

and the tensor basis $\{I, B, B^2\}$ of eq. 17. The invariants are computed from the
entries (not from eigenvalues), so they are polynomials in $B$ with finite gradients
everywhere, including at repeated eigenvalues.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

_HIGHEST = jax.lax.Precision.HIGHEST


def check_tensor(B: Float[ArrayLike, "3 3"], name: str = "B") -> Float[Array, "3 3"]:
    """Trace-time check that `B` is one 3x3 floating tensor (DESIGN rule 6, tier 1)."""
    B = jnp.asarray(B)
    if B.shape != (3, 3):
        raise ValueError(
            f"`{name}` must be one 3x3 tensor (vmap over a batch), got shape {B.shape}."
        )
    if not jnp.issubdtype(B.dtype, jnp.floating):
        B = B.astype(jnp.result_type(float))
    return B


def require_spd(
    B: Float[Array, "3 3"], name: str = "B", positive_definite: bool = True
) -> Float[Array, "3 3"]:
    """Run-time check (tier 2) that `B` is symmetric and (if `positive_definite`) positive definite."""
    scale = jnp.maximum(jnp.max(jnp.abs(B)), 1.0)
    tol = 100 * jnp.finfo(B.dtype).eps * scale
    asym = jnp.max(jnp.abs(B - B.T)) > tol
    B = eqx.error_if(
        B, asym, f"`{name}` is not symmetric; pass a symmetric tensor such as 0.5 * (B + B.T)."
    )
    if not positive_definite:
        return B
    Bs = 0.5 * (B + B.T)
    # Sylvester's criterion: leading principal minors positive.
    m1 = Bs[0, 0]
    m2 = Bs[0, 0] * Bs[1, 1] - Bs[0, 1] * Bs[1, 0]
    m3 = jnp.linalg.det(Bs)
    not_pd = (m1 <= 0) | (m2 <= 0) | (m3 <= 0)
    return eqx.error_if(
        B,
        not_pd,
        f"`{name}` is not positive definite; a Finger tensor B = F F^T needs det F != 0.",
    )


def invariants(B: Float[ArrayLike, "3 3"]) -> Float[Array, " 3"]:
    r"""Principal invariants $(I_1, I_2, I_3)$ of one tensor (eq. 16).

    Polynomial in the entries of $B$, hence smooth with finite gradients everywhere.
    """
    B = check_tensor(B)
    I1 = jnp.trace(B)
    I2 = 0.5 * (I1**2 - jnp.trace(jnp.matmul(B, B, precision=_HIGHEST)))
    I3 = jnp.linalg.det(B)
    return jnp.stack([I1, I2, I3])


def tensor_basis(B: Float[ArrayLike, "3 3"]) -> Float[Array, "3 3 3"]:
    r"""The isotropic tensor basis $\{I, B, B^2\}$ of eq. 17, stacked on the leading axis."""
    B = check_tensor(B)
    return jnp.stack([jnp.eye(3, dtype=B.dtype), B, jnp.matmul(B, B, precision=_HIGHEST)])


def expand(coefficients: Float[ArrayLike, " 3"], B: Float[ArrayLike, "3 3"]) -> Float[Array, "3 3"]:
    r"""$\sigma = c_0 I + c_1 B + c_2 B^2$ (eq. 17)."""
    c = jnp.asarray(coefficients)
    if c.shape != (3,):
        raise ValueError(f"`coefficients` must have shape (3,), got {c.shape}.")
    return jnp.tensordot(c, tensor_basis(B), axes=1, precision=_HIGHEST)


_UPPER = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))


def sym_to_vec(A: Float[ArrayLike, "3 3"]) -> Float[Array, " 6"]:
    """The 6 independent components (upper triangle: 11, 22, 33, 12, 13, 23) of a symmetric tensor."""
    A = check_tensor(A, "A")
    return jnp.stack([A[i, j] for i, j in _UPPER])


def vec_to_sym(v: Float[ArrayLike, " 6"]) -> Float[Array, "3 3"]:
    """Inverse of `sym_to_vec`."""
    v = jnp.asarray(v)
    if v.shape != (6,):
        raise ValueError(f"`v` must have shape (6,), got {v.shape}.")
    A = jnp.zeros((3, 3), v.dtype)
    for k, (i, j) in enumerate(_UPPER):
        A = A.at[i, j].set(v[k]).at[j, i].set(v[k])
    return A
