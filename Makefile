# The two commands of the README, on a machine with only Python 3.11+ (and make).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test lint bench install

$(BIN)/initiatief: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/initiatief

serve: install  ## start the product: web pages, API and scheduler on http://127.0.0.1:8000
	$(BIN)/initiatief serve

test: install  ## the whole test suite (set INITIATIEF_TEST_DATABASE_URL for PostgreSQL)
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install  ## speed measurements, printed as ratios against a baseline of the same run
	$(BIN)/python -m pytest -m benchmark tests/benchmarks -s
