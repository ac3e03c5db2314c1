# Forum Desk: `make run` to try it, `make test` to check it. Both set everything up first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# Links in emails and the printed demo logins point at where `make run` serves.
BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test test-fast setup dev-setup db demo translations clean bench load css js lint format

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the requirement files change.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The compiled catalogues (.mo) are built here, not committed: `make run` and `make test` both
# come through setup, so they always speak what the .po files say.
CATALOGUES := $(wildcard forum_app/translations/*/LC_MESSAGES/messages.po)
setup: $(VENV)/.installed $(CATALOGUES:.po=.mo)

%.mo: %.po | $(VENV)/.installed
	$(BIN)/pybabel compile -i $< -o $@ >/dev/null

dev-setup: setup $(VENV)/.installed-dev

db: setup
	$(FLASK) db upgrade

demo: db
	BASE_URL=$(BASE_URL) $(FLASK) forum seed-demo --if-empty

# The delivery worker runs beside the web server and stops with it. Without MAIL_SERVER
# (development) it sends nothing: emails stay readable at /outbox.
run: demo
	@echo "Serving Forum Desk on http://$(HOST):$(PORT) with the email worker (Ctrl-C to stop)"
	BASE_URL=$(BASE_URL) $(FLASK) forum mail deliver --loop & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	BASE_URL=$(BASE_URL) $(FLASK) run --host $(HOST) --port $(PORT)

# Everything, in two runs: the tests not marked slow on two cores (pytest-xdist, each worker on its own
# database), then the slow ones (browsers, servers, other processes) one at a time, so they never compete
# for the two cores with each other. Exit code 5 (nothing collected, e.g. PYTEST_ARGS naming only slow
# tests) is not a failure of either run.
test: dev-setup
	$(BIN)/python -m pytest -m "not slow" -n 2 -p no:cacheprovider $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -m slow -p no:cacheprovider $(PYTEST_ARGS) || [ $$? -eq 5 ]

# Everything but the tests marked slow (browsers, schemathesis, nginx nodes, the bench smoke run, other
# processes), on every core with pytest-xdist, each worker on its own database (with TEST_DATABASE_URL:
# <name>_gw0, <name>_gw1, … created on that server). `make test` (and CI) runs these and then the slow ones.
test-fast: dev-setup
	$(BIN)/python -m pytest -m "not slow" -n auto -p no:cacheprovider $(PYTEST_ARGS)

# Programme-scale data under gunicorn, timed beside a bare Flask page (see docs/performance.md).
# SQLite by default; DATABASE_URL=postgresql+psycopg://… for PostgreSQL. Growth is measured from
# scale 0.025 (three forums, as many as the demo data) to a whole programme (scale 1); then each
# worker's memory after 2,000 requests across every page, person and report period. BENCH_ARGS is
# passed as written ($(value …): make does not expand it), so a regular expression may end in $:
#   make bench BENCH_ARGS="--scale 1 --only 'meetings\.meeting$'"
BENCH_ARGS ?= --scale 0.025 --scale 1 --memory 2000
bench: setup
	$(BIN)/python bench/run.py $(value BENCH_ARGS)

# Many people at once, as in a busy week: Locust, headless, against gunicorn on loopback (see
# docs/performance.md). Demo data on SQLite by default; --scale N for generated data,
# DATABASE_URL=postgresql+psycopg://… for PostgreSQL. Exits non-zero on any error or lost write:
#   make load LOAD_ARGS="--users 50 --seconds 120 --workers 4 --scale 1"
LOAD_ARGS ?= --users 50 --seconds 120 --workers 4
load: setup $(VENV)/.installed-dev
	$(BIN)/python bench/load.py $(value LOAD_ARGS)

# Only the Bootstrap CSS the pages use: prunes the vendored full bootstrap.min.css into
# bootstrap.used.min.css (committed; tests fail when it is stale). Re-run after changing classes.
css: $(BIN)/python
	$(BIN)/python tools/prune_css.py

# Only the Bootstrap JS the pages use: bundles the plugins tools/js/index.js imports (with
# Popper) from the npm packages pinned in tools/js/package-lock.json into
# bootstrap.used.min.js (committed; a test fails when a template uses a plugin it lacks).
# Needs Node and npm; the app and its tests never do. --ignore-scripts: esbuild's
# postinstall only re-checks the binary its platform package already brings.
js:
	cd tools/js && npm ci --ignore-scripts && node build.mjs

# Extract every marked string into the template, merge it into each language's catalogue
# (new strings arrive empty, changed ones fuzzy: the tests fail on both until a translator
# fills them in), then compile. See docs/translating.md.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_ngettext:1,2 --add-comments=Translators: --sort-by-file \
		--project="Forum Desk" --copyright-holder="Forum Desk" --msgid-bugs-address="" \
		-o forum_app/translations/messages.pot .
	$(BIN)/pybabel update -i forum_app/translations/messages.pot -d forum_app/translations --ignore-obsolete
	$(BIN)/pybabel compile -d forum_app/translations --statistics

# ruff (lint, and the format check) and mypy, with the settings in pyproject.toml. `make format` rewrites.
lint: dev-setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: dev-setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache
