"""Every public entry point has bad-input tests (issue: bad input never yields a silent NaN).

Each name exported by `jaxsci/<pkg>/__init__.py` must be exercised in
`tests/<pkg>/test_bad_input.py` (the name appears there), unless it is listed in `EXEMPT`
with the reason it takes no input that could be bad (a constant, an abstract base class, a
type). The tests themselves assert the error type and message (DESIGN rule 6).
"""

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = sorted(
    p.name for p in (ROOT / "jaxsci").iterdir()
    if (p / "__init__.py").exists() and p.name != "testing"
)

_CONSTANT = "a constant, not a callable"
_ABSTRACT = "an abstract base class (its concrete subclasses are tested)"
_STATE = "an optimiser state built by the transformation's own `init`, not by users"
EXEMPT: dict[str, str] = {
    "diagnostics.ACTIVE": _CONSTANT,
    "diagnostics.PERMANENT": _CONSTANT,
    "diagnostics.TENTATIVE": _CONSTANT,
    "gp.DEFAULT_NOISE": _CONSTANT,
    "mechanics.GROUND_INVARIANTS": _CONSTANT,
    "dae.AbstractCircuit": _ABSTRACT,
    "dae.AbstractRosenbrock": _ABSTRACT,
    "dae.AbstractJacobian": _ABSTRACT,
    "dae.DenseJacobian": "takes no arguments (the default structure; tested in tests/dae/test_banded.py)",
    "rom.AbstractFOM": _ABSTRACT,
    "init.AbstractReLUInit": _ABSTRACT,
    "kernels.AbstractKernel": _ABSTRACT,
    "koopman.AbstractDictionary": _ABSTRACT,
    "nn.AbstractAdaptiveBasisNet": _ABSTRACT,
    "nn.AbstractLayeredNet": _ABSTRACT,
    "nn.AbstractPartition": _ABSTRACT,
    "optim.AbstractSecondMoment": _ABSTRACT,
    "pinn.AbstractFlux": _ABSTRACT,
    "pinn.AbstractPDEProblem": _ABSTRACT,
    "pinn.AbstractSpaceTime1DProblem": _ABSTRACT,
    "pinn.AbstractSampler": _ABSTRACT,
    "train.AbstractTrainer": _ABSTRACT,
    "train.AbstractCallback": _ABSTRACT,
    "train.AbstractStop": _ABSTRACT,
    "train.AbstractBasisOperator": _ABSTRACT,
    "optim.LineSearchState": _STATE,
    "optim.MomentumState": _STATE,
    "optim.StagnationDecayState": _STATE,
    "optim.AdaptiveState": _STATE,
    "optim.StochasticArmijoState": _STATE,
    "optim.NewtonState": _STATE,
    "nn.LayerView": "returned by `layer_view` (tested), not built by users",
    "train.Trajectory": "the container `record_trajectory` returns (tested), not built by users",
    "dae.RodasInterpolation": "built by the Rosenbrock solvers inside `diffeqsolve` (dense output), not by users",
    "sensitivity.SaltelliIndices": "the container `saltelli_indices` returns (tested), not built by users",
}


def exported(pkg: str) -> list[str]:
    tree = ast.parse((ROOT / "jaxsci" / pkg / "__init__.py").read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names += [a.asname for a in node.names if a.asname and a.asname == a.name]
    return names


@pytest.mark.parametrize("pkg", PACKAGES)
def test_every_export_has_bad_input_tests(pkg):
    path = ROOT / "tests" / pkg / "test_bad_input.py"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing"
    text = path.read_text()
    tested = {n for n in exported(pkg) if re.search(rf"\b{re.escape(n)}\b", text)}
    missing = [n for n in exported(pkg) if n not in tested and f"{pkg}.{n}" not in EXEMPT]
    assert not missing, f"jaxsci.{pkg} exports without bad-input tests: {missing}"
