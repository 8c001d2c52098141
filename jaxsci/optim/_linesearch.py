r"""Full-batch line searches of Vu-Quoc & Humer (2023), Section 6.2, as optax transformations.

Every search here is an `optax.GradientTransformationExtraArgs` that receives the descent
direction $d$ as `updates` (e.g. the output of `optax.sgd(1.0)`, i.e. $d=-g$, or a Newton
direction), and the extra arguments `value` $=J(\theta)$, `grad` $=g$ and `value_fn` $=J$.
It returns $\epsilon\, d$, so that `optax.apply_updates` performs $\theta\leftarrow\theta+\epsilon d$.
Further extra arguments whose names appear in the signature of `value_fn` are forwarded to
it (e.g. the data), exactly as in `optax.scale_by_backtracking_linesearch`.

If no step satisfying the rule is found within `max_steps` trials, the step is rejected: the
update is zero and `state.accepted` is False.

**Bad input** (`throw=True`, the default): a NaN/inf `value` $J(\theta)$, a NaN/inf slope
$g\cdot d$ (NaN/inf in `grad` or `updates`) or an ascent direction $g\cdot d>0$ (Eq. 121
violated: usually $d=+g$ was passed, chain `optax.scale(-1.0)` first) raise at run time
(`eqx.error_if`; `ValueError` when called eagerly). With `throw=False` these steps are
rejected instead (zero update, `accepted=False`; never a NaN update), which is what a loop
with its own NaN policy (`jaxsci.train.fit`) wants. $g\cdot d=0$ (a stationary point) is a
rejected step, not an error. Empty `params` and mismatched pytrees/shapes of `updates`,
`grad` and `params` raise `ValueError` at trace time.
"""

import inspect
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Bool, Float, Int

from .._checks import check_value
from ._validate import check_interval, check_like, check_not_above, require_count, scalar_value

_GOLDEN = (5.0**0.5 - 1.0) / 2.0


class LineSearchState(eqx.Module):
    r"""State of a line-search transformation.

    **Attributes:**

    - `step`: the last step length $\epsilon$ (0 if rejected).
    - `accepted`: whether the last step satisfied the rule.
    - `num_evals`: number of evaluations of `value_fn` used by the last search.
    """

    step: Float[Array, ""]
    accepted: Bool[Array, ""]
    num_evals: Int[Array, ""]


def fn_kwargs(fn: Callable, extra_args: dict[str, Any]) -> dict[str, Any]:
    """The subset of `extra_args` whose names are parameters of `fn`."""
    try:
        names = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in names.values()):
        return dict(extra_args)
    return {k: v for k, v in extra_args.items() if k in names}


def tree_vdot(x, y) -> Float[Array, ""]:
    """Euclidean inner product of two pytrees."""
    leaves = jax.tree.leaves(jax.tree.map(lambda a, b: jnp.vdot(a, b).real, x, y))
    return sum(leaves, jnp.zeros(()))


def axpy(eps, d, params):
    """`params + eps * d` for pytrees."""
    return jax.tree.map(lambda p, u: p + (eps * u).astype(p.dtype), params, d)


def _dtype(params):
    """The floating dtype of `params` (the default float for an empty pytree)."""
    leaves = jax.tree.leaves(params)
    return jnp.result_type(*leaves) if leaves else jnp.result_type(float)


def _need_params(params, what: str) -> None:
    if params is None:
        raise ValueError(f"{what} needs `params`; call `update(updates, state, params, ...)`.")


def _check_positive(name: str, value: float, upper: float | None = None) -> Any:
    return check_interval(name, value, 0.0, upper)


def check_start(j0, slope, throw: bool, what: str = "The line search"):
    """The run-time checks at the start point (`throw=True`): O(1), on two scalars."""
    if not throw:
        return slope
    slope = check_value(
        slope, ~jnp.isfinite(j0),
        f"{what} got a NaN/inf `value` (the cost J(theta) at the start point). Check the "
        "data and the model for NaN/inf or lower the step length; pass `throw=False` to "
        "reject the step instead.",
    )
    slope = check_value(
        slope, ~jnp.isfinite(slope),
        f"{what} got a NaN/inf slope g.d: `grad` or `updates` (the direction d) contains "
        "NaN/inf. Check the gradient; pass `throw=False` to reject the step instead.",
    )
    return slope


def _ordered(rule: str, alpha, beta):
    """`alpha < beta` (the sector of Goldstein's / Wolfe's rule is not empty)."""
    msg = (f"{rule}'s rule needs 0 < alpha < beta < 1 (`alpha` below `beta`), got "
           f"alpha={alpha}, beta={beta}.")
    return check_not_above(alpha, beta, msg, strict=True), beta


def _check_inputs(updates, grad, params):
    if not jax.tree.leaves(params):
        raise ValueError("`params` has no arrays: a line search needs at least one parameter.")
    check_like(updates, "updates", params, "params")
    check_like(grad, "grad", params, "params")


def _make(search: Callable, needs_grad: bool, throw: bool) -> optax.GradientTransformationExtraArgs:
    """Wrap `search(phi, dphi, j0, slope, dtype) -> (eps, accepted, num_evals)`."""

    def init_fn(params) -> LineSearchState:
        return LineSearchState(
            jnp.zeros((), _dtype(params)), jnp.array(False), jnp.zeros((), jnp.int32)
        )

    def update_fn(updates, state, params=None, *, value, grad, value_fn, **extra_args):
        _need_params(params, "A line search")
        _check_inputs(updates, grad, params)
        j0 = scalar_value(value)
        kw = fn_kwargs(value_fn, extra_args)
        slope = tree_vdot(grad, updates)
        slope = check_start(j0, slope, throw)
        if throw:
            slope = check_value(
                slope, slope > 0,
                "`updates` is not a descent direction: the slope g.d is > 0 (Eq. 121). A "
                "line search takes the direction d (e.g. d = -g: chain `optax.scale(-1.0)` "
                "or `optax.sgd(1.0)` before it), not the gradient; pass `throw=False` to "
                "reject such steps instead.",
            )
        dtype = jnp.result_type(slope, state.step)

        def phi(eps):
            return value_fn(axpy(eps, updates, params), **kw)

        def dphi(eps):
            val, gr = jax.value_and_grad(lambda p: value_fn(p, **kw))(axpy(eps, updates, params))
            return val, tree_vdot(gr, updates)

        eps, ok, n = search(phi, dphi if needs_grad else None, j0, slope, dtype)
        ok = ok & (slope < 0) & jnp.isfinite(j0) & jnp.isfinite(eps)
        eps = jnp.where(ok, eps, 0.0).astype(dtype)
        new = jax.tree.map(lambda u: jnp.where(ok, eps * u, 0).astype(u.dtype), updates)
        return new, LineSearchState(eps, ok, jnp.asarray(n, jnp.int32))

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def exact_linesearch(
    max_learning_rate: float = 1.0,
    max_steps: int = 60,
    max_expansions: int = 30,
    *,
    throw: bool = True,
) -> optax.GradientTransformationExtraArgs:
    r"""Exact line search, Eq. (122): $\epsilon=\arg\min_{\epsilon>0} J(\theta+\epsilon d)$.

    The bracket $[0, b]$ starts at $b=$ `max_learning_rate` and is doubled while
    $J(\theta+b d)<J(\theta+\tfrac b2 d)$ (at most `max_expansions` times); then `max_steps`
    golden-section reductions (the infinite Fibonacci search of Section 6.2.1) shrink it by
    $0.618^{\text{max\_steps}}$. Exact for unimodal $\epsilon\mapsto J$. The step is accepted
    if it decreases $J$.

    **Raises:** `ValueError` for `max_learning_rate` not in $(0,\infty)$, `max_steps < 1`,
    `max_expansions < 0`; the start-point checks of the module docstring (`throw`).
    """
    max_learning_rate = _check_positive("max_learning_rate", max_learning_rate)
    max_steps = require_count(max_steps, "max_steps")
    max_expansions = require_count(max_expansions, "max_expansions", 0)

    def search(phi, dphi, j0, slope, dtype):
        b0 = jnp.asarray(max_learning_rate, dtype)

        def expand_cond(c):
            b, fb, fh, i = c
            return (fb < fh) & (i < max_expansions)

        def expand_body(c):
            b, fb, _, i = c
            return 2 * b, phi(2 * b), fb, i + 1

        b, _, _, nexp = jax.lax.while_loop(
            expand_cond, expand_body, (b0, phi(b0), phi(b0 / 2), 0)
        )
        a = jnp.zeros((), dtype)
        c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)

        def body(_, carry):
            a, b, c, d, fc, fd = carry
            left = fc < fd
            na = jnp.where(left, a, c)
            nb = jnp.where(left, d, b)
            nc = jnp.where(left, nb - _GOLDEN * (nb - na), d)
            nd = jnp.where(left, c, na + _GOLDEN * (nb - na))
            fnew = phi(jnp.where(left, nc, nd))
            return na, nb, nc, nd, jnp.where(left, fnew, fd), jnp.where(left, fc, fnew)

        a, b, c, d, fc, fd = jax.lax.fori_loop(0, max_steps, body, (a, b, c, d, phi(c), phi(d)))
        eps = jnp.where(fc < fd, c, d)
        return eps, phi(eps) < j0, 4 + 2 * nexp + max_steps

    return _make(search, needs_grad=False, throw=throw)


def _bracketing(classify, init, max_steps, dtype, expand=2.0):
    """Bisection on $[lo, hi]$ (`hi` starts at infinity: expand by `expand`).

    `classify(eps) -> (code, evals)`: -1 step too long, +1 too short, 0 acceptable.
    """

    def cond(c):
        _, _, _, code, i = c
        return (code != 0) & (i < max_steps)

    def body(c):
        lo, hi, eps, code, i = c
        lo = jnp.where(code > 0, eps, lo)
        hi = jnp.where(code < 0, eps, hi)
        eps = jnp.where(jnp.isfinite(hi), 0.5 * (lo + hi), expand * lo)
        return lo, hi, eps, classify(eps), i + 1

    eps0 = jnp.asarray(init, dtype)
    lo, hi = jnp.zeros((), dtype), jnp.asarray(jnp.inf, dtype)
    _, _, eps, code, n = jax.lax.while_loop(cond, body, (lo, hi, eps0, classify(eps0), 1))
    return eps, code == 0, n


def goldstein_linesearch(
    alpha: float = 0.4,
    beta: float | None = None,
    rho: float = 1.0,
    max_steps: int = 50,
    *,
    throw: bool = True,
) -> optax.GradientTransformationExtraArgs:
    r"""Goldstein's rule, Eqs. (123)-(124), searched by bisection (Polak 1971, p. 33).

    Accept $\epsilon$ with $\beta\epsilon\, g\cdot d\le\Delta J(\epsilon)\le\alpha\epsilon\, g\cdot d$,
    $\Delta J(\epsilon)=J(\theta+\epsilon d)-J(\theta)$ and $0<\alpha<\beta<1$. The review's
    choice (Polak) is $\alpha=0.4$, $\beta=1-\alpha=0.6$ (the default, Eq. 123); a wider sector
    uses $\beta\in(0.6,1)$. The search starts at $\epsilon=\rho$, halves the bracket
    $[\epsilon_{lo},\epsilon_{hi}]$ and doubles $\epsilon$ while no upper bound is known.

    **Raises:** `ValueError` unless $0<\alpha<\beta<1$, $\rho\in(0,\infty)$, `max_steps >= 1`;
    the start-point checks of the module docstring (`throw`).
    """
    alpha = _check_positive("alpha", alpha, 1.0)
    beta = _check_positive("beta", 1.0 - alpha if beta is None else beta, 1.0)
    rho = _check_positive("rho", rho)
    max_steps = require_count(max_steps, "max_steps")
    alpha, beta = _ordered("Goldstein", alpha, beta)

    def search(phi, dphi, j0, slope, dtype):
        def classify(eps):
            dj = phi(eps) - j0
            too_long = ~(dj <= alpha * eps * slope)
            too_short = dj < beta * eps * slope
            return jnp.where(too_long, -1, jnp.where(too_short, 1, 0))

        return _bracketing(classify, rho, max_steps, dtype)

    return _make(search, needs_grad=False, throw=throw)


def armijo_linesearch(
    alpha: float = 0.5,
    beta: float = 0.65,
    rho: float = 1.0,
    max_steps: int = 50,
    *,
    throw: bool = True,
) -> optax.GradientTransformationExtraArgs:
    r"""Armijo's rule, Eqs. (125)-(126): $\epsilon=\rho\beta^a$ with the smallest integer $a\ge0$
    such that $\Delta J(\rho\beta^a)\le\alpha\,\rho\beta^a\, g\cdot d$.

    Defaults follow Polak's recommendation, Eq. (129): $\alpha=\tfrac12$, $\beta\in(0.5,0.8)$
    (0.65), $\rho=1$; Armijo's original choice, Eq. (127), is $\alpha=\beta=\tfrac12$.

    **Raises:** `ValueError` unless $\alpha,\beta\in(0,1)$, $\rho\in(0,\infty)$,
    `max_steps >= 1`; the start-point checks of the module docstring (`throw`).
    """
    alpha = _check_positive("alpha", alpha, 1.0)
    beta = _check_positive("beta", beta, 1.0)
    rho = _check_positive("rho", rho)
    max_steps = require_count(max_steps, "max_steps")

    def search(phi, dphi, j0, slope, dtype):
        def ok(eps):
            return phi(eps) - j0 <= alpha * eps * slope

        def cond(c):
            eps, good, i = c
            return (~good) & (i < max_steps)

        def body(c):
            eps, _, i = c
            eps = beta * eps
            return eps, ok(eps), i + 1

        eps0 = jnp.asarray(rho, dtype)
        return jax.lax.while_loop(cond, body, (eps0, ok(eps0), 1))

    return _make(search, needs_grad=False, throw=throw)


def wolfe_linesearch(
    alpha: float = 1e-4,
    beta: float = 0.9,
    rho: float = 1.0,
    max_steps: int = 50,
    *,
    throw: bool = True,
) -> optax.GradientTransformationExtraArgs:
    r"""Wolfe's rule, Eqs. (133)-(134), searched by bisection/expansion (Lewis & Overton 2013).

    Accept $\epsilon$ with $J(\theta+\epsilon d)-J(\theta)\le\alpha\epsilon\, g\cdot d$ (Armijo,
    Eq. 133) and $g(\theta+\epsilon d)\cdot d\ge\beta\, g\cdot d$ (curvature, Eq. 134),
    $0<\alpha<\beta<1$. The review gives no numbers for Wolfe; the defaults are those of
    Nocedal & Wright (2006, Sec. 3.1). For the *strong* Wolfe conditions use
    `optax.scale_by_zoom_linesearch` (see docs/optimizers.md).

    **Raises:** `ValueError` unless $0<\alpha<\beta<1$, $\rho\in(0,\infty)$, `max_steps >= 1`;
    the start-point checks of the module docstring (`throw`).
    """
    alpha = _check_positive("alpha", alpha, 1.0)
    beta = _check_positive("beta", beta, 1.0)
    rho = _check_positive("rho", rho)
    max_steps = require_count(max_steps, "max_steps")
    alpha, beta = _ordered("Wolfe", alpha, beta)

    def search(phi, dphi, j0, slope, dtype):
        def classify(eps):
            val, dslope = dphi(eps)
            armijo = val - j0 <= alpha * eps * slope
            curvature = dslope >= beta * slope
            return jnp.where(~armijo, -1, jnp.where(~curvature, 1, 0))

        return _bracketing(classify, rho, max_steps, dtype)

    return _make(search, needs_grad=True, throw=throw)
