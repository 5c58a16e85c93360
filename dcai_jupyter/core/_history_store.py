"""The history file: its SQLite format, the writes into it and the reads of what it stores.

:class:`HistoryStore` is the one object that holds a history file's connection. Every other
part of the history (``History``'s frames and replay, ``_diff``, ``_metrics``,
``_reviews``, the Dataset that records into it) reads and writes through its public
methods: ``append`` (one change), ``record_event``, ``transaction`` (rows of another table
under one provenance), and the reads of the recorded changes (``deltas``, ``packed``,
``raw_changes``, ``ops``, ``fingerprint_at``, ``check_version``, ...) and ``select`` for a
table a reader knows (events, metrics). The SQLite layout below is the file format: a file
written by one version of dcai_jupyter is read by every later one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast

import pandas as pd

from .. import _version
from . import _codec
from . import _fingerprint as fpr
from ._errors import ConcurrentWriteError, HistoryError, SupersededError
from ._interrupt import deferred_interrupts
from ._provenance import Provenance

__all__ = ["SCHEMA_VERSION", "HistoryStore", "Transaction"]

SCHEMA_VERSION = 1
_IN_CHUNK = 500  # values per `WHERE x IN (...)` query
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

# A change that sets one row's label to a plain value (the common click) is stored compactly:
# delta NULL, and sid/old/new as native SQLite values; every other change as a JSON delta.

_F = TypeVar("_F", bound=Callable[..., Any])


def _translated(method: _F) -> _F:
    """Turn SQLite's errors on a history file into ``HistoryError`` saying what to do."""

    @wraps(method)
    def wrapper(self: HistoryStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.DatabaseError, RecursionError, pd.errors.DatabaseError) as e:
            err = self._history_error(e)
            if err is e:
                raise
            raise err from None

    return cast(_F, wrapper)


def now_ms() -> int:
    """The time now in epoch milliseconds, as the history file stores it."""
    return time.time_ns() // 1_000_000


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")


class Transaction:
    """One write transaction of :meth:`HistoryStore.transaction`: statements run in it
    commit together when the ``with`` block ends, or not at all."""

    __slots__ = ("_conn", "provenance_id")

    def __init__(self, conn: sqlite3.Connection, provenance_id: int) -> None:
        self._conn = conn
        #: the id of the provenance row the written rows refer to (their ``prov`` column)
        self.provenance_id = provenance_id

    def execute(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, args)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)


class HistoryStore:
    """A history file (SQLite): opened, checked, written in transactions and read.

    Parameters
    ----------
    path
        The history file, or ``":memory:"`` for a throw-away history.
    create
        Create the file when it does not exist.
    read_only
        Open the file for reading only (SQLite ``mode=ro``): every write raises
        ``HistoryError``, and other processes may keep writing while it reads.

    Notes
    -----
    Each write is committed in its own transaction (WAL journal), so a killed process
    leaves the last committed change intact. Opening checks the file's header and
    metadata only, in constant time; ``verify()`` checks the whole file. Every method
    turns SQLite's errors into ``HistoryError`` saying what to do. Safe to share between
    threads (one lock serializes the connection).
    """

    #: set (to the refusal) by :meth:`supersede`: a superseded store records no more
    _superseded: str | None = None

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        create: bool = True,
        read_only: bool = False,
    ) -> None:
        self.path = str(path)
        #: True for a file opened for reading (``open_history``)
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
                        "created": _iso(now_ms()),
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

    def _history_error(self, e: BaseException) -> BaseException:
        """What to raise for ``e``, met while reading or writing the file."""
        if isinstance(e, sqlite3.DatabaseError):
            return self._db_error(e)
        if isinstance(e, RecursionError):  # JSON in the file nested past what the parser follows
            return HistoryError(
                f"{self.path} holds JSON nested too deeply to read; it was edited or is damaged"
            )
        if isinstance(e, pd.errors.DatabaseError):  # pandas' read_sql_query wraps SQLite's
            if isinstance(e.__cause__, sqlite3.DatabaseError):
                return self._db_error(e.__cause__)
        return e

    @contextmanager
    def translating(self) -> Iterator[None]:
        """Raise what is met in the block while reading the file's content (SQLite's errors,
        JSON nested past the parser) as ``HistoryError`` saying what to do."""
        try:
            yield
        except (sqlite3.DatabaseError, RecursionError, pd.errors.DatabaseError) as e:
            err = self._history_error(e)
            if err is e:
                raise
            raise err from None

    def _read_only_error(self) -> HistoryError:
        return HistoryError(
            f"{self.path} was opened read-only (open_history is for reading); to record "
            f"changes, create a Dataset on it: Dataset(base_df, label=..., name={self.name!r}, "
            f"history={self.path!r})"
        )

    def supersede(self, message: str) -> None:
        """Refuse every later write with ``SupersededError(message)``: the Dataset recording
        through this store was superseded by a newer one on the same file (see ``_live``)."""
        self._superseded = message

    def require_writable(self) -> None:
        """Raise what a write would raise now: ``SupersededError`` for a superseded store,
        ``HistoryError`` for one opened read-only."""
        if self._superseded is not None:
            raise SupersededError(self._superseded)
        if self.read_only:
            raise self._read_only_error()

    @_translated
    def verify(self) -> None:
        """Check the whole file (SQLite ``integrity_check``); raise ``HistoryError`` if damaged."""
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
        self.require_writable()
        with self._lock, deferred_interrupts():
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

    # ------------------------------------------------------------------ settings
    def setting(self, key: str) -> str | None:
        """A dataset setting recorded by name, or None: ``text_embedding`` (the text
        embedder's registered name), ``column_roles`` (the column roles as JSON data). The
        text is read as the file holds it: whoever reads a setting checks it.

        Raises
        ------
        HistoryError
            The file holds something other than text there (edited or damaged).
        """
        value = self._meta.get(f"setting:{key}")
        if value is not None and not isinstance(value, str):
            raise HistoryError(
                f"{self.path}: history setting {key!r} holds {type(value).__name__}, not text; "
                "the file was edited or damaged: repair it or move it aside"
            )
        return value

    def set_setting(self, key: str, value: str) -> None:
        """Record a dataset setting (a name, never code), replacing the previous value."""
        self._put_meta({f"setting:{key}": str(value)})

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

    def set_base(self, name: str, base: dict[str, Any]) -> None:
        """Record the dataset this history belongs to: its name and base data (``base``)."""
        self._put_meta({"name": name, "base": json.dumps(base)})

    # ------------------------------------------------------------------ writes
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
                    now_ms(),
                ),
            )
            pid = int(cur.lastrowid or 0)
        else:
            pid = int(row[0])
        return pid

    @contextmanager
    def transaction(self, prov: Provenance) -> Iterator[Transaction]:
        """One write transaction whose rows refer to the provenance ``prov``.

        The statements run in the ``with`` block commit together at its end; on any error
        nothing is written (the provenance row included) and the error is raised, SQLite's
        as ``HistoryError``.

        Examples
        --------
        >>> with store.transaction(current()) as txn:  # doctest: +SKIP
        ...     txn.execute("INSERT INTO events(...) VALUES (...)", (..., txn.provenance_id))
        """
        self.require_writable()
        # an interrupt (the stop button) waits for COMMIT or ROLLBACK: none lands between
        # BEGIN and the try, which would leave the transaction open for the next write
        with self._lock, deferred_interrupts():
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    pid = self._prov_id(prov)
                    yield Transaction(conn, pid)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    self._prov_ids.pop(prov.key, None)
                    raise
            except sqlite3.DatabaseError as e:
                raise self._db_error(e) from None
            self._prov_ids[prov.key] = pid

    def append(
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
        """Commit one change as version ``expected_version + 1``; returns that version.

        Raises ``ConcurrentWriteError`` when the file's head is not ``expected_version``
        (another process wrote to it), and writes nothing on any failure. ``encoded`` is
        ``deltas`` already as JSON text (a planned change encodes each delta once).
        """
        self.require_writable()
        params_text = _codec.dumps(params) if params else None
        compact = _compact(deltas)
        if compact:
            delta_text = None
        else:
            delta_text = encoded if encoded is not None else _codec.dumps(deltas)
        sid, old, new = compact or (None, None, None)
        with self.transaction(prov) as txn:
            head = txn.execute("SELECT max(seq) FROM changes").fetchone()[0] or 0
            if head != expected_version:
                raise ConcurrentWriteError(
                    f"{self.path} has version {head} but this dataset is at {expected_version}: "
                    "another process wrote to the same history. Re-create the Dataset to resume "
                    "from the file, or use another name"
                )
            txn.execute(
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
                    txn.provenance_id,
                    now_ms(),
                    fpr.to_signed(fp),
                ),
            )
        return expected_version + 1

    def record_event(
        self,
        op: str,
        params: dict[str, Any] | None,
        summary: dict[str, Any] | None,
        prov: Provenance,
    ) -> int:
        """Record an analysis that changed no data at the head version; returns its id."""
        with self.transaction(prov) as txn:
            cur = txn.execute(
                "INSERT INTO events(version, op, params, summary, prov, ts) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    self.head,
                    op,
                    _codec.dumps(params) if params else None,
                    _codec.dumps(summary) if summary else None,
                    txn.provenance_id,
                    now_ms(),
                ),
            )
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

    def check_version(self, version: int) -> int:
        """``version`` as an int; ``ValueError`` unless it is ``0 .. head``."""
        head = self.head
        version = int(version)
        if not 0 <= version <= head:
            raise ValueError(f"no version {version}; this history has versions 0..{head}")
        return version

    @_translated
    def _rows(self, lo: int, hi: int) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(
                "SELECT delta, sid, old, new FROM changes WHERE seq BETWEEN ? AND ? ORDER BY seq",
                (lo, hi),
            ).fetchall()

    def deltas(self, lo: int, hi: int) -> list[list[dict[str, Any]]]:
        """The deltas of versions ``lo .. hi`` inclusive, one list per change (JSON values)."""
        return [_expand(r) for r in self._rows(lo, hi)]

    @_translated
    def packed(self, lo: int, hi: int) -> list[Any]:
        """The changes ``lo .. hi`` for replay (``_table.apply_all``): deltas with their values
        decoded, and a compact one-row label set as an ``(id, new)`` tuple.

        The JSON deltas are parsed in one call: far cheaper than one call per change.
        """
        rows = self._rows(lo, hi)
        texts = [r[0] for r in rows if r[0] is not None]
        parsed = iter(_codec.loads("[" + ",".join(texts) + "]") if texts else [])
        return [next(parsed) if r[0] is not None else (r[1], r[3]) for r in rows]

    @_translated
    def raw_changes(self, lo: int, hi: int) -> list[Any]:
        """The changes ``lo .. hi`` as stored: deltas as JSON values (one list per change),
        and a compact one-row label set as an ``(id, old, new)`` tuple."""
        rows = self._rows(lo, hi)
        texts = [r[0] for r in rows if r[0] is not None]
        parsed = iter(json.loads("[" + ",".join(texts) + "]") if texts else [])
        return [next(parsed) if r[0] is not None else (r[1], r[2], r[3]) for r in rows]

    @_translated
    def ops(self) -> list[tuple[int, str, dict[str, Any] | None]]:
        """Every change's ``(version, op, params)``, oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT seq, op, params FROM changes ORDER BY seq").fetchall()
        return [(s, op, json.loads(p) if p else None) for s, op, p in rows]

    @_translated
    def fingerprint_at(self, version: int) -> int:
        """The dataset fingerprint recorded at ``version`` (0: the base's)."""
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
    def deltas_at(self, versions: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """The deltas of the given versions only (for displaying a few changes)."""
        rows = self._select_in(
            "SELECT seq, delta, sid, old, new FROM changes WHERE seq IN ({})",
            sorted({int(v) for v in versions}),
        )
        return {int(seq): _expand(tuple(rest)) for seq, *rest in rows}

    @_translated
    def op_counts(self, spans: Sequence[tuple[int, int]]) -> list[list[tuple[str, int, int]]]:
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
        rows = self._select_in(
            "SELECT id, source, execution_count, cell_id, widget, code, started FROM"
            " provenance WHERE id IN ({})",
            [int(i) for i in ids],
        )
        return {
            int(pid): {
                "source": src,
                "execution_count": None if ec is None else int(ec),
                "cell_id": cell,
                "widget": widget,
                "code": code,
                "started": started,
            }
            for pid, src, ec, cell, widget, code, started in rows
        }

    def _select_in(self, sql: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` whose ``IN ({})`` takes ``values``, queried in chunks of
        ``_IN_CHUNK`` values (SQLite caps the parameters of one statement)."""
        rows: list[tuple[Any, ...]] = []
        with self._lock:
            for lo in range(0, len(values), _IN_CHUNK):
                chunk = list(values[lo : lo + _IN_CHUNK])
                rows += self._conn.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall()
        return rows

    @_translated
    def select(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a read-only query on the file (for readers of a table they know)."""
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    @_translated
    def select_columns(self, sql: str, args: Sequence[Any] = ()) -> dict[str, list[Any]]:
        """A query's result as lists by column name (empty lists when it has no rows)."""
        with self._lock:
            cur = self._conn.execute(sql, args)
            rows = cur.fetchall()
            names = [d[0] for d in cur.description]
        if not rows:
            return {n: [] for n in names}
        return {n: list(c) for n, c in zip(names, zip(*rows, strict=True), strict=True)}

    @_translated
    def select_frame(self, sql: str, args: Sequence[Any] = ()) -> pd.DataFrame:
        """A query's result as a DataFrame (``pandas.read_sql_query``: SQLite's column types)."""
        with self._lock:
            return pd.read_sql_query(sql, self._conn, params=tuple(args) or None)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


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
