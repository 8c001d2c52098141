"""Proper orthogonal decomposition of trajectory snapshots ([PNDS] section 2.2, eqs. 4-7)."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from .._checks import check_value
from .._misc import as_float_array


class POD(eqx.Module):
    r"""A reduced basis $\tilde U \in \mathbb{R}^{m \times r}$ from the SVD $Y = U S V^\top$.

    **Attributes:** `basis` $\tilde U$ shape `(m, r)` (orthonormal columns $u_1..u_r$);
    `singular_values` all $\sigma_1 \ge \dots \ge \sigma_s$, shape `(s,)` with
    $s = \min(m, k)$.
    """

    basis: Float[Array, "m r"]
    singular_values: Float[Array, " s"]

    @property
    def rank(self) -> int:
        """The reduced dimension $r$."""
        return self.basis.shape[1]

    def project(self, w: Float[Array, " m"]) -> Float[Array, " r"]:
        r"""Coefficients $\hat a = \tilde U^\top w$ of one trajectory $w$ (eq. 6)."""
        w = as_float_array(w, "w")
        if w.shape != self.basis.shape[:1]:
            raise ValueError(
                f"`w` must be one trajectory of shape {self.basis.shape[:1]} (vmap for "
                f"batches), got {w.shape}."
            )
        return jnp.dot(self.basis.T, w, precision=jax.lax.Precision.HIGHEST)

    def reconstruct(self, a: Float[Array, " r"]) -> Float[Array, " m"]:
        r"""Trajectory $\tilde y = \tilde U a = \sum_\ell a_\ell u_\ell$ (eq. 5)."""
        a = as_float_array(a, "a")
        if a.shape != (self.rank,):
            raise ValueError(f"`a` must have shape ({self.rank},), got {a.shape}.")
        return jnp.dot(self.basis, a, precision=jax.lax.Precision.HIGHEST)


def energy_rank(singular_values: Float[Array, " s"], delta: float) -> Int[Array, ""]:
    r"""Smallest $r$ with $\sum_{\ell \le r} \sigma_\ell^2 > \delta \sum_{\ell \le s}
    \sigma_\ell^2$ (eq. 7). jit-able (returns an integer array).

    **Arguments:** `singular_values` in descending order, shape `(s,)`; `delta` in (0, 1].
    """
    if not 0.0 < float(delta) <= 1.0:
        raise ValueError(f"`delta` must lie in (0, 1], got {delta!r}.")
    sigma = as_float_array(singular_values, "singular_values")
    if sigma.ndim != 1 or sigma.shape[0] == 0:
        raise ValueError(
            f"`singular_values` must be a non-empty 1-D array, got shape {sigma.shape}."
        )
    sigma = check_value(
        sigma,
        ~jnp.isfinite(sigma) | (sigma < 0),
        "`singular_values` must be finite and >= 0 (as returned by an SVD).",
    )
    energy = jnp.cumsum(sigma**2)
    # `delta = 1` means keep everything with nonzero energy (round-off safe).
    below = energy < delta * energy[-1] * (1 - 4 * jnp.finfo(sigma.dtype).eps)
    return jnp.minimum(jnp.sum(below) + 1, sigma.shape[0])


@eqx.filter_jit
def _svd(y):
    y = eqx.error_if(
        y,
        ~jnp.all(jnp.isfinite(y)),
        "`snapshots` contain NaN or inf (e.g. failed rows of a dae.sweep with throw=False); "
        "drop those columns before the POD.",
    )
    u, sigma, _ = jnp.linalg.svd(y, full_matrices=False)
    return u, sigma


def pod(
    snapshots: Float[Array, "m k"], *, delta: float = 0.999, rank: int | None = None
) -> POD:
    r"""POD of the snapshot matrix $Y$ with $y_{ij} = y(t_i, p_j)$ (eq. 4).

    The rank is `rank` when given, else the smallest $r$ satisfying the energy criterion
    (eq. 7) with threshold $\delta$ (`delta`). Because $r$ fixes array shapes, choosing it
    from $\delta$ needs concrete data: under `jax.jit` pass `rank=` explicitly (e.g. from
    `energy_rank` evaluated outside jit).

    **Arguments:** `snapshots` $Y$ shape `(m, k)` (columns are trajectories); `delta`;
    `rank` optional static int in $[1, \min(m, k)]$.

    **Returns:** a `POD` with `basis` `(m, r)` and all singular values.

    **Raises:** `ValueError` for a non-matrix or empty `snapshots`, a `rank` outside
    $[1, \min(m, k)]$ (e.g. more modes than snapshots), a `delta` outside (0, 1];
    `EquinoxRuntimeError` for NaN/inf snapshots (e.g. failed sweep rows: drop them).
    """
    y = as_float_array(snapshots, "snapshots")
    if y.ndim != 2:
        raise ValueError(f"`snapshots` must be a matrix (m times, k samples), got {y.shape}.")
    if 0 in y.shape:
        raise ValueError(
            f"`snapshots` is empty (shape {y.shape}): give at least one time and one sample."
        )
    if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int)):
        raise ValueError(f"`rank` must be an int or None, got {rank!r}.")
    u, sigma = _svd(y)
    sigma = check_value(
        sigma,
        sigma[0] == 0,
        "`snapshots` are all zero: there is no dominant subspace to extract (every basis "
        "is equally valid). Check the data (e.g. the QoI of the sweep).",
    )
    if rank is None:
        try:
            rank = int(energy_rank(sigma, delta))
        except jax.errors.ConcretizationTypeError as err:
            raise ValueError(
                "`pod` under jit needs a static `rank=`; compute it outside jit with "
                "`energy_rank(singular_values, delta)`."
            ) from err
    if not isinstance(rank, int) or not 1 <= rank <= sigma.shape[0]:
        raise ValueError(f"`rank` must be an int in [1, {sigma.shape[0]}], got {rank!r}.")
    return POD(basis=u[:, :rank], singular_values=sigma)
