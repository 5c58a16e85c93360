"""``dcai``: inspect and replay iteration histories from the command line."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .core import HistoryError, open_history
from .core._history_frames import clamp, text_table, times, where


def _read_table(path: Path, dtypes: dict[str, str] | None) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix in (".csv", ".tsv", ".txt"):
        # The recorded dtypes keep "3" a string label rather than the integer CSV would infer.
        safe = {
            c: d
            for c, d in (dtypes or {}).items()
            if d not in ("category",) and "datetime" not in d
        }
        return pd.read_csv(path, index_col=0, dtype=safe, sep="\t" if suffix == ".tsv" else ",")
    raise SystemExit(f"dcai: cannot read {path}: use a .csv or .parquet file")


def _write_table(df: pd.DataFrame, path: Path) -> None:
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        df.to_parquet(path)
    elif suffix in (".csv", ".tsv", ".txt"):
        df.to_csv(path, sep="\t" if suffix == ".tsv" else ",")
    else:
        raise SystemExit(f"dcai: cannot write {path}: use a .csv or .parquet file")


#: the widest line ``dcai history`` prints (a terminal, an issue, a code review)
WIDTH = 100
#: a shortened text column keeps at least this many characters
MIN_COLUMN = 12


def _fit(view: pd.DataFrame, width: int = WIDTH) -> str:
    """``view`` (a history frame's readable text view) as a table no wider than ``width``:
    the widest free-text column is cut with "…" (down to the next widest, then both, ...)
    until the lines fit."""
    view = view.copy()
    # what was done is cut first; where it was done (the cell) only if that is not enough
    tiers = [[c for c in ("ops", "change", "reason", "ids") if c in view.columns]]
    tiers.append(["where"] if "where" in view.columns else [])
    free = tiers.pop(0)

    def chars(c: str) -> int:
        return max(len(str(c)), int(view[c].astype(str).str.len().max()))

    while True:
        text = text_table(view)
        longest = max(len(line) for line in text.splitlines())
        if longest <= width:
            return text
        if not free:
            if not tiers:
                return text
            free = tiers.pop(0)
            continue
        free.sort(key=chars, reverse=True)
        col, now = free[0], chars(free[0])
        second = chars(free[1]) if len(free) > 1 else 0
        keep = max(now - (longest - width), second, MIN_COLUMN)
        if keep >= now:
            if now <= MIN_COLUMN or len(free) == 1:
                free.remove(col)
            else:  # as wide as the next one: cut both a character at a time
                view[col] = [clamp(str(v), now - 1) for v in view[col]]
            continue
        view[col] = [clamp(str(v), keep) for v in view[col]]


def _cmd_history(args: argparse.Namespace) -> int:
    h = open_history(args.path)
    base = h.base or {}
    print(
        f"{h.path}: dataset {h.name!r}, {base.get('n_rows', '?')} base rows, head version {h.head}"
    )
    frame = h.changes if args.changes else h.iterations
    if args.json:
        # everything, unshortened (full cell ids, times to the microsecond)
        cols = (
            [
                "version",
                "op",
                "n_rows",
                "source",
                "execution_count",
                "cell_id",
                "widget",
                "timestamp",
            ]
            if args.changes
            else [
                "first_version",
                "last_version",
                "n_changes",
                "ops",
                "rows_touched",
                "source",
                "execution_count",
                "cell_id",
                "widget",
                "started",
            ]
        )
        print(frame[cols].reset_index().to_json(orient="records", date_format="iso"))
    elif len(frame):
        # the readable view: short cell ids, times to the second, at most WIDTH columns
        view = frame.readable(max_rows=len(frame)).rename(columns={"changes": "n"})
        if view.index.name == "iteration":
            view.index.name = "iter"
        # "LabelEditor in cell [3] · 3f2a9c1e": a named widget needs no "widget " before it
        view["where"] = [re.sub(r"^widget (?=[A-Z])", "", str(w)) for w in view["where"]]
        _one_day(view, "time" if "time" in view.columns else "started")
        print(_fit(view))
    else:
        print("(no changes recorded)")
    return 0


def _one_day(view: pd.DataFrame, col: str) -> None:
    """When every time in ``view[col]`` is on one day, say the date once (printed above the
    table) and keep the times alone."""
    days = {str(t)[:10] for t in view[col] if str(t) not in ("", "…")}
    if len(days) == 1:
        view[col] = [str(t)[11:] if len(str(t)) > 10 else t for t in view[col]]
        print(f"times are local, all on {days.pop()}")


def _cmd_reviews(args: argparse.Namespace) -> int:
    h = open_history(args.path)
    at = h.head if args.at is None else args.at
    if args.events:
        df = h.review_events(at=at)
        cols = ["version", "op", "findings", "ids", "in_effect", "source", "widget", "timestamp"]
    else:
        df = h.reviews(at=at).reset_index()
        cols = ["findings", "sample_id", "state", "version", "source", "widget"]
        cols += ["execution_count", "timestamp"]
    if args.json:
        print(df[cols].reset_index(drop=True).to_json(orient="records", date_format="iso"))
        return 0
    n = len(df)
    what = (
        f"review event{'s' * (n != 1)}"
        if args.events
        else f"sample{'s' * (n != 1)} kept or reviewed"
    )
    print(f"{Path(h.path).name}: dataset {h.name!r}, review state at version {at}: {n} {what}")
    if n:
        view = _reviews_view(df, events=args.events)
        _one_day(view, "time")
        print(_fit(view))
    return 0


def _reviews_view(df: pd.DataFrame, *, events: bool) -> pd.DataFrame:
    """The review rows as text a person reads in 100 columns: where each came from in the
    history's words ("cell [3]", "LabelEditor in cell [3]"), local times to the second."""
    places = [
        re.sub(r"^widget (?=[A-Z])", "", where(r.source, r.execution_count, r.cell_id, r.widget))
        for r in df.itertuples(index=False)
    ]
    view = pd.DataFrame({"version": df["version"].astype(int)})
    if events:
        # an event not in effect at that version (undone, reverted past, or later) says so
        view["change"] = [
            str(op).removeprefix("mark_") + ("" if live else " (not in effect)")
            for op, live in zip(df["op"], df["in_effect"], strict=True)
        ]
        view["findings"] = df["findings"].astype(str)
        view["ids"] = [", ".join(map(str, ids)) for ids in df["ids"]]
    else:
        view["findings"] = df["findings"].astype(str)
        view["sample"] = df["sample_id"].astype(str)
        view["state"] = df["state"].astype(str)
    view["where"] = places
    view["time"] = times(df["timestamp"])
    return view.set_index("version")


def _cmd_replay(args: argparse.Namespace) -> int:
    h = open_history(args.path)
    base = h.base
    if base is None:
        raise HistoryError(f"{args.path} has no recorded base data; nothing to replay")
    dtypes = dict(zip(base["columns"], base["dtypes"], strict=True))
    data = _read_table(Path(args.data), dtypes)
    if args.recipe:
        return _replay_recipe(h, data, dtypes, args)
    if args.base or args.review or args.history:
        raise ValueError("--base, --review and --history go with --recipe")
    out = h.replay(data, to=args.to, strict=not args.no_strict)
    _write_table(out, Path(args.out))
    to = h.head if args.to is None else args.to
    print(f"replayed {h.name!r} to version {to}: {len(out)} rows -> {args.out}")
    return 0


def _replay_recipe(
    h: Any, data: pd.DataFrame, dtypes: dict[str, str], args: argparse.Namespace
) -> int:
    # The ops layer (the registry) is imported only for a recipe; it pulls no widgets.
    from .ops._recipe import replay_recipe

    if args.to is not None or args.no_strict:
        raise ValueError("--to and --no-strict are for exact replay; a recipe runs every change")
    _extend_trust(args.trust or [], args.register or [])
    old = _read_table(Path(args.base), dtypes) if args.base else None
    result = replay_recipe(h, data, base=old, history=args.history, progress=not args.quiet)
    _write_table(result.dataset.df, Path(args.out))
    print(result.report())
    if result.content_check != "rows":
        print(
            "note: without --base (the data the history started from) a decision is "
            "checked against the values the history holds only, not the whole row"
        )
    if args.review:
        _write_table(result.needs_review.set_index("seq"), Path(args.review))
        print(f"needs review: {len(result.needs_review)} -> {args.review}")
    print(f"{len(result.dataset)} rows -> {args.out}")
    return 0


def _extend_trust(packages: list[str], modules: list[str]) -> None:
    """What the person running the command allows beyond the built-ins: estimator classes
    under ``packages`` (``trust_module``), and the modules named in ``modules`` imported so
    that their ``register_transform`` calls run. The history file itself never names code
    to import; only this command line does."""
    import importlib

    from .ops._params import trust_module

    for pkg in packages:
        trust_module(pkg)
    if modules and "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # as `python -m` would: the project's own modules
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as e:
            raise ValueError(
                f"--register {name}: cannot import it ({e}); run dcai from the directory that "
                "holds it, or install it in this environment"
            ) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dcai", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("history", help="list the iterations (or changes) of a history file")
    p.add_argument("path")
    p.add_argument(
        "--changes", action="store_true", help="one line per change instead of per iteration"
    )
    p.add_argument("--json", action="store_true", help="print JSON records")
    p.set_defaults(func=_cmd_history)
    v = sub.add_parser(
        "reviews",
        help="list the samples kept or marked reviewed (the review state in effect) per findings",
    )
    v.add_argument("path")
    v.add_argument(
        "--at", type=int, default=None, help="the state at this version (default: the newest)"
    )
    v.add_argument(
        "--events",
        action="store_true",
        help="every review event recorded instead, and whether it is in effect",
    )
    v.add_argument("--json", action="store_true", help="print JSON records")
    v.set_defaults(func=_cmd_reviews)
    r = sub.add_parser(
        "replay",
        help="replay a history onto its base data exactly, or (--recipe) onto new data",
    )
    r.add_argument("path")
    r.add_argument(
        "--data",
        required=True,
        help="the base data, or with --recipe the new data "
        "(.csv with the sample id first, or .parquet)",
    )
    r.add_argument(
        "--recipe",
        action="store_true",
        help="re-run the recorded operations on new data; carry human decisions over by "
        "sample id where the sample is unchanged, list the rest for review",
    )
    r.add_argument(
        "--base",
        default=None,
        help="with --recipe: the data the history started from, to compare whole rows",
    )
    r.add_argument(
        "--review", default=None, help="with --recipe: write the decisions to review here"
    )
    r.add_argument(
        "--history",
        default=None,
        help="with --recipe: keep the replayed dataset's history in this file",
    )
    r.add_argument(
        "--trust",
        action="append",
        metavar="PACKAGE",
        help="with --recipe: also rebuild scikit-learn estimators defined under PACKAGE "
        "(repeatable; sklearn, imblearn and dcai_jupyter are always trusted)",
    )
    r.add_argument(
        "--register",
        action="append",
        metavar="MODULE",
        help="with --recipe: import MODULE first, so the functions it registers with "
        "dj.register_transform can be called again (repeatable)",
    )
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    r.add_argument("--out", required=True, help="where to write the result (.csv or .parquet)")
    r.add_argument(
        "--to", type=int, default=None, help="stop at this version (default: the newest)"
    )
    r.add_argument(
        "--no-strict",
        action="store_true",
        help="replay onto a base that differs from the recorded one",
    )
    r.set_defaults(func=_cmd_replay)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (HistoryError, ValueError, KeyError, FileNotFoundError) as e:
        msg = str(e.args[0] if isinstance(e, KeyError) and e.args else e)
        if "trust_module(" in msg:
            msg += "; from the command line: dcai replay --recipe --trust PACKAGE"
        elif "register_transform(" in msg:
            msg += "; from the command line: dcai replay --recipe --register MODULE"
        print(f"dcai: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
