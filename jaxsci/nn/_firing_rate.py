r"""Continuous-time firing-rate RNN (review §13.2.2; Dayan & Abbott 2001 §7.2 [19]; Wilson's
equations (508)-(509) of the review):
$$\tau\,\frac{dv}{dt} = -v + F\big(W v + I(t)\big),$$
integrated with diffrax. One explicit Euler step of size $\Delta t$ is
$v \leftarrow v + \frac{\Delta t}{\tau}\big(-v + F(W v + I)\big)$; with $\Delta t = \tau$ it is
exactly the discrete RNN cell $h[n] = F(W h[n-1] + I[n])$ (review §7, Remark 7.1), the
connection between the continuous and the deep-learning RNN the review draws.
"""

from collections.abc import Callable

import diffrax as dfx
import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from .._solution import RESULTS, Solution, raise_if_failed
from ._recurrent import _check_key, _check_size, _check_vec


class FiringRateRNN(eqx.Module):
    r"""Firing-rate network $\tau\,\dot v = -v + F(W v + I(t))$ (review §13.2.2).

    **Arguments:**

    - `size`: number of units $n$; `key`: PRNG key for $W$ (uniform in
      $\pm 1/\sqrt n$) -- or give `weight` `(n, n)` directly.
    - `tau`: time constant $\tau > 0$ (a float, or `(n,)` per unit).
    - `activation`: the FI curve $F$ (default `tanh`; `jax.nn.relu` is the Type-I curve).

    **Methods:** `vector_field(t, v, inputs)` $= (-v + F(W v + I(t)))/\tau$;
    `euler_step(v, i, dt)` $= v + \frac{\Delta t}{\tau}(-v + F(W v + i))$.
    """

    weight: Float[Array, "n n"]
    tau: Float[Array, "*n"]
    activation: Callable = eqx.field(static=True)
    size: int = eqx.field(static=True)

    def __init__(self, size: int, tau=1.0, activation: Callable = jnp.tanh, *,
                 weight: Float[Array, "n n"] | None = None, key: PRNGKeyArray | None = None,
                 dtype=None):
        _check_size("size", size)
        if not callable(activation):
            raise TypeError(f"`activation` must be callable; got {activation!r}.")
        dtype = jnp.dtype(float) if dtype is None else dtype
        if weight is None:
            if key is None:
                raise TypeError("`key` (a JAX PRNG key) is needed when `weight` is not given.")
            _check_key(key)
            lim = 1.0 / size**0.5
            weight = jr.uniform(key, (size, size), dtype, -lim, lim)
        weight = jnp.asarray(weight)
        if weight.shape != (size, size):
            raise ValueError(f"`weight` must have shape ({size}, {size}); got {weight.shape}.")
        tau = jnp.asarray(tau, weight.dtype)
        if tau.shape not in ((), (size,)):
            raise ValueError(f"`tau` must be a scalar or shape ({size},); got shape {tau.shape}.")
        tau = eqx.error_if(tau, ~jnp.all(tau > 0), "`tau` must be positive (and finite).")
        self.weight, self.tau, self.activation, self.size = weight, tau, activation, size

    def euler_step(self, v: Float[Array, " n"], i: Float[Array, " n"], dt
                   ) -> Float[Array, " n"]:
        r"""One explicit Euler step $v + \frac{\Delta t}{\tau}(-v + F(W v + i))$; with
        `dt == tau` this is the discrete cell $F(W v + i)$."""
        _check_vec("v", v, self.size)
        _check_vec("i", i, self.size)
        return v + dt / self.tau * (-v + self.activation(self.weight @ v + i))

    def vector_field(self, t, v: Float[Array, " n"], inputs: Callable | None
                     ) -> Float[Array, " n"]:
        r"""$\dot v = (-v + F(W v + I(t)))/\tau$; `inputs(t) -> (n,)` or `None` (no input)."""
        i = jnp.zeros_like(v) if inputs is None else inputs(t)
        return (-v + self.activation(self.weight @ v + i)) / self.tau


def simulate_firing_rate(rnn: FiringRateRNN, v0: Float[Array, " n"], ts: Float[Array, " m"],
             inputs: Callable | None = None, *, solver: dfx.AbstractSolver = dfx.Tsit5(),
             dt0: float | None = None, rtol: float = 1e-8, atol: float = 1e-10,
             max_steps: int = 16_384, throw: bool = True) -> Solution:
    r"""Integrate $\tau\dot v = -v + F(W v + I(t))$ from $v(t_0) = v_0$, $t_0 = $ `ts[0]`,
    with diffrax and return $v$ at `ts` (review §13.2.2).

    **Arguments:**

    - `rnn`: a `FiringRateRNN`; `v0` `(n,)`; `ts` `(m,)` increasing output times.
    - `inputs`: `I(t) -> (n,)` (any callable, e.g. `diffrax.LinearInterpolation(...).evaluate`)
      or `None`.
    - `solver`: a diffrax solver. Adaptive solvers (default `Tsit5`) use a `PIDController`
      with `rtol`, `atol`; others (e.g. `diffrax.Euler()`) take fixed steps `dt0`.
    - `max_steps`, `throw` (raise on failure, else inspect `.result`).

    **Returns:** `Solution` with `value` `(m, n)`, `result`, `stats = {"num_steps"}`.
    """
    if not isinstance(rnn, FiringRateRNN):
        raise TypeError(f"`rnn` must be a FiringRateRNN; got {type(rnn).__name__}.")
    _check_vec("v0", v0, rnn.size)
    if jnp.ndim(ts) != 1 or jnp.shape(ts)[0] < 1:
        raise ValueError(f"`ts` must be a non-empty 1-D array of times; got shape {jnp.shape(ts)}.")
    if not isinstance(solver, dfx.AbstractSolver):
        raise TypeError(f"`solver` must be a diffrax solver; got {solver!r}.")
    if inputs is not None and not callable(inputs):
        raise TypeError(f"`inputs` must be callable `I(t) -> (n,)` or None; got {inputs!r}.")
    if isinstance(solver, dfx.AbstractAdaptiveSolver):
        controller = dfx.PIDController(rtol=rtol, atol=atol)
    else:
        if dt0 is None:
            raise ValueError("`dt0` is required for a fixed-step solver such as diffrax.Euler().")
        controller = dfx.ConstantStepSize()
    ts = jnp.asarray(ts, jnp.result_type(v0, rnn.weight))
    sol = dfx.diffeqsolve(
        dfx.ODETerm(lambda t, v, args: rnn.vector_field(t, v, inputs)), solver, ts[0], ts[-1],
        dt0, v0, saveat=dfx.SaveAt(ts=ts), stepsize_controller=controller,
        max_steps=max_steps, throw=False)
    out = Solution(value=sol.ys, result=RESULTS.promote(sol.result),
                   stats={"num_steps": sol.stats["num_steps"]})
    return raise_if_failed(out, throw)
