r"""Decoders of reduced-order manifolds: the shallow masked autoencoder and the affine subspace.

A manifold ROM approximates the state by $x \approx x_{ref} + g(\hat x)$, $\hat x \in
\mathbb{R}^{n_s}$ (Kim, Choi, Widemann & Zohdi, JCP 451:110841, 2022, eq. 12; review seed
002, §12). `AbstractManifold` is what the ROM solvers need of $g$: the whole decode, the
decode of a few rows only (`decode_rows`, for hyper-reduction) and an encoder $h$ for the
initial latent state.

`MaskedAutoencoder` is the paper's shallow masked autoencoder (§4.1, Fig. 3):

- encoder $h$: $N \to M_1$ (activation $\sigma_e$, swish or sigmoid) $\to n_s$ (linear);
- decoder $g$: $n_s \to M_2$ (swish) $\to N$ (linear), whose last layer is **sparse with a
  banded mask**: output $i$ is connected to the hidden units $[i\,\delta b,\ i\,\delta b +
  b)$ only, so $M_2 = b + (N - 1)\,\delta b$,

$$ g_i(\hat x) = \sum_{j=0}^{b-1} W_{ij}\, \sigma\big(a_{i\delta b + j}^\top \hat x +
c_{i\delta b + j}\big) + d_i . $$

The sparse layer is stored as its $(N, b)$ nonzero weights and the band is a gather, never a
dense $N \times M_2$ masked matrix. Row $i$ touches $b$ hidden units and $b\,(n_s + 1)$
first-layer weights: `decode_rows(xhat, rows)` evaluates exactly that subnetwork, which is
what makes hyper-reduction with a nonlinear manifold cheap (§4.2).

`LinearManifold` is the affine subspace $g(\hat x) = \Phi \hat x$ (POD), so the same
solvers give LS-LSPG and LS-LSPG-HR, and an identity basis gives the exact manifold.
"""

import abc
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr

from .._custom_types import Array, Float, Int


def _check_rows(rows, size) -> Int[Array, " k"]:
    rows = jnp.asarray(rows)
    if rows.ndim != 1 or not jnp.issubdtype(rows.dtype, jnp.integer):
        raise ValueError(
            f"`rows` must be a 1-D integer array of output indices in [0, {size}), got shape "
            f"{rows.shape}, dtype {rows.dtype}."
        )
    return rows


def _check_latent(xhat, n_s) -> Float[Array, " n_s"]:
    xhat = jnp.asarray(xhat)
    if xhat.shape != (n_s,):
        raise ValueError(
            f"`xhat` must be one latent vector of shape ({n_s},), got shape {xhat.shape}; "
            "vmap for a batch."
        )
    return xhat


class AbstractManifold(eqx.Module):
    r"""A decoder $g: \mathbb{R}^{n_s} \to \mathbb{R}^N$ with row-wise evaluation and an
    encoder $h: \mathbb{R}^N \to \mathbb{R}^{n_s}$ (both pointwise: one vector per call)."""

    @property
    @abc.abstractmethod
    def size(self) -> int:
        """N, the full dimension."""

    @property
    @abc.abstractmethod
    def latent_size(self) -> int:
        """n_s, the latent dimension."""

    @abc.abstractmethod
    def encode(self, x: Float[Array, " N"]) -> Float[Array, " n_s"]:
        """$h(x)$."""

    @abc.abstractmethod
    def decode_rows(self, xhat: Float[Array, " n_s"], rows: Int[Array, " k"]) -> Float[Array, " k"]:
        """$g(\\hat x)$ at the outputs `rows` only."""

    def decode(self, xhat: Float[Array, " n_s"]) -> Float[Array, " N"]:
        """$g(\\hat x)$, all N outputs."""
        return self.decode_rows(xhat, jnp.arange(self.size))


class MaskedAutoencoder(AbstractManifold):
    r"""The NM-ROM paper's shallow masked autoencoder (§4.1; 1-D: N = 1000, M1 = 2000,
    n_s = 5, b = 36, db = 12, M2 = 12,024).

    **Arguments:**
    - `size` N, `latent_size` n_s, `encoder_width` M1 (ints >= 1);
    - `band` b >= 1 and `shift` db >= 1: output i sees hidden units [i db, i db + b);
      the decoder's hidden width is M2 = b + (N - 1) db;
    - `key`: PRNG key (weights uniform in $\pm 1/\sqrt{\text{fan-in}}$, fan-in b for the
      sparse layer, as `eqx.nn.Linear`);
    - `encoder_activation` (default `jax.nn.swish`; the paper also uses sigmoid),
      `decoder_activation` (default `jax.nn.swish`);
    - `dtype`: parameter dtype (default: JAX's default float).
    """

    enc_w1: Float[Array, "M1 N"]
    enc_b1: Float[Array, " M1"]
    enc_w2: Float[Array, "n_s M1"]
    enc_b2: Float[Array, " n_s"]
    dec_w1: Float[Array, "M2 n_s"]
    dec_b1: Float[Array, " M2"]
    dec_w2: Float[Array, "N b"]
    dec_b2: Float[Array, " N"]
    band: int = eqx.field(static=True)
    shift: int = eqx.field(static=True)
    encoder_activation: Callable = eqx.field(static=True)
    decoder_activation: Callable = eqx.field(static=True)

    def __init__(
        self,
        size: int,
        latent_size: int,
        encoder_width: int,
        band: int,
        shift: int,
        *,
        key: Array,
        encoder_activation: Callable = jax.nn.swish,
        decoder_activation: Callable = jax.nn.swish,
        dtype=None,
    ):
        for name, v in (("size", size), ("latent_size", latent_size),
                        ("encoder_width", encoder_width), ("band", band), ("shift", shift)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"MaskedAutoencoder: `{name}` must be an int >= 1, got {v!r}.")
        if not callable(encoder_activation) or not callable(decoder_activation):
            raise TypeError("MaskedAutoencoder: the activations must be callables (e.g. jax.nn.swish).")
        dtype = jnp.result_type(float) if dtype is None else dtype
        m2 = band + (size - 1) * shift
        k = jr.split(key, 8)

        def uni(key, shape, fan_in):
            lim = 1.0 / jnp.sqrt(fan_in)
            return jr.uniform(key, shape, dtype, -lim, lim)

        self.enc_w1 = uni(k[0], (encoder_width, size), size)
        self.enc_b1 = uni(k[1], (encoder_width,), size)
        self.enc_w2 = uni(k[2], (latent_size, encoder_width), encoder_width)
        self.enc_b2 = uni(k[3], (latent_size,), encoder_width)
        self.dec_w1 = uni(k[4], (m2, latent_size), latent_size)
        self.dec_b1 = uni(k[5], (m2,), latent_size)
        self.dec_w2 = uni(k[6], (size, band), band)
        self.dec_b2 = uni(k[7], (size,), band)
        self.band, self.shift = band, shift
        self.encoder_activation = encoder_activation
        self.decoder_activation = decoder_activation

    @property
    def size(self) -> int:
        return self.dec_w2.shape[0]

    @property
    def latent_size(self) -> int:
        return self.dec_w1.shape[1]

    @property
    def hidden_width(self) -> int:
        """M2 = b + (N - 1) db."""
        return self.dec_w1.shape[0]

    def hidden_units(self, rows: Int[Array, " k"]) -> Int[Array, "k b"]:
        """The decoder hidden units output `rows` are connected to (the banded mask)."""
        rows = _check_rows(rows, self.size)
        return rows[:, None] * self.shift + jnp.arange(self.band)[None, :]

    def encode(self, x: Float[Array, " N"]) -> Float[Array, " n_s"]:
        x = jnp.asarray(x)
        if x.shape != (self.size,):
            raise ValueError(f"`x` must be one state of shape ({self.size},), got {x.shape}; vmap for a batch.")
        h = self.encoder_activation(self.enc_w1 @ x + self.enc_b1)
        return self.enc_w2 @ h + self.enc_b2

    def decode(self, xhat: Float[Array, " n_s"]) -> Float[Array, " N"]:
        # every hidden unit once (each is shared by ~b/db outputs), then the band gather
        xhat = _check_latent(xhat, self.latent_size)
        hidden = self.decoder_activation(self.dec_w1 @ xhat + self.dec_b1)
        band = hidden[self.hidden_units(jnp.arange(self.size))]
        return jnp.sum(self.dec_w2 * band, axis=1) + self.dec_b2

    def decode_rows(self, xhat: Float[Array, " n_s"], rows: Int[Array, " k"]) -> Float[Array, " k"]:
        r"""$g(\hat x)$ at `rows`, touching only those rows' $b$ hidden units each."""
        xhat = _check_latent(xhat, self.latent_size)
        units = self.hidden_units(rows)
        hidden = self.decoder_activation(self.dec_w1[units] @ xhat + self.dec_b1[units])
        return jnp.sum(self.dec_w2[rows] * hidden, axis=1) + self.dec_b2[rows]

    def dense_last_layer(self) -> Float[Array, "N M2"]:
        """The equivalent dense masked matrix of the sparse layer (for tests / inspection)."""
        dense = jnp.zeros((self.size, self.hidden_width), self.dec_w2.dtype)
        rows = jnp.arange(self.size)
        return dense.at[rows[:, None], self.hidden_units(rows)].set(self.dec_w2)


class LinearManifold(AbstractManifold):
    r"""The affine subspace $g(\hat x) = \Phi \hat x$, $h(x) = \Phi^\top x$ ($\Phi$ with
    orthonormal columns, e.g. POD modes): LS-ROMs through the manifold solvers.

    **Arguments:** `basis` $\Phi$, an `(N, n_s)` matrix.
    """

    basis: Float[Array, "N n_s"]

    def __check_init__(self):
        if self.basis.ndim != 2 or self.basis.shape[1] < 1 or self.basis.shape[0] < 1:
            raise ValueError(f"LinearManifold: `basis` must be an (N, n_s) matrix, got shape {self.basis.shape}.")

    def __init__(self, basis: Float[Array, "N n_s"]):
        basis = jnp.asarray(basis)
        if not jnp.issubdtype(basis.dtype, jnp.floating):
            basis = basis.astype(jnp.result_type(float))
        self.basis = basis

    @property
    def size(self) -> int:
        return self.basis.shape[0]

    @property
    def latent_size(self) -> int:
        return self.basis.shape[1]

    def encode(self, x: Float[Array, " N"]) -> Float[Array, " n_s"]:
        x = jnp.asarray(x)
        if x.shape != (self.size,):
            raise ValueError(f"`x` must be one state of shape ({self.size},), got {x.shape}; vmap for a batch.")
        return self.basis.T @ x

    def decode(self, xhat: Float[Array, " n_s"]) -> Float[Array, " N"]:
        return self.basis @ _check_latent(xhat, self.latent_size)

    def decode_rows(self, xhat: Float[Array, " n_s"], rows: Int[Array, " k"]) -> Float[Array, " k"]:
        rows = _check_rows(rows, self.size)
        return self.basis[rows] @ _check_latent(xhat, self.latent_size)
