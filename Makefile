# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WITNESS_PORTS ?= 8101,8102

AXE := tests/e2e/node_modules/axe-core/axe.min.js

# The verifier package alone, as a platform installs it: a clean virtualenv
# with only the package (and pytest), outside this project's settings.
VERIFIER_VENV ?= /tmp/merchant-verifier-venv

.PHONY: verifier-test run test lint format migrate demo clean bench bench-http bench-audit

$(VENV)/.runtime: requirements.txt verifier/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt requirements-interop.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --ignore-requires-python --no-deps -r requirements-interop.txt
	touch $@

# axe-core for the browser tests' accessibility checks (tests/e2e/package.json,
# pinned), where npm is installed; without it (or without the registry) those
# tests are skipped, saying why, and `make test` goes on.
$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "make: no npm: the browser tests' accessibility checks will be skipped"; \
	elif npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error; then \
		touch $@; \
	else \
		echo "make: npm ci failed: the browser tests' accessibility checks will be skipped"; \
	fi

# Development server with demo data on the SQLite default (DEBUG on here only),
# and the demo's two witnesses (China's and Chile's regulators) beside it.
run: $(VENV)/.runtime
	DEBUG=1 $(PY) manage.py migrate --no-input
	DEBUG=1 $(PY) manage.py load_demo --host $(HOST) --port $(PORT)
	DEBUG=1 $(PY) manage.py run_demo_witnesses --ports $(WITNESS_PORTS) & witnesses=$$!; \
	trap 'kill $$witnesses 2>/dev/null; wait $$witnesses' EXIT INT TERM; \
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite against DATABASE_URL (SQLite when unset), then lint.
test: $(VENV)/.dev $(AXE)
	$(PY) -m pytest -p no:cacheprovider -n 2 $(PYTEST_ARGS)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

verifier-test:
	rm -rf $(VERIFIER_VENV)
	$(PYTHON) -m venv $(VERIFIER_VENV)
	$(VERIFIER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check ./verifier pytest==$$(sed -n 's/^pytest==//p' requirements-dev.txt)
	cd verifier && $(VERIFIER_VENV)/bin/python -m pytest -q -p no:cacheprovider tests

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The benchmark of the verification path (bench/README.md): in-process, on
# SQLite and PostgreSQL (DATABASE_URL's server, else 127.0.0.1:5432), each in
# a throwaway database, with the 1,000 and 1,000,000-merchant data sets.
# bench-http adds gunicorn + wrk. More flags: make bench ARGS="--check --no-scale".
bench: $(VENV)/.runtime
	$(PY) -m bench.run $(ARGS)

bench-http: $(VENV)/.runtime
	$(PY) -m bench.run --http $(ARGS)

# Pages of the regulators' audit API on a 1,000-row and a 1,000,000-row log
# (bench/README.md), SQLite and PostgreSQL, throwaway databases; about 5 min.
# More flags: make bench-audit ARGS="--check --databases postgresql".
bench-audit: $(VENV)/.runtime
	$(PY) -m bench.audit_pages $(ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 var staticfiles .pytest_cache .ruff_cache tests/e2e/node_modules

# Not in CI (README: Reliability checks). `make fault`: verifications
# under load while the local PostgreSQL cluster is stopped and started again
# (pg_ctlcluster; every other client of the cluster is interrupted);
# FAULT_ARGS=--private-cluster runs it on a throwaway cluster of its own.
# `make soak`: minutes of mixed traffic, zero errors, worker memory flat.
.PHONY: fault soak
fault: $(VENV)/.runtime
	$(PY) -m bench.fault $(FAULT_ARGS)

soak: $(VENV)/.runtime
	$(PY) -m bench.soak $(SOAK_ARGS)
