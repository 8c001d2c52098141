r"""Residual-based adaptive collocation (Lu et al. 2021, SIAM Rev. 63, RAR, section 2.8;
Wu, Zhu, Tan, Kartha & Lu 2023, CMAME 403, RAD, eq. 2):

- RAR: add the $k$ candidate points with the largest $|r(x)|$ to the residual points;
- RAD: draw the residual points from a candidate pool with density
  $p(x) \propto |r(x)|^k / \mathbb{E}[|r|^k] + c$.

Randomness only through explicit keys; the candidate pool is drawn from `problem.domain`.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._checks import check_value
from ._loss import PINNArgs
from ._sampling import AbstractSampler, Uniform
from ._validate import count, prng_key


def _check_args(args):
    if not isinstance(args, PINNArgs):
        raise TypeError(f"`args` must be a PINNArgs, got {type(args).__name__}.")


def rad_probabilities(
    residuals: Float[Array, " n"], k: ArrayLike = 1.0, c: ArrayLike = 1.0
) -> Float[Array, " n"]:
    r"""RAD sampling probabilities (Wu et al. 2023, eq. 2):
    $p_i \propto |r_i|^k / \overline{|r|^k} + c$, normalised to sum to 1.
    (`k = 0` or `c` large gives uniform sampling; $k = 1, c = 1$ is their default.)

    **Raises:** `ValueError` if `residuals` is not a non-empty 1-D array;
    `ValueError` / `EquinoxRuntimeError` if `k` or `c` is negative or not finite."""
    r = jnp.asarray(residuals)
    if r.ndim != 1 or r.shape[0] == 0:
        raise ValueError(f"`residuals` must be a non-empty 1-D array, got shape {r.shape}.")
    k = jnp.asarray(k, r.dtype)
    c = jnp.asarray(c, r.dtype)
    bad = ~(jnp.isfinite(k) & jnp.isfinite(c) & (k >= 0) & (c >= 0))
    k = check_value(k, bad, "`k` and `c` (the RAD exponent and offset) must be finite and >= 0.")
    a = jnp.abs(r) ** k
    mean = jnp.mean(a)
    w = jnp.where(mean > 0, a / jnp.where(mean > 0, mean, 1), 1.0) + c
    return w / jnp.sum(w)


def rad_resample(
    model: Callable,
    args: PINNArgs,
    key: PRNGKeyArray,
    *,
    n_candidates: int,
    k: ArrayLike = 1.0,
    c: ArrayLike = 1.0,
    replace: bool = False,
    sampler: AbstractSampler = Uniform(),
) -> PINNArgs:
    r"""RAD (Wu et al. 2023, section 3.2): new interior points, as many as before, drawn from
    `n_candidates` fresh points of `problem.domain` with `rad_probabilities(|r|, k, c)`
    (without replacement by default, as DeepXDE does). Shapes are kept, so it runs inside
    `jaxsci.train.fit` as `UpdateArgs(functools.partial(rad_resample, n_candidates=...),
    every=...)`.

    **Raises:** `TypeError` for `args` not a `PINNArgs` or `key` not a PRNG key;
    `ValueError` if `n_candidates` is not an int >= the number of interior points (without
    replacement); as `rad_probabilities`."""
    _check_args(args)
    prng_key(key, "key")
    n, _ = args.batch.interior.shape
    n_candidates = count(n_candidates, "n_candidates")
    if not replace and n_candidates < n:
        raise ValueError(f"`n_candidates` must be >= the {n} interior points to draw without "
                         f"replacement, got {n_candidates}.")
    kc, ks = jr.split(key)
    cand = args.problem.domain.sample(n_candidates, key=kc, sampler=sampler,
                                      dtype=args.batch.interior.dtype)
    p = rad_probabilities(args.problem.residuals(model, cand), k, c)
    idx = jr.choice(ks, n_candidates, (n,), replace=replace, p=p)
    return eqx.tree_at(lambda a: a.batch.interior, args, cand[idx])


def rar_refine(
    model: Callable,
    args: PINNArgs,
    key: PRNGKeyArray,
    *,
    n_candidates: int,
    n_add: int,
    sampler: AbstractSampler = Uniform(),
) -> PINNArgs:
    r"""RAR (Lu et al. 2021, section 2.8, procedure 2.2 step 2): append to the interior points
    the `n_add` of `n_candidates` fresh domain points with the largest $|r(x)|$. The number
    of points grows, so call it between `fit` runs (each run compiles for its size).

    **Raises:** `TypeError` for `args` not a `PINNArgs` or `key` not a PRNG key;
    `ValueError` unless `1 <= n_add <= n_candidates` are ints."""
    _check_args(args)
    prng_key(key, "key")
    n_candidates = count(n_candidates, "n_candidates")
    n_add = count(n_add, "n_add")
    if n_add > n_candidates:
        raise ValueError(f"`n_add` ({n_add}) must be <= `n_candidates` ({n_candidates}).")
    cand = args.problem.domain.sample(n_candidates, key=key, sampler=sampler,
                                      dtype=args.batch.interior.dtype)
    r = args.problem.residuals(model, cand)
    _, idx = jax.lax.top_k(jnp.abs(r), n_add)
    pts = jnp.concatenate([args.batch.interior, cand[idx]], axis=0)
    return eqx.tree_at(lambda a: a.batch.interior, args, pts)
