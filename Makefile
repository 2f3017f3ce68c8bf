# framecast: every target sets up .venv when it is missing.
# torch is installed first, pinned, from the PyTorch CPU wheel index: a plain
# `pip install torch` on Linux pulls the CUDA build, gigabytes of NVIDIA packages
# (docs/getting-started.md, "Installing"). For a CUDA build name its index, e.g.
#   make demo TORCH_INDEX=https://download.pytorch.org/whl/cu126
# or `make demo TORCH_INDEX=` for the default index. Where TORCH_INDEX does not
# answer, torch comes from the default index (as pip is configured there).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_VERSION ?= 2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint docs bench readme clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	@if [ -n "$(TORCH_INDEX)" ] && $(BIN)/python -c "import urllib.request as r; \
		r.urlopen('$(TORCH_INDEX)/torch/', timeout=20)" 2>/dev/null; then \
		echo "torch $(TORCH_VERSION) from $(TORCH_INDEX)"; \
		$(BIN)/python -m pip install --quiet --index-url $(TORCH_INDEX) torch==$(TORCH_VERSION); \
	else \
		echo "torch $(TORCH_VERSION) from the default index (TORCH_INDEX='$(TORCH_INDEX)')"; \
		$(BIN)/python -m pip install --quiet torch==$(TORCH_VERSION); \
	fi
	$(BIN)/python -m pip install --quiet -e '.[dev,quake,video,tune,postgres,cluster,docs]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/framecast demo

# One torch thread per test process (two threads collapse when another
# process holds a core, docs/speed.md), and TEST_WORKERS test processes
# (pytest-xdist; an idle worker takes tests queued for the other):
# `make test TEST_WORKERS=0` runs the suite in this one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal

test-all: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m '' -n $(TEST_WORKERS) --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# The documentation site, into site/; any warning or broken link fails it
# (tests/test_docs.py builds it too, so `make test` covers it).
docs: $(STAMP)
	$(BIN)/mkdocs build --strict

readme: $(STAMP)  ## refresh the registry tables in docs/registry.md
	$(BIN)/python -c "from framecast.catalog import update_readme; update_readme('docs/registry.md')"

bench: $(STAMP)
	$(BIN)/python benchmarks/speed.py

clean:
	rm -rf $(VENV) runs site .pytest_cache
