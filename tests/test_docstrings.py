"""Every public symbol of every sub-package has a docstring, in the one house style.

The style is Markdown (`**Arguments:**`, `**Returns:**` followed by `- \\`name\\`: ...` lists),
as rendered by mkdocstrings / read on GitHub; Google-style section headers (`Args:`,
`Returns:` on a line of their own) are refused so there is one style to read and write.
"""

import importlib
import inspect
import pkgutil
import re

import pytest

import jaxsci

SUBPACKAGES = sorted(
    m.name for m in pkgutil.iter_modules(jaxsci.__path__) if m.ispkg and not m.name.startswith("_")
)
GOOGLE = re.compile(r"^\s*(Args|Arguments|Returns|Attributes|Raises|Parameters|Yields):\s*$", re.M)


def _doc(obj) -> str:
    doc = obj.__doc__
    if inspect.isclass(obj):
        # an inherited docstring (e.g. eqx.Module's) does not document the class
        if any(doc is getattr(b, "__doc__", None) for b in obj.__mro__[1:]):
            return ""
    elif not inspect.isfunction(obj) and doc == type(obj).__doc__:
        doc = getattr(getattr(obj, "__wrapped__", None), "__doc__", None)  # jit wrappers
    return (doc or "").strip()


def _public(sub: str):
    mod = importlib.import_module(f"jaxsci.{sub}")
    for name in sorted(dir(mod)):
        obj = getattr(mod, name)
        if name.startswith("_") or inspect.ismodule(obj) or not callable(obj):
            continue
        yield name, obj


@pytest.mark.parametrize("sub", SUBPACKAGES)
def test_public_symbols_have_docstrings(sub):
    assert (importlib.import_module(f"jaxsci.{sub}").__doc__ or "").strip(), f"jaxsci.{sub}"
    missing = [name for name, obj in _public(sub) if not _doc(obj)]
    assert not missing, f"jaxsci.{sub}: no docstring on {missing}"


@pytest.mark.parametrize("sub", SUBPACKAGES)
def test_one_docstring_style(sub):
    google = [name for name, obj in _public(sub) if GOOGLE.search(_doc(obj))]
    assert not google, (
        f"jaxsci.{sub}: Google-style section headers in {google}; write `**Arguments:**` / "
        "`**Returns:**` with `- `name`: ...` lists (Markdown, the house style)"
    )
