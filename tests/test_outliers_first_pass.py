"""``outlier_scores`` when more than half the rows are flagged in the first pass with an
approximate candidate graph: no refit, and the first pass's flags are verified exactly in
the whitened view it already built (the views are not built a second time)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dcai_jupyter.ops import _outliers
from dcai_jupyter.ops._outliers import outlier_scores


def _table(n: int = 300, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(5, 5))
    X = rng.normal(size=(n, 5)) @ A  # correlated columns: whitening changes the neighbours
    X[:5] += 12
    X[5:8] = X[8:11]  # exact duplicates: zero distances meet the floor
    return X


def _approx(X: np.ndarray, threshold: float) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pynndescent on a few hundred rows
        return outlier_scores(X, k=5, threshold=threshold, exact=False)


def test_everything_flagged_approximately_scores_as_the_exact_path() -> None:
    """Every row is a suspect: its whitened distances are all measured exactly, and the
    graph holds the scaled view's true neighbours on 300 rows, so the approximate path
    gives the exact path's scores; without the verification they differ."""
    X = _table()
    approx = _approx(X, -1e6)
    exact = outlier_scores(X, k=5, threshold=-1e6, exact=True)
    np.testing.assert_allclose(approx, exact, rtol=0, atol=1e-9)


def test_everything_flagged_without_verification_differs(monkeypatch) -> None:
    X = _table()
    exact = outlier_scores(X, k=5, threshold=-1e6, exact=True)
    monkeypatch.setattr(_outliers, "_exactly", lambda V, v, rows, k: v)
    assert np.abs(_approx(X, -1e6) - exact).max() > 0.3  # 0.54: the graph misses some


def test_more_than_half_flagged_keeps_the_scores_and_builds_the_views_once(monkeypatch) -> None:
    """The scores the code gave before the views were kept (recorded from it): 210 of
    300 rows above -0.5, so no refit; the views are scaled and whitened once."""
    calls = {"whiten": 0, "query": 0}
    whiten, query = _outliers._whiten, _outliers.query

    def counted_whiten(*a, **kw):
        calls["whiten"] += 1
        return whiten(*a, **kw)

    def counted_query(*a, **kw):
        calls["query"] += 1
        return query(*a, **kw)

    monkeypatch.setattr(_outliers, "_whiten", counted_whiten)
    monkeypatch.setattr(_outliers, "query", counted_query)
    score = _approx(_table(), -0.5)
    assert int((score > -0.5).sum()) == 210
    # one pass: the whitened view's typical distance from an exact sample (its excess is 0
    # here: the scores are the ones recorded), then its suspects verified once
    assert calls == {"whiten": 1, "query": 2}
    assert float(score.sum()) == pytest.approx(49.720055549652436, rel=1e-9)
    recorded = {
        0: 6.142381063532545,
        5: 0.3001990170102,
        6: -1.1678720671081406,
        7: 0.11468439470688685,
        100: 0.7382276959264733,
        299: 0.05259127916739572,
    }
    for row, value in recorded.items():
        assert score[row] == pytest.approx(value, rel=1e-9, abs=1e-12)
