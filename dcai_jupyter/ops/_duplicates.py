"""Duplicates: exact and near copies of samples, grouped, with one keeper per group.

Exact copies share their content (:mod:`._content_keys`: the same numbers, the same text
after normalising case, whitespace and punctuation, the same image pixels), found by
hashing rows, never by a neighbour search. Near copies are linked by the rules of
:mod:`._near_copies` in a scaled feature space (on a mixed table with categorical, text
or date columns: column by column, :mod:`._mixed_rows`). Samples linked by exact or near
copies form a group and each group keeps one member (:mod:`._keepers`).

Cost: content keys O(n log n); the near-copy rules one exact search of every row's two
nearest rows up to ``EXACT_MAX`` rows (about 1.2 CPU s for 20,000 rows of 20 columns),
one approximate neighbour graph above it (:mod:`._neighbours`). Inside ``ds.audit()`` the
near copies are read from the audit's one shared neighbour graph instead.

:func:`find_duplicates` works on arrays (:mod:`._duplicate_groups`); :class:`Duplicates`
is the recorded operation behind ``ds.find_duplicates()`` / ``ds.remove_duplicates()``:
its change removes every group member but the keeper, as one change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from ..core import Findings
from ._base import Selection, register
from ._content_keys import content_keys
from ._duplicate_groups import (
    ROLES,
    duplicate_groups,
    duplicates_frame,
    find_duplicates,
    group_rows,
)
from ._keepers import KEEP, choose_keepers, has_label_tie
from ._mixed_rows import is_mixed_rows, mixed_groups, near_copy_pairs
from ._near_copies import (
    DUPLICATE_THRESHOLD,
    chance_ratio,
    check_threshold,
    mutual_pairs,
    tangent_ratio,
)
from ._neighbours import nearest_two
from ._removal import RemovalOperation, known_ids
from ._space import dataset_matrix
from ._text_norm import normalize_text

if TYPE_CHECKING:  # pragma: no cover
    from ..core import ChangePlan, Dataset

__all__ = [
    "DUPLICATE_THRESHOLD",
    "Duplicates",
    "chance_ratio",
    "choose_keepers",
    "content_keys",
    "duplicate_groups",
    "find_duplicates",
    "mutual_pairs",
    "nearest_two",
    "normalize_text",
    "tangent_ratio",
]


# ---------------------------------------------------------------------------- the operation
@register
class Duplicates(RemovalOperation):
    """Find exact and near copies of samples; remove all but one per group.

    ``find(ds)`` groups the samples whose content is the same (feature, text and image
    columns) or whose features are near copies (see the module docstring), and suggests a
    keeper per group. ``apply(ds, findings, groups=None)`` removes every member of the
    chosen groups but its keeper, as one recorded change (op ``remove_duplicates``).

    Parameters
    ----------
    near
        Also find near copies (``False``: exact copies only).
    threshold
        Near copies are closer than this fraction of the typical (median) distance from a
        sample to its nearest other sample, in the scaled feature space. ``None``: automatic:
        that rule at most at 0.3 (lower on low-dimensional data), plus a local ratio test
        between mutual nearest neighbours (see the module docstring). The global threshold
        used is in ``findings.frame.attrs["threshold"]``.
    keep
        ``"first"`` (smallest sample id) or ``"best"`` (majority label of the group; a tie
        goes to the member whose label an out-of-sample model finds most probable).
    features
        Columns to compare. Default: the feature columns plus the text and image columns
        for exact copies; the feature columns plus the text column for near copies (the
        image column when nothing else is usable).
    model, cv, n_jobs
        The classifier, folds and workers of the out-of-sample model that
        breaks label ties for ``keep="best"`` (run only when a group's labels tie; ``None``:
        the default ensemble of the shared cross-validation runner).
    random_state
        Seed of the principal components and of the tie-breaking model.
    progress
        Show progress bars (the neighbour search on large data, the tie-breaking model).
    """

    name: ClassVar[str] = "duplicates"
    change_op: ClassVar[str] = "remove_duplicates"
    action: ClassVar[str] = "remove"
    selectors: ClassVar[tuple[str, ...]] = ("groups",)
    selector_hint: ClassVar[str] = (
        "duplicates are removed by whole groups, not by top: pick groups with groups=[...] "
        "(the findings' group numbers)"
    )

    def __init__(
        self,
        *,
        near: bool = True,
        threshold: float | None = None,
        keep: str = "first",
        features: Sequence[str] | None = None,
        model: Any = None,
        cv: int = 5,
        n_jobs: int | None = None,
        random_state: int | None = 0,
        progress: bool = True,
    ) -> None:
        self.near = near
        self.threshold = threshold
        self.keep = keep
        self.features = features
        self.model = model
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.progress = progress

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small data for the operations conformance test (tests/test_operations.py)."""
        rng = np.random.default_rng(0)
        X = rng.normal(size=(40, 3))
        X = np.vstack([X, X[:3], X[3:6] + 1e-3])
        df = pd.DataFrame(X, columns=["a", "b", "c"])
        df["text"] = (
            [f"row {i}" for i in range(40)]
            + ["Row 0!", "row 1", "ROW  2"]
            + [f"row {i}" for i in range(3, 6)]
        )
        df["label"] = np.array(["x", "y"], dtype=object)[np.arange(len(df)) % 2]
        return [
            {
                "frame": df,
                "dataset": {"label": "label", "text": "text"},
                "operation": cls(random_state=0, progress=False),
                "options": {"reason": "conformance"},
                "name": "exact and near",
            },
            {
                "frame": df,
                "dataset": {"label": "label", "text": "text"},
                "operation": cls(near=False, keep="best", random_state=1, progress=False),
                "options": {"groups": [0, 1]},
                "name": "exact only, best keeper, two groups",
            },
        ]

    def _check(self) -> None:
        if self.keep not in KEEP:
            raise ValueError(f"keep must be one of {KEEP}; got {self.keep!r}")
        if not isinstance(self.near, (bool, np.bool_)):
            raise ValueError(f"near must be True or False; got {self.near!r}")
        check_threshold(self.threshold)

    def _content(self, ds: Dataset) -> dict[str, np.ndarray]:
        if self.features is not None:
            cols = list(self.features)
            unknown = [c for c in cols if c not in ds.columns]
            if unknown:
                raise ValueError(
                    f"features {unknown} are not columns of the dataset ({ds.columns})"
                )
            if ds.label in cols:
                raise ValueError(f"{ds.label!r} is the label column; it cannot be a feature")
        else:
            cols = [c for c in ds.feature_columns if c != ds.label]
            texts = list(getattr(ds, "text_columns", None) or [getattr(ds, "text_column", None)])
            for extra in (*texts, getattr(ds, "image_column", None)):
                if extra and extra not in cols and extra != ds.label:
                    cols.append(extra)
        if not cols:
            raise ValueError(
                "the dataset has no column to compare (only the label): add feature columns"
            )
        return {c: np.asarray(ds.column(c)) for c in cols}

    def _audit_graph(self, ds: Dataset) -> np.ndarray | None:
        """Inside ``ds.audit()``: the audit's one neighbour graph, as candidates."""
        from ._audit_context import active_context

        ctx = active_context()
        if ctx is None or not ctx.serves(ds, self.features, self.random_state):
            return None
        return ctx.graph[1]

    def _find(self, ds: Dataset) -> Findings:
        """Group exact and near copies of samples, with a suggested keeper per group.

        Returns
        -------
        Findings
            By sample id: ``score`` (1 = exact copy), ``is_duplicate`` (the members to
            remove), ``group``, ``keeper``, ``reason`` (``"exact copy of 12"``, ``"near copy
            of 12: distance 0.03"``), ``nearest_id``, ``distance``. Recorded as an event.
        """
        self._check()
        if len(ds) == 0:
            raise ValueError("the dataset is empty: there is nothing to compare")
        content = self._content(ds)
        keys = content_keys(content)
        M: np.ndarray | None = None
        used: list[str] = []
        roles = dict(getattr(ds, "roles", {}))
        mixed = bool(self.near) and self.threshold is None and is_mixed_rows(roles, list(content))
        if mixed:
            # a mixed table: near copies agree column by column (see ._mixed_rows)
            meaning = _meaning(ds, content, roles)
            a, b, worst = near_copy_pairs(content, roles, meaning=meaning)
            groups, space, used = mixed_groups(keys, a, b, worst), None, list(content)
        else:
            if self.near:
                M, used = dataset_matrix(ds, self.features)
            groups, space = group_rows(
                M,
                keys,
                bool(self.near),
                self.threshold,
                self.random_state,
                bool(self.progress),
                candidates=self._audit_graph(ds) if self.near else None,
            )
        ids = np.asarray(ds.ids)
        keeper = self._keepers(ds, groups["group"].to_numpy(), M)
        frame = duplicates_frame(groups, keeper, keys, ids, space)
        if mixed:
            _mixed_reasons(frame, groups, keys, keeper, ids, by_meaning=bool(meaning))
        version = int(ds.version)
        frame.attrs.update(
            {
                "version": version,
                "features": [str(c) for c in used],
                "threshold": None if space is None else space[3],
            }
        )
        return Findings(
            frame,
            op=self.name,
            roles=ROLES,
            action=self.action,
            params=self.json_params(),
            version=version,
        )

    def _keepers(self, ds: Dataset, group: np.ndarray, M: np.ndarray | None) -> np.ndarray:
        ids = np.asarray(ds.ids)
        if self.keep != "best":
            return choose_keepers(group, keep="first", ids=ids)
        labels = np.asarray(ds.column(ds.label), dtype=object)
        confidence = None
        if has_label_tie(group, labels):
            confidence = self._confidence(ds, labels, M)
        return choose_keepers(group, keep="best", ids=ids, labels=labels, confidence=confidence)

    def _confidence(self, ds: Dataset, labels: np.ndarray, M: np.ndarray | None) -> np.ndarray:
        from ._crossval import out_of_sample_pred_probs

        if M is None:
            M, _ = dataset_matrix(ds, self.features)
        has = ~pd.isna(pd.Series(labels, dtype=object)).to_numpy()
        present = [c for c in ds.classes if c in set(labels[has].tolist())]
        probs = out_of_sample_pred_probs(
            M[has],
            labels[has],
            model=self.model,
            cv=self.cv,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            progress=bool(self.progress),
            classes=present,
            desc="duplicates: keeper confidence",
        )
        col = pd.Index(present).get_indexer(labels[has])
        out = np.full(len(labels), np.nan)
        out[has] = probs[np.arange(len(col)), col]
        return out

    def rekeep(self, ds: Dataset, findings: Findings) -> Findings:
        """``findings`` with keepers chosen again by this operation's ``keep`` rule."""
        if findings.op != self.name:
            raise TypeError(f"these are {findings.op!r} findings, not duplicates")
        self._check()
        frame = findings.to_frame()
        ids = np.asarray(frame.index)
        known_ids(ds, ids)
        order = np.argsort(ds.positions(ids))
        frame = frame.iloc[order]
        group = frame["group"].fillna(-1).to_numpy(dtype=np.int64)
        if self.keep == "best":
            pos = ds.positions(frame.index)
            labels = np.asarray(ds.column(ds.label), dtype=object)[pos]
            confidence = None
            if has_label_tie(group, labels):
                M, _ = dataset_matrix(ds, self.features)
                allconf = self._confidence(ds, np.asarray(ds.column(ds.label), dtype=object), M)
                confidence = allconf[pos]
            keeper = choose_keepers(
                group,
                keep="best",
                ids=np.asarray(frame.index),
                labels=labels,
                confidence=confidence,
            )
        else:
            keeper = choose_keepers(group, keep="first", ids=np.asarray(frame.index))
        frame["keeper"] = keeper
        frame["is_duplicate"] = (group >= 0) & ~keeper
        keeper_id = {
            int(g): int(i) for g, i in zip(group[keeper], frame.index[keeper], strict=True)
        }
        reasons = frame["reason"].to_numpy(dtype=object).copy()
        for p in np.flatnonzero(group >= 0).tolist():
            g = int(group[p])
            size = int((group == g).sum())
            if keeper[p]:
                reasons[p] = f"keeper of group {g} ({size} samples)"
            elif isinstance(reasons[p], str) and reasons[p].startswith("keeper"):
                reasons[p] = f"same group as {keeper_id[g]}"
        frame["reason"] = reasons
        out = Findings(
            frame,
            op=self.name,
            roles=ROLES,
            action=self.action,
            params=self.json_params(),
            version=findings.version,
        )
        # other keepers are still the rule's output (its keep= param), not a selection
        return out.as_found() if findings.by_rule else out

    # ------------------------------------------------------------------ plan / remove
    @classmethod
    def remove(
        cls,
        ds: Dataset,
        findings: Findings | None = None,
        *,
        keep: str = "first",
        groups: Sequence[int] | None = None,
        near: bool = True,
        threshold: float | None = None,
        features: Sequence[str] | None = None,
        random_state: int | None = 0,
        reason: str | None = None,
    ) -> int:
        """``ds.remove_duplicates``: find (unless ``findings`` are given), re-keep, remove."""
        if findings is None:
            op = cls(
                near=near,
                threshold=threshold,
                keep=keep,
                features=features,
                random_state=random_state,
                progress=False,
            )
            findings = op.find(ds)
        else:
            op = cls.for_findings(findings)  # type: ignore[assignment]
            if op.keep != keep:
                op.keep = keep
                findings = op.rekeep(ds, findings)
        return op.apply(ds, findings, groups=groups, reason=reason)

    def _plan(
        self, ds: Dataset, findings: Findings | None, plan: ChangePlan, select: Selection
    ) -> dict[str, Any]:
        """Remove every member of ``select.groups`` (all groups: None) but its keeper."""
        assert findings is not None
        groups = select.groups
        if findings.op != self.name:
            raise TypeError(
                f"these are {findings.op!r} findings; remove_duplicates takes the findings of "
                "find_duplicates"
            )
        frame = findings.frame
        g = frame["group"]
        present = sorted(int(x) for x in g.dropna().unique())
        if groups is not None:
            missing = [x for x in groups if x not in set(present)]
            if missing:
                raise ValueError(
                    f"groups {missing[:10]} are not in the findings; their groups are "
                    f"{present[:20]}{' ...' if len(present) > 20 else ''}"
                )
            chosen = g.isin(groups).fillna(False).to_numpy(dtype=bool)
        else:
            chosen = g.notna().to_numpy()
        keepers = frame.index[chosen & frame["keeper"].to_numpy(dtype=bool)]
        drop = frame.index[chosen & frame["is_duplicate"].to_numpy(dtype=bool)]
        known_ids(ds, np.asarray(keepers), what="keeper")
        known_ids(ds, np.asarray(drop))
        if len(drop):
            plan.remove(np.asarray(drop, dtype=np.int64))
        return {"n_removed": len(drop), "n_groups": len(set(g[chosen].dropna().tolist()))}


def _meaning(ds: Dataset, content: dict[str, Any], roles: dict[str, str]) -> dict[str, Any]:
    """The embeddings of the compared text columns (none without an embedder)."""
    from ._text_vectors import text_vectors

    out = {}
    for c in content:
        if roles.get(c) == "text":
            E = text_vectors(ds, c)
            if E is not None:
                out[c] = E
    return out


def _mixed_reasons(
    frame: pd.DataFrame,
    groups: pd.DataFrame,
    keys: np.ndarray,
    keeper: np.ndarray,
    ids: np.ndarray,
    *,
    by_meaning: bool = False,
) -> None:
    """The reason of each near copy found column by column (no distance in a space)."""
    from ._mixed_rows import NEAR_RTOL

    texts = "texts alike in meaning" if by_meaning else "same words (any case, spacing or order)"
    group = groups["group"].to_numpy()
    keeper_of = {int(group[p]): p for p in np.flatnonzero(keeper).tolist()}
    reasons = frame["reason"].to_numpy(dtype=object).copy()
    for p in np.flatnonzero((group >= 0) & ~keeper).tolist():
        k = keeper_of[int(group[p])]
        if keys[p] != keys[k]:
            d = groups["distance"].to_numpy()[p]
            within = f"{d * NEAR_RTOL:.1%}" if d == d else f"{NEAR_RTOL:.1%}"
            reasons[p] = f"near copy of {ids[k]}: same categories, {texts}, numbers within {within}"
    frame["reason"] = pd.Series(reasons, index=frame.index, dtype=object)
