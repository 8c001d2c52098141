r"""The least-squares step $\xi^L = \mathrm{LS}(\xi^H)$ of LSGD (Gulian et al., eq. 12).

With the hidden parameters fixed, eqs. 6 / 11 are linear least squares in the head:
$$\min_{\xi^L} \sum_k \frac{\epsilon_k}{N_k}\|A^{(k)} \xi^L - b^{(k)}\|^2
+ \lambda \|\xi^L\|^2,\qquad A^{(k)}_{ij} = \mathcal{L}_k[\Phi_j](x^{(k)}_i).$$
The rows are stacked with weights $\sqrt{\epsilon_k / N_k}$ (and $\sqrt{\lambda} I$ when
regularised) and solved by `lineax`; the default `lx.AutoLinearSolver(well_posed=False)`
dispatches to an SVD, which returns the minimum-norm solution when the basis is rank
deficient (dead ReLU units, collapsed deep bases).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import lineax as lx
import numpy as np
from jaxtyping import Array, Float

from .._checks import check_value, is_concrete
from ..nn import AbstractAdaptiveBasisNet
from ._lsgd_terms import LSTerm

__all__ = [
    "basis_matrices",
    "basis_losses",
    "weighted_loss",
    "least_squares_head",
    "solve_head",
    "hidden_filter",
    "check_problem",
]


def check_problem(model, terms) -> None:
    """Trace-time validation of `(model, terms)` (DESIGN rule 6, tier 1)."""
    if not isinstance(model, AbstractAdaptiveBasisNet):
        raise TypeError(
            "`model` must be a jaxsci.nn.AbstractAdaptiveBasisNet (MLP, ResNet, POUNet, ...) "
            f"exposing `basis` and `head`; got {type(model).__name__}."
        )
    if not isinstance(terms, dict) or not terms:
        raise TypeError(f"`terms` must be a non-empty dict name -> LSTerm, got {terms!r:.80}.")
    p = model.head.weight.shape[0]
    for name, t in terms.items():
        if not isinstance(t, LSTerm):
            raise TypeError(f"`terms[{name!r}]` must be an LSTerm, got {type(t).__name__}.")
        want = 1 if model.out_size == "scalar" else 2
        if t.target.ndim != want or (want == 2 and t.target.shape[1] != p):
            raise ValueError(
                f"`terms[{name!r}].target` has shape {t.target.shape} but the model's head has "
                f"out_size={model.out_size!r}: expected shape (N,) for 'scalar' or (N, p)."
            )
        d = getattr(model, "in_size", None)
        if isinstance(d, int) and t.points.shape[1] != d:
            raise ValueError(
                f"`terms[{name!r}].points` has shape {t.points.shape}: points of {t.points.shape[1]} "
                f"coordinates, but the model takes in_size={d}. Give points of shape (N, {d})."
            )


def checked_data(terms, fields=("points", "target")):
    """Tier 2: `terms` with the given data fields of every `LSTerm` checked for NaN/inf
    (`ValueError` when concrete, `EquinoxRuntimeError` under `jit` / `vmap`), naming the term.
    Only at public entry points: the training loop must see a NaN loss (its NaN policy)."""
    out = {}
    for name, t in terms.items():
        vals = tuple(check_value(getattr(t, f), ~jnp.isfinite(getattr(t, f)),
                                 f"`terms[{name!r}].{f}` contains NaN or inf: clean the data.")
                     for f in fields)
        out[name] = eqx.tree_at(lambda t: tuple(getattr(t, f) for f in fields), t, vals)
    return out


def check_l2(l2, name: str = "l2"):
    r"""Tier 2: the regularisation $\lambda$ must be finite and >= 0 (a Python number or a
    0-d array, possibly traced); returns it threaded through the check."""
    if isinstance(l2, bool):
        raise TypeError(f"`{name}` must be a number >= 0, got {l2!r}.")
    if isinstance(l2, (int, float)):
        if not (np.isfinite(l2) and l2 >= 0):
            raise ValueError(f"`{name}` must be finite and >= 0, got {l2!r}.")
        return l2
    arr = jnp.asarray(l2)
    if arr.ndim != 0:
        raise ValueError(f"`{name}` must be a scalar, got shape {arr.shape}.")
    got = f", got {float(arr)}" if is_concrete(arr) else ""
    return check_value(arr, ~jnp.isfinite(arr) | (arr < 0),
                       f"`{name}` must be finite and >= 0{got}.")


def hidden_filter(model: AbstractAdaptiveBasisNet):
    r"""Filter spec (pytree of bools) selecting the hidden parameters $\xi^H$: every inexact
    array of `model` except the head weight $\xi^L$."""
    spec = jtu.tree_map(eqx.is_inexact_array, model)
    return eqx.tree_at(lambda m: m.head.weight, spec, False)


def basis_matrices(
    model: AbstractAdaptiveBasisNet, terms: dict[str, LSTerm]
) -> dict[str, Float[Array, "n w"]]:
    r"""$A^{(k)}_{ij} = \mathcal{L}_k[\Phi_j](x^{(k)}_i)$ for every term (eq. 12).

    **Raises:** `TypeError` / `ValueError` (tier 1) for a model that is not an
    `AbstractAdaptiveBasisNet`, `terms` not a non-empty dict of `LSTerm`s matching the head,
    or points whose dimension is not the model's `in_size`; `ValueError` (eagerly) or
    `EquinoxRuntimeError` (under `jit` / `vmap`) for NaN/inf `points`."""
    check_problem(model, terms)
    return _basis_matrices(model, checked_data(terms, ("points",)))


def _basis_matrices(model, terms):
    """`basis_matrices` without the checks (inside the training loops)."""
    out = {}
    for name, t in terms.items():
        op = t.operator
        out[name] = jax.vmap(lambda x, op=op: op(model.basis, x))(t.points)
    return out


def _targets(t: LSTerm) -> Float[Array, "n p"]:
    return t.target.reshape(t.target.shape[0], -1)


def term_losses(
    a: dict[str, Float[Array, "n w"]], c: Float[Array, "p w"], terms: dict[str, LSTerm]
) -> dict[str, Float[Array, ""]]:
    r"""Unweighted $\mathcal{J}_k = \frac{1}{N_k}\sum_i |A^{(k)}_i \xi^L - b^{(k)}_i|^2$."""
    return {
        name: jnp.mean(jnp.sum((a[name] @ c.T - _targets(t)) ** 2, axis=1))
        for name, t in terms.items()
    }


def weighted_loss(
    losses: dict[str, Float[Array, ""]], terms: dict[str, LSTerm]
) -> Float[Array, ""]:
    r"""$\mathcal{J} = \sum_k \epsilon_k \mathcal{J}_k$ (eqs. 6 / 11 / 14).

    **Raises:** `ValueError` if a name of `losses` is not a key of `terms`."""
    unknown = [k for k in losses if k not in terms]
    if unknown or not losses:
        raise ValueError(f"`losses` must be a non-empty dict whose names are keys of `terms` "
                         f"({sorted(terms)}), got {sorted(losses)}.")
    return sum(terms[name].weight * v for name, v in losses.items())


def basis_losses(
    model: AbstractAdaptiveBasisNet, terms: dict[str, LSTerm]
) -> dict[str, Float[Array, ""]]:
    r"""Named per-term losses $\mathcal{J}_k$ of `model` as it is (head included).

    **Raises:** as `basis_matrices`, and NaN/inf in `points` or `target` is refused
    (`ValueError` eagerly, `EquinoxRuntimeError` under `jit` / `vmap`). A NaN in the model's
    parameters gives a NaN loss (the loss of that model); `lsgd_loss`, the loss of `fit`,
    skips the data check so that `fit` reports NaN data as `RESULTS.nonfinite_loss`."""
    check_problem(model, terms)
    return _basis_losses(model, checked_data(terms))


def _basis_losses(model, terms):
    """`basis_losses` without the checks (inside the training loops)."""
    return term_losses(_basis_matrices(model, terms), model.head.weight, terms)


def solve_head(
    a: dict[str, Float[Array, "n w"]],
    terms: dict[str, LSTerm],
    l2: float | Float[Array, ""] = 0.0,
    solver: lx.AbstractLinearSolver | None = None,
) -> Float[Array, "p w"]:
    r"""Solve the (optionally $\ell_2$-regularised) weighted least-squares problem for
    $\xi^L$ given the basis matrices; returns the head weight, shape `(p, w)`."""
    solver = lx.AutoLinearSolver(well_posed=False) if solver is None else solver
    rows, rhs = [], []
    for name, t in terms.items():
        s = jnp.sqrt(t.weight / t.points.shape[0]).astype(a[name].dtype)
        rows.append(s * a[name])
        rhs.append(s * _targets(t).astype(a[name].dtype))
    mat, b = jnp.concatenate(rows), jnp.concatenate(rhs)
    w = mat.shape[1]
    if not (isinstance(l2, (int, float)) and l2 == 0):
        reg = jnp.sqrt(jnp.asarray(l2, mat.dtype))
        mat = jnp.concatenate([mat, reg * jnp.eye(w, dtype=mat.dtype)])
        b = jnp.concatenate([b, jnp.zeros((w, b.shape[1]), b.dtype)])
    mat, b = jax.lax.stop_gradient(mat), jax.lax.stop_gradient(b)
    op = lx.MatrixLinearOperator(mat)

    def one(col):
        return lx.linear_solve(op, col, solver, throw=False).value

    return jax.vmap(one, in_axes=1)(b)


def least_squares_head(
    model: AbstractAdaptiveBasisNet,
    terms: dict[str, LSTerm],
    *,
    l2: float | Float[Array, ""] = 0.0,
    solver: lx.AbstractLinearSolver | None = None,
) -> AbstractAdaptiveBasisNet:
    r"""$\xi^L \leftarrow \mathrm{LS}(\xi^H)$ (Algorithm 1, line 3; eq. 12): the globally
    optimal head for the current hidden basis.

    **Arguments:**

    - `model`: a `jaxsci.nn.AbstractAdaptiveBasisNet`.
    - `terms`: dict name -> `LSTerm` (eqs. 6 / 11).
    - `l2`: $\lambda \ge 0$, adds $\lambda\|\xi^L\|^2$ to the objective.
    - `solver`: a lineax solver (default `lx.AutoLinearSolver(well_posed=False)`, i.e. SVD,
      safe for rank-deficient bases).

    **Returns:** `model` with its head weight replaced. With `l2=0` the loss never increases.

    **Raises:** `TypeError` / `ValueError` for a model that is not an adaptive-basis network,
    `terms` not a non-empty dict of `LSTerm`s of the head's output shape, or `l2` negative
    or non-finite; `ValueError` (eagerly) or `EquinoxRuntimeError` (under `jit` / `vmap`) if
    the terms' data hold NaN/inf or the solved head is non-finite (a NaN in the model's
    hidden parameters or a basis that overflows).
    """
    check_problem(model, terms)
    l2 = check_l2(l2)
    terms = checked_data(terms)
    c = solve_head(_basis_matrices(model, terms), terms, l2, solver)
    c = check_value(c, ~jnp.isfinite(c),
                    "least_squares_head: the solved head is NaN/inf. Check `model` for "
                    "NaN/inf parameters and the basis for overflow (rescale the inputs).")
    return model.with_head(c.astype(model.head.weight.dtype))
