# Relasi developer commands. `make run` to use it, `make test` to check it. See README.md.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PYTHON_FOR_VENV ?= $(shell command -v python3.11 || command -v python3)
# uv installs the Python packages from uv.lock. Its version has one home, the dev extra in pyproject.toml
# ("uv==X.Y.Z"), which `uv lock --check` (make lint) ties to the lock.
UV_VERSION := $(shell sed -n 's/^ *"uv==\([^"]*\)".*/\1/p' pyproject.toml)
UV := $(BIN)/uv
INSTALLED := $(VENV)/.installed-$(shell cat pyproject.toml uv.lock 2>/dev/null | sha1sum | cut -c1-12)
ASSETS := node_modules/.installed-$(shell sha1sum package-lock.json | cut -c1-12)
PG_URL ?= postgres://postgres@127.0.0.1:5432/relasi
XDIST ?= -n 2
ROWS ?= 1000000
BENCH_ARGS ?=
BENCH_DB_URL ?= $(PG_URL)_bench

# uv never downloads a Python of its own (the venv's is the one), and trusts the certificates that the
# machine trusts (a proxy's CA in the system store), as pip and curl do.
export UV_PYTHON_DOWNLOADS := never
export UV_SYSTEM_CERTS ?= true

.PHONY: run setup lock uv test test-fast test-sqlite test-postgres test-api test-api-long lint typecheck migrations-check bench bench-interactions bench-hostile messages screenshots serve worker beat wheel test-ops clean

$(PY):
	$(PYTHON_FOR_VENV) -m venv $(VENV)

# The pinned uv, installed into the venv with pip.
uv: $(PY)
	@test -n "$(UV_VERSION)" || { echo 'ERROR: pyproject.toml has no "uv==X.Y.Z" in the dev extra.' >&2; exit 1; }
	$(PY) -m pip install --quiet uv==$(UV_VERSION)

# Exactly what uv.lock says (refused when the lock is stale: run `make lock`), and Relasi itself editable.
$(INSTALLED): $(PY) pyproject.toml uv.lock
	$(MAKE) --no-print-directory uv
	$(UV) sync --locked --extra dev --python $(PY) || { echo 'If uv.lock is out of date with pyproject.toml: make lock' >&2; exit 1; }
	rm -f $(VENV)/.installed-* && touch $@

$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -f node_modules/.installed-* && touch $@

setup: $(INSTALLED) $(ASSETS)

# Refresh uv.lock after a change to pyproject.toml; `make lock LOCK_ARGS=--upgrade` moves every package to
# its newest allowed release.
lock: uv
	$(UV) lock $(LOCK_ARGS)

# The development server. Without REDIS_URL it also runs the background jobs (imports, exports, emails) on threads of
# its own and the hourly schedule (relasi/core/background.py): no worker or beat to start.
run: setup
	$(PY) manage.py migrate --no-input
	$(PY) manage.py demo
	$(PY) manage.py runserver 127.0.0.1:8000

serve: run

# With REDIS_URL only: without it, they refuse to start (the web process runs the jobs).
worker: setup
	$(BIN)/relasi worker

# The scheduler: one, whatever the number of workers.
beat: setup
	$(BIN)/relasi beat

test: setup
	bash scripts/ensure-test-system.sh
	$(MAKE) --no-print-directory test-sqlite test-postgres test-api lint typecheck migrations-check

# The edit loop: SQLite only, no browser tests, no lint. `make test` is the whole thing.
test-fast: setup
	bash scripts/ensure-test-system.sh redis
	@echo "== test suite on SQLite, without the browser tests =="
	DATABASE_URL= RELASI_TESTING=1 $(BIN)/pytest $(XDIST) -q -m "not browser"

# Relasi's processes for real, apart from the suite (tests/ops; CI runs it after `make test`): the wheel built,
# installed into a fresh virtual environment and served from an empty folder; a worker killed mid-import.
test-ops: setup
	bash scripts/ensure-test-system.sh postgres redis
	@echo "== operations tests (tests/ops) =="
	DATABASE_URL= RELASI_TESTING=1 $(BIN)/pytest -q -m ops tests/ops

# Schemathesis against a live Relasi (gunicorn, DEBUG off, PostgreSQL): every check, a fixed seed, a bounded number
# of examples. test-api-long is the nightly run: more examples, a new seed each day (SEED=… to replay one).
test-api:
	bash scripts/ensure-test-system.sh postgres
	@echo "== Schemathesis against the live API =="
	PG_URL=$(PG_URL) $(PY) scripts/api_fuzz.py --max-examples 25 --seed 1

SEED ?= $(shell date +%Y%m%d)
test-api-long: setup
	bash scripts/ensure-test-system.sh postgres
	PG_URL=$(PG_URL) $(PY) scripts/api_fuzz.py --max-examples 300 --seed $(SEED)

test-sqlite:
	@echo "== test suite on SQLite =="
	DATABASE_URL= RELASI_TESTING=1 $(BIN)/pytest $(XDIST) -q

# The browser tests run once, on SQLite (the default setup they check); every other test on both databases.
test-postgres:
	@echo "== test suite on PostgreSQL ($(PG_URL)), without the browser tests =="
	DATABASE_URL=$(PG_URL) RELASI_TESTING=1 $(BIN)/pytest $(XDIST) -q -m "not browser"

lint:
	$(UV) lock --check || { echo 'uv.lock is out of date with pyproject.toml: make lock' >&2; exit 1; }
	$(BIN)/ruff check .
	$(BIN)/ruff format --check relasi config tests bench
	$(BIN)/lint-imports --no-cache

typecheck:
	$(BIN)/mypy relasi config

migrations-check:
	$(PY) manage.py makemigrations --check --dry-run

# Creates and migrates its own database on first use. Quick check:
# make bench ROWS=2000 BENCH_ARGS="--iterations 3 --import-rows 2000"
bench: setup
	bash scripts/ensure-test-system.sh postgres
	$(PY) scripts/ensure_database.py $(BENCH_DB_URL)
	DATABASE_URL=$(BENCH_DB_URL) $(BIN)/relasi migrate --no-input
	DATABASE_URL=$(BENCH_DB_URL) $(BIN)/relasi bench customers --rows $(ROWS) $(BENCH_ARGS)

# The customer page, the event API and the WhatsApp webhook (issue 10), in the database of `make bench` (a million
# customers by default). Quick check: make bench-interactions BENCH_ARGS="--iterations 5 --batches 20 --webhooks 200"
bench-interactions: setup
	bash scripts/ensure-test-system.sh postgres redis
	$(PY) scripts/ensure_database.py $(BENCH_DB_URL)
	DATABASE_URL=$(BENCH_DB_URL) $(BIN)/relasi migrate --no-input
	DATABASE_URL=$(BENCH_DB_URL) $(BIN)/relasi bench interactions --rows $(ROWS) $(BENCH_ARGS)

# How fast hostile input is refused (issue 8); its own scratch workspace, deleted at the end. Quick check:
# make bench-hostile BENCH_ARGS="--iterations 3"
bench-hostile: setup
	bash scripts/ensure-test-system.sh postgres
	$(PY) scripts/ensure_database.py $(BENCH_DB_URL)
	DATABASE_URL=$(BENCH_DB_URL) $(BIN)/relasi migrate --no-input
	DATABASE_URL=$(BENCH_DB_URL) $(PY) -m bench.hostile $(BENCH_ARGS)

# Pictures of the customers list (390 px and 1366 px, English and Indonesian) into docs/screenshots/.
screenshots: setup
	bash scripts/ensure-test-system.sh chromium
	$(PY) scripts/screenshots.py

# dist/relasi-*.whl, with the front-end libraries copied in from node_modules (setup.py).
wheel: setup
	$(UV) build --wheel --out-dir dist

messages:
	$(PY) manage.py makemessages -l id --no-obsolete --no-wrap --ignore=.venv --ignore=node_modules --ignore=var --ignore=tests --ignore=bench --ignore=build --ignore=dist
	$(PY) manage.py compilemessages -l id

clean:
	rm -rf $(VENV) node_modules var
