"""The package's layering, checked on the import statements of every module in `jaxsci/`.

1. No sub-package imports another sub-package's private module (`from ..train._loop import`
   is an error: import the public name from `jaxsci.train`). Top-level private modules
   (`jaxsci._solution`, `jaxsci._hoist`, ...) are the shared core every sub-package may use.
2. A sub-package imports only the sub-packages declared below it in `LAYERS` (no cycles).
3. No module imports a private module of a dependency (`diffrax._term`, `jax._src`) except
   the entries of `PRIVATE_ALLOWED`, each with the reason no public route exists.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "jaxsci"

# sub-package -> the sub-packages it may import (the layering of docs/index.md)
LAYERS: dict[str, set[str]] = {
    "kernels": set(),
    "polynomials": set(),
    "gp": {"kernels"},
    "mechanics": {"kernels", "gp"},
    "nn": {"polynomials"},
    "init": {"nn"},
    "optim": set(),
    "train": {"nn", "init", "optim"},
    "pinn": {"nn", "init", "optim", "train"},
    "koopman": {"polynomials", "nn", "init", "optim", "train"},
    "diagnostics": {"nn", "init", "train"},
    "surrogates": {"polynomials", "nn", "init", "optim", "train"},
    "dae": set(),
    "sensitivity": set(),
    "rom": {"polynomials", "nn", "init", "optim", "train", "surrogates"},
}
LAYERS["testing"] = set(LAYERS)  # hypothesis strategies may build any object
THIRD_PARTY = ("jax", "jaxlib", "equinox", "optax", "diffrax", "lineax", "optimistix")
PRIVATE_ALLOWED: dict[tuple[str, str], str] = {}


def _modules():
    for f in sorted(ROOT.rglob("*.py")):
        parts = ("jaxsci", *f.relative_to(ROOT).with_suffix("").parts)
        yield f, parts


def _imports(f: pathlib.Path, parts: tuple[str, ...]):
    """Absolute dotted names imported by `f` (for `from a import b`: `a` and `a.b`)."""
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    tree = ast.parse(f.read_text(), filename=str(f))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            yield node.lineno, mod
            for a in node.names:
                yield node.lineno, f"{mod}.{a.name}"


def _subpackage(dotted: str) -> str | None:
    p = dotted.split(".")
    return p[1] if len(p) > 1 and p[0] == "jaxsci" and not p[1].startswith("_") else None


def _is_private_module(dotted: str) -> bool:
    """`jaxsci.<sub>._x...`: a private module inside a sub-package."""
    p = dotted.split(".")
    return len(p) > 2 and p[0] == "jaxsci" and p[2].startswith("_") and not p[2].startswith("__")


def test_subpackages_are_declared():
    subs = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    missing = subs - set(LAYERS)
    assert not missing, f"declare the layer of {sorted(missing)} in tests/test_layering.py LAYERS"


def test_no_private_imports_across_subpackages():
    bad = []
    for f, parts in _modules():
        own = _subpackage(".".join(parts))
        for line, mod in _imports(f, parts):
            if _is_private_module(mod) and _subpackage(mod) != own:
                bad.append(f"{f.relative_to(ROOT.parent)}:{line} imports {mod}")
    assert not bad, "private cross-package imports:\n" + "\n".join(sorted(set(bad)))


def test_layering():
    bad = []
    for f, parts in _modules():
        own = _subpackage(".".join(parts))
        if own is None:
            continue
        for line, mod in _imports(f, parts):
            other = _subpackage(mod)
            if other is not None and other != own and other not in LAYERS.get(own, set()):
                bad.append(f"{f.relative_to(ROOT.parent)}:{line}: {own} imports {other}")
    assert not bad, "imports against the layering (LAYERS):\n" + "\n".join(sorted(set(bad)))


def test_no_private_modules_of_dependencies():
    bad = []
    for f, parts in _modules():
        for line, mod in _imports(f, parts):
            p = mod.split(".")
            private = [i for i, q in enumerate(p) if i and q.startswith("_") and not q.startswith("__")]
            if p[0] in THIRD_PARTY and private:
                dep = ".".join(p[: private[0] + 1])
                if (".".join(parts), dep) not in PRIVATE_ALLOWED:
                    bad.append(f"{f.relative_to(ROOT.parent)}:{line} imports {dep}")
    assert not bad, "private modules of dependencies:\n" + "\n".join(sorted(set(bad)))


@pytest.mark.parametrize("sub", sorted(LAYERS))
def test_layers_are_acyclic(sub):
    seen, stack = set(), [sub]
    while stack:
        for dep in LAYERS[stack.pop()]:
            assert dep != sub or sub == "testing", f"cycle through {sub}"
            if dep not in seen and dep != "testing":
                seen.add(dep)
                stack.append(dep)
