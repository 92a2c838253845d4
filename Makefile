# graphc -- every target sets up what it needs, so on a fresh clone
# `make demo` and `make test` are each one command.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: help install demo test golden bench lint clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install graphc (editable) with its dev extra

demo: install  ## run the main job: show, verify and run the example model
	$(PY) examples/foundation_tour.py

test: install  ## run the test suite (what CI runs)
	$(PY) -m pytest -q

golden: install  ## rewrite the CHECK lines of golden .gir tests from current output
	$(PY) -m pytest -q tests/golden --update-goldens

bench: install  ## W1-W3 side by side with numpy (and torch/jax/onnxruntime if the bench extra installs)
	-$(PY) -m pip install --quiet -e '.[bench]' || echo "bench extra not installed; peers will be skipped"
	$(PY) benchmarks/run.py --json benchmarks/results.json

lint: install  ## byte-compile everything (catches syntax errors quickly)
	$(PY) -m compileall -q graphc ir passes backends tests examples

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
