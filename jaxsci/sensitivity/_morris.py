r"""Morris elementary effects: mu, mu* and sigma (Morris 1991; mu* of Campolongo, Cariboni &
Saltelli 2007) with bootstrap confidence intervals of mu*, following SALib 1.6
(`SALib.analyze.morris`), so a SALib design analysed here gives SALib's numbers. The
designs (trajectories and their selection) are in `_morris_design`.
"""

from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from .._checks import as_float_array, check_key, check_ndim, is_concrete
from .._misc import safe_sqrt
from ._bounds import nonfinite, refuse_if, require_int_in
from ._morris_design import _HIGHEST, _check_levels, _delta, _group_labels


class MorrisIndices(eqx.Module):
    r"""Morris screening measures of each factor (or group) and output.

    **Attributes** (`g` factors or groups; the trailing `r` axis only for 2-D `Y`):

    - `mu`: $\mu_i = \frac1T\sum_t EE_i^{(t)}$, shape `(g,)` or `(g, r)`.
    - `mu_star`: $\mu^*_i = \frac1T\sum_t |EE_i^{(t)}|$ (Campolongo et al. 2007, eq. 3).
    - `sigma`: the sample standard deviation ($T - 1$ in the denominator) of $EE_i$.
    - `mu_star_conf`: half-width $z_{(1+c)/2}\,\mathrm{sd}^*(\mu^*_i)$ of the bootstrap
      confidence interval of $\mu^*_i$ (SALib's `mu_star_conf`), or `None` when
      `morris_analyze` was given neither `key` nor `resample_indices`.
    """

    mu: Float[Array, "g *r"]
    mu_star: Float[Array, "g *r"]
    sigma: Float[Array, "g *r"]
    mu_star_conf: Float[Array, "g *r"] | None = None

    def __check_init__(self):
        shape = jnp.shape(self.mu)
        if len(shape) not in (1, 2):
            raise ValueError(f"`mu` must have shape (g,) or (g, r), got {shape}.")
        names = ["mu_star", "sigma"] + (["mu_star_conf"] if self.mu_star_conf is not None else [])
        for n in names:
            if jnp.shape(getattr(self, n)) != shape:
                raise ValueError(
                    f"`{n}` must have the shape of `mu` {shape}, got {jnp.shape(getattr(self, n))}."
                )


@eqx.filter_jit
def _analyze(x, y, labels, num_levels, idx, key, num_resamples, conf_level):
    g = max(labels) + 1
    k = g + 1
    t = x.shape[0] // k
    y2 = y if y.ndim == 2 else y[:, None]
    dx = jnp.diff(x.reshape(t, k, -1), axis=1)  # (t, g, d)
    dy = jnp.diff(y2.reshape(t, k, -1), axis=1)  # (t, g, r)
    moves = dx != 0
    step = jnp.argmax(moves, axis=1)  # the step at which each factor moves, (t, d)
    sign = jnp.sign(jnp.take_along_axis(dx, step[:, None, :], axis=1)[:, 0, :])
    ee = sign[..., None] * dy[jnp.arange(t)[:, None], step] / _delta(num_levels)  # (t, d, r)
    mu = jnp.mean(ee, axis=0)
    mu_star = jnp.mean(jnp.abs(ee), axis=0)
    sigma = safe_sqrt(jnp.var(ee, axis=0, ddof=1))  # finite gradient at sigma = 0
    conf = None
    if key is not None and idx is None:
        idx = jr.randint(key, (x.shape[1], num_resamples, t), 0, t)
    if idx is not None:
        # bootstrap means as multiplicities @ |EE|: O(d b r) memory, not O(d b T r)
        counts = jax.vmap(jax.vmap(lambda i: jnp.zeros(t, ee.dtype).at[i].add(1.0)))(idx)
        res = jnp.einsum("jbt,tjo->jbo", counts, jnp.abs(ee), precision=_HIGHEST) / t
        z = jax.scipy.special.ndtri(0.5 + 0.5 * jnp.asarray(conf_level, ee.dtype))
        conf = z * jnp.std(res, axis=1, ddof=1)
    if g != x.shape[1]:
        member = jax.nn.one_hot(jnp.asarray(labels), g, dtype=ee.dtype)  # (d, g)
        size = jnp.sum(member, axis=0)[:, None]

        def avg(v):
            return jnp.dot(member.T, v, precision=_HIGHEST) / size

        mu, mu_star, sigma = avg(mu), avg(mu_star), avg(sigma)
        conf = None if conf is None else avg(conf)
    out = MorrisIndices(mu, mu_star, sigma, conf)
    if y.ndim == 1:
        out = jax.tree_util.tree_map(lambda v: v[..., 0], out)
    return out, jnp.any(jnp.sum(moves, axis=1) != 1)


def morris_analyze(
    X: Float[ArrayLike, "n d"],
    Y: Float[ArrayLike, "n *r"],
    num_levels: int = 4,
    *,
    groups: Sequence[Any] | None = None,
    key: PRNGKeyArray | None = None,
    num_resamples: int = 100,
    conf_level: float = 0.95,
    resample_indices: Int[ArrayLike, "d b n_traj"] | None = None,
) -> MorrisIndices:
    r"""Elementary effects and Morris' $\mu$, $\mu^*$, $\sigma$ of every output at once.

    For trajectory $t$ and factor $i$ moving between consecutive points $x \to x'$,
    $EE_i^{(t)} = \operatorname{sign}(x'_i - x_i)\,(y(x') - y(x))/\Delta$ with
    $\Delta = p/(2(p-1))$ (Morris 1991, eq. 2.1, in unit-cube steps as SALib: scaling
    `X` to `bounds` does not change $EE$). $\mu$, $\mu^*$ (Campolongo et al. 2007) and
    $\sigma$ as in `MorrisIndices`. The bootstrap resamples the $T$ effects of each factor
    with replacement `num_resamples` times; the half-width is
    $\Phi^{-1}(\tfrac12 + \tfrac c2)\,\mathrm{sd}(\mu^*_{\text{resampled}})$ (SALib's
    `mu_star_conf`). With `groups`, each group's value is the mean over its factors
    (SALib's grouped $\mu$, $\mu^*$ and confidence; SALib reports `sigma = NaN` for groups
    of more than one factor, here it is the mean of the factors' $\sigma$).

    **Arguments:**

    - `X`: the design `(T (g + 1), d)` (from `morris_sample` or SALib), trajectory by trajectory.
    - `Y`: model outputs `(T (g + 1),)` or `(T (g + 1), r)`: all `r` outputs at once.
    - `num_levels`: the $p$ the design was drawn with (it fixes $\Delta$).
    - `groups`: the labels the design was drawn with, or `None`.
    - `key`: PRNG key for the bootstrap; `resample_indices`: or the indices themselves,
      `(d, b, T)` integers in $[0, T)$ (SALib draws `rng.integers(T, size=(b, T))` per factor).
      With neither, `mu_star_conf` is `None`.
    - `num_resamples`: $b \ge 2$ when drawing with `key`; `conf_level`: $c \in (0, 1)$.

    **Returns:** `MorrisIndices`, each field `(g,)` for 1-D `Y`, `(g, r)` for 2-D `Y`.

    **Raises:** `ValueError` for shapes that do not fit (`X` not `(n, d)`, `n` not a
    multiple of $g + 1$, fewer than 2 trajectories, `Y` rows $\ne n$), NaN/inf in `X` or
    `Y`, an `X` that is not a Morris design (a factor that does not move exactly once per
    trajectory: wrong `groups`, shuffled rows), bad `resample_indices`, `conf_level` or
    `num_levels` (value checks raise `EquinoxRuntimeError` under `jit`).
    """
    x = as_float_array(X, "X")
    y = as_float_array(Y, "Y")
    check_ndim(x, "X", 2, "(n points, d factors)")
    check_ndim(y, "Y", (1, 2), "(n,) or (n, r outputs)")
    n, d = x.shape
    if d == 0 or n == 0:
        raise ValueError(f"`X` is empty (shape {tuple(x.shape)}): give the Morris design rows.")
    labels = _group_labels(groups, d)
    k = max(labels) + 2
    if n % k or n // k < 2:
        raise ValueError(
            f"`X` must have T * {k} rows (T >= 2 trajectories of {k} points for {k - 1} "
            f"{'groups' if groups is not None else 'factors'}), got {n} rows."
        )
    if y.shape[0] != n:
        raise ValueError(
            f"`Y` must have {n} rows (one per row of `X`), got shape {tuple(y.shape)}."
        )
    if y.ndim == 2 and y.shape[1] == 0:
        raise ValueError(f"`Y` is empty (shape {tuple(y.shape)}): give at least one output.")
    p = _check_levels(num_levels)
    x = refuse_if(x, nonfinite, "`X` contains NaN or inf; give the design rows.")
    y = refuse_if(
        y, nonfinite, "`Y` contains NaN or inf (failed model runs?); the effects would be NaN."
    )
    t = n // k
    idx, b = None, None
    if resample_indices is not None or key is not None:
        if isinstance(conf_level, (int, float, np.floating)) and not isinstance(conf_level, bool):
            if not 0 < conf_level < 1:
                raise ValueError(f"`conf_level` must lie in (0, 1) (e.g. 0.95), got {conf_level}.")
            conf_level = float(conf_level)
        elif isinstance(conf_level, jax.Array) and conf_level.shape == ():
            conf_level = refuse_if(
                conf_level,
                lambda xp, c: ~((c > 0) & (c < 1)),
                "`conf_level` must lie in (0, 1) (e.g. 0.95).",
            )
        else:
            raise TypeError(f"`conf_level` must be a float in (0, 1), got {conf_level!r:.60}.")
        if resample_indices is not None:
            idx = jnp.asarray(resample_indices)
            if not jnp.issubdtype(idx.dtype, jnp.integer):
                raise TypeError(f"`resample_indices` must be integers, got dtype {idx.dtype}.")
            if idx.ndim != 3 or idx.shape[0] != d or idx.shape[2] != t or idx.shape[1] < 2:
                raise ValueError(
                    f"`resample_indices` must have shape ({d}, b >= 2, {t}) (factor, resample, "
                    f"trajectory), got {tuple(idx.shape)}."
                )
            idx = refuse_if(
                idx, lambda xp, i: (i < 0) | (i >= t), f"`resample_indices` must lie in [0, {t})."
            )
            key = None
        else:
            check_key(key)
            b = require_int_in(num_resamples, "num_resamples", 2)
    else:
        conf_level = None
    out, not_design = _analyze(x, y, labels, p, idx, key, b, conf_level)
    if is_concrete(not_design):
        if bool(not_design):
            raise ValueError(_NOT_DESIGN)
        return out
    return eqx.tree_at(lambda o: o.mu, out, eqx.error_if(out.mu, not_design, _NOT_DESIGN))


_NOT_DESIGN = (
    "`X` is not a Morris design: each factor must change exactly once between consecutive "
    "points of each trajectory (check `groups`, `num_levels` and that the rows are in "
    "trajectory order)."
)
