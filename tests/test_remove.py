"""Remove data: duplicates, outliers and pruning, as array functions and as recorded operations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

import dcai_jupyter as dj
from dcai_jupyter.ops import (
    Duplicates,
    Outliers,
    Prune,
    content_keys,
    find_duplicates,
    find_outliers,
    normalize_text,
    outlier_scores,
    prune_mask,
    rebuild,
)
from dcai_jupyter.ops._prune import PRUNE_RULES
from dcai_jupyter.ops._space import scale_columns


def blobs(n: int = 150, seed: int = 0, features: int = 4) -> pd.DataFrame:
    X, y = make_blobs(n_samples=n, centers=3, n_features=features, random_state=seed)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(features)])
    df["label"] = np.array(["ant", "bee", "cat"], dtype=object)[y]
    return df


def recorded(ds: dj.Dataset) -> tuple[int, int, int]:
    """Version, recorded changes and events: what a failed call must leave as it was."""
    return ds.version, len(ds.history.changes), len(ds.history.events)


# ---------------------------------------------------------------------------- exact content
def test_normalize_text() -> None:
    assert normalize_text("  Hello,   WORLD!! ") == "hello world"
    assert normalize_text("naïve café") == normalize_text("NAÏVE  café.")
    assert normalize_text("a-b") == "a b" != normalize_text("ab")


def test_content_keys_numbers_text_and_images() -> None:
    img = np.arange(16, dtype=np.uint8).reshape(4, 4)
    keys = content_keys(
        {
            "x": [1, 1.0, -0.0, 0.0, np.nan, np.nan, 2.0],
            "t": ["Cat!", "cat", "a b", "A  b", None, None, "cat"],
            "img": [img, img.astype(float), img.T, img.T.copy(), img, img, img.reshape(2, 8)],
        }
    )
    assert keys[0] == keys[1]  # 1 == 1.0, text normalised, uint8 == float pixels
    assert keys[2] == keys[3]  # -0.0 == 0.0, whitespace and case
    assert keys[4] == keys[5]  # missing equals missing
    assert keys[6] != keys[0]  # same values in another shape are another image
    assert len(set(keys.tolist())) == 4
    assert keys.tolist()[:3] == [0, 0, 1]  # numbered by first appearance


def test_content_keys_pil_images_compare_by_pixels() -> None:
    from PIL import Image

    a = np.zeros((5, 5), dtype=np.uint8)
    b = a.copy()
    b[2, 2] = 255
    keys = content_keys(
        {"img": [Image.fromarray(a), Image.fromarray(a.copy()), Image.fromarray(b)]}
    )
    assert keys[0] == keys[1] != keys[2]


def test_content_keys_errors() -> None:
    with pytest.raises(ValueError, match="no column"):
        content_keys({})
    with pytest.raises(ValueError, match="different lengths"):
        content_keys({"a": [1, 2], "b": [1]})


# ---------------------------------------------------------------------------- duplicates (arrays)
def test_scaling_does_not_blow_up_mostly_constant_columns() -> None:
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=200), np.r_[np.zeros(190), rng.normal(5, 1, 10)]]
    Z = scale_columns(X)
    assert abs(Z[:, 0].std() - 1) < 1e-9
    assert np.all(Z[:190, 1] == 0)  # centred on the value most rows hold
    # scaled by the spread of the other rows: ~5 units from 0 is ~1, not ~2.3 (z-score)
    assert 0.8 < np.sqrt(np.mean(Z[190:, 1] ** 2)) < 1.2
    assert np.all(scale_columns(np.ones((5, 2))) == 0)


def test_find_duplicates_exact_and_near_on_arrays() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 6))
    extra = np.vstack([X[[5, 6, 7]], X[[10, 11]] + rng.normal(0, 0.01, (2, 6)), X[5]])
    A = np.vstack([X, extra])
    res = find_duplicates(A)
    assert set(res.index[res["is_duplicate"]]) == {300, 301, 302, 303, 304, 305}
    assert res.loc[[5, 6, 7, 10, 11], "keeper"].all()
    # the two copies of 5 are one group with it
    assert res.loc[[5, 300, 305], "group"].nunique() == 1
    assert res.loc[300, "reason"] == "exact copy of 5"
    assert res.loc[303, "reason"].startswith("near copy of 10: distance 0.0")
    assert res.loc[300, "score"] == 1.0 and 0.7 < res.loc[303, "score"] < 1.0
    assert 0 < res.attrs["threshold"] <= 0.3
    assert res.loc[res["group"].isna(), "score"].max() <= 1 - res.attrs["threshold"]
    assert res["group"].dropna().nunique() == 5
    # exact only
    exact = find_duplicates(A, near=False)
    assert set(exact.index[exact["is_duplicate"]]) == {300, 301, 302, 305}


def test_find_duplicates_flags_nothing_on_clean_data() -> None:
    rng = np.random.default_rng(2)
    for X in (
        rng.normal(size=(300, 6)),
        rng.normal(size=(5000, 3)),
        make_blobs(800, n_features=10, random_state=3)[0],
    ):
        res = find_duplicates(X)
        assert not res["is_duplicate"].any() and res["group"].isna().all()
    # in few dimensions chance neighbours are close: the automatic threshold is lower
    low = find_duplicates(rng.normal(size=(5000, 3)))
    high = find_duplicates(make_blobs(800, n_features=10, random_state=3)[0])
    assert low.attrs["threshold"] < 0.1 and high.attrs["threshold"] == 0.3


def test_near_duplicates_in_standardized_space() -> None:
    """A column in thousands must not drown a column in units."""
    rng = np.random.default_rng(3)
    X = np.c_[rng.normal(size=(300, 3)), rng.normal(scale=1000, size=(300, 3))]
    # 3 SD away in one small column: not a copy (in raw units it is 3 of ~1000s)
    differs_in_small = X[0] + [3.0, 0, 0, 0, 0, 0]
    near_copy = X[1] * (1 + 1e-3)  # a copy up to rounding in every column
    res = find_duplicates(np.vstack([X, differs_in_small, near_copy]))
    assert res.loc[300, "distance"] > 1.0  # farther than a typical neighbour
    assert res.loc[301, "is_duplicate"] and res.loc[301, "reason"].startswith("near copy of 1:")
    assert not res.loc[300, "is_duplicate"] and pd.isna(res.loc[300, "group"])


def test_keep_best_uses_majority_then_model() -> None:
    rng = np.random.default_rng(4)
    X = np.r_[rng.normal(0, 1, (60, 2)), rng.normal(8, 1, (60, 2))]
    y = np.array(["a"] * 60 + ["b"] * 60, dtype=object)
    A = np.vstack([X, X[0], X[0]])
    labels = np.r_[y, ["b", "b"]].astype(object)
    labels[0] = "a"
    res = find_duplicates(A, labels=labels, keep="best")
    assert res.loc[120, "keeper"] and not res.loc[0, "keeper"]  # majority "b", first of them
    first = find_duplicates(A, labels=labels, keep="first")
    assert first.loc[0, "keeper"]
    # a tie goes to the most confident member
    conf = np.full(len(A), 0.5)
    conf[121] = 0.9
    tie = find_duplicates(
        np.vstack([X, X[0]]), labels=np.r_[y, ["b"]], keep="best", confidence=conf[:121]
    )
    assert tie.loc[0, "keeper"]  # 0.5 vs 0.5 -> smallest id
    conf2 = np.full(121, 0.5)
    conf2[120] = 0.9
    tie2 = find_duplicates(
        np.vstack([X, X[0]]), labels=np.r_[y, ["b"]], keep="best", confidence=conf2
    )
    assert tie2.loc[120, "keeper"] and tie2.loc[0, "is_duplicate"]


def test_find_duplicates_errors() -> None:
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match="a number between 0 and 1"):
        find_duplicates(X, threshold=2)
    with pytest.raises(ValueError, match="threshold must be None"):
        find_duplicates(X, threshold="auto")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="keep must be one of"):
        find_duplicates(X, keep="last")
    with pytest.raises(ValueError, match="no rows"):
        find_duplicates(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="must be numeric"):
        find_duplicates(np.array([["a", "b"]], dtype=object))


# ---------------------------------------------------------------------------- duplicates (dataset)
def dup_frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 60
    df = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    df["text"] = [f"sample number {i} of the set" for i in range(n)]
    df["image"] = [rng.integers(0, 255, (4, 4)).astype(np.uint8) for _ in range(n)]
    df["label"] = np.array(["p", "q"], dtype=object)[np.arange(n) % 2]
    copies = df.iloc[[3, 4, 5]].copy()
    copies["text"] = [
        "Sample number 3 of the set!",
        "SAMPLE  number 4 of the set",
        "sample number 5, of the set",
    ]
    copies["image"] = [df["image"].iloc[i].astype(float) for i in (3, 4, 5)]
    near = df.iloc[[7]].copy()
    near[["x", "y"]] += 0.001
    near["text"] = ["a different description altogether"]
    return pd.concat([df, copies, near], ignore_index=True)


def test_dataset_exact_duplicates_numbers_text_images() -> None:
    ds = dj.Dataset(dup_frame(), label="label", text="text", image="image")
    f = ds.find_duplicates(near=False)
    assert f.op == "duplicates" and f.action == "remove"
    assert f.roles == {
        "score": "score",
        "flag": "is_duplicate",
        "group": "group",
        "keeper": "keeper",
        "reason": "reason",
    }
    assert f.flagged.index.tolist() == [60, 61, 62]
    assert f.frame.loc[[60, 61, 62], "reason"].tolist() == [
        "exact copy of 3",
        "exact copy of 4",
        "exact copy of 5",
    ]
    assert f.frame.loc[[3, 4, 5], "keeper"].all()
    ev = ds.history.events
    assert ev["op"].tolist() == ["find_duplicates"] and ev["summary"].iloc[0]["n_flagged"] == 3
    # text differing in more than case/whitespace/punctuation is not an exact copy
    assert pd.isna(f.frame.loc[63, "group"])


def test_dataset_near_duplicates_and_remove_as_one_change() -> None:
    ds = dj.Dataset(dup_frame(), label="label", text="text", image="image")
    before = ds.fingerprint
    f = ds.find_duplicates(features=["x", "y"])
    assert f.flagged.index.tolist() == [60, 61, 62, 63]
    assert f.frame.loc[63, "reason"].startswith("near copy of 7")
    v = ds.remove_duplicates(f, reason="merged twice")
    assert v == 1 and len(ds) == 60
    ch = ds.history.changes
    assert ch["op"].tolist() == ["remove_duplicates"] and ch["n_rows"].tolist() == [4]
    assert ch["reason"].tolist() == ["merged twice"]
    assert not set(ds.ids.tolist()) & {60, 61, 62, 63}
    ds.undo()
    assert ds.fingerprint == before and len(ds) == 64


def test_remove_duplicates_groups_keep_best_and_errors() -> None:
    df = dup_frame()
    df.loc[62, "label"] = "p"  # copy of 5 ("q"): the pair 5/62 ties
    df = pd.concat([df, df.iloc[[3]]], ignore_index=True)  # 3 appears 3 times: 3, 60, 64
    df.loc[3, "label"] = "p"  # labels p, q, q
    ds = dj.Dataset(df, label="label", text="text", image="image")
    f = ds.find_duplicates(near=False)
    g3 = int(f.frame.loc[3, "group"])
    state = recorded(ds)
    with pytest.raises(ValueError, match=r"groups \[99\] are not in the findings"):
        ds.remove_duplicates(f, groups=[99])
    with pytest.raises(ValueError, match="groups must be a list of group numbers"):
        ds.remove_duplicates(f, groups=["a"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="keep must be one of"):
        ds.remove_duplicates(f, keep="newest")
    assert recorded(ds) == state
    # keep="best" re-chooses the keepers of findings made with "first": majority "q" of 3
    ds.remove_duplicates(f, keep="best", groups=[g3])
    assert 60 in ds.ids and not {3, 64} & set(ds.ids.tolist())
    assert {5, 62} <= set(ds.ids.tolist())  # the other groups are left alone
    assert ds.history.changes["n_rows"].tolist() == [2]
    # stale findings: their rows are gone
    state = recorded(ds)
    with pytest.raises(KeyError, match="no longer in the dataset"):
        ds.remove_duplicates(f)
    assert recorded(ds) == state


def test_keep_best_breaks_label_ties_with_the_model() -> None:
    df = blobs(n=120, seed=6)
    i = int(np.flatnonzero(df["label"].to_numpy() == "bee")[0])
    copy = df.iloc[[i]].copy()  # the copy keeps the right label
    df.loc[i, "label"] = "ant"  # the first one carries a wrong label
    ds = dj.Dataset(pd.concat([df, copy], ignore_index=True), label="label")
    f = ds.find_duplicates(keep="best", near=False, cv=3, progress=False)
    assert f.frame.loc[120, "keeper"] and f.frame.loc[i, "is_duplicate"]
    first = ds.find_duplicates(keep="first", near=False)
    assert first.frame.loc[i, "keeper"]


def test_find_duplicates_is_deterministic() -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(80, 40))  # wide: principal components with a seed
    X = np.vstack([X, X[:4] + 1e-4])
    df = pd.DataFrame(X, columns=[f"c{i}" for i in range(40)])
    df["label"] = "z"
    a = dj.Dataset(df, label="label").find_duplicates(random_state=3)
    b = dj.Dataset(df, label="label").find_duplicates(random_state=3)
    assert a.digest() == b.digest() and sorted(a.flagged.index) == [80, 81, 82, 83]


def test_duplicates_bad_input_records_nothing() -> None:
    df = dup_frame()
    ds = dj.Dataset(df, label="label", text="text", image="image")
    state = recorded(ds)
    with pytest.raises(ValueError, match="threshold"):
        ds.find_duplicates(threshold=0)
    with pytest.raises(ValueError, match=r"features \['nope'\] are not columns"):
        ds.find_duplicates(features=["nope"])
    with pytest.raises(ValueError, match="'label' is the label column"):
        ds.find_duplicates(features=["label"])
    ragged = df.copy()
    # images of other sizes are resized for their features; a 4-D array is no image
    ragged["image"] = [np.zeros((2, 2, 2, 2)), *df["image"].iloc[1:]]
    rds = dj.Dataset(ragged, label="label", image="image")
    with pytest.raises(ValueError, match="'image': image row 0 cannot be read: an image must be"):
        rds.find_duplicates(features=["x", "image"])
    assert len(rds.history.events) == 0
    assert recorded(ds) == state
    empty = dj.Dataset(df.iloc[:0], label="label")
    with pytest.raises(ValueError, match="empty"):
        empty.find_duplicates()
    assert len(empty.history.events) == 0


def test_unusable_columns_are_named() -> None:
    df = blobs(60)
    df["ident"] = [f"id-{i}" for i in range(60)]
    ds = dj.Dataset(df, label="label")
    state = recorded(ds)
    for call in (
        lambda: ds.find_outliers(features=["f0", "ident"]),
        lambda: ds.find_duplicates(features=["f0", "ident"]),
        lambda: ds.prune(features=["f0", "ident"], progress=False),
    ):
        with pytest.raises(ValueError, match="'ident'"):
            call()
    assert recorded(ds) == state


# ---------------------------------------------------------------------------- outliers
def test_outlier_scores_flag_far_points_and_not_clean_data() -> None:
    rng = np.random.default_rng(8)
    X = rng.normal(size=(400, 5))
    far = rng.uniform(-12, 12, size=(6, 5))
    far[np.abs(far).max(axis=1) < 6, 0] = 12.0
    res = find_outliers(np.vstack([X, far]))
    assert set(res.index[res["is_outlier"]]) == set(range(400, 406))
    assert res["score"].iloc[400:].min() > res["score"].iloc[:400].max()
    assert res.loc[400, "reason"].startswith("neighbours ")
    for clean in (rng.normal(size=(1000, 8)), make_blobs(1000, n_features=6, random_state=1)[0]):
        assert not find_outliers(clean)["is_outlier"].any()
    s = outlier_scores(X, k=5)
    assert s.shape == (400,) and abs(np.median(s)) < 0.1  # 0 = typical


def test_outlier_errors() -> None:
    with pytest.raises(ValueError, match="at least 3 samples"):
        outlier_scores(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="k must be a positive integer"):
        outlier_scores(np.zeros((5, 3)), k=0)
    with pytest.raises(ValueError, match="threshold must be a number"):
        find_outliers(np.zeros((5, 3)), threshold="high")  # type: ignore[arg-type]


def test_dataset_outliers_remove_top_and_undo() -> None:
    df = blobs(120, seed=9)
    far = pd.DataFrame(
        [[40.0, -40.0, 40.0, 40.0, "ant"], [-35.0, 30.0, -30.0, 30.0, "bee"]], columns=df.columns
    )
    ds = dj.Dataset(pd.concat([df, far], ignore_index=True), label="label")
    before = ds.fingerprint
    f = ds.find_outliers()
    assert f.op == "outliers" and f.roles["flag"] == "is_outlier" and f.action == "remove"
    assert set(f.flagged.index) == {120, 121}
    top = int(f.flagged.index[0])
    assert ds.remove_outliers(f, top=1, reason="worst") == 1
    assert top not in ds.ids and len(ds) == 121
    ch = ds.history.changes
    assert ch["op"].tolist() == ["remove_outliers"] and ch["n_rows"].tolist() == [1]
    ds.undo()
    assert ds.fingerprint == before
    state = recorded(ds)
    with pytest.raises(ValueError, match="top must be a non-negative integer"):
        ds.remove_outliers(f, top=-1)
    with pytest.raises(ValueError, match="threshold must be a number"):
        ds.find_outliers(threshold=float("nan"))
    assert recorded(ds) == state
    with pytest.raises(ValueError, match="empty"):
        dj.Dataset(df.iloc[:0], label="label").find_outliers()


def _lognormal_table(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    df["income"] = rng.lognormal(10, 1.0, n)
    df["price"] = rng.lognormal(2, 0.7, n)
    df["label"] = np.array(["x", "y"], dtype=object)[rng.integers(0, 2, n)]
    return df


def test_outliers_on_skewed_numerics_are_not_the_tail() -> None:
    # a numeric table (no categorical column: the scaled space, not the mixed-row path)
    # with two lognormal columns: their top rows are the tail, not outliers; a value 1000
    # times too small (invisible in the column's own units) and one 1000 times too large are
    df = _lognormal_table()
    clean = dj.Dataset(df, label="label").find_outliers(progress=False).frame
    assert int(clean["is_outlier"].sum()) == 0
    bad = df.copy()
    bad.loc[7, "income"] /= 1000
    bad.loc[11, "price"] *= 1000
    found = dj.Dataset(bad, label="label").find_outliers(progress=False).frame
    assert set(found.index[found["is_outlier"]]) == {7, 11}
    # the same on arrays
    X = bad.drop(columns="label").to_numpy()
    res = find_outliers(X)
    assert set(res.index[res["is_outlier"]]) == {7, 11}


def test_scale_columns_logs_skewed_quantities_only() -> None:
    from dcai_jupyter.ops._skew import log_if_skewed
    from dcai_jupyter.ops._space import log_skewed

    rng = np.random.default_rng(0)
    lognormal = rng.lognormal(3, 1, 500)
    counts = rng.poisson(0.5, 500).astype(float)  # mostly zero: kept in its units
    grey = rng.integers(0, 17, 500).astype(float) ** 2 / 16  # 17 levels: an ordinal scale
    normal = rng.normal(5, 1, 500)
    X = np.column_stack([lognormal, counts, grey, normal])
    L = log_skewed(X)
    np.testing.assert_allclose(L[:, 0], np.log(lognormal))
    np.testing.assert_array_equal(L[:, 1:], X[:, 1:])
    Z = scale_columns(X)
    assert abs(float(np.median(Z[:, 0]))) < 0.1  # centred on the log scale
    # a column holding a zero (image features, counts) keeps its units in the scaled
    # space; the per-column transforms of mixed rows take log(x + the smallest positive)
    with_zero = np.r_[0.0, lognormal[1:]]
    np.testing.assert_array_equal(log_skewed(with_zero[:, None])[:, 0], with_zero)
    out, done = log_if_skewed(with_zero)
    assert done
    np.testing.assert_allclose(out, np.log(with_zero + lognormal[1:].min()))
    assert not log_if_skewed(normal)[1] and not log_if_skewed(-lognormal)[1]


def test_outliers_deterministic() -> None:
    df = blobs(200, seed=10, features=80)  # wide: randomized principal components
    a = dj.Dataset(df, label="label").find_outliers(random_state=5)
    b = dj.Dataset(df, label="label").find_outliers(random_state=5)
    assert a.digest() == b.digest()


# ---------------------------------------------------------------------------- prune
def test_prune_mask_rules() -> None:
    codes = np.array([0] * 10 + [1] * 4 + [2])
    conf = np.linspace(0, 1, 15)
    drop, score = prune_mask(codes, conf, keep=0.5, rule="hardest")
    assert drop.sum() == 5 + 2 + 0  # per class: round(keep * n), at least one kept
    assert drop[5:10].all() and not drop[:5].any()  # the most confident of class 0 go
    assert score[9] == 1.0 and score[0] == 0.0
    easy, _ = prune_mask(codes, conf, keep=0.5, rule="easiest")
    assert easy[:5].all() and not easy[5:10].any()
    r1, _ = prune_mask(codes, conf, keep=0.3, rule="random", random_state=1)
    r2, _ = prune_mask(codes, conf, keep=0.3, rule="random", random_state=1)
    assert (r1 == r2).all() and r1[:10].sum() == 7
    for bad in (0, 1, 1.5, -0.1, True, "half"):
        with pytest.raises(ValueError, match="keep must be the fraction"):
            prune_mask(codes, conf, keep=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rule must be one of"):
        prune_mask(codes, conf, rule="smart")


def test_prune_dataset_flags_per_class_and_removes_in_one_change() -> None:
    df = blobs(90, seed=11)
    df.loc[[0, 1, 2], "label"] = None  # the unlabeled pool is never pruned
    ds = dj.Dataset(df, label="label")
    before = ds.fingerprint
    f = ds.prune(keep=0.4, method="hardest", cv=3, progress=False)
    assert f.op == "prune" and f.roles["flag"] == "drop" and f.frame.attrs["rule"] == "hardest"
    assert not f.frame.loc[[0, 1, 2], "drop"].any()
    labels = ds.df["label"]
    for c, n in labels.value_counts().items():
        dropped = int(f.frame.loc[labels[labels == c].index, "drop"].sum())
        assert dropped == n - max(1, round(0.4 * n))
    # the hardest rule keeps the least confident
    conf = f.frame["confidence"]
    assert conf[f.frame["drop"]].mean() > conf[~f.frame["drop"] & conf.notna()].mean()
    n_drop = int(f.flags.sum())
    v = ds.remove_flagged(f, reason="smaller")
    assert v == 1 and len(ds) == 90 - n_drop
    ch = ds.history.changes
    assert ch["op"].tolist() == ["prune"] and ch["n_rows"].tolist() == [n_drop]
    ds.undo()
    assert ds.fingerprint == before


def test_prune_auto_picks_a_rule_by_inner_cv_and_is_deterministic() -> None:
    df = blobs(120, seed=12)
    a = dj.Dataset(df, label="label").prune(keep=0.5, cv=3, random_state=4, progress=False)
    b = dj.Dataset(df, label="label").prune(keep=0.5, cv=3, random_state=4, progress=False)
    assert a.digest() == b.digest()
    rule, inner = a.frame.attrs["rule"], a.frame.attrs["inner_scores"]
    assert rule in PRUNE_RULES and set(inner) == set(PRUNE_RULES)
    assert inner[rule] == max(inner.values())
    ev = dj.Dataset(df, label="label")
    ev.prune(keep=0.5, cv=3, progress=False)
    assert ev.history.events["summary"].iloc[0]["rule"] in PRUNE_RULES


def test_prune_bad_input_records_nothing() -> None:
    df = blobs(60)
    ds = dj.Dataset(df, label="label")
    state = recorded(ds)
    for bad in (0, 1, 1.2, -0.5):
        with pytest.raises(ValueError, match="keep must be the fraction"):
            ds.prune(keep=bad, progress=False)
    with pytest.raises(ValueError, match="method must be one of"):
        ds.prune(method="smart", progress=False)
    with pytest.raises(TypeError, match="no predict_proba"):
        from sklearn.svm import LinearSVC

        ds.prune(model=LinearSVC(), progress=False)
    assert recorded(ds) == state
    with pytest.raises(ValueError, match="empty"):
        dj.Dataset(df.iloc[:0], label="label").prune(progress=False)
    one = df.copy()
    one["label"] = "ant"
    with pytest.raises(ValueError, match="only one class"):
        dj.Dataset(one, label="label").prune(progress=False)
    tiny = blobs(60)
    tiny.loc[0, "label"] = "dog"
    with pytest.raises(ValueError, match="only 1 labeled sample"):
        dj.Dataset(tiny, label="label").prune(progress=False)


# ---------------------------------------------------------------------------- shared
def test_remove_flagged_refuses_other_findings() -> None:
    df = blobs(60)
    ds = dj.Dataset(df, label="label")
    issues = ds.find_label_issues(cv=3, progress=False)
    with pytest.raises(ValueError, match="do not propose removals"):
        ds.remove_flagged(issues)
    dups = ds.find_duplicates()
    with pytest.raises(TypeError, match="removed by whole groups"):
        ds.remove_flagged(dups, top=1)
    with pytest.raises(TypeError, match="not 'outliers' findings"):
        ds.remove_outliers(dups)
    with pytest.raises(TypeError, match="pass the Findings"):
        ds.remove_flagged(dups.frame)  # type: ignore[arg-type]
    assert len(ds.history.changes) == 0


def test_recipe_replay_re_runs_the_removals_on_new_data() -> None:
    df = dup_frame()
    ds = dj.Dataset(df, label="label", text="text", image="image")
    ds.remove_duplicates(near=True, features=["x", "y"])
    params = ds.history.changes["params"].iloc[0]
    fresh = dj.Dataset(df, label="label", text="text", image="image")
    change = rebuild("remove_duplicates", params).replay(fresh, params)
    assert sorted(change.ids) == [60, 61, 62, 63]
    assert isinstance(rebuild("remove_duplicates", params), Duplicates)
    out = dj.Dataset(blobs(60), label="label")
    f = out.find_outliers(threshold=2.0)
    out.remove_outliers(f)
    p = out.history.changes["params"].iloc[0]
    assert isinstance(rebuild("remove_outliers", p), Outliers)
    assert p["operation"]["threshold"] == 2.0
    pr = dj.Dataset(blobs(60), label="label")
    pr.remove_flagged(pr.prune(keep=0.5, method="random", progress=False))
    q = pr.history.changes["params"].iloc[0]
    assert isinstance(rebuild("prune", q), Prune) and q["rule"] == "random"


def test_large_neighbour_searches_show_a_progress_bar(capfd: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(13)
    X = rng.normal(size=(9000, 3))
    find_outliers(X, progress=True)
    err = capfd.readouterr().err
    assert "outliers (scaled)" in err and "outliers (whitened)" in err
    find_duplicates(X)  # the array function stays quiet
    assert "near duplicates" not in capfd.readouterr().err
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["label"] = "z"
    dj.Dataset(df, label="label").find_duplicates()
    assert "near duplicates" in capfd.readouterr().err
