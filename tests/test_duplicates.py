"""Near duplicates: the local ratio test (mutual nearest neighbours, measured along the data)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits, make_classification

from dcai_jupyter.ops import find_duplicates
from dcai_jupyter.ops._duplicates import (
    chance_ratio,
    duplicate_groups,
    mutual_pairs,
    nearest_two,
    tangent_ratio,
)


def noisy_copies(X: np.ndarray, n: int, sigma: float, seed: int = 0) -> tuple[np.ndarray, Any]:
    rng = np.random.default_rng(seed)
    src = rng.choice(len(X), n, replace=False)
    copies = X[src] + rng.normal(size=(n, X.shape[1])) * sigma
    return np.vstack([X, copies]), src


def test_noisy_copies_as_far_as_distinct_neighbours_are_found_without_false_pairs() -> None:
    X = load_digits().data
    A, src = noisy_copies(X, 60, 1.0)
    n = len(X)
    res = find_duplicates(A)
    flagged = res.index[res["group"].notna()]
    truth = set(src.tolist()) | set(range(n, n + 60))
    assert set(flagged) <= truth  # every flagged row is a copy or its original
    g = res["group"]
    found = [i for i in range(60) if pd.notna(g[n + i]) and g[n + i] == g[src[i]]]
    assert len(found) >= 40  # most copies (sigma 1 pixel: ~8 units, like distinct digits)
    # the global distance alone finds few of them: they are not close in absolute terms
    plain = find_duplicates(A, threshold=0.3)
    assert plain["group"].notna().sum() < 20
    # a pair of the ratio test says so, and scores as the closer of its two distances
    row = n + found[0]
    assert "nearest other neighbour" in str(res.loc[row, "reason"])
    assert float(res.loc[row, "score"]) > 0.5  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "X",
    [
        load_digits().data,
        make_classification(3000, 50, n_informative=8, random_state=2)[0],
        make_classification(20000, 20, random_state=0)[0],
    ],
    ids=["digits", "wide noise columns", "20k rows"],
)
def test_nothing_flagged_on_clean_data(X: np.ndarray) -> None:
    res = find_duplicates(X)
    assert res["group"].isna().all() and not res["is_duplicate"].any()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_close_pairs_of_dense_regions_are_not_copies(seed: int) -> None:
    X = make_classification(4000, 10, random_state=seed)[0]
    groups = duplicate_groups(X)
    assert groups["ratio"].isna().all() and (groups["group"] < 0).all()
    # by the global distance alone, seeds 1 and 2 have a pair closer than the cut (0.24
    # and 0.28 of the typical distance) with other rows about as close: not a copy
    if seed in (1, 2):
        cut = find_duplicates(X).attrs["threshold"]
        assert find_duplicates(X, threshold=cut)["group"].notna().sum() == 2


def test_tight_group_of_several_copies_is_one_group() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(500, 8))
    jitter = X[7] + rng.normal(scale=1e-3, size=(4, 8))  # 4 copies of row 7
    res = find_duplicates(np.vstack([X, jitter]))
    g = res["group"]
    assert g.notna().sum() == 5 and g.loc[[7, 500, 501, 502, 503]].nunique() == 1


def test_chance_ratio_follows_the_uniform_cloud_law() -> None:
    # n * t ** m = 0.2 chance pairs
    assert chance_ratio(1000, 5.0) == pytest.approx((0.2 / 1000) ** 0.2)
    assert chance_ratio(20000, 16.0) > chance_ratio(2000, 8.0)  # higher dimension: closer to 1
    assert chance_ratio(1000, float("nan")) == 0.0 and chance_ratio(2, 3.0) == 0.0
    # empirically: in a uniform cloud about n * t ** m rows have d1 / d2 below t
    rng = np.random.default_rng(0)
    Z = rng.uniform(size=(4000, 3))
    from dcai_jupyter.ops._neighbours import neighbour_graph

    dk, _ = neighbour_graph(Z, 2)
    t = 0.3
    assert abs((dk[:, 0] / dk[:, 1] < t).mean() - t**3) < 0.01


def test_tangent_ratio_takes_the_tangent_at_the_member_on_the_data() -> None:
    rng = np.random.default_rng(1)
    # a 2-D plane in 20 dimensions; the copy of row 0 is off the plane by noise
    basis = np.linalg.qr(rng.normal(size=(20, 2)))[0].T
    Z = rng.normal(size=(800, 2)) @ basis
    d0 = np.sort(np.linalg.norm(Z - Z[0], axis=1))[1]  # row 0's nearest neighbour
    u = rng.normal(size=20)
    copy = Z[0] + 0.6 * d0 * u / np.linalg.norm(u)  # noise in every direction
    Z = np.vstack([Z, copy])
    from dcai_jupyter.ops._neighbours import neighbour_graph

    _, ik = neighbour_graph(Z, 16)
    a, b = mutual_pairs(ik)
    assert (0, 800) in set(zip(a.tolist(), b.tolist(), strict=True))
    r = tangent_ratio(Z, ik, a, b, 2.0)
    pair = r[(a == 0) & (b == 800)][0]
    plain = np.linalg.norm(Z[800] - Z[0]) / np.sort(np.linalg.norm(Z[:800] - Z[0], axis=1))[1]
    assert pair < plain / 2  # most of the noise lies off the plane
    assert np.isinf(tangent_ratio(Z, ik[:, :1], a, b, 2.0)).all()  # no other neighbour


@pytest.mark.parametrize("n", [2, 3, 700, 2600])
def test_nearest_two_is_exact(n: int) -> None:
    rng = np.random.default_rng(n)
    Z = rng.normal(size=(n, 5))
    got = nearest_two(Z)
    D = np.linalg.norm(Z[:, None, :] - Z[None, :, :], axis=2)
    np.fill_diagonal(D, np.inf)
    want = np.argsort(D, axis=1, kind="stable")[:, : min(2, n - 1)]
    assert got.shape == want.shape and (got == want).all()


def test_texts_by_meaning_need_the_cosine_and_the_other_columns() -> None:
    from dcai_jupyter.ops._mixed_rows import TEXT_MEANING, near_copy_pairs

    # unit vectors: rows 0 and 1 at cosine 0.5, row 2 at cosine 0.5 to row 0 but another
    # store; row 3 unrelated (cosine 0)
    E = np.array([[1.0, 0.0, 0.0], [0.5, np.sqrt(0.75), 0.0], [0.5, 0.0, np.sqrt(0.75)]])
    E = np.vstack([E, [0.0, 0.0, 1.0]])
    cols = {
        "note": np.array(["a b", "c d", "e f", "g h"], dtype=object),
        "store": np.array(["x", "x", "y", "x"], dtype=object),
        "price": np.array([10.0, 10.1, 10.0, 10.0]),
    }
    roles = {"note": "text", "store": "categorical", "price": "numeric"}
    a, b, _ = near_copy_pairs(cols, roles, meaning={"note": E})
    assert TEXT_MEANING < 0.5 and list(zip(a.tolist(), b.tolist(), strict=True)) == [(0, 1)]
    a, b, _ = near_copy_pairs(cols, roles, meaning={"note": E}, min_cosine=0.6)
    assert len(a) == 0


@pytest.mark.parametrize("seed", range(12))
def test_mixed_near_copy_pairs_equal_every_pair_checked_by_hand(seed: int) -> None:
    # the blocked sweep (on the number with the most distinct values) finds exactly the
    # pairs a check of every pair finds: same other columns, every number within rtol
    from dcai_jupyter.ops._mixed_rows import NEAR_RTOL, near_copy_pairs

    rng = np.random.default_rng(seed)
    n = 150
    cat = rng.choice(["a", "b", None], n).astype(object)
    nums = [
        rng.integers(0, 4, n).astype(float),  # many ties
        rng.lognormal(0, 1, n),
        np.round(rng.normal(0, 3, n)),
    ]
    src, dst = rng.integers(0, n, 30), rng.integers(0, n, 30)
    for x in nums:
        x[dst] = x[src] * (1 + rng.normal(0, NEAR_RTOL / 4, 30))
        x[rng.random(n) < 0.1] = np.nan
    cat[dst] = cat[src]
    cols = {"cat": cat, **{f"x{j}": x for j, x in enumerate(nums)}}
    roles = {"cat": "categorical", **{f"x{j}": "numeric" for j in range(len(nums))}}
    a, b, _ = near_copy_pairs(cols, roles)
    want = set()
    for i in range(n):
        for j in range(i + 1, n):
            if cat[i] != cat[j]:
                continue
            ok = True
            for x in nums:
                if np.isnan(x[i]) or np.isnan(x[j]):
                    ok &= bool(np.isnan(x[i]) and np.isnan(x[j]))
                else:
                    scale = max(abs(x[i]), abs(x[j]))
                    ok &= scale == 0 or abs(x[i] - x[j]) / scale <= NEAR_RTOL + 1e-12
            if ok:
                want.add((i, j))
    assert set(zip(a.tolist(), b.tolist(), strict=True)) == want
    assert len(want) >= 10  # most of the 30 copies (a missing number can break one)
