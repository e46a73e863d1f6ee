# Two commands for a new machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= examples/gateway.yaml

.PHONY: install run test lint typecheck check bench redis-server clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/gateway serve --config $(CONFIG) --demo-key

# redis-server is needed by the tests (they start private servers on free ports).
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "redis-server not found: installing it from the system packages"; \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq redis-server redis-tools >/dev/null; \
	  else echo "install redis-server (Redis 7) with your package manager" >&2; exit 1; fi; }

# promtool checks and unit-tests the alert rules (tests/unit/test_alerts.py). Only its binary is taken, from
# Debian's prometheus package into the venv: installing the package would also start a Prometheus server.
# Without apt-get the two promtool tests are skipped (they say so).
PROMTOOL := $(BIN)/promtool
$(PROMTOOL): | $(STAMP)
	@if command -v promtool >/dev/null 2>&1; then ln -sf "$$(command -v promtool)" $@; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  echo "promtool not found: taking the binary from Debian's prometheus package"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); tmp=$$(mktemp -d); \
	  ( cd $$tmp && { apt-get download prometheus >/dev/null 2>&1 || \
	      { $$SUDO apt-get update -qq && apt-get download prometheus >/dev/null; }; } ) && \
	  dpkg-deb -x $$tmp/prometheus_*.deb $$tmp/root && cp $$tmp/root/usr/bin/promtool $@; \
	  status=$$?; rm -rf $$tmp; exit $$status; \
	else echo "promtool not found and no apt-get: the alert-rule checks will be skipped" >&2; fi

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) redis-server $(PROMTOOL) lint typecheck
	$(BIN)/python -m pytest -q -p no:cacheprovider

# Everything of issue 9 in one bounded run (< 10 min): installs wrk, nginx and redis-server from the system
# packages, py-spy into the venv, and LiteLLM into its own venv (never a project dependency). A LiteLLM that
# cannot be installed is reported by the run (bench/.litellm-venv/install.log), not fatal here.
LITELLM_VENV := bench/.litellm-venv
bench: $(STAMP) redis-server
	@command -v wrk >/dev/null 2>&1 && { command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1 || { \
	  echo "installing wrk and nginx from the system packages"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk nginx >/dev/null; }
	@test -x $(BIN)/py-spy || $(BIN)/python -m pip install --quiet py-spy
	@test -x $(LITELLM_VENV)/bin/litellm || { \
	  echo "installing litellm[proxy] into $(LITELLM_VENV) (log: $(LITELLM_VENV)/install.log)"; \
	  mkdir -p $(LITELLM_VENV); \
	  { $(PYTHON) -m venv $(LITELLM_VENV) && $(LITELLM_VENV)/bin/python -m pip install 'litellm[proxy]'; } \
	    > $(LITELLM_VENV)/install.log 2>&1 || echo "LiteLLM could not be installed: see $(LITELLM_VENV)/install.log"; }
	$(BIN)/python -m bench suite $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
