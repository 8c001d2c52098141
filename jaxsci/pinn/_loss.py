r"""Named-term PINN losses (Fuks & Tchelepi eq. 16), explicit weights, gradient-norm balancing.

$$L(\theta) = \sum_k \lambda_k L_k(\theta),\qquad
L_r = \frac{1}{N_r}\sum_i |r_\theta(x_r^i)|^2,\qquad
L_c = \frac{1}{N_c}\sum_i |u_\theta(x_c^i) - g_c(x_c^i)|^2,$$

one mean-squared term per constraint set $c$ (`"ic"`, `"bc"`, ...). Eq. (16) lumps all
$N_u$ initial and boundary points into one $L_u$: that is the weighting
$\lambda_c = N_c / N_u$, returned by `eq16_weights`.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import check_value
from ._problems import DEFAULT_CHUNK_SIZE, AbstractPDEProblem
from ._validate import count, finite_array, prng_key
from ._sampling import AbstractSampler, Uniform


class Collocation(eqx.Module):
    r"""Training points: `interior` residual points `(N_r, d)` and, per constraint set,
    `(points (N_c, d), targets (N_c,))`."""

    interior: Float[Array, "nr d"]
    data: dict[str, tuple[Float[Array, "nc d"], Float[Array, " nc"]]]

    def __check_init__(self):
        x = self.interior
        if not hasattr(x, "ndim") or x.ndim != 2 or x.shape[0] == 0:
            raise ValueError(
                "`interior` must be a non-empty (N_r, d) array of residual points, got shape "
                f"{getattr(x, 'shape', type(x))}."
            )
        if not isinstance(self.data, dict):
            raise TypeError(f"`data` must be a dict name -> (points, targets), got "
                            f"{type(self.data).__name__}.")
        for nm, item in self.data.items():
            if not (isinstance(item, tuple) and len(item) == 2):
                raise TypeError(f"`data[{nm!r}]` must be a tuple (points, targets).")
            pts, vals = item
            if pts.ndim != 2 or pts.shape[1] != x.shape[1] or pts.shape[0] == 0:
                raise ValueError(
                    f"`data[{nm!r}]` points must be a non-empty (N_c, {x.shape[1]}) array like "
                    f"`interior`, got shape {pts.shape}; drop a constraint set with no points."
                )
            if vals.shape != pts.shape[:1]:
                raise ValueError(
                    f"`data[{nm!r}]` targets must have shape ({pts.shape[0]},), one per point, "
                    f"got {vals.shape}."
                )


def sample_collocation(
    problem: AbstractPDEProblem,
    *,
    key: PRNGKeyArray,
    n_interior: int,
    n_constraint: int | dict[str, int],
    sampler: AbstractSampler = Uniform(),
    constraint_sampler: AbstractSampler = Uniform(),
) -> Collocation:
    r"""Draw interior points and constraint points (targets filled in from the problem).

    `n_constraint` is either a total split evenly over the problem's constraint sets (the
    paper's $N_u = 300$ initial + boundary points) or a dict name -> count.

    **Raises:** `TypeError` / `ValueError` unless `n_interior` is an int >= 1 and the
    constraint counts are ints >= 0 naming known constraint sets.
    """
    if not isinstance(problem, AbstractPDEProblem):
        raise TypeError(f"`problem` must be an AbstractPDEProblem, got {type(problem).__name__}.")
    n_interior = count(n_interior, "n_interior")
    names = problem.constraint_names
    if isinstance(n_constraint, (int, np.integer)) and not isinstance(n_constraint, bool):
        n_constraint = count(n_constraint, "n_constraint", minimum=0)
        base, rem = divmod(n_constraint, len(names))
        counts = {nm: base + (i < rem) for i, nm in enumerate(names)}
    else:
        unknown = set(n_constraint) - set(names)
        if unknown:
            raise ValueError(f"`n_constraint` names {sorted(unknown)} not in {names}.")
        counts = {nm: count(c, f"n_constraint[{nm!r}]", minimum=0)
                  for nm, c in n_constraint.items()}
    keys = jr.split(key, len(names) + 1)
    interior = problem.domain.sample(n_interior, key=keys[0], sampler=sampler)
    data = {}
    for k, nm in zip(keys[1:], names):
        if counts.get(nm, 0) == 0:
            continue
        pts = problem.sample_constraint(nm, counts[nm], key=k, sampler=constraint_sampler)
        vals = jax.vmap(lambda p, nm=nm: problem.constraint_value(nm, p))(pts)
        data[nm] = (pts, vals)
    return Collocation(interior=interior, data=data)


def residuals(
    model: Callable, problem: AbstractPDEProblem, points: Float[Array, "n d"]
) -> Float[Array, " n"]:
    """PDE residual at each point (`problem.residuals`: the pointwise residual under `vmap`,
    or a batched Taylor-mode path where the problem provides one)."""
    if points.ndim != 2:
        raise ValueError(f"`points` must have shape (n, d), got {points.shape}.")
    return problem.residuals(model, points)


def loss_terms(
    model: Callable,
    problem: AbstractPDEProblem,
    batch: Collocation,
    *,
    chunk_size: int | None = DEFAULT_CHUNK_SIZE,
) -> dict[str, Float[Array, ""]]:
    r"""Unweighted named terms: `"pde"` ($L_r$, by `problem.residual_mse` with `chunk_size`:
    an int evaluates it chunk-wise with a custom reverse pass, `None` gives the plain
    expression differentiable in every mode) and one MSE per constraint set.

    **Raises:** `TypeError` if `batch` is not a `Collocation`; `ValueError` for empty or
    wrongly shaped points; one `isfinite` pass over the points and targets refuses NaN/inf
    (`ValueError` eagerly, `EquinoxRuntimeError` when traced).
    """
    if not isinstance(batch, Collocation):
        raise TypeError(f"`batch` must be a Collocation, got {type(batch).__name__}.")
    interior = finite_array(batch.interior, "batch.interior", "drop or fix those points.")
    terms = {"pde": problem.residual_mse(model, interior, chunk_size=chunk_size)}
    for nm, (pts, vals) in batch.data.items():
        pts = finite_array(pts, f"batch.data[{nm!r}] points", "drop or fix those points.")
        vals = finite_array(vals, f"batch.data[{nm!r}] targets", "drop or fix those targets.")
        pred = jax.vmap(lambda x: jnp.reshape(model(x), ()))(pts)
        terms[nm] = jnp.mean((pred - vals) ** 2)
    return terms


def weighted_sum(
    terms: dict[str, Float[Array, ""]], weights: dict[str, Float[Array, ""] | float]
) -> Float[Array, ""]:
    r"""$\sum_k \lambda_k L_k$; every term needs a weight (no silent defaults)."""
    _check_weight_names(terms, weights)
    if not terms:
        raise ValueError("`terms` is empty: there is nothing to weight.")
    total = sum(jnp.asarray(weights[k]) * v for k, v in terms.items())
    w = jnp.stack([jnp.asarray(weights[k], total.dtype) for k in terms])
    return check_value(
        total, ~jnp.all(jnp.isfinite(w) & (w >= 0)),
        "`weights` must be finite and >= 0 (use 0.0 to drop a term); got a negative, NaN or "
        "inf weight.",
    )


def _check_weight_names(terms, weights):
    missing = set(terms) - set(weights)
    if missing:
        raise ValueError(
            f"`weights` has no entry for terms {sorted(missing)}; give every term a weight "
            "(use 0.0 to drop one)."
        )


def eq16_weights(batch: Collocation) -> dict[str, float]:
    r"""Weights reproducing eq. (16): $\lambda_r = 1$, $\lambda_c = N_c / N_u$.

    Static (from the point counts, so usable under `jit`); a batch without constraint sets
    (a hard-constraint model) gives `{"pde": 1.0}`.

    **Raises:** `TypeError` if `batch` is not a `Collocation`."""
    if not isinstance(batch, Collocation):
        raise TypeError(f"`batch` must be a Collocation (from `sample_collocation`), got "
                        f"{type(batch).__name__}.")
    n_u = sum(p.shape[0] for p, _ in batch.data.values())
    return {"pde": 1.0, **{nm: p.shape[0] / n_u for nm, (p, _) in batch.data.items()}}


class PINNArgs(eqx.Module):
    """Everything a PINN loss needs besides the model (the `args` of `jaxsci.train.fit`).

    `chunk_size` (static) is passed to `loss_terms`: residual points per chunk of the
    chunked residual loss with its custom reverse pass (default 512), or `None` for the plain
    expression (needed for forward mode, e.g. `jaxsci.optim.hessian_matrix`)."""

    problem: AbstractPDEProblem
    batch: Collocation
    weights: dict[str, Float[Array, ""]]
    chunk_size: int | None = eqx.field(static=True)

    def __init__(self, problem, batch, weights=None, chunk_size=DEFAULT_CHUNK_SIZE):
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
            raise ValueError(f"`chunk_size` must be a positive int or None, got {chunk_size!r}.")
        if not isinstance(problem, AbstractPDEProblem):
            raise TypeError(f"`problem` must be an AbstractPDEProblem, got {type(problem).__name__}.")
        if not isinstance(batch, Collocation):
            raise TypeError(f"`batch` must be a Collocation, got {type(batch).__name__}.")
        self.chunk_size = chunk_size
        self.problem = problem
        self.batch = batch
        weights = eq16_weights(batch) if weights is None else weights
        terms = {"pde": None, **batch.data}
        _check_weight_names(terms, weights)
        extra = set(weights) - set(terms)
        if extra:
            raise ValueError(
                f"`weights` names {sorted(extra)}, which are not loss terms ({sorted(terms)})."
            )
        self.weights = {
            k: check_value(
                w := jnp.asarray(v, dtype=batch.interior.dtype), ~(jnp.isfinite(w) & (w >= 0)),
                f"`weights[{k!r}]` must be finite and >= 0 (use 0.0 to drop a term).",
            )
            for k, v in weights.items()
        }


def pinn_loss(model: Callable, args: PINNArgs) -> tuple[Float[Array, ""], dict]:
    """`(weighted loss, unweighted named terms)`: the `loss_fn` for `jaxsci.train.fit`.

    **Raises:** as `loss_terms` (NaN/inf collocation data: `ValueError` eagerly,
    `EquinoxRuntimeError` under `jit`) and `weighted_sum` (negative or non-finite weights).
    """
    terms = loss_terms(model, args.problem, args.batch, chunk_size=args.chunk_size)
    return weighted_sum(terms, args.weights), terms


def balance_weights(
    model: Callable,
    args: PINNArgs,
    key: PRNGKeyArray | None = None,
    *,
    alpha: float = 0.1,
    reference: str = "pde",
) -> PINNArgs:
    r"""Adaptive weights by gradient-norm balancing (Wang, Teng & Perdikaris 2021, alg. 1):

    $$\hat\lambda_k = \frac{\max_\theta |\nabla_\theta L_{ref}|}
    {\overline{|\nabla_\theta L_k|}},\qquad \lambda_k \leftarrow (1 - \alpha)\lambda_k +
    \alpha \hat\lambda_k,$$

    for every term $k$ except the reference (whose weight stays as given), so each term
    pulls on the parameters as hard as the residual does. It can be passed directly as the
    function of the `jaxsci.train.LossWeights(fn, every)` callback of `jaxsci.train.fit`
    (e.g. `callbacks=LossWeights(balance_weights, every=100)`; `key` is accepted for that
    `fn(model, args, key)` signature and unused; use
    `functools.partial(balance_weights, alpha=...)` to change `alpha`).
    """
    alpha = check_value(
        jnp.asarray(alpha), ~((jnp.asarray(alpha) >= 0) & (jnp.asarray(alpha) <= 1)),
        "`alpha` (the moving-average rate of the weights) must be in [0, 1].",
    )
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def term(p, name):
        return loss_terms(
            eqx.combine(p, static), args.problem, args.batch, chunk_size=args.chunk_size
        )[name]

    def stats(name):
        g = jax.grad(term)(params, name)
        leaves = jnp.concatenate([jnp.ravel(x) for x in jtu.tree_leaves(g)])
        return jnp.max(jnp.abs(leaves)), jnp.mean(jnp.abs(leaves))

    names = list(args.weights)
    if reference not in names:
        raise ValueError(f"`reference`={reference!r} is not a loss term ({names}).")
    ref_max, _ = stats(reference)
    new = {}
    for nm in names:
        if nm == reference:
            new[nm] = args.weights[nm]
            continue
        _, mean_k = stats(nm)
        lam_hat = ref_max / jnp.maximum(mean_k, jnp.finfo(mean_k.dtype).tiny)
        new[nm] = (1 - alpha) * jnp.asarray(args.weights[nm]) + alpha * lam_hat
    return eqx.tree_at(lambda a: a.weights, args, new)


def resample(
    args: PINNArgs, *, key: PRNGKeyArray, sampler: AbstractSampler = Uniform()
) -> PINNArgs:
    """Fresh interior points (same count and dtype) for residual-point resampling during
    training; the constraint points and the weights are kept.

    **Raises:** `TypeError` if `args` is not a `PINNArgs`, `key` not a PRNG key or `sampler`
    not an `AbstractSampler`."""
    if not isinstance(args, PINNArgs):
        raise TypeError(f"`args` must be a PINNArgs (problem, batch, weights), got "
                        f"{type(args).__name__}.")
    prng_key(key, "key")
    n, _ = args.batch.interior.shape
    pts = args.problem.domain.sample(n, key=key, sampler=sampler, dtype=args.batch.interior.dtype)
    return eqx.tree_at(lambda a: a.batch.interior, args, pts)
