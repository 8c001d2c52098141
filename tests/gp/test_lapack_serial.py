"""No two LAPACK calls of a GP program may run concurrently on XLA:CPU.

jaxlib 0.10's CPU LAPACK kernels split a batch over XLA's intra-op pool and block a pool
thread until the pieces finish; two independent batched calls can deadlock a 2-thread pool
(`jaxsci._misc.after`, docs/gp.md "XLA:CPU deadlock"). A deadlock is a race, so a test
that waits for one is flaky; instead these tests read the compiled HLO and check the
property that rules it out: within every computation, each pair of LAPACK custom calls is
ordered by a data dependency.
"""

import re

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import pytest

from jaxsci import gp, kernels as K
from jaxsci._misc import after

_INSTR = re.compile(r"^\s*(?:ROOT\s+)?(%[\w.\-]+)\s*=\s*.*?\b([\w\-]+)\((.*)$")


def _unordered_lapack_pairs(hlo: str) -> list[tuple[str, str, str]]:
    """(computation, call a, call b) for LAPACK custom calls with no path between them."""
    bad, comp, deps, lapack = [], None, {}, []

    def close():
        def reach(a, b):  # is a reachable from b (a is an ancestor of b)?
            stack, seen = [b], set()
            while stack:
                v = stack.pop()
                if v == a:
                    return True
                if v not in seen:
                    seen.add(v)
                    stack.extend(deps.get(v, ()))
            return False

        for i, a in enumerate(lapack):
            for b in lapack[i + 1:]:
                if not (reach(a, b) or reach(b, a)):
                    bad.append((comp, a, b))

    for line in hlo.splitlines():
        if line and not line.startswith(" ") and line.rstrip().endswith("{"):
            comp, deps, lapack = line.split(" ")[0], {}, []
            continue
        if line.startswith("}"):
            close()
            comp = None
            continue
        m = _INSTR.match(line)
        if comp is None or m is None:
            continue
        name, _, rest = m.groups()
        deps[name] = re.findall(r"%[\w.\-]+", rest.split("custom_call_target")[0].split("calls=")[0])
        if 'custom_call_target="lapack_' in line:
            lapack.append(name)
    return bad


def _data(n=30, p=3):
    X = jr.uniform(jr.key(0), (n, 2))
    return X, jnp.sin(X @ jnp.ones((2, p)))


def test_checker_finds_two_independent_solves():
    # the checker itself: two cho_solves on one factor are unordered, `after` orders them
    L = jnp.linalg.cholesky(jnp.eye(8)[None].repeat(4, 0) * 2.0)

    def two(L, ordered):
        a = jax.scipy.linalg.cho_solve((L, True), jnp.ones((4, 8, 2)))
        L2 = after(L, a) if ordered else L
        return a, jax.scipy.linalg.cho_solve((L2, True), jnp.ones((4, 8, 3)))

    hlo = lambda ordered: jax.jit(lambda L: two(L, ordered)).lower(L).compile().as_text()
    assert _unordered_lapack_pairs(hlo(False))
    assert _unordered_lapack_pairs(hlo(True)) == []


def test_lml_gradient_is_serial():
    X, Y = _data()
    params, static = eqx.partition(K.SquaredExponential(), eqx.is_inexact_array)
    batch = jax.tree_util.tree_map(lambda a: jnp.stack([a, a + 0.1, a - 0.1]), params)
    f = jax.vmap(jax.value_and_grad(lambda p: gp.log_marginal_likelihood(eqx.combine(p, static), X, Y)))
    assert _unordered_lapack_pairs(jax.jit(f).lower(batch).compile().as_text()) == []


@pytest.mark.parametrize("full_cov", [False, True])
def test_fit_condition_predict_is_serial(full_cov):
    X, Y = _data()
    Xs = jr.uniform(jr.key(1), (5, 2))

    def study(X, Y, key):
        sol = gp.fit(K.SquaredExponential(), X, Y, key=key, num_restarts=4, max_steps=5, throw=False)
        return gp.predict(gp.condition(sol.value, X, Y), Xs, full_cov=full_cov)

    f = jax.vmap(study, in_axes=(None, None, 0))
    hlo = jax.jit(f).lower(X, Y, jr.split(jr.key(2), 2)).compile().as_text()
    assert _unordered_lapack_pairs(hlo) == []


def test_after_returns_x_unchanged():
    x = jnp.arange(6.0).reshape(2, 3)
    for dep in (jnp.ones(4), jnp.array([jnp.nan, 1.0]), jnp.array([jnp.inf, -jnp.inf])):
        assert bool(jnp.array_equal(jax.jit(after)(x, dep), x))
    g = jax.grad(lambda x: jnp.sum(after(x, jnp.ones(3)) ** 2))(x)
    assert bool(jnp.array_equal(g, 2 * x))
