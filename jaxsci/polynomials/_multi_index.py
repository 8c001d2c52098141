r"""Multi-indices $\beta \in \mathbb{N}^d$ of total degree $|\beta| \le m$."""

import itertools
import math

import numpy as np

__all__ = ["hyperbolic_indices", "total_degree_indices"]


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


def hyperbolic_indices(dimension: int, degree: int, q: float = 1.0) -> np.ndarray:
    r"""The hyperbolic (q-norm) truncation of Blatman & Sudret (J. Comput. Phys. 230,
    2011, eq. 23): all $\beta \in \mathbb{N}^d$ with
    $\|\beta\|_q = \left(\sum_j \beta_j^q\right)^{1/q} \le m$, in the graded order of
    `total_degree_indices` (of which it is a subset: the rows with $\|\beta\|_q \le m$).

    $q = 1$ is the total-degree set; $q < 1$ drops high-order interaction terms first
    (keeping every univariate term up to degree $m$), which is what makes sparse PCE
    affordable in many dimensions.

    **Arguments:**

    - `dimension`: $d \ge 1$.
    - `degree`: $m \ge 0$.
    - `q`: the static norm exponent, $0 < q \le 1$ (default 1).

    **Returns:** a NumPy `int32` array of shape `(s, d)`.

    **Raises:** `ValueError` for a bad `dimension` / `degree` (as `total_degree_indices`)
    or a `q` outside $(0, 1]$.
    """
    try:
        qf = float(q)
    except (TypeError, ValueError):
        raise ValueError(f"`q` must be a number in (0, 1], got {q!r:.60}.") from None
    if not 0 < qf <= 1:
        raise ValueError(
            f"`q` must lie in (0, 1] (q = 1: total degree; smaller q: fewer interaction "
            f"terms), got {q!r}."
        )
    full = total_degree_indices(dimension, degree)
    if qf == 1.0:
        return full
    norms = np.sum(full.astype(np.float64) ** qf, axis=1) ** (1 / qf)
    # a relative slack: e.g. (1, 1) with q = 0.5 has norm 4 up to rounding
    return full[norms <= degree * (1 + 1e-12)]
