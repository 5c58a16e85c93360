"""LabelEditor: a keyboard-driven review queue of (suspected) label issues."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import traitlets as t

from ._base import MISSING_FRONT_END, DatasetWidget, static_asset
from ._images import image_data_url
from ._protocol import ID_COLUMN, ProtocolError, is_null_scalar, json_scalar, normalize_issues

__all__ = ["LabelEditor"]

#: side of the large image shown for the current sample (smaller images are scaled in CSS)
EDITOR_IMAGE_SIZE = 320
#: feature values shown beside the sample
EDITOR_FIELDS = 8


@dataclass
class _Decision:
    action: str  # "accept" | "label" | "remove"
    sample_id: int
    before: Any
    after: Any
    version_after: int | None  # None when the decision changed nothing in the dataset


class LabelEditor(DatasetWidget):
    """Review queue: one sample at a time, large, with its given and suggested label.

    The queue holds the flagged issues, most suspicious (lowest ``label_quality``) first, or
    every row when no issues are given. Keys (click the widget first): Enter accepts the
    suggestion, 1-9 pick a class by index (0 = tenth class), Delete removes the sample,
    ArrowRight/j and ArrowLeft/k move, s skips, u undoes the last decision. Each decision is a
    ``Dataset`` call (``relabel``/``remove``/``undo``) recorded with source ``widget``.

    Parameters
    ----------
    ds : Dataset
        The dataset to review.
    issues : pd.DataFrame, optional
        Label issues indexed by sample id (``suggested_label``, ``label_quality``,
        ``is_issue``), e.g. from ``find_label_issues``.

    Attributes
    ----------
    position : int
        Index of the current sample in the queue (``total`` when done).
    reviewed : int
        Number of queue entries decided.
    """

    _esm = static_asset("editor.js", MISSING_FRONT_END)
    _css = static_asset("widgets.css", "")
    _widget_name = "LabelEditor"

    total = t.Int(0, help="Length of the review queue").tag(sync=True)
    position = t.Int(0, help="Current index in the queue").tag(sync=True)
    reviewed = t.Int(0, help="Queue entries decided").tag(sync=True)
    has_suggestions = t.Bool(False).tag(sync=True)
    image_column = t.Unicode("").tag(sync=True)
    text_column = t.Unicode("").tag(sync=True)

    def __init__(self, ds: Any, issues: Any = None) -> None:
        frame = normalize_issues(issues)
        self._issues = frame
        if frame is None:
            queue = np.asarray(ds.ids)
        else:
            flagged = frame[frame["is_issue"].eq(True)]
            if "label_quality" in flagged.columns:
                flagged = flagged.sort_values("label_quality", kind="stable", na_position="last")
            queue = flagged.index.to_numpy(dtype=np.int64)
        self._queue = queue
        self._decisions: dict[int, _Decision] = {}
        self._undo_stack: list[int] = []
        self._state_lock = threading.RLock()
        super().__init__(
            ds,
            total=len(queue),
            has_suggestions=frame is not None and "suggested_label" in frame.columns,
            image_column=str(getattr(ds, "image_column", None) or ""),
            text_column=str(getattr(ds, "text_column", None) or ""),
        )

    @property
    def queue(self) -> np.ndarray:
        """Sample ids in review order."""
        return self._queue

    @property
    def decisions(self) -> pd.DataFrame:
        """Decisions taken in this editor: one row per queue entry decided."""
        with self._state_lock:
            rows = [
                {
                    "index": i,
                    ID_COLUMN: d.sample_id,
                    "action": d.action,
                    "before": d.before,
                    "after": d.after,
                    "version": d.version_after,
                }
                for i, d in sorted(self._decisions.items())
            ]
        return pd.DataFrame(
            rows, columns=["index", ID_COLUMN, "action", "before", "after", "version"]
        )

    # -- helpers -----------------------------------------------------------------------
    def _handlers(self) -> dict[str, Any]:
        return {
            "item": self._on_item,
            "decide": self._on_decide,
            "move": self._on_move,
            "undo": self._on_undo,
        }

    def _index(self, msg: dict[str, Any], name: str = "index") -> int:
        value = msg.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProtocolError(f"malformed request: {name!r} must be an integer, got {value!r}")
        return value

    def _current_label(self, sid: int) -> tuple[bool, Any]:
        """(present, label) of a sample in the current dataset."""
        try:
            pos = int(np.asarray(self._ds.positions([sid]))[0])
        except KeyError:
            return False, None
        return True, np.asarray(self._ds.column(self._ds.label))[pos]

    def _issue_value(self, sid: int, column: str) -> Any:
        frame = self._issues
        if frame is None or column not in frame.columns or sid not in frame.index:
            return None
        value = frame.at[sid, column]
        return None if is_null_scalar(value) else value

    # -- requests ----------------------------------------------------------------------
    def _on_item(self, msg: dict[str, Any]) -> dict[str, Any]:
        index = self._index(msg)
        total = len(self._queue)
        if index < 0:
            raise ProtocolError(f"malformed request: index must be >= 0, got {index}")
        base: dict[str, Any] = {"type": "item", "index": index, "total": total}
        if index >= total:
            return {**base, "version": int(self._ds.version), "done": True}
        sid = int(self._queue[index])
        for _ in range(5):
            version = int(self._ds.version)
            item = self._item(sid)
            if int(self._ds.version) == version:
                break
        with self._state_lock:
            decision = self._decisions.get(index)
        return {
            **base,
            **item,
            "version": version,
            "done": False,
            "decision": None
            if decision is None
            else {"action": decision.action, "label": json_scalar(decision.after)},
        }

    def _item(self, sid: int) -> dict[str, Any]:
        ds = self._ds
        present, given = self._current_label(sid)
        item: dict[str, Any] = {
            "id": sid,
            "present": present,
            "given": json_scalar(given if present else self._issue_value(sid, "given_label")),
            "suggested": json_scalar(self._issue_value(sid, "suggested_label")),
            "quality": json_scalar(self._issue_value(sid, "label_quality")),
            "image": None,
            "text": None,
            "fields": [],
        }
        if not present:
            return item
        row = ds.take([sid])
        if self.image_column and self.image_column in row.columns:
            item["image"] = image_data_url(row.iloc[0][self.image_column], EDITOR_IMAGE_SIZE)
        if self.text_column and self.text_column in row.columns:
            item["text"] = json_scalar(row.iloc[0][self.text_column], clamp=20_000)
        skip = {self.image_column, self.text_column, ds.label}
        fields = [c for c in ds.feature_columns if c not in skip and c in row.columns]
        item["fields"] = [
            [str(c), json_scalar(row.iloc[0][c], clamp=200)] for c in fields[:EDITOR_FIELDS]
        ]
        return item

    def _on_decide(self, msg: dict[str, Any]) -> dict[str, Any]:
        with self._state_lock:
            index = self._index(msg)
            if not 0 <= index < len(self._queue):
                raise ProtocolError(
                    f"index {index} is outside the queue (0..{len(self._queue) - 1})"
                )
            sid = int(self._queue[index])
            if "id" in msg and msg["id"] != sid:
                raise ProtocolError(
                    f"queue entry {index} is sample {sid}, not {msg['id']!r}: reload the editor"
                )
            action = msg.get("action")
            if action not in ("accept", "label", "remove"):
                raise ProtocolError(f"malformed request: unknown action {action!r}")
            present, current = self._current_label(sid)
            if not present:
                raise ProtocolError(f"sample {sid} is no longer in the dataset")
            version_after: int | None = None
            if action == "remove":
                with self._widget_source():
                    version_after = int(self._ds.remove([sid], reason="LabelEditor: remove"))
                target = None
            else:
                if action == "accept":
                    suggested = self._issue_value(sid, "suggested_label")
                    if suggested is None:
                        raise ProtocolError(f"sample {sid} has no suggested label")
                    target = self._match_class(json_scalar(suggested))
                else:
                    if "label" not in msg:
                        raise ProtocolError("malformed request: a label decision needs a label")
                    target = self._match_class(msg["label"])
                if not _same_label(target, current):
                    reason = (
                        f"LabelEditor: {'accept suggestion' if action == 'accept' else 'relabel'}"
                    )
                    with self._widget_source():
                        version_after = int(self._ds.relabel([sid], [target], reason=reason))
            self._decisions[index] = _Decision(action, sid, current, target, version_after)
            if index in self._undo_stack:
                self._undo_stack.remove(index)
            self._undo_stack.append(index)
            with self._lock:
                self.reviewed = len(self._decisions)
                self.position = min(index + 1, len(self._queue))
            return {
                "type": "ok",
                "op": action,
                "id": sid,
                "version": int(self._ds.version),
                "position": self.position,
                "reviewed": self.reviewed,
                "changed": version_after is not None,
            }

    def _on_move(self, msg: dict[str, Any]) -> dict[str, Any]:
        to = self._index(msg, "to")
        with self._state_lock, self._lock:
            self.position = max(0, min(to, len(self._queue)))
            return {
                "type": "ok",
                "op": "move",
                "position": self.position,
                "version": int(self._ds.version),
            }

    def _on_undo(self, msg: dict[str, Any]) -> dict[str, Any]:
        with self._state_lock:
            if not self._undo_stack:
                raise ProtocolError("nothing to undo in this editor")
            index = self._undo_stack[-1]
            decision = self._decisions[index]
            if decision.version_after is not None:
                now = int(self._ds.version)
                if now != decision.version_after:
                    raise ProtocolError(
                        f"the dataset changed after that decision (v{decision.version_after} -> "
                        f"v{now}): undo it from a cell with ds.undo()"
                    )
                with self._widget_source():
                    self._ds.undo()
            self._undo_stack.pop()
            del self._decisions[index]
            with self._lock:
                self.reviewed = len(self._decisions)
                self.position = index
            return {
                "type": "ok",
                "op": "undo",
                "id": decision.sample_id,
                "version": int(self._ds.version),
                "position": index,
                "reviewed": self.reviewed,
            }


def _same_label(a: Any, b: Any) -> bool:
    if is_null_scalar(a) or is_null_scalar(b):
        return is_null_scalar(a) and is_null_scalar(b)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
