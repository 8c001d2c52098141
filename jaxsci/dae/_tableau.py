r"""Rosenbrock tableaus for $M y' = f(t, y)$ in the implementation form of Hairer & Wanner
(*Solving ODEs II*, 2nd ed. 1996, Sec. VI.4, eqs. (4.8)-(4.10)): stage $i$ solves

$$\Big(\frac{1}{h\gamma} M - J\Big) u_i
  = f\Big(t_0 + \alpha_i h,\; y_0 + \sum_{j<i} a_{ij} u_j\Big)
  + \frac{1}{h} M \sum_{j<i} c_{ij} u_j + \gamma_i h\, \partial_t f(t_0, y_0),$$

$y_1 = y_0 + \sum_i m_i u_i$, the embedded solution $\hat y_1 = y_0 + \sum_i \hat m_i u_i$
(local error estimate $y_1 - \hat y_1$), and the continuous extension

$$y(t_0 + \theta h) = (1 - \theta) y_0 + \theta\Big(y_1 + (1 - \theta)\big(d_1 + \theta(d_2 +
\theta(d_3 + \dots))\big)\Big), \qquad d_k = \sum_i D_{ki} u_i .$$

The original coefficients are recovered by $\Gamma^{-1} = \operatorname{diag}(1/\gamma) - C$,
$A_{\text{orig}} = a\,\Gamma$, $b = m\,\Gamma$ (used by the order-condition tests). One tableau
object per method; one stage loop (`jaxsci.dae._rodas.AbstractRosenbrock`) runs them all.

Sources of the coefficients (the published values, as also tabulated in OrdinaryDiffEq.jl):
- RODAS (order 4(3), 6 stages, stiffly accurate): Hairer & Wanner (1996), `rodas.f`
  (`METH = 1`), dense output `D21..D35`.
- RODAS4P (4(3), 6 stages, stiffly accurate; no order reduction for PDEs / index-1 DAEs):
  G. Steinebach, "Order-reduction of ROW-methods for DAEs and method of lines
  applications", Preprint 1741, TH Darmstadt, 1995.
- RODAS4P2 (4(3), 6 stages): G. Steinebach, "Improvement of Rosenbrock-Wanner method
  RODASP", in *Progress in Differential-Algebraic Equations II*, Springer 2020.
- RODAS5P (5(4), 8 stages, stiffly accurate, dense output of order 4): G. Steinebach,
  "Construction of Rosenbrock-Wanner method Rodas5P and numerical benchmarks within the
  Julia differential equations package", BIT Numer. Math. 63, 27 (2023).
- ROS3P (3(2), 3 stages, not stiffly accurate; for loose tolerances and PDEs): J. Lang &
  J. Verwer, "ROS3P - an accurate third-order Rosenbrock solver designed for parabolic
  problems", BIT 41 (2001) 731-738. No continuous extension is published: its dense output
  is the linear interpolant between step ends (error $O(h^2)$).
"""

import equinox as eqx
import numpy as np


def _frozen(x) -> np.ndarray:
    a = np.array(x, dtype=np.float64)
    a.flags.writeable = False
    return a


class RosenbrockTableau(eqx.Module):
    r"""Coefficients of an $s$-stage Rosenbrock method in the implementation form above.

    Solvers hold their tableau as a class attribute (it is not part of their pytree).

    **Fields** (read-only NumPy float64 arrays): `gamma` ($\gamma$), `alpha` `(s,)`, `gamma_i` `(s,)`,
    `a` `(s, s)` and `c` `(s, s)` (strictly lower triangular), `m` `(s,)`, `m_hat` `(s,)`,
    `dense` `(r, s)` (rows $D_k$ of the continuous extension; `r = 0`: linear interpolant),
    `order`, `embedded_order`, `dense_order` (ints), `stiffly_accurate` (bool), `name`.

    **Raises:** `ValueError` at construction for inconsistent shapes or non-triangular `a`/`c`.
    """

    name: str = eqx.field(static=True)
    gamma: float = eqx.field(static=True, converter=float)
    alpha: np.ndarray = eqx.field(converter=_frozen)
    gamma_i: np.ndarray = eqx.field(converter=_frozen)
    a: np.ndarray = eqx.field(converter=_frozen)
    c: np.ndarray = eqx.field(converter=_frozen)
    m: np.ndarray = eqx.field(converter=_frozen)
    m_hat: np.ndarray = eqx.field(converter=_frozen)
    dense: np.ndarray = eqx.field(converter=_frozen)
    order: int = eqx.field(static=True)
    embedded_order: int = eqx.field(static=True)
    dense_order: int = eqx.field(static=True)
    stiffly_accurate: bool = eqx.field(static=True)

    def __check_init__(self):
        s = len(self.alpha)
        shapes = {"gamma_i": (s,), "a": (s, s), "c": (s, s), "m": (s,), "m_hat": (s,)}
        for field, shape in shapes.items():
            if np.shape(getattr(self, field)) != shape:
                raise ValueError(
                    f"RosenbrockTableau {self.name}: `{field}` must have shape {shape} for "
                    f"{s} stages, got {np.shape(getattr(self, field))}."
                )
        if np.ndim(self.dense) != 2 or np.shape(self.dense)[1] != s:
            raise ValueError(
                f"RosenbrockTableau {self.name}: `dense` must have shape (r, {s}), got "
                f"{np.shape(self.dense)}."
            )
        for field in ("a", "c"):
            if np.any(np.triu(getattr(self, field)) != 0):
                raise ValueError(
                    f"RosenbrockTableau {self.name}: `{field}` must be strictly lower triangular."
                )

    @property
    def num_stages(self) -> int:
        """The number of stages $s$."""
        return len(self.alpha)


def _lower(rows):
    s = len(rows) + 1
    out = np.zeros((s, s))
    for i, row in enumerate(rows, start=1):
        out[i, : len(row)] = row
    return out


# --- RODAS (Hairer-Wanner, METH = 1) -------------------------------------------------------
_R4_A = [
    [1.544],
    [0.9466785280815826, 0.2557011698983284],
    [3.314825187068521, 2.896124015972201, 0.9986419139977817],
    [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950],
]
_R4_C = [
    [-5.6688],
    [-2.430093356833875, -0.2063599157091915],
    [-0.1073529058151375, -9.594562251023355, -20.47028614809616],
    [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160],
    [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136,
     -6.058818238834054],
]


def _rodas6(name, gamma, a_rows, c_rows, alpha234, gamma_i1234, dense, paper_dense_order=3):
    """A 6-stage stiffly accurate RODAS-type tableau: stages 5 and 6 at t0 + h, stage 6's
    argument is y0 + sum_{j<=4} a5j u_j + u5, and y1 = stage-6 argument + u6."""
    a = _lower([*a_rows, [*a_rows[3], 1.0]])
    c = _lower(c_rows)
    m = np.array([*a_rows[3], 1.0, 1.0])
    m_hat = np.array([*a_rows[3], 1.0, 0.0])
    return RosenbrockTableau(
        name=name, gamma=gamma, alpha=np.array([0.0, *alpha234, 1.0, 1.0]),
        gamma_i=np.array([*gamma_i1234, 0.0, 0.0]), a=a, c=c, m=m, m_hat=m_hat,
        dense=np.array([[*row, 0.0] for row in dense]), order=4, embedded_order=3,
        dense_order=paper_dense_order, stiffly_accurate=True,
    )


RODAS4 = _rodas6(
    "Rodas4", 0.25, _R4_A, _R4_C, [0.386, 0.21, 0.63],
    [0.25, -0.1043, 0.1035, -0.3620000000000023e-01],
    [
        [10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823,
         1.025137723295662],
        [-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386,
         -6.594389125716872],
    ],
)

RODAS4P = _rodas6(
    "Rodas4P", 0.25,
    [
        [3.0],
        [1.831036793486759, 0.4955183967433795],
        [2.304376582692669, -0.05249275245743001, -1.176798761832782],
        [-7.170454962423024, -4.741636671481785, -16.31002631330971, -1.062004044111401],
    ],
    [
        [-12.0],
        [-8.791795173947035, -2.207865586973518],
        [10.81793056857153, 6.780270611428266, 19.53485944642410],
        [34.19095006749676, 15.49671153725963, 54.74760875964130, 14.16005392148534],
        [34.62605830930532, 15.30084976114473, 56.99955578662667, 18.40807009793095,
         -5.714285714285717],
    ],
    [0.75, 0.21, 0.63],
    [0.25, -0.5, -0.023504, -0.0362],
    [
        [25.09876703708589, 11.62013104361867, 28.49148307714626, -5.664021568594133, 0.0],
        [1.638054557396973, -0.7373619806678748, 8.477918219238990, 15.99253148779520,
         -1.882352941176471],
    ],
)

RODAS4P2 = _rodas6(
    "Rodas4P2", 0.25,
    [
        [3.0],
        [0.906377755268814, -0.189707390391685],
        [3.758617027739064, 1.161741776019525, -0.849258085312803],
        [7.089566927282776, 4.573591406461604, -8.423496976860259, -0.959280113459775],
    ],
    [
        [-12.0],
        [-6.354581592719008, 0.338972550544623],
        [-8.575016317114033, -7.606483992117508, 12.224997650124820],
        [-5.888975457523102, -8.157396617841821, 24.805546872612922, 12.790401512796979],
        [-4.408651676063871, -6.692003137674639, 24.625568527593117, 16.627521966636085,
         -5.714285714285718],
    ],
    [0.75, 0.321448134013046, 0.519745732277726],
    [0.25, -0.5, -0.189532918363016, 0.085612108792769],
    [
        [-5.323528268423303, -10.042123754867493, 17.175254928256965, -5.079931171878093,
         -0.016185991706112],
        [6.984505741529879, 6.914061169603662, -0.849178943070653, 18.104410789349338,
         -3.516963011559032],
    ],
)

# --- RODAS5P (Steinebach 2023): 8 stages; stages 6-8 at t0 + h ------------------------------
_R5P_A6 = [-7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256,
           0.030198172008377946]
RODAS5P = RosenbrockTableau(
    name="Rodas5P",
    gamma=0.21193756319429014,
    alpha=np.array([0.0, 0.6358126895828704, 0.4095798393397535, 0.9769306725060716,
                    0.4288403609558664, 1.0, 1.0, 1.0]),
    gamma_i=np.array([0.21193756319429014, -0.42387512638858027, -0.3384627126235924,
                      1.8046452872882734, 2.325825639765069, 0.0, 0.0, 0.0]),
    a=_lower([
        [3.0],
        [2.849394379747939, 0.45842242204463923],
        [-6.954028509809101, 2.489845061869568, -10.358996098473584],
        [2.8029986275628964, 0.5072464736228206, -0.3988312541770524, -0.04721187230404641],
        _R5P_A6,
        [*_R5P_A6, 1.0],
        [*_R5P_A6, 1.0, 1.0],
    ]),
    c=_lower([
        [-14.155112264123755],
        [-17.97296035885952, -2.859693295451294],
        [147.12150275711716, -1.41221402718213, 71.68940251302358],
        [165.43517024871676, -0.4592823456491126, 42.90938336958603, -5.961986721573306],
        [24.854864614690072, -3.0009227002832186, 47.4931110020768, 5.5814197821558125,
         -0.6610691825249471],
        [30.91273214028599, -3.1208243349937974, 77.79954646070892, 34.28646028294783,
         -19.097331116725623, -28.087943162872662],
        [37.80277123390563, -3.2571969029072276, 112.26918849496327, 66.9347231244047,
         -40.06618937091002, -54.66780262877968, -9.48861652309627],
    ]),
    m=np.array([*_R5P_A6, 1.0, 1.0, 1.0]),
    m_hat=np.array([*_R5P_A6, 1.0, 1.0, 0.0]),
    dense=np.array([
        [25.948786856663858, -2.5579724845846235, 10.433815404888879, -2.3679251022685204,
         0.524948541321073, 1.1241088310450404, 0.4272876194431874, -0.17202221070155493],
        [-9.91568850695171, -0.9689944594115154, 3.0438037242978453, -24.495224566215796,
         20.176138334709044, 15.98066361424651, -6.789040303419874, -6.710236069923372],
        [11.419903575922262, 2.8879645146136994, 72.92137995996029, 80.12511834622643,
         -52.072871366152654, -59.78993625266729, -0.15582684282751913, 4.883087185713722],
    ]),
    order=5,
    embedded_order=4,
    dense_order=4,
    stiffly_accurate=True,
)

# --- ROS3P (Lang & Verwer 2001) -------------------------------------------------------------
_G3 = 0.5 + np.sqrt(3.0) / 6.0
_IG = 1.0 / _G3
_T1 = -_IG * (2.0 - 0.5 * _IG)
_T2 = _IG * (2.0 / 3.0 - _IG / 6.0)
ROS3P = RosenbrockTableau(
    name="ROS3P",
    gamma=_G3,
    alpha=np.array([0.0, 1.0, 1.0]),
    gamma_i=np.array([0.7886751345948129, -0.2113248654051871, -1.077350269189626]),
    a=_lower([[_IG], [_IG, 0.0]]),
    c=_lower([[-_IG**2], [-_IG * (1.0 - _T1), _T1]]),
    m=np.array([_IG * (1.0 + _T2), _T2, _IG / 3.0]),
    m_hat=np.array([2.113248654051871, 1.0, 0.4226497308103742]),
    dense=np.zeros((0, 3)),
    order=3,
    embedded_order=2,
    dense_order=2,
    stiffly_accurate=False,
)

TABLEAUS = {t.name: t for t in (RODAS4, RODAS4P, RODAS4P2, RODAS5P, ROS3P)}
