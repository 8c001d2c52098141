r"""The mass-matrix term $M\,y' = f(t, y, \text{args})$ for `diffrax.diffeqsolve`."""

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

import diffrax as dfx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PyTree

from .._checks import is_concrete


# True while a solver that honours the mass matrix (a Rosenbrock method) traces its step. Every
# diffrax solver turns the vector field into an increment with `term.prod` (directly or
# through `term.vf_prod`); a stock solver does so without this flag, and would integrate
# y' = f, so `MassMatrixTerm.prod` refuses it. (`vf` alone stays allowed: diffeqsolve's
# term-compatibility check and the initial step-size heuristic evaluate it.)
_MASS_AWARE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "jaxsci_dae_mass_aware", default=False
)

MASS_AWARE_SOLVERS = "jaxsci.dae.Rodas4, Rodas4P, Rodas4P2, Rodas5P or ROS3P"


@contextlib.contextmanager
def mass_aware() -> Iterator[None]:
    """Mark the enclosed trace as made by a solver that honours the mass matrix."""
    token = _MASS_AWARE.set(True)
    try:
        yield
    finally:
        _MASS_AWARE.reset(token)


def refuse_solver_message(solver_name: str) -> str:
    return (
        f"{solver_name} does not know about the mass matrix of a jaxsci.dae.MassMatrixTerm "
        f"and would silently solve y' = f instead of M y' = f. Use a solver that honours "
        f"it ({MASS_AWARE_SOLVERS}), or reduce the DAE to an ODE with "
        "jaxsci.dae.IndexOneReduction and solve `diffrax.ODETerm(reduction.vector_field)` "
        "with any diffrax solver."
    )


class MassMatrixTerm(dfx.AbstractTerm):
    r"""A differential-algebraic term $M\,y'(t) = f(t, y, \text{args})$ with constant $M$.

    $M$ is an $n \times n$ matrix that may be singular (a DAE: the zero rows of $M$ in a
    suitable basis are algebraic constraints); it may depend on `args` (e.g. capacitances
    that are uncertain parameters) but not on $t$ or $y$. $n$ is the size of the flattened
    state `jax.flatten_util.ravel_pytree(y)`.

    Only solvers that know about the mass matrix honour it: use it with
    [`jaxsci.dae.Rodas4`][] (or another `jaxsci.dae.AbstractRosenbrock`). A stock diffrax solver (`diffrax.Tsit5`, `diffrax.Kvaerno5`,
    ...) would treat it as $y' = f$, so the term refuses it: `diffeqsolve` raises a
    `TypeError` when it traces such a solver's step. For stock solvers, reduce the DAE to
    an ODE first with [`jaxsci.dae.IndexOneReduction`][]. `vf(t, y, args)` (or
    `vector_field`) evaluates $f$; `prod` / `vf_prod` (the increment $f\,\Delta t$ of an
    ODE step) refuse to run outside a mass-matrix solver's step.

    **Arguments:**

    - `vector_field`: `f(t, y, args) -> PyTree` with the structure of `y`.
    - `mass`: the matrix $M$, `Float[Array, "n n"]`, or a callable `mass(args) -> M`.
    """

    vector_field: Callable[..., PyTree[Float[Array, "..."]]]
    mass: Float[Array, "n n"] | Callable[[Any], Float[Array, "n n"]]

    def __check_init__(self):
        if not callable(self.vector_field):
            raise TypeError(
                "`vector_field` must be a callable f(t, y, args), got "
                f"{type(self.vector_field).__name__}."
            )
        if callable(self.mass) and not isinstance(self.mass, (jax.Array, np.ndarray)):
            return
        m = self.mass
        shape = jnp.shape(m)
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"`mass` must be a square matrix, got shape {shape}.")
        if is_concrete(m) and not np.all(np.isfinite(np.asarray(m))):
            raise ValueError(
                "`mass` contains NaN or inf; the mass matrix must be finite (zero rows or "
                "columns are fine: they mark algebraic equations)."
            )

    def mass_matrix(self, args: Any) -> Float[Array, "n n"]:
        """The matrix $M$ for these `args`."""
        if callable(self.mass) and not isinstance(self.mass, jax.Array):
            m = self.mass(args)
        else:
            m = self.mass
        m = jnp.asarray(m)
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise ValueError(f"`mass` must be a square matrix, got shape {m.shape}.")
        return m

    def vf(self, t, y, args):
        return self.vector_field(t, y, args)

    def contr(self, t0, t1, **kwargs):
        return t1 - t0

    def prod(self, vf, control):
        if not _MASS_AWARE.get():
            raise TypeError(refuse_solver_message("This solver"))
        return jax.tree_util.tree_map(lambda v: control * v, vf)


def _unwrap(terms: dfx.AbstractTerm) -> dfx.AbstractTerm:
    # `diffeqsolve` hands solvers its terms wrapped in a time-direction wrapper (diffrax's
    # `WrapTerm`, not exported). It is recognised by its two public fields, `term` and
    # `direction`; wrappers that change the state (the adjoint term of BacksolveAdjoint)
    # have no `direction` and are not looked through.
    t = terms
    while isinstance(getattr(t, "term", None), dfx.AbstractTerm) and hasattr(t, "direction"):
        t = t.term
    return t


def unwrap_mass(terms: dfx.AbstractTerm, args: Any) -> Float[Array, "n n"] | None:
    """The mass matrix of `terms` (looking through diffrax's direction wrapper), or None
    for a plain ODE term ($M = I$)."""
    t = _unwrap(terms)
    if isinstance(t, MassMatrixTerm):
        return t.mass_matrix(args)
    return None


def find_mass_term(terms: dfx.AbstractTerm) -> MassMatrixTerm:
    """`terms` itself if it is a `MassMatrixTerm` (else a `TypeError` naming it)."""
    if not isinstance(terms, MassMatrixTerm):
        raise TypeError(
            f"`term` must be a jaxsci.dae.MassMatrixTerm, got {type(terms).__name__}."
        )
    return terms


def check_state(y0: Any, mass: Float[Array, "n n"], name: str = "y0") -> None:
    """Trace-time check that the flattened state matches the mass matrix."""
    leaves = jax.tree_util.tree_leaves(y0)
    n = sum(jnp.size(x) for x in leaves)
    if mass.shape != (n, n):
        raise ValueError(
            f"`{name}` has {n} entries but the mass matrix has shape {mass.shape}; "
            f"they must agree (M is n x n for a state of size n)."
        )
    for x in leaves:
        if not jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating):
            raise TypeError(f"`{name}` must be floating point, got {jnp.asarray(x).dtype}.")
