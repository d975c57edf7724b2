# Two entry points, as the README says: `make demo` and `make test`.
# Every tool runs as `$(PYTHON) -m ...`, so `make PYTHON=.venv/bin/python3 demo` works without
# activating the virtual environment (bare `snakemake` would be looked up on PATH).
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
CORES ?= 8

.PHONY: install demo test lint format

install:
	$(PIP) install --quiet torch==2.14.1 torchvision==0.29.1
	$(PIP) install --quiet -e ".[dev]"

demo: install
	$(PYTHON) -m snakemake --cores $(CORES) results/table1.csv
	cat results/table1.md

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m snakefmt --check Snakefile rules/
	$(PYTHON) -m snakemake --lint

test: install lint
	$(PYTHON) -m pytest -q

format:
	$(PYTHON) -m ruff check --fix .
	$(PYTHON) -m ruff format .
	$(PYTHON) -m snakefmt Snakefile rules/
