r"""Extended DMD (EDMD) with dictionaries of observables.

Implements Williams, Kevrekidis & Rowley, "A data-driven approximation of the Koopman
operator: extending dynamic mode decomposition", J. Nonlinear Sci. 25 (2015), Eqs. (13)-(16):
with a dictionary $\psi: \mathbb{R}^d \to \mathbb{R}^k$ (a row vector of observables),

$$G = \tfrac1m \Psi_X^* \Psi_X,\qquad A = \tfrac1m \Psi_X^* \Psi_Y,\qquad K = G^+ A,$$

so that $\psi(x_{t+1}) \approx \psi(x_t) K$; eigenpairs $K\xi_j = \lambda_j \xi_j$ give Koopman
eigenfunctions $\varphi_j(x) = \psi(x)\xi_j$ (Dogra 2020, Sec. III, uses these to study the
loss as an observable of training).
"""

import abc
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float, Int

from .._checks import check_nonempty, check_value
from .._misc import as_float_array
from ..polynomials import total_degree_indices
from ._dmd import _HI, _check_state, _check_steps, _check_tol, mm, powers


class AbstractDictionary(eqx.Module):
    r"""A dictionary of observables $\psi: \mathbb{R}^d \to \mathbb{R}^k$ on ONE state."""

    @abc.abstractmethod
    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " k"]:
        raise NotImplementedError


class Monomials(AbstractDictionary):
    r"""All monomials $x^\alpha$ with total degree $|\alpha| \le$ `degree`, in the graded
    order of `jaxsci.polynomials.total_degree_indices` ($1, x_1, \dots, x_d, x_1^2,
    x_1x_2, \dots$). Needs the state dimension `d` up front."""

    exponents: Int[Array, "k d"]

    def __init__(self, d: int, degree: int):
        if not isinstance(d, int) or isinstance(d, bool) or d < 1:
            raise ValueError(f"`d` must be a positive int, got {d!r}.")
        if not isinstance(degree, int) or isinstance(degree, bool) or degree < 0:
            raise ValueError(f"`degree` must be a non-negative int, got {degree!r}.")
        self.exponents = jnp.asarray(total_degree_indices(d, degree), dtype=jnp.int32)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " k"]:
        if x.shape != self.exponents.shape[1:]:
            raise ValueError(f"`x` must have shape {self.exponents.shape[1:]}, got {x.shape}.")
        return jnp.prod(x[None, :] ** self.exponents, axis=-1)


class RadialBasis(AbstractDictionary):
    r"""$\psi(x) = [x,\ \exp(-|x - c_i|^2 / (2\ell^2))_{i=1}^{p}]$ (the state itself followed by
    Gaussian RBFs with `centres` `(p, d)` and length scale `length_scale`). Including the state
    lets EDMD forecast it (Williams et al. 2015, Sec. 3.1)."""

    centres: Float[Array, "p d"]
    length_scale: Float[Array, ""]

    def __init__(self, centres: Float[Array, "p d"], length_scale: float):
        centres = as_float_array(centres, "centres")
        if centres.ndim != 2:
            raise ValueError(f"`centres` must have shape (p, d), got {centres.shape}.")
        check_nonempty(centres, "centres", axis=1, what="coordinates")
        centres = check_value(
            centres, ~jnp.isfinite(centres), "`centres` contains NaN or inf; give finite centres."
        )
        ell = jnp.asarray(length_scale, centres.dtype)
        if ell.ndim != 0:
            raise ValueError(f"`length_scale` must be a scalar, got shape {ell.shape}.")
        self.centres = centres
        self.length_scale = check_value(
            ell,
            ~(jnp.isfinite(ell) & (ell > 0)),
            f"`length_scale` must be finite and > 0, got {length_scale}.",
        )

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " k"]:
        if jnp.shape(x) != self.centres.shape[1:]:
            raise ValueError(
                f"`x` must be one state of shape {self.centres.shape[1:]}, got {jnp.shape(x)}."
            )
        r2 = jnp.sum((x[None, :] - self.centres) ** 2, axis=-1)
        return jnp.concatenate([x, jnp.exp(-0.5 * r2 / self.length_scale**2)])


class FunctionDictionary(AbstractDictionary):
    """A user callable `fn(x: (d,)) -> (k,)` used as the dictionary."""

    fn: Callable[[Array], Array]

    def __check_init__(self):
        if not callable(self.fn):
            raise TypeError(f"`fn` must be a callable x -> psi(x), got {type(self.fn).__name__}.")

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " k"]:
        return self.fn(x)


class EDMD(eqx.Module):
    r"""A fitted EDMD model.

    **Attributes:**
    - `dictionary`: the dictionary $\psi$.
    - `koopman_matrix`: $K = G^+ A$, shape `(k, k)`.
    - `eigenvalues`: $\lambda_j$, `(k,)` complex.
    - `eigenvectors`: $\xi_j$ (columns), `(k, k)` complex.
    - `state_map`: $B$ with $x \approx \psi(x) B$ (least squares on the data), `(k, d)`.
    """

    dictionary: AbstractDictionary
    koopman_matrix: Float[Array, "k k"]
    eigenvalues: Complex[Array, " k"]
    eigenvectors: Complex[Array, "k k"]
    state_map: Float[Array, "k d"]

    def eigenfunctions(self, x: Float[Array, " d"]) -> Complex[Array, " k"]:
        r"""$\varphi_j(x) = \psi(x)\,\xi_j$ for all $j$ (Williams et al. 2015, Eq. (16))."""
        psi = self.dictionary(x)
        return mm(psi.astype(self.eigenvectors.dtype), self.eigenvectors)

    def forecast(self, x0: Float[Array, " d"], steps: Int[Array, "..."]) -> Float[Array, "... d"]:
        r"""$x_s \approx \psi(x_0) K^{s} B$ for each step count $s \ge 0$ in `steps`, through the
        spectral decomposition $K^s = \Xi \Lambda^s \Xi^{-1}$.

        **Arguments:**

        - `x0`: the initial state, `(d,)`.
        - `steps`: an array (or scalar) of non-negative step counts (integers; real values
            use $\lambda^s$ on the principal branch).

        **Returns:** the forecast states, time first: shape `steps.shape + (d,)`.

        **Raises:** `ValueError` if `x0` is not of shape `(d,)`; `ValueError` (eager) /
        `EquinoxRuntimeError` (traced) for NaN/inf in `x0` or a negative, NaN or inf step.
        """
        x0 = _check_state(x0, self.state_map.shape[1])
        steps = _check_steps(steps)
        psi = self.dictionary(x0).astype(self.eigenvectors.dtype)
        coeff = mm(psi, self.eigenvectors)  # eigenfunction values
        inv_b = jnp.linalg.solve(self.eigenvectors, self.state_map.astype(coeff.dtype))
        lam_s = powers(self.eigenvalues, jnp.asarray(steps))  # (..., k)
        coeff = coeff.reshape((1,) * (lam_s.ndim - 1) + coeff.shape)
        return jnp.real(jnp.einsum("...k,kd->...d", lam_s * coeff, inv_b, precision=_HI)).astype(x0.dtype)


def edmd(
    x: Float[Array, "m d"],
    y: Float[Array, "m d"],
    dictionary: AbstractDictionary,
    *,
    rcond: float | None = None,
) -> EDMD:
    r"""Fit EDMD to state pairs $y_i = T(x_i)$ (rows), Williams et al. 2015, Eqs. (13)-(15).

    **Arguments:**
    - `x`, `y`: `(m, d)` arrays of states and their images (note: rows, unlike `dmd`).
    - `dictionary`: an `AbstractDictionary` (`Monomials`, `RadialBasis`,
      `FunctionDictionary`); evaluated pointwise and batched with `vmap`.
    - `rcond`: relative cut-off for the pseudo-inverse of $G$ (default `eps * k`).

    **Returns:** an `EDMD`.

    **Raises:** `ValueError` (trace time) for `x`, `y` not both `(m, d)` with $m, d \ge 1$
    or a dictionary not returning a vector; `TypeError` for a `dictionary` that is not an
    `AbstractDictionary`; `ValueError` (eager) / `EquinoxRuntimeError` (traced) for NaN/inf
    in `x`, `y` or the dictionary values, or a negative / non-finite `rcond`.
    """
    x = as_float_array(x, "x")
    y = as_float_array(y, "y")
    if x.ndim != 2 or x.shape != y.shape:
        raise ValueError(f"`x` and `y` must both be (m, d), got {x.shape} and {y.shape}.")
    check_nonempty(x, "x", axis=0, what="state pairs (rows)")
    check_nonempty(x, "x", axis=1, what="state coordinates")
    if not isinstance(dictionary, AbstractDictionary):
        raise TypeError(f"`dictionary` must be an AbstractDictionary, got {type(dictionary)}.")
    rcond = _check_tol(rcond, "rcond")
    msg = "`{}` contains NaN or inf; drop or repair those state pairs before fitting."
    x = check_value(x, ~jnp.isfinite(x), msg.format("x"))
    y = check_value(y, ~jnp.isfinite(y), msg.format("y"))
    psi_x = jax.vmap(dictionary)(x)
    psi_y = jax.vmap(dictionary)(y)
    if psi_x.ndim != 2:
        raise ValueError(
            f"`dictionary` must map one state (d,) to a vector (k,), got output shape "
            f"{psi_x.shape[1:]}."
        )
    psi_x = check_value(
        psi_x,
        ~jnp.isfinite(psi_x) | ~jnp.isfinite(psi_y),
        "`dictionary` gave NaN or inf on the data (e.g. monomials overflowing): rescale the "
        "states or choose a smaller degree.",
    )
    m, k = psi_x.shape
    g = mm(psi_x.T, psi_x) / m
    a = mm(psi_x.T, psi_y) / m
    cut = jnp.finfo(g.dtype).eps * k if rcond is None else rcond
    koop = mm(jnp.linalg.pinv(g, rtol=cut, hermitian=True), a)
    lam, xi = jax.lax.linalg.eig(koop, compute_left_eigenvectors=False, enable_eigvec_derivs=True)
    b = jnp.linalg.lstsq(psi_x, x)[0]
    return EDMD(dictionary, koop, lam, xi, b)
