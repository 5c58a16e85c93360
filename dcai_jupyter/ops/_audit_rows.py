"""Audited issue types about the table's shape: missing values and rare classes.

- :class:`NullRows` (``null``): rows whose cells are mostly missing (flagged, removable),
  and the columns that are mostly missing (named in ``frame.attrs["columns"]``).
- :class:`ClassImbalance` (``class_imbalance``): the rows of classes far rarer than the
  typical class (find only: the remedy is more data, not removing it).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from ._audit_context import finding_frame, make_findings
from ._base import Operation, register
from ._removal import RemovalOperation

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset, Findings

__all__ = ["ClassImbalance", "NullRows", "missing_mask"]


def _share(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < float(value) < 1:
        raise ValueError(f"{name} must be a share strictly between 0 and 1; got {value!r}")
    return float(value)


def missing_mask(values: Any) -> np.ndarray:
    """Which cells of a column are missing (None, NaN, NaT; array cells never are)."""
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if arr.dtype.kind in "fc":
        return np.isnan(arr)
    if arr.dtype.kind in "biu":
        return np.zeros(len(arr), dtype=bool)
    return pd.isna(pd.Series(list(arr) if arr.ndim > 1 else arr, dtype=object)).to_numpy(dtype=bool)


@register
class NullRows(RemovalOperation):
    """Find rows whose cells are mostly missing (and columns that are); remove the rows.

    Parameters
    ----------
    threshold
        Flag a row when more than this share of its columns are missing; a column with
        more than this share of rows missing is named in the findings (``attrs["columns"]``).
    columns
        Columns to check (default: every column but the label).
    """

    name: ClassVar[str] = "null"
    change_op: ClassVar[str] = "remove_null"
    action: ClassVar[str] = "remove"
    #: every flagged row goes (pick some in the grid, or ``ds.remove(ids)``)
    selectors: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, threshold: float = 0.5, columns: Sequence[str] | None = None) -> None:
        self.threshold = threshold
        self.columns = columns

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small data for the operations conformance test (tests/test_operations.py)."""
        rng = np.random.default_rng(0)
        df = pd.DataFrame(rng.normal(size=(40, 4)), columns=["a", "b", "c", "d"])
        df.loc[[3, 17], ["a", "b", "c"]] = np.nan
        df.loc[25, ["a", "b"]] = np.nan
        df["label"] = np.array(["x", "y"], dtype=object)[np.arange(40) % 2]
        return [
            {"frame": df, "dataset": {"label": "label"}, "operation": cls(), "name": "default"},
            {
                "frame": df,
                "dataset": {"label": "label"},
                "operation": cls(threshold=0.4, columns=["a", "b", "c"]),
                "name": "three columns",
            },
        ]

    def _find(self, ds: Dataset) -> Findings:
        """Flag the rows whose cells are mostly missing.

        Returns
        -------
        Findings
            By sample id: ``score`` (the share of the row's columns that are missing),
            ``is_null`` (more than ``threshold``), ``n_missing``, ``reason``;
            ``frame.attrs["columns"]`` maps each mostly-missing column to its missing share.
        """
        threshold = _share(self.threshold, "threshold")
        cols = (
            [c for c in ds.columns if c != ds.label] if self.columns is None else list(self.columns)
        )
        bad = [c for c in cols if c not in ds.columns or c == ds.label]
        if bad:
            raise ValueError(f"columns {bad} are not non-label columns of the dataset")
        n = len(ds)
        if not cols:
            raise ValueError("there is no column to check besides the label")
        missing = np.zeros((n, len(cols)), dtype=bool)
        for j, c in enumerate(cols):
            missing[:, j] = missing_mask(ds.column(c))
        n_missing = missing.sum(axis=1)
        share = n_missing / len(cols)
        flag = share > threshold
        reason = np.full(n, None, dtype=object)
        reason[flag] = [f"{k} of {len(cols)} columns missing" for k in n_missing[flag]]
        frame = finding_frame(
            ds, {"score": share, "is_null": flag, "n_missing": n_missing, "reason": reason}
        )
        col_share = missing.mean(axis=0) if n else np.zeros(len(cols))
        frame.attrs["columns"] = {
            str(c): round(float(s), 4)
            for c, s in zip(cols, col_share, strict=True)
            if s > threshold
        }
        return make_findings(
            self, ds, frame, {"score": "score", "flag": "is_null", "reason": "reason"}
        )

    def _summary(self, ds: Dataset, findings: Findings) -> dict[str, Any]:
        return {**findings.summary(), "columns": dict(findings.frame.attrs.get("columns", {}))}


@register
class ClassImbalance(Operation):
    """Find the classes far rarer than the typical class (their rows are flagged).

    Parameters
    ----------
    ratio
        Flag a class with fewer rows than this share of the median count of the other
        classes.
    """

    name: ClassVar[str] = "class_imbalance"
    change_op: ClassVar[str] = ""
    action: ClassVar[str] = "review"
    needs_findings: ClassVar[bool] = False

    def __init__(self, *, ratio: float = 0.2) -> None:
        self.ratio = ratio

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small data for the find-only conformance test (tests/test_audit.py)."""
        rng = np.random.default_rng(0)
        df = pd.DataFrame(rng.normal(size=(130, 2)), columns=["a", "b"])
        df["label"] = ["x"] * 60 + ["y"] * 60 + ["z"] * 10
        return [{"frame": df, "dataset": {"label": "label"}, "operation": cls(ratio=0.25)}]

    def _find(self, ds: Dataset) -> Findings:
        """Flag the rows of classes far rarer than the typical class.

        Returns
        -------
        Findings
            By sample id (labeled rows): ``score`` (1 - the class's count over the median
            count of the other classes, at least 0), ``is_rare_class``, ``class_count``,
            ``reason``; ``frame.attrs["classes"]`` maps each rare class to its count.
        """
        ratio = _share(self.ratio, "ratio")
        labels = pd.Series(np.asarray(ds.column(ds.label), dtype=object), dtype=object)
        labeled = ~labels.isna().to_numpy()
        ids = np.asarray(ds.ids)[labeled]
        lab = labels[labeled].reset_index(drop=True)
        counts = lab.value_counts()
        score = np.zeros(len(lab))
        flag = np.zeros(len(lab), dtype=bool)
        count = lab.map(counts).to_numpy(dtype=np.int64) if len(lab) else np.zeros(0, np.int64)
        typical_of: dict[Any, float] = {}
        rare: dict[str, int] = {}
        if len(counts) >= 2:
            for c, k in counts.items():
                typical = float(np.median(counts.drop(index=c).to_numpy()))
                typical_of[c] = typical
                rows = (lab == c).to_numpy()
                score[rows] = max(0.0, 1.0 - k / typical)
                if k < ratio * typical:
                    flag[rows] = True
                    rare[str(c)] = int(k)
        reason = np.full(len(lab), None, dtype=object)
        for p in np.flatnonzero(flag):
            c = lab.iat[p]
            reason[p] = (
                f"class {c!r}: {count[p]} rows, {count[p] / typical_of[c]:.2f}x the typical "
                f"class ({typical_of[c]:.0f})"
            )
        frame = pd.DataFrame(
            {"score": score, "is_rare_class": flag, "class_count": count, "reason": reason},
            index=pd.Index(ids, name="sample_id"),
        )
        frame.attrs["classes"] = rare
        return make_findings(
            self, ds, frame, {"score": "score", "flag": "is_rare_class", "reason": "reason"}
        )

    def _summary(self, ds: Dataset, findings: Findings) -> dict[str, Any]:
        return {**findings.summary(), "classes": dict(findings.frame.attrs.get("classes", {}))}
