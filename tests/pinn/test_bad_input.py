"""Bad input to every public entry point of `jaxsci.pinn` gives a clear error (DESIGN rule 6):
tier 1 `ValueError`/`TypeError` at trace time, tier 2 `check_value` (a `ValueError` eagerly,
`EquinoxRuntimeError` under `jit` / `vmap`)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from jaxsci import pinn
from jaxsci.testing import assert_refuses, mismatched_shapes, with_nonfinite

K = jr.key(0)
NET = eqx.nn.MLP(2, "scalar", 4, 1, activation=jnp.tanh, key=K)
NET3 = eqx.nn.MLP(3, "scalar", 4, 1, activation=jnp.tanh, key=K)
PROB = pinn.RiemannProblem(pinn.BrooksCoreyFlux())
BATCH = pinn.sample_collocation(PROB, key=K, n_interior=8, n_constraint=4)
ARGS = pinn.PINNArgs(PROB, BATCH)
NAN = float("nan")
PB = dict(positions=jnp.zeros((1, 3)), charges=jnp.ones(1))


def _with(batch, interior=None, ic_pts=None, ic_vals=None):
    pts, vals = batch.data["ic"]
    data = {**batch.data, "ic": (pts if ic_pts is None else ic_pts,
                                  vals if ic_vals is None else ic_vals)}
    return pinn.Collocation(batch.interior if interior is None else interior, data)


# (call, match): every one must raise ValueError/TypeError naming the argument
EAGER = [
    # fluxes / problems: out of domain, NaN, shape
    (lambda: pinn.BrooksCoreyFlux(-1.0), "`M`.*> 0"),
    (lambda: pinn.ConcaveFlux(NAN), "`M`"),
    (lambda: pinn.ConcaveFlux(jnp.ones(2)), "`M` must be a scalar"),
    (lambda: pinn.RiemannProblem(pinn.ConvexFlux(), -1.0), "`epsilon`.*>= 0"),
    (lambda: pinn.RiemannProblem(pinn.ConvexFlux(), 0.0, NAN), "`u_left`"),
    (lambda: pinn.RiemannProblem(lambda u: u), "`flux`"),
    (lambda: pinn.RiemannProblem(pinn.ConvexFlux(), domain=pinn.Box([0.0], [1.0])), "`domain`"),
    (lambda: pinn.LinearAdvection(float("inf")), "`a0`"),
    (lambda: pinn.LinearAdvection(jnp.ones(2)), "`a0`"),
    (lambda: pinn.LinearAdvection(1.0, initial=3.0), "`initial`"),
    (lambda: pinn.ViscousBurgers(0.0), "`nu`"),
    (lambda: pinn.ViscousBurgers(-1e-3), "`nu`"),
    (lambda: pinn.ViscousBurgers(jnp.inf), "`nu`"),
    (lambda: pinn.ViscousBurgers(n_quad=2), "`n_quad`"),
    (lambda: pinn.ViscousBurgers().exact(jnp.array([0.1, 1.5])), "`x`.*t <= 1"),
    (lambda: pinn.ViscousBurgers().exact(jnp.array([NAN, 0.5])), "`x`"),
    (lambda: pinn.ViscousBurgers().exact(jnp.ones(3)), "`x`.*shape"),
    (lambda: pinn.PoissonBoltzmann(**PB, xi=-1.0), "`xi`"),
    (lambda: pinn.PoissonBoltzmann(**PB, sigma=0.0), "`sigma`"),
    (lambda: pinn.PoissonBoltzmann(**PB, kappa=NAN), "`kappa`"),
    (lambda: pinn.PoissonBoltzmann(jnp.full((1, 3), NAN), jnp.ones(1)), "`positions`"),
    (lambda: pinn.PoissonBoltzmann(jnp.zeros((0, 3)), jnp.ones(0)), "`positions` is empty"),
    (lambda: pinn.PoissonBoltzmann(jnp.zeros((2, 3)), jnp.ones(3)), "`charges`"),
    (lambda: pinn.HardConstraintModel(NET3, lambda x: 0.0, lambda x: 0.0, length=-1.0),
     "`length`"),
    (lambda: pinn.HardConstraintModel(NET3, 1.0, lambda x: 0.0), "`boundary`"),
    # Riemann solutions
    (lambda: pinn.RiemannSolution(pinn.ConvexFlux(), NAN), "`u_left`"),
    (lambda: pinn.RiemannSolution(pinn.ConvexFlux(), jnp.ones(3)), "`u_left` must be a scalar"),
    (lambda: pinn.RiemannSolution(pinn.ConvexFlux(), n_grid=2), "`n_grid`"),
    (lambda: pinn.RiemannSolution(pinn.ConvexFlux(), newton_steps=-1), "`newton_steps`"),
    (lambda: pinn.RiemannSolution(pinn.ConvexFlux())(jnp.array([0.3, -0.5])), "`point`.*t >= 0"),
    (lambda: pinn.RiemannSolution(pinn.ConvexFlux())(jnp.array([NAN, 0.5])), "`point`"),
    (lambda: pinn.RiemannSolution(pinn.ConvexFlux())(jnp.ones(3)), "`point`.*shape"),
    (lambda: pinn.RiemannSolution(pinn.ConvexFlux()).similarity(jnp.inf), "`xi`"),
    (lambda: pinn.welge_tangent(pinn.ConvexFlux(), 0.5, 0.5), "must differ"),
    (lambda: pinn.welge_tangent(pinn.ConvexFlux(), NAN, 0.0), "`u_left`"),
    (lambda: pinn.welge_tangent(pinn.ConvexFlux(), n_grid=1), "`n_grid`"),
    # sampling
    (lambda: pinn.Box([0.0], [-1.0]), "`upper` must be > `lower`"),
    (lambda: pinn.Box([NAN], [1.0]), "`lower`"),
    (lambda: pinn.Box([], []), "empty"),
    (lambda: pinn.Box([0.0, 0.0], [1.0]), "`lower` and `upper`"),
    (lambda: pinn.Box([0.0], [1.0]).sample(0, key=K), "`n`"),
    (lambda: pinn.Box([0.0], [1.0]).sample(-1, key=K), "`n`"),
    (lambda: pinn.Box([0.0], [1.0]).sample(2.5, key=K), "`n`"),
    (lambda: pinn.Box([0.0], [1.0]).sample(2, key=K, sampler="sobol"), "`sampler`"),
    (lambda: pinn.Box([0.0, 0.0], [1.0, 1.0]).sample_face(-1, 0, 0, key=K), "`n`"),
    (lambda: pinn.Box([0.0, 0.0], [1.0, 1.0]).sample_face(2, 3, 0, key=K), "`axis`"),
    (lambda: pinn.Box([0.0, 0.0], [1.0, 1.0]).sample_boundary(0, key=K), "`n`"),
    (lambda: pinn.Box([0.0, 0.0], [1.0, 1.0]).scale(jnp.ones((3, 3))), "`unit`"),
    (lambda: pinn.Uniform()(-1, 2, key=K), "`n`"),
    (lambda: pinn.LatinHypercube()(4, 0, key=K), "`d`"),
    (lambda: pinn.Sobol(skip=-1), "`skip`"),
    (lambda: pinn.sobol_sequence(0, 2), "`n`"),
    (lambda: pinn.sobol_sequence(4, 11), "`d`"),
    (lambda: pinn.sobol_sequence(4, 2, skip=2**32), "`skip`"),
    # operators: shape mismatches, rank, dtype, axes
    (lambda: pinn.gradient(NET3, jnp.ones(2)), "`f` could not be evaluated at `x`"),
    (lambda: pinn.hessian(NET3, jnp.ones(2)), "`x`"),
    (lambda: pinn.laplacian(NET3, jnp.ones(2)), "`x`"),
    (lambda: pinn.divergence(NET3, jnp.ones(2)), "`x`"),
    (lambda: pinn.partial(NET3, jnp.ones(2), 0), "`x`"),
    (lambda: pinn.time_derivative(NET3, jnp.ones(2)), "`x`"),
    (lambda: pinn.derivatives_1d(NET3, jnp.ones(2)), "`x`"),
    (lambda: pinn.derivatives_1d(NET, jnp.ones(3)), "shape \\(2,\\)"),
    (lambda: pinn.directional_derivative(NET3, jnp.ones(3), jnp.ones(2)), "`v`"),
    (lambda: pinn.second_directional_derivative(NET3, jnp.ones(3), jnp.ones(2)), "`v`"),
    (lambda: pinn.gradient(NET3, jnp.ones((2, 3))), "`x` must be ONE point"),
    (lambda: pinn.gradient(NET3, jnp.ones(3, int)), "`x` must be a floating"),
    (lambda: pinn.gradient(lambda x: x, jnp.ones(3)), "scalar-valued"),
    (lambda: pinn.laplacian(NET3, jnp.ones(3), axes=(5,)), "`axis`"),
    (lambda: pinn.laplacian(NET3, jnp.ones(3), axes=()), "`axes`"),
    # losses
    (lambda: pinn.Collocation(jnp.zeros((0, 2)), {}), "`interior`.*non-empty"),
    (lambda: _with(BATCH, ic_pts=jnp.zeros((0, 2)), ic_vals=jnp.zeros(0)), "`data\\['ic'\\]`"),
    (lambda: _with(BATCH, ic_vals=jnp.zeros(7)), "targets must have shape"),
    (lambda: pinn.sample_collocation(PROB, key=K, n_interior=0, n_constraint=4), "`n_interior`"),
    (lambda: pinn.sample_collocation(PROB, key=K, n_interior=4, n_constraint=-2),
     "`n_constraint`"),
    (lambda: pinn.sample_collocation(PROB, key=K, n_interior=4, n_constraint={"ic": -1}),
     "`n_constraint\\['ic'\\]`"),
    (lambda: pinn.sample_collocation("burgers", key=K, n_interior=4, n_constraint=2),
     "`problem`"),
    (lambda: pinn.PINNArgs(PROB, BATCH, weights={"pde": 1.0}), "`weights` has no entry"),
    (lambda: pinn.PINNArgs(PROB, BATCH, weights={"pde": 1.0, "ic": 1.0, "bc": -1.0}),
     "`weights\\['bc'\\]`"),
    (lambda: pinn.PINNArgs(PROB, BATCH, weights={"pde": 1.0, "ic": 1.0, "bc": 1.0, "x": 1.0}),
     "not loss terms"),
    (lambda: pinn.PINNArgs(PROB, BATCH, chunk_size=0), "`chunk_size`"),
    (lambda: pinn.PINNArgs(PROB, "batch"), "`batch`"),
    (lambda: pinn.pinn_loss(NET, pinn.PINNArgs(PROB, _with(BATCH, BATCH.interior.at[0, 1].set(NAN)))),
     "`batch.interior` contains NaN"),
    (lambda: pinn.pinn_loss(NET, pinn.PINNArgs(PROB, _with(BATCH, ic_vals=jnp.full(2, jnp.inf)))),
     "targets` contains NaN"),
    (lambda: pinn.loss_terms(NET, PROB, _with(BATCH, jnp.zeros((4, 3)))), "`data\\['ic'\\]`"),
    (lambda: pinn.residuals(NET, PROB, jnp.zeros((4, 3))), "`points`"),
    (lambda: PROB.residual_mse(NET, jnp.zeros((0, 2))), "`points` must be a non-empty"),
    (lambda: pinn.weighted_sum({"a": jnp.array(1.0)}, {"a": NAN}), "`weights`"),
    (lambda: pinn.weighted_sum({"a": jnp.array(1.0)}, {"a": -1.0}), "`weights`"),
    (lambda: pinn.weighted_sum({"a": jnp.array(1.0)}, {}), "`weights` has no entry"),
    (lambda: pinn.weighted_sum({}, {}), "`terms` is empty"),
    (lambda: pinn.balance_weights(NET, ARGS, alpha=1.5), "`alpha`"),
    (lambda: pinn.balance_weights(NET, ARGS, reference="zzz"), "`reference`"),
    (lambda: pinn.eq16_weights("batch"), "`batch` must be a Collocation"),   # was AttributeError
    (lambda: pinn.eq16_weights(ARGS), "`batch` must be a Collocation"),
    (lambda: pinn.resample("args", key=K), "`args` must be a PINNArgs"),    # was AttributeError
    (lambda: pinn.resample(ARGS, key=0), "`key` must be a JAX PRNG key"),
    (lambda: pinn.resample(ARGS, key=jnp.ones(3)), "`key` must be a JAX PRNG key"),
    (lambda: pinn.resample(ARGS, key=K, sampler="sobol"), "`sampler`"),
    # Burgers' flux: no parameters; its states are checked by what is built on it
    (lambda: pinn.BurgersFlux(1.0), "BurgersFlux"),
    (lambda: pinn.BurgersFlux().derivative("u"), "`u`"),
    (lambda: pinn.RiemannProblem(pinn.BurgersFlux(), 0.0, NAN), "`u_left`"),
    (lambda: pinn.RiemannSolution(pinn.BurgersFlux(), jnp.inf), "`u_left`"),
    (lambda: pinn.welge_tangent(pinn.BurgersFlux(), 0.5, 0.5), "must differ"),
    # landscape
    (lambda: pinn.filter_normalized_direction(lambda x: x, key=K), "`model`"),
    (lambda: pinn.loss_surface(_L, NET, D, D, jnp.ones((2, 2)), jnp.ones(2)), "`alphas`"),
    (lambda: pinn.loss_surface(_L, NET, D, D, jnp.ones(0), jnp.ones(2)), "non-empty"),
    (lambda: pinn.loss_surface(_L, NET, D, D, jnp.array([NAN]), jnp.ones(2)), "`alphas`"),
    (lambda: pinn.loss_surface(_L, NET, D, D3, jnp.ones(2), jnp.ones(2)), "`direction2`"),
    (lambda: pinn.loss_surface(_L, NET, D, D, jnp.ones(2), jnp.ones(2), batch_size=0),
     "`batch_size`"),
    (lambda: pinn.loss_surface(lambda m: jnp.ones(3), NET, D, D, jnp.ones(2), jnp.ones(2)),
     "`loss\\(model\\)` must return a scalar"),
    (lambda: pinn.plot_loss_surface(jnp.ones((2, 3)), jnp.ones(3), jnp.ones(2)), "`surface`"),
    # Taylor mode
    (lambda: pinn.mlp_derivatives_1d(NET3, jnp.ones((3, 2))), "plain MLP"),
    (lambda: pinn.mlp_derivatives_1d(NET, jnp.ones((3, 3))), "`points`"),
    (lambda: pinn.batch_derivatives_1d(NET3, jnp.ones((3, 2))), "`x`"),
    (lambda: pinn.taylor_derivatives(NET3, jnp.ones((3, 2))), "`points`"),
    (lambda: pinn.taylor_derivatives(lambda x: x, jnp.ones((3, 2))), "plain MLP"),
]


def _L(m):
    return m(jnp.ones(2))


D = pinn.filter_normalized_direction(NET, key=K)
D3 = pinn.filter_normalized_direction(NET3, key=K)


@pytest.mark.parametrize("i", range(len(EAGER)))
def test_eager_refusals(i):
    fn, match = EAGER[i]
    err = assert_refuses(fn, match=match)
    assert isinstance(err, (ValueError, TypeError)), type(err)


def _refuses_traced(fn, *args, match):
    for wrap in (eqx.filter_jit, lambda f: jax.vmap(f)):
        batched = [jnp.stack([a, a]) for a in args] if wrap is not eqx.filter_jit else args
        err = assert_refuses(lambda: wrap(fn)(*batched), match=match)
        assert isinstance(err, eqx.EquinoxRuntimeError), type(err)


def test_value_checks_under_jit_and_vmap():
    _refuses_traced(lambda m: pinn.ConcaveFlux(m)(jnp.asarray(0.5)), jnp.asarray(-1.0),
                    match="`M`")
    _refuses_traced(lambda e: pinn.RiemannProblem(pinn.ConvexFlux(), e).epsilon,
                    jnp.asarray(-0.1), match="`epsilon`")
    _refuses_traced(lambda nu: pinn.ViscousBurgers(nu, n_quad=8).nu, jnp.asarray(-0.1),
                    match="`nu`")
    # (the Cole-Hopf quadrature is costly to compile: jit only; its vmap path is the same check)
    err = assert_refuses(lambda: eqx.filter_jit(pinn.ViscousBurgers(n_quad=8).exact)(
        jnp.array([0.1, 2.0])), match="`x`")
    assert isinstance(err, eqx.EquinoxRuntimeError)
    _refuses_traced(pinn.RiemannSolution(pinn.ConvexFlux(), n_grid=9), jnp.array([0.1, -1.0]),
                    match="`point`")
    _refuses_traced(lambda up: pinn.Box(jnp.zeros(1), up).upper, jnp.array([-1.0]),
                    match="`upper`")
    _refuses_traced(lambda w: pinn.weighted_sum({"a": jnp.asarray(1.0)}, {"a": w}),
                    jnp.asarray(-1.0), match="`weights`")
    bad = _with(BATCH, BATCH.interior.at[0, 0].set(NAN))
    err = assert_refuses(lambda: eqx.filter_jit(pinn.pinn_loss)(NET, pinn.PINNArgs(PROB, bad)),
                         match="`batch.interior` contains NaN")
    assert isinstance(err, eqx.EquinoxRuntimeError)


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_hypothesis_bad_inputs_refused(data):
    """NaN/inf injections into problem parameters, boxes and collocation data, and shape
    mismatches for operators, are always refused, never returned as NaN or garbage."""
    kind = data.draw(st.sampled_from(["param", "box", "interior", "targets", "shape"]))
    if kind == "param":
        v = data.draw(with_nonfinite(np.ones(1)))[0]
        make = data.draw(st.sampled_from([
            lambda v: pinn.BrooksCoreyFlux(v), lambda v: pinn.RiemannProblem(pinn.ConvexFlux(), v),
            lambda v: pinn.ViscousBurgers(v, n_quad=8), lambda v: pinn.RiemannSolution(
                pinn.ConvexFlux(), v), lambda v: pinn.PoissonBoltzmann(**PB, sigma=v)]))
        assert_refuses(lambda: make(v))
    elif kind == "box":
        lo = data.draw(with_nonfinite(np.zeros(2)))
        assert_refuses(lambda: pinn.Box(lo, np.ones(2)), match="`lower`|`upper`")
    elif kind == "interior":
        x = data.draw(with_nonfinite(np.asarray(BATCH.interior), max_count=3))
        assert_refuses(lambda: pinn.pinn_loss(NET, pinn.PINNArgs(PROB, _with(BATCH, jnp.asarray(x)))),
                       match="`batch.interior`")
    elif kind == "targets":
        y = data.draw(with_nonfinite(np.asarray(BATCH.data["ic"][1])))
        assert_refuses(lambda: pinn.loss_terms(NET, PROB, _with(BATCH, ic_vals=jnp.asarray(y))),
                       match="targets")
    else:
        shape = data.draw(mismatched_shapes((3,)))
        op = data.draw(st.sampled_from([pinn.gradient, pinn.hessian, pinn.laplacian]))
        assert_refuses(lambda: op(NET3, jnp.ones(shape)), match="`x`")


def test_burgers_flux_edge_input():
    """BurgersFlux is f(u) = u^2/2 with f'(u) = u: an integer state is promoted (was a raw
    `jax.jvp` float0 dtype error), a NaN state gives NaN (pointwise, unchecked, like every
    flux: `RiemannProblem` / `RiemannSolution` check their states once)."""
    f = pinn.BurgersFlux()
    np.testing.assert_allclose(f.derivative(jnp.arange(3)), [0.0, 1.0, 2.0])
    np.testing.assert_allclose(f.derivative(2), 2.0)
    v, d = f.value_and_derivative(jnp.array([1, -2]))
    np.testing.assert_allclose(v, [0.5, 2.0])
    np.testing.assert_allclose(d, [1.0, -2.0])
    assert np.isnan(f(jnp.nan)) and np.isnan(f.derivative(jnp.nan))
    np.testing.assert_allclose(jax.jit(jax.vmap(f.derivative))(jnp.array([0.5, 1.5])), [0.5, 1.5])
    _refuses_traced(lambda u: pinn.RiemannProblem(f, 0.0, u).u_left, jnp.asarray(NAN),
                    match="`u_left`")


def test_eq16_weights_edge_input():
    """eq16_weights: lambda_c = N_c / N_u from the (static) point counts; a batch without
    constraint sets (hard constraints) gives only the residual weight, also under jit."""
    w = pinn.eq16_weights(BATCH)
    n = {nm: p.shape[0] for nm, (p, _) in BATCH.data.items()}
    assert w == {"pde": 1.0, **{nm: c / sum(n.values()) for nm, c in n.items()}}
    bare = pinn.Collocation(BATCH.interior, {})
    assert pinn.eq16_weights(bare) == {"pde": 1.0}
    assert pinn.PINNArgs(PROB, bare).weights.keys() == {"pde"}
    jw = eqx.filter_jit(lambda b: {k: jnp.asarray(v) for k, v in pinn.eq16_weights(b).items()})(BATCH)
    assert {k: float(v) for k, v in jw.items()} == w
    with pytest.raises(TypeError, match="`batch`"):
        eqx.filter_jit(pinn.eq16_weights)({"pde": BATCH.interior})


def test_resample_keeps_the_batch_and_refuses_bad_input():
    new = pinn.resample(ARGS, key=jr.key(7))
    assert new.batch.interior.shape == BATCH.interior.shape
    assert new.batch.interior.dtype == BATCH.interior.dtype
    assert not np.allclose(new.batch.interior, BATCH.interior)
    assert new.batch.data.keys() == BATCH.data.keys() and new.weights.keys() == ARGS.weights.keys()
    lo, hi = np.asarray(PROB.domain.lower)[None], np.asarray(PROB.domain.upper)[None]
    assert np.all((new.batch.interior >= lo) & (new.batch.interior <= hi))
    f = eqx.filter_jit(lambda a, k: pinn.resample(a, key=k).batch.interior)
    assert f(ARGS, K).shape == BATCH.interior.shape
    assert jax.vmap(lambda k: f(ARGS, k))(jr.split(K, 2)).shape == (2, *BATCH.interior.shape)
    with pytest.raises(TypeError, match="`key` must be a JAX PRNG key"):
        f(ARGS, jnp.zeros(3))
    with pytest.raises(TypeError, match="`args` must be a PINNArgs"):
        pinn.resample(BATCH, key=K)


# --- nPBE reference solver and molecule-like problems (issue 20, helper npbe) ---------------
_MOL = dict(positions=jnp.array([[0.1, 0.0, 0.0], [-0.1, 0.0, 0.0]]), charges=jnp.array([1.0, -1.0]))


def test_npbe_problems_refuse_bad_input():
    mol = pinn.MolecularPoissonBoltzmann(**_MOL)
    for call, match in [
        (lambda: pinn.MolecularPoissonBoltzmann(jnp.zeros(3), jnp.ones(1)), "`positions` must have shape"),
        (lambda: pinn.MolecularPoissonBoltzmann(jnp.zeros((0, 3)), jnp.ones(0)), "N >= 1"),
        (lambda: pinn.MolecularPoissonBoltzmann(_MOL["positions"], jnp.ones(3)), "`charges` must have shape"),
        (lambda: pinn.MolecularPoissonBoltzmann(**_MOL, radius=-0.1), "`radius`.*> 0"),
        (lambda: pinn.MolecularPoissonBoltzmann(**_MOL, width=0.0), "`width`.*> 0"),
        (lambda: pinn.MolecularPoissonBoltzmann(**_MOL, xi_in=NAN), "`xi_in`"),
        (lambda: pinn.MolecularPoissonBoltzmann(**_MOL, kappa=-1.0), "`kappa`.*>= 0"),
        (lambda: pinn.MolecularPoissonBoltzmann(**_MOL, domain=pinn.Box([0, 0], [1, 1])), "3-D Box"),
        (lambda: pinn.MolecularPoissonBoltzmann(_MOL["positions"].at[0, 0].set(NAN), _MOL["charges"]), "`positions` contains NaN"),
        (lambda: pinn.RigidMotionPoissonBoltzmann(PB), "`molecule` must be a MolecularPoissonBoltzmann"),
        (lambda: pinn.RigidMotionPoissonBoltzmann(mol, max_rotation=-1.0), "`max_rotation`"),
        (lambda: pinn.RigidMotionPoissonBoltzmann(mol, max_translation=jnp.ones(2)), "`max_translation` must be a scalar"),
        (lambda: pinn.RigidMotionPoissonBoltzmann(mol).residual(NET3, jnp.zeros(3)), r"shape \(9,\)"),
        (lambda: pinn.RigidMotionPoissonBoltzmann(mol).at(jnp.zeros(3)), r"`omega` must have shape \(6,\)"),
        (lambda: pinn.RigidMotionPoissonBoltzmann(mol).sample_constraint("ic", 4, key=K), "unknown constraint"),
        (lambda: pinn.rotation_matrix(jnp.zeros(2)), r"`rotvec` must have shape \(3,\)"),
    ]:
        assert_refuses(call, match)


def test_npbe_solvers_refuse_bad_input():
    g = jnp.zeros((5, 5, 5))
    ok = dict(xi=jnp.ones((5, 5, 5)), kappa_sq=g, source=g, boundary=g, spacing=jnp.full(3, 0.5))
    for call, match in [
        (lambda: pinn.solve_pbe_grid(**{**ok, "source": jnp.zeros((5, 5))}), "3-D node array"),
        (lambda: pinn.solve_pbe_grid(**{**ok, "xi": jnp.ones((4, 5, 5))}), r"`xi` must have the node-grid shape"),
        (lambda: pinn.solve_pbe_grid(**{**ok, "spacing": jnp.ones(2)}), r"`spacing` must have shape \(3,\)"),
        (lambda: pinn.solve_pbe_grid(**ok, max_steps=2.0), "`max_steps` must be a Python int"),
        (lambda: pinn.solve_pbe_grid(**{**ok, "xi": -jnp.ones((5, 5, 5))}), "`xi`.*> 0"),
        (lambda: pinn.solve_pbe(PB, 9), "must be a MolecularPoissonBoltzmann or a PoissonBoltzmann"),
        (lambda: pinn.solve_pbe(pinn.PoissonBoltzmann(**PB), 2), "`n` must be an int >= 3"),
        (lambda: pinn.node_grid(jnp.zeros(3), jnp.ones(3), 2), "`n` must be an int >= 3"),
        (lambda: pinn.node_grid(jnp.zeros(3), jnp.ones(3), 4.0), "`n` must be a Python int"),
        (lambda: pinn.debye_huckel_gaussian(1.0, sigma=-1.0), "`sigma`.*> 0"),
        (lambda: pinn.debye_huckel_gaussian(1.0, xi=jnp.ones(2)), "`xi` must be a scalar"),
    ]:
        assert_refuses(call, match)
    # too few Newton steps: a failed Solution with throw=False, a run-time error otherwise
    from jaxsci import RESULTS

    hard = {**ok, "source": g.at[2, 2, 2].set(50.0), "kappa_sq": jnp.ones((5, 5, 5))}
    sol = pinn.solve_pbe_grid(**hard, max_steps=1, throw=False)
    assert sol.result == RESULTS.max_steps_reached
    assert_refuses(lambda: pinn.solve_pbe_grid(**hard, max_steps=1), "maximum number of steps")

# ---- issue 19 (helper pinnt): benchmark problems, references, training techniques ----
PINNT_EAGER = [
    (lambda: pinn.AllenCahn(diffusion=0.0), "`diffusion`.*> 0"),
    (lambda: pinn.AllenCahn(reaction=NAN), "`reaction`"),
    (lambda: pinn.AllenCahn(jnp.ones(2)), "`diffusion` must be a scalar"),
    (lambda: pinn.AllenCahn().constraint_value("bc", jnp.zeros(2)), "unknown constraint 'bc'"),
    (lambda: pinn.PeriodicAdvection(jnp.inf), "`speed`"),
    (lambda: pinn.PeriodicAdvection(initial=1.0), "`initial`"),
    (lambda: pinn.allen_cahn_reference(n_x=63), "`n_x` must be even"),
    (lambda: pinn.allen_cahn_reference(n_t=1), "`n_t`"),
    (lambda: pinn.allen_cahn_reference(substeps=0.5), "`substeps`"),
    (lambda: pinn.allen_cahn_reference(PROB), "`problem` must be an AllenCahn"),
    (lambda: pinn.reference_grid(pinn.PeriodicAdvection(), jnp.ones((2, 2)), jnp.ones(3)), "`t`"),
    (lambda: pinn.reference_grid(pinn.PeriodicAdvection(), jnp.ones(2), jnp.arange(3)), "`x`"),
    (lambda: pinn.reference_grid(lambda x: x, jnp.ones(2), jnp.ones(2)), "`problem`"),
]


@pytest.mark.parametrize("call,match", PINNT_EAGER)
def test_pinnt_bad_input_eager(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_pinnt_bad_input_traced_and_unsupported():
    _refuses_traced(lambda c: pinn.PeriodicAdvection(c).speed, jnp.asarray(NAN), match="`speed`")
    _refuses_traced(lambda e: pinn.AllenCahn(e).diffusion, jnp.asarray(-1.0), match="`diffusion`")
    with pytest.raises(NotImplementedError, match="allen_cahn_reference"):
        pinn.reference_grid(pinn.AllenCahn(), jnp.ones(2), jnp.ones(2))


PINNT_EMBED = [
    (lambda: pinn.FourierFeatures(0, 4, key=K), "`in_size`"),
    (lambda: pinn.FourierFeatures(2, 4, sigma=-1.0, key=K), "`sigma`"),
    (lambda: pinn.FourierFeatures(2, 4, sigma=jnp.ones(2), key=K), "`sigma`"),
    (lambda: pinn.FourierFeatures(2, 4, key=3), "`key`"),
    (lambda: pinn.FourierFeatures(2, 4, key=K)(jnp.ones(3)), "ONE point of shape \\(2,\\)"),
    (lambda: pinn.PeriodicEmbedding(()), "`periods`"),
    (lambda: pinn.PeriodicEmbedding((0.0, None)), "`periods\\[0\\]`"),
    (lambda: pinn.PeriodicEmbedding((2.0,), n_harmonics=0), "`n_harmonics`"),
    (lambda: pinn.PeriodicEmbedding((2.0, None))(jnp.ones((4, 2))), "ONE point"),
    (lambda: pinn.EmbeddedModel(3.0, NET), "`embedding`"),
    (lambda: pinn.EmbeddedModel((), NET), "`embedding`"),
    (lambda: pinn.EmbeddedModel(pinn.PeriodicEmbedding((2.0, None)), None), "`network`"),
    (lambda: pinn.FactorizedLinear.from_linear(NET, key=K), "`linear`"),
    (lambda: pinn.FactorizedLinear.from_linear(NET.layers[0], key=K, sigma=0.0), "`sigma`"),
    (lambda: pinn.FactorizedLinear.from_linear(NET.layers[0], key=K, mu=NAN), "`mu`"),
    (lambda: pinn.FactorizedLinear.from_linear(NET.layers[0], key=K)(jnp.ones(3)), "`x`"),
    (lambda: pinn.random_weight_factorization(NET, key=None), "`key`"),
    (lambda: pinn.random_weight_factorization(pinn.PeriodicEmbedding((1.0,)), key=K),
     "no eqx.nn.Linear"),
]


@pytest.mark.parametrize("call,match", PINNT_EMBED)
def test_pinnt_embeddings_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


PINNT_WEIGHTS = [
    (lambda: pinn.grad_norm_weights(NET, BATCH), "`args` must be a PINNArgs"),
    (lambda: pinn.grad_norm_weights(NET, ARGS, alpha=1.5), "`alpha`"),
    (lambda: pinn.ntk_weights(NET, ARGS, alpha=-0.1), "`alpha`"),
    (lambda: pinn.ntk_weights(NET, PROB), "`args` must be a PINNArgs"),
    (lambda: pinn.ntk_traces(NET, None), "`args` must be a PINNArgs"),
    (lambda: pinn.causal_weights(jnp.ones((2, 2)), 1.0), "`chunk_losses`"),
    (lambda: pinn.causal_weights(jnp.ones(0), 1.0), "`chunk_losses`"),
    (lambda: pinn.causal_weights(jnp.ones(3), -1.0), "`epsilon`.*>= 0"),
    (lambda: pinn.causal_weights(jnp.ones(3), jnp.ones(2)), "`epsilon`.*scalar"),
    (lambda: pinn.causal_residual_loss(NET, PROB, jnp.ones(3), epsilon=1.0, n_chunks=4),
     "`points`"),
    (lambda: pinn.causal_residual_loss(NET, PROB, BATCH.interior, epsilon=1.0, n_chunks=0),
     "`n_chunks`"),
    (lambda: pinn.causal_residual_loss(NET, PROB, BATCH.interior, epsilon=1.0, n_chunks=2.0),
     "`n_chunks`"),
    (lambda: pinn.causal_residual_loss(NET, PROB, BATCH.interior, epsilon=1.0, n_chunks=2,
                                       time_axis=2), "`time_axis`"),
    (lambda: pinn.causal_residual_loss(NET, None, BATCH.interior, epsilon=1.0, n_chunks=2),
     "`problem`"),
    (lambda: pinn.causal_residual_loss(NET, PROB, BATCH.interior.at[0, 0].set(NAN),
                                       epsilon=1.0, n_chunks=2), "`points` contains NaN"),
    (lambda: pinn.causal_pinn_loss(NET, BATCH, epsilon=1.0, n_chunks=2), "`args`"),
]


@pytest.mark.parametrize("call,match", PINNT_WEIGHTS)
def test_pinnt_weights_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_pinnt_weights_traced_values():
    _refuses_traced(lambda e: pinn.causal_weights(jnp.ones(3), e), jnp.asarray(NAN),
                    match="`epsilon`")


_ADV = pinn.PeriodicAdvection(1.0)
_AARGS = pinn.PINNArgs(_ADV, pinn.Collocation(jnp.full((4, 2), 0.5), {}), {"pde": 1.0})
PINNT_ADAPTIVE = [
    (lambda: pinn.rad_probabilities(jnp.ones((2, 2))), "`residuals`"),
    (lambda: pinn.rad_probabilities(jnp.ones(3), k=-1.0), "`k` and `c`"),
    (lambda: pinn.rad_probabilities(jnp.ones(3), c=NAN), "`k` and `c`"),
    (lambda: pinn.rad_resample(NET, BATCH, K, n_candidates=8), "`args` must be a PINNArgs"),
    (lambda: pinn.rad_resample(NET, _AARGS, 0, n_candidates=8), "`key`"),
    (lambda: pinn.rad_resample(NET, _AARGS, K, n_candidates=2), "`n_candidates` must be >="),
    (lambda: pinn.rar_refine(NET, _AARGS, K, n_candidates=4, n_add=5), "`n_add`"),
    (lambda: pinn.rar_refine(NET, _AARGS, K, n_candidates=4.0, n_add=1), "`n_candidates`"),
    (lambda: pinn.rar_refine(NET, None, K, n_candidates=4, n_add=1), "`args`"),
    (lambda: pinn.BoxDistance(None, ((0, 0),)), "`box`"),
    (lambda: pinn.BoxDistance(PROB.domain, ()), "`faces`"),
    (lambda: pinn.BoxDistance(PROB.domain, ((2, 0),)), "`faces`"),
    (lambda: pinn.BoxDistance(PROB.domain, ((0, 2),)), "`faces`"),
    (lambda: pinn.BoxDistance(PROB.domain, ((0, 0),))(jnp.ones(3)), "`x` must be ONE point"),
    (lambda: pinn.DistanceConstrainedModel(NET, 0.0, lambda x: x[0]), "`boundary`"),
    (lambda: pinn.DistanceConstrainedModel(NET, lambda x: 0.0, None), "`distance`"),
]


@pytest.mark.parametrize("call,match", PINNT_ADAPTIVE)
def test_pinnt_adaptive_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_pinnt_rad_traced_values():
    _refuses_traced(lambda k: pinn.rad_probabilities(jnp.ones(3), k=k), jnp.asarray(-1.0),
                    match="`k` and `c`")
