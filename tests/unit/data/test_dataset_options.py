"""Built-in dataset options are checked against the loader's signature, and the offline
error of MovieLens names every folder searched."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from recstack.data import load_dataset
from recstack.data.datasets import fetch_dataset, load_movielens_100k, validate_dataset_options
from recstack.errors import ConfigError, DatasetUnavailableError


def test_an_unknown_option_names_its_path_and_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"data\.dataset_options\.splitt: unknown option .*allowed: data_dir, "
                                          r"split, cache_dir, download"):
        load_dataset("movielens-100k", splitt="u1")  # before any file is looked for


def test_a_wrong_type_names_its_path_and_the_expected_type():
    with pytest.raises(ConfigError, match=r"data\.dataset_options\.num_users: expected int, got 'many'"):
        load_dataset("synthetic", num_users="many")


def test_every_problem_is_reported_and_good_values_are_coerced():
    with pytest.raises(ConfigError, match=r"\.download: expected bool.*; .*\.nope: unknown option"):
        validate_dataset_options("movielens-100k", {"download": "maybe", "nope": 1})
    assert validate_dataset_options("synthetic", {"num_users": "10", "focus": 1}) == {"num_users": 10, "focus": 1.0}


def _offline(monkeypatch):
    def fail(url, timeout=None):
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(urllib.request, "urlopen", fail)


def test_the_offline_error_names_the_url_and_every_folder_searched(tmp_path, monkeypatch):
    _offline(monkeypatch)
    given, data, cache = tmp_path / "given", tmp_path / "data", tmp_path / "cache"
    given.mkdir()
    monkeypatch.setenv("RECSTACK_DATA", str(data))
    with pytest.raises(DatasetUnavailableError) as err:
        load_movielens_100k(cache_dir=str(cache))
    msg = str(err.value)
    assert "files.grouplens.org" in msg
    for folder in (data, data / "ml-100k", cache / "ml-100k"):
        assert str(folder) in msg
    # a folder given on purpose is the only one searched: no silent fallback to another copy
    (data / "ml-100k").mkdir(parents=True)
    for name in ("u.data", "u.item", "u.user"):
        (data / "ml-100k" / name).write_text("")
    with pytest.raises(DatasetUnavailableError, match=r"data_dir '.*given' holds no MovieLens 100K files"):
        load_movielens_100k(given, cache_dir=str(cache))
    with pytest.raises(DatasetUnavailableError, match=f"searched {cache}, {cache / 'ml-100k'}"):
        monkeypatch.delenv("RECSTACK_DATA")
        fetch_dataset("movielens-100k", cache_dir=str(cache))


def test_a_plugin_loader_with_unresolvable_annotations_still_loads_and_checks_names():
    from recstack.data.datasets import DATASETS

    def loader(size: "NotImportedHere" = 3):  # noqa: F821  (a TYPE_CHECKING-only import)
        import pandas as pd

        return pd.DataFrame({"user_id": range(size)})

    DATASETS.register("test-plugin-unresolvable")(loader)
    try:
        assert len(load_dataset("test-plugin-unresolvable")) == 3
        assert len(load_dataset("test-plugin-unresolvable", size=2)) == 2  # type unchecked, name checked
        with pytest.raises(ConfigError, match=r"data\.dataset_options\.sise: unknown option"):
            validate_dataset_options("test-plugin-unresolvable", {"sise": 2})
    finally:
        DATASETS._entries.pop("test-plugin-unresolvable")
