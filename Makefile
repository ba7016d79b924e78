# SportsFeed: `make up` runs the platform, `make test` passes the tests. Both install
# whatever is missing first and are safe to run again.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Every dependency comes from uv.lock (pinned, with hashes; docs/dependencies.md); uv itself
# from infra/python/uv.txt (pinned, with hashes), installed into the venv by pip.
UV := $(VENV)/bin/uv
export UV_PYTHON_DOWNLOADS := never
# uv installs without bytecode, and under PYTHONDONTWRITEBYTECODE=1 (this machine's shells
# set it) Python never writes it: every process compiled its imports from source, about
# 2 s of CPU per service or test subprocess started. Compiled once, at install.
export UV_COMPILE_BYTECODE := 1
LOCK_STALE := uv.lock does not match pyproject.toml: refresh it with 'make lock' (uv lock), then commit uv.lock
# Every recipe that talks to the stack reads its settings from .data/local.env.
WITH_ENV := source infra/local/env.sh &&

.PHONY: help setup venv lock lock-upgrade lock-check stack migrate topics tools up down status test unit lint typecheck pytest bench history clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml uv.lock infra/python/uv.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "Python 3.11+ is required (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r infra/python/uv.txt
	@$(UV) lock --check --offline -q 2>/dev/null || $(UV) lock --check -q || { echo "$(LOCK_STALE)"; exit 1; }
	$(UV) sync --frozen --extra dev --inexact -q
	@touch $@

venv: $(STAMP)  ## create .venv with the project and its dev tools, exactly as uv.lock pins them

lock: ## refresh uv.lock after a change to pyproject.toml (other pins stay as they are)
	@test -x $(UV) || { test -x $(PY) || $(PYTHON) -m venv $(VENV); $(PY) -m pip install -q --require-hashes -r infra/python/uv.txt; }
	$(UV) lock

lock-upgrade: ## move every pin of uv.lock to the newest versions pyproject.toml allows
	@test -x $(UV) || { test -x $(PY) || $(PYTHON) -m venv $(VENV); $(PY) -m pip install -q --require-hashes -r infra/python/uv.txt; }
	$(UV) lock --upgrade

lock-check: venv  ## fail when uv.lock does not match pyproject.toml
	@$(UV) lock --check --offline -q 2>/dev/null || $(UV) lock --check -q || { echo "$(LOCK_STALE)"; exit 1; }

stack: venv  ## install (if missing) and start Kafka, MariaDB and Redis
	infra/local/stack.sh start

migrate: stack  ## apply the MySQL migrations
	$(WITH_ENV) $(PY) -m shared.storage.migrate

topics: stack  ## create the Kafka topics (never auto-created)
	$(WITH_ENV) $(PY) -m shared.topics

setup: venv stack migrate topics  ## everything `up` and `test` need

up: setup  ## run the whole platform with the feed generator and Prometheus (imports the football history and fits models once)
	HISTORY_DATA=$(HISTORY_DATA) infra/local/services.sh start
	infra/local/prometheus.sh start
	@echo "  prometheus     http://127.0.0.1:$${SPORTSFEED_PROMETHEUS_PORT:-9090}/targets   operations page: http://127.0.0.1:4002/ops"

down:  ## stop Prometheus, the services and the stack
	@if [ -x infra/local/prometheus.sh ]; then infra/local/prometheus.sh stop; fi
	@if [ -x infra/local/services.sh ]; then infra/local/services.sh stop; fi
	infra/local/stack.sh stop

status:  ## report each part of the platform, and Prometheus's scrape targets
	@infra/local/stack.sh status || true
	@if [ -x infra/local/services.sh ]; then infra/local/services.sh status || true; fi
	@infra/local/prometheus.sh status || true

HISTORY_DATA ?= ../shared/data/football-data

history: migrate  ## import the football-data.co.uk files of HISTORY_DATA (default ../shared/data/football-data)
	$(WITH_ENV) $(PY) -m services.history import $(HISTORY_DATA)
	$(WITH_ENV) $(PY) -m services.history status

lint: venv  ## ruff
	$(VENV)/bin/ruff check .

typecheck: venv  ## mypy --strict
	$(VENV)/bin/mypy

unit: venv  ## the unit tests alone: no stack, no I/O, about a minute
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/unit

tools: ## install the Debian tools the tests use (chromium for the browser tests, prometheus and promtool)
	infra/local/tools.sh test

pytest: setup tools  ## the tests (unit, integration and e2e against the real stack)
	$(WITH_ENV) $(VENV)/bin/pytest -q -p no:cacheprovider

test: setup lock-check lint typecheck pytest  ## set up, check the lock, lint, type-check and run every test

bench: setup  ## run the benchmarks and write the report under .data/bench/
	infra/local/tools.sh bench
	$(WITH_ENV) $(PY) -m tests.bench

clean: down  ## stop everything and delete local data and the venv
	rm -rf .data $(VENV)
