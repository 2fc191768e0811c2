# Two entry points: `make demo` and `make test`. Each creates .venv when missing and
# installs the project with what it needs; both are quick when already set up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The demo needs only the library itself, not the test, docs and dask extras.
BASE_STAMP := $(VENV)/.installed-base

.PHONY: demo test lint typecheck docs notebooks bench clean install

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,docs,dask]"
	touch $(STAMP) $(BASE_STAMP)

$(BASE_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(BASE_STAMP)

install: $(STAMP)

demo: $(BASE_STAMP)
	$(BIN)/alloc demo --output-dir demo_output

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

notebooks: $(STAMP)
	$(BIN)/python -m pytest --nbmake --nbmake-timeout=600 -p no:randomly notebooks

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q tests
	$(BIN)/python -m pytest -q -p no:randomly --doctest-modules src/alloc
	$(BIN)/python -m pytest -q --nbmake --nbmake-timeout=600 notebooks
	$(BIN)/mkdocs build --strict --site-dir site

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_balance.py
	$(BIN)/python benchmarks/bench_scale.py

clean:
	rm -rf $(VENV) site demo_output .pytest_cache .mypy_cache .ruff_cache
