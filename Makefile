# 佛山企质通: `make run` serves the site, `make test` runs every test; both set up what is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
PORT ?= 5000
export PORT

.PHONY: run test test-sqlite test-postgresql setup vendor system system-test database demo bench lint clean

run: setup database
	@$(FLASK) qzt accounts
	@echo "Serving http://127.0.0.1:$(PORT)  (Ctrl-C to stop)"
	@# The background worker (notices, reminders, batch printing) runs beside the site and stops with it.
	$(FLASK) qzt worker & trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn -c gunicorn.conf.py app:app

test: system-test setup
	$(BIN)/ruff check qzt tests bench app.py gunicorn.conf.py
	$(BIN)/bandit -ll -q -r qzt app.py
	$(MAKE) --no-print-directory test-sqlite test-postgresql

test-sqlite:
	$(BIN)/pytest --db sqlite

test-postgresql:
	$(BIN)/pytest --db postgresql

# Front-end packages from the npm registry (package.json, exact versions), copied into static/vendor.
VENDOR := static/vendor/htmx.min.js static/vendor/signature_pad.umd.min.js

setup: system $(VENV)/.installed vendor

system:
	@scripts/system-packages.sh run

system-test:
	@scripts/system-packages.sh test

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

static/vendor/htmx.min.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

static/vendor/signature_pad.umd.min.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/signature_pad/dist/signature_pad.umd.min.js $@

vendor: $(VENDOR)

database: setup
	$(FLASK) db upgrade
	$(FLASK) qzt demo --if-empty
	$(FLASK) qzt reindex --if-stale

bench: setup
	@scripts/system-packages.sh bench
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/search_quality.py
	@# Both engines at three sizes; the plans at the largest.
	for n in 1000 10000 100000; do \
	  explain=$$([ $$n = 100000 ] && echo --explain); \
	  $(BIN)/python bench/directory.py --count $$n $$explain || exit 1; \
	  $(BIN)/python bench/directory.py --count $$n --postgresql $$explain || exit 1; \
	done
	$(BIN)/python bench/pledge_pdf.py
	$(BIN)/python bench/score_sheets.py
	$(BIN)/python bench/load.py

lint: setup
	$(BIN)/ruff check qzt tests bench app.py gunicorn.conf.py
	$(BIN)/ruff format --check qzt tests bench app.py gunicorn.conf.py
	@# Known vulnerabilities in the installed packages; fails (says why) when it cannot be checked.
	@BIN=$(BIN) ALLOW_UNAUDITED=$(ALLOW_UNAUDITED) scripts/audit-dependencies.sh

clean:
	rm -rf $(VENV) node_modules static/vendor
