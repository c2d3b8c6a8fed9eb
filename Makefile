# The README's two commands, `make demo` and `make test`, work on a machine that has never seen
# this repo: every target below installs what it needs (virtualenv, Python packages, lab binaries).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The installed set is re-resolved only when the project's requirements change.
STAMP := $(VENV)/.installed

.PHONY: help demo test bench lint typecheck imports unit integration completions crd \
        lab-build lab-up lab-down lab-status clean

help:
	@echo "make demo   start the local three-cluster lab and show what liqo-shortcut does on it"
	@echo "make test   lint, type-check, import contracts, unit and integration tests (starts the lab)"
	@echo "make bench  the benchmarks in bench/, each against its baseline; writes bench/results/latest.md"
	@echo "make lab-up | lab-down | lab-status | lab-build | completions"
	@echo "make crd    regenerate the VirtualNodeShortcut CRD (deploy/crd/, the Helm chart) from the models"

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=25"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
	    --constraint requirements/constraints.txt --editable '.[operator,dev]'
	touch $@

demo: $(STAMP) lab-up
	$(BIN)/python -m lab.demo

test: lint typecheck imports unit integration

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest tests/unit

# The overlapping-CIDR suite needs edge-a and edge-b on one pod CIDR: a second, smaller lab.
OVERLAPPING_LAB = LAB_DIR=$(CURDIR)/.lab-overlapping LAB_EDGES=2 \
	LAB_POD_CIDRS=edge-a=10.244.0.0/16,edge-b=10.244.0.0/16

integration: $(STAMP) lab-build
	$(BIN)/pytest tests/integration
	$(OVERLAPPING_LAB) $(BIN)/pytest tests/integration/overlapping

bench: $(STAMP) lab-build
	$(BIN)/python -m bench

completions: $(STAMP)
	$(BIN)/python completions/generate.py

crd: $(STAMP)
	$(BIN)/python deploy/generate.py

# Also builds helm, which only the chart tests use.
lab-build: $(STAMP)
	$(BIN)/python -m lab build

lab-up: $(STAMP)
	$(BIN)/python -m lab up

lab-down: $(STAMP)
	$(BIN)/python -m lab down

lab-status: $(STAMP)
	$(BIN)/python -m lab status

clean: lab-down
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
