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

:func:`find_duplicates` works on arrays; :class:`Duplicates` is the recorded operation
behind ``ds.find_duplicates()`` / ``ds.remove_duplicates()``: its change removes every
group member but the keeper, as one change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from ..core import Findings
from ._base import Selection, register
from ._content_keys import content_keys
from ._keepers import KEEP, choose_keepers, group_numbers, has_label_tie
from ._mixed_rows import is_mixed_rows, mixed_groups, near_copy_pairs
from ._near_copies import (
    DUPLICATE_THRESHOLD,
    MAX_DIMS,
    chance_ratio,
    check_threshold,
    mutual_pairs,
    near_links,
    rep_candidates,
    tangent_ratio,
)
from ._neighbours import nearest_two
from ._removal import RemovalOperation, known_ids
from ._space import as_float_matrix, dataset_matrix, reduce_dims, scale_columns
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

ROLES = {
    "score": "score",
    "flag": "is_duplicate",
    "group": "group",
    "keeper": "keeper",
    "reason": "reason",
}
COLUMNS = ["score", "is_duplicate", "group", "keeper", "reason", "nearest_id", "distance"]


# ---------------------------------------------------------------------------- groups
def duplicate_groups(
    X: Any = None,
    *,
    keys: Any = None,
    near: bool = True,
    threshold: float | None = None,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Group exact and near copies (rows in the given order; no keeper chosen yet).

    Parameters
    ----------
    X : array-like (n, d), optional
        Numeric features for near copies (and exact copies when ``keys`` is not given).
    keys : array-like of n ints, optional
        Exact-content keys (see :func:`content_keys`); default: identical rows of ``X``.
    near : bool
        Also group near copies (needs ``X``).
    threshold : float, optional
        Near copies are closer than ``threshold`` times the median distance from a distinct
        sample to its nearest other distinct sample, in the scaled feature space.
        ``None``: automatic (a global distance rule and a local ratio test, see the module
        docstring).
    random_state : int, optional
        Seed of the principal components on wide data.

    Returns
    -------
    pd.DataFrame, one row per input row (positional index)
        ``group`` (int, -1 = in no group; groups numbered by their first row),
        ``exact`` (bool: another row has the same content), ``nearest`` (position of the
        nearest other distinct row, -1 when unknown), ``distance`` (to it, as a fraction of
        the typical nearest-neighbour distance; 0 for exact copies), ``ratio`` (for the
        pairs the local ratio test links: their ratio, see :func:`tangent_ratio`; NaN for
        other rows).
    """
    return _group_rows(X, keys, near, threshold, random_state)[0]


#: scaled representatives, the representative of each row, typical distance, threshold used
_Space = tuple[np.ndarray, np.ndarray, float, float]


def _group_rows(
    X: Any,
    keys: Any,
    near: bool,
    threshold: float | None,
    random_state: int | None,
    progress: bool = False,
    *,
    candidates: np.ndarray | None = None,
    exact: bool | None = None,
) -> tuple[pd.DataFrame, _Space | None]:
    """Group the rows; ``candidates`` (n, K): a row-level neighbour graph to read near
    copies from (the audit's), ``exact``: force the neighbour search's kind."""
    check_threshold(threshold)
    if X is None and keys is None:
        raise ValueError("pass X (features) or keys (exact-content keys)")
    if near and X is None:
        raise ValueError("near duplicates need features: pass X, or near=False")
    M = None if X is None else as_float_matrix(X)
    if keys is None:
        assert M is not None
        keys = content_keys({f"c{j}": M[:, j] for j in range(M.shape[1])})
    keys = np.asarray(keys, dtype=np.int64)
    n = len(keys)
    if M is not None and M.shape[0] != n:
        raise ValueError(f"X has {M.shape[0]} rows but keys has {n}")
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # representatives in row order
    reps = first[order]
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    rep_of = rank[np.asarray(inverse).ravel()].astype(np.int64)
    counts = np.bincount(rep_of, minlength=len(reps))
    exact_copy = counts[rep_of] > 1
    near_pos = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    linked_ratio = np.full(len(reps), np.nan)
    links: list[tuple[list[int], list[int]]] = []
    space: _Space | None = None
    if near and M is not None and len(reps) >= 2:
        Z = reduce_dims(scale_columns(M[reps]), MAX_DIMS, random_state)
        found = near_links(
            Z,
            threshold,
            candidates=None if candidates is None else rep_candidates(candidates, reps, rep_of),
            exact=exact,
            progress=progress,
            random_state=random_state,
        )
        near_pos = reps[found.nearest][rep_of]
        dist = (found.distance / found.typical)[rep_of]
        linked_ratio = found.ratio
        links = found.links
        space = (Z, rep_of, found.typical, found.cut)
    dist = np.where(exact_copy, 0.0, dist)
    if exact_copy.any():
        # an exact copy's nearest row is another copy: the first of them, or the second
        first_of = reps[rep_of]
        later = np.flatnonzero(exact_copy & (first_of != np.arange(n)))  # ascending
        second = np.full(len(reps), -1, dtype=np.int64)
        keys, at = np.unique(rep_of[later], return_index=True)  # each key's first later copy
        second[keys] = later[at]
        near_pos = np.where(
            exact_copy,
            np.where(first_of != np.arange(n), first_of, second[rep_of]),
            near_pos,
        )
    frame = pd.DataFrame(
        {
            "group": group_numbers(rep_of, len(reps), links),
            "exact": exact_copy,
            "nearest": near_pos,
            "distance": dist,
            "ratio": np.where(exact_copy, np.nan, linked_ratio[rep_of]),
        }
    )
    return frame, space


def _reasons(
    group: np.ndarray,
    keeper: np.ndarray,
    keys: np.ndarray,
    ids: np.ndarray,
    pos_dist: Any,
    ratio: np.ndarray,
) -> list[str | None]:
    keeper_of = {int(group[p]): p for p in np.flatnonzero(keeper).tolist()}
    sizes = pd.Series(group[group >= 0]).value_counts().to_dict()
    out: list[str | None] = [None] * len(group)
    for p in np.flatnonzero(group >= 0).tolist():
        g = int(group[p])
        k = keeper_of[g]
        if p == k:
            out[p] = f"keeper of group {g} ({sizes[g]} samples)"
        elif keys[p] == keys[k]:
            out[p] = f"exact copy of {ids[k]}"
        else:
            out[p] = f"near copy of {ids[k]}: distance {pos_dist(p, k):.2f}"
            if ratio[p] == ratio[p]:
                out[p] += f" ({ratio[p]:.2f} of each one's nearest other neighbour's)"
    return out


def _frame(
    groups: pd.DataFrame,
    keeper: np.ndarray,
    keys: np.ndarray,
    ids: np.ndarray,
    space: _Space | None,
) -> pd.DataFrame:
    group = groups["group"].to_numpy()

    def pos_dist(p: int, k: int) -> float:
        if space is None:
            return float("nan")
        Z, rep_of, typical, _ = space
        return float(np.linalg.norm(Z[rep_of[p]] - Z[rep_of[k]]) / typical)

    dist = groups["distance"].to_numpy(dtype=np.float64)
    ratio = groups["ratio"].to_numpy(dtype=np.float64)
    # relative to the typical neighbour distance, or (pairs of the local ratio test) to
    # the pair's own neighbourhoods: the closer of the two
    score = 1.0 - np.clip(np.nan_to_num(np.fmin(dist, ratio), nan=1.0), 0.0, 1.0)
    nearest_pos = groups["nearest"].to_numpy()
    found = nearest_pos >= 0
    nearest_id = pd.array(np.zeros(len(nearest_pos), dtype=np.int64), dtype="Int64")
    nearest_id[found] = np.asarray(ids)[nearest_pos[found]]
    nearest_id[~found] = pd.NA
    frame = pd.DataFrame(
        {
            "score": score,
            "is_duplicate": (group >= 0) & ~keeper,
            "group": pd.array(np.where(group >= 0, group, 0), dtype="Int64"),
            "keeper": keeper,
            "reason": pd.Series(_reasons(group, keeper, keys, ids, pos_dist, ratio), dtype=object),
            "nearest_id": nearest_id,
            "distance": dist,
        },
        index=pd.Index(ids, name="sample_id"),
    )
    frame.loc[group < 0, "group"] = pd.NA
    return frame


def find_duplicates(
    X: Any,
    *,
    keys: Any = None,
    ids: Any = None,
    labels: Any = None,
    confidence: Any = None,
    near: bool = True,
    threshold: float | None = None,
    keep: str = "first",
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Exact and near duplicates of the rows of ``X``, grouped, one keeper per group.

    Parameters
    ----------
    X : array-like (n, d)
        Numeric features (encode other columns with
        :func:`~dcai_jupyter.ops.feature_matrix`).
    keys : array-like of n ints, optional
        Exact-content keys (:func:`content_keys`); default: identical rows of ``X``.
    ids : array-like, optional
        Sample ids (default 0..n-1); ``keep="first"`` keeps the smallest.
    labels, confidence : array-like, optional
        For ``keep="best"``: the labels, and the out-of-sample probability of each row's
        own label (breaks label ties).
    near, threshold, random_state
        As in :func:`duplicate_groups`.
    keep : {"first", "best"}
        Which member each group keeps (see the module docstring).

    Returns
    -------
    pd.DataFrame indexed by sample id
        ``score`` (1 = exact copy, falling to 0 at the typical nearest-neighbour distance,
        or for a pair of the local ratio test at its neighbourhoods' distance),
        ``is_duplicate`` (in a group and not its keeper: the rows to remove), ``group``
        (Int64, NA outside groups), ``keeper``, ``reason`` (``"exact copy of 12"``,
        ``"near copy of 12: distance 0.03"``), ``nearest_id`` and ``distance`` (to the
        nearest other distinct row, relative to the typical one).
    """
    if keep not in KEEP:
        raise ValueError(f"keep must be one of {KEEP}; got {keep!r}")
    M = as_float_matrix(X)
    n = M.shape[0]
    k = (
        content_keys({f"c{j}": M[:, j] for j in range(M.shape[1])})
        if keys is None
        else np.asarray(keys, dtype=np.int64)
    )
    idx = np.arange(n) if ids is None else np.asarray(ids)
    if len(idx) != n or len(k) != n:
        raise ValueError(f"X has {n} rows but ids/keys have {len(idx)}/{len(k)}")
    if pd.Index(idx).has_duplicates:
        raise ValueError("ids must be unique")
    groups, space = _group_rows(M, k, near, threshold, random_state)
    keeper = choose_keepers(
        groups["group"].to_numpy(),
        keep=keep,
        ids=idx,
        labels=None if labels is None else np.asarray(labels, dtype=object),
        confidence=None if confidence is None else np.asarray(confidence, dtype=np.float64),
    )
    frame = _frame(groups, keeper, k, idx, space)
    frame.attrs["threshold"] = None if space is None else space[3]
    return frame


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
            groups, space = _group_rows(
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
        frame = _frame(groups, keeper, keys, ids, space)
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
