r"""Hybrid least-squares / gradient-descent training (LSGD), Gulian et al. Algorithms 1-2.

LSGD alternates a globally optimal least-squares solve for the linear head
$\xi^L = \mathrm{LS}(\xi^H)$ (eq. 12) with one optimizer step on the hidden parameters
$\xi^H$. Because $\xi^L$ minimises $\mathcal{J}$ for fixed $\xi^H$, the gradient of the
reduced objective $\xi^H \mapsto \mathcal{J}(\xi^H, \mathrm{LS}(\xi^H))$ equals
$\partial_{\xi^H}\mathcal{J}$ at fixed $\xi^L$ (the "submanifold" of the paper's figure), so
one iteration costs one forward pass (building $A$), one small least-squares solve and one
backward pass. The iteration is the `LSGD` trainer of `jaxsci.train.fit` (one
`lax.while_loop` inside one `eqx.filter_jit`, the number of steps a traced bound, the trainer
passed as a pytree), so another `num_steps` in the same power-of-two bucket, a new optimizer
object (same structure, any learning rate) or new data of the same shapes reuse the compiled
loop; `lsgd`, `joint_gd` and `two_phase_lsgd` are thin wrappers over `fit`.
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import optax
from jaxtyping import Array, Float

from .._hoist import call_hoisted, unhoist
from .._checks import check_value
from .._solution import RESULTS, Solution, raise_if_failed
from ..nn import AbstractAdaptiveBasisNet
from ._callbacks import TargetLoss
from ._loop import fit
from ._lsgd_solve import (
    _basis_losses,
    _basis_matrices,
    check_l2,
    check_problem,
    hidden_filter,
    least_squares_head,
    solve_head,
    term_losses,
    weighted_loss,
)
from ._lsgd_terms import LSTerm
from ._trainers import AbstractTrainer, Optax

__all__ = ["LSGD", "lsgd_loss", "lsgd", "two_phase_lsgd", "joint_gd", "lsgd_step",
           "hidden_parameters"]


def hidden_parameters(model: AbstractAdaptiveBasisNet) -> Any:
    r"""The hidden parameters $\xi^H$ of `model` (everything trainable but the head), as the
    pytree an optax optimizer is initialised on: `optimizer.init(hidden_parameters(m))`."""
    if not isinstance(model, AbstractAdaptiveBasisNet):
        raise TypeError("`model` must be a jaxsci.nn.AbstractAdaptiveBasisNet (MLP, ResNet, "
                        f"POUNet, ...), got {type(model).__name__}.")
    return eqx.filter(model, hidden_filter(model))


def _ls_and_grad(hidden, static, terms, l2, solver):
    """LS solve at `hidden` and the gradient of J w.r.t. `hidden` at that head."""

    def assemble(h):
        return _basis_matrices(eqx.combine(h, static), terms)

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


def lsgd_loss(model: AbstractAdaptiveBasisNet, terms: dict[str, LSTerm]
              ) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
    r"""`(J, {name: J_k})`: the multi-term loss $\mathcal{J}$ of eqs. 6 / 11 at the model's
    own head, the `loss_fn` of `fit` with the `LSGD` trainer (and with any other trainer, the
    joint gradient-descent baseline), `args` being the dict of `LSTerm`s."""
    check_problem(model, terms)   # trace time; NaN data reach fit's NaN policy
    losses = _basis_losses(model, terms)
    return weighted_loss(losses, terms), losses


class LSGD(AbstractTrainer):
    r"""The LSGD trainer (Algorithm 1; with `rho < 1` the regularised LSGD of Algorithm 2) for
    `fit(lsgd_loss, model, LSGD(optimizer), args=terms, steps=...)`.

    Each step: $\xi^L \leftarrow \mathrm{LS}_\lambda(\xi^H)$ (eq. 12), the loss
    $\mathcal{J}(\xi^H, \xi^L)$ and its gradient in $\xi^H$ at that head (one forward pass,
    one small least-squares solve, one backward pass), then one `optimizer` step on $\xi^H$.
    If the loss has not improved for `n_stag` consecutive steps, $\lambda \leftarrow
    \rho\lambda$. After the loop a last LS solve makes the head optimal for the returned
    basis; `Solution.stats` gains `"loss"` / `"losses"` (of the returned model) and `"l2"`
    (the final $\lambda$).

    `args` is the dict name -> `LSTerm` (a callback may resample its points); `loss_fn` must
    be `lsgd_loss`, and the model a `jaxsci.nn.AbstractAdaptiveBasisNet`.

    **Arguments:**
    - `optimizer`: an optax `GradientTransformation` for $\xi^H$.
    - `l2`: initial regularisation $\lambda \ge 0$ of the LS step (0: unregularised solve).
    - `rho`, `n_stag`: decay factor in $[0, 1]$ and stagnation window (positive int).
    - `solver`: lineax solver (default `AutoLinearSolver(well_posed=False)` = SVD).
    """

    optimizer: Any
    l2: Any
    rho: Any
    n_stag: Any
    solver: Any

    def __init__(self, optimizer, *, l2=0.0, rho=1.0, n_stag=1, solver=None):
        if not isinstance(optimizer, optax.GradientTransformation):
            raise TypeError("`LSGD(optimizer)` needs an optax GradientTransformation, got "
                            f"{type(optimizer).__name__}.")
        l2, rho = _validate(0, l2, rho, n_stag)
        self.optimizer = optimizer
        self.l2, self.rho, self.n_stag = _dynamic(l2, rho, n_stag)
        self.solver = solver

    def check(self, loss_fn, model, args):
        if loss_fn is not lsgd_loss:
            raise TypeError("the LSGD trainer minimises the LSGD loss of its terms: pass "
                            "`jaxsci.train.lsgd_loss` as `loss_fn` and the terms as `args`.")
        check_problem(model, args)

    def init(self, loss_fn, params, static, args):
        model = eqx.combine(params, static)
        dtype = model.head.weight.dtype
        lam = jnp.asarray(0.0 if self.l2 is None else self.l2, dtype)
        return (self.optimizer.init(hidden_parameters(model)), lam,
                jnp.asarray(jnp.inf, dtype), jnp.asarray(0, jnp.int32))

    def step(self, loss_fn, params, static, args, state):
        terms = args
        opt_state, lam, best, since = state
        model = eqx.combine(params, static)
        dtype = model.head.weight.dtype
        hidden, rest = eqx.partition(model, hidden_filter(model))
        losses, c_new, grad = _ls_and_grad(hidden, rest, terms,
                                           0.0 if self.l2 is None else lam, self.solver)
        # Points and parameters may differ in dtype: keep the carry's dtypes fixed.
        losses = {k: v.astype(dtype) for k, v in losses.items()}
        j = weighted_loss(losses, terms).astype(dtype)
        # Algorithm 2: decay the regulariser by rho after n_stag steps without improvement.
        since = jnp.where(j < best, 0, since + 1).astype(jnp.int32)
        best = jnp.minimum(best, j).astype(dtype)
        stag = since >= self.n_stag
        lam = jnp.where(stag, self.rho * lam, lam).astype(dtype)
        since = jnp.where(stag, 0, since).astype(jnp.int32)
        updates, opt_state = self.optimizer.update(grad, opt_state, hidden)
        new = eqx.combine(eqx.apply_updates(hidden, updates), rest)
        new = new.with_head(c_new.astype(dtype))
        return (eqx.filter(new, eqx.is_inexact_array), (opt_state, lam, best, since), j,
                losses, grad)

    def finalize(self, loss_fn, params, static, args, state):
        model = eqx.combine(params, static)
        lam = state[1]
        a = _basis_matrices(model, args)
        c = solve_head(a, args, 0.0 if self.l2 is None else lam, self.solver)
        dtype = model.head.weight.dtype
        model = model.with_head(c.astype(dtype))
        losses = {k: v.astype(dtype) for k, v in term_losses(a, c, args).items()}
        stats = {"loss": weighted_loss(losses, args).astype(dtype), "losses": losses,
                 "l2": lam}
        return eqx.filter(model, eqx.is_inexact_array), stats


def _validate(num_steps, l2, rho, n_stag, steps_name="num_steps"):
    if (not isinstance(num_steps, (int, np.integer)) or isinstance(num_steps, bool)
            or num_steps < 0):
        raise ValueError(f"`{steps_name}` must be a non-negative int, got {num_steps!r}.")
    l2 = check_l2(l2)
    if isinstance(rho, (int, float)):
        if not 0 <= rho <= 1:
            raise ValueError(f"`rho` must lie in [0, 1], got {rho!r}.")
    else:
        r = jnp.asarray(rho)
        if r.ndim != 0:
            raise ValueError(f"`rho` must be a scalar, got shape {r.shape}.")
        rho = check_value(r, ~((r >= 0) & (r <= 1)), "`rho` must lie in [0, 1].")
    if not isinstance(n_stag, (int, np.integer)) or isinstance(n_stag, bool) or n_stag < 1:
        raise ValueError(f"`n_stag` must be a positive int, got {n_stag!r}.")
    return l2, rho


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


def _append(h, v):
    """`h` with one more entry `v` (on the host for concrete arrays: no compilation)."""
    if isinstance(h, jax.core.Tracer) or isinstance(v, jax.core.Tracer):
        return jnp.concatenate([h, jnp.asarray(v, h.dtype)[None]])
    return jax.device_put(np.append(np.asarray(h), np.asarray(v, h.dtype)))


def _where(pred, a, b):
    if any(isinstance(x, jax.core.Tracer) for x in (pred, a, b)):
        return jnp.where(pred, a, b)
    return np.where(np.asarray(pred), np.asarray(a), np.asarray(b))


def _sub1(n):
    return n - 1 if isinstance(n, jax.core.Tracer) else np.asarray(n) - 1


def _initial(model, terms, trainer):
    """The `num_steps = 0` case: one LS solve (or none, for joint GD); a non-finite loss
    (NaN data) gives `RESULTS.nonfinite_loss` and the model unchanged."""
    if trainer is None:
        new = model
    else:
        lam = 0.0 if trainer.l2 is None else trainer.l2
        c = solve_head(_basis_matrices(model, terms), terms, lam, trainer.solver)
        new = model.with_head(c.astype(model.head.weight.dtype))
    losses = _basis_losses(new, terms)
    j = weighted_loss(losses, terms)
    ok = jnp.isfinite(j)
    dyn_new, static = eqx.partition(new, eqx.is_inexact_array)
    dyn_old = eqx.filter(model, eqx.is_inexact_array)
    new = eqx.combine(jax.tree.map(lambda a, b: jnp.where(ok, a, b), dyn_new, dyn_old), static)
    result = RESULTS.where(ok, RESULTS.successful, RESULTS.nonfinite_loss)
    return Solution(new, result, {"num_steps": jnp.asarray(0), "loss": j,
                                  "losses": losses}, {"loss": j[None]})


def _run_fit(model, terms, trainer, num_steps, target_loss, throw, joint_optimizer=None):
    """`fit` with the LSGD (or, for `joint_gd`, the Optax) trainer, history in the shape of
    Algorithm 1: `num_steps + 1` entries, the last the loss of the returned model."""
    if num_steps == 0:
        return raise_if_failed(_initial(model, terms, trainer), throw)
    stop = None if target_loss is None else TargetLoss(_target(target_loss))
    if joint_optimizer is not None:
        check_problem(model, terms)
        trainer_ = Optax(joint_optimizer)
    else:
        trainer_ = trainer
    sol = fit(lsgd_loss, model, trainer_, args=terms, steps=num_steps, stop=stop,
              throw=False)
    stats = dict(sol.stats)
    if joint_optimizer is not None:
        j, losses = _final_loss(sol.value, terms)
        stats.update({"loss": j, "losses": losses})
    reached = stats.pop("target_reached", None)
    last = stats["loss"]
    if reached is not None:
        # the step that reached the target is not applied: one gradient step fewer
        n = stats["num_steps"]
        stats["num_steps"] = _where(reached, _sub1(n), n)
        last = _where(reached, np.nan, last)
    history = {"loss": _append(sol.history["loss"], last)}
    result = sol.result
    out = Solution(sol.value, result, stats, history, sol.state)
    return raise_if_failed(out, throw)


_final_loss = eqx.filter_jit(lsgd_loss)


def _target(target_loss):
    return None if target_loss is None else _arr(target_loss, float)


def lsgd(
    model: AbstractAdaptiveBasisNet,
    terms: dict[str, LSTerm],
    optimizer: optax.GradientTransformation,
    *,
    num_steps: int,
    l2: float | Float[Array, ""] = 0.0,
    rho: float | Float[Array, ""] = 1.0,
    n_stag: int = 1,
    target_loss: float | None = None,
    solver: lx.AbstractLinearSolver | None = None,
    throw: bool = True,
) -> Solution:
    r"""LSGD (Algorithm 1; with `rho < 1` the regularised LSGD used by Algorithm 2): a thin
    wrapper of `fit(lsgd_loss, model, LSGD(optimizer, l2=, rho=, n_stag=, solver=),
    args=terms, steps=num_steps, stop=TargetLoss(target_loss))`.

    Repeats: $\xi^L \leftarrow \mathrm{LS}_\lambda(\xi^H)$ (eq. 12, `least_squares_head`),
    then one `optimizer` step on $\xi^H$ using $\nabla_{\xi^H}\mathcal{J}(\xi^H, \xi^L)$,
    for `num_steps` gradient steps, and finishes with a last LS solve, so the returned head
    is always optimal for the returned basis. $\mathcal{J}$ is the multi-term loss of
    eqs. 6 / 11 built from `terms`. If the loss has not improved for `n_stag` consecutive
    iterations, $\lambda \leftarrow \rho\lambda$ (stagnation-triggered decay).

    **Arguments:**

    - `model`: a `jaxsci.nn.AbstractAdaptiveBasisNet` (MLP, ResNet, POUNet, ...).
    - `terms`: dict name -> `LSTerm` (points, data $\mathcal{L}_k[u]$, operator, $\epsilon_k$).
    - `optimizer`: any optax `GradientTransformation` for $\xi^H$.
    - `num_steps`: maximum number of gradient steps.
    - `l2`: initial regularisation $\lambda \ge 0$ of the LS step.
    - `rho`, `n_stag`: decay factor and stagnation window for $\lambda$.
    - `target_loss`: stop as soon as $\mathcal{J} \le$ `target_loss` (else it is reported
      as `RESULTS.max_steps_reached`).
    - `solver`: lineax solver (default `AutoLinearSolver(well_posed=False)` = SVD).
    - `throw`: raise on failure (non-finite loss, target not reached).

    **Returns:** a `Solution` with the trained model as `value`; `stats` holds `num_steps`
    (gradient steps applied), `loss` (final $\mathcal{J}$), `losses` (named
    $\mathcal{J}_k$) and `l2` (final $\lambda$); `history["loss"]` has shape
    `(num_steps + 1,)`, entry $i$ the loss after $i$ gradient steps (NaN after an early
    stop); `state` as `fit`'s. A non-finite loss stops the run with
    `RESULTS.nonfinite_loss` and the best iterate (`fit`'s NaN policy).
    """
    _validate(num_steps, l2, rho, n_stag)
    trainer = LSGD(optimizer, l2=l2, rho=rho, n_stag=n_stag, solver=solver)
    check_problem(model, terms)
    return _run_fit(model, terms, trainer, num_steps, target_loss, throw)


def joint_gd(
    model: AbstractAdaptiveBasisNet,
    terms: dict[str, LSTerm],
    optimizer: optax.GradientTransformation,
    *,
    num_steps: int,
    target_loss: float | None = None,
    throw: bool = True,
) -> Solution:
    r"""The baseline LSGD is compared with: `optimizer` applied jointly to
    $(\xi^H, \xi^L)$ on the same loss $\mathcal{J}$ (eqs. 6 / 11), i.e.
    `fit(lsgd_loss, model, optimizer, args=terms, ...)`. Same arguments and return value as
    `lsgd` (no LS step, so no `l2` / `solver`)."""
    _validate(num_steps, 0.0, 1.0, 1)
    return _run_fit(model, terms, None, num_steps, target_loss, throw,
                    joint_optimizer=optimizer)


def two_phase_lsgd(
    model: AbstractAdaptiveBasisNet,
    terms: dict[str, LSTerm],
    optimizer: optax.GradientTransformation,
    *,
    num_pre_steps: int,
    num_steps: int,
    l2: float | Float[Array, ""],
    rho: float | Float[Array, ""] = 1.0,
    n_stag: int = 100,
    solver: lx.AbstractLinearSolver | None = None,
    throw: bool = True,
) -> Solution:
    r"""Two-phase LSGD (Algorithm 2): two `fit` runs with the `LSGD` trainer.

    Phase 1: `lsgd(model, num_steps=num_pre_steps, l2=l2, rho=rho, n_stag=n_stag)`, whose
    $\ell_2$ penalty on the coefficients discourages partition functions from collapsing
    (a $\delta$-scaled $\phi_\alpha$ would need $1/\delta$-scaled coefficients).
    Phase 2: `lsgd(..., num_steps=num_steps, l2=0)` from the phase-1 result, with a fresh
    optimizer state.

    **Returns:** the phase-2 `Solution`; `history["pre_loss"]` holds phase 1's history.
    """
    _validate(num_pre_steps, l2, rho, n_stag, "num_pre_steps")
    _validate(num_steps, 0.0, 0.0, 1)
    check_problem(model, terms)
    pre = _run_fit(model, terms, LSGD(optimizer, l2=l2, rho=rho, n_stag=n_stag, solver=solver),
                   num_pre_steps, None, False)
    post = _run_fit(pre.value, terms, LSGD(optimizer, solver=solver), num_steps, None, False)
    stats = dict(post.stats)
    stats["l2"] = jnp.zeros_like(pre.stats["loss"]) if "l2" not in stats else stats["l2"]
    result = RESULTS.where(pre.result == RESULTS.successful, post.result, pre.result)
    sol = Solution(post.value, result, stats,
                   {**post.history, "pre_loss": pre.history["loss"]}, post.state)
    return raise_if_failed(sol, throw)


def lsgd_step(
    model: AbstractAdaptiveBasisNet,
    opt_state: Any,
    terms: dict[str, LSTerm],
    optimizer: optax.GradientTransformation,
    *,
    l2: float | Float[Array, ""] = 0.0,
    solver: lx.AbstractLinearSolver | None = None,
) -> tuple[AbstractAdaptiveBasisNet, Any, dict[str, Float[Array, ""]]]:
    r"""One jitted LSGD iteration (Algorithm 1, lines 5-6) for user-written loops:
    $\xi^L \leftarrow \mathrm{LS}(\xi^H)$, one `optimizer` step on $\xi^H$, then
    $\xi^L \leftarrow \mathrm{LS}(\xi^H)$ again so the returned model is consistent.

    `opt_state` starts as `optimizer.init(hidden_parameters(model))`.

    **Returns:** `(model, opt_state, losses)` with the named losses of the returned model.
    A new optimizer object of the same structure, or a new Python-float `l2`, reuses the
    compiled step.

    **Raises:** as `least_squares_head` for the model, the terms and `l2`; at run time
    (`EquinoxRuntimeError`) if the returned losses are NaN/inf (NaN data or parameters, or
    a step that blew up: lower the learning rate).
    """
    check_problem(model, terms)
    l2 = check_l2(l2)
    if not (isinstance(l2, (int, float)) and l2 == 0):
        l2 = _arr(l2, float)
    return call_hoisted(_lsgd_step_jit, (optimizer,), model, opt_state, terms, l2, solver)


@eqx.filter_jit
def _lsgd_step_jit(optimizer, model, opt_state, terms, l2, solver):
    optimizer = unhoist(optimizer)
    params, static = eqx.partition(model, hidden_filter(model))
    _, _, grad = _ls_and_grad(params, static, terms, l2, solver)
    updates, opt_state = optimizer.update(grad, opt_state, params)
    params = eqx.apply_updates(params, updates)
    new = eqx.combine(params, static)
    a = _basis_matrices(new, terms)
    c = solve_head(a, terms, l2, solver)
    new = new.with_head(c.astype(model.head.weight.dtype))
    losses = term_losses(a, c, terms)
    # scalars only: the check costs nothing next to the step
    bad = ~jnp.all(jnp.isfinite(jnp.stack(list(losses.values()))))
    new = eqx.error_if(new, bad, "lsgd_step: the loss is NaN/inf. Check the terms' data and "
                       "the model for NaN/inf, or lower the learning rate.")
    return new, opt_state, losses
