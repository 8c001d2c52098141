r"""Circuit DAEs $M(p)\,u' = \varphi(t, u, p)$ of the parametric-systems paper.

Paper: R. Pulch & M. Youssef, "Machine learning for parametric nonlinear dynamical
systems" (J. Mach. Learn. Model. Comput., 2020), eq. (1), section 4; equations restored in
`reference/circuits.md` from Hairer & Wanner (1996) and the Test Set for IVP Solvers.
Every circuit is an `eqx.Module` with

- `mass(params)` ($M$), `rhs(t, u, params)` ($\varphi$), `initial_state(params)`
  (consistent $u(t_0)$), `qoi(u)` (output voltage), `term()` (a `MassMatrixTerm`);
- `nominal` parameters (an `eqx.Module` pytree) and `box`, the map $\Xi$ of section 2.1;
- the time interval `t0`, `t1`;
- `check_overflow`: whether the junction law raises on exponential overflow (True; the
  solvers in `simulate`/`sweep` switch it off for trial stages, see `junction_current`).

`AbstractCircuit` is also the extension point for a user's own DAE (see its docstring).
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, Float

from .._misc import as_float_array
from ._box import ParameterBox
from ._junction import junction_current
from ._term import MassMatrixTerm
from ._validate import nonfinite, not_positive, refuse_if


def _strong(value) -> Array:
    # Strongly typed arrays: `nominal` built from Python floats would otherwise be weakly
    # typed and `simulate(circuit, circuit.nominal, ...)` would compile a second program
    # beside the one for `circuit.box(p)` (DESIGN rule 14).
    return as_float_array(value, "parameter")


def _scalar(default: float):
    return eqx.field(default=default, converter=_strong)


def check_finite_params(params, name: str = "params"):
    """Tier 2: every floating leaf of the parameter pytree is finite."""
    leaves, treedef = jax.tree_util.tree_flatten(params)
    out = []
    for leaf in leaves:
        if isinstance(leaf, (jax.Array, np.ndarray, float)) and jnp.issubdtype(
            jnp.result_type(leaf), jnp.inexact
        ):
            leaf = refuse_if(
                leaf,
                nonfinite,
                f"`{name}` contains NaN or inf (a circuit parameter); give finite values.",
            )
        out.append(leaf)
    return jax.tree_util.tree_unflatten(treedef, out)


def check_positive_fields(params, fields: tuple[str, ...], name: str = "params"):
    """Tier 2: the named fields of a parameter module are > 0 (capacitances, ...)."""
    for field in fields:
        value = getattr(params, field)
        value = refuse_if(
            value,
            not_positive,
            f"`{name}.{field}` must be > 0 (a physical capacitance / resistance / voltage "
            "scale / period); got a non-positive value. Check the parameter values (and "
            "the box: `ParameterBox.around(nominal, rel)` needs rel < 1).",
        )
        params = eqx.tree_at(lambda p: getattr(p, field), params, value)
    return params


class AbstractCircuit(eqx.Module):
    r"""A parametric DAE $M(p)\,u' = \varphi(t, u, p)$, $u(t_0) = u_0(p)$, with an output
    $y = g(u)$ and a parameter map $\Xi: [0, 1]^q \to \Pi$: what
    [`jaxsci.dae.simulate`][] and [`jaxsci.dae.sweep`][] solve.

    The shipped circuits subclass it; it is also the extension point for **your own DAE**:
    subclass it and define

    - fields `t0`, `t1` (the time interval);
    - `mass(params) -> M` ($n \times n$, constant in $t$ and $u$, may be singular: index 1)
      and `rhs(t, u, params) -> f` (the structure of `u`);
    - `initial_state(params) -> u0`, consistent (`consistent_initial_state` makes one);
    - `qoi(u)`, the output saved at `ts` (any array; `lambda u: u` keeps the whole state);
    - `nominal` (a parameter pytree) and `box`, the map $\Xi$ used by `sweep`: a
      [`jaxsci.dae.ParameterBox`][], or any callable module `box(p) -> params` on
      $p \in [0, 1]^q$ with an integer attribute `q`.

    `term()` builds the [`jaxsci.dae.MassMatrixTerm`][] from `rhs` and `mass`; override it
    to supply your own term. `params` may be any pytree (`args` of the term). A circuit
    with a boolean field `check_overflow` (the junction law's overflow check) has it
    switched off by `simulate`/`sweep` for trial stages (see `junction_current`).
    """

    t0: eqx.AbstractVar[float]
    t1: eqx.AbstractVar[float]

    @property
    @abc.abstractmethod
    def nominal(self) -> eqx.Module:
        """The nominal (mean) parameter values."""

    @property
    @abc.abstractmethod
    def box(self) -> ParameterBox:
        r"""The parameter cuboid $\Pi$ and the map $\Xi: [0,1]^q \to \Pi$."""

    @abc.abstractmethod
    def mass(self, params) -> Float[Array, "n n"]:
        """The mass matrix $M(p)$."""

    @abc.abstractmethod
    def rhs(self, t, u: Float[Array, " n"], params) -> Float[Array, " n"]:
        r"""The right-hand side $\varphi(t, u, p)$."""

    @abc.abstractmethod
    def initial_state(self, params) -> Float[Array, " n"]:
        """Consistent initial node voltages $u(t_0)$ for these parameters."""

    @abc.abstractmethod
    def qoi(self, u: Float[Array, " n"]) -> Float[Array, ""]:
        """The quantity of interest (output voltage) of a state."""

    def term(self) -> MassMatrixTerm:
        r"""The diffrax term $M(p) u' = \varphi(t, u, p)$ (`args` = parameters)."""
        return MassMatrixTerm(self.rhs, self.mass)

    def check_params(self, params, name: str = "params"):
        """Value check of a parameter pytree, run once by `simulate` (on `params`) and
        `sweep` (on the corners of `box`): returns `params`, or raises `ValueError`
        (concrete values) / `EquinoxRuntimeError` (under `jit`). The default refuses
        NaN/inf; the shipped circuits also require positive capacitances, resistances,
        ... Override it to add your own domain checks (return the checked pytree)."""
        return check_finite_params(params, name)


# ----------------------------------------------------------------------------------------
class TestSetAmplifierParams(eqx.Module):
    """Parameters of the 8-node transistor amplifier (Test Set `transamp`)."""

    Ub: Float[Array, ""] = _scalar(6.0)
    UF: Float[Array, ""] = _scalar(0.026)
    alpha: Float[Array, ""] = _scalar(0.99)
    beta: Float[Array, ""] = _scalar(1e-6)
    R: Float[Array, "10"] = eqx.field(
        default=(1000.0,) + (9000.0,) * 9, converter=_strong
    )
    C: Float[Array, "5"] = eqx.field(
        default=(1e-6, 2e-6, 3e-6, 4e-6, 5e-6), converter=_strong
    )


class TestSetAmplifier(AbstractCircuit):
    r"""The 8-dimensional transistor amplifier of the Test Set for IVP Solvers
    (`transamp`, index 1, $t \in [0, 0.2]$, $U_e(t) = 0.1 \sin(200\pi t)$).

    $M$ is tridiagonal of rank 5; $g(u) = \beta(e^{u/U_F} - 1)$;
    $y_0 = (0, 3, 3, 6, 3, 3, 6, 0)$. Reference solution at $t = 0.2$ in
    `reference/circuits.md` (PSIDE, tol $10^{-14}$). The QoI is $y_8$ (output node).
    """

    t0: float = 0.0
    t1: float = 0.2
    check_overflow: bool = True

    @property
    def nominal(self) -> TestSetAmplifierParams:
        return TestSetAmplifierParams()

    @property
    def box(self) -> ParameterBox:
        return ParameterBox.around(self.nominal, 0.2)

    def check_params(self, params, name: str = "params"):
        params = check_finite_params(params, name)
        return check_positive_fields(params, ("UF", "beta", "R", "C"), name)

    def mass(self, params: TestSetAmplifierParams) -> Float[Array, "8 8"]:
        c = params.C
        z = jnp.zeros((), c.dtype)
        rows = [
            [-c[0], c[0], z, z, z, z, z, z],
            [c[0], -c[0], z, z, z, z, z, z],
            [z, z, -c[1], z, z, z, z, z],
            [z, z, z, -c[2], c[2], z, z, z],
            [z, z, z, c[2], -c[2], z, z, z],
            [z, z, z, z, z, -c[3], z, z],
            [z, z, z, z, z, z, -c[4], c[4]],
            [z, z, z, z, z, z, c[4], -c[4]],
        ]
        return jnp.stack([jnp.stack(r) for r in rows])

    def rhs(self, t, y, params: TestSetAmplifierParams) -> Float[Array, "8"]:
        p = params
        r = p.R
        ue = 0.1 * jnp.sin(200 * jnp.pi * t)
        fac1 = junction_current(y[1] - y[2], p.beta, p.UF, check=self.check_overflow)
        fac2 = junction_current(y[4] - y[5], p.beta, p.UF, check=self.check_overflow)
        return jnp.stack(
            [
                (y[0] - ue) / r[0],
                y[1] / r[1] + (y[1] - p.Ub) / r[2] + (1 - p.alpha) * fac1,
                y[2] / r[3] - fac1,
                (y[3] - p.Ub) / r[4] + p.alpha * fac1,
                y[4] / r[5] + (y[4] - p.Ub) / r[6] + (1 - p.alpha) * fac2,
                y[5] / r[7] - fac2,
                (y[6] - p.Ub) / r[8] + p.alpha * fac2,
                y[7] / r[9],
            ]
        )

    def initial_state(self, params: TestSetAmplifierParams) -> Float[Array, "8"]:
        ub = params.Ub
        half = ub / 2
        zero = jnp.zeros_like(ub)
        return jnp.stack([zero, half, half, ub, half, half, ub, zero])

    def qoi(self, u):
        return u[7]


# ----------------------------------------------------------------------------------------
class AmplifierParams(eqx.Module):
    r"""The $q = 10$ uncertain parameters of the 5-node amplifier, in the paper's order
    (Fig. 7: capacitances 1-3, resistances 4-9, operating voltage 10)."""

    C1: Float[Array, ""] = _scalar(1e-6)
    C2: Float[Array, ""] = _scalar(2e-6)
    C3: Float[Array, ""] = _scalar(3e-6)
    R0: Float[Array, ""] = _scalar(1000.0)
    R1: Float[Array, ""] = _scalar(9000.0)
    R2: Float[Array, ""] = _scalar(9000.0)
    R3: Float[Array, ""] = _scalar(9000.0)
    R4: Float[Array, ""] = _scalar(9000.0)
    R5: Float[Array, ""] = _scalar(9000.0)
    Ub: Float[Array, ""] = _scalar(6.0)


class TransistorAmplifier(AbstractCircuit):
    r"""The paper's 5-node transistor amplifier (Hairer & Wanner 1996; paper section 4.1).

    $$M = \begin{pmatrix} -C_1 & C_1 \\ C_1 & -C_1 \\ && -C_2 \\ &&& -C_3 & C_3 \\
    &&& C_3 & -C_3 \end{pmatrix}, \qquad
    \varphi = \begin{pmatrix} (U_1 - U_e)/R_0 \\
    U_2(1/R_1 + 1/R_2) - U_b/R_2 + (1 - \gamma) w(U_2 - U_3) \\
    U_3/R_3 - w(U_2 - U_3) \\ (U_4 - U_b)/R_4 + \gamma\, w(U_2 - U_3) \\ U_5/R_5
    \end{pmatrix}$$

    with $w$ of eq. (27) ($\alpha = 10^{-6}$, $\beta = 0.026$), $\gamma = 0.99$, input
    $U_e(t) = A \sin(2\pi t/T)$ (eq. (28), $A = 0.4$, $T = 0.01$), $t \in [0, 0.03]$, QoI
    $u_\text{out} = U_5$. Rank of $M$ is 3 (2 algebraic equations, index 1). Consistent
    initial values for every parameter: $U(0) = (0, U_b R_1/(R_1+R_2), U_b R_1/(R_1+R_2),
    U_b, 0)$.
    """

    t0: float = 0.0
    t1: float = 0.03
    check_overflow: bool = True
    amplitude: float = 0.4
    period: float = 0.01
    saturation: float = 1e-6
    thermal_voltage: float = 0.026
    gain: float = 0.99

    @property
    def nominal(self) -> AmplifierParams:
        return AmplifierParams()

    @property
    def box(self) -> ParameterBox:
        return ParameterBox.around(self.nominal, 0.2)

    def check_params(self, params, name: str = "params"):
        params = check_finite_params(params, name)
        fields = ("C1", "C2", "C3", "R0", "R1", "R2", "R3", "R4", "R5")
        return check_positive_fields(params, fields, name)

    def mass(self, params: AmplifierParams) -> Float[Array, "5 5"]:
        c1, c2, c3 = params.C1, params.C2, params.C3
        z = jnp.zeros_like(c1)
        rows = [
            [-c1, c1, z, z, z],
            [c1, -c1, z, z, z],
            [z, z, -c2, z, z],
            [z, z, z, -c3, c3],
            [z, z, z, c3, -c3],
        ]
        return jnp.stack([jnp.stack(r) for r in rows])

    def rhs(self, t, u, params: AmplifierParams) -> Float[Array, "5"]:
        p = params
        ue = self.amplitude * jnp.sin(2 * jnp.pi * t / self.period)
        w = junction_current(
            u[1] - u[2], self.saturation, self.thermal_voltage, check=self.check_overflow
        )
        g = self.gain
        return jnp.stack(
            [
                (u[0] - ue) / p.R0,
                u[1] * (1 / p.R1 + 1 / p.R2) - p.Ub / p.R2 + (1 - g) * w,
                u[2] / p.R3 - w,
                (u[3] - p.Ub) / p.R4 + g * w,
                u[4] / p.R5,
            ]
        )

    def initial_state(self, params: AmplifierParams) -> Float[Array, "5"]:
        p = params
        v = p.Ub * p.R1 / (p.R1 + p.R2)
        zero = jnp.zeros_like(v)
        return jnp.stack([zero, v, v, p.Ub, zero])

    def qoi(self, u):
        return u[4]


# ----------------------------------------------------------------------------------------
class SchmittParams(eqx.Module):
    r"""The $q = 8$ uncertain parameters of the Schmitt trigger (paper section 4.2):
    capacitance, five resistances, operating voltage $u_\text{op}$, input period $T$."""

    C: Float[Array, ""] = _scalar(4e-11)
    R1: Float[Array, ""] = _scalar(200.0)
    R2: Float[Array, ""] = _scalar(1600.0)
    R3: Float[Array, ""] = _scalar(100.0)
    R4: Float[Array, ""] = _scalar(3200.0)
    R5: Float[Array, ""] = _scalar(1600.0)
    uop: Float[Array, ""] = _scalar(0.2)
    T: Float[Array, ""] = _scalar(0.002)


class SchmittTrigger(AbstractCircuit):
    r"""Emitter-coupled two-transistor Schmitt trigger: a documented **reconstruction**.

    The paper's model (Kampowsky, Rentrop & Schmidt 1992) was lost in extraction; this is
    the reconstruction prescribed by `reference/circuits.md`, with the paper's component
    values. Nodes: $u_1$ base of $T_1$ (fed from $u_\text{in}$ through $R_1$), $u_2$
    collector of $T_1$ (to the supply $V_s$ through $R_2$, to $u_4$ through $R_4$), $u_3$
    common emitter (through $R_3$ to the reference voltage $u_\text{op}$), $u_4$ base of
    $T_2$, $u_5$ collector of $T_2$ (to $V_s$ through $R_5$; the output / QoI).

    Choices made here (not from the paper):

    - **Capacitance.** Nodes 2-5 each carry the node capacitance $C$ to ground; the input
      node 1 has none, so $M = \operatorname{diag}(0, C, C, C, C)$ (rank 4, one algebraic
      equation, index 1: node 1's current balance is strictly monotone in $u_1$, hence
      uniquely solvable for every state).
    - **Operating voltage.** A 0.2 V supply cannot switch the transistors, so the supply
      is fixed at $V_s = 5$ V (the input amplitude) and the paper's "operating voltage"
      $u_\text{op} = 0.2$ V is the emitter reference: $R_3$ returns to $u_\text{op}$
      instead of ground. It shifts both switching thresholds. With it the nominal circuit
      is a Schmitt trigger (two output levels, distinct rising / falling thresholds).
    - **Transistors.** Ebers-Moll with the junction law $w$ of eq. (27): forward gain
      $\alpha_F = 0.99$, reverse gain $\alpha_R = 0.5$;
      $i_C = \alpha_F w(u_{BE}) - w(u_{BC})$, $i_E = w(u_{BE}) - \alpha_R w(u_{BC})$,
      $i_B = i_E - i_C$.

    KCL, $M u' = \varphi(t, u)$ with currents into each node:
    $\varphi_1 = (u_\text{in} - u_1)/R_1 - i_{B1}$,
    $\varphi_2 = (V_s - u_2)/R_2 - (u_2 - u_4)/R_4 - i_{C1}$,
    $\varphi_3 = i_{E1} + i_{E2} - (u_3 - u_\text{op})/R_3$,
    $\varphi_4 = (u_2 - u_4)/R_4 - i_{B2}$,
    $\varphi_5 = (V_s - u_5)/R_5 - i_{C2}$;
    $u_\text{in}(t) = 5 \sin(2\pi t / T)$, $t \in [0, 0.006]$. Initial value: the DC
    operating point with $u_\text{in} = 0$ ($\varphi(0, u) = 0$, Newton).

    Solve it with rtol <= 1e-5 or with `step_to_ts=True` in `simulate`/`sweep`: at the
    paper's rtol = 1e-3 the Rosenbrock steps drift off the strongly nonlinear algebraic
    constraint and many samples end with `max_steps_reached` (see docs/dae.md).
    """

    t0: float = 0.0
    t1: float = 0.006
    check_overflow: bool = True
    amplitude: float = 5.0
    supply: float = 5.0
    saturation: float = 1e-6
    thermal_voltage: float = 0.026
    forward_gain: float = 0.99
    reverse_gain: float = 0.5

    @property
    def nominal(self) -> SchmittParams:
        return SchmittParams()

    @property
    def box(self) -> ParameterBox:
        rel = SchmittParams(*([0.2] * 7 + [0.05]))  # T varies by 5 %, the rest 20 %
        return ParameterBox.around(self.nominal, rel)

    def check_params(self, params, name: str = "params"):
        params = check_finite_params(params, name)
        return check_positive_fields(params, ("C", "R1", "R2", "R3", "R4", "R5", "T"), name)

    def mass(self, params: SchmittParams) -> Float[Array, "5 5"]:
        c = params.C
        return jnp.diag(jnp.stack([jnp.zeros_like(c), c, c, c, c]))

    def _transistor(self, ub, uc, ue):
        w = lambda v: junction_current(  # noqa: E731
            v, self.saturation, self.thermal_voltage, check=self.check_overflow
        )
        i_f = w(ub - ue)
        i_r = w(ub - uc)
        i_c = self.forward_gain * i_f - i_r
        i_e = i_f - self.reverse_gain * i_r
        return i_e - i_c, i_c, i_e

    def rhs(self, t, u, params: SchmittParams) -> Float[Array, "5"]:
        p = params
        u_in = self.amplitude * jnp.sin(2 * jnp.pi * t / p.T)
        return self._kcl(u, u_in, p)

    def _kcl(self, u, u_in, p):
        ib1, ic1, ie1 = self._transistor(u[0], u[1], u[2])
        ib2, ic2, ie2 = self._transistor(u[3], u[4], u[2])
        vs = self.supply
        return jnp.stack(
            [
                (u_in - u[0]) / p.R1 - ib1,
                (vs - u[1]) / p.R2 - (u[1] - u[3]) / p.R4 - ic1,
                ie1 + ie2 - (u[2] - p.uop) / p.R3,
                (u[1] - u[3]) / p.R4 - ib2,
                (vs - u[4]) / p.R5 - ic2,
            ]
        )

    def initial_state(self, params: SchmittParams) -> Float[Array, "5"]:
        dtype = jnp.result_type(params.C)
        # Start from T1 off, T2 on (saturated): the state the circuit rests in.
        guess = jnp.asarray(np.array([0.0, 1.2, 0.6, 1.3, 0.7]), dtype)
        sol = optx.root_find(
            lambda u, p: self._kcl(u, jnp.zeros((), dtype), p) * 1e3,
            optx.Newton(rtol=1e-12, atol=1e-12),
            guess,
            params,
            max_steps=100,
        )
        return sol.value

    def qoi(self, u):
        return u[4]
