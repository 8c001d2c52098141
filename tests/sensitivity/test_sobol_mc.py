"""Monte-Carlo Sobol indices: SALib on the same samples (to 1e-10, CIs included), analytic
Ishigami / G-function indices at the expected rate, many outputs, jit, grad, sharding."""

import warnings

import hypothesis
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from jax.test_util import check_grads
from SALib.analyze import sobol as salib_sobol

import jaxsci.sensitivity as se

PI = np.pi
A_ISH, B_ISH = 7.0, 0.1
G_A = np.array([0.0, 1.0, 9.0])  # G-function coefficients: x1 important, x3 nearly inert


def ishigami(x):
    return jnp.sin(x[0]) + A_ISH * jnp.sin(x[1]) ** 2 + B_ISH * x[2] ** 4 * jnp.sin(x[0])


def g_function(u):
    return jnp.prod((jnp.abs(4 * u - 2) + G_A) / (1 + G_A))


def three_outputs(u):
    """Ishigami, an affine copy of it, and the G-function, all of u in [0, 1]^3."""
    f = ishigami(2 * PI * u - PI)
    return jnp.stack([f, 1e3 * f + 5.0, g_function(u)])


def _ishigami_indices():
    v = A_ISH**2 / 8 + B_ISH * PI**4 / 5 + B_ISH**2 * PI**8 / 18 + 0.5
    v1, v2, v13 = 0.5 * (1 + B_ISH * PI**4 / 5) ** 2, A_ISH**2 / 8, 8 * B_ISH**2 * PI**8 / 225
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def _g_indices():
    vi = 1 / (3 * (1 + G_A) ** 2)
    v = np.prod(1 + vi) - 1
    return vi / v, vi * np.prod(1 + vi) / (1 + vi) / v, np.outer(vi, vi) / v


ISH_S1, ISH_ST = _ishigami_indices()
G_S1, G_ST, G_S2 = _g_indices()
PROBLEM = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[0.0, 1.0]] * 3}
N, R = 512, 20
_design = {so: se.saltelli_sample(N, 3, key=jr.key(0), second_order=so) for so in (False, True)}
_y = {so: jax.vmap(three_outputs)(x) for so, x in _design.items()}
np.random.seed(11)
RESAMPLES = np.random.randint(N, size=(N, R))  # SALib's draw after seeding


@pytest.mark.parametrize("second_order", [False, True])
def test_equals_salib_on_the_same_samples(second_order):
    y = np.asarray(_y[second_order])
    ours = se.saltelli_indices(
        y, 3, second_order=second_order, resample_indices=RESAMPLES
    )
    iu = np.triu_indices(3, 1)
    for k in range(y.shape[1]):
        np.random.seed(11)  # SALib then draws RESAMPLES again
        ref = salib_sobol.analyze(PROBLEM, y[:, k], calc_second_order=second_order, num_resamples=R)
        for salib_name, ours_name in [("S1", "first_order"), ("ST", "total"),
                                      ("S1_conf", "first_order_conf"), ("ST_conf", "total_conf")]:
            np.testing.assert_allclose(getattr(ours, ours_name)[k], ref[salib_name], rtol=0, atol=1e-10)
        if second_order:
            np.testing.assert_allclose(ours.second_order[k][iu], ref["S2"][iu], rtol=0, atol=1e-10)
            np.testing.assert_allclose(ours.second_order_conf[k][iu], ref["S2_conf"][iu], atol=1e-10)
            np.testing.assert_array_equal(ours.second_order[k], ours.second_order[k].T)
    np.testing.assert_allclose(ours.first_order[1], ours.first_order[0], atol=1e-12)  # affine copy
    assert ours.mean.shape == ours.variance.shape == (3,)
    np.testing.assert_allclose(ours.mean[0], A_ISH / 2, rtol=0.05)
    # and near the analytic values already at N = 512
    np.testing.assert_allclose(ours.first_order[0], ISH_S1, atol=0.05)
    np.testing.assert_allclose(ours.first_order[2], G_S1, atol=0.01)
    np.testing.assert_allclose(ours.total[2], G_ST, atol=0.01)
    if second_order:
        np.testing.assert_allclose(ours.second_order[2], G_S2 - np.diag(np.diag(G_S2)), atol=0.02)


def _saltelli_layout(a, b):
    d = a.shape[1]
    eye = jnp.eye(d, dtype=bool)[None]
    rows = [a[:, None], jnp.where(eye, b[:, None], a[:, None]), b[:, None]]
    return jnp.concatenate(rows, axis=1).reshape(-1, d)


LOG2_N = (9, 11, 13)


@jax.jit
@jax.vmap
def _errors(key):
    """RMS error of (S1, ST) of Ishigami and G at N = 2^9, 2^11, 2^13, for one scrambled
    Sobol' design and one plain Monte-Carlo design (the first 2^m base samples of one design
    are themselves a design of size 2^m)."""
    k_sobol, k_mc = jr.split(key)
    n_max = 2 ** LOG2_N[-1]
    u = jr.uniform(k_mc, (n_max, 6))
    designs = {"sobol": se.saltelli_sample(n_max, 3, key=k_sobol), "mc": _saltelli_layout(u[:, :3], u[:, 3:])}
    exact_s1 = jnp.stack([jnp.asarray(ISH_S1), jnp.asarray(G_S1)])
    exact_st = jnp.stack([jnp.asarray(ISH_ST), jnp.asarray(G_ST)])
    out = {}
    for name, x in designs.items():
        y = jax.vmap(three_outputs)(x)[:, jnp.array([0, 2])]
        errs = []
        for m in LOG2_N:
            s = se.saltelli_indices(y[: 2**m * 5], 3)
            e = jnp.concatenate([s.first_order - exact_s1, s.total - exact_st], axis=1)
            errs.append(jnp.sqrt(jnp.mean(e**2, axis=1)))  # (2 functions,)
        out[name] = jnp.stack(errs)  # (3 sizes, 2 functions)
    return out


def test_converge_to_analytic_indices_at_the_expected_rate():
    errs = _errors(jr.split(jr.key(3), 16))
    for name, bound in [("mc", (-0.8, -0.3)), ("sobol", (-2.0, -0.3))]:
        rms = np.sqrt(np.mean(np.asarray(errs[name]) ** 2, axis=0))  # over scrambles: (3, 2)
        for f in range(2):  # Ishigami, G
            slope = np.polyfit(np.array(LOG2_N) * np.log(2), np.log(rms[:, f]), 1)[0]
            assert bound[0] <= slope <= bound[1], (name, f, slope, rms[:, f])
        assert np.all(rms[-1] < (0.02 if name == "mc" else 0.005)), (name, rms)
    # measured (16 scrambles, 4 seeds): Monte-Carlo slopes -0.45 .. -0.66 (N^-1/2); scrambled
    # Sobol' -0.98 .. -1.41 (randomised QMC converges faster on these smooth integrands)


def test_many_outputs_shapes_and_output_chunks():
    # (many outputs == one output at a time: the SALib test checks each column of a 3-output y)
    y = np.asarray(_y[False])
    yt = np.stack([y, 2 * y - 1], axis=-1)  # output shape (3, 2)
    kw = dict(key=jr.key(9), num_resamples=10)
    many = se.saltelli_indices(yt, 3, **kw)
    chunked = se.saltelli_indices(yt, 3, output_chunk_size=4, **kw)  # 6 = 4 + 2 outputs
    assert many.first_order.shape == many.total_conf.shape == (3, 2, 3)
    assert many.mean.shape == (3, 2) and many.second_order is None
    for a, b in zip(jax.tree.leaves(many), jax.tree.leaves(chunked)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)
    # the same key gives the same resamples for every output: affine copies agree exactly
    for a in jax.tree.leaves(many):
        if a.shape[-1] == 3:
            np.testing.assert_allclose(a[:, 1], a[:, 0], rtol=1e-12, atol=1e-13)


def test_jit_equals_eager_and_constant_output_is_zero():
    y = np.asarray(_y[False])[: 16 * 5, 0]
    kw = dict(resample_indices=RESAMPLES[:16, :4] % 16)
    direct = se.saltelli_indices(y, 3, **kw)
    inside = jax.jit(lambda y: se.saltelli_indices(y, 3, **kw))(y)  # inside a user's jit
    for a, b in zip(jax.tree.leaves(direct), jax.tree.leaves(inside)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    single = se.saltelli_indices(y.astype(np.float32), 3, **kw)  # float32 works too
    assert single.first_order.dtype == single.total_conf.dtype == jnp.float32
    np.testing.assert_allclose(single.total, direct.total, atol=1e-5)
    flat = se.saltelli_indices(np.full(16 * 5, 3.0), 3, **kw)
    for leaf in (flat.first_order, flat.total, flat.first_order_conf, flat.variance):
        np.testing.assert_array_equal(leaf, 0.0)
    np.testing.assert_allclose(flat.mean, 3.0)
    assert flat.mean.shape == () and flat.first_order.shape == (3,)  # a scalar output


def test_grad_of_indices_wrt_model_values():
    y0 = jnp.asarray(_y[False])[: 8 * 5, 0]
    w = jnp.arange(1.0, 4.0)

    def f(y):
        s = se.saltelli_indices(y, 3)
        return jnp.sum(w * s.first_order) + jnp.sum(w**2 * s.total)

    check_grads(f, (y0,), order=1, modes=["rev"], eps=1e-6)


def _series(x):
    """A time-series model (5 outputs): x1 matters early, x2 late."""
    t = jnp.linspace(0.0, 1.0, 5)
    return (1 - t) * jnp.sin(PI * x[0]) + t * x[1] ** 2 + 0.1 * x[0] * x[2]


def test_sobol_analysis_chunked_and_sharded_equal_plain():
    bounds = jnp.array([[0.0, 1.0], [0.0, 2.0], [-1.0, 1.0]])
    kw = dict(key=jr.key(4), num_resamples=8)
    plain = se.sobol_analysis(_series, 64, bounds, **kw)
    mesh = Mesh(np.array(jax.devices()), ("x",))
    sharded = se.sobol_analysis(
        _series, 64, bounds, chunk_size=50, sharding=NamedSharding(mesh, PartitionSpec("x")), **kw
    )
    for a, b in zip(jax.tree.leaves(plain), jax.tree.leaves(sharded)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert plain.first_order.shape == (5, 3) and plain.total_conf.shape == (5, 3)
    # over time: x1 dominates at t = 0, x2 at t = 1
    assert plain.first_order[0, 0] > 0.9 and plain.first_order[-1, 1] > 0.9


Y_SMALL = np.asarray(_y[False])[: 32 * 5, 0]
_indices_small = jax.jit(lambda y: se.saltelli_indices(y, 3, resample_indices=RESAMPLES[:32, :5] % 32))


@hypothesis.settings(max_examples=10, deadline=None)
@hypothesis.given(
    scale=st.floats(1e-3, 1e3) | st.floats(-1e3, -1e-3), shift=st.floats(-1e3, 1e3)
)
def test_indices_invariant_under_affine_output_maps(scale, shift):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _indices_small(Y_SMALL)
        got = _indices_small(scale * Y_SMALL + shift)
    for name in ("first_order", "total", "first_order_conf", "total_conf"):
        np.testing.assert_allclose(getattr(got, name), getattr(ref, name), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(got.variance, scale**2 * ref.variance, rtol=1e-8)
