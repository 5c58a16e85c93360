"""The kNN member of the pool models (active learning, pseudo-labels) on many labeled rows.

A kNN vote searches the labeled rows for each pool row's neighbours: with ``m`` labeled rows
and ``p`` pool rows that is ``m * p`` distances, which grows as the square of the table when
both grow with it (pseudo-labels on 1M rows with 10 % labeled: 100k x 900k; stopped after
900 s). Above ``POOL_MAX_REFERENCE`` labeled rows the vote is taken among a fixed random
subset of that many, as the label-issue family's kNN member does among 4,000
(``_crossval.KNN_MAX_REFERENCE``), so the vote costs ``POOL_MAX_REFERENCE * p`` at most;
the gradient-boosting member beside it still learns from every labeled row.

Why 10,000 and not the label-issue family's 4,000 (``benchmarks/scale.py``, pseudo-labels
at threshold 0.95 on 1M rows x 20 with 100k labeled, one thread): a vote among fewer,
farther neighbours is less often confident, so 4,000 labeled 15,374 pool rows (accuracy
0.992) in 25 CPU s and 10,000 labeled 28,660 (0.992) in 43; on the 100k-row table (10k
labeled) 4,000 halved the rows labeled (1,966 instead of 3,810), 10,000 kept them (3,765).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

__all__ = ["POOL_MAX_REFERENCE", "ReferenceKNN"]

#: above this many labeled rows the kNN member votes among a fixed random subset of this size
POOL_MAX_REFERENCE = 10_000


class ReferenceKNN(ClassifierMixin, BaseEstimator):
    """A distance-weighted kNN vote on standardised features among at most
    ``max_reference`` labeled rows (a fixed random subset above that).

    Parameters
    ----------
    n_neighbors : int
        Voters per row.
    max_reference : int
        At most this many labeled rows are searched.
    random_state : int, optional
        Seed of the subset.

    Notes
    -----
    ``classes_`` are every class of the labels ``fit`` saw; a class with no row in the
    subset gets probability 0 from the vote (the ensemble's other member still sees it).
    """

    def __init__(
        self,
        n_neighbors: int = 20,
        max_reference: int = POOL_MAX_REFERENCE,
        random_state: int | None = 0,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.max_reference = max_reference
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> ReferenceKNN:
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        rows = np.arange(len(y))
        if len(y) > self.max_reference:
            rng = np.random.default_rng(self.random_state)
            rows = np.sort(rng.choice(len(y), int(self.max_reference), replace=False))
        k = int(max(1, min(self.n_neighbors, len(rows) - 1)))
        self.model_ = make_pipeline(
            StandardScaler(), KNeighborsClassifier(n_neighbors=k, weights="distance")
        ).fit(X[rows], y[rows])
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        p = self.model_.predict_proba(np.asarray(X, dtype=np.float64))
        if len(self.model_.classes_) == len(self.classes_):
            return p
        out = np.zeros((len(p), len(self.classes_)))
        out[:, np.searchsorted(self.classes_, self.model_.classes_)] = p
        return out

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
