# The one entry point for developer commands. `make help` lists them.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: help setup run test test-sqlite test-postgres lint format schema bench clean

help:
	@echo "make run         set up and run ucfleet on SQLite at http://127.0.0.1:8000 (demo data; PORT=8001 for another port)"
	@echo "make test        set up and run the whole test suite (SQLite, then PostgreSQL if reachable)"
	@echo "make lint        ruff check, ruff format --check, mypy, import contracts, migration drift"
	@echo "make schema      regenerate the committed OpenAPI document"
	@echo "make bench       run the benchmarks in bench/"

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/ucfleet run --port $(PORT)

test: setup
	scripts/run-tests.sh

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python manage.py makemigrations --check --dry-run

format: setup
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

schema: setup
	$(BIN)/python manage.py spectacular --file src/ucfleet/api/openapi.yaml

bench: setup
	$(BIN)/python bench/schedule_all.py
	$(BIN)/python bench/reschedule.py
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/metrics_scrape.py
	$(BIN)/python bench/simulator.py

clean:
	rm -rf var test-artifacts .pytest_cache .mypy_cache .ruff_cache
