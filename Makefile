# haystack-lambda: `make run` serves pipelines/ on http://127.0.0.1:3000, `make test` runs every test.
# Both create .venv with Python 3.13 (Lambda's python3.13) and install the pinned dependencies first.

PYTHON ?= python3.13
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock | cksum | cut -d' ' -f1)

SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed-$(shell cat requirements-sam.lock | cksum | cut -d' ' -f1)
RUNTIME_VENV := .venv-runtime
RUNTIME_STAMP := $(RUNTIME_VENV)/.installed-$(shell cat requirements-runtime.lock | cksum | cut -d' ' -f1)
ARCH ?= arm64
HOST_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)

export HAYSTACK_TELEMETRY_ENABLED ?= False
export SAM_CLI_TELEMETRY ?= 0
export HAYHOOKS_PORT ?= 3000
export HAYHOOKS_HOST ?= 127.0.0.1

.PHONY: install run test lint format bench soak publish build build-PipelinesFunction validate release-check lock clean

install: $(STAMP) $(SAM_STAMP) $(RUNTIME_STAMP)

$(STAMP): requirements-dev.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13), f"Python 3.13 is required (Lambda python3.13), got {sys.version.split()[0]}: set PYTHON=/path/to/python3.13"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	rm -f $(VENV)/.installed-* && touch $@

# SAM CLI in its own venv: it pins boto3 and pydantic differently from the app.
$(SAM_STAMP): requirements-sam.lock
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-sam.lock
	rm -f $(SAM_VENV)/.installed-* && touch $@

# Lambda's runtime side for the emulator tests: a bare Python 3.13 with the runtime interface client only.
$(RUNTIME_STAMP): requirements-runtime.lock
	test -x $(RUNTIME_VENV)/bin/python || $(PYTHON) -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-runtime.lock
	rm -f $(RUNTIME_VENV)/.installed-* && touch $@

run: install
	$(PY) -m core

test: install lint
	$(PY) -m pytest

# sam build (no Docker): SAM calls build-PipelinesFunction below in this folder. ARCH=arm64|x86_64.
build: install
	ARCH=$(ARCH) $(SAM) build --build-in-source --parameter-overrides Architecture=$(ARCH)
	$(PYTHON) -m infra.build --check-only --artifacts-dir .aws-sam/build/PipelinesFunction

# What sam build runs: locked wheels for the function's architecture (as sam build resolved the template's
# Architecture parameter), our code, stripped, precompiled, size-checked. An ARCH given explicitly (make
# build ARCH=...) must match it, or the build fails naming both.
build-PipelinesFunction:
	$(PYTHON) -m infra.build --artifacts-dir "$(ARTIFACTS_DIR)" $(if $(filter environment command,$(firstword $(origin ARCH))),--arch "$(ARCH)")

validate: install
	$(SAM) validate --lint

# What CI checks besides `make test`: the template, a sam build per architecture with the size budget,
# and the emulator tests against the artifact sam built for this machine's architecture.
release-check: install validate
	$(MAKE) build ARCH=arm64
	$(MAKE) build ARCH=$(HOST_ARCH)
	LAMBDA_ARTIFACT=$(CURDIR)/.aws-sam/build/PipelinesFunction $(PY) -m pytest tests/infra/test_runtime.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) -m infra.bench

# Loopback load and soak (docs/reliability-soak.md): 10,000 handler calls, the make run server under
# SOAK_CLIENTS (32) clients for SOAK_DURATION (30) s, 500 invocations under the emulator; fails on any error.
soak: install
	$(PY) -m infra.soak

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
	rm -rf $(VENV) $(SAM_VENV) $(RUNTIME_VENV) .aws-sam .pytest_cache .ruff_cache .bench
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
