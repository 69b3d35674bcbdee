# Relasi developer commands. `make run` to use it, `make test` to check it. See README.md.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PYTHON_FOR_VENV ?= $(shell command -v python3.11 || command -v python3)
INSTALLED := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
ASSETS := node_modules/.installed-$(shell sha1sum package-lock.json | cut -c1-12)
PG_URL ?= postgres://postgres@127.0.0.1:5432/relasi
XDIST ?= -n 2

.PHONY: run setup test test-sqlite test-postgres lint typecheck migrations-check bench messages serve worker clean

$(PY):
	$(PYTHON_FOR_VENV) -m venv $(VENV)

$(INSTALLED): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -f node_modules/.installed-* && touch $@

setup: $(INSTALLED) $(ASSETS)

run: setup
	$(PY) manage.py migrate --no-input
	$(PY) manage.py demo
	$(PY) manage.py runserver 127.0.0.1:8000

serve: run

worker: setup
	$(BIN)/relasi worker

test: setup
	bash scripts/ensure-test-system.sh
	$(MAKE) --no-print-directory test-sqlite test-postgres lint typecheck migrations-check

test-sqlite:
	@echo "== test suite on SQLite =="
	DATABASE_URL= RELASI_TESTING=1 $(BIN)/pytest $(XDIST) -q

test-postgres:
	@echo "== test suite on PostgreSQL ($(PG_URL)) =="
	DATABASE_URL=$(PG_URL) RELASI_TESTING=1 $(BIN)/pytest $(XDIST) -q

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check relasi config tests bench

typecheck:
	$(BIN)/mypy relasi config

migrations-check:
	$(PY) manage.py makemigrations --check --dry-run

bench: setup
	bash scripts/ensure-test-system.sh
	DATABASE_URL=$(PG_URL)_bench $(BIN)/relasi bench customers --rows $${ROWS:-1000000}

messages:
	$(PY) manage.py makemessages -l id --no-obsolete --ignore=.venv --ignore=node_modules --ignore=var --ignore=tests --ignore=bench
	$(PY) manage.py compilemessages -l id

clean:
	rm -rf $(VENV) node_modules var
