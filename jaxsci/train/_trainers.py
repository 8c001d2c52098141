r"""Trainers for `jaxsci.train.fit`, in the optimistix style (`init` / `step` / `terminate`).

A trainer acts on `params`, the inexact-array leaves of the model
(`params, static = eqx.partition(model, eqx.is_inexact_array)`), and receives the user's
`loss_fn(model, args) -> (loss, terms)` and `static` to rebuild the model.

- `init(loss_fn, params, static, args) -> state`
- `step(loss_fn, params, static, args, state) -> (params, state, loss, terms, grads)`: one
  step; `loss`/`terms` are the values at the parameters *before* the step, `grads` the loss
  gradient there (a pytree like `params`) or `None` when the trainer does not form it.
- `terminate(loss_fn, params, static, args, state) -> (done, result)`: the trainer's own
  convergence test (default: never).
- `finalize(loss_fn, params, static, args, state) -> (params, stats)`: applied once after
  the loop to the returned parameters; `stats` is merged into `Solution.stats` (default:
  `(params, {})`).
- `check(loss_fn, model, args)`: Python-level input validation before compilation.
"""

from typing import Any

import equinox as eqx
import jax
import optax
import optimistix as optx

from .._solution import RESULTS

__all__ = ["AbstractTrainer", "Optax", "Optimistix", "as_trainer"]


class AbstractTrainer(eqx.Module):
    """Base class of the trainers of `jaxsci.train.fit` (see the module docstring for the
    five methods; `init` and `step` are abstract)."""

    def check(self, loss_fn, model, args) -> None:
        return None

    def init(self, loss_fn, params, static, args) -> Any:
        raise NotImplementedError

    def step(self, loss_fn, params, static, args, state):
        raise NotImplementedError

    def terminate(self, loss_fn, params, static, args, state):
        return jax.numpy.asarray(False), RESULTS.successful

    def finalize(self, loss_fn, params, static, args, state):
        return params, {}


class Optax(AbstractTrainer):
    r"""Any optax optimiser as a trainer: one `value_and_grad` and one `update` per step.

    The optimiser is wrapped with `optax.with_extra_args_support` and always receives
    `value`, `grad` and `value_fn`, so line-search optimisers (`optax.lbfgs()`) work as
    first-order ones do. A bare `optax.GradientTransformation` passed to `fit` is wrapped
    in `Optax` automatically.

    **Arguments:**
    - `optimizer`: an `optax.GradientTransformation`.
    """

    optimizer: Any

    def __check_init__(self):
        if not isinstance(self.optimizer, optax.GradientTransformation):
            raise TypeError("`Optax(optimizer)` needs an optax GradientTransformation, got "
                            f"{type(self.optimizer).__name__}.")

    def init(self, loss_fn, params, static, args):
        return optax.with_extra_args_support(self.optimizer).init(params)

    def step(self, loss_fn, params, static, args, state):
        opt = optax.with_extra_args_support(self.optimizer)

        def value(p):
            return loss_fn(eqx.combine(p, static), args)

        (loss, terms), grads = jax.value_and_grad(value, has_aux=True)(params)
        updates, state = opt.update(grads, state, params, value=loss, grad=grads,
                                    value_fn=lambda p: value(p)[0])
        return optax.apply_updates(params, updates), state, loss, terms, grads


class Optimistix(AbstractTrainer):
    r"""An optimistix minimiser (`optx.BFGS`, `optx.NonlinearCG`, ...) or least-squares
    solver (`optx.LevenbergMarquardt`, `optx.GaussNewton`, ...) as a trainer: the solver's
    own `init` / `step` / `terminate` run inside the loop of `fit`.

    A minimiser minimises the scalar `loss` of `loss_fn`. A least-squares solver needs the
    residual vector: pass `residuals(model, args) -> pytree of residuals` (minimised as
    $\tfrac12\sum r^2$, so `loss_fn` should be a multiple of it, e.g. `loss = sum(r**2)`).
    `loss_fn` is evaluated once per step (one forward pass, no gradient) for the history and
    the stops; the gradient norms are not recorded (`grads` is `None`).
    The solver's termination test (`rtol` / `atol`) ends the loop with its result code.
    Callbacks that change the model are not seen by the solver's internal state.

    **Arguments:**
    - `solver`: an `optx.AbstractMinimiser` or `optx.AbstractLeastSquaresSolver`.
    - `residuals`: required for a least-squares solver, ignored otherwise.
    """

    solver: Any
    residuals: Any = None

    def __check_init__(self):
        if not isinstance(self.solver, (optx.AbstractMinimiser,
                                        optx.AbstractLeastSquaresSolver)):
            raise TypeError("`Optimistix(solver)` needs an optimistix minimiser or least-"
                            f"squares solver, got {type(self.solver).__name__}.")
        if isinstance(self.solver, optx.AbstractLeastSquaresSolver) and self.residuals is None:
            raise TypeError("a least-squares solver needs the residual vector: pass "
                            "`Optimistix(solver, residuals=lambda model, args: ...)`.")

    def _fn(self, loss_fn, static):
        if isinstance(self.solver, optx.AbstractLeastSquaresSolver):
            return lambda p, a: (self.residuals(eqx.combine(p, static), a), None)
        return lambda p, a: (loss_fn(eqx.combine(p, static), a)[0], None)

    def init(self, loss_fn, params, static, args):
        fn = self._fn(loss_fn, static)
        f_struct, aux_struct = eqx.filter_eval_shape(fn, params, args)
        return self.solver.init(fn, params, args, {}, f_struct, aux_struct, frozenset())

    def step(self, loss_fn, params, static, args, state):
        loss, terms = loss_fn(eqx.combine(params, static), args)
        params, state, _ = self.solver.step(self._fn(loss_fn, static), params, args, {},
                                            state, frozenset())
        return params, state, loss, terms, None

    def terminate(self, loss_fn, params, static, args, state):
        done, result = self.solver.terminate(self._fn(loss_fn, static), params, args, {},
                                             state, frozenset())
        return done, RESULTS.promote(result)


def as_trainer(trainer: Any) -> AbstractTrainer:
    """`trainer` itself, or a bare optax transformation / optimistix minimiser wrapped."""
    if isinstance(trainer, AbstractTrainer):
        return trainer
    if isinstance(trainer, optax.GradientTransformation):
        return Optax(trainer)
    if isinstance(trainer, optx.AbstractMinimiser):
        return Optimistix(trainer)
    raise TypeError(
        "`trainer` must be a jaxsci.train trainer (Optax, Optimistix, LSGD, ...), an optax "
        f"GradientTransformation or an optimistix minimiser, got {type(trainer).__name__}."
    )
