r"""The NM-ROM paper's full-order models in NumPy / scipy.sparse: the reference FOM.

The same discretisations as `jaxsci.rom.Burgers1D` and `jaxsci.rom.Burgers2D` (Kim, Choi,
Widemann & Zohdi, JCP 451:110841, 2022, §5.1-5.2; review seed 002, §12.4), written the way
the paper's own code does it: residual and CSR Jacobian assembled in NumPy / scipy.sparse
every Newton iteration, the Newton step by a sparse LU (`scipy.sparse.linalg.splu`, SuperLU).
Newton is the same as `jaxsci.rom.solve_fom`: start at $x^{n-1}$, stop when
$\|r(x)\| \le$ `rtol` $\|r(x^{n-1})\|$ or after `max_newton` iterations.

    models = scipy_fom(jaxsci_fom)            # ScipyBurgers1D / ScipyBurgers2D, same settings
    traj, newton_iterations = solve_fom_scipy(models, mu)

Used by `benchmarks/rom_fom.py` (and `benchmarks/rom.py`) as "scipy sparse-LU FOM".
`python benchmarks/_rom_scipy.py [--full]` checks that both trajectories agree to 1e-8
(1-D at the paper's settings; 2-D on a 30 x 30 grid for 100 steps, or the paper's 60 x 60 and
1500 steps with `--full`).
"""

import argparse
import dataclasses
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import scipy.sparse.linalg as spla  # noqa: E402


@dataclasses.dataclass(frozen=True)
class ScipyBurgers1D:
    """1-D inviscid Burgers, periodic, first-order upwind, backward Euler (N = n_nodes - 1)."""

    n_nodes: int = 1001
    dt: float = 1e-3
    n_steps: int = 500
    length: float = 2.0

    @property
    def size(self):
        return self.n_nodes - 1

    def initial_condition(self, mu):
        x = np.arange(self.size) * (self.length / self.size)
        hump = 1 + 0.5 * mu * (np.sin(2 * np.pi * x - np.pi / 2) + 1)
        return np.where((x > 0) & (x <= 1), hump, 1.0)

    def residual_jacobian(self, u, u_prev):
        c = self.dt / (self.length / self.size)
        left = np.roll(u, 1)
        r = u - u_prev + c * u * (u - left)
        n = self.size
        rows = np.concatenate([np.arange(n), np.arange(n)])
        cols = np.concatenate([np.arange(n), (np.arange(n) - 1) % n])
        vals = np.concatenate([1 + c * (2 * u - left), -c * u])
        return r, sp.csc_matrix((vals, (rows, cols)), shape=(n, n))


@dataclasses.dataclass(frozen=True)
class ScipyBurgers2D:
    """2-D viscous Burgers, zero Dirichlet, upwind convection, central diffusion, x = [u, v]."""

    n_nodes: int = 60
    dt: float = 2.0 / 1500
    n_steps: int = 1500
    reynolds: float = 1e4

    def __post_init__(self):
        n, h = self.n_nodes - 2, 1.0 / (self.n_nodes - 1)
        e, eye = np.ones(n), sp.identity(n, format="csr")
        back = sp.diags([e, -e[1:]], [0, -1]) / h  # (w_p - w_{p-1}) / h
        lap1 = sp.diags([e[1:], -2 * e, e[1:]], [-1, 0, 1]) / h**2
        object.__setattr__(self, "_dx", sp.kron(eye, back, format="csr"))  # p = j n + i
        object.__setattr__(self, "_dy", sp.kron(back, eye, format="csr"))
        lap = sp.kron(eye, lap1) + sp.kron(lap1, eye)
        object.__setattr__(self, "_diff", (lap / self.reynolds).tocsr())

    @property
    def size(self):
        return 2 * (self.n_nodes - 2) ** 2

    def initial_condition(self, mu):
        n, h = self.n_nodes - 2, 1.0 / (self.n_nodes - 1)
        c = (np.arange(n) + 1) * h
        x, y = np.tile(c, n), np.repeat(c, n)
        u = np.where((x <= 0.5) & (y <= 0.5), mu * np.sin(2 * np.pi * x) * np.sin(2 * np.pi * y), 0.0)
        return np.concatenate([u, u])

    def residual_jacobian(self, x, x_prev):
        m = self.size // 2
        u, v = x[:m], x[m:]
        dx, dy, diff, dt = self._dx, self._dy, self._diff, self.dt
        dxu, dyu, dxv, dyv = dx @ u, dy @ u, dx @ v, dy @ v
        r = x - x_prev + dt * np.concatenate(
            [u * dxu + v * dyu - diff @ u, u * dxv + v * dyv - diff @ v]
        )
        common = sp.diags(u) @ dx + sp.diags(v) @ dy - diff
        eye = sp.identity(m, format="csr")
        jac = sp.bmat(
            [
                [eye + dt * (sp.diags(dxu) + common), dt * sp.diags(dyu)],
                [dt * sp.diags(dxv), eye + dt * (sp.diags(dyv) + common)],
            ],
            format="csc",
        )
        return r, jac


def scipy_fom(fom):
    """The scipy model with the settings of a `jaxsci.rom.Burgers1D` / `Burgers2D`."""
    name = type(fom).__name__
    if name == "Burgers1D":
        return ScipyBurgers1D(fom.n_nodes, fom.dt, fom.n_steps, fom.length)
    if name == "Burgers2D":
        return ScipyBurgers2D(fom.n_nodes, fom.dt, fom.n_steps, fom.reynolds)
    raise TypeError(f"no scipy reference for {name}; expected Burgers1D or Burgers2D.")


def solve_fom_scipy(model, mu, rtol=1e-8, max_newton=10):
    """Backward Euler + Newton (sparse LU per iteration). Returns `(traj (T+1, N),
    newton_iterations (T,))`; raises if a step's Newton did not reach `rtol`."""
    x = model.initial_condition(float(mu))
    traj = np.empty((model.n_steps + 1, x.size))
    traj[0] = x
    iters = np.zeros(model.n_steps, int)
    for step in range(model.n_steps):
        x_prev = x
        r, jac = model.residual_jacobian(x, x_prev)
        scale = np.linalg.norm(r) or 1.0
        k = 0
        while np.linalg.norm(r) / scale > rtol and k < max_newton:
            x = x - spla.splu(jac).solve(r)
            r, jac = model.residual_jacobian(x, x_prev)
            k += 1
        if not np.linalg.norm(r) / scale <= rtol:
            raise RuntimeError(f"scipy FOM: Newton did not converge at step {step + 1}.")
        traj[step + 1], iters[step] = x, k
    return traj, iters


def _check(full: bool):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from jaxsci import rom

    foms = [rom.Burgers1D(), rom.Burgers2D() if full else rom.Burgers2D(n_nodes=30, n_steps=100)]
    print(f"{'model':>28} {'N':>6} {'steps':>6} {'scipy s':>8} {'jaxsci s':>9} "
          f"{'max |diff|':>11} {'newton (scipy/jaxsci)':>22}")
    for fom in foms:
        t0 = time.perf_counter()
        ref, it_ref = solve_fom_scipy(scipy_fom(fom), 1.0)
        t_ref = time.perf_counter() - t0
        t0 = time.perf_counter()
        sol = rom.solve_fom(fom, jnp.asarray(1.0))
        traj = np.asarray(jax.block_until_ready(sol.value))
        t_jax = time.perf_counter() - t0
        diff = np.abs(traj - ref).max()
        it = np.asarray(sol.stats["newton_iterations"])
        label = f"{type(fom).__name__}(n_nodes={fom.n_nodes})"
        print(f"{label:>28} {fom.size:>6} {fom.n_steps:>6} {t_ref:>8.2f} {t_jax:>9.2f} "
              f"{diff:>11.2e} {f'{it_ref.sum()}/{it.sum()}':>22}")
        if not diff < 1e-8:
            raise SystemExit(f"{label}: scipy and jaxsci trajectories differ by {diff:.2e}")
    print("scipy reference FOM == jaxsci FOM to 1e-8 (jaxsci time includes compilation)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="2-D at the paper's size")
    _check(parser.parse_args().full)
