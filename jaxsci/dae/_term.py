r"""The mass-matrix term $M\,y' = f(t, y, \text{args})$ for `diffrax.diffeqsolve`."""

from collections.abc import Callable
from typing import Any

import diffrax as dfx
import jax
import jax.numpy as jnp
from diffrax._term import WrapTerm  # diffrax wraps every term; not re-exported
from jaxtyping import Array, Float, PyTree


class MassMatrixTerm(dfx.AbstractTerm):
    r"""A differential-algebraic term $M\,y'(t) = f(t, y, \text{args})$ with constant $M$.

    $M$ is an $n \times n$ matrix that may be singular (a DAE: the zero rows of $M$ in a
    suitable basis are algebraic constraints); it may depend on `args` (e.g. capacitances
    that are uncertain parameters) but not on $t$ or $y$. $n$ is the size of the flattened
    state `jax.flatten_util.ravel_pytree(y)`.

    Only solvers that know about the mass matrix honour it: use it with
    [`jaxsci.dae.Rodas4`][]. A stock diffrax solver would silently treat it as
    $y' = f$ (the term then behaves like `diffrax.ODETerm`); for those, reduce the DAE to
    an ODE first with [`jaxsci.dae.IndexOneReduction`][].

    **Arguments:**

    - `vector_field`: `f(t, y, args) -> PyTree` with the structure of `y`.
    - `mass`: the matrix $M$, `Float[Array, "n n"]`, or a callable `mass(args) -> M`.
    """

    vector_field: Callable[..., PyTree[Float[Array, "..."]]]
    mass: Float[Array, "n n"] | Callable[[Any], Float[Array, "n n"]]

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
        return jax.tree_util.tree_map(lambda v: control * v, vf)


def unwrap_mass(terms: dfx.AbstractTerm, args: Any) -> Float[Array, "n n"] | None:
    """The mass matrix of `terms` (looking through diffrax's `WrapTerm`), or None for a
    plain ODE term ($M = I$)."""
    t = terms
    while isinstance(t, WrapTerm):
        t = t.term
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


