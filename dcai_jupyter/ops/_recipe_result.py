"""What a recipe replay returns (``RecipeResult``) and the frames it is made of."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..core import Findings

__all__ = ["RecipeResult", "result_frame", "review_frame", "short"]

APPLIED_COLUMNS = ["op", "kind", "version", "rows", "carried", "already", "review", "detail"]
SKIPPED_COLUMNS = ["op", "reason"]
REVIEW_COLUMNS = ["seq", "op", "sample_id", "column", "old", "new", "reason"]


@dataclass(frozen=True)
class RecipeResult:
    """The outcome of a recipe replay.

    Attributes
    ----------
    dataset
        The new data with the recipe applied; its history says it came from the recipe
        (provenance source ``recipe``, an event ``replay_recipe``).
    applied
        By recorded version (``seq``): ``op``, ``kind`` (``operation`` re-run by its
        rule, ``selection`` carried over by sample id, or ``decision`` carried over),
        ``version`` in the new history (None when nothing needed
        to change), ``rows`` changed, ``carried`` (decided rows carried over), ``already``
        (decided rows already so in the new data), ``review`` (rows of this change listed
        for review), ``detail``.
    skipped
        By recorded version: ``op`` and ``reason`` (undone, reverted, an operation that
        could not be re-run, ...).
    needs_review
        One row per decision not carried over: ``seq``, ``op``, ``sample_id``, ``column``
        (None for the label or a whole row), ``old`` -> ``new`` as decided, ``reason``.
    reviews
        The review state recorded in the history (samples a person kept or marked
        reviewed, per findings key; see ``History.reviews``), with ``in_new_data``: whether
        that sample id is in the new data. A review belongs to findings of the old data:
        it is reported here, not applied.
    findings
        By recorded version: the findings of the rule of an operation that acted on a
        selection, re-run on the new data (the selection itself is carried over by
        sample id; look here for what the rule flags now).
    content_check
        ``"rows"`` when whole rows were compared by content hash, ``"recorded values"``
        when only the values the history holds could be compared (a history file replayed
        without its base data; pass ``base=``).
    notes
        What the replay could not do as recorded, in plain sentences (a recorded column
        role for a column the new data lacks, a history that records no column roles).
    """

    dataset: Any
    applied: pd.DataFrame
    skipped: pd.DataFrame
    needs_review: pd.DataFrame
    content_check: str
    source: dict[str, Any] = field(repr=False)
    findings: dict[int, Findings] = field(default_factory=dict, repr=False)
    reviews: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    notes: list[str] = field(default_factory=list, repr=False)

    def counts(self) -> dict[str, int]:
        return {
            "applied": len(self.applied),
            "skipped": len(self.skipped),
            "needs_review": len(self.needs_review),
        }

    def accounted(self) -> set[int]:
        """Every recorded version this result accounts for (all of ``1 .. head``)."""
        out = set(self.applied.index.tolist()) | set(self.skipped.index.tolist())
        return out | set(self.needs_review["seq"].tolist())

    def report(self) -> str:
        """A short text report: what was applied, skipped (why) and needs review."""
        lines = [
            f"recipe of {self.source.get('name')!r} ({self.source.get('head')} recorded changes) "
            f"onto {self.source.get('rows', len(self.dataset))} rows: applied {len(self.applied)}, skipped "
            f"{len(self.skipped)}, needs review {len(self.needs_review)} sample decision(s)"
        ]
        lines += [f"  note     {n}" for n in self.notes]
        for seq, r in self.applied.iterrows():
            lines.append(f"  applied  v{seq} {r['op']}: {r['detail']}")
        for seq, r in self.skipped.iterrows():
            lines.append(f"  skipped  v{seq} {r['op']}: {r['reason']}")
        for r in self.needs_review.head(50).itertuples():
            col = f" {r.column}" if r.column else ""
            lines.append(
                f"  review   v{r.seq} {r.op} sample {r.sample_id}{col} "
                f"{short(r.old)} -> {short(r.new)}: {r.reason}"
            )
        if len(self.needs_review) > 50:
            lines.append(f"  ... and {len(self.needs_review) - 50} more to review")
        if len(self.reviews):
            lines.append(
                f"  {len(self.reviews)} sample(s) kept or marked reviewed in the recorded "
                "history (result.reviews)"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        c = self.counts()
        return (
            f"RecipeResult(applied={c['applied']}, skipped={c['skipped']}, "
            f"needs_review={c['needs_review']}, rows={len(self.dataset)})"
        )


def short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


def review_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for c in REVIEW_COLUMNS:
        values = [r[c] for r in rows]
        if c in ("seq", "sample_id"):
            data[c] = pd.Series(values, dtype=np.int64)
        else:  # None stays None (no NaN for "the label" / "the whole row")
            data[c] = pd.Series(values, dtype=object)
    return pd.DataFrame(data, columns=REVIEW_COLUMNS)


def result_frame(rows: dict[int, dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame([rows[s] for s in sorted(rows)], columns=columns)
    frame.index = pd.Index(sorted(rows), name="seq", dtype=np.int64)
    if "version" in frame.columns:
        frame["version"] = frame["version"].astype("Int64")
    return frame
