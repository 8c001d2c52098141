"""Bad input to jaxsci.init is refused (DESIGN rule 6, issue 16): NaN/inf, wrong shape,
empty data, out-of-domain values and degenerate data, eagerly and under jit / vmap."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from jaxsci import init, nn
from jaxsci.testing import assert_refuses, empty_like_shape, mismatched_shapes, with_nonfinite

NAN, INF = float("nan"), float("inf")
K = jr.key(0)
MLP = nn.MLP(2, 4, 2, key=jr.key(1))
RESNET = nn.ResNet(2, 4, 2, key=jr.key(1))
LAYER = eqx.nn.Linear(2, 3, key=K)
SHALLOW = eqx.nn.MLP(2, 1, 8, 1, activation=jax.nn.relu, key=K)
X = jr.normal(jr.key(2), (4, 2))


# ---------------------------------------------------------------------------- box
@pytest.mark.parametrize("box, match", [
    ((NAN, 1.0), "`box`"),                       # NaN bound
    ((0.0, INF), "`box`"),                       # inf bound
    ((1.0, 1.0), "hi > lo"),                     # zero width
    ((1.0, 0.0), "hi > lo"),                     # reversed
    ((-1e308, 1e308), "representable width"),    # width overflows
])
def test_box_bad_bounds(box, match):
    with pytest.raises(ValueError, match=match):
        init.box(MLP, key=K, box=box)


def test_box_bad_bounds_jit_and_vmap():
    f = eqx.filter_jit(lambda lo, hi: init.box(MLP, key=K, box=(lo, hi)))
    assert_refuses(lambda: f(jnp.asarray(NAN), jnp.asarray(1.0)), match="`box`")
    assert_refuses(lambda: f(jnp.asarray(1.0), jnp.asarray(1.0)), match="hi > lo")
    v = jax.vmap(lambda lo: init.box(MLP, key=K, box=(lo, 1.0)))
    assert_refuses(lambda: v(jnp.asarray([0.0, NAN])), match="`box`")
    f(jnp.asarray(0.0), jnp.asarray(1.0))   # good input passes under jit


def test_box_shape_and_domain():
    with pytest.raises(ValueError, match="`box` bound `lo`"):
        init.box(MLP, key=K, box=(jnp.zeros(3), jnp.ones(3)))
    with pytest.raises(TypeError, match="`box` must be a pair"):
        init.box(MLP, key=K, box=1.0)
    for kw, name in [({"maximum": INF}, "`maximum`"), ({"maximum": NAN}, "`maximum`"),
                     ({"maximum": 0.0}, "`maximum`"),
                     ({"residual_maximum": -1.0}, "`residual_maximum`")]:
        with pytest.raises(ValueError, match=name):
            init.box(RESNET, key=K, **kw)
    f = eqx.filter_jit(lambda m: init.box(MLP, key=K, maximum=m))
    assert_refuses(lambda: f(jnp.asarray(-1.0)), match="`maximum`")
    with pytest.raises(TypeError, match="`key`"):
        init.box(MLP, key=0)


def test_box_layer_bad_input():
    with pytest.raises(ValueError, match="hi > lo"):
        init.box_layer(LAYER, key=K, lo=1.0, hi=1.0)
    with pytest.raises(ValueError, match="NaN|finite"):
        init.box_layer(LAYER, key=K, lo=NAN)
    with pytest.raises(ValueError, match="`maximum`"):
        init.box_layer(LAYER, key=K, maximum=jnp.asarray(INF))
    with pytest.raises(ValueError, match="`\\(lo, hi\\)` bound `hi`"):
        init.box_layer(LAYER, key=K, hi=jnp.ones(3))
    with pytest.raises(ValueError, match="bias"):
        init.box_layer(eqx.nn.Linear(2, 3, use_bias=False, key=K), key=K)


# ----------------------------------------------------------- data-dependent init
@pytest.mark.parametrize("x, match", [
    (X.at[0, 0].set(NAN), "`x_train` contains NaN"),     # NaN
    (X[:0], "`x_train` is empty"),                       # empty (was ZeroDivisionError)
    (X[:, 0], r"`x_train` must have shape \(m, 2\)"),    # rank
    (jnp.ones((4, 3)), r"`x_train` must have shape \(m, 2\)"),
    (X[:1], "degenerate"),                               # one point, s = 0: sigma_out = inf
    (jnp.ones((4, 2)), "degenerate"),                    # duplicates, s = 0
])
def test_data_dependent_init_bad_data(x, match):
    with pytest.raises(ValueError, match=match):
        init.data_dependent_init(SHALLOW, x, key=K)


def test_data_dependent_init_domain_jit_vmap():
    for kw, name in [({"s": -1.0}, "`s`"), ({"s": NAN}, "`s`"),
                     ({"sigma_in": 0.0}, "`sigma_in`"), ({"sigma_in": -1.0}, "`sigma_in`")]:
        with pytest.raises(ValueError, match=name):
            init.data_dependent_init(SHALLOW, X, key=K, **kw)
    with pytest.raises(ValueError, match="degenerate"):          # all-zero data, s > 0
        init.data_dependent_init(SHALLOW, jnp.zeros((4, 2)), key=K, s=1.0)
    f = eqx.filter_jit(lambda x: init.data_dependent_init(SHALLOW, x, key=K))
    assert_refuses(lambda: f(X.at[1, 1].set(INF)), match="`x_train` contains NaN")
    assert_refuses(lambda: f(jnp.ones((4, 2))), match="degenerate")
    v = jax.vmap(lambda x: init.data_dependent_sigma_out(x, h=2.0, sigma_in=1.0))
    assert_refuses(lambda: v(jnp.stack([X, X.at[0, 0].set(NAN)])), match="`x` contains NaN")
    assert np.isfinite(f(X).layers[1].weight).all()


def test_data_dependent_helpers_bad_input():
    for fn in (lambda x, **k: init.data_dependent_expected_q(x, sigma_out=1.0, **k),
               init.data_dependent_sigma_out):
        with pytest.raises(ValueError, match="`x` is empty"):
            fn(X[:0], h=1.0, sigma_in=1.0)
        with pytest.raises(ValueError, match="`x` contains NaN"):
            fn(X.at[0, 0].set(NAN), h=1.0, sigma_in=1.0)
        with pytest.raises(ValueError, match="`h`"):
            fn(X, h=-1.0, sigma_in=1.0)
        with pytest.raises(ValueError, match="`sigma_in`"):
            fn(X, h=1.0, sigma_in=-1.0)
    with pytest.raises(ValueError, match="degenerate"):
        init.data_dependent_sigma_out(jnp.ones((3, 2)), h=1.0, sigma_in=1.0)


# ------------------------------------------------------------ ReLU schemes, scaling
def test_relu_schemes_bad_input():
    with pytest.raises(ValueError, match="`variance`"):
        init.NormalInit(variance=INF)
    with pytest.raises(ValueError, match="`bias_variance`"):
        init.NormalInit(with_bias=True, bias_variance=-1.0)
    with pytest.raises(ValueError, match="`batch`"):               # was an MLIRError
        init.sample_relu_params(K, [2, 3], init.NormalInit(), batch=(-1,))
    with pytest.raises(ValueError, match="`widths`"):
        init.sample_relu_params(K, [2, 2.5], init.NormalInit())
    with pytest.raises(ValueError, match="`widths`"):
        init.sample_relu_params(K, [2, 0], init.NormalInit())
    with pytest.raises(ValueError, match="`schemes`"):
        init.relu_init(MLP, key=K, schemes=[init.NormalInit()])
    with pytest.raises(TypeError, match="`key`"):
        init.sample_relu_params(0, [2, 3], init.NormalInit())


@pytest.mark.parametrize("fn", [init.normalize_to_unit_ball, init.lift_to_sphere])
def test_scaling_bad_input(fn):
    with pytest.raises(ValueError, match="`x` contains NaN"):
        fn(X.at[0, 0].set(NAN))
    with pytest.raises(ValueError, match="`x` is empty"):
        fn(X[:0])
    with pytest.raises(ValueError, match=r"`x` must have shape \(n, d\)"):
        fn(X[:, 0])
    with pytest.raises(ValueError, match="`k`"):
        fn(X, k=NAN)
    with pytest.raises(ValueError, match="`k`"):
        fn(X, k=0.5)
    assert_refuses(lambda: jax.jit(fn)(X.at[0, 0].set(INF)), match="`x` contains NaN")
    assert_refuses(lambda: jax.jit(lambda k: fn(X, k=k))(0.5), match="`k`")
    assert_refuses(lambda: jax.vmap(fn)(jnp.stack([X, X.at[0, 0].set(NAN)])), match="NaN")


# ---------------------------------------------------------------- Glorot / He
@pytest.mark.parametrize("fn", [init.glorot, init.he])
def test_standard_inits_bad_input(fn):
    for g in (NAN, INF, -1.0, 0.0):
        with pytest.raises(ValueError, match="`gain`"):
            fn(LAYER, key=K, gain=g)
    assert_refuses(lambda: jax.jit(lambda g: fn(LAYER, key=K, gain=g))(NAN), match="`gain`")
    with pytest.raises(ValueError, match="no `eqx.nn.Linear`"):
        fn(jnp.ones(3), key=K)
    with pytest.raises(TypeError, match="`key`"):
        fn(MLP, key=None)
    with pytest.raises(ValueError, match="`blocks`"):
        init.replace_layer_blocks(MLP, [])


# ------------------------------------------------------------------ hypothesis
@settings(max_examples=15, deadline=None)
@given(st.data())
def test_random_bad_inputs_are_refused(data):
    """NaN/inf injected into the data or the box, a wrong shape or an empty data set:
    every init entry point refuses it (clear error, never silent NaN or finite output)."""
    kind = data.draw(st.sampled_from(["nan_x", "nan_box", "shape", "empty"]))
    if kind == "nan_x":
        x = jnp.asarray(data.draw(with_nonfinite(np.asarray(X))))
        fn = data.draw(st.sampled_from([
            lambda: init.data_dependent_init(SHALLOW, x, key=K),
            lambda: init.normalize_to_unit_ball(x),
            lambda: init.data_dependent_sigma_out(x, h=2.0, sigma_in=1.0)]))
    elif kind == "nan_box":
        lo = jnp.asarray(data.draw(with_nonfinite(np.zeros(2))))
        fn = lambda: init.box(MLP, key=K, box=(lo, 1.0))
    elif kind == "shape":
        shape = data.draw(mismatched_shapes((4, 2)).filter(lambda s: len(s) != 2
                                                             or s[1] != 2 or s[0] == 0))
        x = jnp.ones(shape)
        fn = lambda: init.data_dependent_init(SHALLOW, x, key=K)
    else:
        x = jnp.asarray(empty_like_shape((4, 2)))
        fn = data.draw(st.sampled_from([
            lambda: init.data_dependent_init(SHALLOW, x, key=K),
            lambda: init.lift_to_sphere(x)]))
    assert_refuses(fn)


# ------------------------------------------------- UnitHypersphereInit, per_layer_schemes
@pytest.mark.parametrize("scheme", [init.UnitHypersphereInit(), init.UnitHypersphereInit(True),
                                    init.NormalInit()])
def test_scheme_sample_bad_input(scheme):
    """`UnitHypersphereInit.sample` (and `NormalInit.sample`) called directly: a negative or
    zero size, a float size or a bad batch (were MLIRError / raw shape errors), a bad key
    or an integer dtype."""
    for args, err, match in [((-1, 2), ValueError, "`n_out`"), ((3, 0), ValueError, "`n_in`"),
                             ((3, 2.5), TypeError, "`n_in`")]:
        with pytest.raises(err, match=match):
            scheme.sample(K, *args)
    with pytest.raises(ValueError, match="`batch`"):
        scheme.sample(K, 3, 2, batch=(-1,))
    with pytest.raises(ValueError, match="`batch`"):
        scheme.sample(K, 3, 2, batch=4)
    with pytest.raises(TypeError, match="`key`"):
        scheme.sample(0, 3, 2)
    with pytest.raises(TypeError, match="`dtype`"):
        scheme.sample(K, 3, 2, dtype=jnp.int32)
    # good input, eagerly, under jit and vmap over keys (the static checks are trace-time)
    w, b = jax.jit(lambda k: scheme.sample(k, 3, 2))(K)
    assert w.shape == (3, 2) and b.shape == (3,) and np.isfinite(w).all()
    w, _ = jax.vmap(lambda k: scheme.sample(k, 3, 2))(jr.split(K, 2))
    assert w.shape == (2, 3, 2)


def test_unit_hypersphere_init_bad_fields():
    for bad in ("yes", None, 1):
        with pytest.raises(TypeError, match="UnitHypersphereInit: `with_bias` must be True or False"):
            init.UnitHypersphereInit(with_bias=bad)
    with pytest.raises(TypeError, match="NormalInit: `with_bias`"):
        init.NormalInit(with_bias="no")
    # rows are on the unit sphere: [W_j, b_j] with bias, W_j without
    w, b = init.UnitHypersphereInit(with_bias=True).sample(K, 4, 3)
    np.testing.assert_allclose(np.sum(w * w, axis=1) + b * b, 1.0, rtol=1e-12)
    w, b = init.UnitHypersphereInit().sample(K, 4, 3)
    np.testing.assert_allclose(np.sum(w * w, axis=1), 1.0, rtol=1e-12)
    assert not np.any(b)


def test_per_layer_schemes_bad_input():
    u = init.UnitHypersphereInit()
    assert init.per_layer_schemes(u, 3) == [u, u, u]
    assert init.per_layer_schemes((u, init.NormalInit()), 2) == [u, init.NormalInit()]
    with pytest.raises(ValueError, match="`widths_schemes` must be one AbstractReLUInit or a sequence of 2"):
        init.per_layer_schemes([u], 2, name="widths_schemes")
    with pytest.raises(ValueError, match="`schemes`"):
        init.per_layer_schemes([u, "he"], 2)
    # not a sequence: were "'int' object is not iterable" / "'NoneType' ..." with no name
    for bad in (5, None, "unit"):
        with pytest.raises(TypeError, match="`schemes` must be one AbstractReLUInit"):
            init.per_layer_schemes(bad, 2)
    with pytest.raises(TypeError, match="got the class UnitHypersphereInit: instantiate it"):
        init.per_layer_schemes(init.UnitHypersphereInit, 2)
    # n_layers: was [] for 0 or -1 and a raw error for a float
    for bad, err in ((0, ValueError), (-1, ValueError), (2.0, TypeError), (True, TypeError)):
        with pytest.raises(err, match="`n_layers`"):
            init.per_layer_schemes(u, bad)
    with pytest.raises(TypeError, match="`schemes`.*instantiate"):     # through relu_init
        init.relu_init(MLP, key=K, schemes=init.UnitHypersphereInit)


# ------------------------------------------------------------ layer_blocks, linear_layers
def test_layer_walkers_edge_input():
    """`linear_layers` and `layer_blocks` accept any pytree (nothing to refuse): a tree
    without `Linear` layers gives `[]` (resp. only its inexact arrays), integer arrays are
    not blocks, a `Linear` is one block; the entry points that need layers refuse `[]`."""
    for tree in (None, [], {}, jnp.ones(3), "abc", eqx.nn.Linear):
        assert init.linear_layers(tree) == []
    assert init.layer_blocks(None) == [] and init.layer_blocks({}) == []
    assert init.layer_blocks(jnp.ones(3, int)) == []
    scale = jnp.ones(2)
    tree = {"a_lin": LAYER, "b_steps": jnp.arange(3), "c_scale": scale}
    blocks = init.layer_blocks(tree)
    assert len(blocks) == 2 and blocks[0] is LAYER and blocks[1] is scale
    assert init.linear_layers(tree) == [LAYER]
    assert len(init.linear_layers(MLP)) == len(init.layer_blocks(MLP)) == 3
    with pytest.raises(ValueError, match="no `eqx.nn.Linear`"):
        init.he({"c_scale": scale}, key=K)
    with pytest.raises(ValueError, match="`blocks` must have 2 entries"):
        init.replace_layer_blocks(tree, init.layer_blocks(tree)[:1])
    # under jit the blocks are found from the (traced) tree's structure
    n = eqx.filter_jit(lambda t: jnp.asarray(len(init.layer_blocks(t))))(tree)
    assert int(n) == 2
