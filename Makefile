# CNN Studio. Only prerequisite: Python 3.10+. `make run` opens the app, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
DIST_STAMP := $(VENV)/.installed-dist
SMOKE_DIR ?= .smoke

.PHONY: run test bench lint smoke format clean dist dist-check

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the packaging files changed since the last install.
$(RUN_STAMP): pyproject.toml setup.py | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml setup.py | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@ $(RUN_STAMP)

$(DIST_STAMP): pyproject.toml setup.py | $(PY)
	$(PY) -m pip install -q -e '.[dist]'
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/cnnstudio

test: $(DEV_STAMP)
	$(BIN)/ruff check cnnstudio tests bench scripts
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/cnnstudio --smoke-test $(SMOKE_DIR)
	$(PY) -m pytest

smoke: $(DEV_STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/cnnstudio --smoke-test $(SMOKE_DIR)

bench: $(DEV_STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) bench/run_all.py

lint: $(DEV_STAMP)
	$(BIN)/ruff check cnnstudio tests bench scripts
	$(BIN)/lint-imports

format: $(DEV_STAMP)
	$(BIN)/ruff format cnnstudio tests bench

# The double-click app for this OS (packaging/README.md). The PyInstaller bundle is cached: it is rebuilt
# only when the package, resources, models, the spec or the library versions changed.
dist: $(DIST_STAMP)
	$(PY) packaging/build.py --pack

# Build the bundle (cached) and run it like a user would: no Python on PATH, offscreen smoke test,
# one epoch of training and the bundled model live on a video, all from the bundle.
dist-check: $(DIST_STAMP)
	$(PY) packaging/build.py
	$(PY) packaging/dist_check.py

clean:
	rm -rf build dist *.egg-info $(SMOKE_DIR) .pytest_cache .ruff_cache
