r"""The unified adaptive learning-rate method (Vu-Quoc & Humer 2023, Section 6.5, Algorithm 5).

One configurable `optax.GradientTransformation` covers AdaGrad, RMSProp, AdaDelta, Adam,
AMSGrad, AdamX, Nostalgic Adam and AdamW. All operations are elementwise:

$$m_k=\beta_{1,k}m_{k-1}+(1-\beta_{1,k})\tilde g_k,\qquad \beta_{1,k}=\beta_1\lambda^{k-1}$$
$$V_k=a_k V_{k-1}+b_k\,\tilde g_k\odot\tilde g_k\qquad(\text{the second-moment rule }(a_k,b_k))$$
$$\hat m_k=m_k/(1-\textstyle\prod_{j\le k}\beta_{1,j}),\qquad \hat V_k=V_k/c_k\ (\text{optional bias corrections})$$
$$\hat V_k\leftarrow\max\big(\tfrac{(1-\beta_{1,k})^2}{(1-\beta_{1,k-1})^2}\hat V_{k-1},\hat V_k\big)\quad
(\text{AMSGrad if }\lambda=1,\ \text{AdamX otherwise})$$
$$\Delta\theta_k=-\eta_k\Big(\epsilon_k\,\rho_k\,\frac{\hat m_k}{\sqrt{\hat V_k}+\delta}+\lambda_w\theta_k\Big)$$

with $\sqrt{\hat V_k+\delta}$ in place of $\sqrt{\hat V_k}+\delta$ if `eps_in_sqrt`, the AdaDelta
unit correction $\rho_k=\sqrt{U_{k-1}+\delta}$, $U_k=a_kU_{k-1}+b_k\Delta_k^2$ if
`unit_correction` (else $\rho_k=1$), $\eta_k$ the schedule multiplier (e.g. cosine annealing,
Eq. 154) and $\lambda_w$ the decoupled weight decay of AdamW (Loshchilov & Hutter 2019, Alg. 2).
"""

import abc
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, Int, PyTree

from ._validate import check_interval, check_like, check_schedule

_Sched = float | Callable[[Int[Array, ""]], Float[Array, ""]]


def _at(s: _Sched, count):
    return s(count) if callable(s) else s


class AbstractSecondMoment(eqx.Module):
    r"""Rule $V_k=a_kV_{k-1}+b_k g_k^2$ and its bias normaliser $c_k$ (1 = no correction)."""

    @abc.abstractmethod
    def coefficients(self, k: Int[Array, ""]) -> tuple[Float[Array, ""], Float[Array, ""]]:
        """$(a_k, b_k)$ at the 1-based iteration $k$."""

    @abc.abstractmethod
    def normaliser(self, k: Int[Array, ""]) -> Float[Array, ""]:
        """$c_k$, the total weight of the past squared gradients in $V_k$."""


class SumOfSquares(AbstractSecondMoment):
    r"""AdaGrad (Duchi, Hazan & Singer 2011): $r_k=r_{k-1}+g_k^2$.

    Takes no arguments: the sum never forgets, so there is no decay rate (a `TypeError`
    says to use `ExponentialAverage(beta)` for one)."""

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            got = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
            raise TypeError(
                f"`SumOfSquares()` takes no arguments, got SumOfSquares({got}): AdaGrad's "
                "r_k = r_{k-1} + g_k^2 has no decay rate. For a decaying average of g_k^2 "
                "(RMSProp, Adam) use `ExponentialAverage(beta)`."
            )

    def coefficients(self, k):
        return jnp.ones(()), jnp.ones(())

    def normaliser(self, k):
        return jnp.ones(())


class ExponentialAverage(AbstractSecondMoment):
    r"""Exponential smoothing (Section 6.5.3): $V_k=\beta V_{k-1}+(1-\beta)g_k^2$, $c_k=1-\beta^k$."""

    beta: float = 0.999

    def __check_init__(self):
        check_interval("beta", self.beta, 0.0, 1.0, lo_open=False,
                       hint="(ExponentialAverage(beta): beta = 1 never forgets and has no "
                       "bias correction.)")

    def coefficients(self, k):
        return jnp.asarray(self.beta), jnp.asarray(1.0 - self.beta)

    def normaliser(self, k):
        return 1.0 - jnp.asarray(self.beta) ** k


class NostalgicAverage(AbstractSecondMoment):
    r"""Nostalgic Adam (Huang, Wang & Dong 2019, NosAdam-HH): $\beta_{2,k}=B_{k-1}/B_k$,
    $B_k=\sum_{j\le k} j^{-\gamma}$, so $V_k$ is the $b_j$-weighted mean of $g_1^2..g_k^2$."""

    gamma: float = 0.0

    def __check_init__(self):
        if isinstance(self.gamma, jax.core.Tracer):
            raise TypeError("`NostalgicAverage(gamma)` needs a Python float `gamma`, not a "
                            "traced value (it sets the length of a loop).")
        check_interval("gamma", self.gamma, 0.0, lo_open=False)

    def coefficients(self, k):
        b_k = jnp.asarray(k, float) ** (-self.gamma)
        big_b_k = _harmonic(k, self.gamma)
        beta2 = (big_b_k - b_k) / big_b_k
        return beta2, 1.0 - beta2

    def normaliser(self, k):
        return jnp.ones(())


def _harmonic(k, gamma):
    r"""$B_k=\sum_{j=1}^k j^{-\gamma}$ for a traced integer $k$ (loop of length $k$)."""
    if gamma == 0.0:
        return jnp.asarray(k, float)
    return jax.lax.fori_loop(
        1, k + 1, lambda j, acc: acc + jnp.asarray(j, float) ** (-gamma), jnp.zeros(())
    )


class AdaptiveState(eqx.Module):
    r"""State of `unified_adaptive`: `count` $=k$ (steps taken), the moments `m` $=m_k$ and
    `v` $=V_k$, the running maximum `v_max` of $\hat V$ (AMSGrad/AdamX), the AdaDelta unit
    accumulator `u` $=U_k$ and `prod_beta1` $=\prod_{j\le k}\beta_{1,j}$."""

    count: Int[Array, ""]
    m: PyTree[Array]
    v: PyTree[Array]
    v_max: PyTree[Array]
    u: PyTree[Array]
    prod_beta1: Float[Array, ""]


def unified_adaptive(
    learning_rate: _Sched = 1e-3,
    *,
    beta1: float = 0.9,
    beta1_decay: float = 1.0,
    second_moment: AbstractSecondMoment = ExponentialAverage(0.999),
    bias_correction_m: bool = True,
    bias_correction_v: bool = True,
    max_v: bool = False,
    unit_correction: bool = False,
    eps: float = 1e-8,
    eps_in_sqrt: bool = False,
    weight_decay: float = 0.0,
    multiplier: _Sched = 1.0,
) -> optax.GradientTransformation:
    r"""Algorithm 5 of the review as one transformation (see the module docstring).

    **Arguments:**

    - `learning_rate`: $\epsilon_k$, a float or a schedule of the 0-based step count.
    - `beta1`: $\beta_1$ of the first moment ($0$ gives $m_k=\tilde g_k$).
    - `beta1_decay`: $\lambda$ in $\beta_{1,k}=\beta_1\lambda^{k-1}$ (AdamX; 1 = constant).
    - `second_moment`: the rule for $V_k$: `SumOfSquares()` (AdaGrad),
      `ExponentialAverage(beta2)` (RMSProp, AdaDelta, Adam, ...), `NostalgicAverage(gamma)`.
    - `bias_correction_m`, `bias_correction_v`: divide by the total weights (Adam, Kingma & Ba).
    - `max_v`: keep the running maximum of $\hat V$ (AMSGrad; AdamX with `beta1_decay<1`).
    - `unit_correction`: multiply by $\sqrt{U_{k-1}+\delta}$ (AdaDelta, Zeiler 2012, Alg. 1).
    - `eps`, `eps_in_sqrt`: $\delta$, outside or inside the square root.
    - `weight_decay`: $\lambda_w$, decoupled (AdamW), *not* multiplied by $\epsilon_k$.
    - `multiplier`: $\eta_k$, scales both terms (a float or a schedule).

    **Returns:** an `optax.GradientTransformation` taking raw gradients and returning
    $\Delta\theta$; it needs `params` when `weight_decay != 0`.

    Presets (tested against hand-written NumPy and, where it exists, the optax equivalent):
    AdaGrad: `beta1=0, second_moment=SumOfSquares(), bias_correction_*=False`;
    RMSProp: `beta1=0, ExponentialAverage(0.9), eps_in_sqrt=True, bias_correction_*=False`;
    AdaDelta: `learning_rate=1, beta1=0, ExponentialAverage(0.95), unit_correction=True,
    eps_in_sqrt=True, eps=1e-6, bias_correction_*=False`; Adam: the defaults; AMSGrad:
    `max_v=True, bias_correction_*=False`; AdamX: `adamx()`; Nostalgic Adam:
    `nostalgic_adam()`; AdamW: `weight_decay>0`.

    **Raises:** `ValueError` for a constant `learning_rate` not in $[0,\infty)$ (0 only
    with weight decay) or `multiplier` not in $(0,\infty)$, `beta1` not in $[0,1)$,
    `beta1_decay` not in $(0,1]$, `eps` not in $(0,\infty)$ ($\delta=0$ divides 0 by 0 for a parameter whose gradient is zero),
    `weight_decay` not in $[0,\infty)$ (NaN/inf included; a traced constant is checked by
    `eqx.error_if`); `TypeError` for a `second_moment` that is not an
    `AbstractSecondMoment`. A schedule's value is checked where it is used, one scalar per
    step (`eqx.error_if`, $\ge0$ and finite). `updates` must have the pytree and shapes of
    the parameters `init` saw (trace time).
    """
    learning_rate = check_schedule(
        "learning_rate", learning_rate, constant_lo_open=False,
        hint="For gradient ascent negate the loss; to freeze parameters use "
        "`optax.set_to_zero()`.",
    )
    multiplier = check_schedule("multiplier", multiplier)
    beta1 = check_interval("beta1", beta1, 0.0, 1.0, lo_open=False)
    beta1_decay = check_interval("beta1_decay", beta1_decay, 0.0, 1.0, hi_open=False)
    if isinstance(second_moment, type) and issubclass(second_moment, AbstractSecondMoment):
        raise TypeError(
            f"`second_moment` must be an instance, got the class {second_moment.__name__}; "
            f"write `second_moment={second_moment.__name__}()`."
        )
    if not isinstance(second_moment, AbstractSecondMoment):
        raise TypeError(
            "`second_moment` must be an AbstractSecondMoment (SumOfSquares(), "
            f"ExponentialAverage(beta), NostalgicAverage(gamma)), got {type(second_moment)}."
        )
    eps = check_interval("eps", eps, hint="Use a small positive guard such as 1e-8.")
    weight_decay = check_interval("weight_decay", weight_decay, lo_open=False)
    decay = not (isinstance(weight_decay, (int, float)) and weight_decay == 0.0)
    if isinstance(learning_rate, (int, float)) and learning_rate == 0 and not decay:
        raise ValueError(
            "`learning_rate` is 0 and there is no weight decay, so the parameters never move; "
            "give a positive learning rate (use `optax.set_to_zero()` to freeze them)."
        )

    def init_fn(params):
        z = jax.tree.map(jnp.zeros_like, params)
        leaves = jax.tree.leaves(params)
        dtype = jnp.result_type(*leaves) if leaves else jnp.result_type(float)
        return AdaptiveState(jnp.zeros((), jnp.int32), z, z, z, z, jnp.ones((), dtype))

    def update_fn(updates, state, params=None):
        check_like(updates, "updates", state.m, "params")
        if decay and params is None:
            raise ValueError("`weight_decay != 0` needs `params`: call update(g, state, params).")
        k = state.count + 1
        b1k = beta1 * beta1_decay ** (k - 1.0)
        b1prev = beta1 * beta1_decay ** (k - 2.0)
        a, b = second_moment.coefficients(k)
        m = jax.tree.map(lambda m, g: (b1k * m + (1 - b1k) * g).astype(m.dtype), state.m, updates)
        v = jax.tree.map(lambda v, g: (a * v + b * g * g).astype(v.dtype), state.v, updates)
        prod = state.prod_beta1 * b1k
        m_hat = jax.tree.map(lambda x: x / (1 - prod), m) if bias_correction_m else m
        c = second_moment.normaliser(k)
        v_hat = jax.tree.map(lambda x: x / c, v) if bias_correction_v else v
        if max_v:
            factor = jnp.where(k > 1, ((1 - b1k) / (1 - b1prev)) ** 2, 1.0)
            v_hat = jax.tree.map(
                lambda old, new: jnp.maximum(factor * old, new).astype(old.dtype), state.v_max, v_hat
            )
        if eps_in_sqrt:
            direction = jax.tree.map(lambda mm, vv: mm / jnp.sqrt(vv + eps), m_hat, v_hat)
        else:
            direction = jax.tree.map(lambda mm, vv: mm / (jnp.sqrt(vv) + eps), m_hat, v_hat)
        if unit_correction:
            direction = jax.tree.map(lambda dd, u: dd * jnp.sqrt(u + eps), direction, state.u)
            u = jax.tree.map(lambda u, dd: (a * u + b * dd * dd).astype(u.dtype), state.u, direction)
        else:
            u = state.u
        lr, eta = _at(learning_rate, state.count), _at(multiplier, state.count)
        if decay:
            out = jax.tree.map(
                lambda dd, p: -eta * (lr * dd + weight_decay * p), direction, params
            )
        else:
            out = jax.tree.map(lambda dd: -eta * lr * dd, direction)
        out = jax.tree.map(lambda o, g: o.astype(g.dtype), out, updates)
        v_max = v_hat if max_v else state.v_max
        return out, AdaptiveState(k, m, v, v_max, u, prod.astype(state.prod_beta1.dtype))

    return optax.GradientTransformation(init_fn, update_fn)


def adamx(
    learning_rate: _Sched = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    decay: float = 0.999,
    eps: float = 1e-8,
) -> optax.GradientTransformation:
    r"""AdamX (Tran & Phong 2019, IEEE Access 7, Algorithm 2): AMSGrad with
    $\beta_{1,k}=\beta_1\lambda^{k-1}$ and $\hat v_k=\max\big(\tfrac{(1-\beta_{1,k})^2}
    {(1-\beta_{1,k-1})^2}\hat v_{k-1}, v_k\big)$, $\theta\leftarrow\theta-\epsilon_k m_k/(\sqrt{\hat v_k}+\delta)$,
    no bias correction. `decay` is $\lambda\in(0,1)$.

    **Raises:** as `unified_adaptive`, and `ValueError` unless `beta2` $\in[0,1)$ and
    `decay` $\in(0,1]$."""
    return unified_adaptive(
        learning_rate, beta1=beta1, beta1_decay=decay, second_moment=ExponentialAverage(beta2),
        bias_correction_m=False, bias_correction_v=False, max_v=True, eps=eps,
    )


def nostalgic_adam(
    learning_rate: _Sched = 1e-3, beta1: float = 0.9, gamma: float = 0.0, eps: float = 1e-8
) -> optax.GradientTransformation:
    r"""Nostalgic Adam, NosAdam-HH (Huang, Wang & Dong 2019, IJCAI, Algorithm 1 with
    $b_k=k^{-\gamma}$): $\beta_{2,k}=B_{k-1}/B_k$, $v_k=\beta_{2,k}v_{k-1}+(1-\beta_{2,k})g_k^2$
    (no bias correction needed: the weights sum to one), $m$ as in Adam with bias correction.

    **Raises:** as `unified_adaptive`, and `ValueError` unless `gamma` $\in[0,\infty)$."""
    return unified_adaptive(
        learning_rate, beta1=beta1, second_moment=NostalgicAverage(gamma),
        bias_correction_m=True, bias_correction_v=False, eps=eps,
    )
