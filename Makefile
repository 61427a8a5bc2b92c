# Quick start: `make demo` (main job) and `make test` (all tests). Both create .venv and
# install everything into it from requirements.lock (every version pinned, with hashes), so a
# fresh machine gets exactly what CI tested; a fresh machine needs only Python >= 3.11 and make.
# `make lock` refreshes the lock after a dependency changes in pyproject.toml.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
# pytest-xdist workers: one per logical CPU; a test file runs whole on one worker (module
# fixtures and the explorer's server are shared within a file).
TEST_WORKERS ?= logical

.PHONY: demo test check docs readme bench lock clean

$(STAMP): pyproject.toml $(LOCK)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dyadsim demo

# The browser tests drive Debian's chromium (Playwright cannot download browsers here).
test: $(STAMP)
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium) \
		|| echo "warning: chromium could not be installed; the browser tests will fail"
	$(BIN)/ruff check .
	$(BIN)/mypy
	DYADSIM_REQUIRE_BROWSER=1 $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

check: $(STAMP)
	$(BIN)/dyadsim check --out checks --force

docs: $(STAMP)
	$(BIN)/python -m dyadsim.reports.params_doc > docs/parameters.md
	$(BIN)/python -m dyadsim.trials.reference > docs/trial-spec.md

# README.md's and docs/guide.md's generated regions: counts from the code, the demo table
# as `dyadsim demo` prints it (about a minute); rerun after a model change.
readme: $(STAMP)
	$(BIN)/python -m dyadsim.readme

bench: $(STAMP)
	$(BIN)/python benchmarks/engine.py --dyads 100000

lock: $(STAMP)
	$(BIN)/pip-compile --quiet --all-extras --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links -o $(LOCK) pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .jax_cache .mypy_cache
