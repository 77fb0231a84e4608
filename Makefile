# Two commands on a fresh machine: `make run` and `make test`. Both create .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

install: $(STAMP)

# Reinstall only when the project's dependencies change.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/harborline run

# Two test processes: about half the time on two cores. Tests never share state
# (own temporary databases, own Redis key prefixes, free ports).
test: install
	$(BIN)/pytest -q -rs -n 2

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot dialogs nlu escalation resources_kb aftercare

# Every scripts/bench*.py writes its own section of docs/benchmarks.md.
bench: install
	for script in scripts/bench*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var build *.egg-info
