# Thin wrappers: every target is what a developer or CI runs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install lint fmt type check test test-fast bench demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the package with its dev extra

lint: install ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install ## format and auto-fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

type: install ## mypy
	$(BIN)/mypy

check: lint type ## lint + types

test: check ## install, check, and run the whole test suite (what CI runs)
	$(BIN)/pytest

test-fast: install ## the test suite without lint and type checks
	$(BIN)/pytest -x -q

bench: install ## run the benchmarks and update benchmarks/RESULTS.md
	$(BIN)/python benchmarks/features_bench.py

demo: install ## the main job (for now: install and show the CLI)
	$(BIN)/tipscore --help

clean: ## remove caches (keeps .venv, mlruns/ and state/)
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
