r"""Collocation sampling on boxes: uniform, Latin hypercube and Sobol points.

A sampler maps `(n, d, key)` to `n` points in the unit cube $[0, 1)^d$; `Box` rescales them
to $[\ell, u]$ and also samples its faces. Randomness only through the explicit `key`.

Sobol points are generated in JAX from the Joe-Kuo direction numbers (file
`new-joe-kuo-6.21201`, the table SciPy and most libraries use), for up to 10 dimensions, in
Gray-code order, so the unscrambled sequence coincides with `scipy.stats.qmc.Sobol(d,
scramble=False)` (checked in the tests; SciPy is not a runtime dependency). With a key the
points are randomised by a uniform digital shift (XOR with random bits), which keeps the
(t, m, s)-net property and makes the estimator unbiased.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._checks import check_value
from ._validate import count, finite_array

# (s, a, m_1..m_s) for dimensions 2..10 of new-joe-kuo-6.21201; dimension 1 is the van der
# Corput sequence in base 2 (all m_k = 1).
_JOE_KUO: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (1, 0, (1,)),
    (2, 1, (1, 3)),
    (3, 1, (1, 3, 1)),
    (3, 2, (1, 1, 1)),
    (4, 1, (1, 1, 3, 3)),
    (4, 4, (1, 3, 5, 13)),
    (5, 2, (1, 1, 5, 5, 17)),
    (5, 4, (1, 1, 5, 5, 5)),
    (5, 7, (1, 1, 7, 11, 19)),
)
_BITS = 32
SOBOL_MAX_DIM = len(_JOE_KUO) + 1


def _direction_numbers(d: int) -> np.ndarray:
    """(d, 32) uint32 direction numbers V[j, k] = m_k 2^(32-k-1)."""
    v = np.zeros((d, _BITS), dtype=np.uint64)
    v[0] = [1 << (_BITS - 1 - k) for k in range(_BITS)]
    for j in range(1, d):
        s, a, m_init = _JOE_KUO[j - 1]
        m = list(m_init)
        for k in range(s, _BITS):
            new = m[k - s] ^ (m[k - s] << s)
            for i in range(1, s):
                if (a >> (s - 1 - i)) & 1:
                    new ^= m[k - i] << i
            m.append(new)
        v[j] = [m[k] << (_BITS - 1 - k) for k in range(_BITS)]
    return v.astype(np.uint32)


def sobol_sequence(
    n: int, d: int, *, skip: int = 0, key: PRNGKeyArray | None = None, dtype=None
) -> Float[Array, "n d"]:
    r"""The first `n` points (after `skip`) of the `d`-dimensional Sobol sequence in
    $[0, 1)^d$; with `key`, digitally shifted (randomised QMC).

    Powers of two for `n` (and `skip`) keep the balance properties of the sequence.
    """
    n = count(n, "n")
    skip = count(skip, "skip", minimum=0)
    d = count(d, "d", what="a dimension")
    if not 1 <= d <= SOBOL_MAX_DIM:
        raise ValueError(f"`d` must be in [1, {SOBOL_MAX_DIM}] for Sobol points, got {d}.")
    if skip + n > 2**_BITS:
        raise ValueError(
            f"`skip` + `n` = {skip + n} exceeds the 2^{_BITS} points of the {_BITS}-bit Sobol "
            "sequence; use fewer points."
        )
    dtype = jnp.result_type(float) if dtype is None else dtype
    v = jnp.asarray(_direction_numbers(d))
    idx = jnp.arange(skip, skip + n, dtype=jnp.uint32)
    gray = idx ^ (idx >> 1)
    bits = (gray[:, None] >> jnp.arange(_BITS, dtype=jnp.uint32)[None, :]) & 1
    terms = jnp.where(bits[:, None, :] == 1, v[None, :, :], jnp.uint32(0))
    x = jax.lax.reduce(terms, jnp.uint32(0), jax.lax.bitwise_xor, (2,))
    if key is not None:
        shift = jr.bits(key, (d,), dtype=jnp.uint32)
        x = x ^ shift[None, :]
    return (x.astype(jnp.float64 if dtype == jnp.float64 else jnp.float32) / 2.0**_BITS).astype(
        dtype
    )


class AbstractSampler(eqx.Module):
    """Draws `n` points in the unit cube $[0, 1)^d$."""

    @abc.abstractmethod
    def __call__(self, n: int, d: int, *, key: PRNGKeyArray, dtype=None) -> Float[Array, "n d"]:
        """`n` points of dimension `d` in the unit cube."""


def _nd(n, d):
    return count(n, "n"), count(d, "d", what="a dimension")


class Uniform(AbstractSampler):
    """Independent uniform points."""

    def __call__(self, n, d, *, key, dtype=None):
        n, d = _nd(n, d)
        dtype = jnp.result_type(float) if dtype is None else dtype
        return jr.uniform(key, (n, d), dtype=dtype)


class LatinHypercube(AbstractSampler):
    r"""Latin hypercube: each coordinate hits every one of the `n` strata $[k/n, (k+1)/n)$
    exactly once (independent random permutation per coordinate, uniform within a stratum)."""

    def __call__(self, n, d, *, key, dtype=None):
        n, d = _nd(n, d)
        dtype = jnp.result_type(float) if dtype is None else dtype
        kperm, kjit = jr.split(key)
        perms = jax.vmap(lambda k: jr.permutation(k, n))(jr.split(kperm, d)).T
        jitter = jr.uniform(kjit, (n, d), dtype=dtype)
        return (perms.astype(dtype) + jitter) / n


class Sobol(AbstractSampler):
    """Digitally shifted Sobol points (see `sobol_sequence`); `skip` leading points dropped."""

    skip: int = eqx.field(static=True, default=0)

    def __check_init__(self):
        count(self.skip, "skip", minimum=0)

    def __call__(self, n, d, *, key, dtype=None):
        return sobol_sequence(n, d, skip=self.skip, key=key, dtype=dtype)


class Box(eqx.Module):
    r"""An axis-aligned box $\prod_i [\ell_i, u_i]$ (space or space-time).

    **Raises:** `ValueError` for bounds that are not equal-length non-empty vectors, and
    (eagerly; `EquinoxRuntimeError` when traced) for non-finite bounds or `upper <= lower`.
    Its samplers need a Python int `n >= 1`.
    """

    lower: Float[Array, " d"]
    upper: Float[Array, " d"]

    def __init__(self, lower: ArrayLike, upper: ArrayLike):
        lower = jnp.atleast_1d(jnp.asarray(lower, dtype=float))
        upper = jnp.atleast_1d(jnp.asarray(upper, dtype=float))
        if lower.ndim != 1 or lower.shape != upper.shape:
            raise ValueError(
                f"`lower` and `upper` must be vectors of equal length, got {lower.shape} and "
                f"{upper.shape}."
            )
        if lower.shape[0] == 0:
            raise ValueError("`lower` and `upper` are empty: a Box needs at least one dimension.")
        lower = finite_array(lower, "lower", "a Box needs finite bounds.")
        upper = finite_array(upper, "upper", "a Box needs finite bounds.")
        self.lower, self.upper = check_value(
            (lower, upper), upper <= lower,
            "`upper` must be > `lower` in every coordinate (Box(lower, upper)); swap or fix "
            "the bounds.",
        )

    @property
    def dim(self) -> int:
        return self.lower.shape[0]

    def scale(self, unit: Float[Array, "n d"]) -> Float[Array, "n d"]:
        """Map points of the unit cube into the box."""
        if not hasattr(unit, "ndim") or unit.ndim != 2 or unit.shape[1] != self.dim:
            raise ValueError(
                f"`unit` must have shape (n, {self.dim}) for this {self.dim}-d Box, got "
                f"{getattr(unit, 'shape', type(unit))}."
            )
        lo, hi = self.lower.astype(unit.dtype), self.upper.astype(unit.dtype)
        return lo[None, :] + unit * (hi - lo)[None, :]

    def sample(
        self, n: int, *, key: PRNGKeyArray, sampler: AbstractSampler = Uniform(), dtype=None
    ) -> Float[Array, "n d"]:
        """`n` interior points."""
        if not isinstance(sampler, AbstractSampler):
            raise TypeError(f"`sampler` must be an AbstractSampler, got {type(sampler).__name__}.")
        n = count(n, "n")
        return self.scale(sampler(n, self.dim, key=key, dtype=dtype))

    def sample_face(
        self,
        n: int,
        axis: int,
        side: int,
        *,
        key: PRNGKeyArray,
        sampler: AbstractSampler = Uniform(),
        dtype=None,
    ) -> Float[Array, "n d"]:
        r"""`n` points on the face $x_{axis} = \ell_{axis}$ (`side=0`) or $u_{axis}$ (`side=1`)."""
        if not -self.dim <= axis < self.dim:
            raise ValueError(f"`axis`={axis} out of range for a {self.dim}-d box.")
        if side not in (0, 1):
            raise ValueError(f"`side` must be 0 (lower face) or 1 (upper face), got {side}.")
        pts = self.sample(n, key=key, sampler=sampler, dtype=dtype)
        value = (self.lower if side == 0 else self.upper)[axis].astype(pts.dtype)
        return pts.at[:, axis].set(value)

    def sample_boundary(
        self, n: int, *, key: PRNGKeyArray, sampler: AbstractSampler = Uniform(), dtype=None
    ) -> Float[Array, "n d"]:
        """`n` points spread over all `2 d` faces (face chosen uniformly by area)."""
        n = count(n, "n")
        kf, kp = jr.split(key)
        width = self.upper - self.lower
        areas = jnp.prod(width) / width
        probs = jnp.concatenate([areas, areas]) / (2 * jnp.sum(areas))
        face = jr.choice(kf, 2 * self.dim, (n,), p=probs)
        pts = self.sample(n, key=kp, sampler=sampler, dtype=dtype)
        axis = face % self.dim
        val = jnp.where(face < self.dim, self.lower[axis], self.upper[axis]).astype(pts.dtype)
        onehot = jax.nn.one_hot(axis, self.dim, dtype=bool)
        return jnp.where(onehot, val[:, None], pts)
