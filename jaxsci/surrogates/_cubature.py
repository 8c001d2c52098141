r"""Cubature rules for the law of the inputs: Stroud's degree-5 rule on the unit cube with
$2q^2 + 1$ nodes, tensor Gauss rules per marginal and Smolyak sparse grids.

[PNDS] section 4.1 evaluates surrogates "on the grid of the Stroud-5 cubature (Stroud,
1971), which is exact for polynomials up to total degree 5" to obtain the PCE coefficients
(eq. 15) and hence the sensitivity indices (eqs. 16-18). `gauss_rule` and `smolyak_rule`
integrate against any product of marginals (`jaxsci.surrogates.Normal`, ...).
"""

import itertools
import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import as_float_array, check_value, is_concrete, require_positive_int
from ._marginals import _gauss_1d, check_marginals


class CubatureRule(eqx.Module):
    r"""A cubature rule $\int f\,d\mu \approx \sum_k w_k f(x_k)$ for a probability
    measure $\mu$: the uniform one on $[0, 1]^q$ ($\int_{[0,1]^q} f(p)\,dp$, the default)
    or the product of `marginals`.

    **Attributes:** `nodes` shape `(n, q)`, `weights` shape `(n,)` (they sum to 1, the
    mass of $\mu$; some may be negative), `marginals` `None` (unit cube) or a tuple of $q$
    marginals.
    """

    nodes: Float[Array, "n q"]
    weights: Float[Array, " n"]
    marginals: tuple | None = None

    def __init__(
        self,
        nodes: Float[Array, "n q"],
        weights: Float[Array, " n"],
        marginals: tuple | None = None,
    ):
        r"""**Arguments:** `nodes` shape `(n, q)` in $[0, 1]^q$ (or in the supports of
        `marginals`), `weights` shape `(n,)` summing to 1 (the volume of the unit cube, or
        the mass of the probability measure); `marginals` `None` for the uniform measure on
        the unit cube, else a tuple of $q$ marginals.

        **Raises:** `ValueError` (at construction) if `nodes` is not a non-empty `(n, q)`
        matrix, `weights` is not `(n,)` or `marginals` has not $q$ entries; `TypeError` for
        a `marginals` that is not a tuple of marginals; a value check (`ValueError` for
        concrete arrays, `EquinoxRuntimeError` under `jit`/`vmap`) if either contains
        NaN/inf, a node lies outside $[0, 1]^q$ (outside the supports of `marginals`) or
        the weights do not sum to 1.
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
        # whichever of them the caller uses (an unused `error_if` is dead code); concrete
        # rules are checked in NumPy (no JAX dispatch per new rule size)
        xp = np if is_concrete((nodes, weights)) else jnp
        xn, xw = (np.asarray(nodes), np.asarray(weights)) if xp is np else (nodes, weights)
        arrays = (nodes, weights)
        arrays = check_value(
            arrays, ~xp.isfinite(xn), "`nodes` of the CubatureRule contain NaN or inf."
        )
        if marginals is None:
            arrays = check_value(
                arrays,
                (xn < 0) | (xn > 1),
                "`nodes` of the CubatureRule lie outside [0, 1]^q: the rule integrates over "
                "the unit cube; map nodes x from [-1, 1]^q by (1 + x) / 2.",
            )
        else:
            marginals = check_marginals(marginals)
            if len(marginals) != nodes.shape[1]:
                raise ValueError(
                    f"`marginals` must have one entry per column of `nodes` "
                    f"({nodes.shape[1]}), got {len(marginals)}."
                )
            outside = xp.stack([~m.contains(xn[:, j]) for j, m in enumerate(marginals)], axis=1)
            arrays = check_value(
                arrays,
                outside,
                "`nodes` of the CubatureRule lie outside the supports of its `marginals`.",
            )
        arrays = check_value(
            arrays, ~xp.isfinite(xw), "`weights` of the CubatureRule contain NaN or inf."
        )
        total = xp.sum(xw)
        eps = float(jnp.finfo(weights.dtype).eps)
        tol = max(1e-6, 10 * weights.shape[0] * eps) * xp.maximum(1.0, xp.sum(xp.abs(xw)))
        got = f" (they sum to {float(total):.6g})" if is_concrete(total) else ""
        nodes, weights = check_value(
            arrays,
            xp.abs(total - 1) > tol,
            f"`weights` of the CubatureRule do not sum to 1 (the volume of [0, 1]^q, or the "
            f"mass of the probability measure){got}, "
            "so constants would be integrated wrongly; normalise them (weights / "
            "sum(weights)) or rescale a rule given for another domain.",
        )
        self.nodes = nodes
        self.weights = weights
        self.marginals = marginals

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


def _rule_dtype(dtype):
    return jnp.result_type(float) if dtype is None else dtype


def gauss_rule(marginals, points, dtype=None) -> CubatureRule:
    r"""Tensor-product Gauss rule of the product of `marginals`:
    $\int f\,d\mu \approx \sum_{i_1..i_q} w^{(1)}_{i_1}\cdots w^{(q)}_{i_q}
    f(x^{(1)}_{i_1}, \dots, x^{(q)}_{i_q})$, with the $n_j$-point Gauss rule of each
    marginal (Golub-Welsch on its germ family, `AbstractFamily.gauss`, mapped by
    $T_j^{-1}$).

    Exact for every polynomial of the germs of degree $\le 2n_j - 1$ in coordinate $j$ (so
    projection of a PCE of degree $d$ is exact for polynomial models of degree $\le d$
    with $n_j = d + 1$). $\prod_j n_j$ nodes: for more than a few inputs use
    `smolyak_rule`.

    **Arguments:**

    - `marginals`: a tuple of $q$ marginals.
    - `points`: nodes per input, an int $\ge 1$ (the same for all) or a sequence of $q$.
    - `dtype`: of the arrays (default: JAX's default float).

    **Returns:** a `CubatureRule` with `marginals` set; nodes in the graded order of the
    last coordinate varying fastest.

    **Raises:** `TypeError` / `ValueError` for bad `marginals` or `points`.
    """
    marginals = check_marginals(marginals)
    q = len(marginals)
    if isinstance(points, (tuple, list)):
        if len(points) != q:
            raise ValueError(f"`points` must have one entry per marginal ({q}), got {len(points)}.")
        counts = [require_positive_int(n, "points") for n in points]
    else:
        counts = [require_positive_int(points, "points")] * q
    rules = [_gauss_1d(m, n) for m, n in zip(marginals, counts)]
    grids = np.meshgrid(*[r[0] for r in rules], indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=1)
    weights = np.prod(np.meshgrid(*[r[1] for r in rules], indexing="ij"), axis=0).ravel()
    dtype = _rule_dtype(dtype)
    return CubatureRule(jnp.asarray(nodes, dtype), jnp.asarray(weights, dtype), marginals)


def smolyak_rule(marginals, level: int, dtype=None) -> CubatureRule:
    r"""Smolyak sparse grid of the product of `marginals` by the combination technique
    (Smolyak 1963; Gerstner & Griebel, Numer. Algorithms 18, 1998, eq. 6):

    $$A(\ell, q) = \sum_{\ell - q + 1 \le |k| \le \ell} (-1)^{\ell - |k|}
    \binom{q - 1}{\ell - |k|}\; Q_{k_1} \otimes \dots \otimes Q_{k_q},\qquad k_j \ge 0,$$

    with $Q_k$ the non-nested $(k+1)$-point Gauss rule of each marginal (exact to degree
    $2k + 1$). $A(\ell, q)$ integrates every polynomial of the germs of **total degree
    $\le 2\ell + 1$** exactly (Novak & Ritter, Numer. Math. 75, 1996): each monomial
    $\xi^\alpha$ with $|\alpha| \le 2\ell + 1$ lies in a tensor space
    $\bigotimes_j \mathcal{P}_{2k_j + 1}$ with $|k| \le \ell$. Coinciding nodes of the
    component grids (the centre of symmetric laws) are merged, their weights added; weights
    may be negative and sum to 1.

    **Arguments:**

    - `marginals`: a tuple of $q$ marginals.
    - `level`: $\ell \ge 0$ (static int); $\ell = 0$ is the one-node rule at the germ
      means.
    - `dtype`: of the arrays (default: JAX's default float).

    **Returns:** a `CubatureRule` with `marginals` set.

    **Raises:** `TypeError` / `ValueError` for bad `marginals` or a `level` that is not an
    int $\ge 0$.
    """
    marginals = check_marginals(marginals)
    level = require_positive_int(level, "level", minimum=0)
    q = len(marginals)
    one_d = [[_gauss_1d(m, k + 1) for k in range(level + 1)] for m in marginals]
    chunks_x, chunks_w = [], []
    for total in range(max(0, level - q + 1), level + 1):
        coef = (-1) ** (level - total) * math.comb(q - 1, level - total)
        for ks in _compositions(total, q):
            rules = [one_d[j][k] for j, k in enumerate(ks)]
            grids = np.meshgrid(*[r[0] for r in rules], indexing="ij")
            chunks_x.append(np.stack([g.ravel() for g in grids], axis=1))
            w = np.prod(np.meshgrid(*[r[1] for r in rules], indexing="ij"), axis=0).ravel()
            chunks_w.append(coef * w)
    nodes, weights = np.concatenate(chunks_x), np.concatenate(chunks_w)
    # merge coinciding nodes: round in units of 1e-12 of each coordinate's scale
    scale = np.maximum(np.max(np.abs(nodes), axis=0), 1e-300)
    keys = np.round(nodes / scale / 1e-12).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    merged_w = np.zeros(first.shape[0])
    np.add.at(merged_w, inverse.ravel(), weights)
    keep = np.abs(merged_w) > 1e-15 * np.max(np.abs(merged_w))
    order = np.argsort(first[keep])
    nodes, weights = nodes[first[keep]][order], merged_w[keep][order]
    dtype = _rule_dtype(dtype)
    return CubatureRule(jnp.asarray(nodes, dtype), jnp.asarray(weights, dtype), marginals)


def _compositions(total: int, parts: int):
    """All k in N^parts with |k| = total."""
    for bars in itertools.combinations(range(total + parts - 1), parts - 1):
        edges = (-1, *bars, total + parts - 1)
        yield tuple(edges[j + 1] - edges[j] - 1 for j in range(parts))
