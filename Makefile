# One command for each job, used alike by people and by CI (.ci/run).
PYTHON ?= python3

.PHONY: install install-test lint test test-vscode bench

install:            ## install copilot-ls (builds llama-cpp-python once, ~10 min)
	PYTHON=$(PYTHON) bash scripts/install.sh

install-test:
	PYTHON=$(PYTHON) COPILOT_LS_EXTRAS=test bash scripts/install.sh

lint: install-test  ## ruff and mypy
	$(PYTHON) -m ruff check .
	$(PYTHON) -m mypy

test: lint test-vscode ## the whole test suite: unit, end-to-end (real model), headless Neovim
	COPILOT_LS_REQUIRE_NATIVE=1 $(PYTHON) -m pytest

test-vscode:        ## the VS Code extension: build and unit tests (needs node and npm)
	cd editor-configs/vscode && npm ci --no-audit --no-fund && npm test

bench: install-test ## the typing-session benchmark recorded in BENCHMARKS.md
	$(PYTHON) benchmarks/typing_session.py
