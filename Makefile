# Build and test the course.  The README gives two commands:
#
#   make book   install into $(VENV), then build the HTML book (notebooks executed)
#   make test   install, then lint, unit tests, nbval on every notebook, book build
#
# `VENV=/path/to/venv make test` reuses an existing environment.

PYTHON ?= python3
VENV ?= .venv
# jupyter-book writes to $(BUILD_DIR)/html because of `--path-output .`.
BUILD_DIR := _build
NB_DIRS ?= book exercises solutions

BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.lstm-lessons-installed
NBVAL_DIR := $(BUILD_DIR)/nbval

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DELETE_ON_ERROR:
# `make test` runs its stages in order and stops at the first failure, even under -j.
.NOTPARALLEL:

# Tools from the venv come first, so Jupyter kernels start with the venv's Python.
export PATH := $(BIN):$(PATH)
export PYTHONHASHSEED := 0
export JUPYTER_PLATFORM_DIRS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

# A stage's recipe starts with $(START) and ends with $(STOP), which prints its wall time.
START = t0=$$(date +%s%N); echo "==> $@"
STOP = ms=$$((($$(date +%s%N) - t0) / 1000000)); printf '==> %s: %d.%03d s\n' "$@" $$((ms / 1000)) $$((ms % 1000))

.PHONY: help install book test lint unit nbval exercises clean distclean

help:
	@echo "make book       install into $(VENV) and build the book into $(BUILD_DIR)/html"
	@echo "make test       install, then: ruff, pytest tests, nbval on notebooks, book build"
	@echo "make install    only create $(VENV) and install requirements.txt and the package"
	@echo "make exercises  rebuild exercises/, solutions/ and the public checks from exercises_src/"
	@echo "make clean      remove $(BUILD_DIR)"
	@echo "make distclean  remove $(BUILD_DIR) and $(VENV)"
	@echo "Variables: PYTHON=$(PYTHON) VENV=$(VENV)"

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when requirements.txt or pyproject.toml changed since the last install.
$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	@$(START); \
	$(BIN)/python -m pip install -r requirements.txt -e .; \
	touch $@; \
	$(STOP)

book: $(STAMP)
	@$(START); \
	TQDM_DISABLE=1 $(BIN)/jupyter-book build . --all --path-output . -n -W --keep-going; \
	echo "HTML: $(BUILD_DIR)/html/index.html"; \
	$(STOP)

test: $(STAMP)
	@t0=$$(date +%s%N); \
	$(MAKE) --no-print-directory lint unit nbval book; \
	$(STOP)

lint: $(STAMP)
	@$(START); \
	$(BIN)/ruff check .; \
	$(STOP)

unit: $(STAMP)
	@$(START); \
	if [ ! -d tests ]; then echo "error: tests/ not found; the unit tests belong there" >&2; exit 1; fi; \
	$(BIN)/python -m pytest tests; \
	$(STOP)

# Runs every notebook in $(NB_DIRS) from a copy in $(NBVAL_DIR); MyST notebooks
# (.md) are converted to .ipynb there.  No notebooks at all skips the stage; if
# there are notebooks, pytest must collect and pass their cells (exit 5 fails).
nbval: $(STAMP)
	@$(START); \
	notebooks=$$($(BIN)/python tools/prepare_nbval.py $(NBVAL_DIR) $(NB_DIRS)); \
	if [ -z "$$notebooks" ]; then \
		echo "nbval: no notebooks in $(NB_DIRS); nothing to run"; \
	else \
		TQDM_DISABLE=1 $(BIN)/python -m pytest -p no:cacheprovider --nbval-lax \
			--nbval-current-env --nbval-cell-timeout=120 $$notebooks || { rc=$$?; \
			if [ $$rc -eq 5 ]; then echo "nbval: notebooks found but no cells collected" >&2; fi; \
			exit $$rc; }; \
	fi; \
	$(STOP)

# Writes exercises/<set>.ipynb, solutions/<set>.ipynb and lstm_lessons/homework/manifests/<set>.json
# from each master exercises_src/<set>.md; tests/test_exercises_build.py fails until they match.
exercises: $(STAMP)
	@$(START); \
	$(BIN)/python tools/build_exercises.py; \
	$(STOP)

clean:
	rm -rf $(BUILD_DIR)

distclean: clean
	rm -rf $(VENV)
