# The few verbs a newcomer needs. Everything installs into .venv/ on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CATALOGS := $(patsubst %.po,%.mo,$(wildcard helpdesk/translations/*/LC_MESSAGES/messages.po))

# `make run` is a local demo: a development secret in instance/ is fine there.
export HELPDESK_ENV ?= development

.PHONY: run test lint bench install test-deps clean

run: install
	$(BIN)/helpdesk db upgrade
	$(BIN)/helpdesk classifier train --if-missing
	$(BIN)/helpdesk demo-data
	$(BIN)/helpdesk run

# Two workers (one per core); `make test TEST_WORKERS=0` runs serially. loadgroup hands out
# tests one by one, except the groups in tests/conftest.py (XDIST_GROUPS), which stay together.
TEST_WORKERS ?= 2

test: install test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python bench/ingest.py

install: $(INSTALLED) $(CATALOGS)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "helpdesk needs Python 3.11 or newer; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

%.mo: %.po $(INSTALLED)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

# Debian packages the tests drive for real: Chromium for the browser tests.
test-deps:
	@bash scripts/install-test-deps.sh

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache *.egg-info
