# vidid — see README.md. The two commands that matter:
#   make run    install what is missing, start a private Postgres, seed the demo register, serve everything
#   make test   every test (unit, Postgres, models, browser end-to-end)
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin/vidid
DATA      ?= $(abspath ../shared/data)
export VIDID_MODELS ?= $(CURDIR)/var/models
export VIDID_DATA   ?= $(DATA)
TEST_PGDIR := $(CURDIR)/var/pg-test
GOTEST_FLAGS ?= -timeout 40m
ADDR      ?= 127.0.0.1:8080
CA_ADDR   ?= 127.0.0.1:8443

.PHONY: help deps npm-deps models build run test test-unit db db-stop bench lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

deps: ## install missing Debian packages (apt; skipped when all are present)
	@scripts/deps.sh

npm-deps: deps ## put the browser tests' pinned npm packages (axe-core) under var/node
	@scripts/npm-deps.sh

models: ## put verified model files under var/models (cache, ../shared/models, npm, Debian, upstream)
	@scripts/models.sh

gomod:
	@$(GO) mod download

build: deps gomod ## build bin/vidid
	$(GO) build -o $(BIN) ./cmd/vidid

db: deps ## start the private Postgres under var/pg (prints its URL)
	@scripts/pg.sh start

db-stop: ## stop the private Postgres
	@scripts/pg.sh stop

run: build models db ## serve the whole system on http://$(ADDR) (CA on $(CA_ADDR))
	@scripts/run.sh "$(BIN)" "$(ADDR)" "$(CA_ADDR)"

test: deps npm-deps models gomod ## run every test against a private Postgres and headless Chromium
	@set -o pipefail; \
	VIDID_PGDIR=$(TEST_PGDIR) VIDID_PG_FAST=1 scripts/pg.sh start >/dev/null; \
	trap 'VIDID_PGDIR=$(TEST_PGDIR) scripts/pg.sh stop >/dev/null' EXIT; \
	export VIDID_TEST_DATABASE=$$(VIDID_PGDIR=$(TEST_PGDIR) scripts/pg.sh url); \
	$(GO) vet -tags e2e ./... && \
	$(GO) test -tags e2e $(GOTEST_FLAGS) ./...

test-unit: ## fast tests only (no Postgres, models or browser)
	$(GO) test -short ./...

bench: build models ## Go benchmarks of the hot paths (one core)
	$(GO) test -run '^$$' -bench . -benchtime 50x -cpu 1 ./engine/... ./liveness/... ./webrtc/...

lint: ## gofmt + go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet -tags e2e ./...

clean: ## remove build output (keeps var/ with the database and models)
	rm -rf bin
