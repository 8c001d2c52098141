"""Demo: the Reddi et al. (2018) counterexample (Adam drifts to the worst point, AMSGrad and
Nostalgic Adam converge) with the unified adaptive transformation, and XOR training curves."""

import pathlib

TITLE = "Optimisers (review Sec. 6): Adam vs AMSGrad counterexample, XOR training"


def run(out: pathlib.Path) -> list[tuple[str, str]]:
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import jax.random as jr
    import matplotlib.pyplot as plt
    import optax

    import jaxsci.optim as jo

    c, steps = 3.0, 1500
    b2 = 1.0 / (1.0 + c**2)
    lr = lambda k: 0.5 / jnp.sqrt(k + 1.0)  # noqa: E731
    ea, nobc = jo.ExponentialAverage, dict(bias_correction_m=False, bias_correction_v=False)
    txs = {
        "Adam": jo.unified_adaptive(lr, beta1=0.0, second_moment=ea(b2)),
        "AMSGrad": jo.unified_adaptive(lr, beta1=0.0, second_moment=ea(b2), max_v=True, **nobc),
        "Nostalgic Adam": jo.nostalgic_adam(lr, beta1=0.0),
    }

    def online(tx):
        def step(carry, t):
            x, st = carry
            g = jnp.where(t % 3 == 1, c, -1.0)  # f_t = C x if t mod 3 = 1 else -x, on [-1, 1]
            u, st = tx.update(g, st, x)
            x = jnp.clip(x + u, -1.0, 1.0)
            return (x, st), x

        x0 = jnp.array(0.0)
        return jax.lax.scan(step, (x0, tx.init(x0)), jnp.arange(1, steps + 1))[1]

    traj = {name: jax.jit(lambda: online(tx))() for name, tx in txs.items()}

    x = jnp.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = jnp.array([0.0, 1.0, 1.0, 0.0])
    params, static = eqx.partition(
        eqx.nn.MLP(2, "scalar", 3, 1, activation=jnp.tanh, key=jr.key(0)), eqx.is_array
    )

    def loss(p):
        return 0.5 * jnp.mean((jax.vmap(eqx.combine(p, static))(x) - y) ** 2)

    xor_txs = {
        "GD + Armijo": optax.chain(optax.scale(-1.0), jo.armijo_linesearch()),
        "Nesterov": jo.sgd_momentum(0.1, zeta=0.9, gamma=0.9),
        "Adam": jo.unified_adaptive(0.02),
    }

    def fit(tx):
        tx = optax.with_extra_args_support(tx)

        def step(carry, _):
            p, s = carry
            v, g = jax.value_and_grad(loss)(p)
            u, s = tx.update(g, s, p, value=v, grad=g, value_fn=loss, grad_fn=jax.grad(loss))
            p = optax.apply_updates(p, u)
            return (p, s), loss(p)

        return jax.lax.scan(step, (params, tx.init(params)), None, length=400)[1]

    curves = {name: jax.jit(lambda: fit(tx))() for name, tx in xor_txs.items()}

    fig, axs = plt.subplots(1, 2, figsize=(11, 4))
    for name, t in traj.items():
        axs[0].plot(t, label=name)
    axs[0].axhline(-1.0, color="k", ls=":", lw=0.8)
    axs[0].set(xlabel="t", ylabel="x_t", title=f"Reddi et al. 2018 counterexample (C={c:g})")
    axs[0].legend()
    for name, cur in curves.items():
        axs[1].semilogy(cur, label=name)
    axs[1].set(xlabel="iteration", ylabel="MSE cost", title="XOR, 2-3-1 tanh network")
    axs[1].legend()
    fig.tight_layout()
    fig.savefig(out / "optimizers.png", dpi=110)
    plt.close(fig)

    rows = [(f"{name} final x (optimum -1)", f"{float(t[-1]):+.3f}") for name, t in traj.items()]
    rows += [(f"XOR {name} final cost", f"{float(cur[-1]):.2e}") for name, cur in curves.items()]
    return rows
