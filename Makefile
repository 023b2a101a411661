# VECTOR CRM - every entry point. `make demo` and `make test` work from a fresh clone.
# Configuration comes from the environment (see README.md); nothing here hard-codes it.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check --quiet
MANAGE := $(PY) manage.py
PYTEST_ARGS ?=
BENCH_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help demo run test lint format bench bench-bulk migrate messages static seed worker beat deps dev-deps

help:
	@echo "make demo     set up (venv, deps, migrate, messages, static, demo data) and serve on localhost:8000"
	@echo "make test     set up the dev venv and run every test (SQLite, or PostgreSQL/Redis when their URLs are set)"
	@echo "make lint     ruff check + ruff format --check"
	@echo "make format   ruff format + ruff check --fix"
	@echo "make bench    run the benchmarks (bench/run.py, BENCH_ARGS=...)"
	@echo "make bench-bulk  the bulk upsert API benchmark (bench/bulk_api.py, BENCH_ARGS=...)"
	@echo "make migrate | worker | beat | run (rundemo without the set-up steps)"

# --- environment -------------------------------------------------------------------------
$(PY):
	$(PYTHON) -m venv $(VENV)

# Stamp files: pip runs again only when a requirements file changes.
$(VENV)/.deps: requirements.txt | $(PY)
	$(PIP) install -r requirements.txt
	@touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install -r requirements-dev.txt
	@touch $@ $(VENV)/.deps

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

# --- demo ----------------------------------------------------------------------------------
demo: deps migrate messages static seed run

migrate: deps
	$(MANAGE) migrate --noinput

# Compiles every locale/*.po of the project (none yet: nothing to do).
messages: deps
	@if [ -z "$$(find . -path ./$(VENV) -prune -o -name '*.po' -path '*/locale/*' -print -quit)" ]; then \
		true; \
	elif command -v msgfmt >/dev/null 2>&1; then \
		$(MANAGE) compilemessages --ignore=$(VENV) --ignore=node_modules -v0; \
	else \
		echo "warning: gettext (msgfmt) is not installed; translations not compiled (apt-get install gettext)"; \
	fi

static: deps
	$(MANAGE) collectstatic --noinput -v0

seed: deps
	$(MANAGE) seed_demo

run: deps
	$(MANAGE) rundemo

worker: deps
	$(PY) -m celery -A vector_crm worker --loglevel=INFO

beat: deps
	$(PY) -m celery -A vector_crm beat --loglevel=INFO

# --- quality -------------------------------------------------------------------------------
test: dev-deps messages
	$(PY) -m pytest $(PYTEST_ARGS)

# Both checks always run, so one report shows everything to fix.
lint: dev-deps
	@status=0; \
	$(VENV)/bin/ruff check . || status=1; \
	$(VENV)/bin/ruff format --check . || status=1; \
	exit $$status

format: dev-deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: deps
	$(PY) bench/run.py $(BENCH_ARGS)

bench-bulk: deps
	$(PY) bench/bulk_api.py $(BENCH_ARGS)
