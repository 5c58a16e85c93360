"""The iteration history of a dataset: ``History``, the public object over a history file.

``History`` reads what its :class:`~._history_store.HistoryStore` (the file format and
the writes, ``History.store``) holds: the changes, events and iterations as frames, exact
replay and checkout; and it hands the rest to the file of each idea, through the store's
public methods only: row-level diffs (``_diff``), metrics per version (``_metrics``) and
the review state of findings (``_reviews``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from . import _diff, _metrics
from . import _fingerprint as fpr
from ._errors import BaseMismatchError, HistoryError
from ._history_frames import ChangesFrame, EventsFrame, IterationsFrame, linked
from ._history_store import HistoryStore
from ._iterations import IterationLog
from ._reviews import ReviewState
from ._table import Table, apply_all

# Change ops that only move along the undo stack; their deltas are still stored in full.
UNDO, REDO = "undo", "redo"


def default_path(name: str, directory: str | os.PathLike[str] | None = None) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return Path(directory or ".") / ".dcai" / f"{safe}.sqlite"


class History:
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
        self._store = HistoryStore(str(path), create=create, read_only=read_only)
        self._review_state = ReviewState(self._store)

    @property
    def store(self) -> HistoryStore:
        """The history file: its writes (``append``, ``transaction``) and the reads of the
        recorded changes (``deltas``, ``packed``, ``ops``, ``fingerprint_at``, ...)."""
        return self._store

    @property
    def path(self) -> str:
        """The history file (``":memory:"`` for a throw-away history)."""
        return self._store.path

    @property
    def read_only(self) -> bool:
        """True for a history opened for reading (``open_history``)."""
        return self._store.read_only

    @property
    def name(self) -> str | None:
        """The dataset name this history belongs to (None until a dataset is attached)."""
        return self._store.name

    @property
    def base(self) -> dict[str, Any] | None:
        """The recorded base: fingerprint, columns, dtypes, label, rows, index name."""
        return self._store.base

    @property
    def head(self) -> int:
        """The newest recorded version (0 = the base data)."""
        return self._store.head

    def __len__(self) -> int:
        return self._store.head

    def verify(self) -> None:
        """Check the whole file (SQLite ``integrity_check``); raise ``HistoryError`` if damaged.

        Reads every page, so it takes time proportional to the file size; opening a
        history does not do it.
        """
        self._store.verify()

    def record_event(
        self, op: str, params: dict[str, Any] | None = None, summary: dict[str, Any] | None = None
    ) -> int:
        """Record an analysis that changed no data (e.g. ``find_label_issues``) at the head version."""
        from ._provenance import current

        self._store.require_writable()
        return self._store.record_event(op, params, summary, current())

    # ------------------------------------------------------------------ reads
    @property
    def changes(self) -> ChangesFrame:
        """One row per change, oldest first, with its provenance.

        A DataFrame (every column below, the whole pandas API) that a notebook shows
        readably: where each change came from, before→after for relabels, the reason.

        Columns: ``version``, ``op``, ``params`` (dict), ``n_rows``, ``source`` (cell,
        widget, callback, api, cli, recipe), ``execution_count`` and ``cell_id`` (of the
        cell that made the change; for a widget's change, of the cell that displayed the
        widget), ``widget``, ``code``, ``reason``, ``ids``, ``timestamp``, ``fingerprint``.
        """
        with self._store.translating():  # JSON in the file nested past the parser
            return _read_changes(self._store)

    @property
    def events(self) -> EventsFrame:
        """Recorded analyses (e.g. ``find_label_issues``) with the version they saw.

        A DataFrame shown readably in a notebook (where, op, what was found).
        """
        with self._store.translating():
            return _read_events(self._store)

    @property
    def iterations(self) -> IterationsFrame:
        """Changes grouped by what made them: one cell execution, or one widget session.

        A DataFrame shown readably in a notebook (where, versions, ops with counts, rows);
        ``op_counts`` holds the changes per op. The same reading as :class:`IterationLog`
        (``iteration_log()``), which follows a growing history incrementally.
        """
        log = IterationLog(self._store)
        log.refresh()
        return cast(IterationsFrame, linked(log.frame(), IterationsFrame, self._store))

    def iteration_log(self) -> IterationLog:
        """An :class:`IterationLog` of this history, read up to now; ``refresh()`` follows it."""
        log = IterationLog(self._store)
        log.refresh()
        return log

    def change_summaries(self, *, after: int = 0) -> list[tuple[int, str, int, int, int]]:
        """Per change after version ``after``, oldest first: (version, op, rows touched,
        provenance id, time in epoch ms). A light read: no params, no deltas."""
        return self._store.change_summaries(after=after)

    def provenance(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Provenance rows by id: source, execution_count, cell_id, widget, code, started."""
        return self._store.provenance(ids)

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
        apply_all(table, self._store.packed(1, to))
        if strict:
            got = table.fingerprint()
            want = self._store.fingerprint_at(to)
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
        version = self._store.check_version(version)
        if base is None:
            raise ValueError(
                "this history is not attached to a live Dataset; pass the base data: "
                "checkout(version, base=base_df)"
            )
        return self.replay(base, to=version)

    # ------------------------------------------------------------------ comparison, metrics
    def diff(self, a: int, b: int) -> _diff.Diff:
        """Row-level diff between versions ``a`` and ``b``, read from the recorded deltas.

        Parameters
        ----------
        a, b
            Versions ``0 .. head``; ``diff(7, 3)`` reads backwards (what reverting to 3
            would change).

        Returns
        -------
        Diff
            ``added`` and ``removed`` rows (all columns), ``relabeled`` (``old`` -> ``new``)
            and ``modified`` (``sample_id``, ``column``, ``old``, ``new``); ``counts()``,
            ``summary()`` (one line per touched sample) and ``ids``.

        Examples
        --------
        >>> d = ds.history.diff(0, ds.version)  # doctest: +SKIP
        >>> d.counts()  # doctest: +SKIP
        {'added': 0, 'removed': 3, 'relabeled': 14, 'modified': 0}
        """
        return _diff.history_diff(self._store, a, b)

    def record_metrics(
        self,
        version: int,
        values: Mapping[str, Any],
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """Record metrics measured on ``version`` (e.g. ``{"accuracy": 0.93}``), one transaction.

        Parameters
        ----------
        version
            The data version the metrics were measured on (``0 .. head``).
        values
            Metric name -> finite number.
        params
            JSON parameters of the measurement (model, folds, ...).

        Raises
        ------
        ValueError
            Unknown version, empty or non-numeric metrics, params that are not JSON.
        HistoryError
            A history opened read-only (``open_history``).
        """
        _metrics.record_metrics(self._store, version, values, params)

    @property
    def metrics(self) -> pd.DataFrame:
        """Recorded metrics, oldest first: ``version``, ``name``, ``value``, ``params``,
        ``source``, ``execution_count``, ``cell_id``, ``timestamp`` (by metric id)."""
        return _metrics.metrics_frame(self._store)

    # ------------------------------------------------------------------ review state
    def in_effect(self, version: int, *, at: int | None = None) -> bool:
        """Whether the data at ``at`` (default: the head) is made from the data as it was at
        ``version``: False when the changes up to ``version`` were reverted or undone since
        (what was decided at ``version`` then no longer holds)."""
        return self._review_state.in_effect(version, at=at)

    def review_ids(
        self, findings: Any, state: str = "reviewed", *, at: int | None = None
    ) -> frozenset[int]:
        """Sample ids of ``findings`` whose ``state`` (``"kept"`` or ``"reviewed"``) is in
        effect at version ``at`` (default: the head)."""
        return self._review_state.review_ids(findings, state, at=at)

    def reviews(self, findings: Any = None, *, at: int | None = None) -> pd.DataFrame:
        """The review state in effect at version ``at`` (default: the head), by sample id.

        One row per sample of ``findings`` (every findings reviewed when None) kept or
        marked reviewed: ``findings`` (the key as text), ``state`` (``"kept"`` wins over
        ``"reviewed"``), ``kept``, ``reviewed``, and when and where that state was decided:
        ``version`` (the dataset version), ``timestamp``, ``source`` (cell, widget, ...),
        ``widget``, ``cell_id``, ``execution_count``, ``event`` (the event's id).
        """
        return self._review_state.reviews(findings, at=at)

    def review_events(self, *, at: int | None = None) -> pd.DataFrame:
        """Every recorded review event, oldest first, and whether it is in effect at ``at``
        (default: the head): ``op``, ``state``, ``undo``, ``findings`` (key as text),
        ``findings_op``, ``findings_params``, ``findings_version``, ``ids``, ``version``,
        ``in_effect``, ``timestamp``, ``source``, ``widget``, ``cell_id``, ``execution_count``."""
        return self._review_state.review_events(at=at)

    def close(self) -> None:
        self._store.close()

    def __repr__(self) -> str:
        return f"History({self.path!r}, name={self.name!r}, head={self.head})"


def _read_changes(store: HistoryStore) -> ChangesFrame:
    """``History.changes`` read from ``store``."""
    query = (
        "SELECT c.seq, c.seq AS version, c.op, c.params, c.n_rows, p.source, p.execution_count,"
        " p.cell_id, p.widget, p.code, c.ts, c.fp, c.delta, c.sid"
        " FROM changes c JOIN provenance p ON p.id = c.prov ORDER BY c.seq"
    )
    # columns as Python lists: iterating pandas' string arrays row by row is slow
    cols = store.select_columns(query)
    if cols["seq"]:
        df = _changes_frame(cols)
        return cast(ChangesFrame, linked(df.set_index("seq"), ChangesFrame, store))
    df = store.select_frame(query)  # the dtypes of an empty frame
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
    return cast(ChangesFrame, linked(df.set_index("seq"), ChangesFrame, store))


def _read_events(store: HistoryStore) -> EventsFrame:
    """``History.events`` read from ``store``."""
    df = store.select_frame(
        "SELECT e.id, e.version, e.op, e.params, e.summary, p.source, p.execution_count,"
        " p.cell_id, e.ts, p.widget FROM events e JOIN provenance p ON p.id = e.prov"
        " ORDER BY e.id"
    )
    df["params"] = [json.loads(p) if isinstance(p, str) else {} for p in df["params"]]
    df["summary"] = [json.loads(p) if isinstance(p, str) else {} for p in df["summary"]]
    df["timestamp"] = pd.to_datetime(df.pop("ts"), unit="ms", utc=True)
    df["execution_count"] = df["execution_count"].astype("Int64")
    _none_for_missing(df, ["cell_id", "widget"])
    return cast(EventsFrame, linked(df.set_index("id"), EventsFrame, store))


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
