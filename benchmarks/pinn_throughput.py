"""PINN training throughput: jaxsci vs DeepXDE (PyTorch backend), CPU, float32, same run.

Problem: Buckley-Leverett with the non-convex Brooks-Corey flux (Fuks & Tchelepi eq. 20,
M = 1) and diffusion eps = 2.5e-3 (eq. 22), so the residual needs u, u_x, u_t and u_xx.
Network: 8 x 20 tanh, Glorot. Points: the same Nr = 10,000 interior and Nu = 300
initial/boundary points for every contender. Reported: Adam steps/s for

1. jaxsci: `jaxsci.pinn.RiemannProblem.residual` (nested forward-mode `jvp`) inside the
   `jaxsci.train.make_step` step, `lax.scan` over steps;
2. plain JAX with a naive reverse-mode residual (`jax.grad` of `jax.grad`), same step;
3. DeepXDE 1.x, PyTorch backend (`dde.grad.jacobian` / `hessian`), `model.train`;

plus jaxsci L-BFGS (optax.lbfgs, backtracking line search) iterations/s. Compile time is
reported separately. Last line: `ratio: <jaxsci Adam steps/s / DeepXDE Adam steps/s>`.

    python benchmarks/pinn_throughput.py [--steps 200] [--n-residual 10000]
"""

import argparse
import os
import time

import numpy as np


def _jax_runs(x_r, x_u, y_u, steps, eps):
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import jax.random as jr
    import optax

    from jaxsci import pinn
    from jaxsci.init import glorot
    from jaxsci.train import make_step

    problem = pinn.RiemannProblem(pinn.BrooksCoreyFlux(1.0), eps)
    data = {"u": (jnp.asarray(x_u), jnp.asarray(y_u))}
    batch = pinn.Collocation(interior=jnp.asarray(x_r), data=data)
    args = pinn.PINNArgs(problem, batch, {"pde": 1.0, "u": 1.0})
    k1, k2 = jr.split(jr.key(0))
    net = glorot(eqx.nn.MLP(2, "scalar", 20, 8, activation=jnp.tanh, key=k1), key=k2)

    def naive_loss(model, args):
        # reverse-mode derivatives, the textbook way
        def u(p):
            return model(p)

        du = jax.grad(u)
        pts = args.batch.interior

        def res(p):
            g = du(p)
            uxx = jax.grad(lambda q: du(q)[0])(p)[0]
            uu = u(p)
            return g[1] + problem.flux.derivative(uu) * g[0] - eps * uxx

        r = jax.vmap(res)(pts)
        pu, yu = args.batch.data["u"]
        terms = {"pde": jnp.mean(r**2), "u": jnp.mean((jax.vmap(model)(pu) - yu) ** 2)}
        return terms["pde"] + terms["u"], terms

    out = {}
    lbfgs = optax.lbfgs(linesearch=optax.scale_by_backtracking_linesearch(max_backtracking_steps=20))
    for name, loss_fn, opt in [
        ("jaxsci adam", pinn.pinn_loss, optax.adam(1e-3)),
        ("jax reverse-mode adam", naive_loss, optax.adam(1e-3)),
        ("jaxsci l-bfgs", pinn.pinn_loss, lbfgs),
    ]:
        step, params, static = make_step(loss_fn, opt, net)
        state = optax.with_extra_args_support(opt).init(params)
        n = steps if "l-bfgs" not in name else max(steps // 4, 10)

        def run(params, state, args, n=n, step=step):
            def body(c, _):
                p, s = c
                p, s, loss, _, _ = step(p, s, args)
                return (p, s), loss

            (p, s), losses = jax.lax.scan(body, (params, state), None, length=n)
            return p, losses

        t0 = time.perf_counter()
        compiled = jax.jit(run).lower(params, state, args).compile()
        t_compile = time.perf_counter() - t0
        jax.block_until_ready(compiled(params, state, args))  # warm
        t0 = time.perf_counter()
        p, losses = compiled(params, state, args)
        jax.block_until_ready(losses)
        dt = time.perf_counter() - t0
        out[name] = (n / dt, t_compile, float(losses[-1]))
    return out


def _deepxde_run(x_r, x_u, y_u, steps, eps):
    os.environ["DDE_BACKEND"] = "pytorch"
    import deepxde as dde
    import torch

    dde.config.set_default_float("float32")
    torch.manual_seed(0)

    def pde(x, u):
        u_x = dde.grad.jacobian(u, x, i=0, j=0)
        u_t = dde.grad.jacobian(u, x, i=0, j=1)
        u_xx = dde.grad.hessian(u, x, i=0, j=0)
        fp = 2 * u * (1 - u) / (u**2 + (1 - u) ** 2) ** 2
        return u_t + fp * u_x - eps * u_xx

    geom = dde.geometry.GeometryXTime(dde.geometry.Interval(0, 1), dde.geometry.TimeDomain(0, 1))
    bc = dde.icbc.PointSetBC(x_u.astype(np.float32), y_u[:, None].astype(np.float32))
    data = dde.data.TimePDE(
        geom, pde, [bc], num_domain=0, num_boundary=0, num_initial=0,
        anchors=x_r.astype(np.float32),
    )
    net = dde.nn.FNN([2] + [20] * 8 + [1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-3)
    t0 = time.perf_counter()
    model.train(iterations=5, display_every=10**9, verbose=0)
    t_warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.train(iterations=steps, display_every=10**9, verbose=0)
    dt = time.perf_counter() - t0
    return steps / dt, t_warm, torch.__version__, dde.__version__


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--n-residual", type=int, default=10_000)
    p.add_argument("--n-data", type=int, default=300)
    p.add_argument("--eps", type=float, default=2.5e-3)
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads for BOTH frameworks (XLA Eigen pool and torch)")
    a = p.parse_args(argv)
    # same footing: one intra-op thread each by default (the 2-core machine is shared, and
    # oversubscribed OpenMP pools make torch an order of magnitude slower under load)
    if a.threads == 1:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + " --xla_cpu_multi_thread_eigen=false").strip()
    import torch

    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    x_r = rng.uniform(size=(a.n_residual, 2)).astype(np.float32)
    half = a.n_data // 2
    x_ic = np.stack([rng.uniform(size=half), np.zeros(half)], 1)
    x_bc = np.stack([np.zeros(a.n_data - half), rng.uniform(size=a.n_data - half)], 1)
    x_u = np.concatenate([x_ic, x_bc]).astype(np.float32)
    y_u = np.concatenate([np.zeros(half), np.ones(a.n_data - half)]).astype(np.float32)

    print(f"Nr={a.n_residual} Nu={a.n_data} eps={a.eps} 8x20 tanh float32, {a.steps} steps, "
          f"{a.threads} thread(s)",
          flush=True)
    jax_res = _jax_runs(x_r, x_u, y_u, a.steps, a.eps)
    for name, (rate, tc, loss) in jax_res.items():
        unit = "it/s" if "l-bfgs" in name else "steps/s"
        print(f"{name:24s} {rate:8.1f} {unit:8s} compile {tc:6.1f} s  final loss {loss:.3e}",
              flush=True)
    dde_rate, dde_warm, tv, dv = _deepxde_run(x_r, x_u, y_u, a.steps, a.eps)
    print(f"{'deepxde (torch) adam':24s} {dde_rate:8.1f} steps/s  warm-up {dde_warm:5.1f} s  "
          f"(torch {tv}, deepxde {dv})")
    ratio = jax_res["jaxsci adam"][0] / dde_rate
    print(f"speed-up of the forward-mode residual over reverse mode: "
          f"{jax_res['jaxsci adam'][0] / jax_res['jax reverse-mode adam'][0]:.2f}x")
    print(f"ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
