r"""The Matern kernel for a general real smoothness $\nu > 0$ (scikit-learn `Matern(nu=...)`)."""

import math
import numbers

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._misc import safe_sqrt
from ._bessel import matern_profile
from ._stationary import _LengthscaleKernel, _m32, _m52


def _check_nu(nu) -> float:
    if isinstance(nu, bool) or not isinstance(nu, numbers.Real):
        raise TypeError(
            f"`nu` must be a Python number (it is static: it selects the Bessel order), got "
            f"{type(nu).__name__} ({nu!r:.60}). Pass e.g. `nu=2.2`; to fit the smoothness, "
            "compare fits at a few values of nu."
        )
    nu = float(nu)
    if not (0.0 < nu < math.inf):
        raise ValueError(f"`nu` must be positive and finite, got {nu!r}.")
    return nu


class Matern(_LengthscaleKernel):
    r"""Matern kernel of smoothness $\nu > 0$ (Rasmussen & Williams eq. 4.14; scikit-learn
    `ConstantKernel(σ²) * Matern(length_scale=ℓ, nu=ν)`):

    $$k(x, x') = \sigma^2 \frac{2^{1-\nu}}{\Gamma(\nu)} \big(\sqrt{2\nu}\, r\big)^\nu
    K_\nu\big(\sqrt{2\nu}\, r\big),\qquad r^2 = \sum_i (x_i - x'_i)^2/\ell_i^2,$$

    `Matern(nu, variance=σ², lengthscale=ℓ)` with `ℓ` a scalar or an ARD vector `(d,)`
    (stored as `log_variance`, `log_lengthscale`); `nu` is a static Python number, not
    fitted.

    **Evaluation.** $\nu = 1/2, 3/2, 5/2$ use the closed forms of [`Matern12`][],
    [`Matern32`][], [`Matern52`][] (equal to the Bessel route to $10^{-15}$, tested).
    Otherwise $K_\nu$ is computed by Temme's series / Steed's continued fraction
    (`jaxsci.kernels._bessel`, relative error $< 10^{-12}$ against `scipy.special.kv`).
    For $\nu > 50$ the kernel is the $\nu \to \infty$ limit, the squared exponential
    $\sigma^2 e^{-r^2/2}$ ([`ExpQuad`][]); at $\nu = 50$ the two differ by at most 0.005
    (times $\sigma^2$).

    **Derivatives.** The profile $h_\nu(s)$, $s = 2\nu r^2$, has exact `custom_jvp`
    derivatives $h_\nu^{(m)} \propto h_{\nu-m}$, finite at $x = x'$ whenever they exist:

    - hyperparameter gradients (`gp.fit`) are finite for every $\nu > 0$;
    - derivative observations (`jaxsci.gp.derivative_gram`, value/gradient and
      gradient/gradient covariances, eqs. 35-36) need a mean-square differentiable
      process, $\nu > 1$; then they are exact at $x = x'$, where
      $\partial^2 k/\partial x_i\partial x'_j = \sigma^2 \frac{\nu}{(\nu - 1)\,\ell_i^2}\delta_{ij}$,
      and so are their hyperparameter gradients. For $\nu \le 1$ the gradient/gradient
      covariance at $x = x'$ is infinite and is returned as 0: do not use them;
    - second-derivative (Hessian) observations would need $\nu > 2$.
    """

    nu: float = eqx.field(static=True)

    def __init__(
        self,
        nu: float,
        variance: float | Float[ArrayLike, ""] = 1.0,
        lengthscale: float | Float[ArrayLike, "*d"] = 1.0,
    ):
        self.nu = _check_nu(nu)
        super().__init__(variance, lengthscale)

    def profile(self, r2: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        nu = self.nu
        if nu == 0.5:
            h = jnp.exp(-safe_sqrt(r2))
        elif nu == 1.5:
            h = _m32(3.0 * r2)
        elif nu == 2.5:
            h = _m52(5.0 * r2)
        else:
            h = matern_profile(nu, 2.0 * nu * r2)
        return jnp.exp(self.log_variance) * h

