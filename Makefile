# The two commands: `make run` starts TDS, `make test` checks it.
SHELL := /bin/bash
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3
export PATH := $(BIN):$(PATH)

.PHONY: run test install lint typecheck services bench clean

run: install ## create .venv if needed, migrate, start web, worker, beat, Flower (and the sandbox)
	tds db upgrade
	tds run

test: install lint typecheck services ## install, lint, type-check and run the suite (SQLite + Postgres + Redis)
	TDS_REQUIRE_SERVICES=$${CI:+1} pytest $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: install
	ruff check .

typecheck: install
	mypy

services: ## make sure the local Postgres and Redis answer (starts them when down)
	bash scripts/services.sh

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
