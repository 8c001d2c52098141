r"""Monte-Carlo Sobol indices from a Saltelli design: Saltelli-2010 first order, Jansen total
order, Saltelli-2002 second order, bootstrap confidence intervals; many outputs at once.

References: A. Saltelli, P. Annoni, I. Azzini, F. Campolongo, M. Ratto, S. Tarantola,
"Variance based sensitivity analysis of model output. Design and estimator for the total
sensitivity index", Comput. Phys. Commun. 181 (2010) 259-270 [S2010]; M. J. W. Jansen,
"Analysis of variance designs for model output", Comput. Phys. Commun. 117 (1999) 35-43
[J1999]; A. Saltelli, "Making best use of model evaluations to compute sensitivity
indices", Comput. Phys. Commun. 145 (2002) 280-297 [S2002].
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jax.scipy.special import ndtri
from jaxtyping import Array, ArrayLike, Float, Int

from .._checks import (
    as_float_array,
    check_key,
    check_nonempty,
    check_value,
    require_positive_int,
)
from .._custom_types import Key, Sharding
from ._evaluate import evaluate_samples
from ._sampling import _check_bounds, saltelli_sample

_HIGHEST = jax.lax.Precision.HIGHEST


class SaltelliIndices(eqx.Module):
    r"""Monte-Carlo Sobol indices of every model output (leading output axes, inputs last).

    **Attributes** (`*out` the output shape, e.g. `(n_times,)`; `d` inputs):

    - `first_order`: $S_j$, shape `(*out, d)`.
    - `total`: $S_{T_j}$, shape `(*out, d)`.
    - `second_order`: $S_{jk}$, shape `(*out, d, d)`, symmetric with zero diagonal, or
      `None` (design without the $B_A^{(j)}$ rows).
    - `first_order_conf`, `total_conf`, `second_order_conf`: half-widths of the bootstrap
      confidence intervals (estimate $\pm$ half-width), same shapes, or `None` without a
      bootstrap.
    - `mean`, `variance`: mean and variance (`ddof=0`) of the output over the $2N$ rows of
      $A$ and $B$, shape `out`.
    """

    first_order: Float[Array, "*out d"]
    total: Float[Array, "*out d"]
    second_order: Float[Array, "*out d d"] | None
    first_order_conf: Float[Array, "*out d"] | None
    total_conf: Float[Array, "*out d"] | None
    second_order_conf: Float[Array, "*out d d"] | None
    mean: Float[Array, "*out"]
    variance: Float[Array, "*out"]


def _weights(indices: Int[Array, "n r"] | None, n: int, dtype) -> Float[Array, "1+r n"]:
    """Row 0: all ones (the estimate itself); row `1 + s`: how often base sample `i`
    occurs in resample `s`. Every mean of the estimators, for the estimate and for all
    resamples at once, is then one matrix product `weights @ q / N`, never a copy of the
    resampled data."""
    ones = jnp.ones((1, n), dtype)
    if indices is None:
        return ones
    r = indices.shape[1]
    counts = jnp.zeros((r, n), dtype).at[jnp.arange(r)[None, :], indices].add(1.0)
    return jnp.concatenate([ones, counts])


def _ratio(num, var, eps):
    # SALib's guard: a (resampled) variance at rounding level gives index 0, not noise
    ok = var > eps
    return jnp.where(ok, num / jnp.where(ok, var, 1.0), 0.0)


def _one_output(y, weights, num_inputs, second_order, z):
    """All indices of one output column `y` (rows,): the pointwise core, vmapped over outputs.

    Written with few reductions (each is a separately compiled kernel on CPU): two passes
    over `y`, one matrix product for every estimator mean of the estimate and all
    resamples, one more for the second-order cross terms, one standard deviation."""
    d = num_inputs
    step = 2 * d + 2 if second_order else d + 2
    n = y.shape[0] // step
    eps = jnp.finfo(y.dtype).eps
    # SALib standardises each output first: the first-order estimator is not shift
    # invariant. An output constant to rounding (spread at the level of eps |mean|) is
    # reported with all indices 0.
    mu = jnp.mean(y)
    sd = jnp.sqrt(jnp.mean((y - mu) ** 2))
    constant = sd <= 64 * eps * jnp.abs(mu)
    sd_safe = jnp.where(constant, 1.0, sd)
    yy = jnp.where(constant, 0.0, (y - mu) / sd_safe).reshape(n, step)
    a, b, ab = yy[:, 0], yy[:, -1], yy[:, 1 : d + 1]
    q = [
        (a + b)[:, None],
        (a**2 + b**2)[:, None],
        b[:, None] * (ab - a[:, None]),  # [S2010] Table 2 (b): f(B) (f(A_B^j) - f(A))
        (a[:, None] - ab) ** 2,  # [S2010] Table 2 (f) = [J1999]: (f(A) - f(A_B^j))^2
    ]
    if second_order:
        q.append((a * b)[:, None])
    m = jnp.dot(weights, jnp.concatenate(q, axis=1), precision=_HIGHEST) / n  # (1 + R, K)
    var = m[:, 1] / 2 - (m[:, 0] / 2) ** 2  # V over the 2N rows of A and B
    s1 = _ratio(m[:, 2 : 2 + d], var[:, None], eps)
    st = _ratio(0.5 * m[:, 2 + d : 2 + 2 * d], var[:, None], eps)
    parts = [s1, st]
    upper = jnp.triu(jnp.ones((d, d), dtype=bool), 1)
    if second_order:
        ba = yy[:, d + 1 : 2 * d + 1]
        # [S2002] (SALib's estimator): V_jk = 1/N sum f(B_A^j) f(A_B^k) - f(A) f(B)
        cross = jnp.einsum("si,ij,ik->sjk", weights, ba, ab, precision=_HIGHEST) / n
        v_jk = cross - m[:, -1][:, None, None]
        s2 = _ratio(v_jk, var[:, None, None], eps) - s1[:, :, None] - s1[:, None, :]
        s2 = jnp.where(upper[None], s2, 0.0)
        parts.append((s2 + jnp.swapaxes(s2, 1, 2)).reshape(-1, d * d))
    est = jnp.concatenate(parts, axis=1)  # (1 + R, 2d [+ d^2])
    mean_ab = mu + sd_safe * m[0, 0] / 2
    out = {
        "mean": jnp.where(constant, mu, mean_ab),
        "variance": jnp.where(constant, 0.0, var[0] * sd_safe**2),
        "first_order": est[0, :d],
        "total": est[0, d : 2 * d],
    }
    if second_order:
        out["second_order"] = est[0, 2 * d :].reshape(d, d)
    if weights.shape[0] > 1:
        conf = z * jnp.std(est[1:], axis=0, ddof=1)
        out["first_order_conf"] = conf[:d]
        out["total_conf"] = conf[d : 2 * d]
        if second_order:
            out["second_order_conf"] = conf[2 * d :].reshape(d, d)
    return out


def _level(conf_level) -> Float[Array, ""]:
    # an array, not a Python float: a new level must not recompile (DESIGN rule 14)
    try:
        conf = as_float_array(conf_level, "conf_level")
    except ValueError:  # JAX's message for None / a string does not name the argument
        raise TypeError(
            f"`conf_level` must be a number in (0, 1), got {type(conf_level).__name__} "
            f"({conf_level!r:.40})."
        ) from None
    if conf.ndim != 0:
        raise ValueError(f"`conf_level` must be a scalar in (0, 1), got shape {conf.shape}.")
    return conf


def saltelli_indices(
    y: Float[ArrayLike, "rows *out"],
    num_inputs: int,
    *,
    second_order: bool = False,
    key: Key | None = None,
    num_resamples: int = 100,
    conf_level: float = 0.95,
    resample_indices: Int[ArrayLike, "n r"] | None = None,
    output_chunk_size: int | None = None,
) -> SaltelliIndices:
    r"""Sobol indices of every output from model values on a Saltelli design (SALib's
    `sobol.analyze`, for all outputs at once).

    `y[r]` is the model at row `r` of `saltelli_sample(N, D, second_order=...)`: blocks
    of $D+2$ (or $2D+2$) rows $f(A_i), f(A_{B,i}^{(1..D)}), [f(B_{A,i}^{(1..D)})], f(B_i)$.
    As SALib, each output is first standardised over all rows ($y \leftarrow (y -
    \bar y)/s_y$), then, with $V = \operatorname{var}(f(A) \cup f(B))$ over the $2N$ rows
    of $A$ and $B$,

    $$S_j = \frac{1}{V}\,\frac1N \sum_{i} f(B)_i\,\bigl(f(A_B^{(j)})_i - f(A)_i\bigr)
    \qquad \text{(Saltelli et al. 2010, Table 2 (b))},$$

    $$S_{T_j} = \frac{1}{V}\,\frac{1}{2N} \sum_{i} \bigl(f(A)_i - f(A_B^{(j)})_i\bigr)^2
    \qquad \text{(Jansen 1999; Saltelli et al. 2010, Table 2 (f))},$$

    $$S_{jk} = \frac{1}{V}\,\frac1N \sum_i \bigl(f(B_A^{(j)})_i f(A_B^{(k)})_i - f(A)_i f(B)_i\bigr)
    - S_j - S_k \qquad \text{(Saltelli 2002, as SALib)}.$$

    An index whose variance $V$ is at rounding level is 0 (SALib's rule); an output that is
    constant to rounding has all indices 0 (SALib returns NaN there).

    **Bootstrap** (when `key` or `resample_indices` is given): resample $s$ draws $N$ base
    samples with replacement, `resample_indices[:, s]` (SALib's layout and draw,
    `np.random.randint(N, size=(N, num_resamples))`; otherwise `jax.random.randint` with
    `key`), and recomputes every index (including $V$) on it. The confidence half-width is
    SALib's rule, $\Phi^{-1}(\tfrac12 + \tfrac{c}{2})\,\operatorname{std}_{ddof=1}$ over the
    resamples. Internally every resample mean is one row of `counts @ q / N` (bootstrap
    counts times per-sample terms: one matrix product for all resamples, indices and
    outputs), never a copy of the resampled data.

    **Arguments:**

    - `y`: model values, shape `(N (D+2), *out)` or `(N (2D+2), *out)`; `out` may be `()`.
    - `num_inputs`: $D$ (static int).
    - `second_order`: whether `y` comes from a design with the $B_A^{(j)}$ rows.
    - `key`: PRNG key for the bootstrap resamples (`None` and no `resample_indices`: no
      confidence intervals).
    - `num_resamples`: static int >= 2 (ignored when `resample_indices` is given).
    - `conf_level`: $c \in (0, 1)$.
    - `resample_indices`: optional integer array `(N, R)` with entries in `[0, N)`.
    - `output_chunk_size`: optional static int: outputs processed at a time (`lax.map`),
      to bound memory for very many outputs.

    **Returns:** `SaltelliIndices` with indices of shape `(*out, D)` (`(*out, D, D)` for
    second order).

    **Raises:** `ValueError` (trace time) if the rows are not a multiple of $D+2$ /
    $2D+2$, `y` is empty, `resample_indices` is not `(N, R)` with $R \ge 2$; at run time
    (under `jit` as `EquinoxRuntimeError`) if `y` has NaN/inf, `conf_level` is outside
    (0, 1) or a resample index is outside `[0, N)`.
    """
    return _saltelli_indices(
        y,
        num_inputs,
        second_order=second_order,
        key=key,
        num_resamples=num_resamples,
        conf_level=_level(conf_level),
        resample_indices=resample_indices,
        output_chunk_size=output_chunk_size,
    )


@eqx.filter_jit
def _saltelli_indices(
    y, num_inputs, *, second_order, key, num_resamples, conf_level, resample_indices,
    output_chunk_size,
) -> SaltelliIndices:
    d = require_positive_int(num_inputs, "num_inputs")
    y = as_float_array(y, "y")
    if y.ndim == 0:
        raise ValueError("`y` must have a leading sample axis (rows, *out), got a scalar.")
    check_nonempty(y, "y", what="model values (rows)")
    step = 2 * d + 2 if second_order else d + 2
    rows = y.shape[0]
    if rows % step:
        layout = "2 num_inputs + 2" if second_order else "num_inputs + 2"
        raise ValueError(
            f"`y` has {rows} rows, not a multiple of {layout} = {step}: is `second_order` "
            f"({second_order}) the value used by `saltelli_sample`, and `num_inputs` = {d}?"
        )
    n = rows // step
    out_shape = y.shape[1:]
    y = check_value(
        y, ~jnp.isfinite(y), "`y` contains NaN or inf: check the model at those sample rows."
    )
    idx = None
    conf = jnp.asarray(conf_level, dtype=y.dtype)
    if resample_indices is not None:
        idx = jnp.asarray(resample_indices)
        if not jnp.issubdtype(idx.dtype, jnp.integer):
            raise TypeError(f"`resample_indices` must be integers, got dtype {idx.dtype}.")
        if idx.ndim != 2 or idx.shape[0] != n or idx.shape[1] < 2:
            raise ValueError(
                f"`resample_indices` must have shape ({n}, R) with R >= 2 (column s = the "
                f"base samples of resample s), got {idx.shape}."
            )
        idx = check_value(
            idx,
            (idx < 0) | (idx >= n),
            f"`resample_indices` must lie in [0, {n}) (base-sample numbers).",
        )
    elif key is not None:
        check_key(key)
        r = require_positive_int(num_resamples, "num_resamples", minimum=2)
        idx = jr.randint(key, (n, r), 0, n)
    if idx is not None:
        conf = check_value(
            conf, ~((conf > 0) & (conf < 1)), "`conf_level` must lie in (0, 1), e.g. 0.95."
        )
    weights = _weights(idx, n, y.dtype)
    z = ndtri(0.5 + conf / 2)
    cols = y.reshape(rows, -1).T  # (outputs, rows)

    def core(col):
        return _one_output(col, weights, d, second_order, z)

    if output_chunk_size is None:
        res = jax.vmap(core)(cols)
    else:
        chunk = require_positive_int(output_chunk_size, "output_chunk_size")
        res = jax.lax.map(core, cols, batch_size=chunk)
    res = {k: v.reshape(*out_shape, *v.shape[1:]) for k, v in res.items()}
    return SaltelliIndices(
        first_order=res["first_order"],
        total=res["total"],
        second_order=res.get("second_order"),
        first_order_conf=res.get("first_order_conf"),
        total_conf=res.get("total_conf"),
        second_order_conf=res.get("second_order_conf"),
        mean=res["mean"],
        variance=res["variance"],
    )


def sobol_analysis(
    model: Callable[[Float[Array, " d"]], Float[Array, "*out"]],
    n: int,
    bounds: Float[ArrayLike, "d 2"],
    *,
    key: Key,
    second_order: bool = False,
    num_resamples: int = 100,
    conf_level: float = 0.95,
    chunk_size: int | None = None,
    sharding: Sharding | None = None,
    output_chunk_size: int | None = None,
) -> SaltelliIndices:
    r"""Sobol indices of `model` on the box `bounds`, end to end: scrambled Saltelli design,
    vmapped (chunked, sharded) evaluation, estimators with bootstrap intervals.

    Equivalent to `saltelli_indices(evaluate_samples(model, saltelli_sample(n, D, key=k1,
    bounds=bounds, second_order=...), chunk_size=..., sharding=...), D, key=k2, ...)` with
    `k1, k2 = jax.random.split(key)`; see those for the maths (Saltelli et al. 2010; Jansen
    1999). The inputs are independent and uniform on the box; for other marginals, map the
    unit-cube design through their inverse CDFs yourself and call the pieces.

    The model costs $N(D+2)$ evaluations ($N(2D+2)$ with `second_order`).

    **Arguments:**

    - `model`: one point `(D,)` to an output of any shape (e.g. a time series).
    - `n`: base samples $N$ (static int; use a power of two).
    - `bounds`: `(D, 2)` array of `[low, high]` per input.
    - `key`: PRNG key (scrambling and bootstrap).
    - `second_order`, `num_resamples`, `conf_level`, `output_chunk_size`: as in
      `saltelli_indices`.
    - `chunk_size`, `sharding`: as in `evaluate_samples` (the sample axis).

    **Returns:** `SaltelliIndices` with indices of shape `(*out, D)`.

    **Raises:** the errors of `saltelli_sample`, `evaluate_samples` and `saltelli_indices`.
    """
    return _sobol_analysis(
        model,
        n,
        bounds,
        key=key,
        second_order=second_order,
        num_resamples=num_resamples,
        conf_level=_level(conf_level),
        chunk_size=chunk_size,
        sharding=sharding,
        output_chunk_size=output_chunk_size,
    )


@eqx.filter_jit
def _sobol_analysis(
    model, n, bounds, *, key, second_order, num_resamples, conf_level, chunk_size, sharding,
    output_chunk_size,
) -> SaltelliIndices:
    check_key(key)
    bounds = as_float_array(bounds, "bounds")
    if bounds.ndim != 2 or bounds.shape[1] != 2 or bounds.shape[0] == 0:
        raise ValueError(
            f"`bounds` must have shape (d, 2) (one [low, high] row per input, d >= 1), got "
            f"{bounds.shape}."
        )
    d = bounds.shape[0]
    bounds = _check_bounds(bounds, d)
    k_sample, k_boot = jr.split(key)
    x = saltelli_sample(n, d, key=k_sample, second_order=second_order, bounds=bounds)
    y = evaluate_samples(model, x, chunk_size=chunk_size, sharding=sharding)
    return _saltelli_indices(
        y,
        d,
        second_order=second_order,
        key=k_boot,
        num_resamples=num_resamples,
        conf_level=conf_level,
        resample_indices=None,
        output_chunk_size=output_chunk_size,
    )
