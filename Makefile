# The README's two commands:
#   make demo   train on the 8x8 digits and show what the network learned
#   make test   run the test suite
# Each one first installs whatever is missing (tools/bootstrap.sh).

VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test setup setup-dev bench clean

setup:
	@tools/bootstrap.sh run

setup-dev:
	@tools/bootstrap.sh dev
	@tools/optional-torch.sh $(PY)
	@tools/optional-onnx.sh $(PY)

demo: setup
	@$(VENV)/bin/explainer demo

test: setup-dev
	@$(PY) -m ruff check --quiet .
	@$(PY) -m pytest

bench: setup-dev
	@$(PY) bench/train_speed.py

clean:
	rm -rf build *.egg-info .pytest_cache
