"""Audited issue types about columns and the test set: leakage, identifiers, target leaks.

- :class:`Leakage` (``leakage``): with a test set, the training rows that have an exact or
  near copy among the test rows (the duplicates operation's grouping, run on the training
  and test rows together, keeps only the groups that cross the split).
- :class:`Identifiers` (``identifier``): columns whose values are unique per row (an id is
  no feature: a model that reads it memorises rows).
- :class:`TargetLeak` (``target_leak``): columns that predict the label almost perfectly on
  their own (cross-validated, one column at a time): an answer leaked into the features.

The column types flag no rows; the columns are in ``findings.frame.attrs["columns"]``.
"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from ._audit_context import finding_frame, make_findings
from ._base import Operation, register

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset, Findings

__all__ = ["Identifiers", "Leakage", "TargetLeak", "single_column_accuracy"]

_NO_ROWS = {"score": "score", "flag": "flag"}


def _column_findings(op: Any, ds: Dataset, columns: dict[str, Any]) -> Findings:
    n = len(ds)
    frame = finding_frame(ds, {"score": np.zeros(n), "flag": np.zeros(n, dtype=bool)})
    frame.attrs["columns"] = columns
    return make_findings(op, ds, frame, _NO_ROWS)


# ---------------------------------------------------------------------------- leakage
def _frame_digest(df: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update(str(list(df.columns)).encode())
    h.update(pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


@register
class Leakage(Operation):
    """Find training rows that have an exact or near copy in a test set.

    Parameters
    ----------
    test
        The test rows: a DataFrame (or a ``dj.Dataset``) with the training features'
        columns. Recorded as its size and a digest (recipe replay needs it passed again).
    near
        Also near copies (as :meth:`find_duplicates` finds them), not only exact ones.
    threshold
        The near-copy distance (see :meth:`find_duplicates`; ``None``: automatic).
    features
        Columns to compare (default: the feature columns plus the text column).
    random_state
        Seed of the near-copy search.
    """

    name: ClassVar[str] = "leakage"
    change_op: ClassVar[str] = ""
    action: ClassVar[str] = "remove"
    needs_findings: ClassVar[bool] = False

    def __init__(
        self,
        *,
        test: Any = None,
        near: bool = True,
        threshold: float | None = None,
        features: Sequence[str] | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.test = test
        self.near = near
        self.threshold = threshold
        self.features = features
        self.random_state = random_state

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small data for the find-only conformance test (tests/test_audit.py)."""
        rng = np.random.default_rng(0)
        df = pd.DataFrame(rng.normal(size=(80, 3)), columns=["a", "b", "c"])
        df["label"] = np.array(["x", "y"], dtype=object)[np.arange(80) % 2]
        test = pd.DataFrame(rng.normal(size=(20, 3)), columns=["a", "b", "c"])
        test.iloc[:3] = df[["a", "b", "c"]].iloc[[5, 9, 30]].to_numpy()
        return [{"frame": df, "dataset": {"label": "label"}, "operation": cls(test=test)}]

    def _test_frame(self) -> pd.DataFrame:
        test = self.test
        if hasattr(test, "df") and hasattr(test, "label") and not isinstance(test, pd.DataFrame):
            test = test.df
        if not isinstance(test, pd.DataFrame):
            raise TypeError(
                "leakage needs test=: the test rows as a DataFrame (or a dj.Dataset); got "
                f"{type(test).__name__}"
            )
        return test

    def json_params(self) -> dict[str, Any]:
        from ._params import to_json

        out = {k: to_json(v) for k, v in self.get_params().items() if k != "test"}
        test = self.test
        if test is None or isinstance(test, dict):
            out["test"] = test
        else:
            frame = self._test_frame()
            out["test"] = {"rows": len(frame), "digest": _frame_digest(frame)}
        return out

    def _columns(self, ds: Dataset, test: pd.DataFrame) -> list[str]:
        if self.features is not None:
            cols = list(self.features)
        else:
            cols = [c for c in ds.feature_columns if c != ds.label]
            cols += [c for c in getattr(ds, "text_columns", []) if c not in cols and c != ds.label]
        missing = [c for c in cols if c not in test.columns]
        if missing:
            raise ValueError(f"the test rows have no column {missing}: leakage compares {cols}")
        return cols

    def _find(self, ds: Dataset) -> Findings:
        """Find training rows that have an exact or near copy among the test rows.

        Returns
        -------
        Findings
            By sample id: ``score`` (1 = exact copy, falling with the distance), ``leaked``
            (a copy is in the test set), ``test_rows`` (their labels in the test index,
            as text), ``reason``; ``frame.attrs["test_rows"]`` maps each leaked test row
            (its index label) to the sample id it copies.
        """
        from ._audit_context import in_audit
        from ._base import STAGE_BAR_ROWS
        from ._content_keys import content_keys
        from ._duplicate_groups import duplicates_frame, group_rows
        from ._features import feature_matrix
        from ._keepers import choose_keepers

        test = self._test_frame()
        if len(ds) == 0:
            raise ValueError("the dataset is empty: there is nothing to compare")
        cols = self._columns(ds, test)
        train = pd.DataFrame({c: ds.column(c) for c in cols})
        both = pd.concat([train, test[cols].reset_index(drop=True)], ignore_index=True)
        n, m = len(train), len(test)
        X, _ = feature_matrix(both, cols, on_unusable="skip")
        keys = content_keys({c: both[c].to_numpy() for c in cols})
        # find_duplicates(X, keys=keys, ...), with the neighbour search's progress line when
        # the type is found on its own on large data (inside ds.audit(): the audit's line)
        show = n + m >= STAGE_BAR_ROWS and not in_audit()
        groups, space = group_rows(
            X, keys, bool(self.near), self.threshold, self.random_state, show
        )
        rows_all = np.arange(n + m)
        keeper = choose_keepers(groups["group"].to_numpy(), keep="first", ids=rows_all)
        dup = duplicates_frame(groups, keeper, np.asarray(keys, dtype=np.int64), rows_all, space)
        group = dup["group"].to_numpy(dtype=object)
        score_all = dup["score"].to_numpy(dtype=float)
        members: dict[Any, list[int]] = {}
        for r in range(n + m):
            g = group[r]
            if g is not None and not pd.isna(g):
                members.setdefault(int(g), []).append(r)
        ids = np.asarray(ds.ids)
        test_labels = list(test.index)
        score = np.zeros(n)
        flag = np.zeros(n, dtype=bool)
        copies: list[list[Any]] = [[] for _ in range(n)]
        leaked: dict[str, int] = {}
        for rows in members.values():
            tr = [r for r in rows if r < n]
            te = [r - n for r in rows if r >= n]
            if not tr or not te:
                continue
            for r in tr:
                flag[r] = True
                score[r] = max(
                    score[r], float(np.max(score_all[[t + n for t in te]])), float(score_all[r])
                )
                copies[r].extend(test_labels[t] for t in te)
            for t in te:
                leaked[str(test_labels[t])] = int(ids[tr[0]])
        text = np.full(n, None, dtype=object)
        reason = np.full(n, None, dtype=object)
        for r in np.flatnonzero(flag).tolist():
            shown = ", ".join(str(v) for v in copies[r][:5])
            more = f" (+{len(copies[r]) - 5})" if len(copies[r]) > 5 else ""
            text[r] = shown + more
            kind = "exact" if score[r] >= 1.0 else "near"
            reason[r] = f"{kind} copy in the test set: test row {shown}{more}"
        frame = finding_frame(
            ds, {"score": score, "leaked": flag, "test_rows": text, "reason": reason}
        )
        frame.attrs.update({"test_rows": leaked, "n_test": m})
        return make_findings(
            self, ds, frame, {"score": "score", "flag": "leaked", "reason": "reason"}
        )

    def _summary(self, ds: Dataset, findings: Findings) -> dict[str, Any]:
        a = findings.frame.attrs
        return {
            **findings.summary(),
            "n_test_leaked": len(a.get("test_rows", {})),
            "n_test": a.get("n_test"),
        }


# ---------------------------------------------------------------------------- identifiers
def _int_like(values: np.ndarray) -> bool:
    if values.dtype.kind in "iu":
        return True
    if values.dtype.kind == "f":
        finite = values[np.isfinite(values)]
        return bool(len(finite)) and bool(np.all(np.mod(finite, 1) == 0))
    return False


@register
class Identifiers(Operation):
    """Find columns whose values are unique per row (identifiers, not features).

    Parameters
    ----------
    unique_share
        A column is an identifier when at least this share of its (present) values are
        distinct, and they are integers or short strings (free text, images and
        measurements with decimals are not).
    min_rows
        Below this many rows no column is called an identifier.
    """

    name: ClassVar[str] = "identifier"
    change_op: ClassVar[str] = ""
    action: ClassVar[str] = "review"
    needs_findings: ClassVar[bool] = False

    def __init__(self, *, unique_share: float = 0.99, min_rows: int = 20) -> None:
        self.unique_share = unique_share
        self.min_rows = min_rows

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small data for the find-only conformance test (tests/test_audit.py)."""
        rng = np.random.default_rng(0)
        df = pd.DataFrame({"customer": [f"c{i:04d}" for i in rng.permutation(50)]})
        df["x"] = rng.normal(size=50)
        df["label"] = np.array(["x", "y"], dtype=object)[np.arange(50) % 2]
        return [{"frame": df, "dataset": {"label": "label"}, "operation": cls()}]

    def _find(self, ds: Dataset) -> Findings:
        """Find columns whose values are unique per row.

        Returns
        -------
        Findings
            Every row, none flagged; ``frame.attrs["columns"]`` maps each identifier
            column to the share of distinct values.
        """
        share = float(self.unique_share)
        if not 0 < share <= 1:
            raise ValueError(f"unique_share must be in (0, 1]; got {self.unique_share!r}")
        roles = dict(getattr(ds, "roles", {}))
        found: dict[str, Any] = {}
        n = len(ds)
        if n >= int(self.min_rows):
            for c in ds.columns:
                role = roles.get(c)
                if c == ds.label or role in ("text", "image", "embedding"):
                    continue
                values = np.asarray(ds.column(c))
                s = pd.Series(values, dtype=values.dtype if values.dtype.kind != "O" else object)
                present = s.dropna()
                if len(present) < 0.5 * n:
                    continue
                if values.dtype.kind in "fiu":
                    if not _int_like(present.to_numpy()):
                        continue
                elif values.dtype.kind == "O":
                    if not all(isinstance(v, (str, int, np.integer)) for v in present.iloc[:200]):
                        continue
                    if present.astype(str).str.len().mean() > 40:
                        continue
                elif role != "id":
                    continue
                try:
                    distinct = present.nunique() / len(present)
                except TypeError:
                    continue
                if distinct >= share or role == "id":
                    found[str(c)] = round(float(distinct), 4)
        return _column_findings(self, ds, found)

    def _summary(self, ds: Dataset, findings: Findings) -> dict[str, Any]:
        return {**findings.summary(), "columns": dict(findings.frame.attrs.get("columns", {}))}


# ---------------------------------------------------------------------------- target leak
def single_column_accuracy(
    values: Any, codes: np.ndarray, *, cv: int = 3, random_state: int | None = 0
) -> float:
    """Cross-validated accuracy of predicting ``codes`` from one column alone.

    Numbers with many distinct values go through a small decision tree; anything else
    (categories, strings, few distinct numbers) through the majority class of each value
    in the training folds (an unseen value gets the training majority).
    """
    from ._folds import stratified_folds

    codes = np.asarray(codes, dtype=np.int64)
    k = int(codes.max()) + 1 if len(codes) else 0
    smallest = int(np.bincount(codes).min()) if len(codes) else 0
    folds = stratified_folds(codes, max(2, min(int(cv), smallest)), random_state)
    arr = np.asarray(values)
    numeric = arr.dtype.kind in "fiub"
    if numeric:
        num = arr.astype(np.float64)
        numeric = len(np.unique(num[np.isfinite(num)])) > 20
    pred = np.zeros(len(codes), dtype=np.int64)
    if numeric:
        from sklearn.tree import DecisionTreeClassifier

        x = np.where(np.isfinite(num), num, np.nanmedian(num) if np.isfinite(num).any() else 0.0)
        for tr, te in folds:
            tree = DecisionTreeClassifier(
                max_leaf_nodes=min(64, 4 * max(k, 2)), random_state=random_state
            ).fit(x[tr, None], codes[tr])
            pred[te] = tree.predict(x[te, None])
    else:
        keys = pd.Series(arr, dtype=object).astype(str).to_numpy()
        for tr, te in folds:
            table = pd.crosstab(keys[tr], codes[tr])
            best = dict(
                zip(
                    table.index,
                    table.columns.to_numpy()[table.to_numpy().argmax(axis=1)],
                    strict=True,
                )
            )
            fallback = int(np.bincount(codes[tr], minlength=k).argmax())
            pred[te] = [best.get(v, fallback) for v in keys[te]]
    return float(np.mean(pred == codes))


@register
class TargetLeak(Operation):
    """Find columns that predict the label almost perfectly on their own.

    Parameters
    ----------
    threshold
        Flag a column whose cross-validated accuracy alone is at least this (and above
        the share of the most common class).
    max_rows
        Accuracy is measured on at most this many labeled rows (a seeded sample).
    cv
        Folds.
    random_state
        Seed of the sample, the folds and the trees.
    """

    name: ClassVar[str] = "target_leak"
    change_op: ClassVar[str] = ""
    action: ClassVar[str] = "review"
    needs_findings: ClassVar[bool] = False

    def __init__(
        self,
        *,
        threshold: float = 0.99,
        max_rows: int = 5000,
        cv: int = 3,
        random_state: int | None = 0,
    ) -> None:
        self.threshold = threshold
        self.max_rows = max_rows
        self.cv = cv
        self.random_state = random_state

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small data for the find-only conformance test (tests/test_audit.py)."""
        rng = np.random.default_rng(0)
        y = np.arange(120) % 3
        df = pd.DataFrame({"x": rng.normal(size=120), "code": np.array(["A1", "B2", "C3"])[y]})
        df["label"] = np.array(["ant", "bee", "cat"], dtype=object)[y]
        return [{"frame": df, "dataset": {"label": "label"}, "operation": cls()}]

    def _find(self, ds: Dataset) -> Findings:
        """Find columns that predict the label almost perfectly on their own.

        Returns
        -------
        Findings
            Every row, none flagged; ``frame.attrs["columns"]`` maps each leaking column
            to its cross-validated accuracy alone.
        """
        from ._validation import encode_labels

        threshold = float(self.threshold)
        if isinstance(self.max_rows, bool) or not isinstance(self.max_rows, numbers.Integral):
            raise ValueError(f"max_rows must be an integer; got {self.max_rows!r}")
        roles = dict(getattr(ds, "roles", {}))
        labels = pd.Series(np.asarray(ds.column(ds.label), dtype=object), dtype=object)
        labeled = np.flatnonzero(~labels.isna().to_numpy())
        found: dict[str, Any] = {}
        if len(labeled) >= 20:
            rng = np.random.default_rng(self.random_state)
            rows = labeled
            if len(rows) > int(self.max_rows):
                rows = np.sort(rng.choice(rows, int(self.max_rows), replace=False))
            codes, _ = encode_labels(labels.to_numpy()[rows], None)
            counts = np.bincount(codes)
            majority = counts.max() / len(codes) if len(codes) else 1.0
            if len(counts) >= 2 and counts.min() >= 2:
                for c in ds.columns:
                    if c == ds.label or roles.get(c) in ("text", "image", "embedding", "ignored"):
                        continue
                    values = np.asarray(ds.column(c))[rows]
                    try:
                        acc = single_column_accuracy(
                            values, codes, cv=int(self.cv), random_state=self.random_state
                        )
                    except (TypeError, ValueError):
                        continue
                    if acc >= threshold and acc > majority:
                        found[str(c)] = round(acc, 4)
        return _column_findings(self, ds, found)

    def _summary(self, ds: Dataset, findings: Findings) -> dict[str, Any]:
        return {**findings.summary(), "columns": dict(findings.frame.attrs.get("columns", {}))}
