# Two commands do all the set-up: `make demo` (install + the main job end to end) and `make test` (install + tests).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
OUT    ?= out/demo

.PHONY: setup demo test lint extension bench clean-venv

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (bpy 5.0.1 is a cp311 wheel)"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@sh scripts/system_deps.sh
	touch $@

demo: setup
	$(PY) -m pipeline demo --out $(OUT)

test: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -q

extension: setup
	$(PY) -m pipeline build-extension --out dist

bench: setup
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

clean-venv:
	rm -rf $(VENV)
