"""Shared test configuration: float64, strict rank promotion, a seeded key fixture."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

from _xla import TEST_XLA_FLAGS  # noqa: E402

# Before jax is imported: XLA reads XLA_FLAGS once (see tests/_xla.py for why and how to opt out).
os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {TEST_XLA_FLAGS}".strip()

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

import hypothesis  # noqa: E402
import jax.random as jr  # noqa: E402
import pytest  # noqa: E402

hypothesis.settings.register_profile(
    "jaxsci",
    max_examples=25,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
    derandomize=True,
)
hypothesis.settings.load_profile("jaxsci")


@pytest.fixture
def key() -> jax.Array:
    """A fixed PRNG key: tests are deterministic."""
    return jr.key(20261122)


@pytest.fixture
def getkey(key):
    """A callable returning a fresh key each call (deterministic sequence)."""
    state = {"key": key}

    def _next() -> jax.Array:
        state["key"], sub = jr.split(state["key"])
        return sub

    return _next
