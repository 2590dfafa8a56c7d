# dancu — two commands do the whole set-up on a fresh machine with Python 3.11, make and a C compiler
# (uWSGI, the production server of ADR 0023, is built from source):
#   make run    install, migrate, load administrative units, seed the demo, serve on 127.0.0.1:8000
#   make test   the whole test suite (SQLite by default; PostgreSQL when DATABASE_URL points at one)

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install compiler browser java wrk lint typecheck migrations-check ci bench clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "make: Python 3.11 not found (set PYTHON=...)"; exit 1; }
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	$(PYTHON) -m venv $(VENV)

# uWSGI (the server extra, ADR 0023) is compiled by pip: a C compiler and Python's headers.
compiler: | $(BIN)/python
	@if [ ! -x $(BIN)/uwsgi ] && { ! command -v cc >/dev/null || ! $(BIN)/python -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; }; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's gcc and Python headers to build uWSGI"; \
	    (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev "python$$($(BIN)/python -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-dev" >/dev/null; \
	  else \
	    echo "make: a C compiler and Python's headers are needed to build uWSGI (Debian: apt-get install gcc python3-dev)"; exit 1; \
	  fi; \
	fi

$(STAMP): pyproject.toml | $(BIN)/python compiler
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,server]'
	@touch $@

install: $(STAMP)

run: install
	$(BIN)/dancu demo

# Browser tests drive Debian's Chromium (the test tools never download a browser).
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation fonts-dejavu-core >/dev/null; \
	  else \
	    echo "make: $(CHROMIUM) is missing: install Debian's 'chromium' package (sudo apt-get install chromium)"; exit 1; \
	  fi; \
	fi

# Spark (the linkage block's national-scale backend, tests marked "spark") needs a Java runtime:
# Debian's OpenJDK 17, the newest in the archive (pyspark itself comes from PyPI with the dev extra).
java:
	@if ! command -v java >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's openjdk-17-jre-headless for the Spark tests"; \
	    (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null; \
	  else \
	    echo "make: java is missing: install Debian's 'openjdk-17-jre-headless' package"; exit 1; \
	  fi; \
	fi

test: install browser java
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

migrations-check: install
	DJANGO_SETTINGS_MODULE=dancu.test_settings $(BIN)/dancu makemigrations --check --dry-run

ci: lint typecheck migrations-check test

# The HTTP benchmarks verify_http_bench.py and oidc_bench.py drive the server with
# Debian's wrk.
wrk:
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's wrk for the HTTP benchmarks"; \
	    (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; \
	  else \
	    echo "make: wrk is missing: install Debian's 'wrk' package"; exit 1; \
	  fi; \
	fi

bench: install wrk
	$(BIN)/python bench/seed_bench.py
	$(BIN)/python bench/lookup_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
