# Foundations of Deep Learning Research: every command a reader, student or instructor needs.
#   make book     build the website into _build/html (creates .venv on first use)
#   make test     package tests + doctests, every notebook with nbval, the book with -n -W
#   make lab      JupyterLab on the course
#   make student  the student release of the exercises, and a book that hides solutions
#   make bench    ratio benchmarks against PyTorch, written to benchmarks/RESULTS.md
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
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: all book test test-package test-notebooks test-book test-site lab student bench clean distclean venv

all: book

# (Re)create the virtual environment when it is missing or the pins changed.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

venv: $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --builder html
	@echo "Open the book: file://$(CURDIR)/_build/html/index.html"

test: test-package test-notebooks test-book test-site

test-package: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) -p no:cacheprovider --doctest-modules --ignore=tests/site companion tests

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile --nbval-lax -p no:cacheprovider --durations=0 --ignore-glob='*/exercises.ipynb' chapters

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
	$(BIN)/python -m pytest -p no:cacheprovider tests/site

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=$(CURDIR)

clean:
	rm -rf _build .pytest_cache .hypothesis
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
