"""Non-IID: does the rows' order carry information (sorted by label or time, drift)?

A kNN-index test, as cleanlab's Datalab runs one: if the rows were shuffled, a row's
nearest neighbours in feature space would sit anywhere in the table, so the mean
distance in row positions between a row and its neighbours would be about a third of the
table. When the order carries information (rows sorted by label, a drift over time),
neighbours sit close together in the order.

The statistic compares the distribution of those position distances with that of random
pairs of rows (a one-sided Kolmogorov-Smirnov distance, as Datalab's test), over the
shared neighbour graph. Its null distribution is estimated by permuting the row order
(``n_permutations`` times, seeded) and the dataset-level p-value is the one-sided normal
tail of the observed value (continuous, so datasets can be ranked by it). Each row gets a z-score of its own
neighbours' mean position distance against what its position would give under a
shuffle; when the dataset-level p-value is below ``alpha``, the rows with a z-score
below ``-row_z`` are flagged: the rows where the order shows.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ._audit_context import context_for, finding_frame, make_findings
from ._base import Operation, register

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset, Findings

__all__ = ["NonIID", "order_test"]


def _norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _ks_closer(dist: np.ndarray, n: int, null_cdf: np.ndarray) -> float:
    """One-sided KS distance: how far the neighbours' position distances sit below chance."""
    counts = np.bincount(dist.ravel(), minlength=n)[:n]
    cdf = np.cumsum(counts) / max(dist.size, 1)
    return float(np.max(cdf - null_cdf))


def order_test(
    idx: np.ndarray, *, n_permutations: int = 64, random_state: int | None = 0, bar: Any = None
) -> tuple[float, float, np.ndarray]:
    """The kNN-index test of row order on a neighbour graph.

    The statistic is the one-sided Kolmogorov-Smirnov distance between the distribution of
    the row-position distances of neighbour pairs and that of random pairs of rows (as
    Datalab's test): large when neighbours sit closer together in the order than chance,
    in the whole table (a drift) or in part of it (a sorted block). Its null distribution
    comes from ``n_permutations`` random orders of the same graph; the p-value is the
    normal tail of the observed value in it.

    Parameters
    ----------
    idx : np.ndarray of int, shape (n, k)
        Each row's neighbours as row positions (in the order tested).
    n_permutations : int
        Random orders the null distribution is estimated from.
    random_state : int, optional
        Seed of the permutations.
    bar : optional
        A progress bar (:func:`._progress.progress_bar`) advanced once per permutation
        (each reads the whole graph: seconds in all on a million rows).

    Returns
    -------
    p_value : float
        One-sided: small when neighbours sit closer together in the order than chance.
    statistic : float
        The observed KS distance.
    row_z : np.ndarray of float, shape (n,)
        Per row: its neighbours' mean position distance in standard errors from what its
        position gives under a shuffle (negative = closer than chance).
    """
    n, k = idx.shape
    if n < 4 or k == 0:
        return 1.0, 0.0, np.zeros(n)
    pos = np.arange(n, dtype=np.int64)
    d = np.arange(n, dtype=np.float64)
    # share of ordered pairs of distinct rows at most d apart
    null_cdf = (2 * d * n - d * (d + 1)) / (n * (n - 1))
    dist = np.abs(pos[:, None] - idx)
    observed = _ks_closer(dist, n, null_cdf)
    rng = np.random.default_rng(random_state)
    null = np.empty(int(n_permutations))
    for r in range(len(null)):
        perm = rng.permutation(n)
        null[r] = _ks_closer(np.abs(perm[:, None] - perm[idx]), n, null_cdf)
        if bar is not None:
            bar.update(1)
    mu, sd = float(null.mean()), float(null.std(ddof=1)) if len(null) > 1 else 0.0
    z = (observed - mu) / sd if sd > 0 else 0.0
    p = 1.0 - _norm_cdf(z)
    # per row: |p - U| for U uniform over the other positions
    pf = pos.astype(np.float64)
    m = n - 1
    s1 = (pf * (pf + 1) / 2 + (m - pf) * (m - pf + 1) / 2) / m
    s2 = (pf * (pf + 1) * (2 * pf + 1) / 6 + (m - pf) * (m - pf + 1) * (2 * (m - pf) + 1) / 6) / m
    var = np.maximum(s2 - s1**2, 1e-12)
    row_z = (dist.mean(axis=1) - s1) / np.sqrt(var / k)
    return float(p), observed, row_z


@register
class NonIID(Operation):
    """Test whether the rows' order carries information; flag the rows where it shows.

    Parameters
    ----------
    k
        Neighbours per row in the test (at most 20: the audit's shared graph).
    alpha
        Significance level of the dataset-level test; rows are flagged only below it.
    row_z
        Flag rows whose neighbours are this many standard errors closer in the order
        than chance.
    n_permutations
        Random orders the null distribution is estimated from.
    features
        Columns to use (default: the feature columns plus the text column).
    random_state
        Seed of the permutations (and of the principal components on wide data).
    """

    name: ClassVar[str] = "non_iid"
    change_op: ClassVar[str] = ""
    action: ClassVar[str] = "review"
    needs_findings: ClassVar[bool] = False

    def __init__(
        self,
        *,
        k: int = 20,
        alpha: float = 0.01,
        row_z: float = 3.0,
        n_permutations: int = 64,
        features: Sequence[str] | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.k = k
        self.alpha = alpha
        self.row_z = row_z
        self.n_permutations = n_permutations
        self.features = features
        self.random_state = random_state

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small data for the find-only conformance test (tests/test_audit.py)."""
        from sklearn.datasets import make_blobs

        X, y = make_blobs(n_samples=90, centers=3, n_features=2, random_state=0)
        order = np.argsort(y, kind="stable")
        import pandas as pd

        df = pd.DataFrame(X[order], columns=["a", "b"])
        df["label"] = np.array(["a", "b", "c"], dtype=object)[y[order]]
        return [{"frame": df, "dataset": {"label": "label"}, "operation": cls(k=5)}]

    def _check(self) -> None:
        for name in ("k", "n_permutations"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
                raise ValueError(f"{name} must be a positive integer; got {v!r}")
        if not 0 < float(self.alpha) < 1:
            raise ValueError(f"alpha must be between 0 and 1; got {self.alpha!r}")

    def _find(self, ds: Dataset) -> Findings:
        """Test whether the rows' order carries information (a kNN-index test).

        Returns
        -------
        Findings
            By sample id: ``score`` (how much closer in the order a row's neighbours sit
            than chance, in standard errors), ``is_non_iid`` (the rows where the order
            shows, only when the test is significant), ``reason``;
            ``frame.attrs["p_value"]`` and ``frame.attrs["statistic"]`` (the KS distance)
            are the dataset-level result.
        """
        self._check()
        if len(ds) == 0:
            raise ValueError("the dataset is empty: there is nothing to test")
        from ._audit_context import in_audit
        from ._base import STAGE_BAR_ROWS
        from ._progress import progress_bar

        ctx = context_for(ds, features=self.features, random_state=self.random_state)
        _, idx = ctx.graph
        idx = idx[:, : int(self.k)]
        # found on its own: a line for the permutations (inside ds.audit(), the audit's)
        show = len(ds) >= STAGE_BAR_ROWS and not in_audit()
        with progress_bar(
            total=int(self.n_permutations), desc="non-iid: order test", disable=not show
        ) as bar:
            p, stat, z = order_test(
                idx,
                n_permutations=int(self.n_permutations),
                random_state=self.random_state,
                bar=bar,
            )
        significant = p < float(self.alpha)
        flag = (z < -float(self.row_z)) & significant
        reason = np.full(len(z), None, dtype=object)
        reason[flag] = [
            f"neighbours {-v:.1f} SE closer in row order than chance (dataset p={p:.2g})"
            for v in z[flag]
        ]
        frame = finding_frame(ds, {"score": -z, "is_non_iid": flag, "reason": reason})
        frame.attrs.update({"p_value": p, "statistic": stat, "significant": bool(significant)})
        return make_findings(
            self, ds, frame, {"score": "score", "flag": "is_non_iid", "reason": "reason"}
        )

    def _summary(self, ds: Dataset, findings: Findings) -> dict[str, Any]:
        a = findings.frame.attrs
        return {**findings.summary(), "p_value": a.get("p_value"), "statistic": a.get("statistic")}
