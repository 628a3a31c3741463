# loa — the two commands of the README, and the steps they are made of.
#   make run    set up .venv, load the demo, serve on http://127.0.0.1:8080 with the scheduler running
#   make test   set the machine up for the tests (scripts/test-setup.sh: as root it installs the missing Debian
#               packages and starts PostgreSQL and MariaDB; otherwise it prints the sudo line and stops), install
#               the test tools, lint, check the layering, run the whole suite on SQLite, then the database-facing
#               part again on PostgreSQL (127.0.0.1:5432; LOA_TEST_POSTGRES_URL to change). Every run fails if
#               a server a test started is still running at its end (tests/servers/processes.py).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=
# The suite runs on both cores (pytest-xdist): its tests are independent (free ports, throwaway databases and folders,
# a WordPress and an Icecast per worker). Measured on the shared 2-core machine, the SQLite pass took 18:56 with -n 2
# against 28:48 in one process. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
# A worker that runs out of tests takes some of the other's (the longest ones, browsers and real processes, no longer
# leave one worker busy at the end while the other idles).
PYTEST_DIST ?= worksteal
# The PostgreSQL pass runs the whole suite again with --db=postgresql; tests/servers/postgres.py deselects every
# test whose database does not follow --db (parsers, audio, channels, CLI start-up, the tests that always use
# PostgreSQL already), so only the database-facing ones run twice. test_worker.py uses PostgreSQL on both passes.
PG_TESTS    ?= tests --ignore=tests/loa/test_worker.py

# Playwright drives Debian's Chromium; it must never download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test test-setup lint pytest pytest-postgresql demo clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "loa needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		echo "Python's venv module is missing: installing Debian's python3-venv (needs root)"; \
		apt-get update && apt-get install -y python3-venv && $(PYTHON) -m venv $(VENV); }
	@$(BIN)/python -m pip install -q --upgrade pip

# Installs again only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/loa demo
	$(BIN)/loa serve

demo: $(VENV)/.installed
	$(BIN)/loa demo

test: test-setup $(VENV)/.installed-dev lint pytest pytest-postgresql

test-setup:
	@bash scripts/test-setup.sh

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

pytest: $(VENV)/.installed-dev
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) $(PYTEST_ARGS)

pytest-postgresql: $(VENV)/.installed-dev
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) --db=postgresql $(PG_TESTS) $(PYTEST_ARGS)

clean:
	rm -rf var/ .pytest_cache .ruff_cache
