# Backpropagation from Scratch: the two commands are `make book` and `make test`.
# Both create the virtual environment .venv from requirements*.txt the first time they run.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Same arithmetic on every x86-64 machine: NumPy and OpenBLAS pick CPU-specific code at run time
# (AVX-512 where present), and those paths round differently in the last bit. Most chapters do not
# care, but a chaotic run (a diverging step, an overfitting fit) amplifies that bit into a different
# printed number, and the committed outputs are compared digit for digit. So the two targets that
# write or compare printed digits (test, execute) run with the AVX2 paths, which all x86-64 machines
# of the last decade have (elsewhere this changes nothing). The others (lab, bench, grade, ...) run
# at the machine's full speed, as readers and instructors do: the pins cost up to a third of a step.
ifneq ($(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo yes),)
test execute: export OPENBLAS_CORETYPE ?= Haswell
test execute: export NPY_DISABLE_CPU_FEATURES ?= X86_V4 AVX512_ICL AVX512_SPR
endif
# Stamp files: the venv is rebuilt when a requirements file changes.
BOOK_STAMP := $(VENV)/.book-installed
DEV_STAMP  := $(VENV)/.dev-installed
# The live book (JupyterLite + Pyodide) has its own build environment: its pins clash with the book's.
LITE_VENV  := .venv-lite
LITE_STAMP := $(LITE_VENV)/.installed

.PHONY: book live test check lab execute exercises grade bench lint mutation clean help i18n

help:
	@echo "make book       build the HTML book into _build/html (Chinese edition: _build/html/zh_CN), with the live book in _build/html/lite"
	@echo "make live       (re)build only the live book, which runs every notebook in the browser"
	@echo "make test       build the book, then run every test (package, notebooks, grading, site, browser)"
	@echo "make check      ruff and the package's unit tests, in about 20 s (no book build)"
	@echo "make lint       ruff, and mypy on the package"
	@echo "make mutation   mutmut over the package's core modules against its unit tests (minutes)"
	@echo "make lab        open JupyterLab in book/"
	@echo "make execute    re-run every chapter in book/ and save its outputs (NB=path for one)"
	@echo "make exercises  regenerate exercises/ from solutions/ (and exercises/zh_CN/ from the catalogs)"
	@echo "make grade SUBMISSIONS=folder   grade a folder of student notebooks"
	@echo "make bench      benchmarks: a training step against PyTorch (if installed), the live slider, chapter 10, grading, the live book"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(BOOK_STAMP): requirements.txt constraints.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

$(DEV_STAMP): $(BOOK_STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

# --all re-reads every page, so a warning fails every build, not only the first one after it appeared.
book: $(BOOK_STAMP)
	$(BIN)/python tools/fetch_web_assets.py
	$(BIN)/jupyter-book build . -W --keep-going --all
	$(BIN)/python tools/i18n.py build  # the Chinese edition, _build/html/zh_CN/, and its notebooks
	@$(MAKE) --no-print-directory live

$(LITE_STAMP): requirements-lite.txt
	$(PYTHON) -m venv $(LITE_VENV)
	$(LITE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LITE_VENV)/bin/python -m pip install --quiet -r requirements-lite.txt
	touch $@

# Without a registry the static book is still complete: say that the live book was skipped.
# A download that does not match its pinned digest fails (tools/build_live_site.py exits 1).
live:
	@$(MAKE) --no-print-directory $(LITE_STAMP) || { \
	    echo "live book: SKIPPED: could not install its build environment (requirements-lite.txt);" \
	         "the HTML book is complete without it. Run 'make book' again when PyPI is reachable." >&2; \
	    exit 0; }
	@test ! -f $(LITE_STAMP) || $(LITE_VENV)/bin/python tools/build_live_site.py

# The book is built first: tests/test_book_build.py and tests/test_browser.py check _build/html.
test: book $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks tools grading book
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest --nbval --nbval-current-env --nbval-cell-timeout=120 -p no:cacheprovider book

lab: $(BOOK_STAMP)
	$(BIN)/jupyter lab book

execute: $(BOOK_STAMP)
	$(BIN)/python tools/execute_notebooks.py $(or $(NB),$(wildcard book/*.ipynb))

exercises: $(DEV_STAMP)  # SOLUTIONS=omit leaves the worked solutions out (a graded course)
	EXERCISE_SOLUTIONS=$(or $(SOLUTIONS),include) $(BIN)/python -m grading.build
	$(BIN)/python tools/exercise_i18n.py build  # the Chinese sets, from locales/zh_CN/LC_MESSAGES/exercises

grade: $(DEV_STAMP)
	@test -n "$(SUBMISSIONS)" || (echo "usage: make grade SUBMISSIONS=path/to/folder"; exit 2)
	$(BIN)/python -m grading $(SUBMISSIONS)

bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/train_step.py
	$(BIN)/python benchmarks/slider_update.py
	$(BIN)/python benchmarks/digits_training.py
	$(BIN)/python benchmarks/live_site.py
	$(BIN)/python -m benchmarks.grading

# The author's quick loop: the package's unit tests only (markers in tests/conftest.py); no build.
check: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks tools grading book
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not slow and not grading and not browser"

# After editing a chapter: re-extract the English messages, merge them into locales/zh_CN, show coverage.
i18n: $(BOOK_STAMP)
	$(BIN)/python tools/i18n.py update

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks tools grading book
	$(BIN)/mypy

# Mutants of the core modules ([tool.mutmut] in pyproject.toml) against the unit tests; a survivor is
# a change to the code that no test notices. `mutmut show NAME` prints one. JOBS=2 by default.
mutation: $(DEV_STAMP)
	rm -rf mutants
	PATH="$(abspath $(BIN)):$$PATH" OPENBLAS_NUM_THREADS=1 $(BIN)/mutmut run --max-children $(or $(JOBS),2)
	@PATH="$(abspath $(BIN)):$$PATH" $(BIN)/mutmut results | grep -c ": survived" | \
	    xargs -I{} echo "mutation: {} surviving mutants (listed by: .venv/bin/mutmut results)"

clean:
	rm -rf _build mutants
