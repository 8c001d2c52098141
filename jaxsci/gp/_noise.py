r"""Learnable Gaussian observation noise (a `WhiteKernel` with an optional fixed part).

The observation model is $y_a = L_a f + \varepsilon_a$ with independent Gaussian
$\varepsilon_a \sim \mathcal{N}(0, \sigma^2_{(j)} + \tau_a)$: a learned variance
$\sigma^2$ (one for all outputs, or one $\sigma^2_j$ per output $j$) and a fixed,
possibly heteroscedastic part $\tau_a \ge 0$ (e.g. known measurement variances). The
covariance factorised for output $j$ is $K + \operatorname{diag}(\sigma^2_j + \tau)$
(Frankel et al., eq. 7 with $\varepsilon^2 I$ replaced by this diagonal; scikit-learn's
`WhiteKernel(noise_level=s)` plus `alpha=tau`).
"""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_value, is_concrete
from .._misc import as_float_array


class Noise(eqx.Module):
    r"""Gaussian observation noise whose variance `gp.fit` learns.

    **Arguments:**

    - `variance`: the initial learned variance $\sigma^2 > 0$: a scalar (shared by all
      outputs) or shape `(p,)` (one per output of `y (n, p)`). Stored as its logarithm
      `log_variance`, which `fit` optimises together with the kernel's leaves (log-uniform
      starts in `prior_box`, bounded by it like them; scikit-learn's `WhiteKernel` has the
      same default bounds 1e-5..1e5). Default `1e-4`.
    - `fixed`: the fixed part $\tau \ge 0$, a scalar or `(n,)` (one per observation row,
      heteroscedastic): not fitted. Default `0.0`.

    The total noise variance of row $a$ and output $j$ is
    $\exp(\texttt{log\_variance}_j) + \texttt{fixed}_a$. Pass it as `noise=` to `condition`,
    `log_marginal_likelihood`, `fit` and `fit_batched`. With derivative observations
    (`which`) the learned variance is added to every observation row, value or derivative.

    **Raises:** `ValueError` for a non-positive or non-finite `variance`, a negative or
    non-finite `fixed`, or a `variance`/`fixed` of more than one dimension (tier 2 for
    traced values: `eqx.error_if`).
    """

    log_variance: Float[Array, "*p"]
    fixed: Float[Array, "*n"]

    def __init__(
        self,
        variance: float | Float[ArrayLike, "*p"] = 1e-4,
        *,
        fixed: float | Float[ArrayLike, "*n"] = 0.0,
    ):
        v = as_float_array(variance, "variance")
        if v.ndim > 1:
            raise ValueError(
                f"`Noise(variance)` must be a scalar (shared by all outputs) or have shape "
                f"(p,) (one per output), got shape {v.shape}."
            )
        shown = "a traced value" if not is_concrete(v) else repr(variance)
        self.log_variance = check_value(
            jnp.log(v),
            ~((v > 0) & jnp.isfinite(v)),
            f"`Noise(variance)` must be positive and finite, got {shown}. Pass the initial "
            "noise variance (e.g. 1e-4); it is stored as its logarithm.",
        )
        f = as_float_array(fixed, "fixed")
        if f.ndim > 1:
            raise ValueError(
                f"`Noise(fixed=...)` must be a scalar or have shape (n,) (one variance "
                f"per observation row), got shape {f.shape}."
            )
        # an array even for a Python float: a new value must not recompile (DESIGN rule 14)
        shown = "a traced value" if not is_concrete(f) else repr(fixed)
        self.fixed = check_value(
            f,
            ~((f >= 0) & jnp.isfinite(f)),
            f"`Noise(fixed=...)` (the fixed noise variance) must be finite and >= 0, got "
            f"{shown}.",
        )

    @property
    def variance(self) -> Float[Array, "*p"]:
        """The learned variance $\\sigma^2 = \\exp(\\texttt{log\\_variance})$."""
        return jnp.exp(self.log_variance)


def check_noise_model(noise: Noise, dtype, n: int, p: int | None) -> Noise:
    """Tier 1: shapes of a `Noise` against the data (`n` rows, `p` outputs or `None` for
    `y (n,)`); casts its leaves to the data dtype; tier 2: `log_variance` finite (it can
    be edited with `eqx.tree_at` or come from an optimiser)."""
    lv = jnp.asarray(noise.log_variance)
    if lv.ndim == 1 and (p is None or lv.shape[0] != p):
        want = "a scalar (y has one output)" if p is None else f"a scalar or shape (p,) = ({p},)"
        raise ValueError(
            f"`Noise(variance)` must be {want}, got shape {lv.shape}. A per-output variance "
            "needs y of shape (n, p) with one entry per output."
        )
    if lv.ndim > 1:
        raise ValueError(f"`Noise.log_variance` must be a scalar or (p,), got shape {lv.shape}.")
    fixed = jnp.asarray(noise.fixed).astype(dtype)
    if fixed.ndim not in (0, 1) or (fixed.ndim == 1 and fixed.shape[0] != n):
        raise ValueError(
            f"`Noise(fixed=...)` must be a scalar or have shape (n,) = ({n},), one per "
            f"observation row, got shape {fixed.shape}."
        )
    lv = check_value(
        lv.astype(dtype),
        ~jnp.all(jnp.isfinite(lv)),
        "`Noise.log_variance` is NaN or inf. Rebuild the noise from a positive finite "
        "variance, e.g. `gp.Noise(1e-4)`.",
    )
    return eqx.tree_at(lambda z: (z.log_variance, z.fixed), noise, (lv, fixed))


def total_noise(log_variance, fixed, n: int) -> Float[Array, "*pn"]:
    r"""The diagonal noise: shared $\sigma^2 + \tau$, shape `()` or `(n,)`; per output
    $\sigma^2_j + \tau_a$, shape `(p, n)`."""
    s = jnp.exp(log_variance)
    if jnp.ndim(log_variance) == 0:
        return s + fixed
    return s[:, None] + jnp.broadcast_to(fixed, (n,))[None, :]
