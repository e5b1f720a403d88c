"""The public surface: the pinned top-level ``__all__``, an ``__all__`` in every subpackage
whose names all resolve, and an import of recstack that stays light (no optional extras,
no threads, no logging set-up)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
import textwrap

import pytest

import recstack

OPTIONAL = ["faiss", "fastapi", "hnswlib", "matplotlib", "mlflow", "optuna", "plotly", "sklearn", "starlette",
            "tensorboard", "uvicorn"]
SUBPACKAGES = sorted(i.name for i in pkgutil.walk_packages(recstack.__path__, "recstack.") if i.ispkg)
PUBLIC_MODULES = sorted(
    i.name for i in pkgutil.iter_modules(recstack.__path__, "recstack.")
    if not i.ispkg and not i.name.rsplit(".", 1)[1].startswith("_")
)


def test_top_level_surface_is_pinned():
    assert sorted(recstack.__all__) == [
        "AlreadyFittedError",
        "ArtifactError",
        "ConfigError",
        "DataError",
        "DatasetUnavailableError",
        "ExperimentConfig",
        "MissingValueError",
        "NotFittedError",
        "Recommender",
        "RecstackError",
        "RetrievalExperiment",
        "Schema",
        "SchemaError",
        "UnknownIDError",
        "__version__",
        "load",
        "load_config",
    ]
    assert len(set(recstack.__all__)) == len(recstack.__all__)
    star: dict = {}
    exec("from recstack import *", star)
    assert sorted(k for k in star if k != "__builtins__") == sorted(recstack.__all__)
    assert recstack.load is recstack.artifacts.load
    assert issubclass(recstack.ArtifactError, recstack.RecstackError)
    assert issubclass(recstack.UnknownIDError, KeyError) and issubclass(recstack.AlreadyFittedError, RuntimeError)
    assert issubclass(recstack.MissingValueError, recstack.SchemaError)
    assert isinstance(recstack.__version__, str) and recstack.__version__.count(".") >= 2


def test_the_known_subpackages_are_found():
    assert {"recstack.features", "recstack.preprocessing", "recstack.models", "recstack.tasks",
            "recstack.metrics", "recstack.artifacts", "recstack.data.datasets"} <= set(SUBPACKAGES)


@pytest.mark.parametrize("name", SUBPACKAGES + PUBLIC_MODULES)
def test_every_subpackage_has_an_all_that_resolves(name):
    try:
        module = importlib.import_module(name)
    except ImportError as err:
        if (err.name or "").split(".")[0] in OPTIONAL:
            pytest.skip(f"{name} needs the optional {err.name}")
        raise
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list) and exported, f"{name} has no __all__ list"
    assert all(isinstance(n, str) for n in exported)
    assert len(set(exported)) == len(exported), f"{name}.__all__ has duplicates"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names {missing}, which do not exist"
    assert not [n for n in exported if n.startswith("_") and n != "__version__"], f"{name} exports private names"


PROBE = textwrap.dedent(
    """
    import json, logging, sys, threading
    OPTIONAL = set({optional!r})
    tried = []

    class Probe:  # sees every attempt, even `try: import faiss` for a package that is not installed
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name.split(".")[0] in OPTIONAL:
                tried.append(name)
            return None

    sys.meta_path.insert(0, Probe)
    threads = threading.active_count()
    import {module}
    result = {{
        "tried": sorted(set(tried)),
        "loaded": sorted(m for m in sys.modules if m.split(".")[0] in OPTIONAL),
        "new_threads": threading.active_count() - threads,
        "root_handlers": len(logging.getLogger().handlers),
        "recstack_handlers": len(logging.getLogger("recstack").handlers),
    }}
    try:  # control: the probe does see an attempt
        import faiss  # noqa: F401
    except ImportError:
        pass
    result["control"] = "faiss" in tried
    print(json.dumps(result))
    """
)


@pytest.mark.parametrize("module", ["recstack", "recstack.cli"])
def test_import_is_light_and_has_no_side_effects(module):
    code = PROBE.format(optional=OPTIONAL, module=module)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["control"] is True, "the import probe is broken"
    assert result["tried"] == [], f"`import {module}` tries to import optional packages {result['tried']}"
    assert result["loaded"] == []
    assert result["new_threads"] == 0
    assert result["root_handlers"] == 0 and result["recstack_handlers"] == 0, "importing must not configure logging"
