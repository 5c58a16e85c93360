"""A dataset's review state: record a decision on findings, read the state at its version.

The Dataset side of :mod:`dcai_jupyter.core._reviews` (where the events are read): a base
class of ``Dataset`` that records review events in the dataset's history and tells the
views that follow it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from ._history import History
from ._reviews import findings_key, review_op

__all__ = ["DatasetReviews", "ReviewObserver"]

ReviewObserver = Callable[[Any, dict[str, Any]], None]


class DatasetReviews:
    """``Dataset``'s review state: record a decision, read the state at the current version."""

    _history: History
    _lock: Any
    _version: int

    def record_review(
        self,
        findings: Any,
        ids: Iterable[int],
        state: str = "reviewed",
        *,
        undo: bool = False,
        reason: str | None = None,
    ) -> int:
        """Record that the samples ``ids`` of ``findings`` were kept (``state="kept"``) or
        reviewed (``"reviewed"``), or with ``undo=True`` that this is taken back.

        One event (``mark_kept``, ``mark_reviewed``, ``unmark_kept``, ``unmark_reviewed``)
        with the findings' key, the ids whose state changes, the dataset version and where
        the call came from; no data changes (``ds.undo()`` does not take it back: record
        ``undo=True``). Every view of the dataset follows. Nothing is recorded when no
        sample's state changes.

        Returns
        -------
        int
            The number of samples whose state changed.
        """
        op = review_op(state, undo=undo)
        key = findings_key(findings)
        wanted = sorted({int(i) for i in ids})
        with self._lock:
            current = self._history.review_ids(key, state, at=self._version)
            todo = [i for i in wanted if (i in current) == undo]
            if not todo:
                return 0
            params: dict[str, Any] = {
                "findings": key.op,
                "findings_params": key.params,
                "findings_version": key.version,
                "ids": todo,
            }
            if reason is not None:
                params["reason"] = str(reason)
            event = self._history.record_event(op, params, {"n": len(todo)})
            note = {
                "op": op,
                "state": state,
                "undo": undo,
                "findings": key,
                "ids": todo,
                "version": self._version,
                "event": event,
            }
            observers = list(self.__dict__.get("_review_observers", ()))
        for cb in observers:
            try:
                cb(self, note)
            except Exception as e:  # a view must not break the decision
                import warnings

                warnings.warn(f"review observer {cb!r} failed: {e!r}", RuntimeWarning, stacklevel=2)
        return len(todo)

    def reviews(self, findings: Any = None) -> pd.DataFrame:
        """The review state now, by sample id: which samples of ``findings`` (every findings
        reviewed when None) are kept or marked reviewed, and when (dataset version,
        timestamp) and where (source, widget, cell) that was decided.

        Recorded in the history, so a Dataset re-created on its history file (a kernel
        restart) reads it again; findings made again with the same op, params and version
        have the same key. After ``revert_to(v)`` or ``undo()`` the reviews made on the data
        reverted are not in effect (see :mod:`dcai_jupyter.core._reviews`).
        """
        return self._history.reviews(findings, at=self._version)

    def review_ids(self, findings: Any, state: str = "reviewed") -> frozenset[int]:
        """Sample ids of ``findings`` whose ``state`` (``"kept"``/``"reviewed"``) is in effect."""
        return self._history.review_ids(findings, state, at=self._version)

    def in_effect(self, version: int) -> bool:
        """Whether the data now is made from the data as it was at ``version`` (not reverted
        or undone since)."""
        return self._history.in_effect(version, at=self._version)

    def observe_reviews(self, callback: ReviewObserver) -> None:
        """Call ``callback(dataset, note)`` after every recorded review event (on the thread
        that recorded it); ``note`` has ``op``, ``state``, ``undo``, ``findings``, ``ids``,
        ``version``, ``event``."""
        with self._lock:
            observers = self.__dict__.setdefault("_review_observers", [])
            if callback not in observers:
                observers.append(callback)

    def unobserve_reviews(self, callback: ReviewObserver) -> None:
        with self._lock:
            observers = self.__dict__.get("_review_observers", [])
            if callback in observers:
                observers.remove(callback)
