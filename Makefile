# Two commands on a fresh clone: `make run` (the demo) and `make test` (lint, types, tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint typecheck pytest system-packages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@mkdir -p .run
	@# the sandbox starts from its demo tenant on every run, so the demo database does too
	@rm -f .run/callbridge-demo.db .run/callbridge-demo.db-wal .run/callbridge-demo.db-shm
	@echo ""
	@echo "callbridge demo: sandbox (Bullhorn + Aircall fakes), web, worker, console, call simulator"
	@echo "  web (API, webhooks, cards)  http://127.0.0.1:8000/healthz   http://127.0.0.1:8000/readyz"
	@echo "  ops console                 http://127.0.0.1:8501"
	@echo "  sandbox index               http://127.0.0.1:8100/"
	@echo "  API key for /api/*          demo-api-key"
	@echo "Ctrl-C stops everything."
	@echo ""
	$(BIN)/honcho -f Procfile.demo -e demo.env start

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

system-packages:
	@scripts/system_packages.sh

# two processes: the fault suite and the browser test mostly wait on their own servers
pytest: $(STAMP) system-packages
	$(BIN)/pytest -n 2

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .run .mypy_cache .ruff_cache .pytest_cache
