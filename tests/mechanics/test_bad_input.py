"""Bad input to every public entry point of jaxsci.mechanics is refused (DESIGN rule 6).

Tier 1 (shapes, emptiness, static values): `ValueError`/`TypeError` at trace time. Tier 2
(values: NaN/inf, asymmetric or non-positive-definite tensors, parameters out of range):
`ValueError` eagerly, `EquinoxRuntimeError` under `jit` / `vmap` / inside the jitted fits.
Every message names the argument. Data are tiny and compiled functions are shared.
"""

import functools

import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings

from jaxsci import kernels, mechanics as mech
from jaxsci.testing import assert_refuses, mismatched_shapes, non_spd_matrices, spd_matrices, with_nonfinite

MR = mech.MooneyRivlin()
FR = mech.FibreReinforcedMooneyRivlin()
EYE = jnp.eye(3)
NAN = EYE.at[0, 0].set(jnp.nan)
INF = EYE.at[1, 2].set(jnp.inf).at[2, 1].set(jnp.inf)
NONSYM = EYE.at[0, 1].set(0.3)
DETNEG = jnp.diag(jnp.array([-1.0, -0.5, 1.0]))  # det > 0 would hide it from a det-only check
INDEF = jnp.diag(jnp.array([1.0, -0.5, 1.0]))
E1 = jnp.array([1.0, 0.0, 0.0])
GNAN = E1.at[1].set(jnp.nan)
I_OK = jnp.array([3.0, 3.0, 1.0])
K = kernels.SquaredExponential(1.0, 1.0)
# The data sizes, kernel and noise of test_gps.py / test_transverse.py's fixed-hyperparameter
# models, so that the fits compiled here (or there) are shared by both files.
FIXED = dict(kernel=K, fit_hyperparameters=False, noise=1e-8)


@pytest.fixture(scope="module")
def iso():
    Bs = mech.sample_finger_tensors(12, key=jr.key(0), low=1.0, high=1.5)
    S = jax.vmap(lambda B: mech.cauchy_stress(MR, B))(Bs)
    fits = {
        "tb": mech.fit_tbgp(Bs, S, **FIXED).value,
        "cg": mech.fit_component_gp(Bs, S, **FIXED).value,
        "se": mech.fit_strain_energy_gp(Bs, S, **FIXED).value,
    }
    return Bs, S, fits


@pytest.fixture(scope="module")
def ti():
    Cs, gs = mech.sample_transverse_deformations(15, key=jr.key(0))
    S = jax.jit(jax.vmap(lambda C, g: mech.transverse_pk2_stress(FR, C, g)))(Cs, gs)
    fits = {
        "ti": mech.fit_transverse_tbgp(Cs, gs, S, **FIXED).value,
        "tc": mech.fit_transverse_component_gp(Cs, gs, S, **FIXED).value,
    }
    return Cs, gs, S, fits


# ------------------------------------------------------------ eager tier 2: pointwise functions
# (case, callable, argument the message must name)
POINTWISE = [
    # NaN / inf
    ("invariants-nan", lambda: mech.invariants(NAN), "`B` contains NaN"),
    ("tensor_basis-inf", lambda: mech.tensor_basis(INF), "`B` contains NaN"),
    ("expand-nan-c", lambda: mech.expand(jnp.array([jnp.nan, 1.0, 1.0]), EYE), "`coefficients`"),
    ("sym_to_vec-nan", lambda: mech.sym_to_vec(NAN), "`A`"),
    ("vec_to_sym-nan", lambda: mech.vec_to_sym(jnp.ones(6).at[2].set(jnp.inf)), "`v`"),
    ("require_spd-nan", lambda: mech.require_spd(NAN), "`B` contains NaN"),
    ("extract-nan-sigma", lambda: mech.extract_coefficients(EYE, NAN), "`sigma`"),
    ("eigen-nan", lambda: mech.coefficients_from_eigenvalues(jnp.array([1.0, 2.0, jnp.nan]), jnp.ones(3)), "`lam`"),
    ("eigen-nan-s", lambda: mech.coefficients_from_eigenvalues(jnp.arange(3.0), jnp.ones(3).at[0].set(jnp.nan)), "`s`"),
    ("isotropic_function-nan", lambda: mech.isotropic_function(jnp.exp, NAN), "`B`"),
    ("cauchy_stress-nan", lambda: mech.cauchy_stress(MR, NAN), "`B`"),
    ("closed_form-nan", lambda: mech.cauchy_stress_closed_form(MR, NAN), "`B`"),
    ("coef_from_grad-nan", lambda: mech.coefficients_from_energy_gradient(I_OK, jnp.ones(3).at[0].set(jnp.nan)), "`dphi`"),
    ("grad_from_coef-nan", lambda: mech.energy_gradient_from_coefficients(I_OK.at[0].set(jnp.nan), jnp.ones(3)), "`I`"),
    ("mooney_rivlin-call-nan", lambda: MR(I_OK.at[1].set(jnp.nan)), "`I`"),
    ("structure_tensor-nan", lambda: mech.structure_tensor(GNAN), "`g`"),
    ("t_invariants-nan", lambda: mech.transverse_invariants(NAN, E1), "`C`"),
    ("t_expand-nan", lambda: mech.transverse_expand(jnp.ones(6).at[0].set(jnp.nan), EYE, E1), "`coefficients`"),
    ("t_extract-nan-S", lambda: mech.transverse_extract_coefficients(EYE, E1, NAN), "`S`"),
    ("t_pk2-nan", lambda: mech.transverse_pk2_stress(FR, NAN, E1), "`C`"),
    ("t_coef-nan", lambda: mech.transverse_coefficients_from_energy_gradient(jnp.ones(5), jnp.ones(5).at[4].set(jnp.inf)), "`dphi`"),
    ("fibre_mr-call-nan", lambda: FR(jnp.ones(5).at[3].set(jnp.nan)), "`I`"),
    # out of domain
    ("mooney_rivlin-k3", lambda: mech.MooneyRivlin(k3=-10.0), "`k3`"),
    ("mooney_rivlin-k1-nan", lambda: mech.MooneyRivlin(k1=float("nan")), "`k1`"),
    ("mooney_rivlin-k1+k2", lambda: mech.MooneyRivlin(k1=0.0, k2=0.0), "`k1` \\+ `k2`"),
    ("mooney_rivlin-array", lambda: mech.MooneyRivlin(k2=jnp.array(-1.0)), "`k2`"),
    ("fibre_mr-a", lambda: mech.FibreReinforcedMooneyRivlin(a_fibre=0.0), "`a_fibre`"),
    ("fibre_mr-k", lambda: mech.FibreReinforcedMooneyRivlin(k_fibre=-1.0), "`k_fibre`"),
    ("mooney_rivlin-I3", lambda: MR(jnp.array([3.0, 3.0, -1.0])), "I3"),
    ("energy-grad-I3", lambda: mech.energy_gradient_from_coefficients(jnp.array([3.0, 3.0, 0.0]), jnp.ones(3)), "I3"),
    ("eigen-unsorted", lambda: mech.coefficients_from_eigenvalues(jnp.array([3.0, 1.0, 2.0]), jnp.ones(3)), "`lam`.*sorted"),
    ("eigen-tau", lambda: mech.coefficients_from_eigenvalues(jnp.arange(3.0), jnp.ones(3), tau=0.0), "`tau`"),
    ("extract-tau", lambda: mech.extract_coefficients(EYE, EYE, tau=-1.0), "`tau`"),
    ("t_extract-tau", lambda: mech.transverse_extract_coefficients(EYE, E1, EYE, tau=jnp.inf), "`tau`"),
    ("isotropic_function-log", lambda: mech.isotropic_function(jnp.log, INDEF), "`fn`"),
    ("sampler-low", lambda: mech.sample_finger_tensor(key=jr.key(0), low=-1.0), "`low`"),
    ("sampler-inf", lambda: mech.sample_finger_tensors(2, key=jr.key(0), high=float("inf")), "`high`"),
    ("t_sampler-low", lambda: mech.sample_transverse_deformation(key=jr.key(0), low=2.0, high=1.0), "`low`"),
    # problem-specific: asymmetric / not positive definite / not a unit vector
    ("invariants-nonsym", lambda: mech.invariants(NONSYM), "`B` is not symmetric"),
    ("extract-nonsym", lambda: mech.extract_coefficients(NONSYM, EYE), "`B` is not symmetric"),
    ("extract-nonsym-sigma", lambda: mech.extract_coefficients(EYE, NONSYM), "`sigma` is not symmetric"),
    ("sym_to_vec-nonsym", lambda: mech.sym_to_vec(NONSYM), "`A` is not symmetric"),
    ("require_spd-singular", lambda: mech.require_spd(jnp.diag(jnp.array([1.0, 0.0, 2.0]))), "not positive definite"),
    ("cauchy_stress-detneg", lambda: mech.cauchy_stress(MR, DETNEG), "`B` is not positive definite"),
    ("closed_form-indef", lambda: mech.cauchy_stress_closed_form(MR, INDEF), "`B` is not positive definite"),
    ("t_pk2-indef", lambda: mech.transverse_pk2_stress(FR, INDEF, E1), "`C` is not positive definite"),
    ("t_pk2_cf-indef", lambda: mech.transverse_pk2_stress_closed_form(FR, DETNEG, E1), "`C` is not positive definite"),
    ("t_invariants-nonunit", lambda: mech.transverse_invariants(EYE, 2.0 * E1), "`g` is not a unit"),
    ("t_basis-nonsym", lambda: mech.transverse_tensor_basis(NONSYM, E1), "`C` is not symmetric"),
]


@pytest.mark.parametrize("fn, match", [c[1:] for c in POINTWISE], ids=[c[0] for c in POINTWISE])
def test_pointwise_refuses_eagerly(fn, match):
    with pytest.raises(ValueError, match=match):
        fn()


def test_models_refuse(iso, ti):
    Bs, S, m = iso
    _, _, _, t = ti
    cases = [
        (lambda: m["tb"](NONSYM), "`B` is not symmetric"),
        (lambda: m["tb"].coefficients(NAN), "`B` contains NaN"),
        (lambda: m["cg"](NONSYM), "`B` is not symmetric"),
        (lambda: m["se"](DETNEG), "`B` is not positive definite"),
        (lambda: m["se"].energy(jnp.array([3.0, 3.0, -1.0])), "I3"),
        (lambda: t["ti"](NONSYM, E1), "`C` is not symmetric"),
        (lambda: t["ti"].coefficients(EYE, GNAN), "`g`"),
        (lambda: t["tc"](EYE, 3.0 * E1), "`g` is not a unit"),
        (lambda: mech.stress_rmse(m["tb"], Bs, S.at[0, 1, 1].set(jnp.nan)), "`sigmas`"),
    ]
    for fn, match in cases:
        with pytest.raises(ValueError, match=match):
            fn()


# ------------------------------------------------------------ tier 1: shapes, emptiness, statics
def test_shapes_and_empty(iso, ti):
    Bs, S, m = iso
    Cs, gs, Ss, t = ti
    cases = [
        (lambda: mech.invariants(jnp.eye(2)), "`B`.*3x3"),
        (lambda: mech.expand(jnp.ones(2), EYE), "`coefficients`"),
        (lambda: mech.vec_to_sym(jnp.ones(5)), "`v`"),
        (lambda: mech.coefficients_from_energy_gradient(jnp.ones(2), jnp.ones(3)), "`I`"),
        (lambda: mech.energy_gradient_from_coefficients(I_OK, jnp.ones(4)), "`c`"),
        (lambda: MR(jnp.ones(2)), "`I`"),
        (lambda: FR(jnp.ones(3)), "`I`"),
        (lambda: mech.transverse_invariants(EYE, jnp.ones(2)), "`g`"),
        (lambda: mech.isotropic_function(jnp.sum, EYE), "`fn`"),
        (lambda: mech.fit_tbgp(Bs, S[:-1]), "`sigmas`"),
        (lambda: mech.fit_component_gp(Bs[0], S[0]), "`Bs`"),
        (lambda: mech.fit_strain_energy_gp(Bs[:, :2], S[:, :2]), "`Bs`"),
        (lambda: mech.fit_transverse_tbgp(Cs, gs[:-1], Ss), "`gs`"),
        (lambda: mech.fit_transverse_component_gp(Cs, gs, Ss[:, :2]), "`Ss`"),
        (lambda: mech.stress_rmse(m["tb"], Bs, S[:2]), "`sigmas`"),
        (lambda: mech.stress_rmse(m["tb"], Bs[0], S[0]), "`Bs`"),
        (lambda: mech.transverse_stress_rmse(t["ti"], Cs, gs[:2], Ss), "`gs`"),
        (lambda: mech.stress_rmse_trials(mech.fit_tbgp, Bs, S, Bs, S, key=jr.key(0)), "`Bs`"),
        (lambda: mech.stress_rmse_trials(mech.fit_tbgp, Bs[None], S[None], Bs, S[:1], key=jr.key(0)), "`sigmas_test`"),
        (lambda: mech.stress_rmse_trials(mech.fit_tbgp, Bs[None], S[None], Bs, S, key=None), "`key`"),
        (lambda: mech.transverse_stress_rmse_trials(mech.fit_transverse_tbgp, Cs[None], gs[None], Ss[None], Cs, gs[:1], Ss, key=jr.key(0)), "`gs_test`"),
        # empty
        (lambda: mech.fit_tbgp(Bs[:0], S[:0]), "`Bs` is empty"),
        (lambda: mech.fit_component_gp(Bs[:0], S[:0], key=jr.key(0)), "`Bs` is empty"),
        (lambda: mech.fit_strain_energy_gp(Bs[:0], S[:0]), "`Bs` is empty"),
        (lambda: mech.energy_gradient_data(Bs[:0], S[:0]), "`Bs` is empty"),
        (lambda: mech.fit_transverse_tbgp(Cs[:0], gs[:0], Ss[:0]), "`Cs` is empty"),
        (lambda: mech.fit_transverse_component_gp(Cs[:0], gs[:0], Ss[:0]), "`Cs` is empty"),
        (lambda: mech.stress_rmse(m["tb"], Bs[:0], S[:0]), "`Bs` is empty"),
        (lambda: mech.transverse_stress_rmse(t["ti"], Cs[:0], gs[:0], Ss[:0]), "`Cs` is empty"),
        (lambda: mech.stress_rmse_trials(mech.fit_tbgp, Bs[None, :0], S[None, :0], Bs, S, key=jr.key(0)), "`Bs`.*n >= 1"),
        (lambda: mech.transverse_stress_rmse_trials(mech.fit_transverse_tbgp, Cs[:0, None], gs[:0, None], Ss[:0, None], Cs, gs, Ss, key=jr.key(0)), "`Cs`.*t >= 1"),
        # static values
        (lambda: mech.sample_finger_tensors(-1, key=jr.key(0)), "`n`"),
        (lambda: mech.sample_transverse_deformations(-2, key=jr.key(0)), "`n`"),
    ]
    for fn, match in cases:
        with pytest.raises(ValueError, match=match):
            fn()
    for fn, match in [
        (lambda: mech.sample_finger_tensors(2.5, key=jr.key(0)), "`n`"),
        (lambda: mech.sample_rotation(key=jr.key(0), dtype=jnp.int32), "`dtype`"),
        (lambda: mech.sample_symmetric_uniform(key=jr.key(0), dtype=jnp.int32), "`dtype`"),
        (lambda: mech.sample_fibre_direction(key=jr.key(0), dtype=jnp.complex64), "`dtype`"),
        (lambda: mech.FibreReinforcedMooneyRivlin(matrix=None), "`matrix`"),
        (lambda: mech.stress_rmse_trials(mech.fit_tbgp, Bs[None], S[None], Bs, S, key=jr.key(0), sharding="cpu"), "`sharding`"),
    ]:
        with pytest.raises(TypeError, match=match):
            fn()


# ------------------------------------------------------------ tier 2 inside the jitted fits
def test_fits_refuse_bad_values(iso, ti):
    Bs, S, _ = iso
    Cs, gs, Ss, _ = ti
    kw = FIXED
    cases = [
        (lambda: mech.fit_tbgp(Bs.at[0, 0, 1].add(0.3), S, **kw), "`Bs` is not symmetric"),
        (lambda: mech.fit_tbgp(Bs, S.at[1, 0, 0].set(jnp.nan), **kw), "`sigmas` contains NaN"),
        (lambda: mech.fit_tbgp(Bs, S.at[1, 0, 2].add(1.0), **kw), "`sigmas` is not symmetric"),
        (lambda: mech.fit_component_gp(Bs.at[2].set(NAN), S, **kw), "`Bs` contains NaN"),
        (lambda: mech.fit_strain_energy_gp(Bs.at[1].set(DETNEG), S, **kw), "`Bs` is not positive definite"),
        (lambda: mech.energy_gradient_data(Bs, S.at[0].set(INF)), "`sigmas` contains NaN"),
        (lambda: mech.fit_transverse_tbgp(Cs.at[0].set(INDEF), gs, Ss, **kw), "`Cs` is not positive definite"),
        (lambda: mech.fit_transverse_tbgp(Cs, gs.at[1].mul(2.0), Ss, **kw), "`gs` is not a unit"),
        (lambda: mech.fit_transverse_component_gp(Cs, gs, Ss.at[0, 0, 0].set(jnp.nan), **kw), "`Ss` contains NaN"),
    ]
    for fn, match in cases:
        err = assert_refuses(fn, match=match)
        assert isinstance(err, eqx.EquinoxRuntimeError)


# ------------------------------------------------------------ tier 2 under jit and vmap
def _traced_mr(k3):
    return mech.MooneyRivlin(k3=k3)(I_OK)


def _mr_stress(B):
    return mech.cauchy_stress(MR, B)


@functools.cache
def _batched(fn):
    """`jit(vmap(fn))`, one compiled program per function shared by the tests below."""
    return eqx.filter_jit(jax.vmap(fn))


JV = [
    # (name, fn of one array, good input, bad input, match)
    ("require_spd", lambda B: mech.require_spd(B), EYE, DETNEG, "`B` is not positive definite"),
    ("require_spd-nan", lambda B: mech.require_spd(B), EYE, NAN, "`B` contains NaN"),
    ("invariants", mech.invariants, EYE, NONSYM, "`B` is not symmetric"),
    ("cauchy_stress", _mr_stress, EYE, INDEF, "`B` is not positive definite"),
    ("extract", lambda s: mech.extract_coefficients(jnp.diag(jnp.array([1.0, 2.0, 3.0])), s), EYE, NAN, "`sigma`"),
    ("mooney_rivlin-k3", _traced_mr, jnp.array(1.0), jnp.array(-10.0), "`k3`"),
    ("structure_tensor", mech.structure_tensor, E1, 0.5 * E1, "`g` is not a unit"),
    ("t_pk2", lambda C: mech.transverse_pk2_stress(FR, C, E1), EYE, DETNEG, "`C` is not positive definite"),
    ("eigen", lambda lam: mech.coefficients_from_eigenvalues(lam, jnp.ones(3)), jnp.arange(3.0), jnp.array([2.0, 1.0, 0.0]), "`lam`"),
]


@pytest.mark.parametrize("fn, good, bad, match", [c[1:] for c in JV], ids=[c[0] for c in JV])
def test_value_checks_under_jit_and_vmap(fn, good, bad, match):
    batched = _batched(fn)  # one compiled program: jit and vmap together
    assert np.all(np.isfinite(batched(jnp.stack([good, good]))))
    err = assert_refuses(lambda: batched(jnp.stack([good, bad])), match=match)
    assert isinstance(err, eqx.EquinoxRuntimeError)


def test_model_under_jit_and_vmap(iso):
    Bs, _, m = iso
    batched = eqx.filter_jit(jax.vmap(lambda B: m["tb"](B)[0]))
    assert np.all(np.isfinite(batched(Bs[:2])))
    err = assert_refuses(lambda: batched(Bs[:2].at[1].set(NONSYM)), match="`B` is not symmetric")
    assert isinstance(err, eqx.EquinoxRuntimeError)


def test_symmetric_indefinite_is_accepted_where_the_maths_allows():
    """The isotropic tensor functions (section 4.3's matrix exponential) take any symmetric
    tensor; only the hyperelastic functions need positive definiteness. A tensor built as
    F F^T in floating point (asymmetric by round-off) passes the symmetry check."""
    c = mech.extract_coefficients(INDEF + 0.1 * jnp.eye(3).at[0, 0].set(2.0), EYE)
    assert np.all(np.isfinite(c))
    F = jnp.array([[1.1, 0.2, 0.3], [0.0, 0.9, 0.1], [0.05, 0.0, 1.2]]) / 3.0
    B = F @ F.T * 1e3
    B = B.at[0, 1].add(10 * jnp.finfo(B.dtype).eps * jnp.max(jnp.abs(B)))
    assert np.all(np.isfinite(_batched(_mr_stress)(B[None])))


# ------------------------------------------------------------ hypothesis: random bad inputs
_SPD = spd_matrices(3, 0.5, 2.0)


@st.composite
def _bad_case(draw):
    kind = draw(st.sampled_from(["non_spd", "nonfinite", "shape"]))
    if kind == "non_spd":
        return kind, draw(non_spd_matrices(3))
    if kind == "nonfinite":
        return kind, draw(with_nonfinite(draw(_SPD)))
    return kind, draw(mismatched_shapes((4, 3, 3)))




@settings(max_examples=15, deadline=None)
@given(_bad_case())
def test_random_bad_inputs_are_refused(case):
    kind, x = case
    if kind == "non_spd":
        assert_refuses(lambda: _batched(_mr_stress)(jnp.asarray(x)[None]), match="`B` is not (symmetric|positive definite)")
    elif kind == "nonfinite":
        assert_refuses(lambda: _batched(mech.invariants)(jnp.asarray(x)[None]), match="`B` contains NaN")
        assert_refuses(lambda: _batched(_mr_stress)(jnp.asarray(x)[None]), match="`B` contains NaN")
    else:
        Bs = jnp.broadcast_to(EYE, (4, 3, 3))
        assert_refuses(lambda: mech.fit_tbgp(Bs, jnp.zeros(x)), match="`sigmas`")


# ------------------------------------------------------------ models built by hand (issue 16)
@functools.cache
def _post(d, p):
    """A tiny hand-conditioned posterior over `d` inputs with `p` outputs (`None`: one)."""
    from jaxsci import gp

    X = jr.uniform(jr.key(3), (4, d)) + 1.0
    return gp.condition(K, X, jnp.ones((4,) if p is None else (4, p)))


# (case, model class, posterior factory, error type, match)
BY_HAND = [
    ("tb-none", mech.TensorBasisGP, lambda: None, TypeError, "TensorBasisGP: `posterior` must be a jaxsci.gp.Posterior"),
    ("tb-kernel", mech.TensorBasisGP, lambda: K, TypeError, "`posterior` must be a jaxsci.gp.Posterior"),
    # one output: was "Number of tensordot axes exceeds input ranks"
    ("tb-1-output", mech.TensorBasisGP, lambda: _post(3, None), ValueError, "`posterior` must predict the 3 coefficients"),
    # six inputs: was "`Xs` must have shape (m, 6)" (an argument the user never passed)
    ("tb-6-inputs", mech.TensorBasisGP, lambda: _post(6, 6), ValueError, "`posterior` must be conditioned on 3 inputs"),
    # three outputs: was a silent, meaningless stress (clamped indexing of 3 outputs as 6)
    ("cg-3-outputs", mech.ComponentGP, lambda: _post(6, 3), ValueError, "ComponentGP: `posterior` must predict the 6 components"),
    ("cg-3-inputs", mech.ComponentGP, lambda: _post(3, 6), ValueError, "`posterior` must be conditioned on 6 inputs"),
    ("cg-array", mech.ComponentGP, lambda: jnp.ones(3), TypeError, "`posterior`"),
    # three outputs: was "Einstein sum subscript 'ijk' does not contain ..."
    ("se-3-outputs", mech.StrainEnergyGP, lambda: _post(3, 3), ValueError, "StrainEnergyGP: `posterior` must predict one output"),
    ("se-5-inputs", mech.StrainEnergyGP, lambda: _post(5, None), ValueError, "`posterior` must be conditioned on 3 inputs"),
    ("ti-3-inputs", mech.TransverseTensorBasisGP, lambda: _post(3, 6), ValueError, "TransverseTensorBasisGP: `posterior` must be conditioned on 5"),
    ("ti-3-outputs", mech.TransverseTensorBasisGP, lambda: _post(5, 3), ValueError, "`posterior` must predict the 6 coefficients"),
    ("tc-6-inputs", mech.TransverseComponentGP, lambda: _post(6, 6), ValueError, "TransverseComponentGP: `posterior` must be conditioned on 12"),
    ("tc-1-output", mech.TransverseComponentGP, lambda: _post(12, None), ValueError, "`posterior` must predict the 6 components of S"),
]


@pytest.mark.parametrize("cls, make, err, match", [c[1:] for c in BY_HAND], ids=[c[0] for c in BY_HAND])
def test_models_built_by_hand_refuse_bad_posterior(cls, make, err, match):
    with pytest.raises(err, match=match):
        cls(make())


def test_models_built_by_hand_refuse_bad_posterior_under_jit():
    """The posterior's shapes are static: building the model inside `jit` refuses at trace time."""
    f = eqx.filter_jit(lambda post: mech.TensorBasisGP(post)(EYE))
    assert np.all(np.isfinite(f(_post(3, 3))[0]))
    with pytest.raises(ValueError, match="TensorBasisGP: `posterior` must predict"):
        f(_post(3, None))
    with pytest.raises(ValueError, match="ComponentGP: `posterior` must predict"):
        eqx.filter_jit(lambda post: mech.ComponentGP(post)(EYE))(_post(6, 3))


def _hand_models():
    return {
        "tb": mech.TensorBasisGP(_post(3, 3)),
        "cg": mech.ComponentGP(_post(6, 6)),
        "se": mech.StrainEnergyGP(_post(3, None)),
        "ti": mech.TransverseTensorBasisGP(_post(5, 6)),
        "tc": mech.TransverseComponentGP(_post(12, 6)),
    }


def test_models_built_by_hand_refuse_bad_inputs():
    """TensorBasisGP, ComponentGP, StrainEnergyGP, TransverseTensorBasisGP and
    TransverseComponentGP built by hand check their inputs as the fitted ones do."""
    m = _hand_models()
    for name in ("tb", "cg", "se"):
        assert np.all(np.isfinite(m[name](EYE)[0]))
        with pytest.raises(ValueError, match="`B` contains NaN"):
            m[name](NAN)
        with pytest.raises(ValueError, match="`B` is not symmetric"):
            m[name](NONSYM)
        with pytest.raises(ValueError, match="`B` must be one 3x3 tensor"):
            m[name](jnp.stack([EYE, EYE]))
        with pytest.raises(ValueError, match="`B` must be one 3x3 tensor"):
            m[name](jnp.ones(3))
    with pytest.raises(ValueError, match="`B` is not positive definite"):
        m["se"](INDEF)
    with pytest.raises(ValueError, match="`B` contains NaN"):
        m["tb"].coefficients(INF)
    with pytest.raises(ValueError, match="`I`"):
        m["se"].energy(jnp.ones(5))
    with pytest.raises(ValueError, match="`I` contains NaN"):
        m["se"].energy(I_OK.at[0].set(jnp.inf))
    with pytest.raises(ValueError, match="I3"):
        m["se"].energy(jnp.array([3.0, 3.0, 0.0]))
    for name in ("ti", "tc"):
        assert np.all(np.isfinite(m[name](EYE, E1)[0]))
        with pytest.raises(ValueError, match="`C` contains NaN"):
            m[name](NAN, E1)
        with pytest.raises(ValueError, match="`C` is not positive definite"):
            m[name](DETNEG, E1)
        with pytest.raises(ValueError, match="`g` is not a unit"):
            m[name](EYE, 2.0 * E1)
        with pytest.raises(ValueError, match="`g` is not a unit"):
            m[name](EYE, GNAN)
        with pytest.raises(ValueError, match="`g` must have shape \\(3,\\)"):
            m[name](EYE, jnp.ones(2))
        with pytest.raises(ValueError, match="`C` must be one 3x3 tensor"):
            m[name](jnp.eye(2), E1)
    with pytest.raises(ValueError, match="`C` is not symmetric"):
        m["ti"].coefficients(NONSYM, E1)


def test_models_built_by_hand_under_jit_and_vmap():
    m = _hand_models()
    iso = eqx.filter_jit(jax.vmap(lambda mod, B: mod(B)[0], in_axes=(None, 0)))
    for name, bad, match in [("tb", NONSYM, "`B` is not symmetric"), ("cg", NAN, "`B` contains NaN"),
                             ("se", DETNEG, "`B` is not positive definite")]:
        assert np.all(np.isfinite(iso(m[name], jnp.stack([EYE, EYE]))))
        err = assert_refuses(lambda: iso(m[name], jnp.stack([EYE, bad])), match=match)
        assert isinstance(err, eqx.EquinoxRuntimeError)
    err = assert_refuses(lambda: eqx.filter_jit(m["se"].energy)(jnp.array([3.0, 3.0, -1.0])), match="I3")
    assert isinstance(err, eqx.EquinoxRuntimeError)
    ti = eqx.filter_jit(jax.vmap(lambda mod, C, g: mod(C, g)[0], in_axes=(None, 0, 0)))
    Cs, gs = jnp.stack([EYE, EYE]), jnp.stack([E1, E1])
    for name in ("ti", "tc"):
        assert np.all(np.isfinite(ti(m[name], Cs, gs)))
        err = assert_refuses(lambda: ti(m[name], Cs, gs.at[1].mul(0.5)), match="`g` is not a unit")
        assert isinstance(err, eqx.EquinoxRuntimeError)
        err = assert_refuses(lambda: ti(m[name], Cs.at[0].set(INDEF), gs), match="`C` is not positive definite")
        assert isinstance(err, eqx.EquinoxRuntimeError)


# ------------------------------------------- elastoplasticity and loading paths (issue 18, plast)
P1 = mech.Plasticity1D()
P3 = mech.J2Plasticity()


@pytest.mark.parametrize(
    "fn, err, match",
    [
        (lambda: mech.Plasticity1D(E=-1.0), ValueError, "`E` \\(Young's modulus\\) must be finite and > 0"),
        (lambda: mech.Plasticity1D(sigma_y=float("nan")), ValueError, "`sigma_y`"),
        (lambda: mech.Plasticity1D(K=-5.0), ValueError, "`K` .* must be finite and >= 0"),
        (lambda: mech.J2Plasticity(H=-1.0), ValueError, "`H` .*kinematic"),
        (lambda: mech.J2Plasticity(nu=0.5), ValueError, "`nu` \\(Poisson ratio\\)"),
        (lambda: mech.J2Plasticity(nu=jnp.asarray(-1.5)), ValueError, "`nu` \\(Poisson ratio\\)"),
        (lambda: mech.initial_state(MR), TypeError, "`material` of `initial_state` must be a `Plasticity1D`"),
        (lambda: mech.initial_state(P1, dtype=jnp.int32), TypeError, "`dtype`"),
        (lambda: mech.return_map(P1, mech.initial_state(P1), jnp.ones(2)), ValueError, "`strain_new` must be a scalar"),
        (lambda: mech.return_map(P1, mech.initial_state(P1), jnp.nan), ValueError, "`strain_new` contains NaN"),
        (lambda: mech.return_map(P3, mech.initial_state(P3), jnp.ones(3)), ValueError, "`strain_new` must be one 3x3"),
        (lambda: mech.return_map(P3, mech.initial_state(P3), NONSYM), ValueError, "`strain_new` is not symmetric"),
        (lambda: mech.return_map(P3, mech.initial_state(P1), EYE), ValueError, "`state.eps_p` must have shape \\(3, 3\\)"),
        (lambda: mech.return_map(P1, (0.0, 0.0, 0.0), 0.1), TypeError, "`state` must be a `PlasticState`"),
        (lambda: mech.return_map(P1, mech.PlasticState(jnp.zeros(()), jnp.zeros(2), jnp.zeros(())), 0.1),
         ValueError, "`state.alpha` must be a scalar"),
        (lambda: mech.return_map(MR, mech.initial_state(P1), 0.1), TypeError, "`material` of `return_map`"),
        (lambda: mech.stress_path(P1, jnp.ones((3, 2))), ValueError, "`strains` must have shape \\(steps,\\)"),
        (lambda: mech.stress_path(P1, jnp.ones(0)), ValueError, "`strains` must have shape"),
        (lambda: mech.stress_path(P3, jnp.ones((4, 3))), ValueError, "`strains` must have shape \\(steps, 3, 3\\)"),
        (lambda: mech.stress_path(P1, jnp.ones(3).at[1].set(jnp.inf)), ValueError, "`strains` contains NaN"),
        (lambda: mech.stress_path(P3, jnp.stack([EYE, NONSYM])), ValueError, "`strains` are not symmetric"),
        (lambda: mech.stress_path(MR, jnp.ones(3)), TypeError, "`material` of `stress_path`"),
        (lambda: mech.yield_function(P3, jnp.ones(2), mech.initial_state(P3)), ValueError, "`stress` must be one 3x3"),
        (lambda: mech.yield_function(P1, jnp.nan, mech.initial_state(P1)), ValueError, "`stress` contains NaN"),
        (lambda: mech.consistent_tangent(P3, mech.initial_state(P3), NAN), ValueError, "`strain_new` contains NaN"),
        (lambda: mech.consistent_tangent(P1, mech.initial_state(P3), 0.1), ValueError, "`state.eps_p` must have shape \\(\\)"),
        (lambda: mech.random_strain_path(10, key=0), TypeError, "`key` must be a JAX PRNG key"),
        (lambda: mech.random_strain_path(1, key=jr.key(0)), ValueError, "`n_steps` must be an integer >= 2"),
        (lambda: mech.random_strain_path(10, key=jr.key(0), n_segments=2.5), TypeError, "`n_segments` must be a Python int"),
        (lambda: mech.random_strain_path(10, key=jr.key(0), amplitude=0.0), ValueError, "`amplitude`"),
        (lambda: mech.cyclic_strain_path(10, n_cycles=0), ValueError, "`n_cycles` must be an integer >= 1"),
        (lambda: mech.cyclic_strain_path(10, amplitude_end=float("inf")), ValueError, "`amplitude_end`"),
        (lambda: mech.cyclic_strain_path(10.0), TypeError, "`n_steps` must be a Python int"),
    ],
)
def test_plasticity_refuses_bad_input(fn, err, match):
    with pytest.raises(err, match=match):
        fn()


def test_plasticity_refuses_bad_values_under_jit():
    st = mech.initial_state(P3)
    err = assert_refuses(lambda: eqx.filter_jit(lambda e: mech.return_map(P3, st, e)[0])(NONSYM), match="`strain_new` is not symmetric")
    assert isinstance(err, eqx.EquinoxRuntimeError)
    err = assert_refuses(lambda: eqx.filter_jit(lambda e: mech.stress_path(P1, e)[0])(jnp.array([0.1, jnp.nan])),
                         match="`strains` contains NaN")
    assert isinstance(err, eqx.EquinoxRuntimeError)
    err = assert_refuses(lambda: eqx.filter_jit(lambda sy: mech.stress_path(mech.Plasticity1D(sigma_y=sy), jnp.ones(2))[0])(jnp.asarray(-1.0)),
                         match="`sigma_y`")
    assert isinstance(err, eqx.EquinoxRuntimeError)


# --------------------------------------------------------- elastica cantilever (issue 18, plast)
BEAM = mech.Elastica()


@pytest.mark.parametrize(
    "fn, err, match",
    [
        (lambda: mech.Elastica(EI=0.0), ValueError, "`EI` \\(bending stiffness\\) must be finite and > 0"),
        (lambda: mech.Elastica(L=float("nan")), ValueError, "`L` \\(length\\)"),
        (lambda: mech.solve_cantilever(MR, jnp.ones(3)), TypeError, "`beam` of `solve_cantilever` must be an `Elastica`"),
        (lambda: mech.solve_cantilever(BEAM, jnp.ones(2)), ValueError, "`loads` must have shape \\(3,\\)"),
        (lambda: mech.solve_cantilever(BEAM, jnp.ones(3).at[0].set(jnp.nan)), ValueError, "`loads` contains NaN"),
        (lambda: mech.cantilever_shape(BEAM, jnp.ones(3), 1), ValueError, "`n_points` must be an integer >= 2"),
        (lambda: mech.cantilever_shape(BEAM, jnp.ones(4)), ValueError, "`loads` must have shape \\(3,\\)"),
        (lambda: mech.point_cantilever(BEAM, jnp.ones(2)), ValueError, "`target` must have shape \\(3,\\)"),
        (lambda: mech.point_cantilever(BEAM, jnp.array([1.0, 1.0, 0.0])), ValueError, "farther from the clamp"),
        (lambda: mech.point_cantilever(BEAM, jnp.array([0.5, jnp.inf, 0.0])), ValueError, "`target` contains NaN"),
        (lambda: mech.point_cantilever(BEAM, jnp.array([0.9, 0.1, 0.2]), jnp.ones(2)), ValueError, "`loads0` must have shape"),
        (lambda: mech.point_cantilever(BEAM, jnp.array([0.9, 0.1, 0.2]), max_steps=0), ValueError, "`max_steps`"),
    ],
)
def test_elastica_refuses_bad_input(fn, err, match):
    with pytest.raises(err, match=match):
        fn()


# ---------------------------------------------------------------- hexahedral quadrature (quad2)
# Oishi & Yagawa 2017: Gauss-Legendre rules, the trilinear hexahedron, element stiffness,
# the eq. 401 / 402 errors and the Method 1 / 2 labels (jaxsci/mechanics/_hexahedron.py,
# _quadrature.py). Eager calls refuse before any q = 30 reference is computed.

_HEX = jnp.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0],
                  [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], dtype=jnp.float64)
_HEX_MIRRORED = _HEX * jnp.array([[1.0, 1.0, -1.0]])  # det J < 0 everywhere
_HEX_MAT = mech.IsotropicElasticity(1.0, 0.3)
_HEX_KREF = jnp.eye(24)


def test_hex_rules_and_shape_functions_refuse_bad_orders_and_points():
    for fn in (mech.gauss_legendre, mech.tensor_gauss_legendre):
        with pytest.raises(ValueError, match="`q` must be an integer >= 1, got 0"):
            fn(0)
        with pytest.raises(TypeError, match="`q` must be a Python int, got float"):
            fn(2.0)
    for fn in (mech.hex_shape_functions, mech.hex_shape_derivatives):
        with pytest.raises(ValueError, match="`xi` must be one reference point of shape \\(3,\\), got shape \\(4, 3\\)"):
            fn(jnp.zeros((4, 3)))
    with pytest.raises(ValueError, match="`nodes` must be the \\(8, 3\\) nodal coordinates"):
        mech.hex_jacobian(_HEX[:4], jnp.zeros(3))
    with pytest.raises(ValueError, match="`xi` must be one reference point"):
        mech.hex_jacobian(_HEX, jnp.zeros(2))


def test_isotropic_elasticity_refuses_bad_moduli():
    for e, nu in [(-1.0, 0.3), (1.0, 0.5), (1.0, -1.2)]:
        with pytest.raises(ValueError, match="`youngs_modulus` must be > 0 and `poisson_ratio` in \\(-1, 0.5\\)"):
            mech.IsotropicElasticity(e, nu)
    err = assert_refuses(lambda: eqx.filter_jit(lambda nu: mech.IsotropicElasticity(1.0, nu).matrix())(jnp.array(0.6)),
                         match="`poisson_ratio` in \\(-1, 0.5\\)")
    assert isinstance(err, eqx.EquinoxRuntimeError)


def test_element_stiffness_refuses_bad_elements_materials_and_factors():
    with pytest.raises(TypeError, match="`material` must be a `jaxsci.mechanics.IsotropicElasticity`, got MooneyRivlin"):
        mech.element_stiffness(_HEX, MR, 2)
    with pytest.raises(ValueError, match="`weights_factor` must have shape \\(8,\\)"):
        mech.element_stiffness(_HEX, _HEX_MAT, 2, jnp.ones(27))
    with pytest.raises(ValueError, match="`q` must be an integer >= 1"):
        mech.element_stiffness(_HEX, _HEX_MAT, 0)
    with pytest.raises(ValueError, match="`nodes` must be the \\(8, 3\\)"):
        mech.element_stiffness(_HEX.reshape(4, 6), _HEX_MAT, 2)
    for bad in (_HEX_MIRRORED, _HEX.at[6, 2].set(jnp.nan)):
        with pytest.raises(ValueError, match="`nodes` give an inverted or non-finite element"):
            mech.element_stiffness(bad, _HEX_MAT, 2)
        with pytest.raises(ValueError, match="`nodes` give an inverted or non-finite element"):
            mech.point_stiffnesses(bad, _HEX_MAT, 2)
    with pytest.raises(TypeError, match="`material` must be"):
        mech.point_stiffnesses(_HEX, None, 2)
    batched = eqx.filter_jit(jax.vmap(lambda x: mech.element_stiffness(x, _HEX_MAT, 2)))
    assert np.all(np.isfinite(batched(jnp.stack([_HEX, _HEX]))))
    err = assert_refuses(lambda: batched(jnp.stack([_HEX, _HEX_MIRRORED])), match="inverted or non-finite")
    assert isinstance(err, eqx.EquinoxRuntimeError)
    with pytest.raises(ValueError, match="`nodes` must have shape \\(n, 8, 3\\), got shape \\(8, 3\\)"):
        mech.element_stiffnesses(_HEX, _HEX_MAT, 2)
    with pytest.raises(ValueError, match="`chunk_size` must be an integer >= 1"):
        mech.element_stiffnesses(_HEX[None], _HEX_MAT, 2, chunk_size=0)


def test_quadrature_errors_and_labels_refuse_bad_input():
    with pytest.raises(ValueError, match="`K` and `K_ref` must be square matrices of the same size"):
        mech.quadrature_error(jnp.eye(24), jnp.eye(12))
    with pytest.raises(ValueError, match="must have the same shape"):
        mech.quadrature_error(jnp.ones((2, 24, 24)), jnp.eye(24))
    with pytest.raises(ValueError, match="`weights_factor` must have shape \\(8,\\)"):
        mech.error_ratio(_HEX, _HEX_MAT, jnp.ones(7), K_ref=_HEX_KREF)
    with pytest.raises(ValueError, match="`K` and `K_ref` must be square"):
        mech.error_ratio(_HEX, _HEX_MAT, jnp.ones(8), K_ref=jnp.eye(23))
    with pytest.raises(ValueError, match="`nodes` must be the \\(8, 3\\)"):
        mech.error_ratio(_HEX[:7], _HEX_MAT, jnp.ones(8), K_ref=_HEX_KREF)
    with pytest.raises(ValueError, match="`max_order` must be an integer >= 1"):
        mech.quadrature_errors(_HEX, _HEX_MAT, 0, K_ref=_HEX_KREF)
    with pytest.raises(ValueError, match="`K_ref` must have shape \\(24, 24\\), got \\(3, 3\\)"):
        mech.quadrature_errors(_HEX, _HEX_MAT, 2, K_ref=jnp.eye(3))
    with pytest.raises(TypeError, match="`material` must be"):
        mech.quadrature_errors(_HEX, MR, 2, K_ref=_HEX_KREF)
    with pytest.raises(ValueError, match="`nodes` give an inverted or non-finite element"):
        mech.quadrature_errors(_HEX_MIRRORED, _HEX_MAT, 2, K_ref=_HEX_KREF)
    with pytest.raises(ValueError, match="`tol` must be > 0, got -0.001"):
        mech.minimum_order(_HEX, _HEX_MAT, -1e-3, K_ref=_HEX_KREF)


def test_hexahedron_sampling_normalisation_and_search_refuse_bad_input():
    with pytest.raises(ValueError, match="`amplitude` must be in \\(0, 0.5\\)"):
        mech.distorted_hexahedra(jr.key(0), 3, amplitude=0.6)
    with pytest.raises(TypeError, match="`key` must be a JAX PRNG key"):
        mech.distorted_hexahedra(0, 3)
    with pytest.raises(ValueError, match="`n` must be an integer >= 1"):
        mech.distorted_hexahedra(jr.key(0), 0)
    # at amplitude 0.49 most draws fold an element: one try per element cannot succeed for all
    with pytest.raises(ValueError, match="no valid element in 1 tries; lower `amplitude`"):
        mech.distorted_hexahedra(jr.key(0), 64, amplitude=0.49, max_tries=1)
    with pytest.raises(ValueError, match="`nodes`: nodes 0, 1 and 3 must be distinct, finite and not collinear"):
        mech.normalised_coordinates(_HEX.at[1].set(_HEX[0]))
    with pytest.raises(ValueError, match="not collinear"):
        mech.normalised_coordinates(_HEX.at[3].set(2.0 * _HEX[1]))
    with pytest.raises(ValueError, match="finite"):
        mech.normalised_coordinates(_HEX.at[5, 0].set(jnp.inf))
    with pytest.raises(ValueError, match="`nodes` must be the \\(8, 3\\)"):
        mech.normalised_coordinates(_HEX.reshape(-1))
    search = functools.partial(mech.search_correction_factors, _HEX, _HEX_MAT, K_ref=_HEX_KREF)
    with pytest.raises(TypeError, match="`key` must be a JAX PRNG key"):
        search(key=None)
    with pytest.raises(ValueError, match="`num_sets` must be an integer >= 1"):
        search(key=jr.key(0), num_sets=0)
    for spread, shrink in [(-0.01, 0.5), (0.01, 1.5), (0.01, 0.0)]:
        with pytest.raises(ValueError, match="`spread` must be > 0 and `shrink` in \\(0, 1\\]"):
            search(key=jr.key(0), spread=spread, shrink=shrink)
    with pytest.raises(TypeError, match="`material` must be"):
        mech.search_correction_factors(_HEX, MR, key=jr.key(0))
