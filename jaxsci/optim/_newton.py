r"""Newton directions and the stochastic Newton method with a second-order line search
(Vu-Quoc & Humer 2023, Section 6.2 Eqs. 130-132 / Algorithm 3, and Section 6.7 / Algorithm 7).

The Hessian is assembled column by column from Hessian-vector products
$Hv=\frac{d}{dt}\nabla J(\theta+tv)|_{t=0}$ (forward-over-reverse, `vmap`ed over the basis) and
eigendecomposed, which suits the small networks of this review (up to a few thousand
parameters). Section 6.7 is missing from the seed; Algorithm 7 follows the paper it cites,
Bergou, Diouane, Kunc, Kungurtsev & Royer (2022), "A subsampling line-search method with
second-order results", INFORMS J. Optim. 4(4), Algorithm 1 (after Royer & Wright 2018).
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Bool, Float, Int, PyTree

from .._checks import check_value
from ._linesearch import _dtype, _need_params, axpy, check_start, fn_kwargs
from ._validate import check_interval, check_like, require_count, scalar_value


def hessian_matrix(
    value_fn: Callable[..., Float[Array, ""]], params: PyTree[Array], **kwargs: Any
) -> Float[Array, "p p"]:
    r"""Dense Hessian of `value_fn` at `params` (flattened by `ravel_pytree`) from HVPs.

    **Raises:** `ValueError` at trace time if `params` has no entries or `value_fn` does not
    return a scalar; at run time (`eqx.error_if`; `ValueError` eagerly) if `params` or the
    Hessian contains NaN/inf.
    """
    flat, _ = ravel_pytree(params)
    if flat.size == 0:
        raise ValueError("`params` has no entries: the Hessian needs at least one parameter.")
    out = jax.eval_shape(lambda q: value_fn(q, **kwargs), params)
    if getattr(out, "shape", None) != ():
        raise ValueError(
            "`value_fn` must return a scalar cost, got "
            f"{getattr(out, 'shape', type(out).__name__)}."
        )
    bad_in = ~jnp.all(jnp.isfinite(flat))
    params = check_value(params, bad_in, "`params` contains NaN/inf; the Hessian is undefined.")
    h = _hessian(value_fn, params, **kwargs)
    return check_value(
        h, ~jnp.all(jnp.isfinite(h)),
        "the Hessian of `value_fn` at `params` has NaN/inf entries (is `value_fn` twice "
        "differentiable there?).",
    )


def _hessian(value_fn, params, **kwargs):
    """`hessian_matrix` without the checks (the transformations check O(1) scalars)."""
    flat, unravel = ravel_pytree(params)

    def grad_flat(z):
        return ravel_pytree(jax.grad(lambda q: value_fn(q, **kwargs))(unravel(z)))[0]

    def hvp(v):
        return jax.jvp(grad_flat, (flat,), (v,))[1]

    h = jax.vmap(hvp)(jnp.eye(flat.size, dtype=flat.dtype))
    return 0.5 * (h + h.T)


class NewtonState(eqx.Module):
    r"""State of `newton_direction` and `stochastic_newton`.

    **Attributes:**

    - `lambda_min`: the smallest Hessian eigenvalue $\lambda_{\min}$.
    - `kind`: 0 Newton, 1 regularised (or gradient) direction, 2 negative curvature.
    - `step`, `accepted`, `num_evals`: the line search (Algorithm 7 only).
    - `stationary`: approximate second-order stationarity $\|g\|\le\epsilon_g$,
      $\lambda_{\min}\ge-\epsilon_H$ (Algorithm 7 only).
    """

    lambda_min: Float[Array, ""]
    kind: Int[Array, ""]
    step: Float[Array, ""]
    accepted: Bool[Array, ""]
    num_evals: Int[Array, ""]
    stationary: Bool[Array, ""]


def _init(params):
    z = jnp.zeros((), _dtype(params))
    i = jnp.zeros((), jnp.int32)
    return NewtonState(z, i, z, jnp.array(False), i, jnp.array(False))


def newton_direction(
    delta: float = 1e-4, regularize: bool = True, *, throw: bool = True
) -> optax.GradientTransformationExtraArgs:
    r"""The (quasi-/regularised) Newton direction of Algorithm 3, Eqs. (130)-(132).

    Takes the gradient $g$ as `updates` and `value_fn` as extra argument. If
    $\lambda_{\min}(H)>0$: $d=-H^{-1}g$ (130). Otherwise, with `regularize=False`, the
    gradient direction $d=-g$ (131); with `regularize=True`, $d=-(H+\delta' I)^{-1}g$ (132) with
    $\delta'=\delta-\lambda_{\min}$, the smallest shift making $H+\delta' I$ positive definite with
    margin $\delta$. Chain with `armijo_linesearch()` for Algorithm 3.

    **Raises:** `ValueError` unless $\delta\in(0,\infty)$; `ValueError` at trace time if
    `updates` does not have the pytree/shapes of `params`. With `throw=True` a NaN/inf
    gradient or Hessian raises at run time (`eqx.error_if`); with `throw=False` the
    direction is zero (a chained line search then rejects the step), never NaN.
    """
    delta = check_interval("delta", delta)

    def update_fn(updates, state, params=None, *, value_fn, **extra_args):
        _need_params(params, "`newton_direction` (the Hessian is taken at `params`)")
        check_like(updates, "updates", params, "params")
        kw = fn_kwargs(value_fn, extra_args)
        g, unravel = ravel_pytree(updates)
        lam, q = jnp.linalg.eigh(_hessian(value_fn, params, **kw))
        lmin = lam[0]
        # O(P) next to the O(P^3) eigendecomposition: NaN in g or H shows in one scalar.
        finite = jnp.isfinite(jnp.vdot(g, g)) & jnp.isfinite(lam[-1]) & jnp.isfinite(lmin)
        if throw:
            lmin = check_value(
                lmin, ~finite,
                "`newton_direction` got a NaN/inf gradient (`updates`) or Hessian of "
                "`value_fn` at `params`. Check the data and the model; pass `throw=False` "
                "to get a zero direction instead.",
            )
        shift = jnp.where(lmin > 0, 0.0, delta - lmin)
        newton = -q @ ((q.T @ g) / (lam + shift))
        d = newton if regularize else jnp.where(lmin > 0, newton, -g)
        d = jnp.where(finite, d, 0.0)
        kind = jnp.where(lmin > 0, 0, 1).astype(jnp.int32)
        out = jax.tree.map(lambda a, b: a.astype(b.dtype), unravel(d), updates)
        lmin = lmin.astype(state.lambda_min.dtype)
        return out, eqx.tree_at(lambda s: (s.lambda_min, s.kind), state, (lmin, kind))

    return optax.GradientTransformationExtraArgs(_init, update_fn)


def stochastic_newton(
    eps_g: float = 1e-5,
    eps_h: float = 1e-3,
    eta: float = 0.1,
    theta: float = 0.5,
    max_steps: int = 60,
    *,
    throw: bool = True,
) -> optax.GradientTransformationExtraArgs:
    r"""Subsampled Newton step with the cubic-decrease line search (Algorithm 7).

    `updates` is the subsampled gradient $\tilde g_k$, extra arguments `value` $=\tilde J_k(\theta)$
    and `value_fn` $=\tilde J_k$ on the same sample. With $\lambda_k=\lambda_{\min}(\tilde H_k)$,
    $v_k$ its unit eigenvector:

    - $\lambda_k<-\epsilon_H$: negative-curvature step $d=|\lambda_k|v_k$, signed so $\tilde g\cdot d\le0$;
    - $\lambda_k>\|\tilde g_k\|^{1/2}$: Newton step $d=-\tilde H_k^{-1}\tilde g_k$;
    - otherwise: regularised Newton $d=-(\tilde H_k+2\epsilon_H I)^{-1}\tilde g_k$ (the $H+\delta I$
      of Algorithm 7, line 17);

    then $\alpha=\theta^j$ with the smallest $j\ge0$ such that
    $\tilde J_k(\theta+\alpha d)<\tilde J_k(\theta)-\frac{\eta}{6}\alpha^3\|d\|^3$.
    `state.stationary` reports $\|\tilde g\|\le\epsilon_g$ and $\lambda_k\ge-\epsilon_H$ (a small
    gradient alone is not a valid stationarity test, Section 6.3.1). Bergou et al. write
    $\epsilon_H=\epsilon^{1/2}$.

    **Raises:** `ValueError` unless $\epsilon_g,\epsilon_H,\eta\in(0,\infty)$,
    $\theta\in(0,1)$ and `max_steps >= 1`; `ValueError` at trace time for mismatched
    `updates`/`params`. With `throw=True` a NaN/inf `value`, gradient or Hessian raises at run
    time (`eqx.error_if`); with `throw=False` the step is rejected (zero update,
    `accepted=False`).
    """
    eps_g = check_interval("eps_g", eps_g)
    eps_h = check_interval("eps_h", eps_h)
    eta = check_interval("eta", eta)
    theta = check_interval("theta", theta, 0.0, 1.0)
    max_steps = require_count(max_steps, "max_steps")

    def update_fn(updates, state, params=None, *, value, value_fn, **extra_args):
        _need_params(params, "`stochastic_newton` (the Hessian is taken at `params`)")
        check_like(updates, "updates", params, "params")
        value = scalar_value(value)
        kw = fn_kwargs(value_fn, extra_args)
        g, unravel = ravel_pytree(updates)
        lam, q = jnp.linalg.eigh(_hessian(value_fn, params, **kw))
        lmin, v = lam[0], q[:, 0]
        gnorm = jnp.linalg.norm(g)
        gnorm = check_start(value, gnorm, throw, "`stochastic_newton`")
        hess_ok = jnp.isfinite(lmin) & jnp.isfinite(lam[-1])
        if throw:
            lmin = check_value(
                lmin, ~hess_ok,
                "`stochastic_newton`: the Hessian of `value_fn` at `params` has NaN/inf "
                "entries. Check the data and the model; pass `throw=False` to reject the step.",
            )
        start_ok = hess_ok & jnp.isfinite(gnorm) & jnp.isfinite(value)
        neg = lmin < -eps_h
        newton_ok = lmin > jnp.sqrt(gnorm)
        shift = jnp.where(newton_ok, 0.0, 2.0 * eps_h)
        d_newton = -q @ ((q.T @ g) / jnp.where(neg, 1.0, lam + shift))
        d_neg = jnp.abs(lmin) * jnp.where(g @ v > 0, -v, v)
        d = jnp.where(neg, d_neg, d_newton)
        kind = jnp.where(neg, 2, jnp.where(newton_ok, 0, 1)).astype(jnp.int32)
        dtree = unravel(d)
        dn3 = jnp.linalg.norm(d) ** 3

        def ok(alpha):
            return value_fn(axpy(alpha, dtree, params), **kw) < value - eta / 6 * alpha**3 * dn3

        def cond(c):
            _, good, i = c
            return (~good) & (i < max_steps)

        def body(c):
            alpha, _, i = c
            alpha = theta * alpha
            return alpha, ok(alpha), i + 1

        one = jnp.ones((), g.dtype)
        alpha, good, n = jax.lax.while_loop(cond, body, (one, ok(one), 1))
        good = good & (jnp.linalg.norm(d) > 0) & start_ok
        alpha = jnp.where(good, alpha, 0.0)
        out = jax.tree.map(
            lambda a, b: jnp.where(good, alpha * a, 0).astype(b.dtype), dtree, updates
        )
        stationary = (gnorm <= eps_g) & (lmin >= -eps_h)
        dt = state.step.dtype
        return out, NewtonState(
            lmin.astype(dt), kind, alpha.astype(dt), good, jnp.asarray(n, jnp.int32), stationary
        )

    return optax.GradientTransformationExtraArgs(_init, update_fn)
