# Foundations of Deep Learning Research: every command a reader, student or instructor needs.
#   make book     build the website into _build/html (creates .venv on first use)
#   make test     package tests + doctests, every notebook with nbval, the book with -n -W
#   make lab      JupyterLab on the course
#   make student  the student release of the exercises, and a book that hides solutions
#   make grade SUBMISSIONS=DIR  grade DIR/<student>/<chapter>/exercises.ipynb with nbgrader
#   make bench    ratio benchmarks against PyTorch, written to benchmarks/RESULTS.md
#   make mutate   mutation testing of the modules without a torch reference (MUTATE="train data" for some)
#   make clean    remove build outputs (keeps .venv); make distclean also removes .venv

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2

export PATH := $(BIN):$(PATH)
# no progress bars in logs; notebooks pick cpu/cuda themselves unless COMPANION_DEVICE is set
export COMPANION_PROGRESS ?= 0
export PYTHONHASHSEED ?= 0
# one BLAS/OpenMP thread per process: pytest-xdist already runs $(JOBS) processes, and the
# course's small tensors run faster without thread hand-offs
export OMP_NUM_THREADS ?= 1
# notebooks the book build executes at a time (book/_ext/parallel_execution.py)
export BOOK_JOBS ?= $(JOBS)
# companion.compiled: Inductor's compiled kernels, kept between runs of the tests and the book
export TORCHINDUCTOR_CACHE_DIR ?= $(CURDIR)/_build/inductor
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: all book test test-package test-notebooks test-book test-site test-lab lab student grade bench mutate clean distclean venv

all: book

# (Re)create the virtual environment when it is missing or the pins changed.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

# JupyterLab settings for everyone using this environment (no news popup, no nbgrader panels
# for students): the files of book/_lab/, see book/_lab/README.md
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
$(LAB_SETTINGS): book/_lab/overrides.json book/_lab/page_config.json book/_lab/jupyter_server_config.json $(STAMP)
	@mkdir -p $(VENV)/share/jupyter/lab/settings $(VENV)/etc/jupyter/labconfig
	cp book/_lab/page_config.json $(VENV)/etc/jupyter/labconfig/page_config.json
	cp book/_lab/jupyter_server_config.json $(VENV)/etc/jupyter/jupyter_server_config.json
	cp book/_lab/overrides.json $@

venv: $(STAMP) $(LAB_SETTINGS)

book: $(STAMP)
	$(BIN)/jupyter-book build . --builder html
	@echo "Open the book: file://$(CURDIR)/_build/html/index.html"

test: test-package test-notebooks test-book test-site test-lab

test-package: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) -p no:cacheprovider --doctest-modules --ignore=tests/site --ignore=tests/lab companion tests

# every chapter notebook under nbval; what it executed goes into the book's execution cache
# (tests/nbval_cache.py), so that test-book renders those notebooks without running them again
test-notebooks: $(STAMP)
	PYTHONPATH=$(CURDIR)/tests $(BIN)/python -m pytest -n $(JOBS) --dist loadfile --nbval-lax -p no:cacheprovider -p nbval_cache --durations=0 --ignore-glob='*/exercises.ipynb' chapters

test-book: $(STAMP)
	$(BIN)/jupyter-book build . --builder html -n -W --keep-going

# Student release: exercises with solutions stubbed out, and a book that hides solutions.
student: $(STAMP)
	$(BIN)/python -m companion.exercises student-book --root . --dest _build/student
	@echo "Student notebooks: $(CURDIR)/_build/student/chapters/*/exercises.ipynb"
	@echo "Open them with: $(BIN)/jupyter lab --notebook-dir=$(CURDIR)/_build/student"
	@echo "Student book: file://$(CURDIR)/_build/student/_build/html/index.html"

# the built site (_build/html, from test-book or book) in headless chromium, and its links
test-site: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) -p no:cacheprovider tests/site

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

lab: $(STAMP) $(LAB_SETTINGS)
	$(BIN)/jupyter lab --notebook-dir=$(CURDIR)

# JupyterLab in headless chromium: a student notebook and a chapter page (tests/lab)
test-lab: $(STAMP) $(LAB_SETTINGS)
	$(BIN)/python -m pytest -p no:cacheprovider tests/lab

# Autograde DIR/<student>/<chapter>/exercises.ipynb with nbgrader: _build/grades/grades.csv,
# feedback in _build/grades/feedback/<student>/<chapter>/exercises.html
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=DIR (DIR/<student>/<chapter>/exercises.ipynb)"; exit 2; }
	$(BIN)/python -m companion.exercises grade "$(SUBMISSIONS)" --root $(CURDIR) --out $(CURDIR)/_build/grades

# Mutation testing (mutmut, pinned in tests/requirements-mutate.txt; not part of make test):
# per module, the numbers go to _build/mutate/<module>/summary.txt; see tests/MUTATION.md.
MUTATE ?=
$(VENV)/.mutmut: $(STAMP) tests/requirements-mutate.txt
	$(BIN)/python -m pip install --quiet -r tests/requirements-mutate.txt
	@touch $@

mutate: $(VENV)/.mutmut
	$(BIN)/python tests/mutate.py --jobs $(JOBS) $(MUTATE)

clean:
	rm -rf _build .pytest_cache .hypothesis
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
