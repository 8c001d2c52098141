# Two entry points, both self-installing from a fresh clone with only python3 + pip:
#   make demo   -- install (runtime + examples extras) and run the main demonstration
#   make test   -- install (runtime + test extras) and run the default test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.jaxsci-installed
PYTEST_WORKERS ?= 2
# One OpenBLAS thread per process: jaxlib's CPU LAPACK calls (Cholesky, triangular solves)
# go through OpenBLAS, whose spinning worker threads oversubscribe a small machine running
# two pytest workers (measured 100-1000x slower small solves under load; docs/gp.md).
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: demo test test-slow bench-install install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,examples]"
	touch $(STAMP)

# Reference tools for benchmarks/ (scikit-sundae, PyDMD, DeepXDE + torch, ...): heavy, and
# never needed by `make test` or `make demo`.
bench-install: $(STAMP)
	$(PY) -m pip install --quiet -e ".[bench]"

install: $(STAMP)

demo: $(STAMP)
	MPLBACKEND=Agg $(PY) -m jaxsci.demo --out jaxsci-out

test: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -q -n $(PYTEST_WORKERS) tests

test-slow: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -q -m slow tests

clean:
	rm -rf $(VENV) jaxsci-out .pytest_cache .hypothesis
