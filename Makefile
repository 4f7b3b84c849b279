# Hourglass: the two commands are `make dev` and `make test` (`make lint` runs only the linter).
SHELL := /bin/bash
NPM ?= npm
NODE ?= node
# Extra flags for `hourglass start-dev`, e.g. `make dev ARGS="--port 7300 --in-memory"`.
ARGS ?=

PACKAGE_JSONS := package.json package-lock.json $(wildcard services/*/package.json) sdk/package.json sdk-testing/package.json web/package.json tests/conformance/package.json load-tests/package.json

.PHONY: install build dev test lint bench clean chromium

node_modules/.install-stamp: $(PACKAGE_JSONS)
	$(NPM) ci --no-audit --no-fund
	@touch $@

install: node_modules/.install-stamp

build: install
	$(NPM) run --silent build

dev: build
	$(NODE) services/server/dist/bin.js start-dev $(ARGS)

test: build chromium
	$(NODE) scripts/run-tests.mjs

# The portal console's browser test drives the machine's Chromium (never a downloaded one).
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Chromium for the portal console's browser test (apt-get install -y chromium)"; \
	  (apt-get install -y chromium || (apt-get update && apt-get install -y chromium)); \
	else \
	  echo "!! /usr/bin/chromium is missing and this is not root with apt-get: install it (e.g. sudo apt-get install -y chromium)."; \
	  echo "!! Without it the portal console's browser test is skipped (a failure under CI=true)."; \
	fi

# ESLint with type information (eslint.config.mjs); `make test` runs it first as one of its tests.
lint: install
	$(NODE) node_modules/eslint/bin/eslint.js .

bench: build
	$(NODE) load-tests/dist/bench.js $(ARGS)

clean:
	$(NPM) run --silent clean || true
	rm -rf node_modules .hourglass .test-tmp .test-artifacts web/.next
