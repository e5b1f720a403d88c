"""The config package keeps the project's file-size rule and its public import paths."""

from __future__ import annotations

from pathlib import Path

import recstack.config as config_pkg
import recstack.config.experiment as experiment_module

CONFIG_DIR = Path(config_pkg.__file__).resolve().parent
MAX_LINES = 400  # the project rule: every source file under 400 lines


def test_every_config_module_is_under_the_line_limit():
    long = {p.name: n for p in sorted(CONFIG_DIR.glob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) >= MAX_LINES}
    assert not long, f"config modules at or over {MAX_LINES} lines: {long}"


def test_the_public_names_still_import_from_recstack_config_experiment():
    """Code written against ``recstack.config.experiment`` keeps working after the split, with
    the very classes ``recstack.config`` exports."""
    names = ["DataConfig", "EvalConfig", "ExperimentConfig", "HistoryConfig", "JoinSource", "SplitConfig",
             "TableSource", "load_config"]
    for name in names:
        assert name in experiment_module.__all__
        obj = getattr(experiment_module, name)
        if name in config_pkg.__all__:
            assert getattr(config_pkg, name) is obj
