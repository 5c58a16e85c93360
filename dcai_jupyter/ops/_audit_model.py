"""Audited issue types read from the shared probabilities and neighbour graph.

- :func:`label_findings`: the label-issue findings of a :class:`LabelIssues` operation from
  the audit's probabilities (the same cross-validation, so the same findings as
  ``ds.find_label_issues()`` with those parameters).
- :class:`UnderperformingGroup` (``underperforming_group``): clusters of the feature
  space where out-of-sample accuracy is far below the rest; each cluster a group.
- :class:`DataValuation` (``data_valuation``): the KNN-Shapley value of every sample
  (the closed form of Jia et al. 2019, "Efficient task-specific data valuation for
  nearest neighbor algorithms"); samples of negative value are flagged (removable).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from ._audit_context import GRAPH_K, AuditContext, context_for, finding_frame, make_findings
from ._base import Operation, register
from ._removal import RemovalOperation

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset, Findings
    from ._label_issues import LabelIssues

__all__ = ["DataValuation", "UnderperformingGroup", "knn_shapley", "label_findings"]


# ---------------------------------------------------------------------------- label issues
def label_findings(op: LabelIssues, ds: Dataset, ctx: AuditContext) -> Findings:
    """``op``'s findings on ``ds`` computed from the context's probabilities.

    The context must have been built with ``op``'s ``features``, ``model``, ``cv`` and
    ``random_state`` (the audit builds both from its own parameters); the frame, roles,
    params and attrs are those ``op.find(ds)`` returns.
    """
    if len(ds) == 0:
        raise ValueError("the dataset is empty: there is nothing to check")
    labeled = ctx.labeled
    if not labeled.any():
        raise ValueError("no sample has a label: there is nothing to check")
    present = ctx.present
    opts = op._options(ds, present)
    return op.findings_from_probs(
        ds, labeled, ctx.codes, present, ctx.probs, opts, ctx.design_features, refined=ctx.refined
    )


# ---------------------------------------------------------------------------- groups
def _norm_sf(z: np.ndarray) -> np.ndarray:
    return np.array([0.5 * math.erfc(v / math.sqrt(2.0)) for v in np.ravel(z)]).reshape(np.shape(z))


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _bernoulli_ll(k: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Log-likelihood of ``k`` errors in ``m`` rows at their own rate (0 log 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(m > 0, k / np.maximum(m, 1), 0.0)
        a = np.where(k > 0, k * np.log(np.where(r > 0, r, 1.0)), 0.0)
        b = np.where(m - k > 0, (m - k) * np.log(np.where(r < 1, 1 - r, 1.0)), 0.0)
    return a + b


def _refine(
    Z: np.ndarray, correct: np.ndarray, members: np.ndarray, gap: float, min_size: int
) -> np.ndarray:
    """A region's rows re-drawn as the ball around its errors that best separates them.

    The rows of low local accuracy follow the neighbour graph's shape, not the region's:
    around the mean of the region's misclassified rows, the rows in order of distance form
    nested balls, and the one of largest Bernoulli likelihood ratio (errors inside vs
    outside, a scan statistic) whose accuracy is at least ``gap`` below the rest's
    replaces the region when it explains the errors better than the region does.
    """
    err = 1.0 - np.asarray(correct, dtype=np.float64)
    n = len(err)
    wrong = members & (err > 0)
    if not wrong.any():
        return members
    d = ((Z - Z[wrong].mean(axis=0)) ** 2).sum(axis=1)
    order = np.argsort(d, kind="stable")
    inside = np.cumsum(err[order])
    sizes = np.arange(1, n + 1, dtype=np.float64)
    total = float(err.sum())
    rest_n = n - sizes
    rate_in = inside / sizes
    rate_out = np.divide(total - inside, rest_n, out=np.zeros(n), where=rest_n > 0)
    ok = (sizes >= min_size) & (sizes <= n // 2) & (rate_in - rate_out >= gap)
    if not ok.any():
        return members
    llr = _bernoulli_ll(inside, sizes) + _bernoulli_ll(total - inside, rest_n)
    llr = np.where(ok, llr, -np.inf)
    j = int(np.argmax(llr))
    k_in = float(err[members].sum())
    n_in = float(members.sum())
    own = float(
        (
            _bernoulli_ll(np.array([k_in]), np.array([n_in]))
            + _bernoulli_ll(np.array([total - k_in]), np.array([n - n_in]))
        )[0]
    )
    if not llr[j] > own:
        return members
    ball = np.zeros(n, dtype=bool)
    ball[order[: j + 1]] = True
    return ball


@register
class UnderperformingGroup(Operation):
    """Find regions of the feature space where the model is far less accurate than elsewhere.

    Each labeled row's *local accuracy* is the share of correct out-of-sample predictions
    (the shared cross-validated probabilities against the given labels) among itself and
    its ``k`` nearest labeled neighbours. Rows whose local accuracy is at least ``gap``
    below the overall accuracy are joined through the neighbour graph into connected
    regions; a region is flagged (a group) when it holds at least ``min_size`` rows, its
    accuracy is at least ``gap`` below that of the other rows, and the difference is
    significant (one-sided binomial z-test at ``alpha`` over the number of regions). A
    flagged region is then re-drawn as the ball around its misclassified rows that best
    separates errors inside from outside (a Bernoulli likelihood-ratio scan) when that
    ball explains the errors better than the region does.

    Parameters
    ----------
    gap
        How far below the rest a region's accuracy must be.
    alpha
        Significance level (divided by the number of candidate regions).
    k
        Neighbours of the local accuracy (at most 20: the audit's shared graph).
    min_size
        Regions smaller than this are never flagged.
    model, cv, n_jobs
        As in :class:`~dcai_jupyter.ops.LabelIssues` (the shared probabilities).
    features
        Columns to use (default: the feature columns plus the text column).
    random_state
        Seed of the folds and the models.
    """

    name: ClassVar[str] = "underperforming_group"
    change_op: ClassVar[str] = ""
    action: ClassVar[str] = "review"
    needs_findings: ClassVar[bool] = False

    def __init__(
        self,
        *,
        gap: float = 0.15,
        alpha: float = 0.001,
        k: int = 20,
        min_size: int = 20,
        model: Any = None,
        cv: int = 5,
        n_jobs: int | None = None,
        features: Sequence[str] | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.gap = gap
        self.alpha = alpha
        self.k = k
        self.min_size = min_size
        self.model = model
        self.cv = cv
        self.n_jobs = n_jobs
        self.features = features
        self.random_state = random_state

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small data for the find-only conformance test (tests/test_audit.py)."""
        rng = np.random.default_rng(0)
        X = rng.uniform(-3, 3, size=(600, 2))
        y = (X[:, 0] > 0).astype(int)
        region = np.hypot(X[:, 0] + 1.5, X[:, 1] - 1.5) < 1.0
        flip = region & (rng.random(600) < 0.45)
        y[flip] = 1 - y[flip]
        df = pd.DataFrame(X, columns=["a", "b"])
        df["label"] = np.array(["left", "right"], dtype=object)[y]
        return [{"frame": df, "dataset": {"label": "label"}, "operation": cls(cv=3, min_size=10)}]

    def _find(self, ds: Dataset) -> Findings:
        """Find regions where the out-of-sample accuracy is far below the rest.

        Returns
        -------
        Findings
            By sample id (labeled rows): ``score`` (1 - the local accuracy over the
            overall one, at least 0), ``is_underperforming``, ``group`` (one per flagged
            region, NA elsewhere), ``local_accuracy``, ``reason``;
            ``frame.attrs["groups"]`` lists each group's size and accuracy.
        """
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        gap = float(self.gap)
        alpha = float(self.alpha)
        min_size = _positive_int(self.min_size, "min_size")
        k = _positive_int(self.k, "k")
        if k > GRAPH_K:
            raise ValueError(f"k must be at most {GRAPH_K} (the neighbours searched); got {k}")
        if len(ds) == 0:
            raise ValueError("the dataset is empty: there is nothing to check")
        ctx = context_for(
            ds,
            features=self.features,
            random_state=self.random_state,
            model=self.model,
            cv=self.cv,
            n_jobs=self.n_jobs,
        )
        labeled = ctx.labeled
        pos = np.flatnonzero(labeled)
        n = len(pos)
        correct = (ctx.probs.argmax(axis=1) == ctx.codes).astype(np.float64)
        # neighbours among the labeled rows, as labeled-row numbers (-1: unlabeled)
        number = np.full(len(labeled), -1, dtype=np.int64)
        number[pos] = np.arange(n)
        _, idx = ctx.graph
        nb = number[idx[pos, :k]]
        valid = nb >= 0
        hits = correct + np.where(valid, correct[np.maximum(nb, 0)], 0.0).sum(axis=1)
        local = hits / (1.0 + valid.sum(axis=1))
        overall = float(correct.mean()) if n else 1.0
        cand = local <= overall - gap
        rows = np.repeat(np.arange(n), nb.shape[1])
        cols = nb.ravel()
        keep = (cols >= 0) & cand[rows] & cand[np.maximum(cols, 0)]
        graph = coo_matrix((np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=(n, n))
        _, comp = connected_components(graph, directed=False)
        comp = np.where(cand, comp, -1)
        regions = [c for c in np.unique(comp) if c >= 0]
        group = np.full(n, -1, dtype=np.int64)
        groups: dict[str, dict[str, Any]] = {}
        reason = np.full(n, None, dtype=object)
        total = correct.sum()
        for c in regions:
            m = comp == c
            size = int(m.sum())
            if size < min_size or size >= n:
                continue
            acc = float(correct[m].mean())
            rest = float((total - correct[m].sum()) / (n - size))
            var = max(rest * (1 - rest), 1.0 / n) / size
            z = (rest - acc) / math.sqrt(var)
            p = float(_norm_sf(np.array([z]))[0])
            if rest - acc >= gap and p < alpha / max(len(regions), 1):
                g = len(groups)
                m = _refine(ctx.space[labeled], correct, m & (group < 0), gap, min_size)
                m &= group < 0
                size = int(m.sum())
                acc = float(correct[m].mean())
                rest = float((total - correct[m].sum()) / (n - size))
                group[m] = g
                groups[str(g)] = {"rows": size, "accuracy": round(acc, 4), "rest": round(rest, 4)}
                reason[m] = f"region of {size} rows: accuracy {acc:.2f} vs {rest:.2f} elsewhere"
        flag = group >= 0
        score = np.clip(1.0 - local / overall, 0.0, None) if overall > 0 else np.zeros(n)
        frame = pd.DataFrame(
            {
                "score": score,
                "is_underperforming": flag,
                "group": pd.array(np.where(flag, group, 0), dtype="Int64"),
                "local_accuracy": local,
                "reason": reason,
            },
            index=pd.Index(np.asarray(ds.ids)[pos], name="sample_id"),
        )
        frame.loc[~flag, "group"] = pd.NA
        frame.attrs.update({"groups": groups, "accuracy": round(overall, 4)})
        return make_findings(
            self,
            ds,
            frame,
            {"score": "score", "flag": "is_underperforming", "group": "group", "reason": "reason"},
        )

    def _summary(self, ds: Dataset, findings: Findings) -> dict[str, Any]:
        return {**findings.summary(), "groups": dict(findings.frame.attrs.get("groups", {}))}


# ---------------------------------------------------------------------------- data valuation
def knn_shapley(
    idx: np.ndarray, labels: np.ndarray, k: int, *, valid: np.ndarray | None = None
) -> np.ndarray:
    """KNN-Shapley value of every row, each row valued on its neighbours' labels.

    The closed form of Jia et al. (2019), Theorem 1, with every (labeled) row as a
    validation point and its neighbour list (sorted by distance, itself left out) as the
    training set it sees: for the neighbours ``a_1..a_N`` of a validation point of label
    ``y``, ``s(a_N) = [y(a_N) = y] / N`` and ``s(a_i) = s(a_{i+1}) + ([y(a_i) = y] -
    [y(a_{i+1}) = y]) / K * min(K, i) / i``. A row's value is the mean of its ``s`` over
    every validation point (0 where it is nobody's neighbour).

    Parameters
    ----------
    idx : np.ndarray of int, shape (n, N)
        Each row's nearest other rows, nearest first.
    labels : np.ndarray of int, shape (n,)
        Class codes; negative = unlabeled (never matches, never a validation point).
    k : int
        The ``K`` of the K-nearest-neighbour classifier valued.
    valid : np.ndarray of bool, optional
        Rows used as validation points (default: the labeled ones).

    Returns
    -------
    np.ndarray of float, shape (n,)
        The values (negative: the row's label hurts its neighbours' predictions).
    """
    n, m = idx.shape
    if m == 0 or n == 0:
        return np.zeros(n)
    y = np.asarray(labels, dtype=np.int64)
    use = (y >= 0) if valid is None else np.asarray(valid, dtype=bool) & (y >= 0)
    rows = np.flatnonzero(use)
    nb = idx[rows]
    yn = y[nb]
    match = ((yn == y[rows][:, None]) & (yn >= 0)).astype(np.float64)
    s = np.empty_like(match)
    s[:, m - 1] = match[:, m - 1] / m
    for i in range(m - 2, -1, -1):
        rank = i + 1  # 1-based rank of column i
        s[:, i] = s[:, i + 1] + (match[:, i] - match[:, i + 1]) / k * min(k, rank) / rank
    total = np.bincount(nb.ravel(), weights=s.ravel(), minlength=n)
    return total / max(len(rows), 1)


@register
class DataValuation(RemovalOperation):
    """Value every sample by KNN-Shapley (Jia et al. 2019); flag and remove the harmful ones.

    Each labeled sample is a validation point for a K-nearest-neighbour classifier over
    its neighbours in the scaled feature space (the audit's shared graph); a sample's
    value is its mean Shapley value over those points (:func:`knn_shapley`). A sample
    whose label disagrees with the samples around it lowers their predictions: its value
    is negative. Flagged: value times the number of rows below ``threshold`` (a little
    below 0, so that rows on a class boundary, whose value is about 0, are not flagged).

    Parameters
    ----------
    k
        The K of the nearest-neighbour classifier valued.
    threshold
        Flag samples whose value times the number of rows is below this (the harmful
        ones: negative).
    features
        Columns to use (default: the feature columns plus the text column).
    random_state
        Seed of the principal components on wide data.
    """

    name: ClassVar[str] = "data_valuation"
    change_op: ClassVar[str] = "remove_low_value"
    action: ClassVar[str] = "remove"

    def __init__(
        self,
        *,
        k: int = 10,
        threshold: float = -0.05,
        features: Sequence[str] | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.k = k
        self.threshold = threshold
        self.features = features
        self.random_state = random_state

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small data for the operations conformance test (tests/test_operations.py)."""
        from sklearn.datasets import make_blobs

        X, y = make_blobs(n_samples=90, centers=3, n_features=3, random_state=0)
        y = y.copy()
        y[[4, 40, 77]] = (y[[4, 40, 77]] + 1) % 3
        df = pd.DataFrame(X, columns=["a", "b", "c"])
        df["label"] = np.array(["ant", "bee", "cat"], dtype=object)[y]
        return [
            {"frame": df, "dataset": {"label": "label"}, "operation": cls(), "name": "default"},
            {
                "frame": df,
                "dataset": {"label": "label"},
                "operation": cls(k=5, threshold=0.0, features=["a", "b"]),
                "options": {"top": 2},
                "name": "k=5 on two features, top 2",
            },
        ]

    def values(self, ds: Dataset) -> np.ndarray:
        """The KNN-Shapley value of every row of ``ds`` (in row order)."""
        k = _positive_int(self.k, "k")
        if k > GRAPH_K:
            raise ValueError(f"k must be at most {GRAPH_K} (the neighbours searched); got {k}")
        ctx = context_for(ds, features=self.features, random_state=self.random_state)
        _, idx = ctx.graph
        codes = np.full(len(ds), -1, dtype=np.int64)
        codes[ctx.labeled] = ctx.codes
        return knn_shapley(idx, codes, k)

    def _find(self, ds: Dataset) -> Findings:
        """Value every sample by KNN-Shapley; flag the ones below ``threshold``.

        Returns
        -------
        Findings
            By sample id: ``score`` (minus the value, scaled by the number of rows: higher
            = less valuable), ``value``, ``low_value`` (flag), ``reason``. Remove the
            flagged ones with :meth:`remove_flagged`.
        """
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, numbers.Real):
            raise ValueError(f"threshold must be a number; got {self.threshold!r}")
        if len(ds) == 0:
            raise ValueError("the dataset is empty: there is nothing to value")
        value = self.values(ds)
        ctx = context_for(ds, features=self.features, random_state=self.random_state)
        flag = (value * len(value) < float(self.threshold)) & ctx.labeled
        reason = np.full(len(value), None, dtype=object)
        reason[flag] = [
            f"KNN-Shapley value {v * len(value):+.2f} (x1/n): its label hurts its neighbours'"
            for v in value[flag]
        ]
        frame = finding_frame(
            ds,
            {"score": -value * len(value), "value": value, "low_value": flag, "reason": reason},
        )
        return make_findings(
            self, ds, frame, {"score": "score", "flag": "low_value", "reason": "reason"}
        )
