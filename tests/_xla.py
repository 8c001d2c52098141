"""The XLA flags the test suite runs under, also handed to the subprocesses tests start.

`--xla_backend_optimization_level=0` turns off LLVM's optimisation passes in XLA:CPU code
generation. Compilation dominates the suite (most tests compile small programs once and run
them for milliseconds) and this cuts the default suite's wall time by about a third
(measured: tests/mechanics + tests/gp, 116 s -> 79 s on 2 cores). It changes how fast the
generated code runs, not what it computes (no fast-math; the HLO passes are untouched), so
every value test still checks the same numbers. Set `JAXSCI_TEST_XLA_OPT=1` to run the suite
at XLA's default optimisation level instead.
"""

import os

TEST_XLA_FLAGS = "" if os.environ.get("JAXSCI_TEST_XLA_OPT") == "1" else (
    "--xla_backend_optimization_level=0"
)


def child_env(**extra: str) -> dict[str, str]:
    """`os.environ` plus `extra`, with `XLA_FLAGS` set to the suite's flags only.

    Subprocess tests start from JAX's default configuration (no flag of the parent, such as a
    forced host device count, leaks in) apart from the compile-speed flag above.
    """
    env = dict(os.environ, **extra)
    env["XLA_FLAGS"] = TEST_XLA_FLAGS
    return env
