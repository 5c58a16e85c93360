"""What the Data history panel shows, read from history files (core only, read-only).

Everything here takes a resolved file system path and returns plain JSON-able data. The
handlers check the paths; this module opens the files with ``dcai_jupyter.core.open_history``
and never writes to them.

The list of iterations (with per-operation counts) comes from core's ``IterationLog``,
the same reading as ``History.iterations`` and the HistoryView. Results are cached per file
and *stamp* (the size and modification time of the file and its write-ahead log), and the
log of a file read before reads only the changes appended since, so polling, paging and the
update after a change stay cheap on long histories. The full change list (change pages,
diffs, cell tooltips) is read on request and cached the same way.
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Folder beside a notebook that holds its histories (``.dcai/<name>.sqlite``).
HISTORY_DIR = ".dcai"
HISTORY_SUFFIX = ".sqlite"
#: Longest cell code sent with an iteration (the rest is cut, and says so).
CODE_CHARS = 1200
#: Sample ids listed per change in a diff summary.
IDS_SHOWN = 20
#: Changes listed per cell in the cell-marker tooltip.
CELL_CHANGES_SHOWN = 12
#: Distinct op names kept per marker summary.
_CACHE_SIZE = 16


class ReadError(Exception):
    """A history file could not be read; the message says which and why."""


def file_stamp(path: Path) -> str:
    """A cheap token that changes whenever the history file (or its WAL) is written."""
    parts = []
    for p in (path, path.with_name(path.name + "-wal")):
        try:
            st = p.stat()
        except FileNotFoundError:
            parts.append("-")
            continue
        parts.append(f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
    return "/".join(parts)


def history_files(directory: Path) -> list[Path]:
    """The ``*.sqlite`` files of ``directory/.dcai``, sorted by name (none: empty list)."""
    folder = directory / HISTORY_DIR
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [
        Path(e.path)
        for e in entries
        if e.name.endswith(HISTORY_SUFFIX) and not e.name.startswith(".")
    ]


#: notebook files larger than this are not read for their cell ids (bytes)
NOTEBOOK_MAX_BYTES = 50_000_000
_NB_CELLS: dict[str, tuple[tuple[int, int], frozenset[str]]] = {}
_NB_LOCK = threading.Lock()


def notebook_cells(directory: Path) -> dict[str, frozenset[str]]:
    """The cell ids of each saved notebook in ``directory``, by file name.

    A history records the id of the cell that made each change (JupyterLab sends it), so
    the notebooks whose cells appear in a history are the ones that changed it. Read from
    the saved files (cached until a file changes); unreadable files are left out.
    """
    out: dict[str, frozenset[str]] = {}
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return out
    for e in entries:
        if not e.name.endswith(".ipynb") or e.name.startswith("."):
            continue
        try:
            st = e.stat()
            if st.st_size > NOTEBOOK_MAX_BYTES:
                continue
            key = (st.st_mtime_ns, st.st_size)
            with _NB_LOCK:
                hit = _NB_CELLS.get(e.path)
            if hit is not None and hit[0] == key:
                out[e.name] = hit[1]
                continue
            import json

            with open(e.path, encoding="utf-8") as f:
                nb = json.load(f)
            cells = nb.get("cells") if isinstance(nb, dict) else None
            ids = frozenset(
                c["id"]
                for c in (cells if isinstance(cells, list) else [])
                if isinstance(c, dict) and isinstance(c.get("id"), str)
            )
        except (OSError, ValueError):
            continue
        with _NB_LOCK:
            _NB_CELLS[e.path] = (key, ids)
            while len(_NB_CELLS) > 256:
                _NB_CELLS.pop(next(iter(_NB_CELLS)))
        out[e.name] = ids
    return out


def dir_stamp(directory: Path) -> str:
    """One token for all the histories beside a notebook: names, sizes and times."""
    return "|".join(f"{p.name}={file_stamp(p)}" for p in history_files(directory))


def _json_value(v: Any) -> Any:
    """A JSON-safe scalar (NaN and missing as None, numpy scalars as Python)."""
    if v is None:
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            v = v.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (str, int, float, bool)):
        return v
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return None
        if isinstance(v, pd.Timestamp):
            return v.isoformat()
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return str(v)


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _req_int(v: Any) -> int:
    return int(v)


def _int(v: Any) -> int | None:
    v = _json_value(v)
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


@dataclass
class Summary:
    """What the panel lists of one history file, computed once per stamp.

    Cheap to refresh after an append: iterations whose extent did not change keep their
    per-operation counts, and a new single-operation iteration needs no pass over the changes.
    """

    stamp: str
    name: str | None
    head: int
    base: dict[str, Any] | None
    #: newest first
    iterations: list[dict[str, Any]]
    metrics: dict[int, dict[str, float]]
    events: int
    #: cell id -> {"ops", "n_changes", "versions"}
    cells: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: how many iterations were new or grew since the previous summary of the file
    recounted: int = 0
    #: core's IterationLog of the file, followed on the next summary
    log: Any = field(default=None, repr=False, compare=False)


@dataclass
class Details:
    """Every change of one history file (for change pages, diffs and cell tooltips)."""

    stamp: str
    #: oldest first: version, op, n_rows, iteration, source, cell_id, widget, count, reason,
    #: time (epoch ms)
    changes: list[dict[str, Any]]
    #: ids per change (index = version - 1)
    ids: list[list[int]]


def _metrics(path: Path, hist: Any) -> dict[int, dict[str, float]]:
    """Metrics recorded per version (the last value per name wins)."""
    table = hist.metrics
    out: dict[int, dict[str, float]] = {}
    for version, name, value in zip(table["version"], table["name"], table["value"], strict=True):
        out.setdefault(int(version), {})[str(name)] = _json_value(value)
    return out


def _column(df: Any, name: str) -> list[Any]:
    """A column as Python values, missing ones (NaN, NA, NaT) as None."""
    col = df[name]
    values = col.astype(object).where(col.notna(), None).tolist()
    return [
        _json_value(v) if v is not None and not isinstance(v, (str, int)) else v for v in values
    ]


def _ms(df: Any, name: str) -> list[int | None]:
    """A UTC timestamp column as epoch milliseconds."""
    import pandas as pd

    col = pd.to_datetime(df[name], utc=True)
    missing = col.isna().tolist()
    # whatever the column's resolution (ns, us, ms)
    ms = (
        (col.fillna(pd.Timestamp(0, tz="UTC")) - pd.Timestamp(0, tz="UTC"))
        // pd.Timedelta(milliseconds=1)
    ).tolist()
    return [None if na else int(v) for v, na in zip(ms, missing, strict=True)]


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")


def _iteration_dict(it: Any) -> dict[str, Any]:
    """One iteration of core's IterationLog as the panel's JSON."""
    code = _text(it.code)
    return {
        "iteration": int(it.number),
        "source": str(it.source),
        "execution_count": it.execution_count,
        "cell_id": _text(it.cell_id),
        "widget": _text(it.widget),
        "first_version": int(it.first_version),
        "last_version": int(it.last_version),
        "n_changes": int(it.n_changes),
        "rows_touched": int(it.rows_touched),
        "started": _iso(it.started_ms),
        "ended": _iso(it.ended_ms),
        "code": code[:CODE_CHARS] if code else None,
        "code_truncated": bool(code and len(code) > CODE_CHARS),
        "ops": {op: {"changes": int(c), "rows": int(r)} for op, (c, r) in it.ops.items()},
    }


def _change_dicts(ch: Any, owners: Any) -> tuple[list[dict[str, Any]], list[list[int]]]:
    """Every change as a dict, with the iteration core's IterationLog says made it."""
    changes: list[dict[str, Any]] = []
    versions = [int(v) for v in ch.index.tolist()]
    ids: list[list[int]] = [list(x) if x is not None else [] for x in ch["ids"].tolist()]
    for version, op, n, src, count, cell, widget, reason, ms in zip(
        versions,
        _column(ch, "op"),
        _column(ch, "n_rows"),
        _column(ch, "source"),
        _column(ch, "execution_count"),
        _column(ch, "cell_id"),
        _column(ch, "widget"),
        _column(ch, "reason"),
        _ms(ch, "timestamp"),
        strict=True,
    ):
        owner = int(owners[version]) if version < len(owners) else 0
        changes.append(
            {
                "version": version,
                "op": str(op),
                "n_rows": int(n),
                "iteration": owner or None,
                "source": str(src),
                "execution_count": _int(count),
                "cell_id": _text(cell),
                "widget": _text(widget),
                "reason": _text(reason),
                "time": ms,
            }
        )
    return changes, ids


def _summarize(path: Path, stamp: str, previous: Summary | None) -> Summary:
    """The list of iterations with per-op counts, from core's IterationLog: a file read
    before is followed incrementally (only the changes since then are read)."""
    from dcai_jupyter.core import open_history
    from dcai_jupyter.core._iterations import IterationLog

    hist = open_history(path)
    try:
        name = hist.name
        base = hist.base
        head = hist.head
        log = previous.log if previous is not None and previous.log is not None else None
        if log is None:
            log = IterationLog(hist)
        touched = log.refresh(hist)
        it_rows = [_iteration_dict(it) for it in log.iterations]
        try:
            n_events = len(hist.events)
        except Exception:  # events are extra information; a broken table must not hide changes
            n_events = 0
        metrics = _metrics(path, hist)
    finally:
        hist.close()

    cells: dict[str, dict[str, Any]] = {}
    for it in it_rows:
        it["metrics"] = metrics.get(it["last_version"], {})
        cid = it["cell_id"]
        if not cid:
            continue
        cell = cells.setdefault(
            cid, {"ops": {}, "n_changes": 0, "versions": [it["first_version"], it["last_version"]]}
        )
        for op, c in it["ops"].items():
            entry = cell["ops"].setdefault(op, {"changes": 0, "rows": 0})
            entry["changes"] += c["changes"]
            entry["rows"] += c["rows"]
        cell["n_changes"] += it["n_changes"]
        cell["versions"][1] = it["last_version"]

    return Summary(
        stamp=stamp,
        name=name,
        head=head,
        base=base,
        iterations=it_rows[::-1],
        metrics=metrics,
        events=n_events,
        cells=cells,
        recounted=len(touched),
        log=log,
    )


def _read_details(path: Path, stamp: str) -> Details:
    from dcai_jupyter.core import open_history

    hist = open_history(path)
    try:
        owners = hist.iteration_log().owners()
        changes, ids = _change_dicts(hist.changes, owners)
    finally:
        hist.close()
    return Details(stamp, changes, ids)


class HistoryReader:
    """Reads and caches history summaries and details; safe to call from several threads."""

    def __init__(self, cache_size: int = _CACHE_SIZE) -> None:
        self._cache: OrderedDict[str, Summary] = OrderedDict()
        self._details: OrderedDict[str, Details] = OrderedDict()
        self._lock = threading.Lock()
        self._size = cache_size

    def _put(self, cache: OrderedDict[str, Any], key: str, value: Any) -> None:
        with self._lock:
            cache[key] = value
            cache.move_to_end(key)
            while len(cache) > self._size:
                cache.popitem(last=False)

    @staticmethod
    def _wrap(path: Path, exc: Exception) -> ReadError:
        # HistoryError says what is wrong with the file; anything else (a damaged table, an
        # unexpected value) is reported the same way, never as a server error.
        msg = str(exc) or type(exc).__name__
        return ReadError(f"cannot read {path.name} as a dcai_jupyter history: {msg}")

    def summary(self, path: Path) -> Summary:
        """The summary of one history file (cached until the file changes).

        Parameters
        ----------
        path
            A resolved ``.dcai/<name>.sqlite`` file (the handlers check containment).

        Returns
        -------
        Summary
            Iterations newest first with per-operation counts, metrics and cell markers.

        Raises
        ------
        ReadError
            The file is not a readable dcai_jupyter history; the message says why.
        """
        stamp = file_stamp(path)
        key = str(path)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit.stamp == stamp:
            with self._lock:
                self._cache.move_to_end(key)
            return hit
        try:
            s = _summarize(path, stamp, hit)
        except ReadError:
            raise
        except Exception as exc:
            raise self._wrap(path, exc) from exc
        self._put(self._cache, key, s)
        return s

    def details(self, path: Path) -> Details:
        """Every change of one history file (cached until the file changes).

        Parameters
        ----------
        path
            A resolved ``.dcai/<name>.sqlite`` file.

        Raises
        ------
        ReadError
            The file is not a readable dcai_jupyter history.
        """
        stamp = file_stamp(path)
        key = str(path)
        with self._lock:
            hit = self._details.get(key)
        if hit is not None and hit.stamp == stamp:
            return hit
        try:
            d = _read_details(path, stamp)
        except Exception as exc:
            raise self._wrap(path, exc) from exc
        self._put(self._details, key, d)
        return d


def page(items: list[Any], offset: int, limit: int) -> list[Any]:
    return items[offset : offset + limit]


def history_entry(reader: HistoryReader, path: Path, api_path: str) -> dict[str, Any]:
    """One line of the history list: name, versions and iterations, or the error.

    Parameters
    ----------
    reader
        The server's cache of summaries.
    path
        The resolved history file.
    api_path
        Its path relative to the server root, as the front end names it.

    Returns
    -------
    dict
        ``path``, ``file``, ``stamp`` and either ``error`` (a message) or ``name``, ``head``,
        ``n_iterations``, ``n_events``, ``base_rows``, ``label``, ``base_metrics``.
    """
    entry: dict[str, Any] = {"path": api_path, "file": path.name, "stamp": file_stamp(path)}
    try:
        s = reader.summary(path)
    except ReadError as exc:
        entry["error"] = str(exc)
        return entry
    base = s.base or {}
    entry.update(
        name=s.name or path.stem,
        head=s.head,
        n_iterations=len(s.iterations),
        n_events=s.events,
        base_rows=base.get("n_rows"),
        label=base.get("label"),
        base_metrics=s.metrics.get(0, {}),
        error=None,
    )
    return entry


def iteration_detail(
    s: Summary, d: Details, number: int, *, offset: int, limit: int
) -> dict[str, Any]:
    """One iteration's diff summary: per-op counts, version range, metrics, changes paged.

    Parameters
    ----------
    s, d
        The summary and the change list of the history.
    number
        The iteration (1 = the oldest).
    offset, limit
        The page of the iteration's changes to include (each with its first sample ids).

    Raises
    ------
    KeyError
        No such iteration.
    """
    its = {it["iteration"]: it for it in s.iterations}
    it = its.get(number)
    if it is None:
        raise KeyError(f"no iteration {number}; this history has iterations 1..{len(its)}")
    first, last = it["first_version"], it["last_version"]
    own = [c for c in d.changes[first - 1 : last] if c["iteration"] == number]
    before = first - 1
    rows = []
    for c in page(own, offset, limit):
        ids = d.ids[c["version"] - 1]
        rows.append({**c, "n_ids": len(ids), "ids": ids[:IDS_SHOWN]})
    prev_metrics: dict[str, Any] = {}
    for v in range(before, -1, -1):
        if v in s.metrics:
            prev_metrics = s.metrics[v]
            break
    return {
        "iteration": it,
        "version_before": before,
        "version_after": it["last_version"],
        "metrics_before": prev_metrics,
        "metrics_after": it["metrics"],
        "total": len(own),
        "offset": offset,
        "changes": rows,
    }


def diff_summary(path: Path, a: int, b: int) -> dict[str, Any] | None:
    """Row-level counts between versions ``a`` and ``b`` and the commonest relabels.

    Parameters
    ----------
    path
        The resolved history file.
    a, b
        The versions compared (``History.diff(a, b)``).

    Returns
    -------
    dict or None
        ``counts`` (added, removed, relabeled, modified rows), ``relabels`` (old -> new label
        pairs with their row counts, commonest first), ``ids`` (the first sample ids) and
        ``n_ids``; None when the core has no ``History.diff``.

    Raises
    ------
    ReadError
        The file cannot be read or diffed.
    """
    from dcai_jupyter.core import open_history

    try:
        hist = open_history(path)
        try:
            diff = getattr(hist, "diff", None)
            if diff is None:
                return None
            d = diff(a, b)
        finally:
            hist.close()
        counts = {k: int(v) for k, v in d.counts().items()}
        pairs = (
            d.relabeled.astype({"old": str, "new": str})
            .groupby(["old", "new"], sort=False)
            .size()
            .sort_values(ascending=False, kind="stable")
        )
        ids = d.ids
    except Exception as exc:
        msg = str(exc) or type(exc).__name__
        raise ReadError(f"cannot diff v{a}..v{b} of {path.name}: {msg}") from exc
    return {
        "counts": counts,
        "relabels": [
            {"old": o, "new": n, "rows": int(c)} for (o, n), c in pairs.head(IDS_SHOWN).items()
        ],
        "n_relabel_pairs": len(pairs),
        "ids": ids[:IDS_SHOWN],
        "n_ids": len(ids),
    }


def cell_changes(d: Details, cell_id: str) -> list[dict[str, Any]]:
    """The newest changes a cell made (for the marker's tooltip)."""
    own = [c for c in d.changes if c["cell_id"] == cell_id]
    return own[-CELL_CHANGES_SHOWN:][::-1]


__all__ = [
    "HISTORY_DIR",
    "Details",
    "HistoryReader",
    "ReadError",
    "Summary",
    "cell_changes",
    "diff_summary",
    "dir_stamp",
    "file_stamp",
    "history_entry",
    "history_files",
    "iteration_detail",
    "notebook_cells",
]
