# Kinshop — `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

.DEFAULT_GOAL := help
.PHONY: help install demo serve test test-sqlite test-postgres lint format bench bench-insight bench-live migrations clean

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements/dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Kinshop needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

install: $(BIN)/.installed ## Create the virtual environment and install the locked dependencies.

demo: install ## Migrate the SQLite database, load the demo data and serve http://127.0.0.1:8000.
	KINSHOP_PAYMENT_SANDBOX=1 DEBUG=1 $(BIN)/kinshop demo

test: install ## Run the whole suite on SQLite, then on PostgreSQL when one is reachable.
	PYTHON=$(BIN)/python PG_URL=$(PG_URL) bash scripts/test.sh

lint: install ## ruff, mypy, the layers between apps (import-linter) and models against migrations.
	$(BIN)/ruff check kinshop tests bench
	$(BIN)/ruff format --check kinshop tests bench
	$(BIN)/mypy kinshop
	$(BIN)/lint-imports
	$(BIN)/kinshop makemigrations --check --dry-run

format: install ## Format the code with ruff.
	$(BIN)/ruff check --fix kinshop tests bench
	$(BIN)/ruff format kinshop tests bench

bench: install ## Measure Kinshop against PostgreSQL's own limits; writes bench/RESULTS.md.
	PYTHON=$(BIN)/python PG_URL=$(PG_URL) bash bench/run.sh

bench-insight: install ## Only the insight phase of the bench (BENCH_INSIGHT_ORDERS, BENCH_INSIGHT_EVENTS).
	PYTHON=$(BIN)/python PG_URL=$(PG_URL) bash bench/insight.sh

bench-live: install ## Only the live rooms phase (BENCH_LIVE_VIEWERS_MAX, BENCH_LIVE_RATE; needs Redis).
	PYTHON=$(BIN)/python PG_URL=$(PG_URL) bash bench/live.sh

clean: ## Remove the virtual environment and local data.
	rm -rf $(VENV) var
