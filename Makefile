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

# The exact versions the checks run on (pip's -c; the published extras in
# pyproject.toml carry lower bounds only).
CONSTRAINTS := constraints/dev.txt
PIP_INSTALL = $(BIN)/python -m pip install --quiet -c $(CONSTRAINTS)

# TensorFlow's C++ log: level 3 keeps only fatal errors. Level 2 still prints
# "failed call to cuInit" on every machine without a GPU (CUDA_VISIBLE_DEVICES
# does not prevent it); TensorFlow's real errors reach Python as exceptions.
export TF_CPP_MIN_LOG_LEVEL ?= 3
export NO_MKDOCS_2_WARNING ?= 1
# The strict docs build prints each DeprecationWarning with a traceback; this one
# comes from TensorFlow tensors under NumPy 2 (`np.array` on a tensor whose
# `__array__` lacks `copy`), not from keras-nin. pytest ignores it too (pyproject.toml).
DOCS_WARNINGS := default::DeprecationWarning,ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning
# pytest, with Keras (and so TensorFlow, whose C++ start-up lines print before it
# reads TF_CPP_MIN_LOG_LEVEL) imported before pytest captures output: those lines
# then come first instead of after the summary.
PYTEST := $(BIN)/python -c 'import sys, keras, pytest; sys.exit(pytest.main())'

.PHONY: docs test lint build-docs browser tcmalloc vendor bench bench-quick bench-sweep digits notebooks clean

KATEX_VERSION := 0.16.47
KATEX_DIR := docs/assets/vendor/katex

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# One stamp per set of extras: re-installs when pyproject.toml changes.
$(VENV)/.docs-installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP_INSTALL) -e ".[tensorflow,docs]"
	touch $@

$(VENV)/.test-installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP_INSTALL) -e ".[all]"
	touch $@ $(VENV)/.docs-installed

docs: $(VENV)/.docs-installed
	SITE_URL=http://$(DOCS_ADDR)/ PYTHONWARNINGS="$(DOCS_WARNINGS)" \
		$(BIN)/mkdocs serve --dev-addr $(DOCS_ADDR)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

build-docs: $(VENV)/.docs-installed
	PYTHONWARNINGS="$(DOCS_WARNINGS)" $(BIN)/mkdocs build --strict

# The strict docs build runs first: it executes every snippet, and the page test
# (in the TensorFlow run) opens the site it built, in the Chromium `browser` chose.
test: lint build-docs browser $(VENV)/.test-installed
	@for backend in $(BACKENDS); do \
		echo "=== pytest, KERAS_BACKEND=$$backend ==="; \
		KERAS_NIN_SITE_DIR=$(CURDIR)/site KERAS_BACKEND=$$backend \
		KERAS_NIN_CHROMIUM="$$(cat $(CHROMIUM_FILE))" \
			$(PYTEST) $(PYTEST_ARGS) || exit 1; \
	done

# Benchmarks (not part of `make test`): one process per backend, then the report
# (tables for the Benchmarks page and its plot) from the result files. tcmalloc is
# installed for the allocator comparison (the runs themselves use glibc malloc).
bench: $(VENV)/.test-installed tcmalloc
	@for backend in $(BACKENDS); do \
		KERAS_BACKEND=$$backend $(BIN)/python -m benchmarks.run || exit 1; \
	done
	$(BIN)/python -m benchmarks.report

# The quick check that the benchmarks run (default and compiled paths, native
# PyTorch, scaling), TensorFlow by default, a few minutes;
# `make bench-quick QUICK_BACKENDS="jax torch"` for the others.
QUICK_BACKENDS ?= tensorflow
bench-quick: $(VENV)/.test-installed
	@for backend in $(QUICK_BACKENDS); do \
		KERAS_BACKEND=$$backend $(BIN)/python -m benchmarks.run --quick || exit 1; \
	done
	$(BIN)/python -m benchmarks.report --print-only \
		$(foreach backend,$(QUICK_BACKENDS),benchmarks/results/$(backend)-quick.json \
			$$(ls benchmarks/results/$(backend)-gpu-quick.json 2>/dev/null))

# Pointwise against the matmul and Conv2D(1×1) over many shapes, per backend (not part
# of `make bench`):
# the measurement behind Pointwise's choice of computation; writes
# benchmarks/results/<backend>-sweep.md.
bench-sweep: $(VENV)/.test-installed
	@for backend in $(BACKENDS); do \
		KERAS_BACKEND=$$backend $(BIN)/python -m benchmarks.sweep || exit 1; \
	done

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

# `$(call apt_install,PACKAGE)`: install a Debian package (with sudo unless root).
apt_install = SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq $(1) >/dev/null

# The page test (tests/test_site.py) drives a headless Chromium, the first found of:
# Playwright's own (after `.venv/bin/python -m playwright install chromium`), the
# system's `chromium` (on Debian/Ubuntu installed here with apt-get when missing).
# Its path goes to $(CHROMIUM_FILE), read into KERAS_NIN_CHROMIUM by `test`.
CHROMIUM_FILE := $(VENV)/chromium-path
PLAYWRIGHT_CHROMIUM := from playwright.sync_api import sync_playwright as s; \
	p = s().start(); print(p.chromium.executable_path); p.stop()

browser: $(VENV)/.test-installed
	@path=$$($(BIN)/python -c '$(PLAYWRIGHT_CHROMIUM)' 2>/dev/null); \
	if [ -n "$$path" ] && [ -x "$$path" ]; then :; \
	elif path=$$(command -v chromium); then :; \
	elif command -v apt-get >/dev/null && { $(call apt_install,chromium); } && \
		path=$$(command -v chromium); then :; \
	else \
		echo "make: no Chromium for the page test (tests/test_site.py). Either" >&2; \
		echo "  $(BIN)/python -m playwright install chromium   (Playwright's own), or" >&2; \
		echo "  install the system's: sudo apt-get install chromium   (Debian/Ubuntu)" >&2; \
		echo "then run make test again." >&2; \
		exit 1; \
	fi; \
	echo "Chromium for the page test: $$path"; \
	echo "$$path" > $(CHROMIUM_FILE)

tcmalloc:
	@ldconfig -p | grep -q libtcmalloc_minimal.so.4 || \
		{ $(call apt_install,libtcmalloc-minimal4); }

# Regenerate the committed notebooks (notebooks/) from the pages' Markdown.
notebooks: $(VENV)/.docs-installed
	$(BIN)/python docs/hooks/notebooks.py

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
