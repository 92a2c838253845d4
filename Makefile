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

demo: install  ## run the main job: train an MLP on the bundled digits data (>= 0.96 test accuracy)
	$(PY) examples/digits_mlp.py

test: install  ## run the test suite (what CI runs)
	$(PY) -m pytest -q

golden: install  ## rewrite the CHECK lines of golden .gir tests from current output
	$(PY) -m pytest -q tests/golden --update-goldens

BENCH_PEERS := 'torch==2.13.0' 'jax>=0.4' 'onnxruntime>=1.17' 'onnx>=1.14'

bench: install  ## W1-W3 side by side with numpy, torch, jax, onnxruntime (peers that fail to install are skipped)
	@$(PY) -m pip install --quiet -e '.[bench]' 2>/dev/null || \
	  for p in $(BENCH_PEERS); do $(PY) -m pip install --quiet "$$p" || \
	    echo "bench: could not install $$p; its peer is skipped"; done
	$(PY) benchmarks/run.py --json benchmarks/results.json

lint: install  ## byte-compile everything (catches syntax errors quickly)
	$(PY) -m compileall -q graphc ir passes backends tests examples

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
