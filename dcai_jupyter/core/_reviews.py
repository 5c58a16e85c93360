"""Review state of findings, recorded in the history: the samples a person kept as they are or
marked reviewed, and the undoing of either.

One mechanism for every view and for cells. ``ds.record_review(findings, ids, "kept")``
records a ``mark_kept`` event (``"reviewed"``: ``mark_reviewed``; ``undo=True``: the
``unmark_kept`` / ``unmark_reviewed`` event) with the findings' key (:attr:`Findings.key`:
op, params digest, version), the sample ids whose state changed and the provenance of the
call (a cell, a widget). No data changes and the version stays. ``ds.reviews(findings)``
reads the state back; so do ``History.reviews`` (any process that opens the file, e.g.
after a kernel restart) and ``dcai reviews H``.

Which events are in effect follows the data
-------------------------------------------
Every event carries the dataset version it was made at. A review judges the data as it was
then, so it holds for that state of the data and for every state made from it:

- ``ds.revert_to(v)``: the reviews made after ``v`` are no longer in effect (the data is
  back at ``v``'s state; the review state is what it was at ``v``);
- ``ds.undo()``: the reviews made since the undone change are no longer in effect;
- undoing the revert, or redoing the change, brings them back.

Nothing is deleted: every event stays in the history (``History.review_events()`` lists
them with whether each is in effect).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._findings import FindingsKey
from ._history_store import HistoryStore

__all__ = [
    "REVIEW_EVENTS",
    "REVIEW_STATES",
    "ReviewEvent",
    "ReviewState",
    "findings_key",
    "review_op",
]

#: what a person can decide about a finding without changing the data
REVIEW_STATES = ("kept", "reviewed")
#: the history events of the review state: op -> (state, set (True) or undone (False))
REVIEW_EVENTS: dict[str, tuple[str, bool]] = {
    "mark_kept": ("kept", True),
    "unmark_kept": ("kept", False),
    "mark_reviewed": ("reviewed", True),
    "unmark_reviewed": ("reviewed", False),
}
# the change ops that bring the data back to a state it had (see _history / _dataset)
_UNDO, _REDO, _REVERT = "undo", "redo", "revert"

_EVENTS_SQL = (
    "SELECT e.id, e.version, e.op, e.params, e.ts, p.source, p.execution_count, p.cell_id,"
    " p.widget FROM events e JOIN provenance p ON p.id = e.prov"
    f" WHERE e.id > ? AND e.op IN ({','.join('?' * len(REVIEW_EVENTS))}) ORDER BY e.id"
)
_COLUMNS = [
    "findings",
    "state",
    "kept",
    "reviewed",
    "version",
    "timestamp",
    "source",
    "widget",
    "cell_id",
    "execution_count",
    "event",
]


def review_op(state: str, *, undo: bool = False) -> str:
    """The event op that sets (``undo``: takes back) ``state`` (one of :data:`REVIEW_STATES`)."""
    if state not in REVIEW_STATES:
        raise ValueError(f"state must be one of {REVIEW_STATES}; got {state!r}")
    return f"{'unmark' if undo else 'mark'}_{state}"


def findings_key(findings: Any) -> FindingsKey:
    """The key of ``findings`` (a ``Findings``, or a ``FindingsKey`` / 3-tuple)."""
    if isinstance(findings, FindingsKey):
        return findings
    key = getattr(findings, "key", None)
    if isinstance(key, FindingsKey):
        return key
    if isinstance(findings, tuple) and len(findings) == 3:
        op, params, version = findings
        return FindingsKey(str(op), str(params), None if version is None else int(version))
    raise TypeError(
        "pass the Findings the review is about (e.g. ds.find_label_issues()) or their .key; "
        f"got {type(findings).__name__}"
    )


@dataclass(frozen=True)
class ReviewEvent:
    """One recorded review event."""

    id: int
    version: int  # the dataset version it was made at
    op: str
    state: str
    on: bool
    #: (op, params digest, version) of the findings; params None for an event recorded
    #: before findings had a params digest (it matches the findings' op and version)
    findings: tuple[str, str | None, int | None]
    ids: tuple[int, ...]
    ts: int
    source: str
    execution_count: int | None
    cell_id: str | None
    widget: str | None

    def matches(self, key: FindingsKey) -> bool:
        op, params, version = self.findings
        return op == key.op and version == key.version and (params is None or params == key.params)

    @property
    def key_text(self) -> str:
        op, params, version = self.findings
        return str(FindingsKey(op, params or "*", version))


def _event(row: tuple[Any, ...]) -> ReviewEvent | None:
    eid, version, op, params_text, ts, source, count, cell_id, widget = row
    try:
        params = json.loads(params_text) if params_text else {}
        state, on = REVIEW_EVENTS[op]
        fv = params.get("findings_version")
        fp = params.get("findings_params")
        return ReviewEvent(
            id=int(eid),
            version=int(version),
            op=str(op),
            state=state,
            on=on,
            findings=(
                str(params.get("findings")),
                None if fp is None else str(fp),
                None if fv is None else int(fv),
            ),
            ids=tuple(int(i) for i in params.get("ids") or ()),
            ts=int(ts),
            source=str(source),
            execution_count=None if count is None else int(count),
            cell_id=cell_id if isinstance(cell_id, str) else None,
            widget=widget if isinstance(widget, str) else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError):  # not readable: not in effect
        return None


def _node(nodes: list[int], seq: int, op: str, params_text: str | None) -> int:
    """The state node of version ``seq``: ``seq`` for a change that makes a new state; for an
    undo, redo or revert, the node of the state it brings the data back to."""
    if op not in (_UNDO, _REDO, _REVERT):
        return seq
    try:
        params = json.loads(params_text) if params_text else {}
        if op == _UNDO:
            target = int(params["undoes"]) - 1
        elif op == _REDO:
            target = int(params["redoes"])
        else:
            target = int(params["to"])
    except (KeyError, TypeError, ValueError):
        return seq
    return nodes[target] if 0 <= target < seq else seq


def _lineage(nodes: list[int], version: int) -> set[int]:
    """The state nodes the data at ``version`` is made from (its own included)."""
    out = set()
    x = nodes[version]
    while True:
        out.add(x)
        if x == 0:
            return out
        x = nodes[x - 1]


Slot = dict[str, ReviewEvent]


class _Log:
    """What one History handle has read of its review events and state nodes."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.events: list[ReviewEvent] = []
        self.last_id = 0
        self.nodes: list[int] = [0]  # nodes[v]: the state node of version v
        self.memo: dict[tuple[Any, ...], Any] = {}

    def remember(self, stamp: tuple[Any, ...], value: Any) -> Any:
        """Keep ``value`` for ``stamp`` (a bounded memo: the newest versions are asked)."""
        if len(self.memo) > 64:
            self.memo.clear()
        self.memo[stamp] = value
        return value


class ReviewState:
    """The review state recorded in one history file, read incrementally (``History``'s
    ``reviews``, ``review_ids``, ``in_effect`` and ``review_events`` are these).

    Parameters
    ----------
    store
        The history file; read through its public reads only.
    """

    def __init__(self, store: HistoryStore) -> None:
        self._store = store
        self._log = _Log()

    def _read_reviews(self, at: int | None, *, events: bool = True) -> tuple[_Log, int]:
        """The log, read up to version ``at`` (None: the head) and (``events``) the newest
        review event."""
        log = self._log
        with log.lock:
            if at is None:
                at = self._store.head
            at = int(at)
            if at < 0:
                raise ValueError(f"no version {at}")
            rows: list[Any] = []
            new: list[Any] = []
            if len(log.nodes) <= at:
                rows = self._store.select(
                    "SELECT seq, op, params FROM changes WHERE seq >= ? AND seq <= ? ORDER BY seq",
                    (len(log.nodes), at),
                )
            if events:
                new = self._store.select(_EVENTS_SQL, (log.last_id, *REVIEW_EVENTS))
            for seq, op, params in rows:
                if int(seq) != len(log.nodes):  # pragma: no cover - seqs are dense
                    break
                log.nodes.append(_node(log.nodes, int(seq), str(op), params))
            if len(log.nodes) <= at:
                raise ValueError(
                    f"no version {at}; this history has versions 0..{len(log.nodes) - 1}"
                )
            for row in new:
                log.last_id = max(log.last_id, int(row[0]))
                e = _event(row)
                if e is not None:
                    log.events.append(e)
        return log, at

    def in_effect(self, version: int, *, at: int | None = None) -> bool:
        """``History.in_effect`` (documented there)."""
        log, at = self._read_reviews(at, events=False)
        version = int(version)
        if not 0 <= version <= at:
            return False
        with log.lock:
            stamp = ("lineage", at, len(log.nodes))
            lineage = log.memo.get(stamp)
            if lineage is None:
                lineage = log.remember(stamp, _lineage(log.nodes, at))
            return log.nodes[version] in lineage

    def _effective(self, at: int | None) -> tuple[list[ReviewEvent], int]:
        """The review events in effect at ``at``, oldest first."""
        log, at = self._read_reviews(at)
        with log.lock:
            stamp = ("effective", at, log.last_id)
            hit = log.memo.get(stamp)
            if hit is None:
                lineage = _lineage(log.nodes, at) if log.events else set()
                hit = log.remember(
                    stamp,
                    [e for e in log.events if e.version <= at and log.nodes[e.version] in lineage],
                )
            return hit, at

    def _slots(self, key: FindingsKey | None, at: int | None) -> dict[Any, dict[int, Slot]]:
        """Per findings (their key; all recorded ones when ``key`` is None) and sample id: the
        event that set each state in effect."""
        events, at = self._effective(at)
        log = self._log
        stamp = ("slots", at, log.last_id, key)
        with log.lock:
            hit = log.memo.get(stamp)
        if hit is not None:
            return hit
        out: dict[Any, dict[int, Slot]] = {}
        for e in events:
            if key is not None and not e.matches(key):
                continue
            per = out.setdefault(key if key is not None else e.findings, {})
            for sid in e.ids:
                slot = per.setdefault(sid, {})
                if e.on:
                    slot[e.state] = e
                else:
                    slot.pop(e.state, None)
        for per in out.values():
            for sid in [s for s, slot in per.items() if not slot]:
                del per[sid]
        with log.lock:
            log.remember(stamp, out)
        return out

    def review_ids(
        self, findings: Any, state: str = "reviewed", *, at: int | None = None
    ) -> frozenset[int]:
        """``History.review_ids`` (documented there)."""
        if state not in REVIEW_STATES:
            raise ValueError(f"state must be one of {REVIEW_STATES}; got {state!r}")
        key = findings_key(findings)
        per = self._slots(key, at).get(key, {})
        return frozenset(sid for sid, slot in per.items() if state in slot)

    def reviews(self, findings: Any = None, *, at: int | None = None) -> pd.DataFrame:
        """``History.reviews`` (documented there)."""
        key = None if findings is None else findings_key(findings)
        rows: list[tuple[Any, ...]] = []
        index: list[int] = []
        for k, per in self._slots(key, at).items():
            text = (
                str(k) if isinstance(k, FindingsKey) else str(FindingsKey(k[0], k[1] or "*", k[2]))
            )
            for sid in sorted(per):
                slot = per[sid]
                state = "kept" if "kept" in slot else "reviewed"
                e = slot[state]
                index.append(sid)
                rows.append(
                    (
                        text,
                        state,
                        "kept" in slot,
                        "reviewed" in slot,
                        e.version,
                        e.ts,
                        e.source,
                        e.widget,
                        e.cell_id,
                        e.execution_count,
                        e.id,
                    )
                )
        frame = (
            pd.DataFrame.from_records(rows, columns=_COLUMNS)
            if rows
            else pd.DataFrame({c: pd.Series(dtype=object) for c in _COLUMNS})
        )
        frame["kept"] = frame["kept"].astype(bool)
        frame["reviewed"] = frame["reviewed"].astype(bool)
        frame["version"] = frame["version"].astype(np.int64)
        frame["event"] = frame["event"].astype(np.int64)
        frame["timestamp"] = pd.to_datetime(
            frame["timestamp"].astype(np.int64), unit="ms", utc=True
        )
        frame["execution_count"] = pd.array(list(frame["execution_count"]), dtype="Int64")
        frame.index = pd.Index(index, name="sample_id", dtype=np.int64)
        return frame

    def review_events(self, *, at: int | None = None) -> pd.DataFrame:
        """``History.review_events`` (documented there)."""
        effective, at = self._effective(at)
        live = {e.id for e in effective}
        log = self._log
        with log.lock:
            events = list(log.events)
        index = pd.Index([e.id for e in events], name="event", dtype=np.int64)

        def objects(values: list[Any]) -> pd.Series:
            return pd.Series(values, index=index, dtype=object)

        return pd.DataFrame(
            {
                "op": [e.op for e in events],
                "state": [e.state for e in events],
                "undo": [not e.on for e in events],
                "findings": [e.key_text for e in events],
                "findings_op": [e.findings[0] for e in events],
                "findings_params": [e.findings[1] for e in events],
                "findings_version": pd.array([e.findings[2] for e in events], dtype="Int64"),
                "ids": objects([list(e.ids) for e in events]),
                "version": np.array([e.version for e in events], dtype=np.int64),
                "in_effect": np.array([e.id in live for e in events], dtype=bool),
                "timestamp": pd.to_datetime(
                    np.array([e.ts for e in events], dtype=np.int64), unit="ms", utc=True
                ),
                "source": [e.source for e in events],
                "widget": objects([e.widget for e in events]),
                "cell_id": objects([e.cell_id for e in events]),
                "execution_count": pd.array([e.execution_count for e in events], dtype="Int64"),
            },
            index=index,
        )
