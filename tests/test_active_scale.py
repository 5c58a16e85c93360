"""Issue 21: one active-learning round over a large pool. The pool is predicted in blocks and
the top candidates found by a partition, with the results of the one-shot code; diversity
looks at the candidates only, and a round over a large pool allocates little."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs

import dcai_jupyter as dj
from dcai_jupyter.ops import _active, _pool_model, select_samples
from dcai_jupyter.ops._folds import fit_predict_proba
from dcai_jupyter.ops._pool_model import default_model, pool_predictions


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-4, 4), min_size=1, max_size=80), st.integers(1, 90))
def test_top_by_partition_is_the_sorted_prefix(values, k):
    scores = np.asarray(values, dtype=np.float64) / 3
    want = np.lexsort((np.arange(len(scores)), -scores))[:k]  # the former full sort
    np.testing.assert_array_equal(_active._top(scores, k), want)


def test_blocked_pool_predictions_equal_one_shot(monkeypatch):
    X, y = make_blobs(n_samples=700, centers=3, n_features=4, cluster_std=2.0, random_state=0)
    lab, pool = X[:60], X[60:]
    # the straightforward way: one stacked matrix, one predict_proba over the whole pool
    stacked = np.vstack([lab, pool])
    want = fit_predict_proba(
        default_model(60), stacked, np.concatenate([y[:60], np.zeros(640, dtype=np.int64)]),
        np.arange(60), np.arange(60, 700), 3,
    )  # fmt: skip
    monkeypatch.setattr(_pool_model, "POOL_CHUNK", 97)
    got, cls = pool_predictions(lab, y[:60], pool, progress=False)
    assert cls == [0, 1, 2]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_diversity_clusters_the_shortlist_only(monkeypatch):
    """k-means sees the 10 * k most uncertain rows, never the pool."""
    rng = np.random.default_rng(0)
    n, k = 200_000, 8
    probs = rng.dirichlet(np.ones(3), n)
    X = rng.normal(size=(n, 3))
    from sklearn.cluster import KMeans

    fitted: list[int] = []
    fit = KMeans.fit

    def spy(self, X, *args, **kwargs):
        fitted.append(len(X))
        return fit(self, X, *args, **kwargs)

    monkeypatch.setattr(KMeans, "fit", spy)
    tracemalloc.start()
    try:
        picks, _, _ = select_samples(probs, k, X=X, random_state=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fitted == [10 * k]
    margin = _active.margin(probs)
    shortlist = _active._top(margin, 10 * k)
    assert set(picks.tolist()) <= set(shortlist.tolist()) and len(set(picks.tolist())) == k
    # the pool's scores and their partition, a few arrays of n values: nothing n x n
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MB"


def test_round_over_a_large_pool_stays_small():
    """150,000 pool rows: the round's allocations stay within a few arrays of the pool."""
    X, y = make_blobs(n_samples=150_030, centers=3, n_features=4, cluster_std=2.0, random_state=1)
    df = pd.DataFrame(X, columns=list("abcd"))
    labels = np.full(len(df), np.nan)
    labels[:30] = y[:30]
    df["label"] = labels
    ds = dj.Dataset(df, label="label", history=":memory:")
    tracemalloc.start()
    try:
        f = ds.suggest_samples(k=10, progress=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(f.frame) == 10 and f.frame["suggested"].all()
    assert peak < 200 * 2**20, f"peak {peak / 2**20:.0f} MB"


def test_the_knn_member_votes_among_a_fixed_subset_of_many_labels(monkeypatch):
    """Issue 21: above POOL_MAX_REFERENCE labeled rows the default model's kNN searches a
    fixed random subset (pool predictions linear in the pool, not labeled x pool)."""
    from dcai_jupyter.ops import _pool_knn
    from dcai_jupyter.ops._pool_knn import ReferenceKNN

    monkeypatch.setattr(_pool_knn, "POOL_MAX_REFERENCE", 50)
    knn = dict(default_model(300).estimators)["knn"]
    assert isinstance(knn, ReferenceKNN) and knn.max_reference == 50
    assert not isinstance(dict(default_model(50).estimators)["knn"], ReferenceKNN)
    X, y = make_blobs(n_samples=300, centers=3, n_features=4, random_state=0)
    y[:2] = 3  # a class of two rows, absent from most subsets
    fitted = ReferenceKNN(n_neighbors=5, max_reference=50, random_state=0).fit(X, y)
    assert fitted.model_[-1].n_samples_fit_ == 50
    assert fitted.classes_.tolist() == [0, 1, 2, 3]
    p = fitted.predict_proba(X)
    assert p.shape == (300, 4)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    again = ReferenceKNN(n_neighbors=5, max_reference=50, random_state=0).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), p)  # a fixed subset
    # the whole pool model still fits and predicts every class
    got, cls = pool_predictions(X[::2], y[::2], X[1::2], progress=False)
    assert cls == [0, 1, 2, 3] and got.shape == (150, 4)
