r"""SGD with momentum, Nesterov's accelerated gradient, weight decay and annealing
(Vu-Quoc & Humer 2023, Sections 6.3.1-6.3.7, Eqs. 135-141, 181-183, Algorithm 4).

The combined update, Eq. (183), with $\Delta_k:=\theta_k-\theta_{k-1}$ ($\Delta_0=0$):

$$\theta_{k+1}=\theta_k-\mathfrak a_k\big[\epsilon_k\,\tilde g(\theta_k+\gamma_k\Delta_k)
+\mathfrak d\,\theta_k\big]+\zeta_k\Delta_k .$$

$\gamma=\zeta=0$: plain SGD (Robbins-Monro); $\gamma=0,\ \zeta\in(0,1)$: heavy ball ("small
heavy sphere", Polyak 1964); $\gamma=\zeta\in(0,1)$: Nesterov (1983). The momentum term is
*not* scaled by the annealing multiplier $\mathfrak a_k$, and the weight decay $\mathfrak d$ is
*not* multiplied by $\epsilon_k$ (contrast `optax.add_decayed_weights`).
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray, PyTree

from .._checks import check_value
from ._linesearch import fn_kwargs
from ._validate import check_interval, check_like, check_schedule, require_count

_Sched = float | Callable[[Int[Array, ""]], Float[Array, ""]]


def _at(s: _Sched, count):
    return s(count) if callable(s) else s


class MomentumState(eqx.Module):
    r"""State of `sgd_momentum`: `count` $=k$ (0-based) and `delta`
    $=\Delta_k=\theta_k-\theta_{k-1}$ (the previous update)."""

    count: Int[Array, ""]
    delta: PyTree[Array]


def sgd_momentum(
    learning_rate: _Sched,
    *,
    zeta: _Sched = 0.0,
    gamma: _Sched = 0.0,
    weight_decay: float = 0.0,
    annealing: _Sched = 1.0,
) -> optax.GradientTransformationExtraArgs:
    r"""The general momentum update, Eqs. (141) and (183), in the review's notation.

    **Arguments:**

    - `learning_rate`: $\epsilon_k$ (float or schedule of the 0-based count $k$).
    - `zeta`: $\zeta_k$, the momentum ("small heavy sphere") coefficient.
    - `gamma`: $\gamma_k$, the look-ahead of the accelerated gradient. If non-zero, `update`
      must receive the extra argument `grad_fn` (params -> minibatch gradient), which is
      evaluated at $\theta_k+\gamma_k\Delta_k$; the incoming `updates` are then unused.
      Extra arguments named in `grad_fn`'s signature are forwarded to it.
    - `weight_decay`: $\mathfrak d$ of Eq. (181) (needs `params`).
    - `annealing`: $\mathfrak a_k\in[0,1]$, e.g. `cosine_annealing([T1, T2, ...])` (Eq. 154).

    **Returns:** an `optax.GradientTransformationExtraArgs` taking the raw gradient
    $\tilde g(\theta_k)$ and returning $\theta_{k+1}-\theta_k$.

    **Raises:** `ValueError` for a constant `learning_rate` not in $[0,\infty)$ (0 only
    with weight decay), `zeta` or `gamma` not in $[0,1)$, `annealing` not in $[0,1]$,
    `weight_decay` not in $[0,\infty)$ (NaN/inf included; a traced constant is checked by `eqx.error_if`). A schedule's value
    is checked where it is used, one scalar per step (`eqx.error_if`): $\epsilon_k\ge0$,
    $\zeta_k,\gamma_k\in[0,1)$, $\mathfrak a_k\in[0,1]$. `updates` (or the output of `grad_fn`)
    must have the pytree and shapes of `params` (trace time).
    """
    learning_rate = check_schedule(
        "learning_rate", learning_rate, constant_lo_open=False,
        hint="For gradient ascent negate the loss; to freeze parameters use "
        "`optax.set_to_zero()`.",
    )
    zeta = check_schedule("zeta", zeta, 0.0, 1.0, constant_lo_open=False)
    lookahead = callable(gamma) or not (isinstance(gamma, (int, float)) and gamma == 0.0)
    gamma = check_schedule("gamma", gamma, 0.0, 1.0, constant_lo_open=False)
    annealing = check_schedule("annealing", annealing, 0.0, 1.0, hi_open=False,
                               constant_lo_open=False)
    weight_decay = check_interval("weight_decay", weight_decay, lo_open=False)
    decay = not (isinstance(weight_decay, (int, float)) and weight_decay == 0.0)
    if isinstance(learning_rate, (int, float)) and learning_rate == 0 and not decay:
        raise ValueError(
            "`learning_rate` is 0 and there is no weight decay, so the parameters never move; "
            "give a positive learning rate (use `optax.set_to_zero()` to freeze them)."
        )

    def init_fn(params):
        return MomentumState(jnp.zeros((), jnp.int32), jax.tree.map(jnp.zeros_like, params))

    def update_fn(updates, state, params=None, *, grad_fn=None, **extra_args):
        k = state.count
        if lookahead:
            if grad_fn is None or params is None:
                raise ValueError(
                    "Nesterov's accelerated gradient (gamma != 0) needs `params` and the extra "
                    "argument `grad_fn` (params -> gradient) to evaluate the gradient at the "
                    "look-ahead point theta_k + gamma_k (theta_k - theta_{k-1})."
                )
            g_k = _at(gamma, k)
            point = jax.tree.map(lambda p, d: p + g_k * d, params, state.delta)
            grads = grad_fn(point, **fn_kwargs(grad_fn, extra_args))
            check_like(grads, "the output of `grad_fn`", state.delta, "params")
        else:
            grads = updates
            check_like(grads, "updates", state.delta, "params")
        if decay and params is None:
            raise ValueError("`weight_decay != 0` needs `params`: call update(g, state, params).")
        eps, a, z = _at(learning_rate, k), _at(annealing, k), _at(zeta, k)
        if decay:
            step = jax.tree.map(
                lambda g, p, d: -a * (eps * g + weight_decay * p) + z * d,
                grads, params, state.delta,
            )
        else:
            step = jax.tree.map(lambda g, d: -a * eps * g + z * d, grads, state.delta)
        step = jax.tree.map(lambda s, d: s.astype(d.dtype), step, state.delta)
        return step, MomentumState(k + 1, step)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def heavy_ball_coefficients(
    h: Float[Array, ""] | float, h_prev: Float[Array, ""] | float, nu: Float[Array, ""] | float
) -> tuple[Float[Array, ""], Float[Array, ""]]:
    r"""$(\zeta_k, \epsilon_k)$ of the heavy-point-mass discretisation, Eq. (143):
    $\zeta_k=\frac{h_k}{h_{k-1}}\frac{1}{1+\nu h_k}$, $\epsilon_k=\frac{h_k^2}{1+\nu h_k}$,
    for time steps $h_k, h_{k-1}$ and viscous friction $\nu\ge0$ (unit mass).

    **Raises:** `ValueError` (eagerly; `eqx.error_if` when traced) unless $h, h_{k-1}>0$ and
    $\nu\ge0$, all finite."""
    h, h_prev, nu = jnp.asarray(h), jnp.asarray(h_prev), jnp.asarray(nu)
    for name, val, lo_ok in (("h", h, False), ("h_prev", h_prev, False), ("nu", nu, True)):
        bad = ~jnp.isfinite(val) | ((val < 0) if lo_ok else (val <= 0))
        want = ">= 0" if lo_ok else "> 0"
        val = check_value(val, bad, f"`{name}` must be finite and {want}, got {val}.")
        if name == "h":
            h = val
        elif name == "h_prev":
            h_prev = val
        else:
            nu = val
    return (h / h_prev) / (1.0 + nu * h), h * h / (1.0 + nu * h)


def epoch_minibatches(key: PRNGKeyArray, num_examples: int, batch_size: int) -> Int[Array, "k m"]:
    r"""Random index sets $\mathbb I_k$, $k=1..k_{\max}$, of one epoch, Eqs. (135)-(136).

    Drawn without replacement ($\mathbb M_{k+1}=\mathbb M_k\setminus\mathbb I_k$): row $k$ holds
    the `batch_size` = $m$ indices of minibatch $k$, and $k_{\max}=\lfloor M/m\rfloor$ (the last
    $M \bmod m$ examples of the permutation are left out of this epoch).

    **Raises:** `TypeError` for non-integer sizes; `ValueError` unless
    `1 <= batch_size <= num_examples`.
    """
    num_examples = require_count(num_examples, "num_examples")
    batch_size = require_count(batch_size, "batch_size")
    if not 0 < batch_size <= num_examples:
        raise ValueError(
            f"`batch_size` must lie in [1, num_examples={num_examples}], got {batch_size}."
        )
    kmax = num_examples // batch_size
    return jr.permutation(key, num_examples)[: kmax * batch_size].reshape(kmax, batch_size)


def fluctuation_factor(
    learning_rate: Float[Array, "..."] | float,
    batch_size: Float[Array, "..."] | float,
    num_examples: Float[Array, "..."] | float,
) -> Float[Array, "..."]:
    r"""The review's fluctuation factor, Eq. (172): $\mathcal F=\epsilon\,(1/m-1/M)$.

    It is the noise scale of the SDE (169)-(170) equivalent to minibatch SGD; step decay and
    minibatch increase both lower it ("annealing", Remark 6.9). Note Eq. (168) omits the
    finite-population factor $M/(M-1)$ of sampling without replacement:
    $\langle\|\tilde g-g\|^2\rangle=(1/m-1/M)\frac{M}{M-1}\operatorname{tr}C$.

    **Raises:** `ValueError` (eagerly; `eqx.error_if` when traced) unless
    $\epsilon\ge0$ and $1\le m\le M$, all finite.
    """
    lr, m, big_m = jnp.asarray(learning_rate), jnp.asarray(batch_size), jnp.asarray(num_examples)
    lr = check_value(lr, ~jnp.isfinite(lr) | (lr < 0),
                     "`learning_rate` must be finite and >= 0.")
    m = check_value(
        m, ~jnp.isfinite(m) | (m < 1) | (m > big_m) | ~jnp.isfinite(big_m),
        "`batch_size` must lie in [1, num_examples] (and `num_examples` be finite).",
    )
    return lr * (1.0 / m - 1.0 / big_m)
