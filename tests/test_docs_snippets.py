"""Every ```python block of README.md and docs/*.md runs as written.

The blocks of one page run in order in one fresh interpreter (a later block may use names
of an earlier one, as a reader would), with JAX's default configuration (no x64 or
rank-promotion settings of the test suite leak in). A block whose info string is
```python no-run (e.g. a multi-host recipe) is skipped; plain ``` blocks are not Python.
Pages whose snippets are paper-scale are listed in `SLOW` and run with `-m slow`.
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest
from _xla import child_env

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
_BLOCK = re.compile(r"^```python([^\n]*)\n(.*?)^```", re.M | re.S)
# Pages whose snippets take minutes (full-size sweeps / trainings as the paper states them).
SLOW: set[str] = {"docs/pinn.md"}  # 5,000 Adam + 2,000 L-BFGS steps at Nr = 10,000: ~2.5 min
TIMEOUT = 600


def blocks(page: pathlib.Path) -> list[str]:
    return [
        code for info, code in _BLOCK.findall(page.read_text()) if "no-run" not in info.split()
    ]


def _params():
    for page in PAGES:
        if not blocks(page):
            continue
        name = page.relative_to(ROOT).as_posix()
        marks = [pytest.mark.slow] if name in SLOW else []
        yield pytest.param(page, id=name, marks=marks)


def test_blocks_are_found():
    assert blocks(ROOT / "README.md"), "README.md should have a ```python tour"


@pytest.mark.parametrize("page", list(_params()))
def test_snippets_run(page, tmp_path):
    code = "\n\n".join(
        f"# --- block {i} of {page.name}\n{b}" for i, b in enumerate(blocks(page))
    )
    script = tmp_path / "snippets.py"
    script.write_text(code)
    env = child_env(MPLBACKEND="Agg", JAXSCI_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=TIMEOUT,
    )
    assert out.returncode == 0, f"{page.name} snippets failed:\n{out.stderr[-4000:]}"
