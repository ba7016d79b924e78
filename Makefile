# SportsFeed: `make up` runs the platform, `make test` passes the tests. Both install
# whatever is missing first and are safe to run again.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Every recipe that talks to the stack reads its settings from .data/local.env.
WITH_ENV := source infra/local/env.sh &&

.PHONY: help setup venv stack migrate topics tools up down status test unit lint typecheck pytest bench history clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "Python 3.11+ is required (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

venv: $(STAMP)  ## create .venv with the project and its dev tools

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

test: setup lint typecheck pytest  ## set up, lint, type-check and run every test

bench: setup  ## run the benchmarks and write the report under .data/bench/
	infra/local/tools.sh bench
	$(WITH_ENV) $(PY) -m tests.bench

clean: down  ## stop everything and delete local data and the venv
	rm -rf .data $(VENV)
