r"""Strain loading paths for path-dependent materials: random loading/unloading and cyclic.

The training and test histories of a path-dependent surrogate (review seed §11, Wang & Sun
2018: LSTMs trained on "many loading paths" with loading/unloading) are piecewise-linear
strain histories with random reversal points; growing-amplitude cycles probe hysteresis
loops the random paths never showed the model.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import check_key, require_positive_int
from ._materials import check_parameter


def _times(n_steps, dtype):
    return jnp.arange(1, n_steps + 1, dtype=dtype) / n_steps


def random_strain_path(
    n_steps: int,
    *,
    key: PRNGKeyArray,
    n_segments: int = 6,
    amplitude: float | Float[Array, ""] = 0.005,
    dtype=None,
) -> Float[Array, " n_steps"]:
    r"""A random piecewise-linear strain history with `n_segments` monotone segments that
    alternate between loading and unloading.

    Knot times: $t_0 = 0 < t_1 < \dots < t_{S} = 1$ with segment lengths proportional to
    $U(0.3, 1)$ draws;
    knot strains $\varepsilon_0 = 0$ and, for a random first direction $d_1 = \pm1$ and
    $d_{k+1} = -d_k$, $\varepsilon_k = \varepsilon_{k-1} + u_k (d_k A - \varepsilon_{k-1})$,
    $u_k \sim U(0.2, 1)$: every knot is a reversal point and $|\varepsilon| \le A$
    (`amplitude`). The path is sampled at $t = 1/n, 2/n, \dots, 1$ (`n_steps` points).

    **Returns:** `(n_steps,)` total strains. Batch by `jax.vmap` over split keys.

    **Raises:** `TypeError` unless `key` is a PRNG key and `n_steps`, `n_segments` are ints
    (`ValueError` if `n_steps < 2` or `n_segments < 1`); `ValueError` unless `amplitude` is
    finite and > 0.
    """
    check_key(key)
    n_steps = require_positive_int(n_steps, "n_steps", 2)
    n_segments = require_positive_int(n_segments, "n_segments", 1)
    amplitude = check_parameter(amplitude, "amplitude", positive=True, what="largest |strain|")
    dtype = jnp.result_type(float) if dtype is None else dtype
    # One draw for everything (fewer PRNG calls compile faster): gaps, fractions, direction.
    r = jr.uniform(key, (2 * n_segments + 1,), dtype)
    gaps = 0.3 + 0.7 * r[:n_segments]
    knots_t = jnp.concatenate([jnp.zeros(1, dtype), jnp.cumsum(gaps) / jnp.sum(gaps)])
    u = 0.2 + 0.8 * r[n_segments:-1]
    d = jnp.where(r[-1] < 0.5, 1.0, -1.0).astype(dtype)
    a = jnp.asarray(amplitude, dtype)
    # n_segments is small and static: an unrolled recurrence compiles faster than a scan.
    knots_e = [jnp.zeros((), dtype)]
    for k in range(n_segments):
        knots_e.append(knots_e[-1] + u[k] * (d * a - knots_e[-1]))
        d = -d
    knots_e = jnp.stack(knots_e)
    # Piecewise-linear interpolation as a sum of clipped ramps (no search, cheap to compile).
    t = _times(n_steps, dtype)
    dt = knots_t[1:] - knots_t[:-1]
    slopes = (knots_e[1:] - knots_e[:-1]) / dt
    ramps = jnp.clip(t[:, None] - knots_t[None, :-1], 0.0, dt[None, :])
    return ramps @ slopes


def cyclic_strain_path(
    n_steps: int,
    *,
    n_cycles: int = 3,
    amplitude_start: float | Float[Array, ""] = 0.002,
    amplitude_end: float | Float[Array, ""] = 0.006,
    dtype=None,
) -> Float[Array, " n_steps"]:
    r"""Symmetric strain cycles of linearly growing amplitude (a triangle wave):
    $\varepsilon(t) = A(t)\,\tfrac{2}{\pi}\arcsin\sin(2\pi n_c t)$,
    $A(t) = A_0 + (A_1 - A_0) t$, sampled at $t = 1/n, \dots, 1$.

    **Returns:** `(n_steps,)` total strains.

    **Raises:** `TypeError`/`ValueError` unless `n_steps >= 2`, `n_cycles >= 1` are ints and the
    amplitudes are finite and > 0.
    """
    n_steps = require_positive_int(n_steps, "n_steps", 2)
    n_cycles = require_positive_int(n_cycles, "n_cycles", 1)
    a0 = check_parameter(amplitude_start, "amplitude_start", positive=True, what="first amplitude")
    a1 = check_parameter(amplitude_end, "amplitude_end", positive=True, what="last amplitude")
    dtype = jnp.result_type(float) if dtype is None else dtype
    t = _times(n_steps, dtype)
    amp = a0 + (a1 - a0) * t
    return amp * (2.0 / jnp.pi) * jnp.arcsin(jnp.sin(2.0 * jnp.pi * n_cycles * t))
