r"""Trainability theory of Shin & Karniadakis (2020): Theorems 1-3, Corollary 1, Lemmas 3-6.

* Born-dead probability of a first-layer neuron with random bias (Lemma 3 / Theorem 1),
  $$\hat p_d(r) = \frac{\Gamma(\frac{d+1}{2})}{\sqrt\pi\,\Gamma(\frac d2)}
    \int_0^{\alpha_r} \sin^{d-1}u\,du = \tfrac12 I_{\sin^2\alpha_r}(\tfrac d2, \tfrac12),
    \qquad \alpha_r = \tan^{-1}(1/r),$$
  ($I$ the regularised incomplete beta function), its bounds (D.2), the binomial law of the
  active count $m_1 \sim B(n, 1 - \hat p_d)$ (Lemma 5), the trainability
  $\sum_{j \ge m}\binom nj (1-\hat p)^j \hat p^{n-j}$ and the expected active count
  $n(1 - \hat p_d)$ with Theorem 1's lower bound $n[1 - \sqrt{d/2\pi}\,\alpha_r
  \sin^{d-1}\alpha_r]$.
* Theorem 2's condition (4) and Corollary 1's upper bound (zero bias, $d_\text{in} = 1$).
* The second-layer stochastic matrix $P_2$ of Lemma 6 (four initialisation pairs, $d_\text{in}
  = 1$) and the depth-3 trainability of Theorem 3 evaluated exactly from the multinomial law
  of (active, tentatively dead, permanently dead) second-layer neurons (proof of Theorem 3).

Note on Theorem 3: the paper replaces the permanent-death probability $p_{2,b}$ by the
lower bound $2^{-k-1}$, which *over*-estimates the trainability (fewer permanently dead
neurons). The exact value, used here by default, is $p_{2,b} = \Pr(w \le 0, b \le 0) =
2^{-n_1-1}$ with bias in layer 2 and $2^{-n_1}$ without (weights of layer 2 are independent
of layer 1 and permanent death implies death). Pass `permanent_probability` to reproduce the
paper's expression.
"""

import math

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import betainc, ndtr
from jaxtyping import Array, Float

from .._checks import check_value, is_concrete
from ..init import AbstractReLUInit, NormalInit, UnitHypersphereInit
from ._states import check_radius

__all__ = [
    "born_dead_probability",
    "born_dead_probability_bounds",
    "first_layer_active_distribution",
    "trainability_shallow",
    "expected_active",
    "expected_active_lower_bound",
    "theorem2_condition",
    "corollary1_bound",
    "second_layer_transition",
    "trainability_depth3",
]


def _alpha(r):
    return jnp.arctan(1.0 / jnp.asarray(r, dtype=jnp.result_type(float)))


def _int(v, name: str, minimum: int = 1) -> int:
    """A static integer (ints, NumPy ints and integral floats) `>= minimum`."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer, float, np.floating)):
        raise TypeError(f"`{name}` must be an int, got {type(v).__name__} ({v!r}).")
    if not np.isfinite(v) or int(v) != v or v < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {v!r}.")
    return int(v)


def _probability(p, name: str, lo_open: bool = False, hi_open: bool = False):
    concrete = is_concrete(p)
    xp = np if concrete else jnp
    arr = xp.asarray(p)
    bad = ~xp.isfinite(arr) | ((arr <= 0) if lo_open else (arr < 0)) | (
        (arr >= 1) if hi_open else (arr > 1)
    )
    want = f"{'(' if lo_open else '['}0, 1{')' if hi_open else ']'}"
    got = f"{p}" if concrete else "a bad value"
    out = check_value(arr, bad, f"`{name}` must be a probability in {want}, got {got}.")
    return p if concrete else out


def born_dead_probability(d: int, r: float | Float[Array, ""]) -> Float[Array, ""]:
    r"""$\hat p_d(r)$ of Theorem 1 / Lemma 3: probability that $\phi(w^T x + b)$ with
    $[w, b]$ isotropic (normal with equal variances, or unit hypersphere with bias) is dead on
    $B_r(0) \subset \mathbb{R}^d$.

    **Raises:** `ValueError` / `TypeError` if `d` is not an integer $\ge 1$; `ValueError`
    (eager) / `EquinoxRuntimeError` (traced `r`) if `r` is not finite and > 0."""
    d = _int(d, "d")
    r = check_radius(r)
    s2 = jnp.sin(_alpha(r)) ** 2
    return 0.5 * betainc(d / 2.0, 0.5, s2)


def born_dead_probability_bounds(d: int, r: float) -> tuple[Float[Array, ""], Float[Array, ""]]:
    r"""Bounds (D.2): $\frac{\sin^d\alpha}{\pi d} \le \hat p_d \le
    \sqrt{\frac{d}{2\pi}}\,\alpha\sin^{d-1}\alpha$. Checks as `born_dead_probability`."""
    d = _int(d, "d")
    a = _alpha(check_radius(r))
    return jnp.sin(a) ** d / (jnp.pi * d), math.sqrt(d / (2 * math.pi)) * a * jnp.sin(a) ** (d - 1)


def _binom_pmf(n: int, p) -> Float[Array, " n+1"]:
    p = jnp.asarray(p)
    shape = (1,) * p.ndim + (n + 1,)
    j = np.arange(n + 1).reshape(shape)
    c = jnp.asarray([math.comb(n, i) for i in range(n + 1)], jnp.result_type(float)).reshape(shape)
    p = p[..., None]
    return c * (1 - p) ** j * p ** (n - j)  # Pr(j active) with born-dead prob p


def first_layer_active_distribution(n: int, d: int, r: float, *, with_bias: bool = True):
    r"""$\pi_1$ (Lemma 5): $m_1 \sim B(n, 1 - \hat p_d(r))$ with bias, $\delta_{m_1, n}$
    without. Entry $j$ is $\Pr(m_1 = j)$. `n` must be an integer $\ge 1$; `d`, `r` as in
    `born_dead_probability`."""
    n = _int(n, "n")
    if not with_bias:
        _int(d, "d")
        check_radius(r)
        return jnp.zeros(n + 1).at[n].set(1.0)
    return _binom_pmf(n, born_dead_probability(d, r))


def trainability_shallow(n: int, m: int, d: int, r: float) -> Float[Array, ""]:
    r"""Theorem 1: $\sum_{j=m}^n \binom nj (1-\hat p_d(r))^j \hat p_d(r)^{n-j}$, the
    probability that a width-$n$ shallow network with random bias has $\ge m$ active
    neurons on $B_r(0)$ (it is 1 without bias).

    **Raises:** `ValueError` unless $0 \le m \le n$ are integers; `d`, `r` as in
    `born_dead_probability`."""
    n, m = _int(n, "n"), _int(m, "m", 0)
    if not 0 <= m <= n:
        raise ValueError(f"Need 0 <= m <= n, got m={m}, n={n}.")
    return jnp.sum(first_layer_active_distribution(n, d, r)[m:])


def expected_active(n: int, d: int, r: float) -> Float[Array, ""]:
    r"""$E[m_1] = n(1 - \hat p_d(r))$ (`n` an integer $\ge 1$; `d`, `r` as in
    `born_dead_probability`)."""
    n = _int(n, "n")
    return n * (1 - born_dead_probability(d, r))


def expected_active_lower_bound(n: int, d: int, r: float) -> Float[Array, ""]:
    r"""Theorem 1's bound $n[1 - \sqrt{d/(2\pi)}\,\alpha_r(\sin\alpha_r)^{d-1}]$ (checks as
    `expected_active`)."""
    n = _int(n, "n")
    return n - n * born_dead_probability_bounds(d, r)[1]


def theorem2_condition(m: int, d: int, r: float, delta: float) -> Array:
    r"""Condition (4) of Theorem 2: $1 - (1-\delta)^{1/m} < e^{-C_r d}/(\pi d)$,
    $C_r = -\log\sin\tan^{-1}(1/r)$. When it holds, $\Pr(m_1 = m) = (1 - \hat p)^m < 1 -
    \delta$ for width $m$: overparameterisation is necessary.

    **Raises:** `ValueError` for `m`, `d` not integers $\ge 1$; `ValueError` (eager) /
    `EquinoxRuntimeError` (traced) for `r` not finite and > 0 or `delta` outside $(0, 1)$."""
    m, d = _int(m, "m"), _int(d, "d")
    delta = _probability(delta, "delta", lo_open=True, hi_open=True)
    cr = -jnp.log(jnp.sin(_alpha(check_radius(r))))
    return 1 - (1 - delta) ** (1.0 / m) < jnp.exp(-cr * d) / (jnp.pi * d)


def corollary1_bound(n: int, hidden_layers: int) -> float:
    r"""Corollary 1: upper bound on the trainability of a ReLU network with `hidden_layers`
    $= L$ hidden layers of width $n$, $d_\text{in} = 1$, zero biases, normal weights:
    $a_1^{L-1} - \frac{(1-2^{-n+1})(1-2^{-n})}{1+(n-1)2^{-n}}(a_2^{L-1} - a_1^{L-1})$,
    $a_1 = 1 - 2^{-n}$, $a_2 = 1 - 2^{-n+1} - (n-1)2^{-2n}$ (one minus the born-dead
    probability bound of Lu et al. 2019, Theorem 3). `n` and `hidden_layers` must be
    integers $\ge 1$ (`ValueError` / `TypeError`)."""
    n, hidden_layers = _int(n, "n"), _int(hidden_layers, "hidden_layers")
    a1 = 1 - 2.0**-n
    a2 = 1 - 2.0 ** (-n + 1) - (n - 1) * 2.0 ** (-2 * n)
    c = (1 - 2.0 ** (-n + 1)) * (1 - 2.0**-n) / (1 + (n - 1) * 2.0**-n)
    e = hidden_layers - 1
    return a1**e - c * (a2**e - a1**e)


def _isotropic_with_bias(s: AbstractReLUInit) -> bool:
    if isinstance(s, UnitHypersphereInit):
        return s.with_bias
    if isinstance(s, NormalInit):
        return s.with_bias and (s.bias_variance is None or s.bias_variance == s.variance)
    return False


def _gl(a, b, n=96):
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (b - a) * x + 0.5 * (b + a), 0.5 * (b - a) * w


def _p2_atoms(first, second, n1, r):
    """Born-dead probability of a layer-2 neuron given m_1 = k, as atoms {k: (weights, p)}."""
    r = float(r)
    second_bias = _isotropic_with_bias(second)
    if not second_bias and second.with_bias:
        raise ValueError("Lemma 6 needs layer-2 bias variance equal to its weight variance.")
    if not first.with_bias:
        if not second_bias:  # Lemma 6, case 1: only signs matter
            same = 2.0 ** (1 - n1)
            return {n1: (np.array([same, 1 - same]), np.array([0.5, 0.25]))}
        if not isinstance(first, UnitHypersphereInit):
            raise ValueError("Lemma 6 case 2 needs the unit hypersphere (3) first layer.")
        # Neuron a*phi(x) + c*phi(-x) + b with a ~ N(0, s), c ~ N(0, n1 - s), b ~ N(0, 1)
        # (sums of s resp. n1 - s unit-variance weights); dead on [-r, r] iff b <= 0,
        # a r + b <= 0 and c r + b <= 0, so with b = -t:
        #   p2(s) = int_0^inf phi(t) Phi(t / (r sqrt s)) Phi(t / (r sqrt(n1 - s))) dt.
        # (The closed form printed in Lemma 6 does not match Monte Carlo; this one does.)
        s = np.arange(n1 + 1)
        ws = np.array([math.comb(n1, int(i)) for i in s]) / 2.0**n1
        t, wt = _gl(0.0, 12.0, 400)
        dens = np.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)
        ps = []
        for si in s:
            f = dens.copy()
            for k in (si, n1 - si):
                if k > 0:
                    f = f * np.asarray(ndtr(jnp.asarray(t / (r * math.sqrt(k)))))
            ps.append(float(np.sum(wt * f)))
        return {n1: (ws, np.array(ps))}
    if n1 != 1:
        raise ValueError(f"Lemma 6 with a biased first layer needs n1 = 1, got n1 = {n1}.")
    if not second_bias:  # case 3
        return {1: (np.array([1.0]), np.array([0.5]))}
    if not isinstance(first, UnitHypersphereInit):
        raise ValueError("Lemma 6 case 4 needs the unit hypersphere (3) first layer.")
    ar = math.atan(r)
    c = math.sqrt(r * r + 1)
    g = lambda x: np.arctan2(1.0, c * np.cos(x))  # noqa: E731
    lo_t, lo_w = _gl(0.0, math.pi / 2 - ar, 200)
    hi_t, hi_w = _gl(math.pi / 2 - ar, math.pi / 2 + ar, 200)
    p_lo = 0.25 + (g(lo_t - ar) + np.arctan(c * np.cos(lo_t + ar))) / (2 * math.pi)
    p_hi = 0.25 + g(hi_t - ar) / (2 * math.pi)
    total = math.pi / 2 + ar  # omega ~ Unif(0, pi/2 + alpha_r)
    return {1: (np.concatenate([lo_w, hi_w]) / total, np.concatenate([p_lo, p_hi]))}


def _check_depth3_args(first, second, n1, n2, r):
    for name, v in (("first", first), ("second", second)):
        if not isinstance(v, AbstractReLUInit):
            raise TypeError(
                f"`{name}` must be a jaxsci.init ReLU scheme (e.g. UnitHypersphereInit()), got "
                f"{type(v).__name__}."
            )
    if not is_concrete(r):
        raise TypeError("`r` must be a concrete number here (the quadrature runs on the host).")
    check_radius(r)
    return _int(n1, "n1"), _int(n2, "n2")


def second_layer_transition(
    first: AbstractReLUInit, second: AbstractReLUInit, n1: int, n2: int, r: float
) -> Float[Array, "n1+1 n2+1"]:
    r"""$P_2$ of Lemma 6 ($d_\text{in} = 1$): $(P_2)_{k+1, j+1} = \Pr(m_2 = j \mid m_1 = k)
    = E[\binom{n_2}{j}(1 - p_2)^j p_2^{n_2 - j}]$. Rows of unreachable or all-dead first
    layers are $[1, 0, \dots, 0]$. Supported pairs (first, second): unit hypersphere / normal
    without bias followed by normal or unit hypersphere without bias (case 1); unit
    hypersphere without bias followed by an isotropic biased layer (case 2); for $n_1 = 1$ a
    biased first layer followed by a bias-free (case 3) or biased (case 4, unit-hypersphere
    first layer) second layer.

    **Raises:** `TypeError` if `first` / `second` are not `jaxsci.init` ReLU schemes;
    `ValueError` for `n1`, `n2` not integers $\ge 1$, `r` not finite and > 0, or an
    unsupported pair."""
    n1, n2 = _check_depth3_args(first, second, n1, n2, r)
    atoms = _p2_atoms(first, second, n1, r)
    rows = []
    for k in range(n1 + 1):
        if k in atoms:
            w, p = atoms[k]
            rows.append(jnp.sum(jnp.asarray(w)[:, None] * _binom_pmf(n2, jnp.asarray(p)), axis=0))
        else:
            rows.append(jnp.zeros(n2 + 1).at[0].set(1.0))
    return jnp.stack(rows)


def trainability_depth3(
    first: AbstractReLUInit,
    second: AbstractReLUInit,
    n1: int,
    n2: int,
    m1: int,
    m2: int,
    r: float,
    *,
    permanent_probability: float | None = None,
) -> Float[Array, ""]:
    r"""Theorem 3: trainability of a $(1, n_1, n_2, n_3)$ network on $[-r, r]$,
    $\Pr(m_1 \ge \underline m_1, m_2 \ge 1, d^b_2 \le n_2 - \underline m_2)$, computed as in
    its proof: given the first layer, second-layer neurons are i.i.d. active / tentatively
    dead / permanently dead with probabilities $(1 - p_2, p_2 - p_{2,b}, p_{2,b})$.

    `permanent_probability` overrides $p_{2,b}$ (exact by default, see the module note);
    `2.0 ** -(n1 + 1)` reproduces the expression printed in the paper.

    **Raises:** as `second_layer_transition`; `ValueError` unless $1 \le m_1 \le n_1$,
    $1 \le m_2 \le n_2$ and `permanent_probability` is in $[0, 1]$."""
    n1, n2 = _check_depth3_args(first, second, n1, n2, r)
    m1, m2 = _int(m1, "m1"), _int(m2, "m2")
    if permanent_probability is not None:
        if not is_concrete(permanent_probability):
            raise TypeError("`permanent_probability` must be a concrete float.")
        _probability(permanent_probability, "permanent_probability")
    if not (1 <= m1 <= n1 and 1 <= m2 <= n2):
        raise ValueError(f"Need 1 <= m1 <= n1 and 1 <= m2 <= n2; got {(m1, n1, m2, n2)}.")
    atoms = _p2_atoms(first, second, n1, r)
    pi1 = first_layer_active_distribution(n1, 1, r, with_bias=first.with_bias)
    if permanent_probability is None:
        pb = 2.0 ** (-n1 - 1) if second.with_bias else 2.0**-n1
    else:
        pb = float(permanent_probability)
    total = 0.0
    for k in range(m1, n1 + 1):
        if k not in atoms:
            continue
        w, p = (jnp.asarray(a) for a in atoms[k])
        inner = jnp.sum(_binom_pmf(n2, p)[:, m2:], axis=1)
        for j in range(1, m2):
            for l in range(0, n2 - m2 + 1):
                if n2 - j - l < 0:
                    continue
                coef = math.factorial(n2) / (
                    math.factorial(j) * math.factorial(l) * math.factorial(n2 - j - l)
                )
                inner = inner + coef * (1 - p) ** j * jnp.maximum(p - pb, 0) ** (n2 - j - l) * pb**l
        total = total + pi1[k] * jnp.sum(w * inner)
    return jnp.asarray(total)
