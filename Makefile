# Two entry points: `make demo` and `make test`. Both build their own virtualenv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-sqlite test-postgres lint emulator clean browser spfx postgres axe

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/plaza demo

# Browser tests drive Debian's chromium; browsers cannot be downloaded here.
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's PostgreSQL server binaries (initdb, pg_ctl, postgres), for the tests that start a
# throwaway cluster; Debian keeps them off PATH, in /usr/lib/postgresql/<version>/bin.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
PG_PATH = $$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 | sed 's/$$/:/')$$PATH

# The SharePoint Framework toolchain (and the Node.js 22 it runs on, an npm package) from the
# npm registry, for `plaza manifests build` and its test; skipped where npm is missing.
SPFX := manifests/sharepoint/node_modules/.installed
$(SPFX): manifests/sharepoint/package-lock.json
	@if command -v npm >/dev/null; then \
		cd manifests/sharepoint && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the SharePoint package will not be built"; fi

spfx: $(SPFX)

# axe-core (npm, locked) for the browser tests' accessibility checks.
AXE := tests/browser/axe/node_modules/.installed
$(AXE): tests/browser/axe/package-lock.json
	cd tests/browser/axe && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed

axe: $(AXE)

# One test file per worker at a time (module fixtures stay shared), the longest files first
# (tests/conftest.py orders them; xdist's own reordering is off).
PYTEST = PATH="$(PG_PATH)" $(BIN)/pytest -n auto --dist loadfile --no-loadscope-reorder --durations=20
# The tests that keep the social store or the index in PostgreSQL when PLAZA_TEST_BACKEND=postgres;
# tests/conftest.py keeps only those whose fixtures ask for the backend (the rest would run
# unchanged). Each pytest process starts a throwaway cluster (initdb/pg_ctl in a temporary
# directory; Debian's `postgresql` package).
BACKEND_TESTS = tests/overlay_app tests/pg tests/sync

# Every test on SQLite, then the backend-dependent ones on PostgreSQL; both runs always run, and
# the target fails if either did.
test: $(STAMP) browser spfx postgres axe
	$(BIN)/ruff check .
	status=0; $(PYTEST) || status=$$?; \
	PLAZA_TEST_BACKEND=postgres $(PYTEST) $(BACKEND_TESTS) || status=$$?; \
	exit $$status

test-sqlite: $(STAMP) browser spfx postgres axe
	$(PYTEST)

test-postgres: $(STAMP) postgres
	PLAZA_TEST_BACKEND=postgres $(PYTEST) $(BACKEND_TESTS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

emulator: $(STAMP)
	$(BIN)/plaza emulator serve

clean:
	rm -rf $(VENV) plaza-data .pytest_cache
