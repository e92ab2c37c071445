# Everything installs itself: a new machine needs only Python 3.11, Node 20 and git.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
# Node 20 is past jsii's end of support; the machine has Node 20 and it works.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup demo test lint typecheck unit infra-test integration e2e browser bench synth clean

help:
	@echo "make demo   - local stack on http://127.0.0.1:8080 with a sample app published"
	@echo "make test   - lint, type-check and every test (browser tests included)"

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.synced

demo: setup
	$(BIN)/ipadrop local --port $${PORT:-8080} --publish-sample

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy lambdas ipadrop_tools infra app.py

test: setup node_modules/.installed
	scripts/install-chromium.sh
	$(MAKE) --no-print-directory lint typecheck
	$(BIN)/pytest -n 2 --dist loadgroup --timeout 600

unit: setup
	$(BIN)/pytest tests/unit

infra-test: setup node_modules/.installed
	$(BIN)/pytest tests/infra

integration: setup
	$(BIN)/pytest tests/integration

e2e browser: setup
	scripts/install-chromium.sh
	$(BIN)/pytest -m "browser or e2e"

synth: setup node_modules/.installed
	npx cdk synth --quiet

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .tools node_modules cdk.out test-artifacts .pytest_cache .mypy_cache
