# The two set-up commands of the README, and what they need.
#   make docs   serve the documentation site at http://127.0.0.1:8000
#   make test   lint, the test suite on TensorFlow, JAX and PyTorch, strict docs build

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
BACKENDS ?= tensorflow jax torch
DOCS_ADDR ?= 127.0.0.1:8000
# Two workers, a test module each at a time (module fixtures stay in one worker).
PYTEST_ARGS ?= -n 2 --dist loadfile

# Quiet TensorFlow's C++ start-up banners; errors still print.
export TF_CPP_MIN_LOG_LEVEL ?= 2
export NO_MKDOCS_2_WARNING ?= 1

.PHONY: docs test lint build-docs browser tcmalloc vendor bench bench-quick digits clean

KATEX_VERSION := 0.16.47
KATEX_DIR := docs/assets/vendor/katex

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

# The strict docs build runs first: it executes every snippet, and the page test
# (in the TensorFlow run) opens the site it built.
test: lint build-docs browser $(VENV)/.test-installed
	@for backend in $(BACKENDS); do \
		echo "=== pytest, KERAS_BACKEND=$$backend ==="; \
		KERAS_NIN_SITE_DIR=$(CURDIR)/site KERAS_BACKEND=$$backend \
			$(BIN)/python -m pytest $(PYTEST_ARGS) || exit 1; \
	done

# Benchmarks (not part of `make test`): one process per backend, then the report
# (tables for the Benchmarks page and its plot) from the result files. tcmalloc is
# installed for the allocator comparison (the runs themselves use glibc malloc).
bench: $(VENV)/.test-installed tcmalloc
	@for backend in $(BACKENDS); do \
		KERAS_BACKEND=$$backend $(BIN)/python -m benchmarks.run || exit 1; \
	done
	$(BIN)/python -m benchmarks.report

# The quick check of the bars, on the backend they are set on, in under two
# minutes; `make bench-quick QUICK_BACKENDS="jax torch"` for the others.
QUICK_BACKENDS ?= tensorflow
bench-quick: $(VENV)/.test-installed
	@for backend in $(QUICK_BACKENDS); do \
		KERAS_BACKEND=$$backend $(BIN)/python -m benchmarks.run --quick || exit 1; \
	done
	$(BIN)/python -m benchmarks.report --print-only \
		$(foreach backend,$(QUICK_BACKENDS),benchmarks/results/$(backend)-quick.json)

# Train NiN on scikit-learn's real digits (examples/digits.py; not part of `make test`):
# the ablation and the paper's NiN on TensorFlow, then NiN on the other backends; the
# last run copies results.json, the table and the plots to the Docs' assets.
DIGITS := $(BIN)/python examples/digits.py
digits: $(VENV)/.test-installed
	KERAS_BACKEND=tensorflow $(DIGITS) --ablation
	KERAS_BACKEND=tensorflow $(DIGITS) --normalization none
	KERAS_BACKEND=tensorflow $(DIGITS) --normalization none --learning-rate 5e-4
	KERAS_BACKEND=torch $(DIGITS)
	KERAS_BACKEND=jax $(DIGITS) --publish docs/assets/digits

# The page test drives Debian's Chromium; install it when it is missing.
# `$(call apt_install,PACKAGE)`: install a Debian package (with sudo unless root).
apt_install = SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq $(1) >/dev/null

browser:
	@command -v chromium >/dev/null || { $(call apt_install,chromium); }

tcmalloc:
	@ldconfig -p | grep -q libtcmalloc_minimal.so.4 || \
		{ $(call apt_install,libtcmalloc-minimal4); }

# Refresh the vendored KaTeX from the npm registry (run by hand, output committed).
vendor:
	rm -rf $(KATEX_DIR) && mkdir -p $(KATEX_DIR)/contrib $(KATEX_DIR)/fonts
	cd $$(mktemp -d) && npm pack --silent katex@$(KATEX_VERSION) && tar xzf katex-*.tgz && \
		cp package/dist/katex.min.js package/dist/katex.min.css $(CURDIR)/$(KATEX_DIR)/ && \
		cp package/dist/contrib/auto-render.min.js $(CURDIR)/$(KATEX_DIR)/contrib/ && \
		cp package/dist/fonts/*.woff2 $(CURDIR)/$(KATEX_DIR)/fonts/ && \
		cp package/LICENSE $(CURDIR)/$(KATEX_DIR)/LICENSE

clean:
	rm -rf $(VENV) site dist build .pytest_cache .ruff_cache .hypothesis
