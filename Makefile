# Two entry points, both self-installing from a fresh clone with only python3 + pip:
#   make demo   -- install (runtime + examples extras) and run the main demonstration
#   make test   -- install (runtime + test extras) and run the default test suite
# jaxsci needs Python >= 3.12 (jax >= 0.11.2). PYTHON defaults to the newest python3.13 /
# python3.12 found (tools/find-python.sh, which says what to install if there is none);
# override with `make test PYTHON=/path/to/python3.12`.
ifeq ($(origin PYTHON), undefined)
PYTHON := $(shell sh tools/find-python.sh)
endif
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
	@test -n "$(PYTHON)" || { sh tools/find-python.sh; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || \
	  { echo "PYTHON=$(PYTHON) is older than 3.12; jaxsci needs Python >= 3.12." >&2; exit 1; }
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then \
	  echo "Removing $(VENV): it was made with Python < 3.12"; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,examples]"
	touch $(STAMP)

# Reference tools for benchmarks/ (scikit-sundae, PyDMD, DeepXDE + torch, ...): heavy, and
# never needed by `make test` or `make demo`.
bench-install: $(STAMP)
	$(PY) -m pip install --quiet -e ".[bench]"

install: $(STAMP)

# The demo keeps its compiled programs in JAX's persistent cache (jaxsci.enable_compilation_cache;
# default ~/.cache/jaxsci/xla, or $$JAXSCI_CACHE_DIR): a second `make demo` skips most compiles.
demo: $(STAMP)
	MPLBACKEND=Agg $(PY) examples/tour --out jaxsci-out

test: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal tests

test-slow: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -q -m slow tests

clean:
	rm -rf $(VENV) jaxsci-out .pytest_cache .hypothesis
