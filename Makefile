# Two commands do all set-up on a fresh machine:
#   make run    creates .venv, imports the bundled sample call logs into the
#               embedded SQLite store (data/callwatch.db) and prints the numbers
#   make test   installs what the tests need (Python packages, and Debian's
#               chromium + chromedriver when run as root), runs ruff, mypy and the suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE := callwatch/sample

.PHONY: run test lint bench venv test-deps clean

$(BIN)/callwatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

venv: $(BIN)/callwatch

run: venv
	$(BIN)/callwatch import $(SAMPLE)/Master.csv $(SAMPLE)/queue_log
	$(BIN)/callwatch metrics
	$(BIN)/callwatch metrics --by day

$(VENV)/.test-deps: pyproject.toml $(BIN)/callwatch
	$(BIN)/pip install -q -e '.[test]'
	bash scripts/install-system-deps.sh
	touch $@

test-deps: $(VENV)/.test-deps

test: test-deps
	$(BIN)/ruff check callwatch tests bench scripts
	$(BIN)/mypy callwatch
	$(BIN)/python -m pytest

lint: test-deps
	$(BIN)/ruff check callwatch tests bench scripts
	$(BIN)/mypy callwatch

bench: test-deps
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) data .pytest_cache
