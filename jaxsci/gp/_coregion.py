r"""Multi-output GPs by coregionalisation: the intrinsic and linear coregionalisation models.

$p$ outputs $f_0, \dots, f_{p-1}$ are modelled jointly by one GP on *augmented inputs*
$(x, i)$, where $i \in \{0, \dots, p-1\}$ is the output (task) index, stored as a float
in the last column of the input array (as GPy and GPflow do). The intrinsic
coregionalisation model (ICM; Bonilla, Chai & Williams 2008, eq. 2; Alvarez, Rosasco &
Lawrence 2012, "Kernels for vector-valued functions", eq. 23) is

$$k\big((x, i), (x', j)\big) = B_{ij}\,k_x(x, x'),\qquad B = W W^T + \operatorname{diag}(\kappa),$$

with $W \in \mathbb{R}^{p \times r}$ (rank $r$) and $\kappa \in \mathbb{R}^p_{>0}$, so $B$ is
symmetric positive definite. For isotopic data (every output observed at the same $n$
points, listed output-major) the Gram matrix is the Kronecker product $B \otimes K_x$.
The linear coregionalisation model (LCM; Alvarez et al. eq. 20) sums $Q$ of them,
$k = \sum_q B_q\,k_q(x, x')$.

Everything else is the ordinary single-output machinery on the augmented inputs:
`condition`, `predict`, `log_marginal_likelihood`, `fit` (with $W$ unconstrained, declared
in `Coregionalization.unconstrained_fields`) and derivative observations in $x$.
"""

import math
from collections.abc import Sequence
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_nonempty, check_value, is_concrete, require_positive_int
from .._misc import as_float_array
from ..kernels import AbstractKernel
from ._posterior import Posterior, predict

_HIGHEST = jax.lax.Precision.HIGHEST

# A task index further than this from an integer is refused (a column that is not a task
# index, e.g. the inputs passed without `stack_outputs`); closer values are rounded.
_INDEX_TOL = 1e-3


def _log_positive(value, name: str) -> Float[Array, "..."]:
    arr = as_float_array(value, name)
    shown = repr(value) if is_concrete(arr) else "a traced value"
    return check_value(
        jnp.log(arr),
        ~((arr > 0) & jnp.isfinite(arr)),
        f"`{name}` must be positive and finite, got {shown}. Pass a positive finite value "
        "(it is stored as its logarithm).",
    )


def _points(X, name: str) -> Float[Array, "n d1"]:
    """Tier 1: a 2-D array of augmented points, at least one row and 2 columns."""
    X = as_float_array(X, name)
    if X.ndim != 2:
        raise ValueError(
            f"`{name}` must be a 2-D array of augmented points (n, d + 1), got shape {X.shape}."
        )
    check_nonempty(X, name)
    _check_augmented_columns(X.shape[1], name)
    return X


def _point_pair(x, y) -> None:
    for v, name in ((x, "x"), (y, "y")):
        if jnp.ndim(v) != 1:
            raise ValueError(
                f"`{name}` must be a single augmented point of shape (d + 1,), got shape "
                f"{jnp.shape(v)}. Call the kernel itself, `icm(X1, X2)`, for Gram matrices."
            )
    if jnp.shape(x) != jnp.shape(y):
        raise ValueError(
            f"`x` and `y` must have the same shape (d + 1,), got {jnp.shape(x)} and {jnp.shape(y)}."
        )
    _check_augmented_columns(jnp.shape(x)[0], "x")


class Coregionalization(eqx.Module):
    r"""The output covariance of the ICM, $B = W W^T + \operatorname{diag}(\kappa)$ (`p x p`).

    **Arguments:**

    - `num_outputs`: $p \ge 1$, the number of outputs (tasks).
    - `rank`: $r$, the number of columns of $W$, $1 \le r \le p$ (rank $p$ already spans
      every PSD $B$). Default: `W.shape[1]` if `W` is given, else 1.
    - `W`: optional `(p, r)` initial mixing matrix, any sign. Default (deterministic,
      non-zero): $W_{ik} = \cos\big(\pi k (2i + 1) / (2p)\big) / \sqrt{r}$, the first $r$
      DCT-II basis vectors: column 0 is constant (all outputs start positively
      correlated) and the columns are orthogonal, so a gradient optimiser does not keep
      them equal (identical columns would stay identical and $B$ would stay rank one).
    - `kappa`: the positive per-output variance $\kappa$, a scalar (shared start value)
      or a `(p,)` vector; stored as `log_kappa (p,)`.

    **Fields:** `W (p, r)` (unconstrained: `gp.fit` starts every restart at its value and
    does not bound it, see `unconstrained_fields`), `log_kappa (p,)` (log-uniform starts in
    the prior box, like every `log_*` leaf). The scale of $B$ and the kernel variance are
    not separately identifiable (only their product enters); `fit` finds one of the
    equivalent optima.

    **Raises:** `TypeError`/`ValueError` for a non-integer or non-positive `num_outputs`
    or `rank`, `rank > num_outputs`, `W` of the wrong shape or with NaN/inf entries, and
    `kappa` of the wrong shape or not positive and finite.
    """

    unconstrained_fields: ClassVar[tuple[str, ...]] = ("W",)

    W: Float[Array, "p r"]
    log_kappa: Float[Array, " p"]

    def __init__(
        self,
        num_outputs: int,
        rank: int | None = None,
        W: Float[ArrayLike, "p r"] | None = None,
        kappa: float | Float[ArrayLike, "*p"] = 1.0,
    ):
        p = require_positive_int(num_outputs, "num_outputs")
        if W is not None:
            W = as_float_array(W, "W")
            if W.ndim != 2 or W.shape[0] != p or W.shape[1] == 0:
                raise ValueError(
                    f"`W` must have shape (num_outputs, rank) = ({p}, r) with r >= 1, got shape "
                    f"{W.shape}."
                )
            if rank is not None and require_positive_int(rank, "rank") != W.shape[1]:
                raise ValueError(
                    f"`rank` = {rank} but `W` has {W.shape[1]} columns; leave `rank` out when "
                    "passing `W`."
                )
            W = check_value(
                W, ~jnp.isfinite(W), "`W` contains NaN or inf; pass a finite (p, rank) matrix."
            )
        else:
            r = 1 if rank is None else require_positive_int(rank, "rank")
            if r > p:
                raise ValueError(
                    f"`rank` must be at most `num_outputs` = {p} (rank {p} already spans every "
                    f"positive semi-definite B), got {r}."
                )
            i = jnp.arange(p)[:, None] + 0.5
            k = jnp.arange(r)[None, :]
            W = as_float_array(jnp.cos(math.pi * k * i / p) / math.sqrt(r), "W")
        log_kappa = _log_positive(kappa, "kappa")
        if log_kappa.ndim > 1 or (log_kappa.ndim == 1 and log_kappa.shape[0] != p):
            raise ValueError(
                f"`kappa` must be a scalar or have shape (num_outputs,) = ({p},), got shape "
                f"{log_kappa.shape}."
            )
        dtype = jnp.result_type(W.dtype, log_kappa.dtype)
        self.W = W.astype(dtype)
        self.log_kappa = jnp.broadcast_to(log_kappa, (p,)).astype(dtype)

    @property
    def num_outputs(self) -> int:
        return self.W.shape[0]

    @property
    def rank(self) -> int:
        return self.W.shape[1]

    @property
    def kappa(self) -> Float[Array, " p"]:
        return jnp.exp(self.log_kappa)

    @property
    def B(self) -> Float[Array, "p p"]:
        r"""The output covariance $B = W W^T + \operatorname{diag}(\kappa)$."""
        return jnp.matmul(self.W, self.W.T, precision=_HIGHEST) + jnp.diag(jnp.exp(self.log_kappa))


def _check_coregion(coregion, name: str = "coregion") -> Coregionalization:
    if not isinstance(coregion, Coregionalization):
        raise TypeError(
            f"`{name}` must be a jaxsci.gp.Coregionalization, got {type(coregion).__name__}. "
            "Build one with `gp.Coregionalization(num_outputs, rank)`."
        )
    return coregion


def _check_augmented_columns(d_aug: int, name: str) -> None:
    if d_aug < 2:
        raise ValueError(
            f"`{name}` must hold augmented inputs [x (d columns), task index (last column)], "
            f"so at least 2 columns, got {d_aug}. Build them with `gp.stack_outputs` or "
            "`gp.stack_isotopic`."
        )


def _task_index(t: Float[Array, "*n"], p: int, name: str):
    r"""The task column as integers in `[0, p)`: rounded, refused (tier 1 when concrete,
    else `eqx.error_if`) if an entry is non-finite, further than 1e-3 from an integer, or
    out of range. Rounding is piecewise constant, so no derivative flows through it."""
    r = jnp.round(t)
    bad = ~jnp.isfinite(t) | (jnp.abs(t - r) > _INDEX_TOL) | (r < 0) | (r > p - 1)
    r = check_value(
        r,
        bad,
        f"The task index (last column of `{name}`) must hold integers 0..{p - 1} (the output "
        "of each row); got a value out of range, non-integer or NaN/inf. Build augmented "
        "inputs with `gp.stack_outputs` or `gp.stack_isotopic`.",
    )
    return jnp.clip(r, 0, p - 1).astype(jnp.int32)


class ICM(AbstractKernel):
    r"""Intrinsic coregionalisation kernel on augmented inputs `[x, task index]`:

    $$k\big((x, i), (x', j)\big) = B_{ij}\,k_x(x, x')$$

    (Bonilla et al. 2008 eq. 2; Alvarez et al. 2012 eq. 23), with $B$ from `coregion`.

    **Arguments:**

    - `kernel`: $k_x$, any `jaxsci.kernels.AbstractKernel` on the `d` input columns.
    - `coregion`: a `Coregionalization` with $p$ outputs.

    Each input row is `[x_1, ..., x_d, i]` with the task index $i \in \{0..p-1\}$ as a
    float (rounded; a concrete value out of range, non-integer or NaN raises `ValueError`,
    a traced one raises at run time). The Gram matrix `icm(X1, X2)` is formed as
    $B[t_1, t_2] \odot K_x(X_1, X_2)$ with the one-hot matrices of the task indices
    (no double `vmap`); for isotopic data in output-major order it is $B \otimes K_x$.

    **Derivative observations** (`which` in `condition`/`predict`/`fit`): `which = a` for
    $a < d$ is $\partial f_i / \partial x_a$, with covariances $B_{ij}\,\partial k_x$; the
    task column (`which = d`) is not differentiable (the index is rounded), its
    "derivative" covariance is identically 0: do not use it.

    **Raises:** `TypeError` if `kernel` is not an `AbstractKernel` or `coregion` not a
    `Coregionalization`; `ValueError` for inputs with fewer than 2 columns or a bad task
    index (above).
    """

    kernel: AbstractKernel
    coregion: Coregionalization

    def __check_init__(self):
        if not isinstance(self.kernel, AbstractKernel):
            raise TypeError(
                f"`kernel` must be a jaxsci.kernels.AbstractKernel (the input kernel k_x), got "
                f"{type(self.kernel).__name__}."
            )
        _check_coregion(self.coregion)

    @property
    def num_outputs(self) -> int:
        return self.coregion.num_outputs

    def evaluate(self, x: Float[Array, " d1"], y: Float[Array, " d1"]) -> Float[Array, ""]:
        _point_pair(x, y)
        p = self.coregion.num_outputs
        i = _task_index(x[-1], p, "x")
        j = _task_index(y[-1], p, "y")
        return self.coregion.B[i, j] * self.kernel.evaluate(x[:-1], y[:-1])

    def _one_hot(self, X, name):
        p = self.coregion.num_outputs
        return jax.nn.one_hot(_task_index(X[:, -1], p, name), p, dtype=X.dtype)

    def __call__(self, X1: Float[ArrayLike, "n d1"], X2: Float[ArrayLike, "m d1"]) -> Float[Array, "n m"]:
        r"""Gram matrix $B[t_1, t_2] \odot K_x(X_1, X_2)$, `(n, m)`."""
        same = X1 is X2  # the training Gram: read (and check) the task column once
        X1, X2 = _points(X1, "X1"), _points(X2, "X2")
        if X1.shape[1] != X2.shape[1]:
            raise ValueError(
                f"`X1` and `X2` must have the same number of columns (d + 1), got shapes "
                f"{X1.shape} and {X2.shape}."
            )
        E1 = self._one_hot(X1, "X1")
        E2 = E1 if same else self._one_hot(X2, "X2")
        B = self.coregion.B.astype(X1.dtype)
        Bt = jnp.matmul(jnp.matmul(E1, B, precision=_HIGHEST), E2.T, precision=_HIGHEST)
        return Bt * self.kernel(X1[:, :-1], X2[:, :-1])

    def diag(self, X: Float[ArrayLike, "n d1"]) -> Float[Array, " n"]:
        r"""$B_{t_a t_a}\,k_x(x_a, x_a)$ without forming the Gram matrix."""
        X = _points(X, "X")
        b = jnp.diagonal(self.coregion.B).astype(X.dtype)
        return jnp.matmul(self._one_hot(X, "X"), b, precision=_HIGHEST) * self.kernel.diag(X[:, :-1])


class LCM(AbstractKernel):
    r"""Linear coregionalisation kernel: a sum of ICMs (Alvarez et al. 2012, eq. 20),

    $$k\big((x, i), (x', j)\big) = \sum_{q=1}^{Q} (B_q)_{ij}\,k_q(x, x').$$

    **Arguments:**

    - `kernels`: a sequence of $Q \ge 1$ input kernels $k_q$.
    - `coregions`: a sequence of $Q$ `Coregionalization`s, all with the same $p$.

    **Fields:** `terms`, the tuple of $Q$ `ICM(k_q, coregion_q)`. Inputs, Gram matrix and
    derivative observations as for `ICM`.

    **Raises:** `TypeError` for arguments that are not sequences of kernels /
    `Coregionalization`s; `ValueError` for empty or unequal-length sequences or
    coregionalisations with different numbers of outputs.
    """

    terms: tuple[ICM, ...]

    def __init__(self, kernels: Sequence[AbstractKernel], coregions: Sequence[Coregionalization]):
        for name, seq in (("kernels", kernels), ("coregions", coregions)):
            if not isinstance(seq, (list, tuple)):
                raise TypeError(f"`{name}` must be a list or tuple, got {type(seq).__name__}.")
        if len(kernels) == 0 or len(kernels) != len(coregions):
            raise ValueError(
                f"`kernels` and `coregions` must be non-empty and of equal length (one "
                f"coregionalisation per latent kernel), got {len(kernels)} and {len(coregions)}."
            )
        for q, c in enumerate(coregions):
            _check_coregion(c, f"coregions[{q}]")
        ps = {c.num_outputs for c in coregions}
        if len(ps) != 1:
            raise ValueError(
                f"All `coregions` must have the same number of outputs, got {sorted(ps)}."
            )
        self.terms = tuple(ICM(k, c) for k, c in zip(kernels, coregions))

    @property
    def num_outputs(self) -> int:
        return self.terms[0].num_outputs

    def evaluate(self, x: Float[Array, " d1"], y: Float[Array, " d1"]) -> Float[Array, ""]:
        return sum(t.evaluate(x, y) for t in self.terms)

    def __call__(self, X1: Float[ArrayLike, "n d1"], X2: Float[ArrayLike, "m d1"]) -> Float[Array, "n m"]:
        """Gram matrix: the sum of the terms' Gram matrices, `(n, m)`."""
        return sum(t(X1, X2) for t in self.terms)

    def diag(self, X: Float[ArrayLike, "n d1"]) -> Float[Array, " n"]:
        return sum(t.diag(X) for t in self.terms)


def stack_outputs(
    X_list: Sequence[Float[ArrayLike, "n_j d"]], y_list: Sequence[Float[ArrayLike, " n_j"]]
) -> tuple[Float[Array, "N d1"], Float[Array, " N"]]:
    r"""Stack heterotopic multi-output data (each output at its own points) for `ICM`/`LCM`.

    **Arguments:**

    - `X_list`: $p$ arrays `(n_j, d)`, the inputs where output $j$ is observed (an output
      with no data is an array of shape `(0, d)`).
    - `y_list`: $p$ arrays `(n_j,)`, the observations of output $j$.

    **Returns:** `(X_aug (N, d + 1), y (N,))`, $N = \sum_j n_j$: the rows of output 0,
    then output 1, ...; the last column of `X_aug` is the task index $j$ (a float).

    **Raises:** `TypeError` if the arguments are not lists/tuples of arrays; `ValueError`
    for lists of different lengths or no outputs, inputs that are not 2-D with a common
    `d >= 1`, observations whose shape is not `(n_j,)`, or no data at all.
    """
    for name, seq in (("X_list", X_list), ("y_list", y_list)):
        if not isinstance(seq, (list, tuple)):
            raise TypeError(
                f"`{name}` must be a list or tuple with one array per output, got "
                f"{type(seq).__name__}. For outputs observed at the same points use "
                "`gp.stack_isotopic(X, Y)`."
            )
    if len(X_list) == 0 or len(X_list) != len(y_list):
        raise ValueError(
            f"`X_list` and `y_list` must have one entry per output (same non-zero length), got "
            f"{len(X_list)} and {len(y_list)}."
        )
    Xs = [as_float_array(X, f"X_list[{j}]") for j, X in enumerate(X_list)]
    ys = [as_float_array(y, f"y_list[{j}]") for j, y in enumerate(y_list)]
    d = Xs[0].shape[1] if Xs[0].ndim == 2 else None
    for j, (X, y) in enumerate(zip(Xs, ys)):
        if X.ndim != 2 or X.shape[1] != d or d == 0:
            raise ValueError(
                f"`X_list[{j}]` must have shape (n_{j}, d) with the same d >= 1 for every output "
                f"(d = {d} from `X_list[0]`), got shape {X.shape}. Use `x[:, None]` for 1-D inputs."
            )
        if y.shape != (X.shape[0],):
            raise ValueError(
                f"`y_list[{j}]` must have shape (n_{j},) = ({X.shape[0]},) matching `X_list[{j}]`, "
                f"got shape {y.shape}."
            )
    if sum(X.shape[0] for X in Xs) == 0:
        raise ValueError("`X_list` holds no points at all: give at least one observation.")
    dtype = jnp.result_type(*Xs, *ys)
    X_aug = jnp.concatenate(
        [jnp.concatenate([X.astype(dtype), jnp.full((X.shape[0], 1), j, dtype)], axis=1) for j, X in enumerate(Xs)]
    )
    return X_aug, jnp.concatenate([y.astype(dtype) for y in ys])


def _augment(X: Float[Array, "n d"], p: int) -> Float[Array, "np d1"]:
    """All `p` outputs at every point, output-major: row `j n + a` is `[X_a, j]`."""
    n = X.shape[0]
    tasks = jnp.repeat(jnp.arange(p, dtype=X.dtype), n)[:, None]
    return jnp.concatenate([jnp.tile(X, (p, 1)), tasks], axis=1)


def stack_isotopic(
    X: Float[ArrayLike, "n d"], Y: Float[ArrayLike, "n p"]
) -> tuple[Float[Array, "np d1"], Float[Array, " np"]]:
    r"""Stack isotopic multi-output data (all $p$ outputs observed at the same points).

    **Arguments:** `X (n, d)`, the points; `Y (n, p)`, column $j$ the observations of
    output $j$.

    **Returns:** `(X_aug (n p, d + 1), y (n p,))` in output-major order: row $j n + a$ is
    `[X[a], j]` with `y[j n + a] = Y[a, j]`, so the `ICM` Gram matrix is $B \otimes K_x$.

    **Raises:** `ValueError` if `X` is not `(n, d)` with $n, d \ge 1$ or `Y` is not
    `(n, p)` with $p \ge 1$.
    """
    X = as_float_array(X, "X")
    if X.ndim != 2:
        raise ValueError(
            f"`X` must be a 2-D array of points with shape (n, d), got shape {X.shape}. "
            "Use `x[:, None]` for 1-D inputs."
        )
    check_nonempty(X, "X")
    check_nonempty(X, "X", axis=1, what="input dimensions (columns)")
    Y = as_float_array(Y, "Y")
    if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
        raise ValueError(
            f"`Y` must have shape (n, p) with n = X.shape[0] = {X.shape[0]}, got shape {Y.shape}. "
            "For a single output use `Y[:, None]`; for outputs at different points use "
            "`gp.stack_outputs`."
        )
    check_nonempty(Y, "Y", axis=1, what="outputs (columns)")
    dtype = jnp.result_type(X.dtype, Y.dtype)
    return _augment(X.astype(dtype), Y.shape[1]), Y.T.reshape(-1).astype(dtype)


def _coregion_outputs(kernel) -> set[int]:
    is_icm = lambda node: isinstance(node, ICM)
    return {node.num_outputs for node in jtu.tree_leaves(kernel, is_leaf=is_icm) if is_icm(node)}


@eqx.filter_jit
def predict_outputs(
    posterior: Posterior,
    Xs: Float[ArrayLike, "m d"],
    *,
    num_outputs: int | None = None,
    include_noise: bool = False,
) -> tuple[Float[Array, "m p"], Float[Array, "m p"]]:
    r"""Posterior mean and variance of every output at the points `Xs` (no task column).

    Builds the augmented points `[Xs, j]` for $j = 0..p-1$ and calls `gp.predict` (eqs.
    9-11 on the augmented inputs).

    **Arguments:**

    - `posterior`: from `gp.condition` / `gp.fit(...).value` on augmented inputs, with
      single-column observations `y (N,)`.
    - `Xs (m, d)`: prediction points, without the task column.
    - `num_outputs`: $p$; default read from the `ICM`/`LCM` inside the posterior's kernel.
    - `include_noise`: as in `gp.predict`.

    **Returns:** `(mean (m, p), var (m, p))`: column $j$ is output $j$.

    **Raises:** `TypeError` if `posterior` is not a `Posterior`; `ValueError` at trace time
    if `Xs` is not `(m, d)` with `d` = the training points' columns minus the task column,
    if the posterior has several observation columns, or if `num_outputs` is not given and
    the kernel holds no `ICM`/`LCM` (or ones with different numbers of outputs).
    """
    if not isinstance(posterior, Posterior):
        raise TypeError(
            f"`posterior` must be a jaxsci.gp.Posterior (from `gp.condition` or "
            f"`gp.fit(...).value`), got {type(posterior).__name__}."
        )
    if posterior.weights.ndim != 1:
        raise ValueError(
            "`predict_outputs` needs a posterior of stacked observations y (N,) (from "
            f"`gp.stack_outputs` / `gp.stack_isotopic`), got weights of shape "
            f"{posterior.weights.shape}."
        )
    if num_outputs is None:
        found = _coregion_outputs(posterior.kernel)
        if len(found) != 1:
            raise ValueError(
                "`predict_outputs` reads the number of outputs from the ICM/LCM in the "
                f"posterior's kernel, found {sorted(found) or 'none'}; pass `num_outputs`."
            )
        (num_outputs,) = found
    p = require_positive_int(num_outputs, "num_outputs")
    Xs = as_float_array(Xs, "Xs")
    d = posterior.X.shape[1] - 1
    if Xs.ndim != 2 or Xs.shape[1] != d:
        raise ValueError(
            f"`Xs` must have shape (m, {d}): the training inputs without their task column, got "
            f"shape {Xs.shape}."
        )
    check_nonempty(Xs, "Xs", what="prediction points")
    m = Xs.shape[0]
    mean, var = predict(posterior, _augment(Xs.astype(posterior.X.dtype), p), include_noise=include_noise)
    return mean.reshape(p, m).T, var.reshape(p, m).T
