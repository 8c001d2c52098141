r"""Multi-indices $\beta \in \mathbb{N}^d$ of total degree $|\beta| \le m$."""

import itertools
import math

import numpy as np

__all__ = ["total_degree_indices"]


def total_degree_indices(dimension: int, degree: int) -> np.ndarray:
    r"""All multi-indices $\beta \in \mathbb{N}^d$ with $|\beta| = \beta_1 + \dots + \beta_d
    \le m$, in graded order.

    Rows are sorted by total degree $|\beta|$, then reverse-lexicographically (larger
    $\beta_1$ first, then larger $\beta_2$, ...). Row 0 is the constant $(0, \dots, 0)$, rows
    $1..d$ are the unit vectors $e_1, \dots, e_d$, then $2e_1, e_1 + e_2, \dots$; for $d = 2$,
    $m = 2$: `(0,0), (1,0), (0,1), (2,0), (1,1), (0,2)`. There are $\binom{d + m}{d}$ rows.

    **Arguments:**

    - `dimension`: $d \ge 1$.
    - `degree`: $m \ge 0$.

    **Returns:** a NumPy `int32` array of shape `(binom(d + m, d), d)` (static data: use it
    to index tables, or `jnp.asarray` it).

    **Raises:** `ValueError` if `dimension` is not an int $\ge 1$ or `degree` not an int
    $\ge 0$.
    """
    ints = (int, np.integer)
    if not isinstance(dimension, ints) or isinstance(dimension, bool) or dimension < 1:
        raise ValueError(f"`dimension` must be a positive int, got {dimension!r}.")
    if not isinstance(degree, ints) or isinstance(degree, bool) or degree < 0:
        raise ValueError(f"`degree` must be a non-negative int, got {degree!r}.")
    dimension, degree = int(dimension), int(degree)
    rows = []
    for total in range(degree + 1):
        # Compositions of `total` into `dimension` parts; stars and bars in increasing bar
        # positions give increasing first part, so reverse for the reverse-lex order.
        block = []
        for bars in itertools.combinations(range(total + dimension - 1), dimension - 1):
            edges = (-1, *bars, total + dimension - 1)
            block.append([edges[j + 1] - edges[j] - 1 for j in range(dimension)])
        block.sort(reverse=True)
        rows.extend(block)
    out = np.asarray(rows, dtype=np.int32).reshape(-1, dimension)
    assert out.shape[0] == math.comb(dimension + degree, degree)
    return out
