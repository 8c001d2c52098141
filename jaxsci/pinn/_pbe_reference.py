r"""Finite-volume reference solver for the nonlinear Poisson-Boltzmann equation (seed 003).

$$-\nabla\cdot(\xi\nabla\phi) + \kappa^2\sinh\phi = f \ \text{in } K_1 = \prod_i[\ell_i, u_i],
\qquad \phi = g \ \text{on } \partial K_1$$

(seed 003, Dogra, the nPBE of its first display with the Dirac masses replaced by smooth
densities, $f = C\sum_n z_n\rho_\sigma(x - x_n)$). Discretisation: the vertex-centred
seven-point finite-volume scheme on an $n^3$ grid (nodes on the faces carry $g$),
$$F_i(\phi) = \frac{1}{h_a^2}\sum_{a}\big[\xi_{i-\frac12 e_a}(\phi_i - \phi_{i-e_a})
- \xi_{i+\frac12 e_a}(\phi_{i+e_a} - \phi_i)\big] + \kappa_i^2\sinh\phi_i - f_i = 0,$$
with the harmonic mean $\xi_{i+\frac12 e_a} = 2\xi_i\xi_{i+e_a}/(\xi_i + \xi_{i+e_a})$ at
the faces (the flux-continuous choice for a jumping permittivity; second order for a smooth
one). $F$ is the gradient of the strictly convex discrete energy
$E(\phi) = \sum_{\text{faces}} \tfrac{\xi_f}{2h^2}(\Delta\phi)^2 + \sum_i(\kappa_i^2\cosh\phi_i
- f_i\phi_i)$, so its Jacobian
$$J(\phi) = -\nabla_h\cdot(\xi\nabla_h\,\cdot) + \operatorname{diag}(\kappa^2\cosh\phi)$$
is symmetric positive definite. Newton's method solves $J\delta = -F$ matrix-free by
`lineax.CG` with the Jacobi (diagonal) preconditioner, and backtracks the step (halving)
until $\|F\|$ decreases, which keeps the $\sinh$ from overflowing on the first steps.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array, ArrayLike, Float

from .._solution import RESULTS, Solution, raise_if_failed
from ._validate import count, scalar_param


def _harmonic(a, b):
    return 2 * a * b / (a + b)


def _face_xi(xi):
    """Harmonic-mean permittivity on the faces between neighbouring nodes, per axis."""
    return tuple(
        _harmonic(jax.lax.slice_in_dim(xi, 0, xi.shape[a] - 1, axis=a),
                  jax.lax.slice_in_dim(xi, 1, xi.shape[a], axis=a))
        for a in range(3)
    )


def _neg_div(phi, faces, spacing):
    r"""$-\nabla_h\cdot(\xi\nabla_h\phi)$ at the interior nodes of the full grid `phi`."""
    out = 0.0
    for a in range(3):
        n = phi.shape[a]
        flux = faces[a] * (jax.lax.slice_in_dim(phi, 1, n, axis=a)
                           - jax.lax.slice_in_dim(phi, 0, n - 1, axis=a))
        d = (jax.lax.slice_in_dim(flux, 0, n - 2, axis=a)
             - jax.lax.slice_in_dim(flux, 1, n - 1, axis=a)) / spacing[a] ** 2
        inner = [slice(1, -1)] * 3
        inner[a] = slice(None)
        out = out + d[tuple(inner)]
    return out


def _embed(u, boundary):
    return boundary.at[1:-1, 1:-1, 1:-1].set(u)


class _Grid(eqx.Module):
    faces: tuple
    k2: Array
    f: Array
    boundary: Array
    spacing: Array
    diag_lap: Array

    def residual(self, u):
        phi = _embed(u, self.boundary)
        return _neg_div(phi, self.faces, self.spacing) + self.k2 * jnp.sinh(u) - self.f

    def jacobian_mv(self, v, cosh):
        phi = _embed(v, jnp.zeros_like(self.boundary))
        return _neg_div(phi, self.faces, self.spacing) + self.k2 * cosh * v


def _diag_lap(faces, spacing):
    out = 0.0
    for a in range(3):
        n = faces[a].shape[a] + 1
        left = jax.lax.slice_in_dim(faces[a], 0, n - 2, axis=a)
        right = jax.lax.slice_in_dim(faces[a], 1, n - 1, axis=a)
        inner = [slice(1, -1)] * 3
        inner[a] = slice(None)
        out = out + ((left + right) / spacing[a] ** 2)[tuple(inner)]
    return out


def solve_pbe_grid(
    xi: Float[ArrayLike, "n1 n2 n3"],
    kappa_sq: Float[ArrayLike, "n1 n2 n3"],
    source: Float[ArrayLike, "n1 n2 n3"],
    boundary: Float[ArrayLike, "n1 n2 n3"],
    spacing: Float[ArrayLike, "3"],
    *,
    max_steps: int = 30,
    rtol: float | None = None,
    atol: float = 0.0,
    cg_rtol: float | None = None,
    cg_max_steps: int = 2000,
    throw: bool = True,
) -> Solution:
    r"""Solve the discrete nPBE (module docstring) on a node grid by damped Newton-CG.

    **Arguments** (node arrays of one shape `(n1, n2, n3)`, each `>= 3`):
    - `xi`: permittivity $\xi > 0$ at the nodes; `kappa_sq`: $\kappa^2 \ge 0$; `source`: $f$;
    - `boundary`: $g$ (only the values on the outer layer of nodes are used);
    - `spacing`: `(3,)` grid steps $h_a$;
    - `max_steps`: Newton iterations at most; stop when
      $\|F\|_2 \le$ `atol` $+$ `rtol` $\|F(\phi_0)\|_2$ ($\phi_0 = 0$ inside);
    - `cg_rtol`, `cg_max_steps`: tolerance (max-norm, relative) and step cap of each CG solve;
      `rtol` and `cg_rtol` default to 1e-10 in float64 and 1e-5 in float32;
    - `throw`: raise at run time if Newton or a CG solve fails (otherwise inspect `result`).

    **Returns:** a `jaxsci.Solution` whose `value` is $\phi$ on the full grid (with $g$ on the
    faces), `stats` `num_steps` (Newton iterations), `residual_norm` (final
    $\|F\|_2$), `cg_steps` (total CG iterations), and `history["residual_norm"]`
    (`(max_steps + 1,)`: $\|F(\phi_k)\|_2$, NaN after the last iterate). Jits and vmaps
    (e.g. over a batch of sources or orientations); dtype follows `source`.
    """
    max_steps = count(max_steps, "max_steps", what="Newton iterations")
    cg_max_steps = count(cg_max_steps, "cg_max_steps", what="CG iterations")
    arrs = {}
    for name, v in (("xi", xi), ("kappa_sq", kappa_sq), ("source", source),
                    ("boundary", boundary)):
        v = jnp.asarray(v)
        if not jnp.issubdtype(v.dtype, jnp.floating):
            v = v.astype(float)
        arrs[name] = v
    shape = arrs["source"].shape
    if len(shape) != 3 or min(shape) < 3:
        raise ValueError(
            f"`source` must be a 3-D node array with at least 3 nodes per axis, got shape "
            f"{shape}."
        )
    for name, v in arrs.items():
        if v.shape != shape:
            raise ValueError(
                f"`{name}` must have the node-grid shape {shape} of `source`, got {v.shape}."
            )
    dtype = arrs["source"].dtype
    # tolerances a little above the precision's floor: 1e-10 in float64, 1e-5 in float32
    default_tol = 1e-10 if jnp.finfo(dtype).bits >= 64 else 1e-5
    rtol = default_tol if rtol is None else rtol
    cg_rtol = default_tol if cg_rtol is None else cg_rtol
    spacing = jnp.asarray(spacing, dtype=dtype)
    if spacing.shape != (3,):
        raise ValueError(f"`spacing` must have shape (3,) (h per axis), got {spacing.shape}.")
    xi = eqx.error_if(arrs["xi"].astype(dtype), ~jnp.all(arrs["xi"] > 0),
                      "`xi` (the permittivity) must be > 0 at every node.")
    k2 = eqx.error_if(arrs["kappa_sq"].astype(dtype), ~jnp.all(arrs["kappa_sq"] >= 0),
                      "`kappa_sq` must be >= 0 at every node.")
    spacing = eqx.error_if(spacing, ~jnp.all(spacing > 0), "`spacing` must be > 0.")
    faces = _face_xi(xi)
    inner = (slice(1, -1),) * 3
    grid = _Grid(faces, k2[inner], arrs["source"][inner], arrs["boundary"].astype(dtype),
                 spacing, _diag_lap(faces, spacing))
    u0 = jnp.zeros(grid.f.shape, dtype)
    r0 = grid.residual(u0)
    n0 = jnp.linalg.norm(r0)
    tol = atol + rtol * n0
    hist0 = jnp.full((max_steps + 1,), jnp.nan, dtype).at[0].set(n0)

    def cond(c):
        k, _, rn, _, _, res = c
        return (k < max_steps) & (rn > tol) & (res == RESULTS.successful)

    def body(c):
        k, u, rn, hist, cg_steps, _ = c
        cosh = jnp.cosh(u)
        struct = jax.ShapeDtypeStruct(u.shape, dtype)
        op = lx.FunctionLinearOperator(lambda v: grid.jacobian_mv(v, cosh), struct,
                                       tags=lx.positive_semidefinite_tag)
        dinv = 1.0 / (grid.diag_lap + grid.k2 * cosh)
        pre = lx.FunctionLinearOperator(lambda v: dinv * v, struct,
                                        tags=lx.positive_semidefinite_tag)
        rhs = -grid.residual(u)
        # lineax's CG test is elementwise, |r_i| <= atol + rtol |b_i|: an absolute floor
        # relative to the largest entry makes it a max-norm relative test
        solver = lx.CG(rtol=cg_rtol, atol=cg_rtol * jnp.max(jnp.abs(rhs)),
                       max_steps=cg_max_steps)
        sol = lx.linear_solve(op, rhs, solver, throw=False,
                              options={"preconditioner": pre})
        delta = sol.value

        # halve the step until ||F|| decreases (a full step from a poor iterate can
        # overflow sinh); the energy is convex, so a descent step exists
        def bt_cond(b):
            t, rn_t, j = b
            return ~(rn_t < rn) & (j < 30)

        def bt_body(b):
            t, _, j = b
            t = t / 2
            return t, jnp.linalg.norm(grid.residual(u + t * delta)), j + 1

        rn1 = jnp.linalg.norm(grid.residual(u + delta))
        t, rn_new, _ = jax.lax.while_loop(bt_cond, bt_body,
                                          (jnp.ones((), dtype), rn1, jnp.array(0)))
        u_new = u + t * delta
        res = RESULTS.where(sol.result == lx.RESULTS.successful, RESULTS.successful,
                            RESULTS.linear_solve_failed)
        res = RESULTS.where(jnp.isfinite(rn_new) & (rn_new < rn), res,
                            RESULTS.nonlinear_solve_failed)
        return (k + 1, u_new, rn_new, hist.at[k + 1].set(rn_new),
                cg_steps + sol.stats["num_steps"], res)

    init = (jnp.array(0), u0, n0, hist0, jnp.array(0), RESULTS.successful)
    k, u, rn, hist, cg_steps, res = jax.lax.while_loop(cond, body, init)
    res = RESULTS.where((rn > tol) & (res == RESULTS.successful),
                        RESULTS.max_steps_reached, res)
    out = Solution(
        value=_embed(u, grid.boundary), result=res,
        stats={"num_steps": k, "residual_norm": rn, "cg_steps": cg_steps},
        history={"residual_norm": hist},
    )
    return raise_if_failed(out, throw)


def node_grid(lower: Float[ArrayLike, "3"], upper: Float[ArrayLike, "3"], n: int,
              dtype=None) -> Float[Array, "n n n 3"]:
    """The `(n, n, n, 3)` array of node coordinates of the uniform grid on a box (`ij`
    indexing, nodes on the faces included)."""
    n = count(n, "n", minimum=3, what="nodes per axis")
    lo, hi = jnp.asarray(lower, dtype=dtype), jnp.asarray(upper, dtype=dtype)
    axes = [jnp.linspace(lo[a], hi[a], n) for a in range(3)]
    return jnp.stack(jnp.meshgrid(*axes, indexing="ij"), axis=-1)


def solve_pbe(
    problem,
    n: int,
    *,
    max_steps: int = 30,
    rtol: float | None = None,
    atol: float = 0.0,
    cg_rtol: float | None = None,
    cg_max_steps: int = 2000,
    throw: bool = True,
) -> Solution:
    r"""Finite-volume reference solution of an nPBE problem on the $n^3$ node grid of its
    box (`node_grid(problem.domain.lower, problem.domain.upper, n)`): the coefficients
    $\xi$, $\kappa^2$, $f$ and $g$ are sampled at the nodes and `solve_pbe_grid` runs
    damped Newton-CG (module docstring; seed 003, first display).

    **Arguments:** `problem` a `MolecularPoissonBoltzmann` (piecewise $\xi$, $\kappa$; for a
    `RigidMotionPoissonBoltzmann` solve `problem.at(omega)`, vmapped over a batch of
    `omega`) or a `PoissonBoltzmann` (constant $\xi$, $\kappa$); `n` nodes per axis
    (`>= 3`); the rest as in `solve_pbe_grid`.

    **Returns:** `solve_pbe_grid`'s `Solution`, `value` of shape `(n, n, n)`.
    """
    from ._pbe_molecule import MolecularPoissonBoltzmann
    from ._poisson_boltzmann import PoissonBoltzmann

    n = count(n, "n", minimum=3, what="nodes per axis")
    if isinstance(problem, MolecularPoissonBoltzmann):
        xi_fn, k2_fn = problem.permittivity, problem.kappa_sq
    elif isinstance(problem, PoissonBoltzmann):
        xi_fn = lambda x: problem.xi.astype(x.dtype)
        k2_fn = lambda x: (problem.kappa**2).astype(x.dtype)
    else:
        raise TypeError(
            "`problem` must be a MolecularPoissonBoltzmann or a PoissonBoltzmann (for a "
            "RigidMotionPoissonBoltzmann pass `problem.at(omega)`), got "
            f"{type(problem).__name__}."
        )
    lo, hi = problem.domain.lower, problem.domain.upper
    pts = node_grid(lo, hi, n).reshape(-1, 3)

    def ev(fn):
        return jax.vmap(fn)(pts).reshape(n, n, n)

    return solve_pbe_grid(
        ev(xi_fn), ev(k2_fn), ev(problem.source), ev(problem.boundary_value),
        (hi - lo) / (n - 1), max_steps=max_steps, rtol=rtol, atol=atol, cg_rtol=cg_rtol,
        cg_max_steps=cg_max_steps, throw=throw,
    )


def debye_huckel_gaussian(
    r: Float[ArrayLike, "..."], *, charge: ArrayLike = 1.0, kappa: ArrayLike = 1.0,
    xi: ArrayLike = 1.0, sigma: ArrayLike = 0.1,
) -> Float[Array, "..."]:
    r"""Exact potential of a Gaussian charge in the linearised PBE (Debye-Hueckel), the
    small-$\phi$ limit of the nPBE in a homogeneous medium:
    $-\xi\Delta\phi + \kappa^2\phi = q\rho_\sigma(|x|)$ on $\mathbb{R}^3$ is solved, with the
    inverse Debye length $\lambda = \kappa/\sqrt\xi$, by
    $$\phi(r) = \frac{q\,e^{\lambda^2\sigma^2/2}}{8\pi\xi r}\Big[e^{-\lambda r}
    \operatorname{erfc}\tfrac{\lambda\sigma^2 - r}{\sqrt2\sigma}
    - e^{\lambda r}\operatorname{erfc}\tfrac{\lambda\sigma^2 + r}{\sqrt2\sigma}\Big]$$
    (the convolution of $\rho_\sigma$ with the Yukawa kernel $e^{-\lambda r}/(4\pi\xi r)$;
    $\to q\,e^{\lambda^2\sigma^2/2}e^{-\lambda r}/(4\pi\xi r)$, the point-charge
    Debye-Hueckel law with a Gaussian form factor, for $r\gg\sigma$, and
    $\to q\operatorname{erf}(r/\sqrt2\sigma)/(4\pi\xi r)$ for $\kappa = 0$). Written with
    `erfcx` so that it does not overflow; `r` elementwise, `r > 0` (the $r\to0$ limit is
    finite but the formula cancels there).
    """
    from jax.scipy.special import erfc, erfcx

    r = jnp.asarray(r)
    if not jnp.issubdtype(r.dtype, jnp.floating):
        r = r.astype(float)
    sigma = scalar_param(sigma, "sigma", lower=0.0, strict=True, what="the charge width")
    xi = scalar_param(xi, "xi", lower=0.0, strict=True, what="the permittivity")
    kappa = scalar_param(kappa, "kappa", lower=0.0, what="the Debye parameter")
    charge = scalar_param(charge, "charge", what="the total charge q")
    kappa = kappa / jnp.sqrt(xi)
    s2 = jnp.sqrt(2.0) * sigma
    u1 = (kappa * sigma**2 - r) / s2
    u2 = (kappa * sigma**2 + r) / s2
    gauss = jnp.exp(-(r**2) / (2 * sigma**2))
    first = jnp.where(u1 >= 0, gauss * erfcx(jnp.maximum(u1, 0.0)),
                      jnp.exp(kappa**2 * sigma**2 / 2 - kappa * r) * erfc(jnp.minimum(u1, 0.0)))
    second = gauss * erfcx(u2)
    return charge / (8 * jnp.pi * xi * r) * (first - second)
