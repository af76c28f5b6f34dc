# Thin wrappers: every target is what a developer or CI runs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install lint fmt type check browser postgres test test-reliability test-fast bench demo mlflow-ui clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt codegen-requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	# the client generator's own venv (it pins an older typer): tests/service/test_generated_client.py
	test -x $(VENV)/codegen/bin/python || $(BIN)/python -m venv $(VENV)/codegen
	$(VENV)/codegen/bin/python -m pip install --quiet -r codegen-requirements.txt
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

CHROMIUM ?= /usr/bin/chromium

browser: ## Debian's Chromium for the browser tests (never `playwright install`: offline)
	@test -x $(CHROMIUM) || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# the distribution's server package (postgresql-15 on bookworm), not the `postgresql`
# metapackage's default cluster: create_main_cluster = false, so installing it creates and
# starts no system cluster on port 5432 (the tests start their own, tests/pg_fixtures.py)
postgres: ## Debian's PostgreSQL server programs (initdb, pg_ctl) for the PostgreSQL state-store tests
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing Debian's PostgreSQL server programs for the PostgreSQL tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql-common >/dev/null && \
	  $$SUDO mkdir -p /etc/postgresql-common/createcluster.d && \
	  echo "create_main_cluster = false" | \
	    $$SUDO tee /etc/postgresql-common/createcluster.d/tipscore-no-main-cluster.conf >/dev/null && \
	  PG=$$(apt-cache depends postgresql | awk '/Depends: postgresql-[0-9]+$$/ {print $$2; exit}') && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq "$$PG" >/dev/null; }

test: check browser postgres ## install, check, and run the whole test suite (what CI runs)
	$(BIN)/pytest

test-reliability: install postgres ## the slow fuzz, load, crash and full-run tests (tests/reliability) and every issue-18 regression test
	$(BIN)/pytest -m reliability

test-fast: install browser postgres ## the test suite without lint and type checks
	$(BIN)/pytest -x -q

bench: install ## run the benchmarks and update benchmarks/RESULTS.md
	$(BIN)/python benchmarks/features_bench.py
	$(BIN)/python benchmarks/generate_bench.py
	$(BIN)/python benchmarks/train_bench.py
	$(BIN)/python benchmarks/serve_bench.py   # needs a champion in mlruns/ (make demo)

DEMO_DATA ?= data/history.parquet
DEMO_ROWS ?= 1000000

DEMO_PORT ?= 3000

demo: install ## the main job: generate a history, train, audit, promote, then serve on 127.0.0.1:$(DEMO_PORT)
	$(BIN)/tipscore generate --rows $(DEMO_ROWS) --seed 1 --out $(DEMO_DATA)
	$(BIN)/tipscore validate-data $(DEMO_DATA)
	$(BIN)/tipscore train --data $(DEMO_DATA) | tee data/train.out
	$(BIN)/tipscore audit --model runs:/$$(awk '/^run id:/ {print $$3}' data/train.out)/model --data $(DEMO_DATA) --out data/audit
	$(BIN)/tipscore promote --run $$(awk '/^run id:/ {print $$3}' data/train.out)
	$(BIN)/tipscore keys add --role intake --note "make demo" > data/demo.key
	$(BIN)/tipscore keys add --role analyst --note "Demo Analyst" > data/demo-analyst.key
	@echo ""
	@echo "Dataset card:  $(DEMO_DATA:.parquet=.card.md)"
	@echo "Bias audit:    data/audit/audit.html"
	@echo "Runs/registry: $(BIN)/mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db"
	@echo "Serving on http://127.0.0.1:$(DEMO_PORT)  (Ctrl-C stops it)"
	@echo "  API docs:     http://127.0.0.1:$(DEMO_PORT)/  (Swagger UI; OpenAPI JSON at /docs.json)"
	@echo "  Analyst page: http://127.0.0.1:$(DEMO_PORT)/ui/  (key in data/demo-analyst.key; reports scored above appear in its queue)"
	@echo "  Model card:   curl -s -H \"Authorization: Bearer \$$(cat data/demo.key)\" http://127.0.0.1:$(DEMO_PORT)/model_card"
	@echo "  Score:        curl -s -X POST -H \"Authorization: Bearer \$$(cat data/demo.key)\" -H 'content-type: application/json' -d @examples/report.json http://127.0.0.1:$(DEMO_PORT)/score"
	@echo "  (the intake key is in data/demo.key; make more with: $(BIN)/tipscore keys add --role intake)"
	$(BIN)/tipscore serve --host 127.0.0.1 --port $(DEMO_PORT)

mlflow-ui: install ## browse runs, metrics, plots and the registry
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db

clean: ## remove caches (keeps .venv, mlruns/ and state/)
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
