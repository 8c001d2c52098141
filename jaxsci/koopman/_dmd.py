r"""Exact dynamic mode decomposition (DMD) with rank truncation.

Implements exact DMD of Tu, Rowley, Luchtenburg, Brunton & Kutz, "On dynamic mode
decomposition: theory and applications", J. Comput. Dyn. 1 (2014), Algorithm 2, the
finite-dimensional Koopman approximation used by Dogra 2020 ("Dynamical systems and neural
networks", arXiv:2004.11826) and Dogra & Redman 2020 ("Optimizing neural networks via Koopman
operator theory", NeurIPS 2020, Sec. 3) to evolve network weights.

Convention (as in PyDMD): the *input* snapshots are the columns of an `(n, m)` matrix. Every
Koopman model in `jaxsci.koopman` forecasts with one signature, `forecast(x0, steps)`, from an
initial state `x0` by an array `steps` of step counts (snapshot intervals), and returns the time
axis first (`steps.shape + state shape`); `reconstruct(times)` (models that store their own
initial condition) uses the same layout.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float

from .._checks import check_nonempty, check_value, is_concrete
from .._misc import as_float_array

_HI = jax.lax.Precision.HIGHEST


def _check_steps(steps, name: str = "steps") -> Float[Array, "..."]:
    """`steps` (step counts / times) must be finite and >= 0: `powers` gives 0 for
    $0^t$, so a negative count would be silently wrong, and NaN would spread. Concrete
    values are checked with NumPy (a `ValueError` at once, also inside a caller's `jit`)."""
    concrete = is_concrete(steps)
    xp = np if concrete else jnp
    arr = xp.asarray(steps)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"`{name}` must be real step counts, got dtype {arr.dtype}.")
    bad = ~(xp.isfinite(arr) & (arr >= 0))
    out = check_value(
        arr,
        bad,
        f"`{name}` must be finite and >= 0 (step counts forward in time); got a negative, "
        "NaN or inf entry.",
    )
    return jnp.asarray(steps) if concrete else out


def _check_state(x0, n: int, name: str = "x0") -> Float[Array, " n"]:
    concrete = is_concrete(x0)
    x0 = as_float_array(x0, name)
    if x0.shape != (n,):
        raise ValueError(
            f"`{name}` must be one state of shape ({n},) (the model's state size), got shape "
            f"{x0.shape}."
        )
    bad = ~np.isfinite(np.asarray(x0)) if concrete and is_concrete(x0) else ~jnp.isfinite(x0)
    return check_value(x0, bad, f"`{name}` contains NaN or inf; give a finite state.")


def _check_tol(v, name: str, positive: bool = False):
    """A (possibly traced) scalar tolerance: finite and >= 0 (> 0 if `positive`). Returns
    `v` when concrete (checked with NumPy), else the checked traced value (use it)."""
    if v is None:
        return None
    concrete = is_concrete(v)
    xp = np if concrete else jnp
    arr = xp.asarray(v)
    if arr.ndim != 0:
        raise ValueError(f"`{name}` must be a scalar, got shape {arr.shape}.")
    bad = ~xp.isfinite(arr) | ((arr <= 0) if positive else (arr < 0))
    want = "> 0" if positive else ">= 0"
    got = v if concrete else "a bad value"
    out = check_value(arr, bad, f"`{name}` must be a finite number {want}, got {got}.")
    return v if concrete else out


def mm(a: Array, b: Array) -> Array:
    """Matrix product at `precision=HIGHEST` (the default TPU/GPU precision is too low)."""
    return jnp.matmul(a, b, precision=_HI)


def powers(lam: Complex[Array, " r"], t: Float[Array, "..."]) -> Complex[Array, "... r"]:
    r"""$\lambda^t$ for real (possibly non-integer) $t \ge 0$, with $0^0 = 1$, $0^t = 0$."""
    t = jnp.asarray(t)[..., None]
    lam = lam.reshape((1,) * (t.ndim - 1) + lam.shape)
    zero = lam == 0
    safe = jnp.where(zero, jnp.ones_like(lam), lam)
    p = jnp.exp(t * jnp.log(safe))
    return jnp.where(zero, (t == 0).astype(p.dtype), p)


class DMD(eqx.Module):
    r"""A fitted (exact) DMD model $x_t \approx \sum_j \Phi_j \lambda_j^{t} b_j$.

    **Attributes:**
    - `eigenvalues`: $\lambda_j$, shape `(r,)`, complex (discrete time, one step = `dt`).
    - `modes`: exact DMD modes $\Phi = Y V \Sigma^{-1} W$, shape `(n, r)`, complex.
    - `amplitudes`: $b = \Phi^+ x_0$ for the first snapshot, shape `(r,)`.
    - `singular_values`: the (kept) singular values of $X$, shape `(r,)`; truncated ones are 0.
    - `reduced_operator`: $\tilde A = U^* Y V \Sigma^{-1}$, shape `(r, r)`.
    - `dt`: time between snapshots (scalar array).
    """

    eigenvalues: Complex[Array, " r"]
    modes: Complex[Array, "n r"]
    amplitudes: Complex[Array, " r"]
    singular_values: Float[Array, " r"]
    reduced_operator: Float[Array, "r r"]
    dt: Float[Array, ""]

    @property
    def continuous_eigenvalues(self) -> Complex[Array, " r"]:
        r"""$\omega_j = \log(\lambda_j) / \Delta t$ (continuous-time Koopman eigenvalues)."""
        return jnp.log(self.eigenvalues.astype(jnp.result_type(self.eigenvalues, 1j))) / self.dt

    def project(self, x: Float[Array, " n"]) -> Complex[Array, " r"]:
        r"""Mode coordinates $\Phi^+ x$ (least squares; truncated modes get 0)."""
        if jnp.shape(x) != self.modes.shape[:1]:
            raise ValueError(
                f"`x` must be one state of shape ({self.modes.shape[0]},), got shape {jnp.shape(x)}."
            )
        u, s, vh = jnp.linalg.svd(self.modes, full_matrices=False)
        tol = jnp.finfo(s.dtype).eps * max(self.modes.shape) * s[0]
        s_inv = jnp.where(s > tol, 1 / jnp.where(s > tol, s, 1), 0)
        return mm(jnp.conj(vh).T, s_inv * mm(jnp.conj(u).T, x.astype(u.dtype)))

    def reconstruct(self, times: Float[Array, "..."]) -> Float[Array, "... n"]:
        r"""The model's own trajectory $\mathrm{Re}\,\Phi\,\mathrm{diag}(b)\,\lambda^{t}$ at `times`
        (in snapshot intervals counted from the first snapshot, which the amplitudes $b$ refer
        to), time first: shape `times.shape + (n,)`, so `reconstruct(jnp.arange(m))` is the
        transposed `(m, n)` snapshot matrix. `times` must be finite and >= 0 (`ValueError` /
        `EquinoxRuntimeError` otherwise)."""
        lam_t = powers(self.eigenvalues, _check_steps(times, "times"))  # (..., r)
        b = self.amplitudes.reshape((1,) * (lam_t.ndim - 1) + self.amplitudes.shape)
        return jnp.real(jnp.einsum("nr,...r->...n", self.modes, lam_t * b, precision=_HI))

    def forecast(
        self, x0: Float[Array, " n"], steps: Float[Array, "..."]
    ) -> Float[Array, "... n"]:
        r"""Evolve the state `x0` by `steps` snapshot intervals:

        $$x(s) = x_0 + \mathrm{Re}\,\Phi\,[(\lambda^{s} - 1)\odot \Phi^+ x_0],$$

        i.e. the DMD evolution inside the span of the modes, while the component of $x_0$
        orthogonal to that span is kept unchanged (so $x(0) = x_0$ exactly).

        **Arguments:**

        - `x0`: the initial state, `(n,)`.
        - `steps`: an array (or scalar) of non-negative real step counts.

        **Returns:** the forecast states, time first: shape `steps.shape + (n,)`.

        **Raises:** `ValueError` if `x0` is not of shape `(n,)`; `ValueError` (eager) /
        `EquinoxRuntimeError` (traced) if `x0` has NaN/inf or `steps` a negative, NaN or
        inf entry.
        """
        x0 = _check_state(x0, self.modes.shape[0])
        return self._forecast(x0, _check_steps(steps))

    def _forecast(self, x0, steps):
        # unchecked core (callers check once at their entry point)
        b0 = self.project(x0)
        lam_s = powers(self.eigenvalues, jnp.asarray(steps))  # (..., r)
        b0 = b0.reshape((1,) * (lam_s.ndim - 1) + b0.shape)
        delta = jnp.real(jnp.einsum("nr,...r->...n", self.modes, (lam_s - 1) * b0, precision=_HI))
        return x0.reshape((1,) * (delta.ndim - 1) + x0.shape) + delta.astype(x0.dtype)

    def fixed_point(self, x0: Float[Array, " n"], atol: float = 1e-3) -> Float[Array, " n"]:
        r"""Predicted limit $\lim_{s\to\infty} x(s)$ from `x0` (Dogra 2020, Sec. IV): modes with
        $|\lambda - 1| <$ `atol` are kept (the unit-eigenvalue mode), decaying modes
        ($|\lambda| < 1$) vanish. Growing or oscillating modes with $|\lambda| \geq 1$ other than
        the unit one mean there is no fixed point: the result is then NaN (documented, not
        an error: check `jnp.isnan`). `x0` is checked as in `forecast`, `atol` must be > 0."""
        x0 = _check_state(x0, self.modes.shape[0])
        return self._fixed_point(x0, _check_tol(atol, "atol", positive=True))

    def _fixed_point(self, x0, atol):
        lam = self.eigenvalues
        unit = jnp.abs(lam - 1) < atol
        diverge = (jnp.abs(lam) >= 1) & ~unit & (jnp.abs(self.modes).sum(0) > 0)
        limit = jnp.where(unit, jnp.ones_like(lam), jnp.zeros_like(lam))
        b0 = self.project(x0)
        x = x0 + jnp.real(mm(self.modes, (limit - 1) * b0)).astype(x0.dtype)
        return jnp.where(jnp.any(diverge), jnp.nan, x)


def _check_matrix(x, name: str) -> Float[Array, "n m"]:
    x = as_float_array(x, name)
    if x.ndim != 2:
        raise ValueError(f"`{name}` must be a 2-D (n, m) snapshot matrix, got shape {x.shape}.")
    check_nonempty(x, name, axis=0, what="state components (rows)")
    check_nonempty(x, name, axis=1, what="snapshots (columns)")
    return x


def _check_finite_data(x, name: str):
    return check_value(
        x,
        ~jnp.isfinite(x),
        f"`{name}` contains NaN or inf; drop or repair those snapshots before fitting.",
    )


def _check_rank(rank, full: int):
    if rank is None:
        return full
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not 1 <= rank <= full:
        raise ValueError(
            f"`rank` must be an int in [1, min(n, m) = {full}] (the data has only {full} "
            f"independent directions), got {rank!r}."
        )
    return int(rank)


def dmd_from_pairs(
    x: Float[Array, "n m"],
    y: Float[Array, "n m"],
    *,
    rank: int | None = None,
    rtol: float | None = None,
    dt: float = 1.0,
) -> DMD:
    r"""Exact DMD of snapshot pairs $y_k = T(x_k)$ (Tu et al. 2014, Algorithm 2).

    $$X = U\Sigma V^*,\quad \tilde A = U^* Y V \Sigma^{-1},\quad \tilde A W = W\Lambda,\quad
    \Phi = Y V \Sigma^{-1} W,\quad b = \Phi^+ x_0.$$

    **Arguments:**
    - `x`, `y`: `(n, m)` matrices whose columns are states and their images one step later.
    - `rank`: keep the `rank` leading singular values (static; default `min(n, m)`).
    - `rtol`: additionally drop singular values below `rtol * sigma_max` (jit-friendly: they
      are zeroed, which turns the matching eigenvalues into exact zeros). Default: drop
      below `eps * max(n, m) * sigma_max`.
    - `dt`: time between snapshots (used by `continuous_eigenvalues`).

    **Returns:** a `DMD`. Eigen-decomposition uses `jnp.linalg.eig` (CPU only in JAX).

    **Raises:** `ValueError` (trace time) for non-2-D, empty or differently shaped `x` /
    `y`, or a `rank` outside `[1, min(n, m)]`; `ValueError` (eager) / `EquinoxRuntimeError`
    (traced) for NaN/inf snapshots, a negative or non-finite `rtol`, or `dt <= 0`.
    """
    x = _check_matrix(x, "x")
    y = _check_matrix(y, "y")
    if x.shape != y.shape:
        raise ValueError(f"`x` and `y` must have the same shape, got {x.shape} and {y.shape}.")
    rank = _check_rank(rank, min(x.shape))
    rtol = _check_tol(rtol, "rtol")
    dt = _check_tol(dt, "dt", positive=True)
    x = _check_finite_data(x, "x")
    y = _check_finite_data(y, "y")
    return _dmd_from_pairs(x, y, rank, rtol, dt)


def _dmd_from_pairs(x, y, rank, rtol, dt) -> DMD:
    # unchecked core: shapes, rank and finiteness are checked by the public callers
    n, m = x.shape
    u, s, vh = jnp.linalg.svd(x, full_matrices=False)
    u, s, v = u[:, :rank], s[:rank], jnp.conj(vh[:rank]).T
    cut = (jnp.finfo(s.dtype).eps * max(n, m) if rtol is None else rtol) * s[0]
    keep = s > cut
    s_inv = jnp.where(keep, 1 / jnp.where(keep, s, 1), 0)
    yv_s = mm(y, v) * s_inv[None, :]  # (n, r)
    a_tilde = mm(jnp.conj(u).T, yv_s)
    # eigenvector derivatives are valid for distinct eigenvalues (the generic case)
    lam, w = jax.lax.linalg.eig(a_tilde, compute_left_eigenvectors=False, enable_eigvec_derivs=True)
    modes = mm(yv_s.astype(w.dtype), w)
    out = DMD(lam, modes, jnp.zeros_like(lam), jnp.where(keep, s, 0), a_tilde, jnp.asarray(dt, x.dtype))
    return eqx.tree_at(lambda d: d.amplitudes, out, out.project(x[:, 0]))


def dmd(
    snapshots: Float[Array, "n m"],
    *,
    rank: int | None = None,
    rtol: float | None = None,
    dt: float = 1.0,
) -> DMD:
    r"""Exact DMD of a sequence of snapshots $x_0, \dots, x_{m-1}$ (columns), fitting
    $x_{k+1} \approx A x_k$ with $X = [x_0 \dots x_{m-2}]$, $Y = [x_1 \dots x_{m-1}]$.

    See `dmd_from_pairs` for the arguments and the checks (`snapshots` also needs at least
    2 columns; `rank` at most `min(n, m - 1)`). Amplitudes refer to $x_0$, so
    `model.reconstruct(jnp.arange(m))` reproduces the snapshots (as an `(m, n)` array, time
    first).
    """
    snapshots = _check_matrix(snapshots, "snapshots")
    if snapshots.shape[1] < 2:
        raise ValueError(
            f"`snapshots` needs at least 2 columns (snapshots in time), got shape {snapshots.shape}."
        )
    rank = _check_rank(rank, min(snapshots.shape[0], snapshots.shape[1] - 1))
    rtol = _check_tol(rtol, "rtol")
    dt = _check_tol(dt, "dt", positive=True)
    snapshots = _check_finite_data(snapshots, "snapshots")
    return _dmd_from_pairs(snapshots[:, :-1], snapshots[:, 1:], rank, rtol, dt)


def stabilized(model: DMD) -> DMD:
    r"""A copy of `model` with every eigenvalue projected onto the closed unit disc,
    $\lambda \mapsto \lambda / \max(1, |\lambda|)$. Training trajectories that converge have
    no growing Koopman modes; spurious $|\lambda| > 1$ from short windows otherwise blow up
    long forecasts."""
    if not isinstance(model, DMD):
        raise TypeError(f"`model` must be a `DMD`, got {type(model).__name__}.")
    lam = model.eigenvalues
    return eqx.tree_at(lambda d: d.eigenvalues, model, lam / jnp.maximum(1, jnp.abs(lam)))
