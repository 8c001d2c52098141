r"""Sobol' low-discrepancy points (optionally LMS + digital-shift scrambled) and Saltelli's
cross-sampled design for Monte-Carlo Sobol indices.

The Sobol' points are built directly from the index (Gray-code order, as scipy's
`scipy.stats.qmc.Sobol` and Bratley & Fox 1988, Algorithm 659), so `n` points are one
vectorised XOR-reduction instead of a sequential loop.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Float, UInt32

from .._checks import as_float_array, check_key, check_value, require_positive_int
from .._custom_types import Key
from . import _sobol_directions

# Bits of the integer Sobol' coordinates, as scipy's default: at most 2^30 points.
BITS = 30


@functools.lru_cache(maxsize=None)
def _direction_numbers(dimension: int) -> np.ndarray:
    """Direction integers `v[j, k]` (`uint32`, shape `(dimension, BITS)`): bit `BITS-1-k`
    onwards of the k-th direction number of coordinate `j` (Bratley & Fox 1988, section 2)."""
    rows = _sobol_directions.table().split("\n")[:dimension]
    v = np.zeros((dimension, BITS), dtype=np.uint64)
    v[0, :] = 1
    for j in range(1, dimension):
        p, *m_init = (int(t) for t in rows[j].split())
        s = p.bit_length() - 1
        v[j, :s] = m_init
        for k in range(s, BITS):
            new = int(v[j, k - s])
            pow2 = 1
            for i in range(s):
                pow2 <<= 1
                if (p >> (s - 1 - i)) & 1:
                    new ^= pow2 * int(v[j, k - i - 1])
            v[j, k] = new
    v = v * (np.uint64(1) << np.arange(BITS - 1, -1, -1, dtype=np.uint64))[None, :]
    return v.astype(np.uint32)


def _scramble_directions(
    v: UInt32[Array, "d b"], rows: UInt32[Array, "d b"]
) -> UInt32[Array, "d b"]:
    """Left linear matrix scramble (Matousek 1998): the binary digits (most significant
    first) of every direction number of coordinate `j` are multiplied, mod 2, by a random
    lower-triangular unit-diagonal matrix `L_j`. Row `p` of `L_j` is the bit pattern
    `rows[j, p]` (digit `q` = bit `BITS-1-q`), masked to `q < p` plus the diagonal, so new
    digit `p` is the parity of `row_p AND v`."""
    p = jnp.arange(BITS, dtype=jnp.uint32)
    full = jnp.uint32(2**BITS - 1)
    diag = jnp.uint32(1) << (BITS - 1 - p)  # digit p
    below = full & ~((diag << 1) - 1)  # digits q < p
    rows = (rows & below[None]) | diag[None]  # (d, p)
    parity = jax.lax.population_count(rows[:, None, :] & v[:, :, None]) & 1  # (d, k, p)
    return jnp.sum(parity << (BITS - 1 - p)[None, None], axis=-1, dtype=jnp.uint32)


def _points(
    v: UInt32[Array, "d b"], shift: UInt32[Array, " d"], n: int, skip: int, dtype
) -> Float[Array, "n d"]:
    """Points `skip .. skip+n-1`: `x_i = shift XOR (XOR_k [bit k of gray(i)] v[:, k])`."""
    i = jnp.arange(skip, skip + n, dtype=jnp.uint32)
    gray = i ^ (i >> 1)
    x = jnp.broadcast_to(shift, (n, v.shape[0]))
    for k in range(max(1, (skip + n - 1).bit_length())):  # higher bits of gray(i) are 0
        bit = ((gray >> k) & 1).astype(bool)
        x = x ^ jnp.where(bit[:, None], v[None, :, k], jnp.uint32(0))
    if jnp.dtype(dtype).itemsize >= 8:
        return x.astype(dtype) * jnp.asarray(2.0**-BITS, dtype)
    # float32 holds 24 bits: truncate (rounding could give exactly 1.0)
    return (x >> (BITS - 24)).astype(dtype) * jnp.asarray(2.0**-24, dtype)


def _float_dtype(dtype):
    if dtype is None:
        return jnp.zeros(()).dtype  # float64 under jax_enable_x64, else float32
    dtype = jnp.dtype(dtype)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"`dtype` must be a floating dtype (float32 or float64), got {dtype}.")
    return dtype


def _check_counts(n, dimension, skip, max_dimension):
    n = require_positive_int(n, "n")
    dimension = require_positive_int(dimension, "dimension")
    skip = require_positive_int(skip, "skip", minimum=0)
    if dimension > max_dimension:
        raise ValueError(
            f"`dimension` must be <= {max_dimension} (the Joe-Kuo direction numbers shipped "
            f"with jaxsci), got {dimension}."
        )
    if skip + n > 2**BITS:
        raise ValueError(
            f"`n` + `skip` must be <= 2^{BITS} (the {BITS}-bit Sobol' sequence repeats "
            f"after that), got n = {n}, skip = {skip}."
        )
    return n, dimension, skip


@eqx.filter_jit
def sobol_sequence(
    n: int, dimension: int, *, key: Key | None = None, skip: int = 0, dtype=None
) -> Float[Array, "n d"]:
    r"""The first `n` points of the `dimension`-dimensional Sobol' sequence in $[0, 1)^d$.

    Coordinate $j$ of point $i$ is $x_{ij} = 2^{-30}\,\bigoplus_k g_k(i)\, v_{jk}$, the XOR
    of the direction integers $v_{jk}$ (Joe & Kuo 2008, `new-joe-kuo-6.21201`; Bratley &
    Fox 1988) selected by the bits $g_k$ of the Gray code $g(i) = i \oplus \lfloor i/2
    \rfloor$. Unscrambled, this equals `scipy.stats.qmc.Sobol(d, scramble=False)
    .random(n)` (after `fast_forward(skip)`) exactly in float64.

    With a `key`, the points are **scrambled** as scipy's `scramble=True` (Owen 1998,
    Matousek 1998): the binary digits of each coordinate's direction numbers are
    multiplied by a random lower-triangular unit-diagonal matrix over GF(2) (linear matrix
    scrambling, LMS), then a random digital shift is XORed in. Each scrambled point is
    uniform on $[0, 1)^d$ and, for $n = 2^m$, every coordinate still has exactly one point in
    each interval $[k 2^{-m}, (k+1) 2^{-m})$ (the net property is kept).

    Use $n = 2^m$: the balance properties hold for powers of two only. In float32 the
    coordinates are truncated to 24 bits (so they stay below 1).

    **Arguments:**

    - `n`: number of points, static int, `n + skip <= 2^30`.
    - `dimension`: static int, at most 1024.
    - `key`: optional PRNG key; `None` gives the unscrambled sequence.
    - `skip`: static int, points skipped first (scipy's `fast_forward`).
    - `dtype`: float dtype of the result (default: JAX's default float).

    **Returns:** shape `(n, dimension)`.

    **Raises:** `ValueError`/`TypeError` for a count that is not a positive int, a
    dimension above 1024, more than $2^{30}$ points, or a `key` that is not a PRNG key.
    """
    n, dimension, skip = _check_counts(n, dimension, skip, _sobol_directions.MAX_DIMENSION)
    dtype = _float_dtype(dtype)
    v = jnp.asarray(_direction_numbers(dimension))
    if key is None:
        shift = jnp.zeros((dimension,), jnp.uint32)
    else:
        check_key(key)
        words = jr.bits(key, (dimension, BITS + 1), jnp.uint32)  # one draw: rows of L, shift
        v = _scramble_directions(v, words[:, :BITS])
        shift = words[:, BITS] >> (32 - BITS)
    return _points(v, shift, n, skip, dtype)


def _check_bounds(bounds, num_inputs):
    bounds = as_float_array(bounds, "bounds")
    if bounds.shape != (num_inputs, 2):
        raise ValueError(
            f"`bounds` must have shape ({num_inputs}, 2) (one [low, high] row per input), got "
            f"{bounds.shape}."
        )
    return check_value(
        bounds,
        ~jnp.all(jnp.isfinite(bounds)) | jnp.any(bounds[:, 0] >= bounds[:, 1]),
        "`bounds` must be finite with low < high in every row; fix the offending input range.",
    )


@eqx.filter_jit
def saltelli_sample(
    n: int,
    num_inputs: int,
    *,
    key: Key | None = None,
    second_order: bool = False,
    bounds: Float[ArrayLike, "d 2"] | None = None,
    skip: int = 0,
    dtype=None,
) -> Float[Array, "rows d"]:
    r"""Saltelli's cross-sampled design for Sobol indices (the layout of SALib's
    `SALib.sample.sobol.sample`).

    A Sobol' sequence of $n$ points in $2D$ dimensions (`sobol_sequence`, scrambled with
    `key`) gives two independent base matrices $A$ (columns $1..D$) and $B$ (columns
    $D+1..2D$). $A_B^{(j)}$ is $A$ with column $j$ taken from $B$, and $B_A^{(j)}$ is $B$ with
    column $j$ taken from $A$ (Saltelli et al. 2010, section 3; Saltelli 2002). For every
    base sample $i$ the rows are, in this order,

    $$A_i,\; A_{B,i}^{(1)}, \dots, A_{B,i}^{(D)},\; [B_{A,i}^{(1)}, \dots, B_{A,i}^{(D)}],\; B_i,$$

    the bracket only with `second_order=True`: $n(D+2)$ or $n(2D+2)$ rows. With `bounds`
    the unit cube is mapped affinely onto $\prod_j [\text{low}_j, \text{high}_j]$
    (`x * (high - low) + low`, as SALib). Unscrambled (`key=None`) this equals SALib's
    `sample(problem, n, calc_second_order=..., scramble=False)` exactly in float64.

    **Arguments:**

    - `n`: base samples $N$ (static int; a power of two keeps the Sobol' balance).
    - `num_inputs`: $D$ (static int, at most 512).
    - `key`: PRNG key scrambling the Sobol' points (`None`: unscrambled).
    - `second_order`: include the $B_A^{(j)}$ rows (needed for second-order indices).
    - `bounds`: optional `(D, 2)` array of `[low, high]` per input.
    - `skip`, `dtype`: as in `sobol_sequence` (default dtype: that of `bounds`, if given).

    **Returns:** shape `(n * (D + 2), D)` or `(n * (2D + 2), D)`.

    **Raises:** `ValueError` for bad counts or `bounds` of the wrong shape (trace time) or
    non-finite / empty ranges (`low >= high`; at run time under `jit`).
    """
    num_inputs = require_positive_int(num_inputs, "num_inputs")
    if 2 * num_inputs > _sobol_directions.MAX_DIMENSION:
        raise ValueError(
            f"`num_inputs` must be <= {_sobol_directions.MAX_DIMENSION // 2} (the design uses "
            f"a Sobol' sequence of 2 * num_inputs dimensions), got {num_inputs}."
        )
    if bounds is not None:
        bounds = _check_bounds(bounds, num_inputs)
        dtype = bounds.dtype if dtype is None else dtype
    base = sobol_sequence(n, 2 * num_inputs, key=key, skip=skip, dtype=dtype)
    a, b = base[:, :num_inputs], base[:, num_inputs:]
    eye = jnp.eye(num_inputs, dtype=bool)[None]
    blocks = [a[:, None], jnp.where(eye, b[:, None], a[:, None])]
    if second_order:
        blocks.append(jnp.where(eye, a[:, None], b[:, None]))
    blocks.append(b[:, None])
    x = jnp.concatenate(blocks, axis=1).reshape(-1, num_inputs)
    if bounds is not None:
        bounds = bounds.astype(x.dtype)
        x = x * (bounds[:, 1] - bounds[:, 0])[None] + bounds[None, :, 0]
    return x
