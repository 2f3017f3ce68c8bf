# framecast: every target sets up .venv when it is missing.
# torch is installed first from its pinned CPU build (DEVELOPERS.md): an
# unpinned torch pulls gigabytes of CUDA packages.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_VERSION ?= 2.13.0
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint bench readme clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==$(TORCH_VERSION)
	$(BIN)/python -m pip install --quiet -e '.[dev,quake,video,tune]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/framecast demo

# One torch thread per test process, and one test process at a time
# (DEVELOPERS.md: two threads collapse when another process holds a core).
test: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

test-all: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m ''

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

readme: $(STAMP)  ## refresh the registry tables in README.md
	$(BIN)/python -c "from framecast.catalog import update_readme; update_readme('README.md')"

bench: $(STAMP)
	$(BIN)/python benchmarks/speed.py

clean:
	rm -rf $(VENV) runs .pytest_cache
