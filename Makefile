# haystack-lambda: `make run` serves pipelines/ on http://127.0.0.1:3000, `make test` runs every test.
# Both create .venv with Python 3.13 (Lambda's python3.13) and install the pinned dependencies first, plus
# the pipelines folder's own requirements.txt files: what the Lambda package will hold, and no Hayhooks.
# PIPELINES=path names the pipelines folder (default pipelines/) for run, check, build and publish.

PYTHON ?= python3.13
VENV := .venv
PY := $(VENV)/bin/python
PIPELINES ?= pipelines
export PIPELINES
# the folder's requirements.txt and each pipeline's own: one set, resolved with the lock (infra/requirements.py)
PIPELINE_REQUIREMENTS := $(wildcard $(PIPELINES)/requirements.txt $(PIPELINES)/*/requirements.txt)
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock $(PIPELINE_REQUIREMENTS) | cksum | cut -d' ' -f1)

SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed-$(shell cat requirements-sam.lock | cksum | cut -d' ' -f1)
RUNTIME_VENV := .venv-runtime
RUNTIME_STAMP := $(RUNTIME_VENV)/.installed-$(shell cat requirements-runtime.lock | cksum | cut -d' ' -f1)
# the real Hayhooks, for tests that compare against it (and make bench): never in .venv, which is Lambda's view
HAYHOOKS_VENV := .venv-hayhooks
HAYHOOKS_STAMP := $(HAYHOOKS_VENV)/.installed-$(shell cat requirements-hayhooks.lock | cksum | cut -d' ' -f1)
ARCH ?= arm64
HOST_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)

export HAYSTACK_TELEMETRY_ENABLED ?= False
export SAM_CLI_TELEMETRY ?= 0
export HAYHOOKS_PORT ?= 3000
export HAYHOOKS_HOST ?= 127.0.0.1

.PHONY: install hayhooks-venv run check test lint format bench soak publish build build-PipelinesFunction build-DurableWorkerFunction start-api validate release-check lock clean

install: $(STAMP) $(SAM_STAMP) $(RUNTIME_STAMP)

$(STAMP): requirements-dev.lock $(PIPELINE_REQUIREMENTS)
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13), f"Python 3.13 is required (Lambda python3.13), got {sys.version.split()[0]}: set PYTHON=/path/to/python3.13"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock $(addprefix -r ,$(PIPELINE_REQUIREMENTS))
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

# Hayhooks 2.1.0 itself, for the tests that run it in a subprocess: a separate stamp, `make test` needs it.
hayhooks-venv: $(HAYHOOKS_STAMP)

$(HAYHOOKS_STAMP): requirements-hayhooks.lock
	test -x $(HAYHOOKS_VENV)/bin/python || $(PYTHON) -m venv $(HAYHOOKS_VENV)
	$(HAYHOOKS_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-hayhooks.lock
	rm -f $(HAYHOOKS_VENV)/.installed-* && touch $@

run: install
	HAYHOOKS_PIPELINES_DIR=$${HAYHOOKS_PIPELINES_DIR:-$(PIPELINES)} $(PY) -m core

# Load $(PIPELINES) as Lambda will: a bare Python 3.13 with requirements.lock and the folder's requirements
# only (no dev tools, no Hayhooks). Fails on an import the package lacks, or a pipeline that fails to load.
check: install
	$(PY) -m infra.check $(PIPELINES)

test: install hayhooks-venv lint
	$(PY) -m pytest

# sam build (no Docker): SAM calls build-PipelinesFunction below in this folder. ARCH=arm64|x86_64.
build: install
	ARCH=$(ARCH) $(SAM) build --build-in-source --parameter-overrides Architecture=$(ARCH)
	$(PYTHON) -m infra.build --check-only --artifacts-dir .aws-sam/build/PipelinesFunction

# What sam build runs: locked wheels and $(PIPELINES)' requirements for the function's architecture (as sam
# build resolved the template's Architecture parameter), our code and $(PIPELINES), stripped, precompiled,
# size-checked. An ARCH given explicitly (make build ARCH=...) must match it, or the build fails naming both.
build-PipelinesFunction:
	$(PYTHON) -m infra.build --artifacts-dir "$(ARTIFACTS_DIR)" $(if $(filter environment command,$(firstword $(origin ARCH))),--arch "$(ARCH)") --pipelines "$(PIPELINES)"

# DurableMode=on's worker: the same artifact (SAM builds it once for both when their build properties match)
build-DurableWorkerFunction: build-PipelinesFunction

# sam local start-api on any Docker host, natively: built for this machine's architecture (the template's arm64
# under x86_64 emulation outlasts the 29 s timeout), into its own folder so that .aws-sam/build stays what
# `sam deploy` uploads. Auth and tracing off as in samconfig.toml's local sections (the app logs a WARNING).
# SAM_LOCAL_ARGS: more sam local start-api flags, e.g. --warm-containers EAGER.
LOCAL_BUILD_DIR := .aws-sam/local
start-api: install
	$(SAM) build --build-in-source --build-dir $(LOCAL_BUILD_DIR) --parameter-overrides Architecture=$(HOST_ARCH)
	$(SAM) local start-api --template $(LOCAL_BUILD_DIR)/template.yaml \
	  --parameter-overrides "AuthMode=none Tracing=off Architecture=$(HOST_ARCH)" $(SAM_LOCAL_ARGS)

validate: install
	$(SAM) validate --lint

# What CI checks besides `make test`: the template, a sam build per architecture with the size budget (each
# prints its sizes), and the emulator tests against the artifact sam built for this machine's architecture
# (built last, so it is the one in .aws-sam). It builds the project's fixture folder (the examples and a
# pipeline with a requirements.txt), not the user's pipelines/: `make check` and the deploy's own
# `make build` cover those.
RELEASE_PIPELINES := tests/fixtures/deployed
OTHER_ARCH := $(if $(filter arm64,$(HOST_ARCH)),x86_64,arm64)
release-check: install validate
	$(MAKE) build ARCH=$(OTHER_ARCH) PIPELINES=$(RELEASE_PIPELINES)
	$(MAKE) build ARCH=$(HOST_ARCH) PIPELINES=$(RELEASE_PIPELINES)
	LAMBDA_ARTIFACT=$(CURDIR)/.aws-sam/build/PipelinesFunction $(PY) -m pytest tests/infra/test_runtime.py tests/infra/test_artifact.py tests/infra/test_runtime_streaming.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install hayhooks-venv
	$(PY) -m infra.bench

# Loopback load and soak (docs/reliability-soak.md): 10,000 handler calls, the make run server under
# SOAK_CLIENTS (32) clients for SOAK_DURATION (30) s, 500 invocations under the emulator; fails on any error.
soak: install
	$(PY) -m infra.soak

# make publish SRC=folder DEST=s3://bucket/pipelines/ [BUNDLE=1]: publish SRC as a new immutable version.
# SRC is required: $(PIPELINES) is baked into the package, and a pipeline in both fails the cold start.
publish: install
	@test -n "$(SRC)" -a -n "$(DEST)" || { echo "usage: make publish SRC=folder DEST=s3://bucket/prefix/ [BUNDLE=1]  (SRC: a folder other than the baked-in $(PIPELINES))"; exit 2; }
	$(PY) -m infra.publish $(SRC) $(DEST) --baked-in $(PIPELINES) $(if $(BUNDLE),--bundle)

# Re-resolve the pins from pyproject.toml's ranges in throwaway venvs, runtime set first.
LOCK_VENV := /tmp/haystack-lambda-lock
lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet .
	$(LOCK_VENV)/bin/pip uninstall --quiet -y haystack-lambda
	{ echo "# Runtime dependencies for the Lambda package, pinned. Regenerate with: make lock"; \
	  $(LOCK_VENV)/bin/pip freeze; } > requirements.lock
	$(LOCK_VENV)/bin/pip install --quiet -c requirements.lock ".[dev]"
	$(LOCK_VENV)/bin/pip uninstall --quiet -y haystack-lambda
	{ echo "# Development and test dependencies, pinned (includes the runtime set, not Hayhooks: .venv must see what Lambda sees). Regenerate with: make lock"; \
	  $(LOCK_VENV)/bin/pip freeze; } > requirements-dev.lock
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet -c requirements-dev.lock hayhooks==2.1.0 trafilatura
	{ echo "# Hayhooks 2.1.0 and its dependencies, pinned: the test-only .venv-hayhooks (tests and make bench compare against the real Hayhooks; trafilatura: recording Hayhooks' website examples). Regenerate with: make lock"; \
	  $(LOCK_VENV)/bin/pip freeze; } > requirements-hayhooks.lock

clean:
	rm -rf $(VENV) $(SAM_VENV) $(RUNTIME_VENV) $(HAYHOOKS_VENV) .aws-sam .pytest_cache .ruff_cache .bench .check
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
