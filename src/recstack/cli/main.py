"""``recstack`` command line: a thin layer over the library (parse, call, print)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from recstack.errors import ConfigError, RecstackError

if TYPE_CHECKING:  # the CLI imports pandas/torch only when a command needs them
    import pandas as pd

    from recstack.data.readers import ColumnType

__all__ = ["main"]


def _cmd_train(args: argparse.Namespace) -> int:
    from recstack.config import load_config
    from recstack.experiment import RetrievalExperiment

    cfg = load_config(args.config)
    if args.epochs is not None:
        if args.epochs < 1:
            raise ConfigError(f"--epochs must be >= 1, got {args.epochs}")
        cfg.train.epochs = args.epochs
    if args.quiet:
        cfg.train.progress = False
    out = Path(args.output)
    replaces = _check_output(out, args.output)
    if args.resume is not None:  # a wrong path is said now, not after the data is loaded
        from recstack.training.resume import check_resume_path

        check_resume_path(args.resume, cfg.train)
    elif replaces:
        _say_replaced(args.output)
    run_dir = out.resolve().with_name(out.resolve().name + ".run") if args.keep_checkpoints else None
    exp = RetrievalExperiment(cfg, run_dir=run_dir)
    exp.fit(resume_from=args.resume)
    if replaces and args.resume is not None:  # said once the checkpoint was accepted, not before a refusal
        _say_replaced(args.output)
    metrics = exp.evaluate() if exp.test_table is not None else {}
    exp.save(out, metrics=metrics)
    print(json.dumps({"artifact": str(out), "test": metrics, "epochs_run": len(exp.history or [])}))
    return 0


def _check_output(out: Path, given: str) -> bool:
    """Refuses an output the model cannot be saved to before training, not after it: the
    artifact writer's rules (:func:`recstack.artifacts.io.output_problem`), plus the current
    folder and folders that cannot be written. Returns whether it holds a saved model (allowed,
    a re-run, but not silently: the caller says so with :func:`_say_replaced` once the run goes ahead)."""
    from recstack.artifacts.io import output_problem

    target = out.resolve()  # as the artifact writer resolves it (symlinks, "..")
    if target == Path.cwd().resolve() or target in Path.cwd().resolve().parents:
        raise ConfigError(f"-o {given}: that is the current folder (or one above it), which the model would "
                          "replace; name a folder for the model, e.g. -o model")
    problem = output_problem(out)  # the artifact writer's own rules
    if problem:
        raise ConfigError(f"-o {given}: {problem}")
    base = target.parent  # the model is written beside `out`, then renamed into place
    while not base.exists():
        base = base.parent
    if not base.is_dir() or not os.access(base, os.W_OK | os.X_OK):
        raise ConfigError(f"-o {given}: cannot write there ({base} is {'not a folder' if not base.is_dir() else 'not writable'}); "
                          "choose another output folder")
    return (target / "recstack.json").is_file()


def _say_replaced(given: str) -> None:
    """Tells that the run going ahead replaces the model saved in ``-o``."""
    print(f"recstack: -o {given} holds a saved model; it will be replaced when this run saves", file=sys.stderr)


_ESCAPES = {"\\t": "\t", "\\n": "\n", "\\r": "\r", "\\\\": "\\"}


def _separator(sep: str | None) -> str | None:
    """``--sep``: as given, except the escapes a shell passes literally (``'\\t'`` is two
    characters there); ``'§'`` or ``'::'`` stay what they are."""
    if sep is None:
        return None
    if re.fullmatch(r"\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}", sep):  # '\x1f' (unit separator), '\u00a7'
        return chr(int(sep[2:], 16))
    return _ESCAPES.get(sep, sep)


def _parse_dtype(spec: str | None) -> dict[str, ColumnType] | None:
    """``--dtype user_id=str,item_id=str`` as a mapping for ``read_table(dtype=...)``."""
    from recstack.data.readers import COLUMN_TYPES

    if not spec:
        return None
    out: dict[str, ColumnType] = {}
    for part in spec.split(","):
        col, _, kind = part.partition("=")
        col, kind = col.strip(), kind.strip()
        if not col or kind not in COLUMN_TYPES:
            raise ConfigError(f"--dtype: {part!r} must be COLUMN=TYPE with TYPE one of {', '.join(COLUMN_TYPES)} "
                              "(e.g. --dtype user_id=str,item_id=str)")
        out[col] = cast("ColumnType", kind)
    return out


def _parse_joins(specs: list[str] | None) -> dict[str, str]:
    """``--join users=PATH`` (repeatable) as a mapping of join name to file."""
    out: dict[str, str] = {}
    for spec in specs or []:
        name, _, path = spec.partition("=")
        name, path = name.strip(), path.strip()
        if not name or not path:
            raise ConfigError(f"--join: {spec!r} must be NAME=PATH, NAME a data.join table of the model "
                              "(e.g. --join users=data/u.user)")
        if name in out:
            raise ConfigError(f"--join: {name!r} is given twice; give each join once")
        out[name] = path
    return out


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from recstack.artifacts import load
    from recstack.experiment.offline import evaluate_recommender, saved_id_types

    if args.no_join and args.join:
        raise ConfigError("--no-join and --join exclude each other: --no-join evaluates the table as it is")
    joins = _parse_joins(args.join)
    rec = load(args.model)
    given = _parse_dtype(args.dtype) or {}
    # the ID columns typed as the training file typed them (zero-padded IDs stay text), unless --dtype says
    table = _read_typed(args, given, cast("dict[str, ColumnType]", saved_id_types(rec)))
    metrics = evaluate_recommender(
        rec, table, metrics=args.metrics.split(",") if args.metrics else None, exclude_seen=args.exclude_seen,
        ties=args.ties, cold_start=args.cold_start, joins=False if args.no_join else joins,
        filter_rows=not args.no_filter,
    )
    print(json.dumps(metrics))
    return 0


def _read_typed(args: argparse.Namespace, given: dict[str, ColumnType], saved: dict[str, ColumnType]
                ) -> pd.DataFrame:
    """``--data`` read once, typed by ``--dtype`` (``given``: a name that is not a column is an
    error) and the model's saved ID types (``saved``: untyped, a column may lose what the type
    keeps, 0007 -> 7; applied to the columns the file has, since the candidate key may come by a
    data.join key, never an error about a ``dtype`` the user did not give). ``given`` wins."""
    from recstack.data import read_table

    return read_table(args.data, sep=_separator(args.sep), names=args.names.split(",") if args.names else None,
                      encoding=args.encoding, dtype=given or None, dtype_if_present=saved or None)


def _cmd_recommend(args: argparse.Namespace) -> int:
    from recstack.artifacts import load
    from recstack.cli.batch import batch_users, check_output, chunk_size, recommend_chunks, write_chunks

    given = [name for name, on in (("--user", bool(args.user)), ("--users-file", args.users_file is not None),
                                   ("--all-users", args.all_users)) if on]
    if len(given) != 1:
        raise ConfigError("recommend: give the users one way: --user ID (repeatable), --users-file FILE or "
                          "--all-users" + (f" (got {', '.join(given)})" if given else ""))
    if not isinstance(args.k, int) or args.k < 1:
        raise ConfigError(f"-k must be a positive integer, got {args.k}")
    check_output(args.output, args.json)
    rec = load(args.model)
    exclude = "seen" if args.exclude_seen else None
    if args.user is None or args.output is not None:  # many users: chunk by chunk, written as they come
        users = rec.stored_ids(args.user) if args.user else batch_users(rec, args.users_file, args.all_users)
        if not users:
            raise ConfigError(f"{given[0]}: no user IDs given")
        chunks = recommend_chunks(rec, users, k=args.k, exclude=exclude, cold_start=args.cold_start,
                                  size=chunk_size(min(args.k, len(rec.candidate_ids))))
        # known users as integers, unknown ones as given (stored users alone are of one column's type)
        from pandas.api.types import infer_dtype

        mixed = not args.all_users and infer_dtype(users, skipna=True).startswith("mixed")
        rows = write_chunks(chunks, args.output, as_json=args.json,
                            text_columns=(str(rec.query_column),) if mixed else ())
        if args.output is not None:
            print(json.dumps({"output": args.output, "users": len(users), "rows": rows}))
        return 0
    users = rec.stored_ids(args.user)  # "42" from the command line is user 42 of an integer column
    # cold starts (users neither seen nor in the users table) are told of by recommend's own warning
    df = rec.recommend(users, k=args.k, exclude=exclude, cold_start=args.cold_start)
    if args.json:
        print(df.to_json(orient="records"))
    else:
        print(df.to_string(index=False))
    return 0


def _cmd_quickstart(args: argparse.Namespace) -> int:
    from recstack.quickstart import run_quickstart

    if _check_output(Path(args.output), args.output):
        _say_replaced(args.output)
    result = run_quickstart(args.dataset, output=args.output, epochs=args.epochs, data_dir=args.data_dir,
                            progress=not args.quiet)
    print(json.dumps(result, indent=1))
    return 0


def _cmd_datasets(args: argparse.Namespace) -> int:
    from recstack.data.datasets import fetch_dataset, list_datasets

    if args.action == "list":
        if args.name is not None:
            raise ConfigError(f"datasets list takes no name (got {args.name!r}); to download one: datasets fetch NAME")
        for name in list_datasets():
            print(name)
        return 0
    path = fetch_dataset(args.name or "movielens-100k", cache_dir=args.cache_dir)
    print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from recstack._version import __version__

    p = argparse.ArgumentParser(prog="recstack", description="Deep-learning recommenders from raw tables.")
    p.add_argument("--version", action="version", version=f"recstack {__version__}")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="info-level logging (e.g. early stopping, warnings with details); give it before the subcommand")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train, evaluate on the test split and save a model directory")
    t.add_argument("config", help="experiment YAML (see examples/)")
    t.add_argument("-o", "--output", required=True, help="model directory to write")
    t.add_argument("--epochs", type=int, help="override train.epochs")
    t.add_argument("--resume",
                   help="resume from OUTPUT.run/checkpoints (the latest checkpoint) or one "
                        "OUTPUT.run/checkpoints/epoch-NNNN folder; same config, goes on up to train.epochs")
    t.add_argument("--keep-checkpoints", action="store_true",
                   help="write a checkpoint every train.checkpoint_every epochs to OUTPUT.run/checkpoints/"
                        "epoch-NNNN/ (LATEST names the newest) and the history to OUTPUT.run/")
    t.add_argument("-q", "--quiet", action="store_true",
                   help="no progress output (live bar, per-epoch lines, early-stopping message)")
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("evaluate", help="full-catalogue metrics of a saved model on a table")
    e.add_argument("model", help="model directory")
    e.add_argument("--data", required=True, help="CSV/TSV/Parquet with the query columns and the item column")
    e.add_argument("--sep", help="field separator, used as given ('\\t' for a tab; default: from the extension)")
    e.add_argument("--encoding", default="utf-8", help="text encoding of --data (MovieLens u.item is latin-1)")
    e.add_argument("--names", help="comma-separated column names for a file without header")
    e.add_argument("--dtype", help="column types, e.g. user_id=str,item_id=str (keeps IDs like 0007 as written); "
                   "str, int or float")
    e.add_argument("--metrics", help="comma-separated metric names (default: the model's eval.metrics)")
    e.add_argument("--exclude-seen", action=argparse.BooleanOptionalAction, default=None,
                   help="drop (or keep) each user's training items (default: the model's eval.exclude_seen)")
    e.add_argument("--cold-start", choices=["average", "oov"], default=None,
                   help="how users the model cannot describe are scored (not seen in training, not in its "
                        "users table; default: the model's eval.cold_start)")
    e.add_argument("--ties", choices=["optimistic", "mid", "pessimistic"], default=None,
                   help="the positive's place among equal scores (default: the model's eval.ties)")
    e.add_argument("--join", action="append", metavar="NAME=PATH",
                   help="read data.join table NAME from PATH instead of the file training read (repeatable)")
    e.add_argument("--no-join", action="store_true",
                   help="join no data.join table: the evaluation file already has the side columns it needs "
                        "(users the model stores, from training or its users table, still get their stored ones)")
    e.add_argument("--no-filter", action="store_true",
                   help="keep every row of --data (default: drop the rows that fail the model's data.filter.rows, "
                        "as its test rows were)")
    e.set_defaults(func=_cmd_evaluate)

    r = sub.add_parser("recommend", help="top-K items for users")
    r.add_argument("model", help="model directory")
    r.add_argument("--user", action="append", help="raw user ID (repeatable)")
    r.add_argument("--users-file", metavar="FILE",
                   help="the users, one ID per line (.txt), or the user column of a CSV/TSV/Parquet table "
                        "(read with the model's saved ID types); answered 4096 at a time, a repeated ID once")
    r.add_argument("--all-users", action="store_true", help="every user the model stores from training")
    r.add_argument("--output", metavar="FILE",
                   help="write the lists to FILE, whose suffix picks the format (.csv: CSV, .tsv: tab-separated, "
                        ".parquet/.pq: Parquet; any other suffix is refused; columns: user column, rank, item "
                        "column, score) chunk by chunk; without it, --users-file and --all-users print CSV (JSON "
                        "Lines with --json)")
    r.add_argument("-k", type=int, default=10, help="how many items per user (default: 10)")
    r.add_argument("--exclude-seen", action="store_true", help="drop each user's training items")
    r.add_argument("--json", action="store_true", help="print JSON records")
    r.add_argument("--cold-start", choices=["average", "oov"], default="average",
                   help="users the model cannot describe (not seen in training, not in its users table): the "
                        "average known user's query (default) or the OOV embedding")
    r.set_defaults(func=_cmd_recommend)

    q = sub.add_parser("quickstart", help="train, evaluate and recommend on a built-in dataset")
    q.add_argument("--dataset", default="synthetic", choices=["synthetic", "movielens-100k"])
    q.add_argument("--data-dir", help="local folder with the dataset (default: RECSTACK_DATA, then cache)")
    q.add_argument("-o", "--output", default="runs/quickstart", help="model directory to write")
    q.add_argument("--epochs", type=int, help="override the number of epochs")
    q.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    q.set_defaults(func=_cmd_quickstart)

    d = sub.add_parser("datasets", help="list or download built-in datasets")
    d.add_argument("action", choices=["list", "fetch"], help="list the built-in datasets, or make one available "
                   "locally and print its folder")
    d.add_argument("name", nargs="?", help="dataset to fetch (default: movielens-100k)")
    d.add_argument("--cache-dir", help="download folder (default: RECSTACK_CACHE or ~/.cache/recstack); a local "
                   "copy found first under RECSTACK_DATA or in the cache is used instead of downloading")
    d.set_defaults(func=_cmd_datasets)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``recstack`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return int(args.func(args))
    except RecstackError as err:
        print(f"recstack: error: {err}", file=sys.stderr)
        return 2
    except FloatingPointError as err:  # a diverging run: the message says what to change
        print(f"recstack: error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (Python flushes stdout at exit)
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
