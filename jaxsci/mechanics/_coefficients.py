r"""Tensor-basis coefficients from $(B, \sigma)$ pairs (Frankel et al., eqs. 21-25).

$B$ and $\sigma$ are coaxial for an isotropic material, $B = Q \Lambda_B Q^T$,
$\sigma = Q \Lambda_\sigma Q^T$ (eqs. 21-22), and the coefficients solve the Vandermonde
system $\lambda_{\sigma i} = c_0 + c_1 \lambda_{Bi} + c_2 \lambda_{Bi}^2$ (eq. 23): the
quadratic $p(\lambda) = c_0 + c_1\lambda + c_2\lambda^2$ interpolates the stress eigenvalues at
the Finger eigenvalues.

We solve eq. 23 in Newton's divided-difference form on the sorted eigenvalues
$\lambda_1 \le \lambda_2 \le \lambda_3$:

$$p(\lambda) = s_1 + s_{[12]}(\lambda - \lambda_1) + s_{[123]}(\lambda-\lambda_1)(\lambda-\lambda_2),$$

which never forms the Vandermonde matrix. For repeated eigenvalues the paper replaces the
redundant rows by $p'(\lambda_1) = c_1 + 2\lambda_1 c_2 = 0$ (eq. 24) and additionally
$c_2 = 0$ (eq. 25); in divided-difference form these are exactly the confluent values
$s_{[12]} = 0$ (or $s_{[23]} = 0$) and $s_{[123]} = 0$. To stay bounded and smooth as two
eigenvalues approach each other we use the regularised divided difference

$$s_{[ij]} = \frac{(s_j - s_i)(\lambda_j - \lambda_i)}{(\lambda_j - \lambda_i)^2 + \tau^2},$$

which equals the exact quotient when $|\lambda_j - \lambda_i| \gg \tau$ and tends to the
paper's condition (0) when the gap vanishes. $\tau$ defaults to $\sqrt{\epsilon_{mach}}$
times the eigenvalue scale.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._kinematics import _got, check, check_finite_value, check_tensor, require_symmetric

_HIGHEST = jax.lax.Precision.HIGHEST


def _dd(si, sj, li, lj, tau):
    gap = lj - li
    return (sj - si) * gap / (gap * gap + tau * tau)


def _check_tau(tau, dtype):
    """`tau` must be positive and finite (tau = 0 divides by zero at repeated eigenvalues)."""
    tau = jnp.asarray(tau, dtype)
    if tau.ndim != 0:
        raise ValueError(f"`tau` must be a scalar, got shape {tau.shape}.")
    return check(
        tau,
        ~(jnp.isfinite(tau) & (tau > 0)),
        "`tau` (the divided-difference regulariser) must be positive and finite{got}; "
        "leave it None for the default sqrt(eps) * max(|lambda|, 1).",
        lambda: _got(tau),
    )


def _coefficients_from_eigenvalues(lam, s, tau):
    if tau is None:
        tau = jnp.sqrt(jnp.finfo(lam.dtype).eps) * jnp.maximum(jnp.max(jnp.abs(lam)), 1.0)
    l1, l2, l3 = lam
    s1, s2, s3 = s
    f12 = _dd(s1, s2, l1, l2, tau)
    f23 = _dd(s2, s3, l2, l3, tau)
    f123 = _dd(f12, f23, l1, l3, tau)
    c2 = f123
    c1 = f12 - f123 * (l1 + l2)
    c0 = s1 - f12 * l1 + f123 * l1 * l2
    return jnp.stack([c0, c1, c2])


def coefficients_from_eigenvalues(
    lam: Float[ArrayLike, " 3"], s: Float[ArrayLike, " 3"], *, tau: float | None = None
) -> Float[Array, " 3"]:
    r"""$(c_0, c_1, c_2)$ with $p(\lambda_i) = s_i$ (eq. 23), repeated roots per eqs. 24-25.

    `lam` must be sorted ascending (as `jnp.linalg.eigh` returns it); `s` are the matching
    output eigenvalues. `tau`: regularisation of the divided differences (see module doc).

    **Raises:** `ValueError` (trace time) for shapes other than `(3,)`; at run time (tier 2)
    NaN/inf in `lam` or `s`, `lam` not sorted ascending, `tau` not positive and finite.
    """
    lam = jnp.asarray(lam)
    s = jnp.asarray(s)
    if lam.shape != (3,) or s.shape != (3,):
        raise ValueError(f"`lam` and `s` must have shape (3,), got {lam.shape} and {s.shape}.")
    if not jnp.issubdtype(lam.dtype, jnp.floating):
        lam = lam.astype(jnp.result_type(float))
    lam = check_finite_value(lam, "lam")
    s = check_finite_value(s, "s")
    lam = check(
        lam,
        ~((lam[0] <= lam[1]) & (lam[1] <= lam[2])),
        "`lam` must be sorted ascending{got}; sort the eigenvalues (and `s` with them), "
        "e.g. with jnp.argsort, or take them from jnp.linalg.eigh.",
        lambda: _got(lam),
    )
    if tau is not None:
        tau = _check_tau(tau, lam.dtype)
    return _coefficients_from_eigenvalues(lam, s, tau)


def _extract_coefficients(B, sigma, tau=None):
    lam, Q = jnp.linalg.eigh(0.5 * (B + B.T))
    S = jnp.matmul(Q.T, jnp.matmul(0.5 * (sigma + sigma.T), Q, precision=_HIGHEST), precision=_HIGHEST)
    return _coefficients_from_eigenvalues(lam, jnp.diagonal(S), tau)


def extract_coefficients(
    B: Float[ArrayLike, "3 3"], sigma: Float[ArrayLike, "3 3"], *, tau: float | None = None
) -> Float[Array, " 3"]:
    r"""Coefficients $c$ with $\sigma = c_0 I + c_1 B + c_2 B^2$ for one pair (eqs. 21-25).

    The stress eigenvalues are taken in $B$'s eigenbasis, $s_i = q_i^T \sigma q_i$, which is
    well defined even when $B$ has repeated eigenvalues (any basis of the repeated
    eigenspace gives the same $s_i$ for a coaxial $\sigma$). Pointwise: vmap over pairs.

    **Raises:** `ValueError` (trace time) for shapes other than `(3, 3)`; at run time
    (tier 2: `ValueError` eagerly, `EquinoxRuntimeError` under `jit`/`vmap`) NaN/inf in or
    asymmetry of `B` or `sigma`, `tau` not positive and finite. `B` need not be positive
    definite (section 4.3 extracts the matrix exponential of indefinite matrices).
    """
    B = require_symmetric(check_tensor(B, "B"), "B")
    sigma = require_symmetric(check_tensor(sigma, "sigma"), "sigma").astype(B.dtype)
    if tau is not None:
        tau = _check_tau(tau, B.dtype)
    return _extract_coefficients(B, sigma, tau)


def isotropic_function(
    fn, B: Float[ArrayLike, "3 3"]
) -> Float[Array, "3 3"]:
    r"""Apply a scalar function to the eigenvalues: $Q \operatorname{diag}(fn(\lambda)) Q^T$.

    E.g. `isotropic_function(jnp.exp, B)` is the matrix exponential of section 4.3 (eq. 26).

    **Raises:** as `extract_coefficients` for `B`; at run time if `fn` returns NaN/inf at
    the eigenvalues of `B` (e.g. `jnp.log` of a tensor with a negative eigenvalue).
    """
    B = require_symmetric(check_tensor(B))
    lam, Q = jnp.linalg.eigh(0.5 * (B + B.T))
    f = jnp.asarray(fn(lam))
    if f.shape != (3,):
        raise ValueError(f"`fn` must map the 3 eigenvalues to 3 values, got shape {f.shape}.")
    f = check(
        f,
        ~jnp.all(jnp.isfinite(f)),
        "`fn` returned NaN or inf at the eigenvalues of `B`{got}; `B` is outside the domain "
        "of `fn` (e.g. jnp.log needs a positive definite `B`).",
        lambda: f" (eigenvalues {np.asarray(lam)}, fn values {np.asarray(f)})",
    )
    return jnp.matmul(Q * f[None, :], Q.T, precision=_HIGHEST)
