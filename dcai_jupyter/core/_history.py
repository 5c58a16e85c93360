"""The iteration history: an append-only SQLite file of every recorded change."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from .. import _version
from . import _codec
from . import _fingerprint as fpr
from ._errors import BaseMismatchError, ConcurrentWriteError, HistoryError, SupersededError
from ._history_compare import CompareMixin
from ._history_frames import ChangesFrame, EventsFrame, IterationsFrame, linked
from ._iterations import IterationLog
from ._provenance import Provenance
from ._reviews import HistoryReviews
from ._table import Table, apply_all

SCHEMA_VERSION = 1
_MAGIC = "dcai_jupyter.history"

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS provenance (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    execution_count INTEGER,
    cell_id TEXT,
    code TEXT,
    widget TEXT,
    started INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY,
    op TEXT NOT NULL,
    params TEXT,
    delta TEXT,
    sid INTEGER,
    old,
    new,
    n_rows INTEGER NOT NULL,
    prov INTEGER NOT NULL REFERENCES provenance(id),
    ts INTEGER NOT NULL,
    fp INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    op TEXT NOT NULL,
    params TEXT,
    summary TEXT,
    prov INTEGER NOT NULL REFERENCES provenance(id),
    ts INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    params TEXT,
    prov INTEGER NOT NULL REFERENCES provenance(id),
    ts INTEGER NOT NULL
);
"""

# Change ops that only move along the undo stack; their deltas are still stored in full.
# A change that sets one row's label to a plain value (the common click) is stored compactly:
# delta NULL, and sid/old/new as native SQLite values; every other change as a JSON delta.
UNDO, REDO = "undo", "redo"


_F = TypeVar("_F", bound=Callable[..., Any])


def _translated(method: _F) -> _F:
    """Turn SQLite's errors on a history file into ``HistoryError`` saying what to do."""

    @wraps(method)
    def wrapper(self: History, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as e:
            raise self._db_error(e) from None
        except RecursionError:  # JSON in the file nested past what the parser follows
            raise HistoryError(
                f"{self.path} holds JSON nested too deeply to read; it was edited or is damaged"
            ) from None
        except pd.errors.DatabaseError as e:  # pandas' read_sql_query wraps SQLite's error
            cause = e.__cause__ if isinstance(e.__cause__, sqlite3.DatabaseError) else None
            if cause is None:
                raise
            raise self._db_error(cause) from None

    return cast(_F, wrapper)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")


def default_path(name: str, directory: str | os.PathLike[str] | None = None) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return Path(directory or ".") / ".dcai" / f"{safe}.sqlite"


class History(CompareMixin, HistoryReviews):
    """Append-only record of every change to one dataset, stored in SQLite.

    Parameters
    ----------
    path
        The history file, or ``":memory:"`` for a throw-away history.
    create
        Create the file when it does not exist (``open_history`` passes False).
    read_only
        Open the file for reading only (SQLite ``mode=ro``), as ``open_history`` does:
        recording through it raises ``HistoryError``, and other processes may keep
        writing while it reads.

    Notes
    -----
    Each change is committed in its own transaction when the call that made it
    returns (WAL journal), so a killed process leaves the last committed change intact.
    Opening checks the file's header and metadata only, in constant time; damage
    elsewhere surfaces as ``HistoryError`` when the damaged part is read, and
    ``verify()`` checks the whole file on request.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        create: bool = True,
        read_only: bool = False,
    ) -> None:
        self.path = str(path)
        #: True for a history opened for reading (``open_history``)
        self.read_only = bool(read_only)
        self._lock = threading.RLock()
        self._prov_ids: dict[str, int] = {}
        in_memory = self.path == ":memory:"
        if in_memory and self.read_only:
            raise ValueError("an in-memory history cannot be opened read-only; pass a file path")
        if not in_memory:
            p = Path(self.path)
            if not p.exists():
                if not create or self.read_only:
                    raise HistoryError(f"no history file at {self.path}")
                p.parent.mkdir(parents=True, exist_ok=True)
            elif p.is_dir():
                raise HistoryError(f"{self.path} is a directory, not a history file")
            else:
                self._check_header(p, read_only=self.read_only)
        try:
            if self.read_only:
                uri = f"{Path(self.path).resolve().as_uri()}?mode=ro"
                self._conn = sqlite3.connect(
                    uri, uri=True, isolation_level=None, check_same_thread=False
                )
                self._conn.execute("PRAGMA query_only=ON")
            else:
                self._conn = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False
                )
            self._conn.execute("PRAGMA busy_timeout=5000")
            if not in_memory and not self.read_only:
                self._conn.execute("PRAGMA journal_mode=WAL")
                # WAL + NORMAL survives a killed process; only power loss can drop the newest commits.
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._meta = self._read_meta()
            if not self._meta:
                if self.read_only:
                    raise HistoryError(
                        f"{self.path} is an empty SQLite file, not a dcai_jupyter history; "
                        "pass the path of a history a Dataset wrote"
                    )
                self._conn.executescript(_DDL)
                self._put_meta(
                    {
                        "magic": _MAGIC,
                        "schema_version": str(SCHEMA_VERSION),
                        "created": _iso(_now_ms()) or "",
                        "created_by": f"dcai_jupyter {_version.__version__}",
                    }
                )
                self._meta = self._read_meta()
            self._check_meta()
        except sqlite3.DatabaseError as e:
            if hasattr(self, "_conn"):
                self._conn.close()
            raise HistoryError(
                f"{self.path} is not a usable dcai_jupyter history file ({e}); "
                "move it aside or pass another history= path"
            ) from None
        except HistoryError:
            self._conn.close()
            raise

    # ------------------------------------------------------------------ file checks
    @staticmethod
    def _check_header(p: Path, *, read_only: bool = False) -> None:
        with open(p, "rb") as f:
            head = f.read(16)
        if head and head != b"SQLite format 3\x00":
            raise HistoryError(
                f"{p} is not a SQLite file, so not a dcai_jupyter history; "
                "move it aside or pass another history= path"
            )
        if not head and read_only:
            raise HistoryError(
                f"{p} is an empty file, not a dcai_jupyter history; "
                "pass the path of a history a Dataset wrote"
            )

    def _db_error(self, e: sqlite3.DatabaseError) -> HistoryError:
        """A ``HistoryError`` for an SQLite error met while using the file."""
        msg = str(e)
        if "readonly" in msg or "read-only" in msg or "query_only" in msg:
            return self._read_only_error()
        if isinstance(e, sqlite3.OperationalError) and ("locked" in msg or "busy" in msg):
            return HistoryError(
                f"{self.path} is locked by another process ({msg}); retry when it is done"
            )
        if "malformed" in msg or "not a database" in msg or "corrupt" in msg:
            return HistoryError(
                f"{self.path} is corrupt ({msg}); restore a backup or move it aside"
            )
        return HistoryError(f"cannot use the history file {self.path} ({msg})")

    def _read_only_error(self) -> HistoryError:
        return HistoryError(
            f"{self.path} was opened read-only (open_history is for reading); to record "
            f"changes, create a Dataset on it: Dataset(base_df, label=..., name={self.name!r}, "
            f"history={self.path!r})"
        )

    #: set (to the refusal) when the Dataset recording through this object was superseded
    #: by a newer one on the same file in this process (see ``_live``): it records no more
    _superseded: str | None = None

    def _require_writable(self) -> None:
        if self._superseded is not None:
            raise SupersededError(self._superseded)
        if self.read_only:
            raise self._read_only_error()

    @_translated
    def verify(self) -> None:
        """Check the whole file (SQLite ``integrity_check``); raise ``HistoryError`` if damaged.

        Reads every page, so it takes time proportional to the file size; opening a
        history does not do it.
        """
        with self._lock:
            rows = [r[0] for r in self._conn.execute("PRAGMA integrity_check(20)").fetchall()]
        if rows != ["ok"]:
            raise HistoryError(
                f"{self.path} is corrupt ({'; '.join(rows[:5])}); restore a backup or move it aside"
            )

    def _read_meta(self) -> dict[str, str]:
        has = self._conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        if not has:
            tables = self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise HistoryError(
                    f"{self.path} is a SQLite database but not a dcai_jupyter history; "
                    "pass another history= path"
                )
            return {}
        return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    def _check_meta(self) -> None:
        if self._meta.get("magic") != _MAGIC:
            raise HistoryError(f"{self.path} is not a dcai_jupyter history (no magic marker)")
        v = int(self._meta.get("schema_version", "0"))
        if v > SCHEMA_VERSION:
            raise HistoryError(
                f"{self.path} was written by a newer dcai_jupyter (history schema {v}, this version "
                f"reads up to {SCHEMA_VERSION}); upgrade dcai_jupyter to open it"
            )

    @_translated
    def _put_meta(self, items: dict[str, str]) -> None:
        self._require_writable()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", list(items.items())
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._meta.update(items)

    # ------------------------------------------------------------------ base
    @property
    def name(self) -> str | None:
        """The dataset name this history belongs to (None until a dataset is attached)."""
        return self._meta.get("name")

    @property
    def base(self) -> dict[str, Any] | None:
        """The recorded base: fingerprint, columns, dtypes, label, rows, index name."""
        raw = self._meta.get("base")
        return json.loads(raw) if raw else None

    def _set_base(self, name: str, base: dict[str, Any]) -> None:
        self._put_meta({"name": name, "base": json.dumps(base)})

    # ------------------------------------------------------------------ appends
    def _prov_id(self, prov: Provenance) -> int:
        pid = self._prov_ids.get(prov.key)
        if pid is not None:
            return pid
        row = self._conn.execute("SELECT id FROM provenance WHERE key = ?", (prov.key,)).fetchone()
        if row is None:
            cur = self._conn.execute(
                "INSERT INTO provenance(key, source, execution_count, cell_id, code, widget, started)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    prov.key,
                    prov.source,
                    prov.execution_count,
                    prov.cell_id,
                    prov.code,
                    prov.widget,
                    _now_ms(),
                ),
            )
            pid = int(cur.lastrowid or 0)
        else:
            pid = int(row[0])
        return pid

    @_translated
    def _append(
        self,
        expected_version: int,
        op: str,
        params: dict[str, Any] | None,
        deltas: list[dict[str, Any]],
        n_rows: int,
        fp: int,
        prov: Provenance,
        encoded: str | None = None,
    ) -> int:
        """Commit one change; returns its version. Raises and writes nothing on any failure.

        ``encoded`` is ``deltas`` already as JSON text (a planned change encodes each delta
        once, when it is planned).
        """
        self._require_writable()
        params_text = _codec.dumps(params) if params else None
        compact = _compact(deltas)
        if compact:
            delta_text = None
        else:
            delta_text = encoded if encoded is not None else _codec.dumps(deltas)
        sid, old, new = compact or (None, None, None)
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                head = conn.execute("SELECT max(seq) FROM changes").fetchone()[0] or 0
                if head != expected_version:
                    raise ConcurrentWriteError(
                        f"{self.path} has version {head} but this dataset is at {expected_version}: "
                        "another process wrote to the same history. Re-create the Dataset to resume "
                        "from the file, or use another name"
                    )
                pid = self._prov_id(prov)
                conn.execute(
                    "INSERT INTO changes(seq, op, params, delta, sid, old, new, n_rows, prov, ts, fp)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        expected_version + 1,
                        op,
                        params_text,
                        delta_text,
                        sid,
                        old,
                        new,
                        n_rows,
                        pid,
                        _now_ms(),
                        fpr.to_signed(fp),
                    ),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                self._prov_ids.pop(prov.key, None)
                raise
            self._prov_ids[prov.key] = pid
            return expected_version + 1

    @_translated
    def record_event(
        self, op: str, params: dict[str, Any] | None = None, summary: dict[str, Any] | None = None
    ) -> int:
        """Record an analysis that changed no data (e.g. ``find_label_issues``) at the head version."""
        from ._provenance import current

        self._require_writable()
        prov = current()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                pid = self._prov_id(prov)
                cur = self._conn.execute(
                    "INSERT INTO events(version, op, params, summary, prov, ts) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        self.head,
                        op,
                        _codec.dumps(params) if params else None,
                        _codec.dumps(summary) if summary else None,
                        pid,
                        _now_ms(),
                    ),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                self._prov_ids.pop(prov.key, None)
                raise
            self._prov_ids[prov.key] = pid
            return int(cur.lastrowid or 0)

    # ------------------------------------------------------------------ reads
    @property
    @_translated
    def head(self) -> int:
        """The newest recorded version (0 = the base data)."""
        with self._lock:
            return int(
                self._conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
            )

    def __len__(self) -> int:
        return self.head

    @_translated
    def _rows(self, lo: int, hi: int) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(
                "SELECT delta, sid, old, new FROM changes WHERE seq BETWEEN ? AND ? ORDER BY seq",
                (lo, hi),
            ).fetchall()

    def _deltas(self, lo: int, hi: int) -> list[list[dict[str, Any]]]:
        """Deltas of versions lo..hi inclusive."""
        return [_expand(r) for r in self._rows(lo, hi)]

    @_translated
    def _packed(self, lo: int, hi: int) -> list[Any]:
        """Like ``_deltas`` but compact label sets stay ``(sid, new)`` tuples, for fast replay.

        The JSON deltas are parsed in one call: far cheaper than one call per change.
        """
        rows = self._rows(lo, hi)
        texts = [r[0] for r in rows if r[0] is not None]
        parsed = iter(_codec.loads("[" + ",".join(texts) + "]") if texts else [])
        return [next(parsed) if r[0] is not None else (r[1], r[3]) for r in rows]

    @_translated
    def _ops(self) -> list[tuple[int, str, dict[str, Any] | None]]:
        with self._lock:
            rows = self._conn.execute("SELECT seq, op, params FROM changes ORDER BY seq").fetchall()
        return [(s, op, json.loads(p) if p else None) for s, op, p in rows]

    @_translated
    def _fingerprint_at(self, version: int) -> int:
        if version == 0:
            base = self.base
            if base is None:
                raise HistoryError("this history has no base recorded yet")
            return int(base["fingerprint"], 16)
        with self._lock:
            row = self._conn.execute("SELECT fp FROM changes WHERE seq = ?", (version,)).fetchone()
        if row is None:
            raise ValueError(f"no version {version}; this history has versions 0..{self.head}")
        return fpr.from_signed(row[0])

    @_translated
    def _deltas_at(self, versions: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """The deltas of the given versions only (for displaying a few changes)."""
        out: dict[int, list[dict[str, Any]]] = {}
        wanted = sorted({int(v) for v in versions})
        with self._lock:
            for lo in range(0, len(wanted), 500):
                chunk = wanted[lo : lo + 500]
                rows = self._conn.execute(
                    "SELECT seq, delta, sid, old, new FROM changes WHERE seq IN "
                    f"({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                for seq, *rest in rows:
                    out[int(seq)] = _expand(tuple(rest))
        return out

    @_translated
    def _op_counts(self, spans: Sequence[tuple[int, int]]) -> list[list[tuple[str, int, int]]]:
        """Per iteration (its first and last version): ``(op, changes, rows)`` in order."""
        out = []
        with self._lock:
            for first, last in spans:
                rows = self._conn.execute(
                    "SELECT op, count(*), sum(n_rows) FROM changes WHERE seq BETWEEN ? AND ?"
                    " AND prov = (SELECT prov FROM changes WHERE seq = ?)"
                    " GROUP BY op ORDER BY min(seq)",
                    (first, last, first),
                ).fetchall()
                out.append([(str(op), int(n), int(r or 0)) for op, n, r in rows])
        return out

    @property
    @_translated
    def changes(self) -> ChangesFrame:
        """One row per change, oldest first, with its provenance.

        A DataFrame (every column below, the whole pandas API) that a notebook shows
        readably: where each change came from, before→after for relabels, the reason.

        Columns: ``version``, ``op``, ``params`` (dict), ``n_rows``, ``source`` (cell,
        widget, callback, api, cli, recipe), ``execution_count`` and ``cell_id`` (of the
        cell that made the change; for a widget's change, of the cell that displayed the
        widget), ``widget``, ``code``, ``reason``, ``ids``, ``timestamp``, ``fingerprint``.
        """
        query = (
            "SELECT c.seq, c.seq AS version, c.op, c.params, c.n_rows, p.source, p.execution_count,"
            " p.cell_id, p.widget, p.code, c.ts, c.fp, c.delta, c.sid"
            " FROM changes c JOIN provenance p ON p.id = c.prov ORDER BY c.seq"
        )
        with self._lock:
            cur = self._conn.execute(query)
            rows = cur.fetchall()
            if not rows:
                df = pd.read_sql_query(query, self._conn)  # the dtypes of an empty frame
        if rows:
            # columns as Python lists: iterating pandas' string arrays row by row is slow
            names = [d[0] for d in cur.description]
            cols: dict[str, list[Any]] = {
                n: list(c) for n, c in zip(names, zip(*rows, strict=True), strict=True)
            }
            df = _changes_frame(cols)
            return cast(ChangesFrame, linked(df.set_index("seq"), ChangesFrame, self))
        df["params"] = [json.loads(p) if isinstance(p, str) else {} for p in df["params"]]
        df["reason"] = [p.get("reason") if isinstance(p, dict) else None for p in df["params"]]
        df["ids"] = [
            _ids_of(d) if isinstance(d, str) else [int(i)]
            for d, i in zip(df.pop("delta"), df.pop("sid"), strict=True)
        ]
        df["timestamp"] = pd.to_datetime(df.pop("ts"), unit="ms", utc=True)
        df["fingerprint"] = [fpr.to_hex(fpr.from_signed(v)) for v in df.pop("fp")]
        df["execution_count"] = df["execution_count"].astype("Int64")
        _none_for_missing(df, ["cell_id", "widget", "code"])
        return cast(ChangesFrame, linked(df.set_index("seq"), ChangesFrame, self))

    @property
    @_translated
    def events(self) -> EventsFrame:
        """Recorded analyses (e.g. ``find_label_issues``) with the version they saw.

        A DataFrame shown readably in a notebook (where, op, what was found).
        """
        with self._lock:
            df = pd.read_sql_query(
                "SELECT e.id, e.version, e.op, e.params, e.summary, p.source, p.execution_count,"
                " p.cell_id, e.ts, p.widget FROM events e JOIN provenance p ON p.id = e.prov"
                " ORDER BY e.id",
                self._conn,
            )
        df["params"] = [json.loads(p) if isinstance(p, str) else {} for p in df["params"]]
        df["summary"] = [json.loads(p) if isinstance(p, str) else {} for p in df["summary"]]
        df["timestamp"] = pd.to_datetime(df.pop("ts"), unit="ms", utc=True)
        df["execution_count"] = df["execution_count"].astype("Int64")
        _none_for_missing(df, ["cell_id", "widget"])
        return cast(EventsFrame, linked(df.set_index("id"), EventsFrame, self))

    @property
    @_translated
    def iterations(self) -> IterationsFrame:
        """Changes grouped by what made them: one cell execution, or one widget session.

        A DataFrame shown readably in a notebook (where, versions, ops with counts, rows);
        ``op_counts`` holds the changes per op. The same reading as :class:`IterationLog`
        (``iteration_log()``), which follows a growing history incrementally.
        """
        log = IterationLog(self)
        log.refresh()
        return cast(IterationsFrame, linked(log.frame(), IterationsFrame, self))

    def iteration_log(self) -> IterationLog:
        """An :class:`IterationLog` of this history, read up to now; ``refresh()`` follows it."""
        log = IterationLog(self)
        log.refresh()
        return log

    @_translated
    def change_summaries(self, *, after: int = 0) -> list[tuple[int, str, int, int, int]]:
        """Per change after version ``after``, oldest first: (version, op, rows touched,
        provenance id, time in epoch ms). A light read: no params, no deltas."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, op, n_rows, prov, ts FROM changes WHERE seq > ? ORDER BY seq",
                (int(after),),
            ).fetchall()
        return [(int(a), str(b), int(c), int(d), int(e)) for a, b, c, d, e in rows]

    @_translated
    def provenance(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Provenance rows by id: source, execution_count, cell_id, widget, code, started."""
        out: dict[int, dict[str, Any]] = {}
        ids = [int(i) for i in ids]
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows = self._conn.execute(
                    "SELECT id, source, execution_count, cell_id, widget, code, started FROM"
                    f" provenance WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                for pid, src, ec, cell, widget, code, started in rows:
                    out[int(pid)] = {
                        "source": src,
                        "execution_count": None if ec is None else int(ec),
                        "cell_id": cell,
                        "widget": widget,
                        "code": code,
                        "started": started,
                    }
        return out

    # ------------------------------------------------------------------ replay
    def _base_table(self, base_df: pd.DataFrame, strict: bool) -> Table:
        base = self.base
        if base is None:
            raise HistoryError(f"{self.path} has no recorded base data; nothing to replay")
        table = Table.from_frame(base_df, base["label"])
        fp = table.fingerprint()
        if strict and fpr.to_hex(fp) != base["fingerprint"]:
            raise BaseMismatchError(
                f"the data given does not match the base recorded in {self.path} "
                f"(fingerprint {fpr.to_hex(fp)} != {base['fingerprint']}; "
                f"{len(table)} rows vs {base['n_rows']} recorded, columns {table.columns} vs "
                f"{base['columns']}). Pass the original base data, or strict=False to replay anyway"
            )
        return table

    def _replayed(self, base_df: pd.DataFrame, to: int | None, strict: bool) -> Table:
        head = self.head
        to = head if to is None else int(to)
        if not 0 <= to <= head:
            raise ValueError(f"no version {to}; this history has versions 0..{head}")
        table = self._base_table(base_df, strict)
        apply_all(table, self._packed(1, to))
        if strict:
            got = table.fingerprint()
            want = self._fingerprint_at(to)
            if got != want:
                raise HistoryError(
                    f"replay to version {to} gave fingerprint {fpr.to_hex(got)}, recorded "
                    f"{fpr.to_hex(want)}: the history file may have been edited by hand"
                )
        return table

    def replay(
        self, base_df: pd.DataFrame, *, to: int | None = None, strict: bool = True
    ) -> pd.DataFrame:
        """Apply the recorded changes to ``base_df``; exact, checked by fingerprint.

        Parameters
        ----------
        base_df
            The data the history started from (same rows, ids and columns).
        to
            Stop at this version (default: the newest).
        strict
            Refuse a base whose fingerprint differs from the recorded one, and check the
            result's fingerprint against the recording.
        """
        return self._replayed(base_df, to, strict).frame()

    def checkout(self, version: int, *, base: pd.DataFrame | None = None) -> pd.DataFrame:
        """The dataset as it was at ``version`` (0 = the base data).

        A history opened from a file replays onto ``base``; ``ds.history.checkout(v)`` on a
        live ``Dataset`` needs no base (it walks back from the dataset's current state).
        """
        version = self._check_version(version)
        if base is None:
            raise ValueError(
                "this history is not attached to a live Dataset; pass the base data: "
                "checkout(version, base=base_df)"
            )
        return self.replay(base, to=version)

    def _check_version(self, version: int) -> int:
        head = self.head
        version = int(version)
        if not 0 <= version <= head:
            raise ValueError(f"no version {version}; this history has versions 0..{head}")
        return version

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"History({self.path!r}, name={self.name!r}, head={self.head})"


def _changes_frame(cols: dict[str, list[Any]]) -> pd.DataFrame:
    """``History.changes`` (before its index is set) from the query's columns as lists."""
    params = [json.loads(p) if isinstance(p, str) else {} for p in cols["params"]]
    deltas, sids = cols.pop("delta"), cols.pop("sid")
    ts, fps = cols.pop("ts"), cols.pop("fp")
    df = pd.DataFrame(
        {
            "seq": np.asarray(cols["seq"], dtype=np.int64),
            "version": np.asarray(cols["version"], dtype=np.int64),
            "op": cols["op"],
            "params": pd.Series(params, dtype=object),
            "n_rows": np.asarray(cols["n_rows"], dtype=np.int64),
            "source": cols["source"],
            "execution_count": pd.array(cols["execution_count"], dtype="Int64"),
            "cell_id": _text_or_none(cols["cell_id"]),
            "widget": _text_or_none(cols["widget"]),
            "code": _text_or_none(cols["code"]),
            "reason": [p.get("reason") if isinstance(p, dict) else None for p in params],
        }
    )
    df["ids"] = pd.Series(
        [_ids_of(d) if isinstance(d, str) else [int(i)] for d, i in zip(deltas, sids, strict=True)],
        dtype=object,
    )
    df["timestamp"] = pd.to_datetime(np.asarray(ts, dtype=np.int64), unit="ms", utc=True)
    df["fingerprint"] = [fpr.to_hex(fpr.from_signed(v)) for v in fps]
    return df


def _text_or_none(values: list[Any]) -> pd.Series:
    return pd.Series([v if isinstance(v, str) else None for v in values], dtype=object)


def _none_for_missing(df: pd.DataFrame, columns: Sequence[str]) -> None:
    """Optional text columns hold None where absent (pandas would infer NaN)."""
    for c in columns:
        df[c] = pd.Series(
            [v if isinstance(v, str) else None for v in df[c]], index=df.index, dtype=object
        )


def _compact(deltas: list[dict[str, Any]]) -> tuple[int, Any, Any] | None:
    """(id, old, new) when the change is one label set of one row to a plain value."""
    if len(deltas) != 1:
        return None
    d = deltas[0]
    if d["t"] != "set" or len(d) != 4 or len(d["i"]) != 1:  # t, i, o, n: no column, no origin
        return None
    old, new = d["o"][0], d["n"][0]
    for v in (old, new):
        # bools would come back as ints, NaN as NULL: those stay JSON.
        if not (
            type(v) is str
            or (type(v) is int and -(2**63) <= v < 2**63)
            or (type(v) is float and v == v)
        ):
            return None
    if type(old) is not type(new):
        return None
    return int(d["i"][0]), old, new


def _expand(row: tuple[Any, ...]) -> list[dict[str, Any]]:
    delta, sid, old, new = row
    if delta is not None:
        return json.loads(delta)
    return [{"t": "set", "i": [sid], "o": [old], "n": [new]}]


def _ids_of(delta_text: str) -> list[int]:
    ids: list[int] = []
    for d in json.loads(delta_text):
        ids.extend(d["i"])
    return ids


def open_history(path: str | os.PathLike[str]) -> History:
    """Open an existing history file for reading, e.g. from a script or another process.

    The file is opened read-only: a process recording into it (a running notebook) is
    not disturbed, and its new changes become visible to this handle as they commit.
    To record changes, create a ``Dataset`` on the file instead.

    Raises
    ------
    HistoryError
        When the file is missing, not a SQLite file, not a dcai_jupyter history, or
        written by a newer dcai_jupyter.
    """
    return History(path, create=False, read_only=True)


def undo_stacks(
    ops: Sequence[tuple[int, str, dict[str, Any] | None]],
) -> tuple[list[int], list[int]]:
    """Rebuild the undo and redo stacks (lists of change seqs) from the recorded ops."""
    undo: list[int] = []
    redo: list[int] = []
    for seq, op, params in ops:
        if op == UNDO:
            target = (params or {}).get("undoes")
            if undo and undo[-1] == target:
                redo.append(undo.pop())
        elif op == REDO:
            target = (params or {}).get("redoes")
            if redo and redo[-1] == target:
                undo.append(redo.pop())
        else:
            undo.append(seq)
            redo.clear()
    return undo, redo


__all__ = ["History", "default_path", "open_history", "undo_stacks"]
