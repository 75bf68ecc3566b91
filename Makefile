# Set-up and everyday commands. `make run` and `make test` do all the set-up themselves.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
WORKERS ?= 2

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/fostering demo --if-empty --tokens-file demo-tokens.txt
	$(VENV)/bin/fostering serve

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n $(WORKERS) -p no:cacheprovider

bench: $(STAMP)
	$(PY) bench/api.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
