"""Result codes and the `Solution` container returned by every iterative routine.

Mirrors optimistix / lineax: a routine returns a `Solution` carrying its `result` code
(`RESULTS.successful` or a failure) and takes `throw: bool = True`; with `throw=True` a
failure raises at run time via `eqx.error_if`/`RESULTS.error_if`, otherwise the caller
inspects `solution.result`.
"""

from typing import Any

import equinox as eqx
from jaxtyping import Array, Int, PyTree


class RESULTS(eqx.Enumeration):
    """Outcome of an iterative jaxsci routine."""

    successful = ""
    max_steps_reached = (
        "The maximum number of steps was reached. Increase `max_steps` or loosen the "
        "tolerances."
    )
    nonfinite = (
        "A non-finite value (NaN or inf) appeared. Check the inputs for NaN/inf, lower the "
        "step size, or use float64."
    )
    singular = (
        "A matrix that should be positive definite was singular or indefinite even after "
        "jitter. Increase the noise / jitter, or remove duplicated data points."
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


class Solution(eqx.Module):
    """The output of an iterative routine.

    Attributes:
        value: the solution (any pytree).
        result: a `RESULTS` code.
        stats: scalars describing the run (number of steps, final loss, ...).
        aux: any auxiliary output (per-start objectives, histories, ...).
    """

    value: PyTree[Any]
    result: RESULTS
    stats: dict[str, Array]
    aux: PyTree[Any] = None

    @property
    def num_steps(self) -> Int[Array, ""] | None:
        return self.stats.get("num_steps")


def raise_if_failed(sol: Solution, throw: bool) -> Solution:
    """If `throw`, make a failed `sol.result` raise at run time (works under jit)."""
    if throw:
        value = sol.result.error_if(sol.value, sol.result != RESULTS.successful)
        return eqx.tree_at(lambda s: s.value, sol, value, is_leaf=lambda x: x is None)
    return sol
