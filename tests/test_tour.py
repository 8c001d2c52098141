"""`make demo` runs `examples/tour` (outside the installed package). Its capability modules
must import against the current API and expose `TITLE` and `run(out)`; running them is the
demo's job, not the fast suite's."""

import importlib
import importlib.util
import pathlib
import sys

import pytest

TOUR = pathlib.Path(__file__).resolve().parents[1] / "examples" / "tour"


def test_every_capability_module_imports():
    spec = importlib.util.spec_from_file_location("_tour_main", TOUR / "__main__.py")
    main = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main)
    assert main.CAPABILITIES, "the tour lists no capability"
    sys.path.insert(0, str(TOUR))
    try:
        for name in main.CAPABILITIES:
            mod = importlib.import_module(f"_{name}")
            assert isinstance(mod.TITLE, str) and callable(mod.run), name
    finally:
        sys.path.remove(str(TOUR))
    on_disk = {p.stem[1:] for p in TOUR.glob("_*.py") if not p.stem.startswith("__")}
    assert on_disk == set(main.CAPABILITIES), "a tour module is not listed in CAPABILITIES"


def test_unknown_capability_is_refused():
    spec = importlib.util.spec_from_file_location("_tour_main2", TOUR / "__main__.py")
    main = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main)
    with pytest.raises(SystemExit):
        main.main(["--only", "no_such_capability"])
