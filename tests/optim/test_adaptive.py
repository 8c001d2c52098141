"""The unified adaptive transformation (Algorithm 5) against hand-written NumPy updates of the
primary papers, against optax where optax has the method, and the Reddi et al. (2018)
counterexample."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxsci.optim as jo

A = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, -0.2], [0.0, -0.2, 0.5]])
B = np.array([1.0, -2.0, 0.5])
THETA0 = np.array([0.3, -0.1, 2.0])
NSTEPS = 6


def grad(theta):
    return A @ theta - B


def run_tx(tx, steps=NSTEPS, theta0=THETA0):
    theta = jnp.asarray(theta0)
    state = tx.init(theta)
    out = []
    for _ in range(steps):
        u, state = tx.update(jnp.asarray(grad(np.asarray(theta))), state, theta)
        theta = theta + u
        out.append(np.asarray(theta))
    return np.array(out)


def run_np(update, steps=NSTEPS, theta0=THETA0):
    theta, mem, out = theta0.copy(), {}, []
    for k in range(1, steps + 1):
        theta = theta + update(k, grad(theta), theta, mem)
        out.append(theta.copy())
    return np.array(out)


def np_adagrad(lr=0.01, delta=1e-7):  # Duchi et al. 2011; Goodfellow et al. Alg. 8.4
    def upd(k, g, th, mem):
        mem["r"] = mem.get("r", 0.0) + g * g
        return -lr * g / (delta + np.sqrt(mem["r"]))

    return upd


def np_rmsprop(lr=0.01, rho=0.9, delta=1e-6):  # Tieleman & Hinton 2012; Goodfellow Alg. 8.5
    def upd(k, g, th, mem):
        mem["r"] = rho * mem.get("r", 0.0) + (1 - rho) * g * g
        return -lr * g / np.sqrt(delta + mem["r"])

    return upd


def np_adadelta(rho=0.95, delta=1e-6):  # Zeiler 2012, Algorithm 1
    def upd(k, g, th, mem):
        mem["eg"] = rho * mem.get("eg", 0.0) + (1 - rho) * g * g
        dx = -np.sqrt(mem.get("ex", 0.0) + delta) / np.sqrt(mem["eg"] + delta) * g
        mem["ex"] = rho * mem.get("ex", 0.0) + (1 - rho) * dx * dx
        return dx

    return upd


def np_adam(lr=0.05, b1=0.9, b2=0.999, delta=1e-8, wd=0.0, eta=1.0):  # Kingma & Ba Alg. 1
    def upd(k, g, th, mem):  # with wd: AdamW, Loshchilov & Hutter 2019 Alg. 2
        mem["m"] = b1 * mem.get("m", 0.0) + (1 - b1) * g
        mem["v"] = b2 * mem.get("v", 0.0) + (1 - b2) * g * g
        mh, vh = mem["m"] / (1 - b1**k), mem["v"] / (1 - b2**k)
        return -eta * (lr * mh / (np.sqrt(vh) + delta) + wd * th)

    return upd


def np_amsgrad(lr=0.05, b1=0.9, b2=0.99, delta=1e-8):  # Reddi et al. 2018, Algorithm 2
    def upd(k, g, th, mem):
        mem["m"] = b1 * mem.get("m", 0.0) + (1 - b1) * g
        mem["v"] = b2 * mem.get("v", 0.0) + (1 - b2) * g * g
        mem["vh"] = np.maximum(mem.get("vh", 0.0), mem["v"])
        return -lr * mem["m"] / (np.sqrt(mem["vh"]) + delta)

    return upd


def np_adamx(lr=0.05, b1=0.9, b2=0.99, lam=0.8, delta=1e-8):  # Tran & Phong 2019, Alg. 2
    def upd(k, g, th, mem):
        b1k, b1p = b1 * lam ** (k - 1), b1 * lam ** (k - 2)
        mem["m"] = b1k * mem.get("m", 0.0) + (1 - b1k) * g
        mem["v"] = b2 * mem.get("v", 0.0) + (1 - b2) * g * g
        fac = ((1 - b1k) / (1 - b1p)) ** 2 if k > 1 else 1.0
        mem["vh"] = np.maximum(fac * mem.get("vh", 0.0), mem["v"])
        return -lr * mem["m"] / (np.sqrt(mem["vh"]) + delta)

    return upd


def np_nosadam(lr=0.05, b1=0.9, gamma=0.5, delta=1e-8):  # Huang et al. 2019, NosAdam-HH
    def upd(k, g, th, mem):
        big_b = sum(j**-gamma for j in range(1, k + 1))
        b2k = (big_b - k**-gamma) / big_b
        mem["m"] = b1 * mem.get("m", 0.0) + (1 - b1) * g
        mem["v"] = b2k * mem.get("v", 0.0) + (1 - b2k) * g * g
        return -lr * (mem["m"] / (1 - b1**k)) / (np.sqrt(mem["v"]) + delta)

    return upd


EA = jo.ExponentialAverage
NOBC = dict(bias_correction_m=False, bias_correction_v=False)
CASES = {
    "adagrad": (
        jo.unified_adaptive(0.01, beta1=0.0, second_moment=jo.SumOfSquares(), eps=1e-7, **NOBC),
        np_adagrad(),
    ),
    "rmsprop": (
        jo.unified_adaptive(0.01, beta1=0.0, second_moment=EA(0.9), eps=1e-6, eps_in_sqrt=True,
                            **NOBC),
        np_rmsprop(),
    ),
    "adadelta": (
        jo.unified_adaptive(1.0, beta1=0.0, second_moment=EA(0.95), eps=1e-6, eps_in_sqrt=True,
                            unit_correction=True, **NOBC),
        np_adadelta(),
    ),
    "adam": (jo.unified_adaptive(0.05), np_adam()),
    "amsgrad": (
        jo.unified_adaptive(0.05, second_moment=EA(0.99), max_v=True, **NOBC), np_amsgrad()
    ),
    "adamx": (jo.adamx(0.05, beta2=0.99, decay=0.8), np_adamx()),
    "nosadam": (jo.nostalgic_adam(0.05, gamma=0.5), np_nosadam()),
    "adamw": (
        jo.unified_adaptive(0.05, weight_decay=0.01, multiplier=0.5),
        np_adam(wd=0.01, eta=0.5),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_numpy_reference(name):
    tx, ref = CASES[name]
    np.testing.assert_allclose(run_tx(tx), run_np(ref), rtol=1e-10, atol=1e-12)


OPTAX = {
    "adagrad": (  # optax puts eps inside the sqrt and starts the accumulator at 0.1
        optax.adagrad(0.01, initial_accumulator_value=0.0, eps=1e-7),
        jo.unified_adaptive(0.01, beta1=0.0, second_moment=jo.SumOfSquares(), eps=1e-7,
                            eps_in_sqrt=True, **NOBC),
    ),
    "rmsprop": (optax.rmsprop(0.01, decay=0.9, eps=1e-6), CASES["rmsprop"][0]),
    "adadelta": (optax.adadelta(1.0, rho=0.95, eps=1e-6), CASES["adadelta"][0]),
    "adam": (optax.adam(0.05), CASES["adam"][0]),
    "amsgrad": (
        optax.amsgrad(0.05, b2=0.99, bias_correction_mu=False, bias_correction_nu=False),
        CASES["amsgrad"][0],
    ),
    "adamw": (  # optax: -lr (m/(sqrt v + d) + wd theta)  <=>  eta = 1, lambda_w = lr * wd
        optax.adamw(0.05, weight_decay=0.2),
        jo.unified_adaptive(0.05, weight_decay=0.05 * 0.2),
    ),
}


@pytest.mark.parametrize("name", sorted(OPTAX))
def test_optax_equivalents(name):
    ref, ours = OPTAX[name]
    np.testing.assert_allclose(run_tx(ours), run_tx(ref), rtol=1e-10, atol=1e-12)


def _online(tx, c=3.0, steps=3000):
    """Reddi et al. (2018), Sec. 3: f_t(x) = C x (t mod 3 = 1), else -x, on [-1, 1]."""

    def step(carry, t):
        x, st = carry
        g = jnp.where(t % 3 == 1, c, -1.0)
        u, st = tx.update(g, st, x)
        return (jnp.clip(x + u, -1.0, 1.0), st), None

    x0 = jnp.array(0.0)
    (x, _), _ = jax.lax.scan(step, (x0, tx.init(x0)), jnp.arange(1, steps + 1))
    return float(x)


def test_reddi_counterexample_adam_fails_amsgrad_converges():
    c = 3.0
    b2 = 1.0 / (1.0 + c**2)  # Theorem 1 of Reddi et al.: beta1 = 0, beta2 = 1/(1+C^2)
    lr = lambda k: 0.5 / jnp.sqrt(k + 1.0)  # alpha_t = alpha / sqrt(t)
    adam = jo.unified_adaptive(lr, beta1=0.0, second_moment=EA(b2))
    ams = jo.unified_adaptive(lr, beta1=0.0, second_moment=EA(b2), max_v=True, **NOBC)
    assert _online(adam) > 0.99  # converges to the worst point x = +1
    assert _online(ams) < -0.98  # the optimum is x = -1


def test_jit_float32_and_vmap():
    tx = jo.unified_adaptive(0.05, weight_decay=0.01, max_v=True)
    theta = jnp.asarray(THETA0, jnp.float32)
    state = tx.init(theta)
    u_eager, s_eager = tx.update(theta, state, theta)
    u_jit, s_jit = jax.jit(tx.update)(theta, state, theta)
    assert u_jit.dtype == jnp.float32 and s_jit.m.dtype == jnp.float32
    np.testing.assert_allclose(u_eager, u_jit, rtol=1e-6)
    thetas = jnp.stack([theta, 2 * theta])
    u_v, _ = jax.vmap(lambda t: tx.update(t, tx.init(t), t))(thetas)
    for i in range(2):
        np.testing.assert_allclose(u_v[i], tx.update(thetas[i], tx.init(thetas[i]), thetas[i])[0],
                                   rtol=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="beta1"):
        jo.unified_adaptive(beta1=1.0)
    with pytest.raises(TypeError, match="second_moment"):
        jo.unified_adaptive(second_moment=0.999)
    tx = jo.unified_adaptive(weight_decay=0.1)
    with pytest.raises(ValueError, match="params"):
        tx.update(jnp.ones(2), tx.init(jnp.ones(2)))


def test_grad_through_updates_vs_finite_differences():
    """Meta-gradient d theta_3 / d lr through three Adam steps (the transformation is smooth)."""
    from helpers import check_grad_fd

    def final(lr):
        tx = jo.unified_adaptive(lr[0], max_v=True)
        th = jnp.asarray(THETA0)
        st = tx.init(th)
        for _ in range(3):
            u, st = tx.update(jnp.asarray(A) @ th - B, st, th)
            th = th + u
        return jnp.sum(th**2)

    check_grad_fd(final, jnp.array([0.05]), eps=1e-6, rtol=1e-5)
