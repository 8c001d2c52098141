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

from ._linesearch import fn_kwargs

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
    """
    if isinstance(weight_decay, (int, float)) and weight_decay < 0:
        raise ValueError(f"`weight_decay` must be >= 0, got {weight_decay}.")
    for name, val in (("zeta", zeta), ("gamma", gamma)):
        if isinstance(val, (int, float)) and not 0.0 <= val < 1.0:
            raise ValueError(f"`{name}` must lie in [0, 1), got {val}.")
    lookahead = callable(gamma) or gamma != 0.0

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
        else:
            grads = updates
        if weight_decay != 0.0 and params is None:
            raise ValueError("`weight_decay != 0` needs `params`: call update(g, state, params).")
        eps, a, z = _at(learning_rate, k), _at(annealing, k), _at(zeta, k)
        if weight_decay != 0.0:
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
    for time steps $h_k, h_{k-1}$ and viscous friction $\nu\ge0$ (unit mass)."""
    h, h_prev, nu = jnp.asarray(h), jnp.asarray(h_prev), jnp.asarray(nu)
    return (h / h_prev) / (1.0 + nu * h), h * h / (1.0 + nu * h)


def epoch_minibatches(key: PRNGKeyArray, num_examples: int, batch_size: int) -> Int[Array, "k m"]:
    r"""Random index sets $\mathbb I_k$, $k=1..k_{\max}$, of one epoch, Eqs. (135)-(136).

    Drawn without replacement ($\mathbb M_{k+1}=\mathbb M_k\setminus\mathbb I_k$): row $k$ holds
    the `batch_size` = $m$ indices of minibatch $k$, and $k_{\max}=\lfloor M/m\rfloor$ (the last
    $M \bmod m$ examples of the permutation are left out of this epoch).
    """
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
    """
    return jnp.asarray(learning_rate) * (1.0 / jnp.asarray(batch_size) - 1.0 / num_examples)
