# The two set-up commands of the README, and what they need.
#   make docs   serve the documentation site at http://127.0.0.1:8000
#   make test   lint, the test suite on TensorFlow, JAX and PyTorch, strict docs build

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
BACKENDS ?= tensorflow jax torch
DOCS_ADDR ?= 127.0.0.1:8000

# Quiet TensorFlow's C++ start-up banners; errors still print.
export TF_CPP_MIN_LOG_LEVEL ?= 2
export NO_MKDOCS_2_WARNING ?= 1

.PHONY: docs test lint build-docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# One stamp per set of extras: re-installs when pyproject.toml changes.
$(VENV)/.docs-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[tensorflow,docs]"
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $@ $(VENV)/.docs-installed

docs: $(VENV)/.docs-installed
	SITE_URL=http://$(DOCS_ADDR)/ $(BIN)/mkdocs serve --dev-addr $(DOCS_ADDR)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

build-docs: $(VENV)/.docs-installed
	$(BIN)/mkdocs build --strict

test: lint $(VENV)/.test-installed
	@for backend in $(BACKENDS); do \
		echo "=== pytest, KERAS_BACKEND=$$backend ==="; \
		KERAS_BACKEND=$$backend $(BIN)/python -m pytest || exit 1; \
	done
	$(MAKE) build-docs

clean:
	rm -rf $(VENV) site dist build .pytest_cache .ruff_cache .hypothesis
