# One command for each job, used alike by people and by CI (.ci/run).
PYTHON ?= python3

.PHONY: install install-test lint test bench

install:            ## install copilot-ls (builds llama-cpp-python once, ~10 min)
	PYTHON=$(PYTHON) bash scripts/install.sh

install-test:
	PYTHON=$(PYTHON) COPILOT_LS_EXTRAS=test bash scripts/install.sh

lint: install-test  ## ruff and mypy
	$(PYTHON) -m ruff check .
	$(PYTHON) -m mypy

test: lint          ## the whole test suite: unit, end-to-end (real model), headless Neovim
	$(PYTHON) -m pytest

bench: install-test ## the typing-session benchmark recorded in BENCHMARKS.md
	$(PYTHON) benchmarks/typing_session.py
