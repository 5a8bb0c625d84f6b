# haystack-lambda: `make run` serves pipelines/ on http://127.0.0.1:3000, `make test` runs every test.
# Both create .venv with Python 3.13 (Lambda's python3.13) and install the pinned dependencies first.

PYTHON ?= python3.13
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock | cksum | cut -d' ' -f1)

export HAYSTACK_TELEMETRY_ENABLED ?= False
export HAYHOOKS_PORT ?= 3000
export HAYHOOKS_HOST ?= 127.0.0.1

.PHONY: install run test lint format bench publish lock clean

install: $(STAMP)

$(STAMP): requirements-dev.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13), f"Python 3.13 is required (Lambda python3.13), got {sys.version.split()[0]}: set PYTHON=/path/to/python3.13"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	rm -f $(VENV)/.installed-* && touch $@

run: install
	$(PY) -m core

test: install lint
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) -m infra.bench

# make publish DEST=s3://bucket/pipelines/ [BUNDLE=1]: publish pipelines/ as a new immutable version
publish: install
	@test -n "$(DEST)" || { echo "usage: make publish DEST=s3://bucket/prefix/ [BUNDLE=1] [SRC=pipelines]"; exit 2; }
	$(PY) -m infra.publish $(or $(SRC),pipelines) $(DEST) $(if $(BUNDLE),--bundle)

# Re-resolve the pins from pyproject.toml's ranges in throwaway venvs, runtime set first.
lock:
	rm -rf /tmp/haystack-lambda-lock && $(PYTHON) -m venv /tmp/haystack-lambda-lock
	/tmp/haystack-lambda-lock/bin/pip install --quiet .
	/tmp/haystack-lambda-lock/bin/pip uninstall --quiet -y haystack-lambda
	{ echo "# Runtime dependencies for the Lambda package, pinned. Regenerate with: make lock"; \
	  /tmp/haystack-lambda-lock/bin/pip freeze; } > requirements.lock
	/tmp/haystack-lambda-lock/bin/pip install --quiet -c requirements.lock ".[dev]"
	/tmp/haystack-lambda-lock/bin/pip uninstall --quiet -y haystack-lambda
	{ echo "# Development and test dependencies, pinned (includes the runtime set). Regenerate with: make lock"; \
	  /tmp/haystack-lambda-lock/bin/pip freeze; } > requirements-dev.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .bench
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
