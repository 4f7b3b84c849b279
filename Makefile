# Hourglass: the two commands are `make dev` and `make test`.
SHELL := /bin/bash
NPM ?= npm
NODE ?= node
# Extra flags for `hourglass start-dev`, e.g. `make dev ARGS="--port 7300 --in-memory"`.
ARGS ?=

PACKAGE_JSONS := package.json package-lock.json $(wildcard services/*/package.json) sdk/package.json sdk-testing/package.json tests/conformance/package.json load-tests/package.json

.PHONY: install build dev test bench clean

node_modules/.install-stamp: $(PACKAGE_JSONS)
	$(NPM) ci --no-audit --no-fund
	@touch $@

install: node_modules/.install-stamp

build: install
	$(NPM) run --silent build

dev: build
	$(NODE) services/server/dist/bin.js start-dev $(ARGS)

test: build
	$(NODE) scripts/run-tests.mjs

bench: build
	$(NODE) load-tests/dist/bench.js $(ARGS)

clean:
	$(NPM) run --silent clean || true
	rm -rf node_modules .hourglass .test-tmp
