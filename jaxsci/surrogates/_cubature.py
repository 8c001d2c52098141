"""Cubature rules on the unit cube [0, 1]^q: Stroud's degree-5 rule with 2 q^2 + 1 nodes.

[PNDS] section 4.1 evaluates surrogates "on the grid of the Stroud-5 cubature (Stroud,
1971), which is exact for polynomials up to total degree 5" to obtain the PCE coefficients
(eq. 15) and hence the sensitivity indices (eqs. 16-18).
"""

import itertools

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import as_float_array, check_value, is_concrete


class CubatureRule(eqx.Module):
    r"""A cubature rule $\int_{[0,1]^q} f(p)\,dp \approx \sum_k w_k f(x_k)$.

    **Attributes:** `nodes` shape `(n, q)`, `weights` shape `(n,)` (they sum to 1, the
    volume of the unit cube; some may be negative).
    """

    nodes: Float[Array, "n q"]
    weights: Float[Array, " n"]

    def __init__(self, nodes: Float[Array, "n q"], weights: Float[Array, " n"]):
        r"""**Arguments:** `nodes` shape `(n, q)` in $[0, 1]^q$, `weights` shape `(n,)`
        summing to 1 (the volume of the unit cube).

        **Raises:** `ValueError` (at construction) if `nodes` is not a non-empty `(n, q)`
        matrix or `weights` is not `(n,)`; a value check (`ValueError` for concrete
        arrays, `EquinoxRuntimeError` under `jit`/`vmap`) if either contains NaN/inf, a
        node lies outside $[0, 1]^q$ or the weights do not sum to 1.
        """
        nodes = as_float_array(nodes, "nodes")
        weights = as_float_array(weights, "weights")
        if nodes.ndim != 2 or nodes.shape[1] == 0:
            raise ValueError(
                f"`nodes` must have shape (n, q) with q >= 1 (one row per node), got shape "
                f"{nodes.shape}."
            )
        if nodes.shape[0] == 0:
            raise ValueError(
                f"`nodes` is empty (shape {nodes.shape}): a cubature rule needs at least one "
                "node."
            )
        if weights.shape != (nodes.shape[0],):
            raise ValueError(
                f"`weights` must have shape ({nodes.shape[0]},) (one weight per row of "
                f"`nodes`), got shape {weights.shape}."
            )
        # every check is threaded through both arrays, so that under `jit` it survives
        # whichever of them the caller uses (an unused `error_if` is dead code)
        arrays = (nodes, weights)
        arrays = check_value(
            arrays, ~jnp.isfinite(nodes), "`nodes` of the CubatureRule contain NaN or inf."
        )
        arrays = check_value(
            arrays,
            (nodes < 0) | (nodes > 1),
            "`nodes` of the CubatureRule lie outside [0, 1]^q: the rule integrates over the "
            "unit cube; map nodes x from [-1, 1]^q by (1 + x) / 2.",
        )
        arrays = check_value(
            arrays, ~jnp.isfinite(weights), "`weights` of the CubatureRule contain NaN or inf."
        )
        total = jnp.sum(weights)
        eps = float(jnp.finfo(weights.dtype).eps)
        tol = max(1e-6, 10 * weights.shape[0] * eps) * jnp.maximum(
            1.0, jnp.sum(jnp.abs(weights))
        )
        got = f" (they sum to {float(total):.6g})" if is_concrete(total) else ""
        nodes, weights = check_value(
            arrays,
            jnp.abs(total - 1) > tol,
            f"`weights` of the CubatureRule do not sum to 1 (the volume of [0, 1]^q){got}, "
            "so constants would be integrated wrongly; normalise them (weights / "
            "sum(weights)) or rescale a rule given for another domain.",
        )
        self.nodes = nodes
        self.weights = weights

    def integrate(self, values: Float[Array, "n *rest"]) -> Float[Array, "*rest"]:
        r"""$\sum_k w_k f(x_k)$ for precomputed `values[k] = f(nodes[k])` (any trailing
        shape)."""
        values = jnp.asarray(values)
        if values.ndim == 0 or values.shape[0] != self.weights.shape[0]:
            raise ValueError(
                f"`values` must have leading axis {self.weights.shape[0]} (one value per "
                f"node), got shape {values.shape}."
            )
        values = check_value(
            values, ~jnp.isfinite(values), "`values` contain NaN or inf."
        )
        return jnp.tensordot(self.weights.astype(values.dtype), values, axes=(0, 0))


def stroud5(dimension: int, dtype=None) -> CubatureRule:
    r"""Stroud's rule $C_q$ 5-2: degree 5, $2q^2 + 1$ nodes, on $[0, 1]^q$.

    On $[-1, 1]^q$ with the normalised (probability) measure the nodes are the centre, the
    $2q$ points $\pm r e_i$ and the $2q(q-1)$ points $\pm r e_i \pm r e_j$ ($i < j$) with
    $r = \sqrt{3/5}$, and weights

    $$B_0 = \frac{25 q^2 - 115 q + 162}{162},\quad B_1 = \frac{70 - 25 q}{162},\quad
    B_2 = \frac{25}{324},$$

    fixed by the moment equations $E[x^2] = 1/3$, $E[x^4] = 1/5$, $E[x^2 y^2] = 1/9$; odd
    moments vanish by symmetry, so every monomial of total degree $\le 5$ is integrated
    exactly (Stroud 1971; [PNDS] section 4.1). For $q = 1$ it is 3-point Gauss-Legendre. The nodes are mapped to $[0, 1]^q$ by
    $p = (1 + x)/2$, the weights sum to 1.

    **Arguments:** `dimension` $q \ge 1$; `dtype` of the arrays (default: JAX's default
    float).

    **Returns:** a `CubatureRule` with `2 q^2 + 1` nodes.
    """
    if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension < 1:
        raise ValueError(f"`dimension` must be a positive int, got {dimension!r}.")
    q = dimension
    r = np.sqrt(3.0 / 5.0)
    nodes = [np.zeros(q)]
    weights = [(25 * q * q - 115 * q + 162) / 162]
    b1 = (70 - 25 * q) / 162
    for i in range(q):
        for sign in (1.0, -1.0):
            x = np.zeros(q)
            x[i] = sign * r
            nodes.append(x)
            weights.append(b1)
    for i, j in itertools.combinations(range(q), 2):
        for si, sj in itertools.product((1.0, -1.0), repeat=2):
            x = np.zeros(q)
            x[i], x[j] = si * r, sj * r
            nodes.append(x)
            weights.append(25 / 324)
    dtype = jnp.result_type(float) if dtype is None else dtype
    nodes_arr = jnp.asarray((1 + np.stack(nodes)) / 2, dtype=dtype)
    return CubatureRule(nodes=nodes_arr, weights=jnp.asarray(weights, dtype=dtype))
