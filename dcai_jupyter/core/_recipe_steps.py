"""The core side of recipe replay: recorded changes in effect, row content hashes, old states.

Recipe replay itself needs the operation registry (``dcai_jupyter.ops._recipe``); what it
reads from a history and how it compares rows needs only core, and lives here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._history import REDO, UNDO, History
from ._table import Table

__all__ = [
    "REVERT",
    "RecordedChange",
    "StateWalker",
    "effective_changes",
    "recorded_changes",
    "row_hashes",
]

#: the op of ``ds.revert_to(v)``
REVERT = "revert"


@dataclass(frozen=True)
class RecordedChange:
    """One recorded change: its version (``seq``), op name, params and exact deltas."""

    seq: int
    op: str
    params: dict[str, Any]
    deltas: list[dict[str, Any]]


def recorded_changes(h: History) -> list[RecordedChange]:
    """Every recorded change of ``h``, oldest first."""
    head = h.head
    if not head:
        return []
    ops = h.store.ops()
    deltas = h.store.deltas(1, head)
    return [
        RecordedChange(seq, op, params or {}, d)
        for (seq, op, params), d in zip(ops, deltas, strict=True)
    ]


def effective_changes(changes: Sequence[RecordedChange]) -> tuple[list[int], dict[int, str]]:
    """The versions still in effect at the head, in order, and why each other one is not.

    Undo, redo and revert are followed: an undone or reverted change is not in effect (nor
    are the undo/redo/revert changes themselves); undoing a revert brings back what it
    reverted; a redo puts the redone change back.
    """
    by_seq = {c.seq: c for c in changes}
    alive: dict[int, None] = {}
    why: dict[int, str] = {}
    cancelled_by: dict[int, list[int]] = {}

    def revert(seq: int, to: int) -> None:
        gone = [s for s in alive if to < s < seq]
        for s in gone:
            del alive[s]
            why[s] = f"reverted in the history (v{seq} went back to v{to})"
        cancelled_by[seq] = gone
        why[seq] = f"revert to v{to}: the changes it reverted are left out"

    for c in changes:
        if c.op == UNDO:
            target = int(c.params.get("undoes", -1))
            why[c.seq] = f"undo of v{target}: the change it undid is left out too"
            if target in alive:
                del alive[target]
                why[target] = f"undone in the history (v{c.seq})"
            for s in cancelled_by.pop(target, []):  # undoing a revert brings its changes back
                alive[s] = None
                why.pop(s, None)
            if target in by_seq and by_seq[target].op == REVERT:
                why[target] = f"revert to v{by_seq[target].params.get('to', 0)}, undone (v{c.seq})"
        elif c.op == REDO:
            target = int(c.params.get("redoes", -1))
            why[c.seq] = f"redo of v{target}: that change is replayed in its place"
            t = by_seq.get(target)
            if t is not None and t.op == REVERT:
                revert(target, int(t.params.get("to", 0)))
            else:
                alive[target] = None
                why.pop(target, None)
        elif c.op == REVERT:
            revert(c.seq, int(c.params.get("to", 0)))
        else:
            alive[c.seq] = None
    return sorted(alive), why


def row_hashes(frame: pd.DataFrame, label: str) -> dict[int, tuple[int, int]]:
    """Per sample id (the frame's index): (hash of the non-label columns, hash of the label).

    The same hashes the dataset fingerprint is built from: equal values, equal hashes,
    whatever the row order; column names are part of the hash.
    """
    if len(frame) == 0:
        return {}
    t = Table.from_frame(frame, label)
    t.rehash()
    assert t.rest is not None and t.label_h is not None
    return {
        int(i): (int(r), int(lab))
        for i, r, lab in zip(t.ids.tolist(), t.rest.tolist(), t.label_h.tolist(), strict=True)
    }


class StateWalker:
    """A dataset state walked forward change by change (the old data during a recipe replay).

    Parameters
    ----------
    base
        The data at version 0.
    label
        The label column.
    """

    def __init__(self, base: pd.DataFrame, label: str) -> None:
        self._t = Table.from_frame(base, label)

    def rows(self, ids: Sequence[int]) -> pd.DataFrame:
        """The rows ``ids`` as they are now (KeyError for ids not present)."""
        return self._t.frame(self._t.positions(np.asarray(list(ids), dtype=np.int64)))

    def has(self, ids: Sequence[int]) -> np.ndarray:
        """Which of ``ids`` are present now (a boolean array)."""
        return np.isin(np.asarray(list(ids), dtype=np.int64), self._t.ids)

    def advance(self, change: RecordedChange) -> None:
        """Apply one recorded change."""
        for d in change.deltas:
            self._t.apply_delta(d)
