# Connect — `make run` serves on http://127.0.0.1:8000, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV     := .venv
PY       := $(VENV)/bin/python
CI       ?= false
HOST     ?= 127.0.0.1
PORT     ?= 8000
# Serving needs no Debian package: `make run` installs the Python runtime dependencies
# (requirements.prod.lock) and builds the web app. The tests drive real programs (below,
# `system-deps`): `make test` / `make install` install those too. As root, missing ones
# are installed; otherwise a missing one is an error under CI=true and a named skip locally.
# Both compile the relay's hot paths with mypyc when a C compiler is there (`compiled`).

WEB_SOURCES := $(shell find web/src web/index.html web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)
STATIC_INDEX := src/connect/static/index.html

PROTOCOL_DOC := docs/protocol-events.md
PROTOCOL_SCHEMA := web/src/protocol.schema.json

.PHONY: protocol help install serve-deps serve-python-deps system-deps python-deps web-deps web \
        compiled serve-compiled run migrate test lint typecheck \
        test-unit test-integration test-api test-web test-e2e test-bench lock clean

help:
	@echo "make run      install what serving needs (no system package), build the web app, serve on http://$(HOST):$(PORT)"
	@echo "make test     install what the tests need, run lint, types and every test (CI=true: nothing may skip)"
	@echo "make install  the tests' set-up alone (their Debian packages, every Python and web dependency)"

# What the tests need: the programs they drive, the dev tools, the web app, the compiled hot paths.
install: system-deps python-deps web compiled

# What serving needs: the runtime Python dependencies and the built web app, nothing from apt.
serve-deps: serve-python-deps web

# Programs the tests drive for real (never needed to serve).
system-deps:
	@missing=""; \
	for pair in gcc:/usr/bin/gcc chromium:/usr/bin/chromium coturn:/usr/bin/turnserver redis-server:/usr/bin/redis-server nats-server:/usr/sbin/nats-server prometheus:/usr/bin/promtool linux-perf:/usr/bin/perf \
	            postgresql:/usr/lib/postgresql haproxy:/usr/sbin/haproxy; do \
	  pkg=$${pair%%:*}; probe=$${pair#*:}; [ -e "$$probe" ] || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  elif [ "$(CI)" = true ]; then \
	    echo "error: missing Debian packages:$$missing (apt-get install -y$$missing)"; exit 1; \
	  else \
	    echo "note: missing Debian packages:$$missing; tests that need them will skip (apt-get install -y$$missing)"; \
	  fi; \
	fi

$(PY):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

$(VENV)/.deps: requirements.lock pyproject.toml | $(PY)
	$(VENV)/bin/pip install -q --require-hashes -r requirements.lock
	$(VENV)/bin/pip install -q --no-deps -e .
	@touch $@

python-deps: $(VENV)/.deps

$(VENV)/.serve-deps: requirements.prod.lock pyproject.toml | $(PY)
	$(VENV)/bin/pip install -q --require-hashes -r requirements.prod.lock
	$(VENV)/bin/pip install -q --no-deps -e .
	@touch $@

serve-python-deps: $(VENV)/.serve-deps

# The relay's hot paths compiled by mypyc beside their sources (connect.compiled): rebuilt
# only when a source they were built from changed; the server checks the same at start and
# runs pure Python from a stale build. CI=true: no compiler or headers is an error.
compiled: python-deps
	$(PY) -m connect.build_compiled build $(if $(filter true,$(CI)),--required)

# make run: compiled too when gcc and Python's headers are here (mypy from
# requirements.build.lock); otherwise the same code serves as pure Python.
serve-compiled: serve-python-deps
	@if command -v gcc >/dev/null; then \
	  $(VENV)/bin/pip install -q --require-hashes -r requirements.build.lock && \
	  $(PY) -m connect.build_compiled build; \
	else echo "note: no C compiler: serving the hot paths as pure Python"; fi

web/node_modules/.package-lock.json: web/package-lock.json
	npm --prefix web ci --no-audit --no-fund --loglevel=error
	@touch $@

web-deps: web/node_modules/.package-lock.json

$(STATIC_INDEX): web/node_modules/.package-lock.json $(WEB_SOURCES)
	npm --prefix web run build --silent

web: $(STATIC_INDEX)

migrate: serve-python-deps
	$(PY) -m connect migrate

# make run: SQLite in ./data, in-memory state. Two browser windows on one machine
# share an IP, so the same-IP rule is relaxed here (never in a deployment).
run: serve-deps serve-compiled
	CONNECT_MATCH_ALLOW_SAME_IP=$${CONNECT_MATCH_ALLOW_SAME_IP:-true} \
	  $(PY) -m connect serve --migrate --host $(HOST) --port $(PORT)

lint: python-deps
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

typecheck: python-deps
	$(VENV)/bin/mypy src

# The unit suite runs the hot paths as pure Python (their fallback); every other suite
# runs them compiled (docs/testing.md, "Compiled hot paths").
test-unit: python-deps
	CONNECT_PURE_PYTHON=1 $(VENV)/bin/pytest -q tests/unit

# Suites whose tests mostly wait on real servers run on pytest-xdist workers, a test
# file per worker (--dist loadfile keeps a module's servers in one process); each
# worker starts its own Redis, PostgreSQL and servers. TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 3
XDIST = -n $(TEST_WORKERS) --dist loadfile
PAIR = $(if $(filter 0,$(TEST_WORKERS)),0,2)

test-integration: python-deps
	CI=$(CI) $(VENV)/bin/pytest -q $(XDIST) tests/integration

test-web: web-deps
	npm --prefix web test --silent

# Anything that runs WebRTC media runs in its own network namespace holding only
# loopback (docs/testing.md): unshare -rn gives a user+network namespace, no root needed.
# Three app nodes, Redis, PostgreSQL and HAProxy on loopback.
# Its fault tests mostly wait on Redis, PostgreSQL and Sentinel timers (about one core busy
# on four workers): four workers, so its longest modules run at once.
CLUSTER_WORKERS ?= 4
test-cluster: python-deps
	CI=$(CI) $(VENV)/bin/pytest -q -n $(if $(filter 0,$(TEST_WORKERS)),0,$(CLUSTER_WORKERS)) \
	  --dist loadfile tests/cluster

test-e2e: python-deps web
	CI=$(CI) unshare -rn sh -c 'ip link set lo up && exec $(VENV)/bin/pytest -q -n $(PAIR) --dist loadfile tests/e2e' \
	  || { rc=$$?; [ $$rc -eq 5 ] && [ "$(CI)" != true ] && echo "e2e: nothing ran" || exit $$rc; }

# Deployment files (deploy/, Dockerfile) checked offline by the tools that consume them.
test-deploy: python-deps
	CI=$(CI) $(VENV)/bin/pytest -q tests/deploy

# The bench harness (bench/, Node load client in bench/reference): a few-second smoke run, no timings asserted.
test-bench: python-deps
	CI=$(CI) $(VENV)/bin/pytest -q tests/bench

# Every route of the OpenAPI document fuzzed by schemathesis (--checks all) against a real
# server on both backends, as an admin account and as a guest: no 5xx, only documented
# statuses. Bounded: CONNECT_FUZZ_S seconds per backend for the account, half for the guest.
test-api: python-deps
	CI=$(CI) CONNECT_FUZZ_S=$${CONNECT_FUZZ_S:-30} $(VENV)/bin/pytest -q -n $(PAIR) --maxschedchunk 1 tests/api

# The checks and the short suites run side by side (make -j; -O prints each target's
# output whole when it ends; every one runs, and any failure fails `make test`): alone,
# each keeps under one of the 2 cores busy. Then the long suites, one after another
# (their workers already fill the machine; the API fuzz is bounded in seconds, so it
# runs alone lest load cut how much it tries).
SIDE_BY_SIDE := lint typecheck test-unit test-web test-deploy test-bench
ONE_BY_ONE := test-integration test-api test-cluster test-e2e

test: install
	@$(MAKE) --no-print-directory -k -j$(words $(SIDE_BY_SIDE)) -O $(SIDE_BY_SIDE)
	@$(MAKE) --no-print-directory $(ONE_BY_ONE)

# The gateway's event schemas, from the pydantic models, into the docs and the web app's types.
protocol: python-deps
	$(PY) -m connect protocol --markdown > $(PROTOCOL_DOC)
	$(PY) -m connect protocol > $(PROTOCOL_SCHEMA)

lock:
	uv lock && uv export --frozen --no-emit-project --all-groups --extra moderation-ai -o requirements.lock -q
	uv export --frozen --no-emit-project --no-dev -o requirements.prod.lock -q
	uv export --frozen --no-emit-project --only-group build -o requirements.build.lock -q

clean:
	rm -rf $(VENV) web/node_modules src/connect/static .mypy_cache .ruff_cache .pytest_cache \
	  build src/connect/_compiled.json
	find src -name '*.so' -delete
