# recstack developer commands. Everything installs into .venv inside the repo.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
TORCH  ?= torch==2.13.0
# CPU builds of torch. An extra index: pip still sees PyPI, its config's indexes and find-links,
# and takes 2.13.0+cpu over PyPI's 2.13.0 (CUDA on Linux) because a local version sorts after
# its public one. Unreachable (offline), pip warns and uses the other sources. TORCH_INDEX= skips it.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
export RECSTACK_DATA ?= $(abspath ../shared/data)

.PHONY: install quickstart test bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, pinned, from the CPU index, so no dependency resolution pulls a multi-GB CUDA
# build. --no-deps: only torch comes from that index (offline, one page fails, not one per
# dependency; --retries/--timeout bound the wait for an index that cannot be reached); the next
# line installs torch's dependencies with recstack's.
$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --retries 1 --timeout 15 $(TORCH) \
		$(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
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
