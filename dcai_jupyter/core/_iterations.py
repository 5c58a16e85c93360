"""Iterations: which cell execution or widget session made each change, read incrementally.

An iteration is every change recorded under one provenance (one cell execution, or one
widget session between two cell runs), numbered 1, 2, ... by its first change. Two
iterations may interleave (a widget edited while a cell ran): each change belongs to
exactly one. :class:`IterationLog` is the one answer to "which iteration made this
change" for ``History.iterations``, the HistoryView, the side panel's server extension
and the CLI. It reads a history incrementally: ``refresh()`` reads only the changes
recorded since the last call, so following a growing history costs time in proportion
to the new changes, not to the whole history.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

__all__ = ["ChangeSource", "Iteration", "IterationLog"]


class ChangeSource(Protocol):
    """What the log reads: ``History`` has both (a protocol, so this file needs no History)."""

    def change_summaries(self, *, after: int = 0) -> list[tuple[int, str, int, int, int]]: ...

    def provenance(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]: ...


@dataclass
class Iteration:
    """One iteration: where it came from, its versions and what it did, per operation.

    ``ops`` maps each op name to ``[changes, rows touched]`` in the order the op first
    appeared in the iteration.
    """

    number: int
    prov: int
    source: str
    execution_count: int | None
    cell_id: str | None
    widget: str | None
    code: str | None
    first_version: int
    last_version: int
    n_changes: int = 0
    rows_touched: int = 0
    ops: dict[str, list[int]] = field(default_factory=dict)
    started_ms: int = 0
    ended_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "iteration": self.number,
            "source": self.source,
            "execution_count": self.execution_count,
            "cell_id": self.cell_id,
            "widget": self.widget,
            "code": self.code,
            "first_version": self.first_version,
            "last_version": self.last_version,
            "n_changes": self.n_changes,
            "rows_touched": self.rows_touched,
            "ops": {k: list(v) for k, v in self.ops.items()},
            "started_ms": self.started_ms,
            "ended_ms": self.ended_ms,
        }


class IterationLog:
    """The iterations of a history, kept up to date by reading only what is new.

    Parameters
    ----------
    history
        The history to follow (a live dataset's, or ``open_history(path)``).
    """

    def __init__(self, history: ChangeSource) -> None:
        self._h = history
        self._lock = threading.Lock()
        self._seen = 0
        self._by_prov: dict[int, Iteration] = {}
        self._list: list[Iteration] = []
        self._owner: list[int] = [0]  # iteration number per version (0: the base)
        self._ops: list[str] = [""]  # op per version (none for the base)

    @property
    def head(self) -> int:
        """The newest version read so far."""
        return self._seen

    def refresh(self, source: ChangeSource | None = None) -> list[int]:
        """Read the changes recorded since the last call.

        Parameters
        ----------
        source
            Read from this (e.g. the same history file opened anew) from now on.

        Returns
        -------
        list of int
            The numbers of the iterations that are new or grew (empty when nothing did).
        """
        with self._lock:
            if source is not None:
                self._h = source
            rows = self._h.change_summaries(after=self._seen)
            if rows and rows[0][0] != self._seen + 1:
                # the file is not the one read before (set aside and begun anew): start over
                self._seen, self._by_prov, self._list = 0, {}, []
                self._owner, self._ops = [0], [""]
                rows = self._h.change_summaries(after=0)
            if not rows:
                return []
            unknown = sorted({int(r[3]) for r in rows} - set(self._by_prov))
            prov = self._h.provenance(unknown) if unknown else {}
            touched: dict[int, None] = {}
            for seq, op, n_rows, pid, ts in rows:
                it = self._by_prov.get(pid)
                if it is None:
                    p = prov.get(pid, {})
                    it = Iteration(
                        number=len(self._list) + 1,
                        prov=pid,
                        source=str(p.get("source") or "api"),
                        execution_count=p.get("execution_count"),
                        cell_id=p.get("cell_id"),
                        widget=p.get("widget"),
                        code=p.get("code"),
                        first_version=seq,
                        last_version=seq,
                        started_ms=ts,
                        ended_ms=ts,
                    )
                    self._by_prov[pid] = it
                    self._list.append(it)
                it.last_version = seq
                it.n_changes += 1
                it.rows_touched += n_rows
                counts = it.ops.setdefault(op, [0, 0])
                counts[0] += 1
                counts[1] += n_rows
                it.started_ms = min(it.started_ms, ts)
                it.ended_ms = max(it.ended_ms, ts)
                self._owner.append(it.number)
                self._ops.append(op)
                touched[it.number] = None
            self._seen = int(rows[-1][0])
            return list(touched)

    @property
    def iterations(self) -> list[Iteration]:
        """Every iteration read so far, oldest first (call ``refresh()`` to follow)."""
        return list(self._list)

    def owners(self) -> np.ndarray:
        """The iteration number of every version read so far (index = version; 0: base)."""
        return np.asarray(self._owner, dtype=np.int64)

    def ops(self, first: int, last: int) -> list[str]:
        """The op of every version ``first .. last`` read so far (inclusive)."""
        return self._ops[max(first, 1) : last + 1]

    def iteration_of(self, version: int) -> int:
        """The iteration that made ``version`` (0 for the base data)."""
        if not 0 <= version < len(self._owner):
            raise IndexError(f"no version {version}; read so far: 0..{len(self._owner) - 1}")
        return self._owner[version]

    def frame(self) -> pd.DataFrame:
        """The iterations as ``History.iterations`` shows them, indexed by iteration."""
        cols = [
            "source",
            "execution_count",
            "cell_id",
            "widget",
            "first_version",
            "last_version",
            "n_changes",
            "rows_touched",
            "ops",
            "op_counts",
            "started",
            "ended",
            "code",
        ]
        its = self._list
        df = pd.DataFrame(
            {
                "source": [i.source for i in its],
                "execution_count": pd.array([i.execution_count for i in its], dtype="Int64"),
                "cell_id": pd.Series([i.cell_id for i in its], dtype=object),
                "widget": pd.Series([i.widget for i in its], dtype=object),
                "first_version": np.asarray([i.first_version for i in its], dtype=np.int64),
                "last_version": np.asarray([i.last_version for i in its], dtype=np.int64),
                "n_changes": np.asarray([i.n_changes for i in its], dtype=np.int64),
                "rows_touched": np.asarray([i.rows_touched for i in its], dtype=np.int64),
                "ops": [",".join(i.ops) for i in its],
                "op_counts": [{k: v[0] for k, v in i.ops.items()} for i in its],
                "started": pd.to_datetime([i.started_ms for i in its], unit="ms", utc=True),
                "ended": pd.to_datetime([i.ended_ms for i in its], unit="ms", utc=True),
                "code": pd.Series([i.code for i in its], dtype=object),
            },
            columns=cols,
        )
        df.index = pd.Index(np.arange(1, len(its) + 1, dtype=np.int64), name="iteration")
        return df
