r"""A nonlinear RC transmission line with hundreds of nodes: the banded DAE of
`jaxsci.dae.BandedJacobian` (docs/dae.md, "Banded Jacobians").

The ladder is the diode transmission line used as a model-order-reduction benchmark by
Rewienski & White (*IEEE TCAD* 22, 2003, Sec. V.A): resistors $R$ in series, a diode to
ground at every node. Here every second node has no capacitor, so its Kirchhoff current
law is an algebraic equation and the system is an index-1 DAE whose Jacobian and mass
matrix are tridiagonal.
"""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._banded import BandedJacobian
from ._box import ParameterBox
from ._circuits import _scalar, AbstractCircuit, check_finite_params, check_positive_fields
from ._junction import junction_current


class TransmissionLineParams(eqx.Module):
    """Parameters of the transmission line (all nodes share them)."""

    R: Float[Array, ""] = _scalar(1.0)  # series resistance per section [Ohm]
    C: Float[Array, ""] = _scalar(1e-6)  # capacitance of the even nodes [F]
    amplitude: Float[Array, ""] = _scalar(1.0)  # source amplitude [V]
    saturation: Float[Array, ""] = _scalar(1e-6)  # diode saturation current [A]


class TransmissionLine(AbstractCircuit):
    r"""A diode RC transmission line of `n_nodes` nodes driven by a sine voltage source.

    Kirchhoff's current law at node $k = 1 \dots N$ ($v_0 = U_e(t) = A\sin(2\pi t / T)$
    through the first resistor, the last node open):

    $$C_k\, v_k' = \frac{v_{k-1} - v_k}{R} - \frac{v_k - v_{k+1}}{R}\,[k < N]
      - w(v_k), \qquad C_k = \begin{cases} C & k \text{ even} \\ 0 & k \text{ odd}
      \end{cases}$$

    with the junction law $w(v) = I_s(e^{v/0.026} - 1)$ ([`jaxsci.dae.junction_current`][]).
    The odd nodes are algebraic ($\partial g_k / \partial v_k = -2/R - w'(v_k) \neq 0$:
    index 1); $M$ and $\partial\varphi/\partial v$ are tridiagonal, so
    `Rodas4(jacobian=line.jacobian)` (`BandedJacobian(1, 1)`) solves it in $O(N)$ per step.
    $v(0) = 0$ is consistent ($U_e(0) = 0$, $w(0) = 0$). With $RC = 10^{-6}$ s the signal
    diffuses about $\sqrt{t / RC}$ sections: ~100 nodes by $t_1 = 10$ ms.

    **Arguments:**

    - `n_nodes` (default 500): $N$, the number of states.
    - `output_node` (default 10): the QoI is $v$ at this node (1-based).
    - `period` (default 5 ms): $T$ of the source; `t0 = 0`, `t1 = 0.01`.
    """

    n_nodes: int = eqx.field(static=True, default=500)
    output_node: int = eqx.field(static=True, default=10)
    period: float = eqx.field(static=True, default=5e-3)
    t0: float = 0.0
    t1: float = 0.01
    check_overflow: bool = True

    def __check_init__(self):
        if not isinstance(self.n_nodes, int) or isinstance(self.n_nodes, bool) or self.n_nodes < 2:
            raise ValueError(f"TransmissionLine: `n_nodes` must be an int >= 2, got {self.n_nodes!r}.")
        if not isinstance(self.output_node, int) or not 1 <= self.output_node <= self.n_nodes:
            raise ValueError(
                f"TransmissionLine: `output_node` must be an int in 1..n_nodes = "
                f"{self.n_nodes}, got {self.output_node!r}."
            )

    @property
    def jacobian(self) -> BandedJacobian:
        """The band of $M$ and $\\partial\\varphi/\\partial v$: `BandedJacobian(1, 1)`."""
        return BandedJacobian(1, 1)

    @property
    def nominal(self) -> TransmissionLineParams:
        return TransmissionLineParams()

    @property
    def box(self) -> ParameterBox:
        return ParameterBox.around(self.nominal, 0.2)

    def check_params(self, params, name: str = "params"):
        params = check_finite_params(params, name)
        return check_positive_fields(params, ("R", "C", "saturation"), name)

    def mass(self, params: TransmissionLineParams) -> Float[Array, "n n"]:
        even = (jnp.arange(1, self.n_nodes + 1) % 2 == 0).astype(params.C.dtype)
        return jnp.diag(params.C * even)

    def rhs(self, t, v, params: TransmissionLineParams) -> Float[Array, " n"]:
        ue = params.amplitude * jnp.sin(2 * jnp.pi * t / self.period)
        left = jnp.concatenate([jnp.reshape(ue, (1,)).astype(v.dtype), v[:-1]])
        # the last node is open: no current to its right
        right = jnp.concatenate([v[1:], v[-1:]])
        w = junction_current(v, params.saturation, 0.026, check=self.check_overflow)
        return (left - v) / params.R - (v - right) / params.R - w

    def initial_state(self, params: TransmissionLineParams) -> Float[Array, " n"]:
        return jnp.zeros(self.n_nodes, params.R.dtype)

    def qoi(self, v):
        return v[self.output_node - 1]
