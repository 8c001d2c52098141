"""PINN training throughput: jaxsci vs DeepXDE (PyTorch backend), CPU, float32, same run.

Problem: Buckley-Leverett with the non-convex Brooks-Corey flux (Fuks & Tchelepi eq. 20,
M = 1) and diffusion eps = 2.5e-3 (eq. 22, non-conservative form
u_t + f'(u) u_x - eps u_xx), so the residual needs u, u_x, u_t and u_xx. Network: 8 x 20
tanh, Glorot; DeepXDE starts from the SAME weights (copied), so both losses at
initialisation are printed and must agree. Points: the same Nr = 10,000 interior and
Nu = 300 initial/boundary points for every contender; loss = MSE(residual) + MSE(data).

Contenders (Adam lr 1e-3, steps/s; all in one process):

1. jaxsci: `jaxsci.train.fit(pinn.pinn_loss, ...)` with the default `PINNArgs`
   (chunked residual loss, Taylor-mode forward pass, hand-written reverse pass;
   one compiled `lax.scan` over the steps);
2. jaxsci with `chunk_size=None`: the same Taylor-mode residual, whole batch, JAX autodiff;
3. plain JAX with a naive reverse-mode residual (`jax.grad` of `jax.grad`, vmapped);
4. DeepXDE 1.x, PyTorch backend (`dde.grad.jacobian` / `hessian`), `model.train`;

plus jaxsci L-BFGS (`optax.lbfgs`, backtracking line search) iterations/s through `fit`.
Compile time is reported separately. Threads: `--threads N` restricts the WHOLE process to
N CPUs (`sched_setaffinity`, before JAX and torch start their pools), sets torch's intra-op
threads to N and, for N = 1, turns XLA's Eigen pool off, so both frameworks get the same
cores. Wall-clock and process CPU time per step are both printed (CPU time is the robust
figure on a shared machine). Last line: `ratio: <jaxsci Adam steps/s / DeepXDE Adam steps/s>`
(wall clock, best of `--repeats` alternating measurements of the two). Just before it, the
end-to-end ratios: DeepXDE's wall time for the same `--steps` Adam steps (at its best rate
above; its warm-up call is not counted) / jaxsci's first `fit` call of the "jaxsci adam"
contender in a fresh process, trace + compile + run, with a cold and with a warm persistent
compilation cache (see `benchmarks/_timing.py`; same threads and CPUs).

    python benchmarks/pinn_throughput.py [--steps 200] [--threads 1] [--repeats 3]
"""

import argparse
import os
import time

import numpy as np

import _timing  # benchmarks/, next to this script


def _timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def _points(a):
    """Interior points x_r, initial/boundary points x_u and their values y_u (seed 0)."""
    rng = np.random.default_rng(0)
    x_r = rng.uniform(size=(a.n_residual, 2)).astype(np.float32)
    half = a.n_data // 2
    x_ic = np.stack([rng.uniform(size=half), np.zeros(half)], 1)
    x_bc = np.stack([np.zeros(a.n_data - half), rng.uniform(size=a.n_data - half)], 1)
    x_u = np.concatenate([x_ic, x_bc]).astype(np.float32)
    y_u = np.concatenate([np.zeros(half), np.ones(a.n_data - half)]).astype(np.float32)
    return x_r, x_u, y_u


def _jax_problem(x_r, x_u, y_u, eps):
    """Problem, collocation batch, loss weights and the Glorot-initialised network."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import jax.random as jr

    from jaxsci import pinn
    from jaxsci.init import glorot

    problem = pinn.RiemannProblem(pinn.BrooksCoreyFlux(1.0), eps)
    data = {"u": (jnp.asarray(x_u), jnp.asarray(y_u))}
    batch = pinn.Collocation(interior=jnp.asarray(x_r), data=data)
    weights = {"pde": 1.0, "u": 1.0}
    k1, k2 = jr.split(jr.key(0))
    net = glorot(eqx.nn.MLP(2, "scalar", 20, 8, activation=jnp.tanh, key=k1), key=k2)
    leaves = jax.tree.leaves(eqx.filter(net, eqx.is_array)) + [problem.epsilon, x_r]
    assert all(x.dtype == np.float32 for x in leaves), "benchmark must run in float32"
    return problem, batch, weights, net


def _jax_e2e(a):
    """End-to-end child: the first `fit` call of the "jaxsci adam" contender (`--steps`
    steps, default `PINNArgs`) in a fresh process (data built first, not timed)."""
    import jax
    import optax

    from jaxsci import pinn
    from jaxsci.train import fit

    problem, batch, weights, net = _jax_problem(*_points(a), a.eps)
    args = pinn.PINNArgs(problem, batch, weights)
    jax.block_until_ready((batch, net))
    res, t = _timing.timed(fit, pinn.pinn_loss, net, optax.adam(1e-3), steps=a.steps, args=args)
    return {"jaxsci": t, "final_loss": float(res.history["loss"][-1])}


def _jax_setup(x_r, x_u, y_u, eps):
    import jax
    import jax.numpy as jnp
    import optax

    from jaxsci import pinn
    from jaxsci.train import fit, make_step

    problem, batch, weights, net = _jax_problem(x_r, x_u, y_u, eps)

    def naive_loss(model, args):
        # reverse-mode derivatives, the textbook way
        du = jax.grad(model)

        def res(p):
            g = du(p)
            uxx = jax.grad(lambda q: du(q)[0])(p)[0]
            return g[1] + problem.flux.derivative(model(p)) * g[0] - problem.epsilon * uxx

        r = jax.vmap(res)(args.batch.interior)
        pu, yu = args.batch.data["u"]
        terms = {"pde": jnp.mean(r**2), "u": jnp.mean((jax.vmap(model)(pu) - yu) ** 2)}
        return terms["pde"] + terms["u"], terms

    def fit_runner(loss_fn, opt, args, n):
        def go():
            res = fit(loss_fn, net, opt, steps=n, args=args)
            jax.block_until_ready(res.history["loss"])
            return res.history["loss"]

        return go

    def scan_runner(loss_fn, opt, args, n):
        step, params, _ = make_step(loss_fn, opt, net)
        state = optax.with_extra_args_support(opt).init(params)

        def run(params, state, args):
            def body(c, _):
                p, s, loss, _, _ = step(*c, args)
                return (p, s), loss

            return jax.lax.scan(body, (params, state), None, length=n)[1]

        compiled = jax.jit(run).lower(params, state, args).compile()

        def go():
            return jax.block_until_ready(compiled(params, state, args))

        return go

    args = pinn.PINNArgs(problem, batch, weights)
    args_plain = pinn.PINNArgs(problem, batch, weights, chunk_size=None)
    lbfgs = optax.lbfgs(
        linesearch=optax.scale_by_backtracking_linesearch(max_backtracking_steps=20)
    )
    init_terms = pinn.loss_terms(net, problem, batch)
    return {
        "net": net,
        "init_terms": {k: float(v) for k, v in init_terms.items()},
        "contenders": {
            "jaxsci adam": (fit_runner, pinn.pinn_loss, optax.adam(1e-3), args),
            "jaxsci adam, chunk_size=None": (
                fit_runner, pinn.pinn_loss, optax.adam(1e-3), args_plain),
            "jax reverse-mode adam": (scan_runner, naive_loss, optax.adam(1e-3), args),
            "jaxsci l-bfgs": (fit_runner, pinn.pinn_loss, lbfgs, args),
        },
    }


def _deepxde_setup(x_r, x_u, y_u, eps, jax_net):
    os.environ["DDE_BACKEND"] = "pytorch"
    import deepxde as dde
    import torch

    dde.config.set_default_float("float32")

    def pde(x, u):
        u_x = dde.grad.jacobian(u, x, i=0, j=0)
        u_t = dde.grad.jacobian(u, x, i=0, j=1)
        u_xx = dde.grad.hessian(u, x, i=0, j=0)
        fp = 2 * u * (1 - u) / (u**2 + (1 - u) ** 2) ** 2  # f'(u), eq. 20 with M = 1
        return u_t + fp * u_x - eps * u_xx

    geom = dde.geometry.GeometryXTime(dde.geometry.Interval(0, 1), dde.geometry.TimeDomain(0, 1))
    bc = dde.icbc.PointSetBC(x_u.astype(np.float32), y_u[:, None].astype(np.float32))
    data = dde.data.TimePDE(
        geom, pde, [bc], num_domain=0, num_boundary=0, num_initial=0,
        anchors=x_r.astype(np.float32),
    )
    net = dde.nn.FNN([2] + [20] * 8 + [1], "tanh", "Glorot normal")
    with torch.no_grad():  # same initial weights as the JAX contenders
        for lin, jl in zip(net.linears, jax_net.layers):
            lin.weight.copy_(torch.from_numpy(np.asarray(jl.weight)))
            lin.bias.copy_(torch.from_numpy(np.asarray(jl.bias).reshape(-1)))
    # loss terms at initialisation, with DeepXDE's own residual and derivatives
    xt = torch.from_numpy(x_r.astype(np.float32)).requires_grad_(True)
    r = pde(xt, net(xt))
    dde.grad.clear()
    pred = net(torch.from_numpy(x_u.astype(np.float32)))[:, 0].detach().numpy()
    init = {"pde": float((r**2).mean()), "u": float(np.mean((pred - y_u) ** 2))}
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-3)
    return model, init, torch.__version__, dde.__version__


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--n-residual", type=int, default=10_000)
    p.add_argument("--n-data", type=int, default=300)
    p.add_argument("--eps", type=float, default=2.5e-3)
    p.add_argument("--threads", type=int, default=1,
                   help="CPUs for the whole process and threads for BOTH frameworks")
    p.add_argument("--repeats", type=int, default=3,
                   help="alternating jaxsci / DeepXDE Adam measurements (best is kept)")
    _timing.add_arguments(p)
    a = p.parse_args(argv)
    cpus = sorted(os.sched_getaffinity(0))
    if a.threads > len(cpus):
        raise ValueError(f"--threads {a.threads} but only {len(cpus)} CPUs are available")
    os.sched_setaffinity(0, cpus[: a.threads])
    flag = "--xla_cpu_multi_thread_eigen=false"
    if a.threads == 1 and flag not in os.environ.get("XLA_FLAGS", "").split():
        # (end-to-end children inherit it: not added twice)
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flag).strip()
    if a.e2e_child:  # JAX only: torch is not imported
        _timing.run_child(a, lambda: _jax_e2e(a))
        return
    import torch

    torch.set_num_threads(a.threads)
    x_r, x_u, y_u = _points(a)

    print(f"Nr={a.n_residual} Nu={a.n_data} eps={a.eps} 8x20 tanh float32, {a.steps} steps, "
          f"{a.threads} thread(s) on CPUs {cpus[: a.threads]}, load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    js = _jax_setup(x_r, x_u, y_u, a.eps)
    model, dde_init, tv, dv = _deepxde_setup(x_r, x_u, y_u, a.eps, js["net"])
    print("loss terms at initialisation (same weights): jaxsci "
          + ", ".join(f"{k}={v:.6e}" for k, v in js["init_terms"].items())
          + " | deepxde " + ", ".join(f"{k}={v:.6e}" for k, v in dde_init.items()), flush=True)

    runners, results = {}, {}
    for name, (make, loss_fn, opt, args) in js["contenders"].items():
        n = a.steps if "l-bfgs" not in name else max(a.steps // 4, 10)

        def build(make=make, loss_fn=loss_fn, opt=opt, args=args, n=n):
            runner = make(loss_fn, opt, args, n)
            runner()  # compiles (fit) / warms up
            return runner

        go, t_compile, _ = _timed(build)
        runners[name] = (go, n, t_compile)
    _, t_warm, _ = _timed(lambda: model.train(iterations=5, display_every=10**9, verbose=0))

    def measure(name):
        go, n, _ = runners[name]
        out, wall, cpu = _timed(go)
        results.setdefault(name, []).append((n / wall, cpu / n * 1e3, float(out[-1]), n))

    def measure_dde():
        _, wall, cpu = _timed(
            lambda: model.train(iterations=a.steps, display_every=10**9, verbose=0))
        # DeepXDE continues from its previous state: the loss is after train_state.step steps
        loss = float(np.sum(model.train_state.loss_train))
        results.setdefault("deepxde (torch) adam", []).append(
            (a.steps / wall, cpu / a.steps * 1e3, loss, model.train_state.step))

    for _ in range(a.repeats):
        measure("jaxsci adam")
        measure_dde()
    for name in runners:
        if name != "jaxsci adam":
            measure(name)

    best = {}
    for name, rows in results.items():
        rate, cpu_ms, loss, at = max(rows, key=lambda r: r[0])
        best[name] = rate
        unit = "it/s" if "l-bfgs" in name else "steps/s"
        extra = (f"compile {runners[name][2]:5.1f} s" if name in runners
                 else f"warm-up {t_warm:5.1f} s")
        all_rates = "/".join(f"{r[0]:.1f}" for r in rows)
        print(f"{name:30s} {rate:7.1f} {unit:7s} ({all_rates})  cpu {cpu_ms:6.1f} ms/step  "
              f"{extra}  loss {loss:.3e} after {at} steps", flush=True)
    print(f"torch {tv}, deepxde {dv}; load average after: {os.getloadavg()[0]:.2f}")
    print(f"l-bfgs: {best['jaxsci l-bfgs']:.1f} it/s; chunked vs whole-batch autodiff: "
          f"{best['jaxsci adam'] / best['jaxsci adam, chunk_size=None']:.2f}x; "
          f"whole-batch Taylor vs naive reverse mode: "
          f"{best['jaxsci adam, chunk_size=None'] / best['jax reverse-mode adam']:.2f}x")
    print()
    e2e = _timing.cold_warm(__file__, argv, a.keep_e2e_cache)
    _timing.print_ratios(e2e, "jaxsci", a.steps / best["deepxde (torch) adam"],
                         f"DeepXDE (torch) Adam, {a.steps} steps at its best rate",
                         f"jaxsci fit, Adam, {a.steps} steps")
    print(f"ratio: {best['jaxsci adam'] / best['deepxde (torch) adam']:.2f}")


if __name__ == "__main__":
    main()
