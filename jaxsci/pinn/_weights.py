r"""Adaptive loss weights beside `balance_weights` (which is the learning-rate annealing of
Wang, Teng & Perdikaris 2021, alg. 1: $\max|\nabla L_r| / \overline{|\nabla L_k|}$):

- `grad_norm_weights`: global gradient-norm balancing (jaxpi, Wang et al. 2023,
  arXiv 2308.08468 eq. 4.3 / alg. 1):
  $\hat\lambda_k = \sum_j \|\nabla_\theta L_j\| / \|\nabla_\theta L_k\|$;
- `ntk_weights`: neural-tangent-kernel trace weights (Wang, Yu & Perdikaris 2022, J. Comput.
  Phys. 449, alg. 1 / eq. 6.5): $\hat\lambda_k = \sum_j \operatorname{tr} K_j /
  \operatorname{tr} K_k$, with $\operatorname{tr} K_k = \sum_n \|\partial_\theta
  f_k(x_n)\|^2$ from per-point Jacobians ($f$ the residual for `"pde"`, the model output
  for a constraint set).

Both update every term (the residual included) by the moving average
$\lambda_k \leftarrow (1 - \alpha)\lambda_k + \alpha\hat\lambda_k$ and have the
`fn(model, args, key)` signature of `jaxsci.train.LossWeights`.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
from jaxtyping import PRNGKeyArray

from .._checks import check_value
from ._loss import PINNArgs, loss_terms


def _alpha(alpha):
    a = jnp.asarray(alpha)
    return check_value(a, ~((a >= 0) & (a <= 1)),
                       "`alpha` (the moving-average rate of the weights) must be in [0, 1].")


def _check_args(args):
    if not isinstance(args, PINNArgs):
        raise TypeError(f"`args` must be a PINNArgs (problem, batch, weights), got "
                        f"{type(args).__name__}.")


def _flat_norm_sq(tree):
    return sum(jnp.sum(x**2) for x in jtu.tree_leaves(tree))


def _update(args, lam_hat, alpha):
    new = {k: (1 - alpha) * jnp.asarray(args.weights[k]) + alpha * lam_hat[k]
           for k in args.weights}
    return eqx.tree_at(lambda a: a.weights, args, new)


def _ratios(sizes):
    dtype = jnp.result_type(*sizes.values())
    tiny = jnp.finfo(dtype).tiny
    total = sum(sizes.values())
    return {k: total / jnp.maximum(v, tiny) for k, v in sizes.items()}


def grad_norm_weights(
    model: Callable, args: PINNArgs, key: PRNGKeyArray | None = None, *, alpha: float = 0.1
) -> PINNArgs:
    r"""Global gradient-norm weights (jaxpi, Wang et al. 2023, arXiv 2308.08468 eq. 4.3):

    $$\hat\lambda_k = \frac{\sum_j \|\nabla_\theta L_j(\theta)\|_2}
    {\|\nabla_\theta L_k(\theta)\|_2},\qquad
    \lambda_k \leftarrow (1 - \alpha)\lambda_k + \alpha\hat\lambda_k$$

    (jaxpi's code divides by the mean instead of the sum: a common factor, the number of
    terms). After the update every weighted term has the same gradient norm
    $\sum_j\|\nabla L_j\|$ (for $\alpha = 1$). Use as
    `jaxsci.train.LossWeights(grad_norm_weights, every=1000)`; `key` is unused.

    **Raises:** `TypeError` if `args` is not a `PINNArgs`; `ValueError`
    (`EquinoxRuntimeError` when traced) if `alpha` is not in $[0, 1]$.
    """
    _check_args(args)
    alpha = _alpha(alpha)
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def term(p, name):
        return loss_terms(eqx.combine(p, static), args.problem, args.batch,
                          chunk_size=args.chunk_size)[name]

    norms = {k: jnp.sqrt(_flat_norm_sq(jax.grad(term)(params, k))) for k in args.weights}
    return _update(args, _ratios(norms), alpha)


def ntk_traces(model: Callable, args: PINNArgs) -> dict:
    r"""$\operatorname{tr} K_k = \sum_{n} \|\partial_\theta f_k(x_n)\|_2^2$ for every loss term
    (Wang, Yu & Perdikaris 2022, eq. 3.5: the diagonal of the NTK of term $k$): $f$ is the
    PDE residual at the interior points for `"pde"`, the model output at the points of a
    constraint set otherwise. One `vmap` of a per-point gradient per term (memory
    $N \times$ #parameters; pass a smaller `Collocation` to estimate on a subset).

    **Raises:** `TypeError` if `args` is not a `PINNArgs`."""
    _check_args(args)
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def residual(p, x):
        return args.problem.residual(eqx.combine(p, static), x)

    def output(p, x):
        return jnp.reshape(eqx.combine(p, static)(x), ())

    def trace(f, pts):
        return jnp.sum(jax.vmap(lambda x: _flat_norm_sq(jax.grad(f)(params, x)))(pts))

    out = {"pde": trace(residual, args.batch.interior)}
    for nm, (pts, _) in args.batch.data.items():
        out[nm] = trace(output, pts)
    return {k: out[k] for k in args.weights}


def ntk_weights(
    model: Callable, args: PINNArgs, key: PRNGKeyArray | None = None, *, alpha: float = 0.1
) -> PINNArgs:
    r"""NTK trace weights (Wang, Yu & Perdikaris 2022, alg. 1):

    $$\hat\lambda_k = \frac{\sum_j \operatorname{tr} K_j}{\operatorname{tr} K_k},\qquad
    \lambda_k \leftarrow (1 - \alpha)\lambda_k + \alpha\hat\lambda_k,$$

    traces from `ntk_traces`, so that $\lambda_k \operatorname{tr} K_k$ is the same for every
    term (each converges at the same rate in the NTK picture). (jaxpi uses the mean over
    points instead of the sum: the same weights when every term has as many points.) Use
    as `jaxsci.train.LossWeights(ntk_weights, every=1000)`; `key` is unused.

    **Raises:** `TypeError` if `args` is not a `PINNArgs`; `ValueError`
    (`EquinoxRuntimeError` when traced) if `alpha` is not in $[0, 1]$.
    """
    _check_args(args)
    alpha = _alpha(alpha)
    return _update(args, _ratios(ntk_traces(model, args)), alpha)
