"""The HistoryView's preview: the rows one iteration touched, as a read-only grid.

Selecting an iteration shows its diff against the version before it: the rows it touched
as they were at its end (rows it removed as they were before), with what changed in a
``change`` column, in a :class:`SampleGrid` that pages like any other and refuses edits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..core import Dataset as CoreDataset
from ..core import Findings
from ._grid import SampleGrid
from ._protocol import ProtocolError

__all__ = ["PREVIEW_ROWS", "preview_grid", "rows_at"]

#: rows of the preview grid
PREVIEW_ROWS = 2000


def preview_grid(ds: Any, d: Any, height: int) -> tuple[SampleGrid | None, str]:
    """A read-only grid of the rows the diff ``d`` touched, as they were at its end (removed
    rows as they were before) with the change in a ``change`` column, and a note when it
    shows only the first ``PREVIEW_ROWS``; ``(None, "")`` when nothing changed."""
    summary = d.summary()
    if len(summary) == 0:
        return None, ""
    note = ""
    if len(summary) > PREVIEW_ROWS:
        note = f" (preview shows the first {PREVIEW_ROWS} of {len(summary)} rows)"
        summary = summary.iloc[:PREVIEW_ROWS]
    ids = summary.index.to_numpy()
    frame = rows_at(ds, ids, d)
    change = []
    for _, r in summary.iterrows():
        words = []
        for kind in r["change"].split("+"):
            if kind == "relabeled":
                words.append(f"relabeled {r['old_label']} → {r['new_label']}")
            elif kind == "modified":
                words.append("modified " + ", ".join(r["columns"]))
            else:
                words.append(kind)
        change.append("; ".join(words))
    findings_frame = pd.DataFrame(
        {"change": change, "score": np.ones(len(ids)), "flag": np.ones(len(ids), dtype=bool)},
        index=pd.Index(ids, name=frame.index.name),
    )
    preview_ds = CoreDataset(
        frame,
        label=ds.label,
        features=[c for c in ds.feature_columns if c in frame.columns],
        image=ds.image_column,
        text=ds.text_column,
    )
    findings = Findings(
        findings_frame,
        op="history_diff",
        roles={"score": "score", "flag": "flag", "reason": "change"},
        action="review",
        version=d.b,
    )
    return _PreviewGrid(preview_ds, findings=findings, height=height), note


def rows_at(ds: Any, ids: np.ndarray, d: Any) -> pd.DataFrame:
    """Rows ``ids`` as they were at version ``d.b`` (rows gone by then: as at ``d.a``).

    Read from the current rows and the diff back to ``d.b`` (no checkout of the whole data:
    its cost follows the rows touched since, not the dataset size).
    """
    back = ds.history.diff(ds.version, d.b)  # what going back to b changes
    now = set(np.asarray(ds.ids).tolist())
    at_b_only = set(back.added.index.tolist())  # rows that existed at b, gone now
    cur_ids = [int(i) for i in ids if int(i) in now and int(i) not in set(back.removed.index)]
    parts = []
    if cur_ids:
        cur = ds.take(cur_ids)
        for i, new in zip(back.relabeled.index, back.relabeled["new"], strict=True):
            if i in cur.index:
                cur.at[i, ds.label] = new
        for i, c, new in zip(
            back.modified["sample_id"], back.modified["column"], back.modified["new"], strict=True
        ):
            if i in cur.index:
                cur.at[i, c] = new
        parts.append(cur)
    old_ids = [int(i) for i in ids if int(i) in at_b_only]
    if old_ids:
        parts.append(back.added.loc[old_ids])
    gone = [int(i) for i in ids if int(i) not in set(cur_ids) | set(old_ids)]
    if gone:
        parts.append(d.removed.loc[[i for i in gone if i in d.removed.index]])
    frame = pd.concat(parts) if len(parts) > 1 else parts[0]
    return frame.loc[[i for i in ids.tolist() if i in frame.index]]


class _PreviewGrid(SampleGrid):
    """A SampleGrid of a diff preview: paging only, every edit refused with what to do."""

    _widget_name = "HistoryPreview"

    def _handlers(self) -> dict[str, Any]:
        handlers = dict(super()._handlers())

        def refuse(msg: dict[str, Any]) -> dict[str, Any]:
            raise ProtocolError(
                "this is a read-only preview of a past version: edit the dataset in its own "
                "grid or editor, or use 'Revert to here'"
            )

        return {k: (v if k == "page" else refuse) for k, v in handlers.items()}
