r"""Extended FAST: search-curve sampling and Fourier first- and total-order indices.

Cukier et al. (1973) estimate first-order indices from the Fourier spectrum of the model
along a space-filling search curve; Saltelli, Tarantola & Chan (1999) (eFAST) give each
factor in turn the high frequency $\omega_{\max}$ and the others low ones, which yields the
total-order index from the low-frequency part of the spectrum. Layout, frequencies and
estimators follow SALib 1.6 (`SALib.sample.fast_sampler`, `SALib.analyze.fast`).
"""

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from .._checks import as_float_array, check_key, check_ndim
from ._bounds import affine, check_bounds, float_dtype, nonfinite, refuse_if, require_int_in


class FASTIndices(eqx.Module):
    r"""eFAST first- and total-order indices of each factor and output.

    **Attributes** (`d` factors; the trailing `r` axis only for 2-D `Y`):

    - `first_order`: $S_i = D_i / V$ (Saltelli et al. 1999, eq. 19), shape `(d,)` or `(d, r)`.
    - `total`: $S_{T_i} = 1 - D_{\sim i} / V$ (eq. 24), same shape.
    """

    first_order: Float[Array, "d *r"]
    total: Float[Array, "d *r"]

    def __check_init__(self):
        shape = jnp.shape(self.first_order)
        if len(shape) not in (1, 2):
            raise ValueError(f"`first_order` must have shape (d,) or (d, r), got {shape}.")
        if jnp.shape(self.total) != shape:
            raise ValueError(
                f"`total` must have the shape of `first_order` {shape}, got "
                f"{jnp.shape(self.total)}."
            )


def _check_sizes(num_samples: Any, M: Any, what: str = "`num_samples`") -> tuple[int, int]:
    m = require_int_in(M, "M", 1)
    n = require_int_in(num_samples, "num_samples", 1)
    if n <= 4 * m * m:
        raise ValueError(
            f"{what} must exceed 4 M^2 = {4 * m * m} (the M harmonics of the highest "
            f"frequency must fit below the Nyquist frequency), got {n}. Use more samples or "
            "a smaller `M`."
        )
    return n, m


def fast_frequencies(num_vars: int, num_samples: int, M: int = 4) -> Int[np.ndarray, "d d"]:
    r"""The eFAST frequency of each factor on each factor's search curve (SALib's choice).

    $\omega_{\max} = \lfloor (N - 1) / (2M) \rfloor$ for the factor of interest; the others
    get $d - 1$ low frequencies $\le m = \lfloor \omega_{\max} / (2M) \rfloor$: evenly spread
    over $[1, m]$ if $m \ge d - 1$, else cycling through $1, \dots, m$ (Saltelli et al. 1999,
    section 4).

    **Arguments:** `num_vars` $d \ge 1$; `num_samples` $N > 4M^2$ points per curve; `M` the
    number of harmonics (interference factor, default 4).

    **Returns:** an integer NumPy array `(d, d)`: row $i$ holds the frequencies of all
    factors on the curve of factor $i$ (its own is $\omega_{\max}$).

    **Raises:** `TypeError` / `ValueError` for counts that are not ints or $N \le 4M^2$.
    """
    d = require_int_in(num_vars, "num_vars", 1)
    n, m = _check_sizes(num_samples, M)
    omega = np.zeros(d)
    omega[0] = math.floor((n - 1) / (2 * m))
    low = math.floor(omega[0] / (2 * m))
    if low >= d - 1:
        omega[1:] = np.floor(np.linspace(1, low, d - 1))
    else:
        omega[1:] = np.arange(d - 1) % low + 1
    table = np.empty((d, d), dtype=np.int64)
    for i in range(d):
        table[i, i] = omega[0]
        table[i, np.arange(d) != i] = omega[1:]
    return table


@eqx.filter_jit
def _curves(phases, table, n):
    s = (2 * math.pi / n) * jnp.arange(n, dtype=phases.dtype)
    w = jnp.asarray(table, phases.dtype)

    def curve(w_i, phi):
        # G_j(s) = 1/2 + arcsin(sin(w_j s + phi)) / pi, uniform on [0, 1] (Saltelli eq. 21)
        return 0.5 + jnp.arcsin(jnp.sin(w_i[None, :] * s[:, None] + phi)) / math.pi

    return jax.vmap(curve)(w, phases).reshape(-1, w.shape[0])


def fast_curves(
    phases: Float[ArrayLike, " d"], num_samples: int, M: int = 4
) -> Float[Array, "n d"]:
    r"""The eFAST search curves in $[0,1]^d$ for given random phase shifts.

    Curve $i$ is $x_j(s) = \tfrac12 + \tfrac1\pi \arcsin(\sin(\omega_{ij} s + \varphi_i))$ at
    $s_k = 2\pi k / N$, $k = 0, \dots, N - 1$, with $\omega_{ij}$ from `fast_frequencies`
    (Saltelli et al. 1999, eq. 21, with a phase shift per curve). `fast_sample` draws the
    phases; this deterministic form reproduces a SALib design from its phases.

    **Arguments:** `phases` $\varphi_i$ `(d,)`; `num_samples` $N > 4M^2$; `M` (default 4).

    **Returns:** `(N d, d)` rows: the $N$ points of curve 0, then of curve 1, ...
    (SALib's layout), dtype of `phases`.

    **Raises:** `ValueError` for `phases` that are not a non-empty vector or contain
    NaN/inf, and as `fast_frequencies`.
    """
    phi = as_float_array(phases, "phases")
    check_ndim(phi, "phases", 1, "(one phase per factor)")
    if phi.shape[0] == 0:
        raise ValueError("`phases` is empty (shape (0,)): give one phase per factor.")
    phi = refuse_if(phi, nonfinite, "`phases` contain NaN or inf; give finite angles.")
    table = fast_frequencies(phi.shape[0], num_samples, M)
    return _curves(phi, table, int(num_samples))


def fast_sample(
    key: PRNGKeyArray,
    num_vars: int,
    num_samples: int,
    M: int = 4,
    *,
    bounds: Float[ArrayLike, "d 2"] | None = None,
) -> Float[Array, "n d"]:
    r"""An eFAST design: `fast_curves` with phases $\varphi_i \sim U[0, 2\pi)$ from `key`.

    SALib's `fast_sampler.sample(problem, N, M, seed)` (same frequencies, layout and
    curves; SALib draws the phases from NumPy, here they come from `key`).

    **Arguments:**

    - `key`: a JAX PRNG key.
    - `num_vars`: $d \ge 1$; `num_samples`: $N > 4M^2$ points per curve; `M`: harmonics.
    - `bounds`: optional `(d, 2)` table of `[lower, upper]` per factor (else $[0, 1]^d$).

    **Returns:** `(N d, d)` rows, dtype of `bounds` if given.

    **Raises:** `TypeError` for a non-key `key`; `ValueError` for bad counts or `bounds`.
    """
    check_key(key)
    d = require_int_in(num_vars, "num_vars", 1)
    n, _ = _check_sizes(num_samples, M)
    dt = float_dtype(bounds)
    if bounds is not None:
        bounds = check_bounds(bounds, d, dt)
    return _sample(key, fast_frequencies(d, n, M), n, dt, bounds)


@eqx.filter_jit
def _sample(key, table, n, dtype, bounds):
    phases = 2 * math.pi * jr.uniform(key, (table.shape[0],), dtype=dtype)
    x = _curves(phases, table, n)
    return x if bounds is None else affine(x, bounds)


@eqx.filter_jit
def _analyze(y_in, d, m):
    y = y_in if y_in.ndim == 2 else y_in[:, None]
    n = y.shape[0] // d
    omega = (n - 1) // (2 * m)
    blocks = y.reshape(d, n, -1)  # (d, N, r): the curve of factor i
    spec = jnp.fft.fft(blocks, axis=1)[:, 1 : math.ceil(n / 2)]
    power = jnp.abs(spec / n) ** 2  # Lambda_k / 2 at k = 1 .. ceil(N/2) - 1
    var = 2 * jnp.sum(power, axis=1)
    first = 2 * jnp.sum(power[:, np.arange(1, m + 1) * omega - 1], axis=1)
    rest = 2 * jnp.sum(power[:, : omega // 2], axis=1)
    # an output constant along a curve to rounding: V is FFT noise (~eps^2 y^2 log N)
    eps = jnp.finfo(y.dtype).eps
    constant = var <= (100 * eps) ** 2 * jnp.mean(blocks * blocks, axis=1)
    safe = jnp.where(constant, 1.0, var)
    out = FASTIndices(
        first_order=jnp.where(constant, 0.0, first / safe),
        total=jnp.where(constant, 0.0, 1.0 - rest / safe),
    )
    return out if y_in.ndim == 2 else jax.tree_util.tree_map(lambda v: v[..., 0], out)


def fast_analyze(Y: Float[ArrayLike, "n *r"], num_vars: int, M: int = 4) -> FASTIndices:
    r"""eFAST first- and total-order indices of every output at once (one batched FFT).

    On the curve of factor $i$ (`N` points), with $\Lambda_k = 2|\hat y_k / N|^2$ the
    power at frequency $k$ ($\hat y$ the DFT), $V = \sum_{k=1}^{\lceil N/2 \rceil - 1}
    \Lambda_k$, $D_i = \sum_{p=1}^{M} \Lambda_{p\,\omega_{\max}}$ (Cukier et al. 1973;
    Saltelli et al. 1999, eq. 19) and $D_{\sim i} = \sum_{k=1}^{\lfloor \omega_{\max}/2
    \rfloor} \Lambda_k$, the spectrum below the other factors' band (eq. 24):
    $S_i = D_i / V$, $S_{T_i} = 1 - D_{\sim i}/V$ (SALib's `fast.analyze`, without its
    bootstrap CIs, which SALib itself flags as unreliable). An output constant along a
    curve to rounding ($V \le (100\varepsilon)^2\,\overline{y^2}$) gets indices 0 there.

    **Arguments:**

    - `Y`: model outputs at the rows of `fast_sample` / `fast_curves` (or SALib's design):
      `(N d,)` or `(N d, r)` for `r` outputs.
    - `num_vars`: $d$; `M`: the harmonics used for the design (default 4).

    **Returns:** `FASTIndices`, fields `(d,)` for 1-D `Y`, `(d, r)` for 2-D `Y`.

    **Raises:** `ValueError` for `Y` that is not 1-D/2-D, empty, whose length is not a
    multiple of `num_vars`, with $N \le 4M^2$, or that contains NaN/inf (`EquinoxRuntimeError`
    under `jit`).
    """
    y = as_float_array(Y, "Y")
    check_ndim(y, "Y", (1, 2), "(N d,) or (N d, r outputs)")
    d = require_int_in(num_vars, "num_vars", 1)
    if y.size == 0:
        raise ValueError(f"`Y` is empty (shape {tuple(y.shape)}): give the model outputs.")
    if y.shape[0] % d:
        raise ValueError(
            f"`Y` must have N * {d} rows (N points on each of the {d} search curves), got "
            f"{y.shape[0]} rows."
        )
    _check_sizes(y.shape[0] // d, M, "The rows of `Y` per factor")
    y = refuse_if(
        y, nonfinite, "`Y` contains NaN or inf (failed model runs?); the indices would be NaN."
    )
    return _analyze(y, d, int(M))
