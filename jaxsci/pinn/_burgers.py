r"""Exact solution of the viscous Burgers problem $u_t + u u_x = \nu u_{xx}$,
$u(x, 0) = -\sin(\pi x)$ (2-periodic and odd, so $u(\pm 1, t) = 0$), for every $\nu > 0$.

Cole-Hopf on the whole line, written in the characteristic foot $y$:

$$u(x, t) = -\frac{\int \sin(\pi y)\, e^{-\Phi(y)/(2\nu)}\, dy}{\int e^{-\Phi(y)/(2\nu)}\, dy},
\qquad \Phi(y) = \frac{(x - y)^2}{2t} + \frac{\cos(\pi y)}{\pi}.$$

For small $\nu$ the integrand is a spike of width $\sim\sqrt{\nu t}$ (or $\nu^{1/4}$ where the
characteristics focus) at the minimiser of $\Phi$, the foot of the characteristic
$x = y - t \sin(\pi y)$; after the shock forms ($\pi t > 1$) there are two minimisers, one
each side of the fold $|y| < y_c = \arccos(1/(\pi t))/\pi$, of equal height at the shock
$x = 0$. A fixed Gauss-Hermite rule in $x - y$ (the previous method) cannot reach a spike of
width $\sqrt{\nu t} \ll$ its node spacing, which made it wrong by O(1) for $\nu \lesssim
10^{-3}$. Here (`_windowed`), for $x$ reduced to $[-1, 1]$ and $0 < t \le 1$:

1. the line is split at the local maximum $y_M$ of $\Phi$ in the fold (at $y = 0$ before
   the shock forms), so each half holds one minimiser $m_i$ of $\Phi$ (found by bisection on
   $\Phi'$, which is monotone on each piece);
2. on each half the window $\{\Phi - \Phi(m_i) \le 2\nu T\}$, $T = 50$, is found by
   bisection (outside it the integrand is below $e^{-50}$ of its peak);
3. each window gets an `n_quad`-point Gauss-Legendre rule, weights relative to
   $e^{-\min_i \Phi(m_i)/(2\nu)}$.

The window ends are `stop_gradient`ed (the integrand is negligible there, and the split
point is shared by both halves), so derivatives in $x$, $t$, $\nu$ are those of the integral.

For $\nu \ge 1/4$ the window spans many periods of $\cos(\pi y)$; there the Fourier
(Bessel) series of the heat solution is used instead (`_fourier`):
$\theta = I_0(z) + 2\sum_{k \ge 1} (-1)^k I_k(z) e^{-\nu\pi^2k^2t}\cos(k\pi x)$,
$z = 1/(2\pi\nu)$, $u = -2\nu\,\theta_x/\theta$ (32 terms: $z \le 2/\pi$, so the terms fall
faster than $(z/2)^k/k!$).

Checked against adaptive `scipy.integrate.quad` references for $\nu \in [10^{-10}, 100]$,
$t \in [10^{-3}, 1]$, $x$ at and near the shock (`tests/pinn/test_burgers_exact.py`).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

_T = 50.0  # window level: integrand below e^{-T} of its peak is dropped
_BISECT = 64
_FOURIER_NU = 0.25
_FOURIER_TERMS = 32


def _bisect(h, lo, hi):
    """Sign changes of non-decreasing `h` (elementwise) on `[lo, hi]`; the end of the
    interval where there is none."""

    def body(_, c):
        a, b = c
        mid = 0.5 * (a + b)
        neg = h(mid) < 0
        return jnp.where(neg, mid, a), jnp.where(neg, b, mid)

    a, b = jax.lax.fori_loop(0, _BISECT, body, (lo, hi))
    return 0.5 * (a + b)


def _windowed(xr, t, nu, nodes, weights):
    pi = jnp.pi
    sg = jax.lax.stop_gradient
    xs, ts, nus = sg(xr), sg(t), sg(nu)

    def phi(y):
        return (xs - y) ** 2 / (2 * ts) + jnp.cos(pi * y) / pi

    def g(y):  # t * Phi'(y)
        return y - ts * jnp.sin(pi * y) - xs

    a = 1 / (pi * ts)
    fold = a < 1
    yc = jnp.where(fold, jnp.arccos(jnp.where(fold, a, 0.5)), 0.0) / pi
    # Phi' is increasing on (-inf, -yc] and [yc, 2 - yc], decreasing on the fold; critical
    # points lie within t of x. One vectorised bisection for (m1, yM, m2).
    sign = jnp.array([1.0, -1.0, 1.0], xs.dtype)
    lo = jnp.stack([jnp.minimum(xs - ts, -yc), -yc, yc])
    hi = jnp.stack([-yc, yc, jnp.maximum(yc, jnp.minimum(xs + ts, 2 - yc))])
    m1, ym, m2 = _bisect(lambda y: sign * g(y), lo, hi)
    p1, p2 = phi(m1), phi(m2)
    level = 2 * nus * _T

    def reach(m):  # beyond m -+ reach(m), Phi - Phi(m) > level (|cos| <= 1)
        d = jnp.abs(xs - m)
        return d + jnp.sqrt(2 * ts * (level + 2 / pi) + d * d)

    # window ends (a1, b1, a2, b2): Phi - Phi(m_i) = level, one vectorised bisection
    sign = jnp.array([-1.0, 1.0, -1.0, 1.0], xs.dtype)
    base = jnp.stack([p1, p1, p2, p2]) + level
    lo = jnp.stack([m1 - reach(m1), m1, ym, m2])
    hi = jnp.stack([m1, ym, m2, m2 + reach(m2)])
    a1, b1, a2, b2 = _bisect(lambda y: sign * (phi(y) - base), lo, hi)
    lo = sg(jnp.stack([a1, a2]))[:, None]
    hi = sg(jnp.stack([b1, b2]))[:, None]
    y = 0.5 * (lo + hi) + 0.5 * (hi - lo) * nodes[None, :]
    w = 0.5 * (hi - lo) * weights[None, :]

    def dphi(y, m):  # Phi(y) - Phi(m) without cancellation (float32 at small nu)
        return (m - y) * (2 * xr - y - m) / (2 * t) - (2 / pi) * jnp.sin(
            pi * (y + m) / 2
        ) * jnp.sin(pi * (y - m) / 2)

    m = sg(jnp.stack([m1, m2]))
    gap = dphi(m[0], m[1])  # Phi(m1) - Phi(m2)
    shift = jnp.stack([jnp.maximum(gap, 0), jnp.maximum(-gap, 0)])
    expo = dphi(y, m[:, None]) + shift[:, None]
    f = w * jnp.exp(-expo / (2 * nu))
    return -jnp.sum(jnp.sin(pi * y) * f) / jnp.sum(f)


def _fourier(xr, t, nu):
    dtype = xr.dtype
    z = 1 / (2 * jnp.pi * nu)
    k = np.arange(_FOURIER_TERMS)
    m = np.arange(_FOURIER_TERMS)
    # log I_k(z) by its power series sum_m (z/2)^(2m+k) / (m! (m+k)!); factorials as constants
    power = jnp.asarray(2 * m[None, :] + k[:, None], dtype)
    log_fact = np.array([math.lgamma(i + 1) for i in range(2 * _FOURIER_TERMS)])
    denom = jnp.asarray(log_fact[m][None, :] + log_fact[m[None, :] + k[:, None]], dtype)
    logt = power * jnp.log(z / 2) - denom
    top = jax.lax.stop_gradient(jnp.max(logt, axis=1, keepdims=True))
    log_i = jnp.log(jnp.sum(jnp.exp(logt - top), axis=1)) + top[:, 0]
    kk = jnp.asarray(k, dtype)
    log_c = log_i - nu * jnp.pi**2 * kk**2 * t
    sign = jnp.asarray(np.where(k > 0, 2.0, 1.0) * np.where(k % 2 == 1, -1.0, 1.0), dtype)
    c = sign * jnp.exp(log_c - jax.lax.stop_gradient(log_c[0]))
    theta = jnp.sum(c * jnp.cos(kk * jnp.pi * xr))
    theta_x = -jnp.sum(c * kk * jnp.pi * jnp.sin(kk * jnp.pi * xr))
    return -2 * nu * theta_x / theta


@jax.jit
def burgers_exact(x, t, nu, nodes, weights):
    """$u(x, t)$ for $0 < t \\le 1$ (any $x$; 2-periodic) and any $\\nu > 0$ (module docstring)."""
    xr = x - 2 * jnp.round(x / 2)
    use_fourier = nu >= _FOURIER_NU
    nu_w = jnp.where(use_fourier, jnp.asarray(0.1, nu.dtype), nu)
    nu_f = jnp.where(use_fourier, nu, jnp.asarray(1.0, nu.dtype))
    return jax.lax.cond(
        use_fourier,
        lambda: _fourier(xr, t, nu_f),
        lambda: _windowed(xr, t, nu_w, nodes, weights),
    )
