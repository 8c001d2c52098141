r"""Training data for neural-network-enhanced quadrature of hexahedra (Oishi & Yagawa, CMAME
327 (2017); the deep-learning review, section 2.3.1, eqs. 401-402).

* `distorted_hexahedra`: random elements, the unit cube with every node coordinate moved by
  $U[-a, a]$, resampled until $\det J > 0$ on a check grid.
* `normalised_coordinates`: the 18 network inputs (24 coordinates less 6 rigid-body DOF).
* Method 1 labels: `quadrature_errors` / `minimum_order`, the least $q$ whose
  $q \times q \times q$ rule meets a tolerance on the error of eq. 401.
* Method 2 labels: `search_correction_factors`, a random search over correction factors
  $r \in \mathbb{R}^8$ of the 2x2x2 weights, keeping the set of least $R_{error}$ (eq. 402).

All are pointwise in one element (or one key); batch with `jax.vmap`.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from .._checks import check_key, check_value, is_concrete, require_positive_int
from ._hexahedron import (
    _check_material,
    _check_nodes,
    _det3,
    _point_gradients,
    _stiffness_from,
    element_stiffness,
    hex_shape_derivatives,
    IsotropicElasticity,
    point_stiffnesses,
    quadrature_error,
    UNIT_CUBE,
)

_CHECK_GRID = np.stack(np.meshgrid(*[np.linspace(-1.0, 1.0, 5)] * 3, indexing="ij"), -1).reshape(-1, 3)


_INVERTED = ("`nodes` give an inverted or non-finite element (det J <= 0 or NaN at a quadrature "
              "point): check the node order, the distortion and for NaN coordinates.")


def _min_det(nodes, pts=_CHECK_GRID):
    dn = jax.vmap(hex_shape_derivatives)(jnp.asarray(pts, nodes.dtype))
    jac = jnp.einsum("pak,al->pkl", dn, nodes, precision=jax.lax.Precision.HIGHEST)
    return jnp.min(_det3(jac))


def distorted_hexahedra(
    key: PRNGKeyArray, n: int, amplitude: float = 0.2, max_tries: int = 100, dtype=None
) -> Float[Array, "n 8 3"]:
    r"""`n` random hexahedra (n, 8, 3): the unit cube $[0, 1]^3$ (node order of
    `hex_shape_functions`) with each of the 24 coordinates displaced by $U[-a, a]$,
    $a$ = `amplitude` (edge length 1; the seed gives no amplitude, 0.2 distorts strongly
    enough that 2x2x2 Gauss errs by $\sim 0.1$-$0.5$ in eq. 401 (median 0.24 over 200 elements), and keeps
    $\det J > 0$). An element is redrawn (up to `max_tries` times, then an error) until
    $\det J > 0$ at all $5^3$ points of a check grid that includes the corners."""
    check_key(key)
    n = require_positive_int(n, "n")
    max_tries = require_positive_int(max_tries, "max_tries")
    if is_concrete(amplitude) and not (0.0 < float(amplitude) < 0.5):
        raise ValueError(
            f"`amplitude` must be in (0, 0.5) (node displacement on a unit cube), got "
            f"{float(amplitude)}; the default 0.2 is the documented choice."
        )
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    cube = jnp.asarray(UNIT_CUBE, dtype)

    def one(k):
        def draw(state):
            k, _, tries = state
            k, sub = jr.split(k)
            return k, cube + amplitude * jr.uniform(sub, (8, 3), dtype, -1.0, 1.0), tries + 1

        def bad(state):
            _, x, tries = state
            return (_min_det(x) <= 0) & (tries < max_tries)

        _, x, _ = jax.lax.while_loop(bad, draw, draw((k, cube, 0)))
        return x

    x = jax.vmap(one)(jr.split(key, n))
    dets = jax.vmap(_min_det)(x)
    return check_value(x, dets <= 0, f"`distorted_hexahedra`: no valid element in {max_tries} "
                       "tries; lower `amplitude` or raise `max_tries`.")


def normalised_coordinates(nodes: Float[ArrayLike, "8 3"]) -> Float[Array, " 18"]:
    r"""The 18 network inputs of one element: translate node 0 to the origin, rotate so that
    node 1 lies on the $+x$ axis and node 3 in the $xy$ plane ($y \ge 0$, Gram-Schmidt on
    $x_1 - x_0$, $x_3 - x_0$), then drop the 6 coordinates that are now zero
    ($x_0$; $y_1, z_1$; $z_3$). The result is invariant to rigid motions, as eq. 401 is.
    Order: $x_1$, $(x, y, z)_2$, $(x, y)_3$, $(x, y, z)_{4..7}$."""
    nodes = _check_nodes(nodes)
    x = nodes - nodes[0][None, :]
    n1 = jnp.linalg.norm(x[1])
    e1 = x[1] / n1
    v = x[3] - jnp.dot(x[3], e1) * e1
    n3 = jnp.linalg.norm(v)
    # n3 <= 1e-12 n1 (not == 0) so that nearly collinear nodes do not yield huge rotations
    bad = ~(n1 > 0) | ~(n3 > 1e-12 * n1) | ~jnp.all(jnp.isfinite(nodes))
    x = check_value(x, bad, "`nodes`: nodes 0, 1 and 3 must be distinct, finite and not "
                    "collinear (they fix the rigid-body frame); check the node order.")
    e2 = v / n3
    rot = jnp.stack([e1, e2, jnp.cross(e1, e2)])
    y = jnp.matmul(x, rot.T, precision=jax.lax.Precision.HIGHEST)
    return jnp.concatenate([y[1, :1], y[2], y[3, :2], y[4:].reshape(-1)])


def _reference(nodes, material, K_ref, reference_order):
    if K_ref is None:
        return element_stiffness(nodes, material, reference_order)
    K_ref = jnp.asarray(K_ref)
    if K_ref.shape != (24, 24):
        raise ValueError(f"`K_ref` must have shape (24, 24), got {K_ref.shape}.")
    return K_ref


def quadrature_errors(
    nodes: Float[ArrayLike, "8 3"],
    material: IsotropicElasticity,
    max_order: int = 8,
    K_ref: Float[ArrayLike, "24 24"] | None = None,
    reference_order: int = 30,
) -> Float[Array, " Q"]:
    r"""$e_q$ of eq. 401 for $q = 1, \dots,$ `max_order` (Q = `max_order` entries) against
    `K_ref` ($q_{max}$ = `reference_order` when not given). The rules are zero-weight padded
    to $Q^3$ points so that all orders are one `vmap`."""
    nodes = _check_nodes(nodes)
    _check_material(material)
    max_order = require_positive_int(max_order, "max_order")
    K_ref = _reference(nodes, material, K_ref, reference_order)
    size = max_order**3
    pts = np.zeros((max_order, size, 3))
    wts = np.zeros((max_order, size))
    for q in range(1, max_order + 1):
        x, w = np.polynomial.legendre.leggauss(q)
        pts[q - 1, : q**3] = np.stack(np.meshgrid(x, x, x, indexing="ij")[::-1], -1).reshape(-1, 3)
        wts[q - 1, : q**3] = np.einsum("i,j,k->ijk", w, w, w).reshape(-1)
    lam, mu = material.lame()
    # checked once outside the vmap, so that eager calls raise ValueError at once
    nodes = check_value(nodes, ~(_min_det(nodes, pts[-1]) > 0), _INVERTED)

    def one(p, w):
        grads, det = _point_gradients(nodes, p)
        return quadrature_error(_stiffness_from(grads, w * det, lam, mu), K_ref)

    return jax.vmap(one)(jnp.asarray(pts, nodes.dtype), jnp.asarray(wts, nodes.dtype))


def minimum_order(
    nodes: Float[ArrayLike, "8 3"],
    material: IsotropicElasticity,
    tol: float,
    max_order: int = 8,
    K_ref: Float[ArrayLike, "24 24"] | None = None,
    reference_order: int = 30,
) -> Int[Array, ""]:
    r"""Method 1 label: the least $q \le$ `max_order` with $e_q \le$ `tol` (eq. 401), or
    `max_order + 1` when no candidate meets it."""
    if is_concrete(tol) and not float(tol) > 0:
        raise ValueError(f"`tol` must be > 0, got {float(tol)}; e.g. 1e-3.")
    e = quadrature_errors(nodes, material, max_order, K_ref, reference_order)
    ok = e <= tol
    return jnp.where(jnp.any(ok), jnp.argmax(ok) + 1, max_order + 1)


def search_correction_factors(
    nodes: Float[ArrayLike, "8 3"],
    material: IsotropicElasticity,
    *,
    key: PRNGKeyArray,
    num_sets: int = 2048,
    rounds: int = 8,
    spread: float = 0.01,
    shrink: float = 0.5,
    K_ref: Float[ArrayLike, "24 24"] | None = None,
    reference_order: int = 30,
    chunk_size: int = 1024,
) -> tuple[Float[Array, " 8"], Float[Array, ""]]:
    r"""Method 2 label: random search for correction factors $r$ of the 2x2x2 Gauss weights.

    In each of `rounds` rounds, draws `num_sets` sets $r = c + U[-s_k, s_k]^8$ around the
    best set $c$ so far ($c = 1$ and $s_0$ = `spread` at first, $s_{k+1}$ = `shrink` $s_k$;
    the current best is always kept, so the result has $R_{error} \le 1$), evaluates
    $R_{error}(r)$ (eq. 402) through $K(r) = \sum_g r_g K_g$ (linear in $r$,
    `point_stiffnesses`) in chunks of `chunk_size` sets, and returns
    `(best factors (8,), best R_error)`. Oishi & Yagawa drew $10^6$ sets per element once;
    the optimum lies within $\sim 10^{-2}$ of 1 (an $\ell_1$ fit solved by linear
    programming gives $R \approx 0.9$-$0.97$), so a shrinking search with
    `rounds * num_sets` = 16,384 sets gets close to it at 1.6 % of the paper's cost
    (100 elements at amplitude 0.2: median R 0.970, 100 % with R < 1, 95 % with R < 0.99).
    """
    nodes = _check_nodes(nodes)
    _check_material(material)
    check_key(key)
    num_sets = require_positive_int(num_sets, "num_sets")
    rounds = require_positive_int(rounds, "rounds")
    chunk_size = require_positive_int(chunk_size, "chunk_size")
    if is_concrete((spread, shrink)) and not (float(spread) > 0 and 0 < float(shrink) <= 1):
        raise ValueError(
            f"`spread` must be > 0 and `shrink` in (0, 1], got {float(spread)}, "
            f"{float(shrink)}; e.g. spread=0.01, shrink=0.5."
        )
    K_ref = _reference(nodes, material, K_ref, reference_order).astype(nodes.dtype)
    parts = point_stiffnesses(nodes, material, 2).reshape(8, -1)
    ref = K_ref.reshape(-1)
    scale = jnp.max(jnp.abs(ref))

    def err(ri):
        return jnp.sum(jnp.abs(jnp.matmul(ri, parts, precision=jax.lax.Precision.HIGHEST) - ref))

    ones = jnp.ones(8, nodes.dtype)
    plain = err(ones)

    def one_round(carry, k):
        centre, best, s = carry
        r = centre[None, :] + s * jr.uniform(k, (num_sets, 8), nodes.dtype, -1.0, 1.0)
        errs = jax.lax.map(err, r, batch_size=min(chunk_size, num_sets))
        i = jnp.argmin(errs)
        better = errs[i] < best
        return (jnp.where(better, r[i], centre), jnp.where(better, errs[i], best), s * shrink), None

    s0 = jnp.asarray(spread, nodes.dtype)
    (r, best, _), _ = jax.lax.scan(one_round, (ones, plain, s0), jr.split(key, rounds))
    return r, best / plain
