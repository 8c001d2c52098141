"""Every transformation of `jaxsci.optim` is an optax transformation: `init`/`update`, composes
with `optax.chain` (same iterates as alone), runs under `jit` and `vmap`; and the package
imports no other sub-package of jaxsci."""

import ast
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxsci.optim as jo

A = jnp.diag(jnp.array([1.0, 4.0, 9.0]))
THETA0 = jnp.array([0.8, -0.5, 0.3])


def cost(theta):
    return 0.5 * theta @ A @ theta + 0.3 * jnp.sum(jnp.sin(theta))


# (name, factory, whether the transformation takes the descent direction -g instead of g)
CASES = [
    ("armijo", jo.armijo_linesearch, True),
    ("goldstein", jo.goldstein_linesearch, True),
    ("wolfe", jo.wolfe_linesearch, True),
    ("exact", lambda: jo.exact_linesearch(max_steps=20), True),
    ("stochastic_armijo", jo.stochastic_armijo, True),
    ("newton", lambda: optax.chain(jo.newton_direction(), jo.armijo_linesearch()), False),
    ("stochastic_newton", jo.stochastic_newton, False),
    ("sgd_momentum", lambda: jo.sgd_momentum(0.05, zeta=0.5, weight_decay=1e-3), False),
    ("unified_adaptive", lambda: jo.unified_adaptive(0.05, weight_decay=1e-3), False),
    ("adamx", lambda: jo.adamx(0.05), False),
    ("nostalgic_adam", lambda: jo.nostalgic_adam(0.05, gamma=0.5), False),
    ("stagnation", lambda: optax.chain(optax.sgd(0.05), jo.scale_by_stagnation_decay(2)), False),
]


def _run(tx, negate, theta0, steps=3):
    tx = optax.with_extra_args_support(tx)
    state = tx.init(theta0)

    def body(carry, _):
        theta, state = carry
        v, g = jax.value_and_grad(cost)(theta)
        u = -g if negate else g
        u, state = tx.update(u, state, theta, value=v, grad=g, value_fn=cost)
        return (optax.apply_updates(theta, u), state), v

    (theta, _), values = jax.lax.scan(body, (theta0, state), None, length=steps)
    return theta, values


@pytest.mark.parametrize("name,make,negate", CASES, ids=[c[0] for c in CASES])
def test_transformation_contract(name, make, negate):
    tx = make()
    assert isinstance(tx, optax.GradientTransformation)
    starts = jnp.stack([THETA0, -THETA0])
    batched, values = jax.jit(jax.vmap(lambda t: _run(tx, negate, t)))(starts)
    assert bool(jnp.all(jnp.isfinite(batched)))
    assert bool(jnp.all(jax.vmap(cost)(batched) < values[:, 0]))  # all descend on this bowl
    # Unbatched and inside a chain: the same iterates as the vmapped transformation alone.
    chained = optax.chain(optax.identity(), tx, optax.scale(1.0))
    in_chain, _ = jax.jit(lambda t: _run(chained, negate, t))(THETA0)
    np.testing.assert_allclose(in_chain, batched[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "tx",
    [jo.armijo_linesearch(), jo.stochastic_armijo(), jo.newton_direction(), jo.stochastic_newton()],
    ids=["armijo", "stochastic_armijo", "newton", "stochastic_newton"],
)
def test_update_without_params_says_what_to_do(tx):
    v, g = jax.value_and_grad(cost)(THETA0)
    state = tx.init(THETA0)
    with pytest.raises(ValueError, match="needs `params`"):
        tx.update(-g, state, None, value=v, grad=g, value_fn=cost)


def test_optim_imports_no_other_subpackage():
    root = pathlib.Path(jo.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                # `from .._solution import ...` is shared infrastructure; `from ..train` is not.
                assert (node.module or "").startswith("_"), f"{path.name}: from ..{node.module}"
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                assert not (node.module or "").startswith("jaxsci"), f"{path.name}: {node.module}"
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("jaxsci") for a in node.names), path.name


def test_every_public_name_has_a_docstring():
    public = [n for n in dir(jo) if not n.startswith("_")]
    assert len(public) >= 30
    assert [n for n in public if not (getattr(jo, n).__doc__ or "").strip()] == []
