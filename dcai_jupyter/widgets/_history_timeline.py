"""The timeline of the HistoryView: an anywidget paged from the kernel, one entry per
iteration (a cell run or a widget session) with its operations and row counts, source,
time and metrics, newest first, so a history of 10,000 changes never ships at once; it
selects an iteration and reverts to one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import traitlets as t

from ._base import MISSING_FRONT_END, DatasetWidget, static_asset
from ._history_summary import HistorySummary
from ._protocol import ProtocolError

__all__ = ["HistoryTimeline"]

#: entries per timeline page (the browser asks for at most MAX_PAGE)
PAGE = 50
MAX_PAGE = 200


class HistoryTimeline(DatasetWidget):
    """The timeline part of :class:`HistoryView` (an anywidget paged from the kernel).

    Requests: ``{"type": "page", "offset", "limit"}`` (newest first), ``{"type": "select",
    "iteration"}``, ``{"type": "select_version", "version"}`` (a click on a chart mark),
    ``{"type": "revert", "iteration"}``, ``{"type": "code", "iteration"}``.
    """

    _esm = static_asset("history_view.js", MISSING_FRONT_END)
    _css = static_asset("widgets.css", "")
    _widget_name = "HistoryView"

    n_iterations = t.Int(0, help="Iterations, the base data included").tag(sync=True)
    selected = t.Int(-1, help="The selected iteration (-1: none)").tag(sync=True)
    page_size = t.Int(PAGE).tag(sync=True)
    preview_text = t.Unicode("", help="What the preview shows").tag(sync=True)
    last_action = t.Unicode("", help="The last revert done from this view").tag(sync=True)

    def __init__(self, ds: Any, *, on_select: Callable[[int], None] | None = None) -> None:
        self._summary_lock = threading.Lock()
        self._summary: HistorySummary | None = None
        self._on_select = on_select
        summary = self._get_summary(ds)
        super().__init__(ds, n_iterations=len(summary))

    def _rebind(self, old: Any, new: Any) -> None:
        with self._summary_lock:
            self._summary = None  # read again from the newer Dataset

    def _get_summary(self, ds: Any | None = None) -> HistorySummary:
        ds = ds if ds is not None else self._ds
        with self._summary_lock:
            s = self._summary
            if s is None:
                s = self._summary = HistorySummary(ds)
            elif s.version != int(ds.version):
                s.update(ds)  # reads only the changes since the last update
            return s

    @property
    def summary(self) -> HistorySummary:
        return self._get_summary()

    def _on_change(self, change: Any) -> None:
        n = len(self._get_summary())
        if self.n_iterations != n:
            self.n_iterations = n

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "page": self._on_page,
            "select": self._on_select_msg,
            "select_version": self._on_select_version,
            "revert": self._on_revert,
            "code": self._on_code,
        }

    @staticmethod
    def _int(msg: dict[str, Any], key: str, default: int | None = None) -> int:
        v = msg.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int):
            raise ProtocolError(f"malformed request: {key} must be an integer, got {v!r}")
        return v

    def _on_page(self, msg: dict[str, Any]) -> dict[str, Any]:
        offset = self._int(msg, "offset", 0)
        limit = self._int(msg, "limit", PAGE)
        if offset < 0 or not 1 <= limit <= MAX_PAGE:
            raise ProtocolError(f"malformed request: offset >= 0 and limit 1..{MAX_PAGE}")
        s = self._get_summary()
        return {
            "type": "page",
            "version": s.version,
            "offset": offset,
            "total": len(s),
            "items": s.page(offset, limit),
        }

    def _on_select_msg(self, msg: dict[str, Any]) -> dict[str, Any]:
        k = self._int(msg, "iteration")
        self.summary.entry(k)  # ProtocolError for an unknown iteration
        self.select(k)
        return {"type": "ok", "op": "select", "iteration": k, "preview": self.preview_text}

    def _on_select_version(self, msg: dict[str, Any]) -> dict[str, Any]:
        v = self._int(msg, "version")
        s = self.summary
        if not 0 <= v < len(s.owner):
            raise ProtocolError(f"no iteration holds version {v} (versions 0..{s.version})")
        k = int(s.owner[v])
        self.select(k)
        return {"type": "ok", "op": "select", "iteration": k, "preview": self.preview_text}

    def select(self, iteration: int) -> None:
        """Select ``iteration`` (0 = the base data): the view previews its diff."""
        self.summary.entry(iteration)
        with self._lock:
            self.selected = int(iteration)
        if self._on_select is not None:
            self._on_select(int(iteration))

    def set_preview_text(self, text: str) -> None:
        """Say what the preview shows (the view does when an iteration is selected)."""
        with self._lock:
            self.preview_text = text

    def _on_revert(self, msg: dict[str, Any]) -> dict[str, Any]:
        k = self._int(msg, "iteration")
        e = self.summary.entry(k)
        with self._widget_source():
            version = self._ds.revert_to(e["last"], reason=f"HistoryView: revert to iteration {k}")
        text = f"reverted to iteration {k} (version {e['last']}) as version {version}"
        with self._lock:
            self.last_action = text
        return {"type": "ok", "op": "revert", "version": int(version), "iteration": k, "text": text}

    def _on_code(self, msg: dict[str, Any]) -> dict[str, Any]:
        k = self._int(msg, "iteration")
        return {
            "type": "ok",
            "op": "code",
            "iteration": k,
            "code": self.summary.entry(k).get("code"),
        }
