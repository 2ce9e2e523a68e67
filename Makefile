# visitorsite: the README's commands are these targets.
#   make run    set up .venv and start the service (embedded Redis in ./var unless REDIS_URL)
#   make test   set up .venv with dev tools, lint, and run the whole test suite
#   make lock   regenerate the locks (requirements*.txt) from pyproject.toml, keeping the pins;
#               UPGRADE=data moves the data that ages to its newest release (DATA_PACKAGES),
#               UPGRADE="name ..." those packages, UPGRADE=--upgrade every pin
# PYTHON picks the interpreter (PYTHON=python3.13 make run); a venv made by another version
# is made anew (not by stop-redis, which only talks to the server: any existing venv will do).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYVER := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: run dev test test-lowest lint format lock bench bench-signals bench-cpu profile reliability stop-redis clean

# Installs come from the locks only: pinned versions, every file checked against its hash.
$(VENV)/.installed-$(PYVER): requirements.txt
	@test -n "$(PYVER)" || { echo "$(PYTHON) not found: set PYTHON to a Python 3.11+ interpreter" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "visitorsite needs Python 3.11 or newer")'
	@if test -x $(BIN)/python && [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$(PYVER)" ]; then \
	  echo "$(VENV) was made by another Python: making it anew with $(PYTHON) ($(PYVER))"; rm -rf $(VENV); fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --require-hashes -r requirements.txt
	@touch $@

$(VENV)/.dev-installed-$(PYVER): $(VENV)/.installed-$(PYVER) requirements-dev.txt
	$(PIP) --require-hashes -r requirements-dev.txt
	@touch $@

run: $(VENV)/.installed-$(PYVER)
	exec $(BIN)/gunicorn -c gunicorn.conf.py visitorsite.wsgi

dev: $(VENV)/.installed-$(PYVER)
	DEBUG=1 exec $(BIN)/python manage.py runserver

# The published CountAPI clients the e2e tests run (node); skipped by them where npm is missing.
COUNTAPI_CLIENTS := tests/e2e/countapi
$(COUNTAPI_CLIENTS)/node_modules/.installed: $(COUNTAPI_CLIENTS)/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix $(COUNTAPI_CLIENTS) --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not installed: the countapi-js client test will be skipped"; fi

# axe-core for the browser tests' accessibility checks (tests/e2e/accessibility.py).
A11Y := tests/e2e/a11y
$(A11Y)/node_modules/.installed: $(A11Y)/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix $(A11Y) --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not installed: the browser tests' axe-core checks will be skipped"; fi

test: $(VENV)/.dev-installed-$(PYVER) $(COUNTAPI_CLIENTS)/node_modules/.installed $(A11Y)/node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@if command -v luacheck >/dev/null; then luacheck --no-color -q counter/store/scripts; \
	else echo "luacheck not installed: Lua scripts not linted (make lint needs it)"; fi
	$(BIN)/pytest

# The unit suite and one start of the service on the lowest versions pyproject.toml allows, in
# a venv of their own (.venv-lowest), not from the locks: the declared ranges hold (.ci/run).
test-lowest: $(VENV)/.dev-installed-$(PYVER)
	PYTHON=$(PYTHON) UV=$(BIN)/uv bash .ci/lowest.sh

$(VENV)/.bench-installed-$(PYVER): $(VENV)/.dev-installed-$(PYVER) bench/requirements.txt
	$(PIP) --require-hashes -r bench/requirements.txt
	@touch $@

# Benchmarks (not tests): results go into docs/BENCHMARKS.md. wrk comes from Debian's package.
bench: $(VENV)/.bench-installed-$(PYVER)
	@command -v wrk >/dev/null || echo "wrk not found (apt-get install wrk): using the slower Python load generator"
	$(BIN)/python bench/run.py --write

# What each of Django's request-signal receivers that counter/apps.py disconnects costs.
bench-signals: $(VENV)/.bench-installed-$(PYVER)
	$(BIN)/python bench/run.py --signals --write

# CPU per request of the web workers, Redis and wrk, seed against visitorsite.
bench-cpu: $(VENV)/.bench-installed-$(PYVER)
	$(BIN)/python bench/cpu_split.py

# What the service survives and loses (faults, load, hostile input): docs/RELIABILITY.md.
reliability: $(VENV)/.dev-installed-$(PYVER)
	$(BIN)/python bench/reliability.py --write

# Where a hit's time goes, in-process (pyinstrument), against a real redis-server.
profile: $(VENV)/.bench-installed-$(PYVER)
	$(BIN)/python bench/profile_hit.py

lint: $(VENV)/.dev-installed-$(PYVER)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@command -v luacheck >/dev/null || { echo "luacheck not found: apt-get install lua-check (Debian, Ubuntu) or brew install luacheck (macOS)" >&2; exit 1; }
	luacheck --no-color -q counter/store/scripts

format: $(VENV)/.dev-installed-$(PYVER)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The data that goes stale, released as packages: ua-parser's rules, the IP-to-country table,
# the crawler list. `make lock UPGRADE=data` takes their newest releases (docs/DIMENSIONS.md).
DATA_PACKAGES := ua-parser-builtins iptocc crawlerdetect pycountry
# UPGRADE's words: `data` stands for DATA_PACKAGES, a flag (--upgrade) goes to uv as it is,
# a name becomes --upgrade-package NAME.
UPGRADE_FLAGS := $(foreach word,$(patsubst data,$(DATA_PACKAGES),$(UPGRADE)),\
	$(if $(filter -%,$(word)),$(word),--upgrade-package $(word)))
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	--quiet --custom-compile-command "make lock" $(strip $(UPGRADE_FLAGS))

# One resolution for Python 3.11-3.14 on Linux and macOS; dev and bench extend the runtime
# lock (constrained by it), so every venv has the same runtime packages.
lock: $(VENV)/.dev-installed-$(PYVER)
	$(LOCK) -o requirements.txt
	$(LOCK) --extra dev -c requirements.txt -o requirements-dev.txt
	$(LOCK) --extra dev --extra bench -c requirements-dev.txt -o bench/requirements.txt

# Only talks to the server: any existing venv will do, whatever PYTHON says (rebuilding it with
# another Python only to learn the server is not running helped nobody). Set up only if none.
stop-redis: $(if $(wildcard $(BIN)/python),,$(VENV)/.installed-$(PYVER))
	$(BIN)/python manage.py embedded_redis stop

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
