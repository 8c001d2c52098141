r"""Index-1 reduction: $M y' = f(t, y)$ as an ODE in the differential coordinates."""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, Float

from .._checks import is_concrete
from ._term import MassMatrixTerm, find_mass_term


class IndexOneReduction(eqx.Module):
    r"""Reduce an index-1 DAE $M y' = f(t, y, \text{args})$ to an ODE usable with any stock
    diffrax solver (e.g. `diffrax.Kvaerno5`).

    With the SVD $M = U \Sigma V^\top$ and $r$ = `n_differential` nonzero singular values,
    the coordinates $z = V^\top y = (z_d, z_a)$ turn the DAE into the semi-explicit system
    $$ (U_r^\top M V_r)\, z_d' = U_r^\top f(t, V_r z_d + V_0 z_a), \qquad
       0 = U_0^\top f(t, V_r z_d + V_0 z_a). $$
    The ODE's vector field finds $z_a(t, z_d)$ from the algebraic equations with an
    optimistix root find (Newton from `guess`) and returns $z_d'$; derivatives flow through
    the root find by the implicit function theorem. The subspaces are computed from
    `stop_gradient(M)` and assumed independent of `args` (true for circuits, whose null
    spaces are structural); $U_r^\top M V_r$ keeps the full dependence on `args`.

    **Arguments:**

    - `term`: the `MassMatrixTerm`.
    - `n_differential`: $r = \operatorname{rank} M$ (static).
    - `guess`: starting point $y$ (shape `(n,)`) for the algebraic Newton solve; its
      algebraic coordinates $V_0^\top$ `guess` are used. A consistent initial state is a
      good choice.
    - `root_finder`: optimistix root finder (default Newton, tolerances $10^{-12}$).
    - `max_steps`: Newton iterations per vector-field evaluation.

    Use `reduce(y, args)` for $z_d$, `vector_field(t, z_d, args)` as a
    `diffrax.ODETerm`, and `reconstruct(t, z_d, args)` to recover $y$.
    """

    term: MassMatrixTerm
    n_differential: int = eqx.field(static=True)
    guess: Float[Array, " n"]
    root_finder: optx.AbstractRootFinder = optx.Newton(rtol=1e-12, atol=1e-12)
    max_steps: int = eqx.field(static=True, default=50)

    def __check_init__(self):
        find_mass_term(self.term)
        n = jnp.shape(self.guess)
        if len(n) != 1:
            raise ValueError(f"`guess` must be a 1-D state, got shape {n}.")
        if isinstance(self.n_differential, bool) or not isinstance(self.n_differential, int):
            raise TypeError(
                f"`n_differential` must be a Python int, got {self.n_differential!r}."
            )
        if not 0 < self.n_differential <= n[0]:
            raise ValueError(
                f"`n_differential` must be in 1..{n[0]} (the rank of M), got "
                f"{self.n_differential}."
            )
        if is_concrete(self.guess) and not np.all(np.isfinite(np.asarray(self.guess))):
            raise ValueError("`guess` contains NaN or inf; give a finite starting state.")

    def _check(self, x, name, size, what):
        x = jnp.asarray(x)
        if x.shape != (size,):
            raise ValueError(
                f"`{name}` must have shape ({size},) ({what}), got {x.shape}."
            )
        return x

    def _bases(self, args):
        mass = self.term.mass_matrix(args).astype(self.guess.dtype)
        u, _, vt = jnp.linalg.svd(jax.lax.stop_gradient(mass))
        r = self.n_differential
        return mass, u[:, :r], u[:, r:], vt[:r].T, vt[r:].T

    def reduce(self, y: Float[Array, " n"], args: Any = None) -> Float[Array, " r"]:
        r"""$z_d = V_r^\top y$."""
        y = self._check(y, "y", self.guess.shape[0], "the full DAE state")
        _, _, _, vr, _ = self._bases(args)
        return vr.T @ y

    def algebraic(self, t, zd: Float[Array, " r"], args: Any = None) -> Float[Array, " a"]:
        r"""$z_a(t, z_d)$ solving $U_0^\top f(t, V_r z_d + V_0 z_a) = 0$."""
        zd = self._check(zd, "zd", self.n_differential, "the differential coordinates")
        _, _, u0, vr, v0 = self._bases(args)

        def g(za, _):
            return u0.T @ self.term.vector_field(t, vr @ zd + v0 @ za, args)

        sol = optx.root_find(
            g, self.root_finder, v0.T @ self.guess, None, max_steps=self.max_steps,
            throw=False,
        )
        # A failed inner solve gives NaN, so the outer (implicit) solver rejects the step.
        ok = sol.result == optx.RESULTS.successful
        return jnp.where(ok, sol.value, jnp.nan)

    def reconstruct(self, t, zd: Float[Array, " r"], args: Any = None) -> Float[Array, " n"]:
        r"""$y = V_r z_d + V_0 z_a(t, z_d)$."""
        zd = self._check(zd, "zd", self.n_differential, "the differential coordinates")
        _, _, _, vr, v0 = self._bases(args)
        return vr @ zd + v0 @ self.algebraic(t, zd, args)

    def vector_field(self, t, zd: Float[Array, " r"], args: Any = None) -> Float[Array, " r"]:
        r"""$z_d' = (U_r^\top M V_r)^{-1} U_r^\top f(t, y(z_d))$."""
        zd = self._check(zd, "zd", self.n_differential, "the differential coordinates")
        mass, ur, _, vr, _ = self._bases(args)
        y = self.reconstruct(t, zd, args)
        return jnp.linalg.solve(ur.T @ mass @ vr, ur.T @ self.term.vector_field(t, y, args))
