# synthfer: two commands. `make run` runs the demo study, `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
CORES ?= all
BIN := $(VENV)/bin
STAMP := $(VENV)/.synthfer-installed
# GPU jobs at once: GPUs x jobs per GPU (SYNTHFER_JOBS_PER_GPU, else a default from the GPU's memory: synthfer.gpus);
# without a GPU, as many as there are cores (they run on the CPU). Read when `run` starts, after the install.
GPU_SLOTS = $(shell $(BIN)/python -c "from synthfer.gpus import slots_in_all; print(slots_in_all())")

.PHONY: install run test pytest lint format dryrun bench bench-quick bench-peers gpu-proof gpu-proof-wheels clean

PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

$(STAMP): pyproject.toml constraints.txt detector-requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[test]'
	$(PIP) --no-deps -r detector-requirements.txt
	@touch $(STAMP)

# a venv left half-made (an interrupted install) or of a Python the project refuses is made anew, and said so;
# a PYTHON the project refuses stops here with what to run instead (scripts/venv_check.py)
install:
	@why=$$($(PYTHON) scripts/venv_check.py $(VENV)) || { status=$$?; [ $$status = 1 ] || exit $$status; \
		echo "$$why: making $(VENV) anew with $(PYTHON)"; rm -rf $(VENV); }
	@$(MAKE) --no-print-directory -q $(STAMP) || $(MAKE) --no-print-directory $(STAMP)

# the terminal shows progress and failures; the scheduler's "Select jobs"/"Execute n jobs" chatter is left out
run: install
	set -o pipefail; $(BIN)/snakemake --cores $(CORES) --resources gpu=$(GPU_SLOTS) 2>&1 \
		| grep --line-buffered -v -E '^(Select jobs to execute\.\.\.|Execute [0-9]+ jobs\.\.\.)$$'
	$(BIN)/snakemake --report results/report.html
	@echo
	@echo "Report: results/report/summary.md, results/report.html (figures: results/report/*.png, tables: results/report/*.csv)"

test: install pytest lint dryrun

# two workers, a test file each, the longest files first in the order tests/conftest.py gives (not xdist's
# largest-file-first): the SLURM test mostly waits on its scheduler while the other worker runs
pytest: install
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder

# the workflow's own lint, then the style: ruff (lint and format) on the Python, snakefmt on the rules
# (settings in pyproject.toml); `make format` applies the formatters
STYLED := src scripts workflow/scripts tests bench
RULE_FILES := workflow/Snakefile workflow/rules
lint: install
	$(BIN)/snakemake --lint
	$(BIN)/ruff check $(STYLED)
	$(BIN)/ruff format --check $(STYLED)
	$(BIN)/snakefmt --check $(RULE_FILES)

format: install
	$(BIN)/ruff check --fix $(STYLED)
	$(BIN)/ruff format $(STYLED)
	$(BIN)/snakefmt $(RULE_FILES)

dryrun: install
	$(BIN)/snakemake --dry-run --quiet rules

# speed of our training paths vs the naive way and the device's peak -> results/bench/bench.{json,md}
bench: install
	$(BIN)/python scripts/bench.py $(ARGS)

bench-quick: install
	$(BIN)/python scripts/bench.py --quick $(ARGS)

# our training paths against the authors' Keras classifier and the original StarGAN loop, side by side
# (synthfer/peers.py); TensorFlow lives in its own environment, never in the project's
PEERS_VENV ?= .venv-peers
$(PEERS_VENV)/.installed: bench/peers/requirements.txt
	@test -x $(PEERS_VENV)/bin/python || $(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r bench/peers/requirements.txt
	@touch $@

bench-peers: install $(PEERS_VENV)/.installed
	$(BIN)/python scripts/bench_peers.py --peer-python $(PEERS_VENV)/bin/python $(ARGS)

# the GPU proof (scripts/gpu_proof.py): here `make gpu-proof`; on a GPU machine without this venv, the wheels
# of what its Python 3.12 lacks go to .whl/ first: Snakemake (for the proof's workflow step) and jsonschema with
# what they need, at constraints.txt's versions; connection_pool ships no wheel and is built here
WHEEL_PLATFORMS := --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
	--platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any
gpu-proof: install
	$(BIN)/python scripts/gpu_proof.py $(ARGS)

gpu-proof-wheels: install
	rm -rf .whl && mkdir -p .whl
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check --no-deps -w .whl \
		connection_pool==$(shell grep -i '^connection.pool==' constraints.txt | cut -d= -f3)
	$(BIN)/python -m pip download --quiet --disable-pip-version-check -c constraints.txt --only-binary=:all: \
		--find-links .whl $(WHEEL_PLATFORMS) -d .whl snakemake jsonschema
	$(BIN)/python -c "from synthfer.provenance import git_commit; print(git_commit())" > .whl/commit

clean:
	rm -rf results .snakemake
