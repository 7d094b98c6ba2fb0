# Two commands for a fresh machine: `make dev` runs it, `make test` passes every test.
# Everything installs itself from nothing (virtualenv, npm packages, Debian's chromium).

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8000
STAGE ?= dev
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1

HAS_WEB := $(wildcard web/package.json)
HAS_INFRA := $(wildcard infra/package.json)

.PHONY: help install dev migrate test test-python test-web lint bench synth deploy pipeline destroy smoke layer web types chromium clean

help:
	@echo "make dev      run the whole system locally on http://127.0.0.1:$(PORT)"
	@echo "make test     install everything and run every test"
	@echo "make lint | migrate | bench | synth | deploy STAGE=dev | smoke STAGE=dev | pipeline | types | clean"

# --- installation -----------------------------------------------------------
$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
	$(PIP) install -q -e '.[dev]' 2>&1 | grep -v "is ignored" || true
	$(PY) -c "import warroom, aiohttp, moto, pgserver, aws_cdk, playwright"
	@touch $@

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

infra/node_modules/.installed: infra/package.json infra/package-lock.json
	cd infra && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The PDF report's CJK font: a subset of Debian's Noto Sans CJK TC, made here and shipped
# in the layer (nothing fetches a font at run time).
PDF_FONT := layers/warroom/fonts/NotoSansCJKtc-subset.otf
$(PDF_FONT): tools/build_cjk_font.py $(VENV)/.installed
	@test -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc || { \
		echo "installing Debian's fonts-noto-cjk for the PDF report's font"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; }
	$(PY) tools/build_cjk_font.py

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@echo "browser tests use: $$(chromium --version 2>/dev/null)"

install: $(VENV)/.installed $(PDF_FONT) $(if $(HAS_WEB),web/node_modules/.installed) $(if $(HAS_INFRA),infra/node_modules/.installed)

web: install
ifneq ($(HAS_WEB),)
	cd web && npm run build --silent
endif

# The web client's wire types, from the server's pydantic models (JSON Schema, then
# json-schema-to-typescript). The result is committed, so `web` needs no Python step;
# tests/unit/test_generated_types.py fails when it is stale: run this and commit.
types: install
	set -o pipefail; $(PY) -m warroom.wire_schema | (cd web && node scripts/gen-types.mjs) > web/src/generated/protocol.ts.new
	mv web/src/generated/protocol.ts.new web/src/generated/protocol.ts

# --- running ----------------------------------------------------------------
# `make dev SIMULATE=1` also runs a demo line's gateway posting signed readings (issue 18).
dev: install web
	$(PY) -m local.stack --port $(PORT) $(if $(SIMULATE),--simulate-line)

migrate: install
	$(PY) -m warroom.db.migrate

# --- checking ---------------------------------------------------------------
lint: install
	$(VENV)/bin/ruff check layers functions local migrations bench tests infra tools
	$(VENV)/bin/ruff format --check layers functions local migrations bench tests infra tools
	$(VENV)/bin/mypy

test: install chromium web layer lint test-web test-python

test-python: install layer
	$(PY) -m pytest -q

test-web: install
ifneq ($(HAS_WEB),)
	cd web && npm test --silent
endif

bench: install web
	$(PY) -m bench.run

# --- cloud ------------------------------------------------------------------
layer: install
	$(PY) -m infra.build_layer

# cfn-lint with the serverless rules fails on errors only (warnings are printed). The app
# also holds the deploy pipeline (infra/pipeline.py): its template is written and linted
# too (E3703 misreads the action RoleArn joins CDK Pipelines writes: not ours to change).
synth: install layer web
	infra/node_modules/.bin/cdk synth --quiet -c stage=$(STAGE)
	$(VENV)/bin/cfn-lint --append-rules cfn_lint_serverless.rules --non-zero-exit-code error \
		-- cdk.out/WarRoom-$(STAGE).template.json
	$(VENV)/bin/cfn-lint --non-zero-exit-code error --ignore-checks E3703 \
		-- cdk.out/WarRoom-Pipeline.template.json

# A fresh deploy_id makes the migration custom resource run on every deploy.
deploy: install layer web
	infra/node_modules/.bin/cdk deploy -c stage=$(STAGE) -c deploy_id=$$(date +%s) $(if $(ALARM_EMAIL),-c alarm_email=$(ALARM_EMAIL)) WarRoom-$(STAGE)

# The end-to-end suite against the deployed stage (AWS credentials in the shell): reads the
# stack's outputs and creates (then deletes) throw-away Cognito users. `make test` runs the
# same suite against the local stack.
smoke: install
	WARROOM_SMOKE_STACK=WarRoom-$(STAGE) $(PY) -m pytest tests/smoke/test_smoke.py -q -p no:cacheprovider

# The deploy pipeline, once: from then on every push to BRANCH deploys dev, smoke-tests it,
# waits for an approval and deploys prod (docs/deploy.md, "The deploy pipeline").
pipeline: install layer web
	@test -n "$(CONNECTION_ARN)" -a -n "$(REPOSITORY)" || { echo "usage: make pipeline \
		CONNECTION_ARN=arn:aws:codeconnections:<region>:<account>:connection/<id> \
		REPOSITORY=<owner>/<name> [BRANCH=main]"; exit 2; }
	infra/node_modules/.bin/cdk deploy -c pipeline_connection_arn=$(CONNECTION_ARN) \
		-c pipeline_repository=$(REPOSITORY) -c pipeline_branch=$(or $(BRANCH),main) \
		WarRoom-Pipeline

destroy: install layer
	infra/node_modules/.bin/cdk destroy -c stage=$(STAGE) WarRoom-$(STAGE)

clean:
	rm -rf .local cdk.out build web/dist .pytest_cache .mypy_cache .ruff_cache
