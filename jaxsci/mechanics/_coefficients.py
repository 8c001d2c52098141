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
from jaxtyping import Array, ArrayLike, Float

from ._kinematics import check_tensor

_HIGHEST = jax.lax.Precision.HIGHEST


def _dd(si, sj, li, lj, tau):
    gap = lj - li
    return (sj - si) * gap / (gap * gap + tau * tau)


def coefficients_from_eigenvalues(
    lam: Float[ArrayLike, " 3"], s: Float[ArrayLike, " 3"], *, tau: float | None = None
) -> Float[Array, " 3"]:
    r"""$(c_0, c_1, c_2)$ with $p(\lambda_i) = s_i$ (eq. 23), repeated roots per eqs. 24-25.

    `lam` must be sorted ascending (as `jnp.linalg.eigh` returns it); `s` are the matching
    output eigenvalues. `tau`: regularisation of the divided differences (see module doc).
    """
    lam = jnp.asarray(lam)
    s = jnp.asarray(s)
    if lam.shape != (3,) or s.shape != (3,):
        raise ValueError(f"`lam` and `s` must have shape (3,), got {lam.shape} and {s.shape}.")
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


def extract_coefficients(
    B: Float[ArrayLike, "3 3"], sigma: Float[ArrayLike, "3 3"], *, tau: float | None = None
) -> Float[Array, " 3"]:
    r"""Coefficients $c$ with $\sigma = c_0 I + c_1 B + c_2 B^2$ for one pair (eqs. 21-25).

    The stress eigenvalues are taken in $B$'s eigenbasis, $s_i = q_i^T \sigma q_i$, which is
    well defined even when $B$ has repeated eigenvalues (any basis of the repeated
    eigenspace gives the same $s_i$ for a coaxial $\sigma$). Pointwise: vmap over pairs.
    """
    B = check_tensor(B, "B")
    sigma = check_tensor(sigma, "sigma")
    lam, Q = jnp.linalg.eigh(0.5 * (B + B.T))
    S = jnp.matmul(Q.T, jnp.matmul(0.5 * (sigma + sigma.T), Q, precision=_HIGHEST), precision=_HIGHEST)
    return coefficients_from_eigenvalues(lam, jnp.diagonal(S), tau=tau)


def isotropic_function(
    fn, B: Float[ArrayLike, "3 3"]
) -> Float[Array, "3 3"]:
    r"""Apply a scalar function to the eigenvalues: $Q \operatorname{diag}(fn(\lambda)) Q^T$.

    E.g. `isotropic_function(jnp.exp, B)` is the matrix exponential of section 4.3 (eq. 26).
    """
    B = check_tensor(B)
    lam, Q = jnp.linalg.eigh(0.5 * (B + B.T))
    return jnp.matmul(Q * fn(lam)[None, :], Q.T, precision=_HIGHEST)
