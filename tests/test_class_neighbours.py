"""SMOTE's neighbours within a class (issue 21): scikit-learn's lists exactly, ties included,
from the float32 scan with exact checks (``ops/_class_neighbours.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

from dcai_jupyter.ops._class_neighbours import _search, sklearn_neighbours


def _reference(X: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """imbalanced-learn's lists: one call over every row of the class, first column dropped."""
    nn = NearestNeighbors(n_neighbors=k + 1).fit(X)
    return nn.kneighbors(X, return_distance=False)[rows, 1:]


@pytest.mark.parametrize("threads", [1, 2])
def test_ties_are_broken_as_scikit_learn_breaks_them(threads):
    """Integer rows: many exact copies and equal distances; 20 columns (brute force)."""
    rng = np.random.default_rng(0)
    m = 3000
    X = rng.integers(0, 3, (m, 20)).astype(np.float64)
    rows = np.unique(rng.integers(0, m, 1900))
    with threadpool_limits(threads):
        for k in (1, 5):
            got, asked = _search(X, rows, k, scan_pairs=0)
            np.testing.assert_array_equal(got, _reference(X, rows, k))
            assert asked.sum() > 100  # ties everywhere: scikit-learn answers them
        few = rows[:3]  # a few rows asked: their query blocks, not the rows alone
        np.testing.assert_array_equal(sklearn_neighbours(X, few, 5), _reference(X, few, 5))


def test_continuous_rows_come_from_the_scan_and_copies_and_ties_are_asked():
    rng = np.random.default_rng(1)
    m, d = 4000, 24
    X = rng.normal(size=(m, d))
    X[rng.integers(0, m, 20)] = X[rng.integers(0, m, 20)]  # exact copies
    X[:50] = np.round(X[:50], 1)  # decimals: near ties in float64
    # a row with two neighbours at the same distance (mirror images around it)
    X[1] = X[0] + 0.01
    X[2] = X[0] - 0.01
    rows = np.unique(rng.integers(0, m, 2500))
    rows = np.union1d(rows, [0, 1, 2])
    got, asked = _search(X, rows, 5, scan_pairs=0)
    np.testing.assert_array_equal(got, _reference(X, rows, 5))
    at = np.searchsorted(rows, 0)
    assert asked[at]  # the equal distances are scikit-learn's to order
    assert asked.mean() < 0.2  # the others are certified by the scan
    assert set(got[at, :2]) == {1, 2}


@pytest.mark.parametrize("d", [3, 12, 30])
def test_small_low_and_high_dimensional_classes_equal_scikit_learn(d):
    rng = np.random.default_rng(d)
    for m in (7, 60, 700):
        X = rng.normal(size=(m, d))
        X[-3:] = X[:3]
        rows = np.unique(rng.integers(0, m, m // 2 + 1))
        k = min(5, m - 1)
        for pairs in (0, 10**9):
            np.testing.assert_array_equal(
                sklearn_neighbours(X, rows, k, scan_pairs=pairs), _reference(X, rows, k)
            )


def test_a_k_the_class_cannot_give_is_refused():
    X = np.zeros((4, 20))
    with pytest.raises(ValueError, match="k must be between 1 and the rows minus one"):
        sklearn_neighbours(X, np.arange(4), 4)


def test_many_equal_values_take_the_sorted_selection_with_the_same_lists(monkeypatch):
    """A row with more hits than ``BY_ROW_CELLS`` allows in a matrix (copies of it) is
    selected by sorting the hits: the same lists."""
    from dcai_jupyter.ops import _class_neighbours

    rng = np.random.default_rng(2)
    X = rng.normal(size=(3000, 20))
    X[:400] = X[0]  # 400 copies: every query among them has 400 hits at distance 0
    rows = np.unique(rng.integers(0, 3000, 1500))
    want = _reference(X, rows, 5)
    got_matrix, asked = _search(X, rows, 5, scan_pairs=0)
    monkeypatch.setattr(_class_neighbours, "BY_ROW_CELLS", 0)
    got_sorted, asked_sorted = _search(X, rows, 5, scan_pairs=0)
    np.testing.assert_array_equal(got_matrix, want)
    np.testing.assert_array_equal(got_sorted, want)
    np.testing.assert_array_equal(asked, asked_sorted)
    assert asked[rows < 400].all() and not asked[rows >= 400].all()
