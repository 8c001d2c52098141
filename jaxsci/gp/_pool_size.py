"""How many L-BFGS pool slots a fit uses (`default_batch_size`), and when the pool compacts
its tail; shared by `fit` and `fit_batched`."""

from .._checks import require_positive_int

# Default number of pool slots of `fit_batched` (see `jaxsci.gp._pool.lbfgs_pool`).
DEFAULT_POOL = 128

def _compact_tail(num_problems: int, batch_size: int, n: int) -> bool:
    """Whether the pool compacts its tail into fewer slots (a second compiled copy of the
    loop body, so more XLA compile). It pays when the run is long (a queue of starts behind
    the slots) or each evaluation is costly (n >= 100); for a single `fit` of 20 starts at
    n = 50 the extra compile costs more than the compaction saves."""
    return num_problems > batch_size or n >= 100


def default_batch_size(num_problems: int, n: int) -> int:
    r"""Default pool size: `min(num_problems, 128 (50 / n)^2)`, at least 2.

    Small GPs are overhead-bound, so many evaluations per iteration pay off (128 slots of
    n = 50 is the sweet spot on a small CPU: larger batches fall out of cache).
    Large GPs are bound by their O(n^3) Cholesky work, which batching does not speed up,
    while every slot holding a finished start wastes that work: few slots, refilled.

    **Arguments:** `num_problems` (the number of starts, e.g. `b * num_restarts`) and `n`
    (data points per GP), both Python ints >= 1.

    **Raises:** `TypeError` / `ValueError` naming the argument otherwise (before, `n = 0`
    gave a `ZeroDivisionError` and a negative count a meaningless size).
    """
    num_problems = require_positive_int(num_problems, "num_problems")
    n = require_positive_int(n, "n")
    return max(1, min(num_problems, max(2, int(DEFAULT_POOL * (50.0 / n) ** 2))))


def _check_batch_size(batch_size, num_problems, n):
    if batch_size is None:
        return default_batch_size(num_problems, n)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int or None, got {batch_size!r}.")
    return min(batch_size, num_problems)
