# Two entry points, as the README says: `make demo` and `make test`.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
CORES ?= 8

.PHONY: install demo test lint format

install:
	$(PIP) install --quiet torch==2.14.1 torchvision==0.29.1
	$(PIP) install --quiet -e ".[dev]"

demo: install
	snakemake --cores $(CORES) results/table1.csv
	cat results/table1.md

lint:
	ruff check .
	ruff format --check .
	snakefmt --check Snakefile rules/
	snakemake --lint

test: install lint
	$(PYTHON) -m pytest -q

format:
	ruff check --fix .
	ruff format .
	snakefmt Snakefile rules/
