# recstack developer commands. Everything installs into .venv inside the repo.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
TORCH  ?= torch==2.13.0
export RECSTACK_DATA ?= $(abspath ../shared/data)

.PHONY: install quickstart test bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first and pinned, so no dependency resolution can pull a multi-GB CUDA build.
$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install -q --disable-pip-version-check $(TORCH)
	$(PY) -m pip install -q --disable-pip-version-check -e ".[test,all]"
	touch $@

install: $(VENV)/.installed

## Train, evaluate and recommend on the embedded synthetic dataset.
quickstart: install
	$(VENV)/bin/recstack quickstart --dataset synthetic -o runs/quickstart

## Static type check (config in pyproject.toml [tool.mypy]), then the whole test suite
## (unit, contract, golden, e2e); both must pass.
test: install
	$(VENV)/bin/mypy
	$(PY) -m pytest tests

## ML-100K retrieval benchmark (JSON lines); needs RECSTACK_DATA.
bench: install
	$(PY) benchmarks/retrieval_movielens.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache
