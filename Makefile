# Two commands on a fresh machine with only Python 3.11+:  make run   and   make test
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

LAB_STAMP := $(VENV)/.lab-stamp
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings

.PHONY: setup run test test-all lint bench lab r-reference clean-data

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install the package with its test tools

run: setup  ## the main job on the default (SYNTHETIC) data
	$(VENV)/bin/lvv-eval run

$(LAB_STAMP): $(STAMP) pyproject.toml scripts/jupyterlab-overrides.json
	$(PY) -m pip install --quiet -e '.[dev,lab]'
	mkdir -p $(LAB_SETTINGS)
	cp scripts/jupyterlab-overrides.json $(LAB_SETTINGS)/overrides.json
	touch $(LAB_STAMP)

lab: $(LAB_STAMP)  ## JupyterLab on notebooks/ (installs it into .venv once; a .py notebook opens as a notebook)
	$(VENV)/bin/jupyter lab notebooks/

test: setup  ## fast suite (what CI runs): everything not marked slow
	$(PY) -m pytest -m "not slow" -n 2 -q

test-all: setup  ## every test, slow ones included
	$(PY) -m pytest -n 2 -q

lint: setup
	$(VENV)/bin/ruff check lvv_eval tests benchmarks notebooks scripts

bench: setup  ## speed and memory figures quoted in the issues
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

clean-data:  ## remove generated data and reports (raw synthetic data is rebuilt by make run)
	rm -rf data_raw/synthetic data_clean
	find reports -mindepth 1 ! -name README.md -exec rm -rf {} +

r-reference:  ## regenerate the cached R outputs under tests/reference (needs R: survival, cmprsk, sandwich, clubSandwich)
	Rscript tests/reference/r_reference.R tests/reference
