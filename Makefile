# visitorsite: the README's commands are these targets.
#   make run    set up .venv and start the service (embedded Redis in ./var unless REDIS_URL)
#   make test   set up .venv with dev tools, lint, and run the whole test suite
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run dev test lint format bench bench-cpu profile reliability stop-redis clean

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "visitorsite needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: $(VENV)/.installed
	exec $(BIN)/gunicorn -c gunicorn.conf.py visitorsite.wsgi

dev: $(VENV)/.installed
	DEBUG=1 exec $(BIN)/python manage.py runserver

test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

$(VENV)/.bench-installed: $(VENV)/.dev-installed bench/requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	@touch $@

# Benchmarks (not tests): results go into docs/BENCHMARKS.md. wrk comes from Debian's package.
bench: $(VENV)/.bench-installed
	@command -v wrk >/dev/null || echo "wrk not found (apt-get install wrk): using the slower Python load generator"
	$(BIN)/python bench/run.py --write

# CPU per request of the web workers, Redis and wrk, seed against visitorsite.
bench-cpu: $(VENV)/.bench-installed
	$(BIN)/python bench/cpu_split.py

# What the service survives and loses (faults, load, hostile input): docs/RELIABILITY.md.
reliability: $(VENV)/.dev-installed
	$(BIN)/python bench/reliability.py --write

# Where a hit's time goes, in-process (pyinstrument), against a real redis-server.
profile: $(VENV)/.bench-installed
	$(BIN)/python bench/profile_hit.py

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

stop-redis: $(VENV)/.installed
	$(BIN)/python manage.py embedded_redis stop

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
