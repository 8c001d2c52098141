r"""Hybrid least-squares / gradient-descent training (LSGD), Gulian et al. Algorithms 1-2.

LSGD alternates a globally optimal least-squares solve for the linear head
$\xi^L = \mathrm{LS}(\xi^H)$ (eq. 12) with one optimiser step on the hidden parameters
$\xi^H$. Because $\xi^L$ minimises $\mathcal{J}$ for fixed $\xi^H$, the gradient of the
reduced objective $\xi^H \mapsto \mathcal{J}(\xi^H, \mathrm{LS}(\xi^H))$ equals
$\partial_{\xi^H}\mathcal{J}$ at fixed $\xi^L$ (the "submanifold" of the paper's figure), so
one iteration costs one forward pass (building $A$), one small least-squares solve and one
backward pass. The whole loop is a `lax.while_loop` inside one `eqx.filter_jit`, with the
number of steps a traced bound (the loss history is preallocated for the next power of two and
cut afterwards) and the optimiser passed as a pytree (`_hoist.py`), so another `num_steps`, a
new optimiser object (same structure, any learning rate) or new data of the same shapes reuse
the compiled loop.
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import lineax as lx
import numpy as np
import optax
from jaxtyping import Array, Float

from .._solution import RESULTS, Solution, raise_if_failed
from ..nn import AbstractAdaptiveBasisNet
from ._lsgd_solve import (
    basis_matrices,
    check_problem,
    hidden_filter,
    solve_head,
    term_losses,
    weighted_loss,
)
from .._hoist import bucket as _bucket, call_hoisted, trim as _trim, unhoist
from ._lsgd_terms import LSTerm

__all__ = ["lsgd", "two_phase_lsgd", "joint_gd", "lsgd_step", "hidden_parameters"]


def hidden_parameters(model: AbstractAdaptiveBasisNet) -> Any:
    r"""The hidden parameters $\xi^H$ of `model` (everything trainable but the head), as the
    pytree an optax optimiser is initialised on: `optimiser.init(hidden_parameters(m))`."""
    return eqx.filter(model, hidden_filter(model))


def _ls_and_grad(hidden, static, terms, l2, solver):
    """LS solve at `hidden` and the gradient of J w.r.t. `hidden` at that head."""

    def assemble(h):
        return basis_matrices(eqx.combine(h, static), terms)

    a, pullback = jax.vjp(assemble, hidden)
    c = solve_head(a, terms, l2, solver)
    losses = term_losses(a, c, terms)
    cot = {}
    for name, t in terms.items():
        b = t.target.reshape(t.target.shape[0], -1)
        r = a[name] @ c.T - b
        cot[name] = (2.0 * t.weight / t.points.shape[0]) * (r @ c)
    (grad,) = pullback(cot)
    return losses, c, grad


def _joint_loss_and_grad(params, static, terms):
    def loss(p):
        m = eqx.combine(p, static)
        ls = term_losses(basis_matrices(m, terms), m.head.weight, terms)
        return weighted_loss(ls, terms), ls

    (_, losses), grad = jax.value_and_grad(loss, has_aux=True)(params)
    return losses, grad


def _select(pred, a, b):
    return jtu.tree_map(lambda x, y: jnp.where(pred, x, y), a, b)


def _run(model, terms, optimiser, max_steps, bucket, l2, rho, n_stag, target, solver, joint):
    """Shared loop; `max_steps` may be traced, `bucket >= max_steps + 1` is the static
    history length. Returns (model, history, losses, num_steps, final_l2, finite, loss)."""
    if joint:
        spec = jtu.tree_map(eqx.is_inexact_array, model)
    else:
        spec = hidden_filter(model)
    params, static = eqx.partition(model, spec)
    dtype = model.head.weight.dtype
    opt_state = optimiser.init(params)
    history = jnp.full((bucket,), jnp.nan, dtype)
    target = jnp.asarray(-jnp.inf if target is None else target, dtype)
    regularised = l2 is not None
    l2 = jnp.asarray(0.0 if l2 is None else l2, dtype)
    zero = jnp.zeros((), dtype)
    losses0 = {name: zero for name in terms}
    c0 = model.head.weight
    carry0 = (
        jnp.array(0),
        params,
        opt_state,
        c0,
        l2,
        jnp.asarray(jnp.inf, dtype),
        jnp.array(0),
        history,
        losses0,
        jnp.array(False),
    )

    def cond(carry):
        return ~carry[-1]

    def body(carry):
        i, params, opt_state, c, lam, best, since, history, _, _ = carry
        if joint:
            losses, grad = _joint_loss_and_grad(params, static, terms)
            c_new = c
        else:
            lam_arg = lam if regularised else 0.0
            losses, c_new, grad = _ls_and_grad(params, static, terms, lam_arg, solver)
        # Points and parameters may differ in dtype: keep the carry's dtypes fixed.
        c_new = c_new.astype(c.dtype)
        losses = {k: v.astype(dtype) for k, v in losses.items()}
        j = weighted_loss(losses, terms).astype(dtype)
        history = history.at[i].set(j)
        finite = jnp.isfinite(j)
        done = (i >= max_steps) | (j <= target) | ~finite
        # Algorithm 2: decay the regulariser by rho after n_stag epochs without improvement.
        improved = j < best
        since = jnp.where(improved, 0, since + 1)
        best = jnp.minimum(best, j).astype(dtype)
        stag = since >= n_stag
        lam = jnp.where(stag, rho * lam, lam).astype(dtype)
        since = jnp.where(stag, 0, since)
        updates, new_state = optimiser.update(grad, opt_state, params)
        new_params = eqx.apply_updates(params, updates)
        params = _select(done, params, new_params)
        opt_state = _select(done, opt_state, new_state)
        i = jnp.where(done, i, i + 1)
        return (i, params, opt_state, c_new, lam, best, since, history, losses, done)

    out = jax.lax.while_loop(cond, body, carry0)
    i, params, _, c, lam, _, _, history, losses, _ = out
    new = eqx.combine(params, static)
    if not joint:
        new = new.with_head(c.astype(dtype))
    j = weighted_loss(losses, terms)
    return new, history, losses, i, lam, jnp.isfinite(j), j


def _solution(new, history, losses, steps, lam, finite, j, target, throw):
    result = RESULTS.where(finite, RESULTS.successful, RESULTS.nonfinite)
    if target is not None:
        reached = j <= target
        result = RESULTS.where(finite & ~reached, RESULTS.max_steps_reached, result)
    sol = Solution(
        value=new,
        result=result,
        stats={"num_steps": steps, "loss": j, "losses": losses, "l2": lam},
        history={"loss": history},
    )
    return raise_if_failed(sol, throw)


def _validate(num_steps, l2, rho, n_stag):
    if not isinstance(num_steps, int) or isinstance(num_steps, bool) or num_steps < 0:
        raise ValueError(f"`num_steps` must be a non-negative int, got {num_steps!r}.")
    if isinstance(l2, (int, float)) and l2 < 0:
        raise ValueError(f"`l2` must be >= 0, got {l2!r}.")
    if isinstance(rho, (int, float)) and not 0 <= rho <= 1:
        raise ValueError(f"`rho` must lie in [0, 1], got {rho!r}.")
    if not isinstance(n_stag, int) or n_stag < 1:
        raise ValueError(f"`n_stag` must be a positive int, got {n_stag!r}.")


def _arr(x, dtype):
    # Python numbers go to the device by `device_put` (jnp.asarray compiles a tiny program)
    if isinstance(x, (int, float)):
        return np.asarray(x, dtype)
    return jnp.asarray(x, dtype)


def _dynamic(l2, rho, n_stag):
    # Python numbers would be static under filter_jit (one compilation per value): make
    # them arrays. l2 == 0 stays a static None so the unregularised solve has no extra rows.
    if isinstance(l2, (int, float)) and l2 == 0:
        l2 = None
    else:
        l2 = _arr(l2, float)
    return l2, _arr(rho, float), _arr(n_stag, np.int32)


def _target(target_loss):
    return None if target_loss is None else _arr(target_loss, float)


def _trim_history(sol, n, key="loss"):
    return eqx.tree_at(lambda s: s.history, sol, {**sol.history, key: _trim(sol.history[key], n)})


@eqx.filter_jit
def _lsgd_jit(optimiser, model, terms, num_steps, l2, rho, n_stag, target, solver, throw,
              *, bucket):
    optimiser = unhoist(optimiser)
    out = _run(model, terms, optimiser, num_steps, bucket, l2, rho, n_stag, target, solver,
               False)
    return _solution(*out, target, throw)


@eqx.filter_jit
def _joint_jit(optimiser, model, terms, num_steps, target, throw, *, bucket):
    optimiser = unhoist(optimiser)
    out = _run(model, terms, optimiser, num_steps, bucket, None, 1.0, 1, target, None, True)
    return _solution(*out, target, throw)


@eqx.filter_jit
def _two_phase_jit(optimiser, model, terms, num_pre, num_steps, l2, rho, n_stag, solver, throw,
                   *, bucket_pre, bucket):
    optimiser = unhoist(optimiser)
    pre = _run(model, terms, optimiser, num_pre, bucket_pre, l2, rho, n_stag, None, solver,
               False)
    post = _run(pre[0], terms, optimiser, num_steps, bucket, None, 0.0,
                jnp.maximum(num_steps, 1), None, solver, False)
    sol = _solution(*post, None, False)
    sol = eqx.tree_at(lambda s: s.history, sol, {**sol.history, "pre_loss": pre[1]})
    return raise_if_failed(sol, throw)


def lsgd(
    model: AbstractAdaptiveBasisNet,
    terms: dict[str, LSTerm],
    optimiser: optax.GradientTransformation,
    *,
    num_steps: int,
    l2: float | Float[Array, ""] = 0.0,
    rho: float | Float[Array, ""] = 1.0,
    n_stag: int = 1,
    target_loss: float | None = None,
    solver: lx.AbstractLinearSolver | None = None,
    throw: bool = True,
) -> Solution:
    r"""LSGD (Algorithm 1; with `rho < 1` the regularised LSGD used by Algorithm 2).

    Repeats: $\xi^L \leftarrow \mathrm{LS}_\lambda(\xi^H)$ (eq. 12, `least_squares_head`),
    then one `optimiser` step on $\xi^H$ using $\nabla_{\xi^H}\mathcal{J}(\xi^H, \xi^L)$,
    for `num_steps` gradient steps, and finishes with a last LS solve, so the returned head
    is always optimal for the returned basis. $\mathcal{J}$ is the multi-term loss of
    eqs. 6 / 11 built from `terms`. If the loss has not improved for `n_stag` consecutive
    iterations, $\lambda \leftarrow \rho\lambda$ (stagnation-triggered decay).

    **Arguments:**

    - `model`: a `jaxsci.nn.AbstractAdaptiveBasisNet` (MLP, ResNet, POUNet, ...).
    - `terms`: dict name -> `LSTerm` (points, data $\mathcal{L}_k[u]$, operator, $\epsilon_k$).
    - `optimiser`: any optax `GradientTransformation` for $\xi^H$.
    - `num_steps`: maximum number of gradient steps.
    - `l2`: initial regularisation $\lambda \ge 0$ of the LS step.
    - `rho`, `n_stag`: decay factor and stagnation window for $\lambda$.
    - `target_loss`: stop as soon as $\mathcal{J} \le$ `target_loss` (else it is reported
      as `RESULTS.max_steps_reached`).
    - `solver`: lineax solver (default `AutoLinearSolver(well_posed=False)` = SVD).
    - `throw`: raise on failure (non-finite loss, target not reached).

    **Returns:** a `Solution` with the trained model as `value`; `stats` holds `num_steps`,
    `loss` (final $\mathcal{J}$), `losses` (named $\mathcal{J}_k$) and `l2` (final
    $\lambda$); `history["loss"]` has shape `(num_steps + 1,)`, entry $i$ the loss after
    $i$ gradient steps (NaN after an early stop).
    """
    check_problem(model, terms)
    _validate(num_steps, l2, rho, n_stag)
    sol = call_hoisted(_lsgd_jit, (optimiser,), model, terms, np.int32(num_steps),
                       *_dynamic(l2, rho, n_stag), _target(target_loss), solver, throw,
                       bucket=_bucket(num_steps + 1))
    return _trim_history(sol, num_steps + 1)


def joint_gd(
    model: AbstractAdaptiveBasisNet,
    terms: dict[str, LSTerm],
    optimiser: optax.GradientTransformation,
    *,
    num_steps: int,
    target_loss: float | None = None,
    throw: bool = True,
) -> Solution:
    r"""The baseline LSGD is compared with: `optimiser` applied jointly to
    $(\xi^H, \xi^L)$ on the same loss $\mathcal{J}$ (eqs. 6 / 11). Same arguments and
    return value as `lsgd` (no LS step, so no `l2` / `solver`)."""
    check_problem(model, terms)
    _validate(num_steps, 0.0, 1.0, 1)
    sol = call_hoisted(_joint_jit, (optimiser,), model, terms, np.int32(num_steps),
                       _target(target_loss), throw, bucket=_bucket(num_steps + 1))
    return _trim_history(sol, num_steps + 1)


def two_phase_lsgd(
    model: AbstractAdaptiveBasisNet,
    terms: dict[str, LSTerm],
    optimiser: optax.GradientTransformation,
    *,
    num_pre_steps: int,
    num_steps: int,
    l2: float | Float[Array, ""],
    rho: float | Float[Array, ""] = 1.0,
    n_stag: int = 100,
    solver: lx.AbstractLinearSolver | None = None,
    throw: bool = True,
) -> Solution:
    r"""Two-phase LSGD (Algorithm 2).

    Phase 1: `lsgd(model, num_steps=num_pre_steps, l2=l2, rho=rho, n_stag=n_stag)`, whose
    $\ell_2$ penalty on the coefficients discourages partition functions from collapsing
    (a $\delta$-scaled $\phi_\alpha$ would need $1/\delta$-scaled coefficients).
    Phase 2: `lsgd(..., num_steps=num_steps, l2=0, rho=0, n_stag=num_steps)` from the
    phase-1 result, with a fresh optimiser state.

    **Returns:** the phase-2 `Solution`; `history["pre_loss"]` holds phase 1's history.
    """
    check_problem(model, terms)
    _validate(num_pre_steps, l2, rho, n_stag)
    _validate(num_steps, 0.0, 0.0, max(num_steps, 1))
    sol = call_hoisted(_two_phase_jit, (optimiser,), model, terms, np.int32(num_pre_steps),
                       np.int32(num_steps), *_dynamic(l2, rho, n_stag), solver, throw,
                       bucket_pre=_bucket(num_pre_steps + 1), bucket=_bucket(num_steps + 1))
    sol = _trim_history(sol, num_steps + 1)
    return _trim_history(sol, num_pre_steps + 1, "pre_loss")


def lsgd_step(
    model: AbstractAdaptiveBasisNet,
    opt_state: Any,
    terms: dict[str, LSTerm],
    optimiser: optax.GradientTransformation,
    *,
    l2: float | Float[Array, ""] = 0.0,
    solver: lx.AbstractLinearSolver | None = None,
) -> tuple[AbstractAdaptiveBasisNet, Any, dict[str, Float[Array, ""]]]:
    r"""One jitted LSGD iteration (Algorithm 1, lines 5-6) for user-written loops:
    $\xi^L \leftarrow \mathrm{LS}(\xi^H)$, one `optimiser` step on $\xi^H$, then
    $\xi^L \leftarrow \mathrm{LS}(\xi^H)$ again so the returned model is consistent.

    `opt_state` starts as `optimiser.init(hidden_parameters(model))`.

    **Returns:** `(model, opt_state, losses)` with the named losses of the returned model.
    A new optimiser object of the same structure, or a new Python-float `l2`, reuses the
    compiled step.
    """
    check_problem(model, terms)
    if not (isinstance(l2, (int, float)) and l2 == 0):
        l2 = _arr(l2, float)
    return call_hoisted(_lsgd_step_jit, (optimiser,), model, opt_state, terms, l2, solver)


@eqx.filter_jit
def _lsgd_step_jit(optimiser, model, opt_state, terms, l2, solver):
    optimiser = unhoist(optimiser)
    params, static = eqx.partition(model, hidden_filter(model))
    _, _, grad = _ls_and_grad(params, static, terms, l2, solver)
    updates, opt_state = optimiser.update(grad, opt_state, params)
    params = eqx.apply_updates(params, updates)
    new = eqx.combine(params, static)
    a = basis_matrices(new, terms)
    c = solve_head(a, terms, l2, solver)
    new = new.with_head(c.astype(model.head.weight.dtype))
    return new, opt_state, term_losses(a, c, terms)
