# crmlens — two commands: `make demo` (the whole pipeline on a synthetic CRM) and
# `make test`. Both build the environment themselves from uv.lock, on a machine
# that has only python3 and make.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin

# Nothing phones home (STACK_NOTES.md), and uv never downloads a Python of its own.
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1
export MLFLOW_DISABLE_TELEMETRY := true
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: setup demo test lint format dev dashboard bench clean help

help:
	@echo "make demo       generate the small synthetic CRM and run the whole pipeline on it"
	@echo "make test       run the test suite (needs PostgreSQL at 127.0.0.1:5432)"
	@echo "make dev        open the Dagster UI on the demo warehouse"
	@echo "make dashboard  the managers' dashboards on the demo data (http://127.0.0.1:8501)"
	@echo "make lint       ruff (lint and format check)"
	@echo "make bench      benchmarks (prints figures; SCALE=medium by default)"
	@echo "make clean      remove .crmlens/ (the demo's warehouse, MLflow, exports)"

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

setup: $(VENV)/.synced

demo: setup
	$(BIN)/crmlens demo

test: setup
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# umask 077: the run storage, warehouse and logs it writes are the owner's only.
dev: setup
	umask 077 && DAGSTER_HOME=$(CURDIR)/.crmlens/dagster $(BIN)/dagster dev -m pipelines.definitions

# Reads only the serving snapshot (CRMLENS_SERVING_PATH, default .crmlens/serving/current.duckdb).
# Listens on 127.0.0.1 only; CRMLENS_DASHBOARD_ADDRESS serves a network (README: put an
# authenticating reverse proxy in front). DASHBOARD_PORT=8502 picks another port.
DASHBOARD_PORT ?=
dashboard: setup
	$(BIN)/crmlens dashboard $(if $(DASHBOARD_PORT),--port $(DASHBOARD_PORT))

SCALE ?= medium
bench: setup
	$(BIN)/python -m bench --scale $(SCALE)

clean:
	rm -rf .crmlens
