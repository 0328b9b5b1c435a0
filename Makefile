# Build and test the course.  The README gives two commands:
#
#   make book   install into $(VENV), then build the HTML book in English and in Chinese
#               (notebooks executed once, results cached: a rebuild executes only the
#               notebooks that changed)
#   make test   install, then lint, unit tests, a book build that executes every notebook
#               from scratch, nbval against the build's outputs, a browser check of the HTML
#
# `VENV=/path/to/venv make test` reuses an existing environment.
# `make book EDITION=student` builds the student edition (no worked solutions) into
# _build/student/_build/html.

PYTHON ?= python3
VENV ?= .venv
# jupyter-book writes to $(BUILD_DIR)/html because of `--path-output .`.
BUILD_DIR := _build
NB_DIRS ?= book exercises solutions

BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.lstm-lessons-installed
NBVAL_DIR := $(BUILD_DIR)/nbval
# Where the book build keeps executed notebooks and its jupyter-cache (execute_notebooks: cache).
EXEC_DIR := $(BUILD_DIR)/jupyter_execute
JB_CACHE := $(BUILD_DIR)/.jupyter_cache
# The cache knows the notebooks' code, not the package they import: it is dropped whenever a
# file of the package or the environment changed since the cache was filled.
CACHE_STAMP := $(BUILD_DIR)/.jupyter_cache.stamp
PACKAGE_FILES := $(shell find lstm_lessons -type f -not -path '*/__pycache__/*' 2>/dev/null)
# FRESH=1 empties the cache first, so that every notebook is executed (make test, CI).
FRESH ?=
# The edition `make book` builds: self-study (chapters, exercises, worked solutions) into
# $(BUILD_DIR)/html, or student (no worked solutions; tools/editions.py writes its table of
# contents and configuration) into $(STUDENT_DIR)/_build/html, from the same execution cache.
EDITION ?= self-study
STUDENT_DIR := $(BUILD_DIR)/student
# The Chinese edition of the self-study book: built in $(ZH_DIR), published in $(HTML_DIR)/zh.
ZH_DIR := $(BUILD_DIR)/zh
ZH_FLAGS := --path-output $(ZH_DIR) --config $(ZH_DIR)/_config.yml --toc $(ZH_DIR)/_toc.yml
ifeq ($(EDITION),self-study)
JB_FLAGS := --path-output .
HTML_DIR := $(BUILD_DIR)/html
else ifeq ($(EDITION),student)
JB_FLAGS := --path-output $(STUDENT_DIR) --config $(STUDENT_DIR)/_config.yml --toc $(STUDENT_DIR)/_toc.yml
HTML_DIR := $(STUDENT_DIR)/_build/html
else
$(error EDITION must be self-study or student, got "$(EDITION)")
endif
# Notebooks executed, and test files run, at once: one per core (2 on CI). JOBS=1 runs
# everything one at a time, as a reader's `make book` on a laptop may prefer.
# (nproc obeys OMP_NUM_THREADS, which this Makefile sets to 1 below: not here.)
JOBS ?= $(shell env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null || echo 1)
# With JOBS processes on the cores already, each runs torch, OpenMP and BLAS on one thread:
# measured on 2 cores, chapters 1 and 2 executed side by side took 79 s with the default two
# threads each and 68 s with one; the unit tests 193 and 185 s. A value set in the
# environment wins.
ifneq ($(JOBS),1)
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
endif
# pytest-xdist keeps each test file (so its module fixtures, and each notebook's cells for
# nbval) in one worker.
XDIST := $(if $(filter-out 1,$(JOBS)),-n $(JOBS) --dist loadfile,)

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
# Python may write bytecode: the install compiles none (tools/install_env.py), and each of the
# many processes (kernels, test workers, graders) would otherwise compile torch's and
# matplotlib's modules from source again (importing torch: 6.6 s instead of 3.0 s).
unexport PYTHONDONTWRITEBYTECODE

# A stage's recipe starts with $(START) and ends with $(STOP), which prints its wall time.
START = t0=$$(date +%s%N); echo "==> $@"
STOP = ms=$$((($$(date +%s%N) - t0) / 1000000)); printf '==> %s: %d.%03d s\n' "$@" $$((ms / 1000)) $$((ms % 1000))

.PHONY: help install book test lint unit copies student nbval browser benchmarks exercises notebooks handout clean distclean

help:
	@echo "make book       install into $(VENV) and build the book into $(BUILD_DIR)/html,"
	@echo "                its Chinese edition into $(BUILD_DIR)/html/zh"
	@echo "                (FRESH=1: execute every notebook, not only the changed ones;"
	@echo "                EDITION=student: the student edition, without worked solutions)"
	@echo "make test       install, then: ruff, pytest tests, book build (FRESH=1), the notebook"
	@echo "                copies, the student edition, nbval, browser"
	@echo "make nbval      build the book, then rerun its notebooks against the build's outputs"
	@echo "make browser    build the book, then open every page in headless Chromium"
	@echo "make benchmarks rerun benchmarks/bench_lstm.py into the JSON the Benchmarks page reads"
	@echo "make install    only create $(VENV) and install requirements.txt and the package"
	@echo "make exercises  rebuild exercises/, solutions/ (and their Chinese copies in zh/) and the"
	@echo "                public checks from exercises_src/"
	@echo "make notebooks  rewrite notebooks/, the chapters' .ipynb copies that Colab opens"
	@echo "make handout    write the exercise notebooks alone into $(BUILD_DIR)/handout (for a hub)"
	@echo "make clean      remove $(BUILD_DIR)"
	@echo "make distclean  remove $(BUILD_DIR) and $(VENV)"
	@echo "Variables: PYTHON=$(PYTHON) VENV=$(VENV)"

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when requirements.txt or pyproject.toml changed since the last install.
# tools/install_env.py installs with uv, which takes about 10 s where pip took about 2 minutes;
# it passes pip's settings (find-links, indexes, constraints) on to uv, so that both pick the
# same builds (the CPU build of torch where it lies on find-links), and falls back to pip.
$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	@$(START); \
	$(BIN)/python tools/install_env.py $(BIN)/python --jobs $(JOBS); \
	touch $@; \
	$(STOP)

$(CACHE_STAMP): $(PACKAGE_FILES) $(STAMP)
	rm -rf $(JB_CACHE)
	mkdir -p $(BUILD_DIR) && touch $@

# The notebooks are executed first, $(JOBS) at a time, into the build's jupyter-cache
# (tools/execute_notebooks.py); jupyter-book then takes every output from the cache.
# --all re-reads every page (so that -W sees every warning).
#
# The self-study edition is built in both languages: the Chinese (tools/editions.py --edition zh,
# the catalogs in locales/) from the same execution cache, beside the English when there are two
# cores, and copied into $(HTML_DIR)/zh, so that each page links to its twin.
book: $(STAMP) $(CACHE_STAMP)
	@$(START); \
	if [ -n "$(FRESH)" ]; then rm -rf $(JB_CACHE) $(EXEC_DIR); fi; \
	$(BIN)/python tools/execute_notebooks.py --jobs $(JOBS) $(JB_CACHE); \
	if [ "$(EDITION)" = student ]; then $(BIN)/python tools/editions.py $(STUDENT_DIR); fi; \
	zh=; if [ "$(EDITION)" = self-study ]; then \
		$(BIN)/python tools/editions.py $(ZH_DIR) --edition zh; \
		TQDM_DISABLE=1 $(BIN)/jupyter-book build . --all $(ZH_FLAGS) -n -W --keep-going \
			> $(ZH_DIR)/build.log 2>&1 & zh=$$!; \
		if [ "$(JOBS)" = 1 ]; then wait $$zh || { cat $(ZH_DIR)/build.log; exit 1; }; zh=; fi; \
	fi; \
	TQDM_DISABLE=1 $(BIN)/jupyter-book build . --all $(JB_FLAGS) -n -W --keep-going; \
	if [ -n "$$zh" ]; then wait $$zh || { cat $(ZH_DIR)/build.log; echo "the Chinese edition's build failed" >&2; exit 1; }; fi; \
	if [ "$(EDITION)" = self-study ]; then \
		grep -v '^ ' $(ZH_DIR)/build.log | tail -n 3; \
		rm -rf $(HTML_DIR)/zh; cp -r $(ZH_DIR)/_build/html $(HTML_DIR)/zh; \
		echo "HTML (Chinese): $(HTML_DIR)/zh/index.html"; \
		$(BIN)/python tools/bundle.py $(HTML_DIR)/lstm-lessons-notebooks.zip; \
	fi; \
	echo "HTML ($(EDITION) edition): $(HTML_DIR)/index.html"; \
	$(STOP)

# `book` runs once, before the stages that need its output. The student edition's build (one
# core) then runs beside the browser stage, which spends much of its time waiting on Chromium
# (its output is shown when both are done); BOOK_BUILT=1 tells these make runs that the book is
# built already.
# Chromium's install (apt-get: mostly download and unpacking, little CPU) starts in the
# background at once, so that the browser stage need not wait for it; its output and exit
# status wait in $(BROWSER_INSTALL).log and .rc.
BROWSER_INSTALL := $(BUILD_DIR)/install_browser
test: $(STAMP)
	@t0=$$(date +%s%N); \
	mkdir -p $(BUILD_DIR); rm -f $(BROWSER_INSTALL).rc; \
	{ rc=0; bash tools/install_browser.sh > $(BROWSER_INSTALL).log 2>&1 || rc=$$?; \
	  echo $$rc > $(BROWSER_INSTALL).rc; } & \
	$(MAKE) --no-print-directory JOBS=$(JOBS) FRESH=1 BROWSER_INSTALLING=1 lint unit book copies nbval; \
	$(MAKE) --no-print-directory BOOK_BUILT=1 student > $(BUILD_DIR)/student.log 2>&1 & student=$$!; \
	browser_rc=0; $(MAKE) --no-print-directory JOBS=$(JOBS) BOOK_BUILT=1 BROWSER_INSTALLING=1 browser || browser_rc=$$?; \
	student_rc=0; wait $$student || student_rc=$$?; cat $(BUILD_DIR)/student.log; \
	if [ $$student_rc -ne 0 ] || [ $$browser_rc -ne 0 ]; then \
		echo "test: student stage exit $$student_rc, browser stage exit $$browser_rc" >&2; exit 1; fi; \
	$(STOP)

lint: $(STAMP)
	@$(START); \
	$(BIN)/ruff check .; \
	$(STOP)

unit: $(STAMP)
	@$(START); \
	if [ ! -d tests ]; then echo "error: tests/ not found; the unit tests belong there" >&2; exit 1; fi; \
	$(if $(BROWSER_INSTALLING),CHECK_SITE_TESTS=later) $(BIN)/python -m pytest $(XDIST) tests; \
	$(STOP)

# The notebook copies that readers open outside the site (notebooks/, tools/build_notebooks.py)
# against the notebooks the book build executed: no second execution. It fails on a copy that
# differs from its page as built, shows MyST syntax, or lacks a figure.
copies: $(STAMP) book
	@$(START); \
	$(BIN)/python tools/build_notebooks.py --check; \
	$(STOP)

# The student edition, from the self-study build's execution cache: it must build with -n -W
# (every link to a solution written as text), publish no solution page and no hidden test
# (tools/sphinx_editions.py searches the output).
student: $(STAMP) $(if $(BOOK_BUILT),,book)
	@$(START); \
	$(MAKE) --no-print-directory EDITION=student FRESH= book; \
	if [ -e $(STUDENT_DIR)/_build/html/solutions ]; then \
		echo "student edition: $(STUDENT_DIR)/_build/html/solutions/ exists" >&2; exit 1; fi; \
	$(STOP)

# Runs every notebook in $(NB_DIRS) again from a copy in $(NBVAL_DIR). A notebook that the
# book build executed (chapters, reference pages, solutions) is compared, in nbval's strict
# mode, with the outputs the build stored in its jupyter-cache: a second run must print the
# same, up to what tools/nbval_sanitize.cfg masks (memory addresses, timings). The others (the
# exercise notebooks, which the book shows unexecuted) only have to run (--nbval-lax). If
# there are notebooks, pytest must collect and pass their cells (exit 5 fails); a build that
# left no executed notebook to compare with fails too.
NBVAL_FLAGS := -p no:cacheprovider -p nbval_kernel_retry --nbval-current-env --nbval-cell-timeout=120
nbval: $(STAMP) book
	@$(START); \
	listing=$$($(BIN)/python tools/prepare_nbval.py --cache $(JB_CACHE) $(NBVAL_DIR) $(NB_DIRS)); \
	strict=$$(awk '$$1 == "strict" {print $$2}' <<< "$$listing"); \
	lax=$$(awk '$$1 == "lax" {print $$2}' <<< "$$listing"); \
	if [ -z "$$listing" ]; then echo "nbval: no notebooks in $(NB_DIRS); nothing to run"; \
	elif [ -z "$$strict" ]; then echo "nbval: the book build executed none of the notebooks" >&2; exit 1; fi; \
	for mode in strict lax; do \
		if [ $$mode = strict ]; then nbs=$$strict; flags="--nbval --nbval-sanitize-with tools/nbval_sanitize.cfg"; \
		else nbs=$$lax; flags=--nbval-lax; fi; \
		[ -n "$$nbs" ] || continue; \
		echo "nbval ($$mode): $$(wc -w <<< "$$nbs") notebooks"; \
		PYTHONPATH=tools TQDM_DISABLE=1 $(BIN)/python -m pytest $(XDIST) $(NBVAL_FLAGS) $$flags $$nbs || { rc=$$?; \
			if [ $$rc -eq 5 ]; then echo "nbval: notebooks found but no cells collected" >&2; fi; \
			exit $$rc; }; \
	done; \
	$(STOP)

# Opens every page of the built book in headless Chromium (installed with apt-get where it
# is missing; see tools/install_browser.sh) and fails on a page that does not load, a broken
# internal link or image, an image without alt text, untypeset math or a console error,
# while tests/test_check_site.py shows on a small site that each of those checks fires (the
# two run at once: a browser spends much of a page waiting, so they share the cores well;
# the stage fails if either does). Screenshots of a few pages go to $(BUILD_DIR)/screenshots.
browser: $(STAMP) $(if $(BOOK_BUILT),,book)
	@$(START); \
	if [ -n "$(BROWSER_INSTALLING)" ]; then \
		while [ ! -s $(BROWSER_INSTALL).rc ]; do sleep 1; done; \
		cat $(BROWSER_INSTALL).log; rc=$$(cat $(BROWSER_INSTALL).rc); \
	else rc=0; bash tools/install_browser.sh || rc=$$?; fi; \
	if [ $$rc -eq 0 ]; then \
		CHECK_SITE_TESTS=required $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_check_site.py & \
		tests=$$!; \
		site=0; $(BIN)/python tools/check_site.py --jobs $(JOBS) $(BUILD_DIR)/html --screenshots $(BUILD_DIR)/screenshots || site=$$?; \
		wait $$tests || { echo "browser: tests/test_check_site.py failed" >&2; exit 1; }; \
		[ $$site -eq 0 ] || exit $$site; \
	elif [ $$rc -ne 3 ]; then exit $$rc; fi; \
	$(STOP)

# Reruns the benchmark (a few minutes) and writes what the book's Benchmarks page shows. One
# thread: on a shared 2-core machine two threads each for NumPy and torch fight for the cores.
benchmarks: $(STAMP)
	@$(START); \
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
		$(BIN)/python benchmarks/bench_lstm.py --threads 1 --json benchmarks/bench_lstm.json; \
	$(STOP)

# Writes exercises/<set>.ipynb, solutions/<set>.ipynb and lstm_lessons/homework/manifests/<set>.json
# from each master exercises_src/<set>.md; tests/test_exercises_build.py fails until they match.
exercises: $(STAMP)
	@$(START); \
	$(BIN)/python tools/build_exercises.py; \
	$(BIN)/python tools/translate_notebooks.py || { echo "exercises: the Chinese copies need \
	the new English translated (python tools/translations.py update, then check)" >&2; exit 1; }; \
	$(STOP)

# Writes notebooks/<name>.ipynb, the copy of each Markdown notebook book/<name>.md that a
# chapter's launch buttons open (prose resolved, figures in place, outputs as built), from the
# notebooks the book build executed, and its Chinese copy notebooks/zh/<name>.ipynb; `make test`
# fails until they match (stage copies).
notebooks: $(STAMP) book
	@$(START); \
	$(BIN)/python tools/build_notebooks.py; \
	$(STOP)

# The exercise notebooks alone, for a hub (README, "For instructors"): no solution, no hidden
# test. SETS="ch01_simple_rnn ch02_vanishing_exploding" hands out some sets only.
handout: $(STAMP)
	@$(START); \
	$(BIN)/python tools/handout.py $(BUILD_DIR)/handout $(SETS); \
	$(STOP)

clean:
	rm -rf $(BUILD_DIR)

distclean: clean
	rm -rf $(VENV)
