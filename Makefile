# Every target sets up what it needs; `make` alone lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Wheels built once and reused (quickfix takes minutes to compile); .ci/run fills it, pip falls back to sources.
WHEEL_CACHE ?= $(HOME)/.cache/hft-wheels
PROTOS := $(shell find src -name '*.proto')
# The gRPC modules generated from PROTOS are build output, not sources (hft.gateways.grpc.codegen).
SOURCES := $(shell find src -name '*.py' ! -name '*_pb2.py' ! -name '*_pb2_grpc.py') $(PROTOS) pyproject.toml setup.py mypyc.ini
GENERATED := src/hft/gateways/grpc/v1/trading_pb2.py

.PHONY: help install proto run test test-compiled test-pure check format bench soak clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate $(SOURCES)
	$(BIN)/python -m pip install --quiet --find-links $(WHEEL_CACHE) '.[dev]'
	@touch $@

install: $(VENV)/.installed $(GENERATED) ## Create .venv and install hft with its compiled engine and dev tools

proto: $(GENERATED) ## Generate the gRPC modules into the source tree (install does; so does their first import)

$(GENERATED): $(PROTOS) | $(VENV)/.installed
	PYTHONPATH=src $(BIN)/python -m hft.gateways.grpc.codegen

run: install ## Set up and run the platform: the venue on http://127.0.0.1:8000 (Ctrl-C stops it)
	$(BIN)/hft serve

test: test-compiled test-pure ## Set up and run every test: compiled engine, then the pure-Python fallback

test-compiled: install
	HFT_EXPECT_COMPILED=1 $(BIN)/python -m pytest

test-pure: install
	HFT_EXPECT_COMPILED=0 PYTHONPATH=src $(BIN)/python -m pytest tests/unit tests/property

check: install ## Lint, check formatting and type-check
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

format: install ## Format and auto-fix lint findings
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

bench: install ## Benchmark the engine and the durable core on the shared 1,000,000-command flow
	$(BIN)/hft bench engine --orders 1000000
	$(BIN)/hft bench core --orders 1000000

soak: install ## Long property-test runs, 2,000 crash kills, 200 outages per service (an hour or more); not in `make test`
	HYPOTHESIS_PROFILE=soak $(BIN)/python -m pytest tests/property
	HFT_CRASH_KILLS=2000 $(BIN)/python -m pytest tests/integration/test_crash_recovery.py
	OUTAGE_CYCLES=200 $(BIN)/python -m pytest tests/integration/outages

clean: ## Remove the virtual environment and build output
	rm -rf $(VENV) build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
	find src -name '*_pb2.py' -o -name '*_pb2.pyi' -o -name '*_pb2_grpc.py' | xargs rm -f
