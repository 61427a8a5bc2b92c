# Quick start: `make demo` (main job) and `make test` (all tests). Both create .venv and
# install everything into it; a fresh machine needs only Python >= 3.11 and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test docs bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dyadsim demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest

docs: $(STAMP)
	$(BIN)/python -m dyadsim.reports.params_doc > docs/parameters.md

bench: $(STAMP)
	$(BIN)/python benchmarks/engine.py --dyads 100000

clean:
	rm -rf $(VENV) .pytest_cache .jax_cache
