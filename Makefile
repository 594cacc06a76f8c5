# The README's two commands:
#   make demo   train on the 8x8 digits and show what the network learned
#   make test   run the test suite
# Each one first installs whatever is missing (tools/bootstrap.sh). So does
#   make docs   the documentation site, into docs/_build/html (a second build reuses its caches there)

VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test docs setup setup-dev setup-docs bench clean

setup:
	@tools/bootstrap.sh run

setup-dev:
	@tools/bootstrap.sh dev
	@tools/optional-torch.sh $(PY)
	@tools/optional-onnx.sh $(PY)
	@tools/optional-keras.sh $(PY)

setup-docs:
	@tools/bootstrap.sh docs

demo: setup
	@$(VENV)/bin/explainer demo

test: setup-dev
	@$(PY) -m ruff check --quiet .
	@$(PY) -m pytest

docs: setup-docs
	@$(PY) -m sphinx -b html docs docs/_build/html
	@echo "docs         $(CURDIR)/docs/_build/html/index.html  (works offline)"

bench: setup-dev
	@$(PY) bench/train_speed.py

clean:
	rm -rf build *.egg-info .pytest_cache
