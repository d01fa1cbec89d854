# HitKeep: `make run` starts a local server, `make test` runs every test. See README.md.

SWIFT ?= swift
PYTHON ?= python3
PYTEST_FLAGS ?=

.PHONY: run test build deps test-deps unit-test integration-test clean

## run: install what is missing, build (release), start PostgreSQL + pool + nginx on 127.0.0.1:$HITKEEP_PORT
run:
	scripts/dev-stack

## test: install what is missing, build (debug), run the Swift unit tests and the integration suite
test: test-deps
	$(SWIFT) build
	$(MAKE) --no-print-directory unit-test
	$(MAKE) --no-print-directory integration-test

## build: the release binary that deployments run (.build/release/hitkeep)
build: deps
	$(SWIFT) build -c release

deps:
	scripts/install-deps

test-deps:
	scripts/install-deps --test

# `swift test` fails with "no tests found" while the test targets hold no sources; it runs as
# soon as any Swift test file exists.
unit-test:
	@if find Tests -path Tests/Integration -prune -o -name '*.swift' -print | grep -q .; then \
		echo "$(SWIFT) test"; $(SWIFT) test; \
	else \
		echo "unit-test: no Swift test files under Tests/ yet"; \
	fi

# The API, API-client and stats tests again, with the session's pool behind a transaction-pooling
# PgBouncer (README, "Through PgBouncer").
PGBOUNCER_TESTS = test_pgbouncer.py test_http_contract.py test_api_clients.py test_stats.py

# Uses .build/debug/hitkeep, or $HITKEEP_BIN.
integration-test:
	$(PYTHON) -m pytest Tests/Integration $(PYTEST_FLAGS)
	HITKEEP_TEST_PGBOUNCER=1 $(PYTHON) -m pytest $(addprefix Tests/Integration/,$(PGBOUNCER_TESTS)) $(PYTEST_FLAGS)

## clean: remove build products (the dev database in .data/ is kept: rm -rf .data to reset it)
clean:
	$(SWIFT) package clean
	rm -rf Tests/Integration/.pytest_cache Tests/Integration/__pycache__
