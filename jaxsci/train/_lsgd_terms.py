r"""Loss terms of the multi-term least-squares problem (Gulian et al., eqs. 6, 11).

$$\mathcal{J}(\xi) = \sum_{k=1}^K \epsilon_k \frac{1}{N_k} \sum_{x \in \mathcal{X}_k}
\Big|\mathcal{L}_k[u](x) - \sum_i \xi^L_i \mathcal{L}_k[\Phi_i](x; \xi^H)\Big|^2 .$$

Each term holds its points $\mathcal{X}_k$, its data $\mathcal{L}_k[u]$, a linear operator
$\mathcal{L}_k$ and a weight $\epsilon_k$. Because $\mathcal{L}_k$ is linear it is applied
to the vector of basis functions $\Phi$ once, giving the least-squares matrix
$A^{(k)}_{ij} = \mathcal{L}_k[\Phi_j](x_i)$ (eq. 12); derivatives use forward-mode autodiff
(`jax.jvp`), one pass per derivative direction for all $w$ basis functions together.
(We use means over each $\mathcal{X}_k$, as in eq. 14; eq. 6's sums correspond to
$\epsilon_k \to \epsilon_k N_k$.)
"""

import abc
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_nonempty, check_value, is_concrete
from .._misc import as_float_array

__all__ = [
    "AbstractBasisOperator",
    "IdentityOperator",
    "PartialDerivative",
    "LinearCombination",
    "LSTerm",
]

BasisFn = Callable[[Float[Array, " d"]], Float[Array, " w"]]


class AbstractBasisOperator(eqx.Module):
    r"""A linear operator $\mathcal{L}$ applied pointwise to a vector-valued function
    $f : \mathbb{R}^d \to \mathbb{R}^w$ (the basis $\Phi$): `op(f, x)` $= \mathcal{L}[f](x)$."""

    @abc.abstractmethod
    def __call__(self, f: BasisFn, x: Float[Array, " d"]) -> Float[Array, " w"]:
        pass


def _check_call(op, f, x) -> None:
    """Tier 1 (trace time): `op(f, x)` needs a callable `f` and ONE point `x` of shape (d,)."""
    if not callable(f):
        raise TypeError(f"`f` of {type(op).__name__} must be a callable (the basis, e.g. "
                        f"`model.basis`), got {type(f).__name__}.")
    if jnp.ndim(x) != 1:
        raise ValueError(f"`x` of {type(op).__name__} must be ONE point of shape (d,), got "
                         f"shape {jnp.shape(x)}; map over points with `jax.vmap`.")


class IdentityOperator(AbstractBasisOperator):
    r"""$\mathcal{L}[f] = f$ (plain regression, eq. 7; boundary and initial data).

    **Raises:** `TypeError` if `f` is not callable, `ValueError` if `x` is not one point of
    shape `(d,)` (both at trace time)."""

    def __call__(self, f: BasisFn, x: Float[Array, " d"]) -> Float[Array, " w"]:
        _check_call(self, f, x)
        return f(x)


class PartialDerivative(AbstractBasisOperator):
    r"""$\mathcal{L}[f] = \partial^{|\alpha|} f / \partial x_{i_1} \cdots \partial x_{i_n}$
    for `indices` $= (i_1, \dots, i_n)$, by nested forward-mode `jax.jvp`.
    `PartialDerivative((0,))` is $\partial_{x_0}$, `PartialDerivative((0, 0))` is
    $\partial^2_{x_0}$."""

    indices: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, indices: tuple[int, ...]):
        if isinstance(indices, int):
            indices = (indices,)
        if len(indices) == 0 or not all(isinstance(i, int) and i >= 0 for i in indices):
            raise ValueError(
                f"`indices` must be a non-empty tuple of non-negative ints, got {indices!r}."
            )
        self.indices = tuple(indices)

    def __call__(self, f: BasisFn, x: Float[Array, " d"]) -> Float[Array, " w"]:
        _check_call(self, f, x)
        if max(self.indices) >= x.shape[0]:
            raise ValueError(
                f"PartialDerivative{self.indices} needs inputs with more than "
                f"{max(self.indices)} coordinates, got a point of shape {x.shape}."
            )
        g = f
        for i in self.indices:
            g = _directional(g, jnp.zeros_like(x).at[i].set(1.0))
        return g(x)


def _directional(g: BasisFn, e: Float[Array, " d"]) -> BasisFn:
    return lambda y: jax.jvp(g, (y,), (e,))[1]


class LinearCombination(AbstractBasisOperator):
    r"""$\mathcal{L}[f](x) = \sum_j c_j(x)\, \mathcal{L}_j[f](x)$ with coefficients that are
    numbers or callables of the point (e.g. the advection operator
    $\partial_t + a(x, t)\partial_x$ of eq. 14)."""

    operators: tuple[AbstractBasisOperator, ...]
    coefficients: tuple[float | Callable[[Float[Array, " d"]], Float[Array, ""]], ...] = (
        eqx.field(static=True)
    )

    def __init__(self, operators, coefficients):
        operators, coefficients = tuple(operators), tuple(coefficients)
        if len(operators) != len(coefficients) or not operators:
            raise ValueError(
                "`operators` and `coefficients` must be non-empty and of equal length, got "
                f"{len(operators)} and {len(coefficients)}."
            )
        for op in operators:
            if not isinstance(op, AbstractBasisOperator):
                raise TypeError(f"Each operator must be an AbstractBasisOperator, got {op!r}.")
        self.operators = operators
        self.coefficients = coefficients

    def __call__(self, f: BasisFn, x: Float[Array, " d"]) -> Float[Array, " w"]:
        out = 0.0
        for op, c in zip(self.operators, self.coefficients):
            cx = c(x) if callable(c) else c
            out = out + jnp.asarray(cx, x.dtype) * op(f, x)
        return out


class LSTerm(eqx.Module):
    r"""One term $\epsilon_k \frac{1}{N_k}\|\mathcal{L}_k[u] - \mathcal{L}_k[\mathcal{NN}]\|^2$
    of eqs. 6 / 11.

    **Arguments:**

    - `points`: $\mathcal{X}_k$, shape `(N_k, d)`.
    - `target`: $\mathcal{L}_k[u]$ at the points, shape `(N_k,)` for a scalar-output model
      or `(N_k, p)`.
    - `operator`: $\mathcal{L}_k$ (default `IdentityOperator()`).
    - `weight`: $\epsilon_k \ge 0$ (default 1).

    **Raises:** `ValueError` for `points` not of shape `(N, d)` with $N, d \ge 1$, a
    `target` of the wrong shape, a negative or non-finite `weight` (under `jit`:
    `EquinoxRuntimeError`), and, when the data are concrete (built outside `jit`), NaN/inf
    in `points` or `target`.
    """

    points: Float[Array, "n d"]
    target: Float[Array, "n *p"]
    operator: AbstractBasisOperator
    weight: Float[Array, ""]

    def __init__(
        self,
        points: Float[ArrayLike, "n d"],
        target: Float[ArrayLike, "n *p"],
        operator: AbstractBasisOperator = IdentityOperator(),
        weight: float | Float[ArrayLike, ""] = 1.0,
    ):
        points = as_float_array(points, "points")
        target = as_float_array(target, "target").astype(points.dtype)
        if points.ndim != 2:
            raise ValueError(f"`points` must have shape (N, d), got {points.shape}.")
        check_nonempty(points, "points", what="collocation / data points")
        if points.shape[1] == 0:
            raise ValueError(f"`points` must have shape (N, d) with d >= 1, got "
                             f"{points.shape}.")
        if target.ndim not in (1, 2) or target.shape[0] != points.shape[0]:
            raise ValueError(
                f"`target` must have shape ({points.shape[0]},) or ({points.shape[0]}, p) to "
                f"match `points` {points.shape}, got {target.shape}."
            )
        if not isinstance(operator, AbstractBasisOperator):
            hint = (f" (the class itself: call it, `{operator.__name__}()`)"
                    if isinstance(operator, type) and issubclass(operator, AbstractBasisOperator)
                    else "")
            raise TypeError(f"`operator` must be an AbstractBasisOperator, got "
                            f"{operator!r}{hint}.")
        if isinstance(weight, (int, float)) and not (np.isfinite(weight) and weight >= 0):
            raise ValueError(f"`weight` must be finite and >= 0, got {weight!r}.")
        if is_concrete((points, target)):
            # one pass over the data, only outside jit (a term rebuilt inside the training
            # loop by a callback is not re-checked there)
            for arr, name in ((points, "points"), (target, "target")):
                check_value(arr, ~np.isfinite(np.asarray(arr)),
                            f"`{name}` contains NaN or inf: clean or drop those entries "
                            "before building the LSTerm.")
        weight = jnp.asarray(weight, points.dtype)
        if weight.ndim != 0:
            raise ValueError(f"`weight` must be a scalar, got shape {weight.shape}.")
        weight = check_value(weight, ~jnp.isfinite(weight) | (weight < 0),
                             "`weight` of an LSTerm must be finite and >= 0.")
        self.points = points
        self.target = target
        self.operator = operator
        self.weight = weight
