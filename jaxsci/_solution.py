"""Result codes and the `Solution` container returned by every iterative routine.

Mirrors optimistix / lineax: a routine returns a `Solution` carrying its `result` code
(`RESULTS.successful` or a failure) and takes `throw: bool = True`; with `throw=True` a
failure raises at run time via `eqx.error_if`/`RESULTS.error_if`, otherwise the caller
inspects `solution.result`.
"""

import warnings
from typing import Any, Generic, TypeVar

import diffrax as dfx
import equinox as eqx
from jaxtyping import Array, Int, PyTree


# Three inherited codes get jaxsci's own messages (what to do next, DESIGN rule 6); equinox
# warns that the message changes, which is the intent, so the warning is silenced here only.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Enumeration has duplicate", UserWarning)

    class RESULTS(dfx.RESULTS):  # pyright: ignore[reportGeneralTypeIssues]
        """Outcome of an iterative jaxsci routine.

        Extends diffrax's `RESULTS` (which extends optimistix's, which extends lineax's), as
        those libraries chain theirs: a code from a `diffeqsolve`, an optimistix or a lineax
        solve passes through unchanged with `RESULTS.promote(code)`. Inherited codes used by jaxsci:
        `successful`, `max_steps_reached`, `singular`, `nonfinite`, `nonlinear_max_steps_reached`,
        `nonlinear_divergence`, `max_steps_rejected`, `dt_min_reached`. Added here: the codes
        below; `max_steps_reached`, `nonfinite` and `singular` keep their codes (so
        `promote` maps diffrax's onto them) with messages that say what to do.
        """

        max_steps_reached = (
            "The maximum number of steps was reached. Increase `max_steps` or loosen the "
            "tolerances."
        )
        nonfinite = (
            "A non-finite value (NaN or inf) appeared. Check the inputs for NaN/inf, lower "
            "the step size, or use float64."
        )
        singular = (
            "A linear system was singular (or a matrix that should be positive definite was "
            "indefinite). For a GP kernel matrix: increase the noise / jitter or remove "
            "duplicated data points; for a Newton solve (DAE consistent initialisation): the "
            "problem may be ill-posed or of index > 1, try another initial guess."
        )

        linear_solve_failed = (
            "A linear solve failed. Use a rank-revealing solver (e.g. lineax.SVD()) or add "
            "regularisation."
        )
        nonlinear_solve_failed = (
            "A nonlinear (root-finding / minimisation) solve did not converge. Give a better "
            "initial guess or loosen the tolerances."
        )
        step_rejected = "A step was rejected and no acceptable step could be found."
        max_rounds_reached = (
            "No candidate met the budget within `max_rounds` rounds. Increase `max_rounds` or "
            "the budget, or start from a larger model."
        )
        diverged = (
            "The loss grew without bound (divergence). Lower the learning rate, or check the "
            "loss for a sign error; the returned value is the best iterate seen."
        )
        nonfinite_loss = (
            "The loss became NaN or inf. Check the data and the model for NaN/inf, lower the "
            "learning rate, or use float64; the returned value is the best iterate seen."
        )
        optimum_on_bound = (
            "The optimum lies on a bound of the search box, so the result may not be a true "
            "optimum. Rescale the data (e.g. normalise the targets) or widen the bounds."
        )


_Value = TypeVar("_Value")


class Solution(eqx.Module, Generic[_Value]):
    """The output of every iterative jaxsci routine (fits, solves, sweeps).

    Generic in the type of its value, as optimistix's `Solution` is: `fit` of an `eqx.nn.MLP`
    returns a `Solution[eqx.nn.MLP]`, `gp.fit` a `Solution[AbstractKernel]`, so a type
    checker knows what `solution.value` is.

    **Attributes:**
    - `value`: the solution (any pytree: a trained model, a kernel, a trajectory).
    - `result`: a `RESULTS` code (`RESULTS.successful` or what went wrong).
    - `stats`: scalars (or small arrays) describing the run: `num_steps`, the final `loss`,
      per-start summaries, ...
    - `history`: per-step records, a dict of arrays whose leading axis is the step
      (`"loss"`, each named loss term, ...), or `None`.
    - `state`: what is needed to continue the run (an optimiser or solver state), or `None`.
    """

    value: _Value
    result: RESULTS
    stats: dict[str, Any]
    history: PyTree[Any] = None
    state: PyTree[Any] = None

    @property
    def num_steps(self) -> Int[Array, ""] | None:
        return self.stats.get("num_steps")


def raise_if_failed(sol: Solution[_Value], throw: bool) -> Solution[_Value]:
    """If `throw`, make a failed `sol.result` raise at run time (works under jit)."""
    if throw:
        value = sol.result.error_if(sol.value, sol.result != RESULTS.successful)
        return eqx.tree_at(lambda s: s.value, sol, value, is_leaf=lambda x: x is None)
    return sol
