# graphmem developer tasks. `make demo` sets everything up and runs the demo;
# `make test` runs the linters, the type checker and the test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint typecheck pytest clean

$(BIN)/graphmem: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# PyTorch is pinned to the CPU build by the constraints file, before anything can pull CUDA.
	$(BIN)/pip install --quiet -c constraints.txt torch
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(BIN)/graphmem

setup: $(BIN)/graphmem

demo: setup
	$(BIN)/graphmem demo

lint: setup
	$(BIN)/ruff check graphmem tests benchmarks

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
