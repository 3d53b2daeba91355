# Two entry points that do all set-up on a fresh machine (Python 3.11+, pip, make, g++; Icarus Verilog
# is installed with apt-get when run as root):
#   make demo   - install into .venv, run `edgesplit demo` on the embedded default
#   make test   - install into .venv (with test extras), run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?= -n 2

$(VENV)/.installed: pyproject.toml
	@command -v iverilog >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq iverilog; \
	  else echo "Icarus Verilog is missing: run 'sudo apt-get install iverilog' (needed by the Icarus tests)"; fi; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/edgesplit demo

eval: install
	$(VENV)/bin/edgesplit eval --json eval.json --plot rate_accuracy.png

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

test-all: install
	$(PY) -m pytest $(PYTEST_ARGS) --run-slow

.PHONY: install demo eval test test-all
