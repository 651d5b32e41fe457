# The two commands: `make run` starts Pilothouse, `make test` runs the test suite.
# Both do their own set-up on a fresh Debian/Ubuntu machine (system packages when root,
# a virtualenv in .venv with the project installed in editable mode).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test bench system-deps-run system-deps-test venv clean screenshot screenshots

run: system-deps-run $(STAMP)
	$(VENV)/bin/pilothouse $(ARGS)

test: system-deps-test $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

bench: system-deps-test $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) bench/run_all.py

screenshot: system-deps-test $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.harness.screenshot resources/screenshot.png

screenshots: system-deps-test $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.harness.screenshot --all docs/screenshots

system-deps-run:
	@bash packaging/dev/install-system-deps.sh run

system-deps-test:
	@bash packaging/dev/install-system-deps.sh test

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
