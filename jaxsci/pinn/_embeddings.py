r"""Input embeddings for PINNs: random Fourier features and exact periodicity, composed in
front of any network by `EmbeddedModel`.

- `FourierFeatures` (Tancik et al. 2020, eq. 5; Wang, Wang & Perdikaris 2021, eq. 3.7 for
  PINNs): $\gamma(x) = [\cos 2\pi Bx, \sin 2\pi Bx]$ with $B_{ij} \sim N(0, \sigma^2)$, whose
  kernel $\gamma(x)\cdot\gamma(y)/m \to e^{-2\pi^2\sigma^2|x-y|^2}$ lets the network fit
  frequencies up to about $\sigma$ and so counters spectral bias.
- `PeriodicEmbedding` (Dong & Ni 2021; jaxpi, Wang et al. 2023 section 4.1): coordinate
  $x_i$ of period $P_i$ enters only as $\cos(2\pi k x_i/P_i), \sin(2\pi k x_i/P_i)$,
  $k = 1..K$, so any network on top is exactly $P_i$-periodic in $x_i$.
"""

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ._validate import count, prng_key


def _check_point(x, size, who):
    if not hasattr(x, "ndim") or x.ndim != 1 or x.shape[0] != size:
        raise ValueError(
            f"{who} acts on ONE point of shape ({size},), got shape "
            f"{getattr(x, 'shape', type(x))}; batch with jax.vmap."
        )


class FourierFeatures(eqx.Module):
    r"""Random Fourier feature embedding $\gamma(x) = [\cos(2\pi B x), \sin(2\pi B x)]$
    (Tancik et al. 2020 eq. 5; Wang, Wang & Perdikaris 2021 eq. 3.7),
    $B \in \mathbb{R}^{m \times d}$, $B_{ij} \sim N(0, \sigma^2)$.

    $E_B[\gamma(x)\cdot\gamma(y)] / m = \exp(-2\pi^2\sigma^2 |x - y|^2)$: a Gaussian
    kernel of bandwidth $1/(2\pi\sigma)$. $B$ is fixed (the forward pass stops its
    gradient, as in both papers), so training never moves it.

    **Arguments:** `in_size` $d$, `n_features` $m$ (output size $2m$), `sigma` (Python
    float > 0; jaxpi uses 1 to 10 on unit-scaled inputs), `key`, `dtype`.

    **Raises:** `ValueError` / `TypeError` for non-positive-int sizes, a `sigma` that is not a
    finite positive number, a non-key `key`; calling on anything but one point of shape
    `(in_size,)` raises `ValueError`.
    """

    matrix: Float[Array, "m d"]
    sigma: float = eqx.field(static=True)

    def __init__(self, in_size: int, n_features: int, sigma: float = 1.0, *,
                 key: PRNGKeyArray, dtype=None):
        in_size = count(in_size, "in_size", what="the input dimension")
        n_features = count(n_features, "n_features", what="the number of frequencies")
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.floating)) or not (
            np.isfinite(sigma) and sigma > 0
        ):
            raise ValueError(f"`sigma` (the frequency scale) must be a finite positive Python "
                             f"float, got {sigma!r}.")
        prng_key(key, "key")
        dtype = jnp.result_type(float) if dtype is None else dtype
        self.sigma = float(sigma)
        self.matrix = self.sigma * jr.normal(key, (n_features, in_size), dtype=dtype)

    @property
    def in_size(self) -> int:
        return self.matrix.shape[1]

    @property
    def out_size(self) -> int:
        return 2 * self.matrix.shape[0]

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " 2m"]:
        _check_point(x, self.in_size, "FourierFeatures")
        z = 2 * jnp.pi * (jax.lax.stop_gradient(self.matrix).astype(x.dtype) @ x)
        return jnp.concatenate([jnp.cos(z), jnp.sin(z)])


class PeriodicEmbedding(eqx.Module):
    r"""Exact periodicity (Dong & Ni 2021; jaxpi, Wang et al. 2023 section 4.1): coordinate
    $x_i$ with period $P_i$ is replaced by
    $[\cos(2\pi k x_i / P_i), \sin(2\pi k x_i / P_i)]_{k=1..K}$; coordinates with period
    `None` pass through unchanged (in their place, in order).

    **Arguments:** `periods`, one entry per input coordinate (a positive Python float or
    `None`), e.g. `(2.0, None)` for $(x, t)$ periodic in $x$ on $[-1, 1]$; `n_harmonics` $K$
    (default 1, jaxpi's choice).

    **Raises:** `ValueError` / `TypeError` for an empty `periods`, an entry that is neither
    `None` nor a finite positive number, a non-positive-int `n_harmonics`; calling on anything
    but one point of shape `(len(periods),)` raises `ValueError`.
    """

    periods: tuple[float | None, ...] = eqx.field(static=True)
    n_harmonics: int = eqx.field(static=True)

    def __init__(self, periods: Sequence[float | None], n_harmonics: int = 1):
        if not isinstance(periods, (tuple, list)) or len(periods) == 0:
            raise ValueError(f"`periods` must be a non-empty tuple with one period (or None) "
                             f"per coordinate, got {periods!r}.")
        for i, p in enumerate(periods):
            if p is None:
                continue
            if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not (
                np.isfinite(p) and p > 0
            ):
                raise ValueError(f"`periods[{i}]` must be None or a finite positive Python "
                                 f"float, got {p!r}.")
        self.periods = tuple(None if p is None else float(p) for p in periods)
        self.n_harmonics = count(n_harmonics, "n_harmonics", what="the number of harmonics")

    @property
    def in_size(self) -> int:
        return len(self.periods)

    @property
    def out_size(self) -> int:
        return sum(1 if p is None else 2 * self.n_harmonics for p in self.periods)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " e"]:
        _check_point(x, self.in_size, "PeriodicEmbedding")
        k = jnp.arange(1, self.n_harmonics + 1, dtype=x.dtype)
        parts = []
        for i, p in enumerate(self.periods):
            if p is None:
                parts.append(x[i : i + 1])
            else:
                z = (2 * jnp.pi / p) * k * x[i]
                parts.extend([jnp.cos(z), jnp.sin(z)])
        return jnp.concatenate(parts)


class EmbeddedModel(eqx.Module):
    r"""`network(embedding(x))`: an input embedding (or a tuple of them, applied left to
    right, e.g. `(PeriodicEmbedding(...), FourierFeatures(...))` as in jaxpi) in front of
    any pointwise network. A model like any other for the PINN losses (the autodiff
    residual path; the Taylor-mode MLP path needs a bare MLP).

    **Raises:** `TypeError` if `embedding` (or an entry of the tuple) or `network` is not
    callable.
    """

    embedding: Callable | tuple[Callable, ...]
    network: Callable

    def __check_init__(self):
        embs = self.embedding if isinstance(self.embedding, tuple) else (self.embedding,)
        if not embs or not all(callable(e) for e in embs):
            raise TypeError(f"`embedding` must be a callable or a non-empty tuple of callables, "
                            f"got {self.embedding!r}.")
        if not callable(self.network):
            raise TypeError(f"`network` must be a callable on one point, got "
                            f"{type(self.network).__name__}.")

    def __call__(self, x: Float[Array, " d"], *, key: PRNGKeyArray | None = None) -> Array:
        embs = self.embedding if isinstance(self.embedding, tuple) else (self.embedding,)
        for e in embs:
            x = e(x)
        return self.network(x)
