"""ds.synthesize(): SMOTE / SMOTE by column roles, targets, generators, origins, removal, replay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

import dcai_jupyter as dj
from dcai_jupyter.ops import Synthesize, rebuild, synthesis_counts
from dcai_jupyter.ops._params import ParamError
from dcai_jupyter.ops._smote_roles import SAMPLER_NAME


def _frame(n: int = 400, weights=(0.85, 0.15), seed: int = 0) -> pd.DataFrame:
    X, y = make_classification(
        n, n_features=4, n_informative=3, n_redundant=0, weights=list(weights), random_state=seed
    )
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["y"] = np.where(y == 1, "rare", "common")
    return df


def _counts(ds) -> dict:
    return ds.df[ds.label].value_counts().to_dict()


def _unchanged(ds, version: int, n: int, fp: str, n_changes: int) -> None:
    assert ds.version == version
    assert len(ds) == n
    assert ds.fingerprint == fp
    assert len(ds.history) == n_changes


@dj.register_transform
def gen_means(X, y, counts, *, random_state, spread=0.0):
    """A module-level generator: class means plus gaussian noise (for the callable path)."""
    rng = np.random.default_rng(random_state)
    parts = []
    for cls, n in counts.items():
        mean = X[y == cls].mean()
        block = pd.DataFrame(np.tile(mean.to_numpy(), (n, 1)), columns=X.columns)
        block += rng.normal(0, spread, size=block.shape)
        block[y.name] = cls
        parts.append(block)
    return pd.concat(parts, ignore_index=True)


@dj.register_transform
def gen_wrong_counts(X, y, counts, *, random_state):
    out = gen_means(X, y, counts, random_state=random_state)
    return out.iloc[:-1]


@dj.register_transform
def gen_nan(X, y, counts, *, random_state):
    out = gen_means(X, y, counts, random_state=random_state)
    out.loc[0, "a"] = np.nan
    return out


@dj.register_transform
def gen_new_column(X, y, counts, *, random_state):
    out = gen_means(X, y, counts, random_state=random_state)
    out["extra"] = 1.0
    return out


# ---------------------------------------------------------------------------- targets
def test_balance_adds_rows_up_to_the_largest_class_in_one_change():
    ds = dj.Dataset(_frame(), label="y")
    before = _counts(ds)
    v = ds.version
    new = ds.synthesize(target="balance")
    assert ds.version == v + 1
    after = _counts(ds)
    assert after["rare"] == after["common"] == before["common"]
    assert len(new) == before["common"] - before["rare"]
    assert set(ds.take(new)["y"]) == {"rare"}
    # the new rows have the new ids, fresh, and their origin; originals have none
    assert new.min() > max(ds.ids[: len(ds) - len(new)])
    assert set(ds.origins.loc[new, "origin"]) == {"synthetic:smote"}
    assert ds.origins.index.isin(new).all()
    last = ds.history.changes.iloc[-1]
    assert last["op"] == "synthesize"
    assert last["params"]["added"] == [["rare", len(new)]]
    assert last["params"]["operation"]["target"] == "balance"


def test_synthetic_rows_lie_in_the_class_region_and_keep_dtypes():
    df = _frame()
    df["k"] = (df["a"] * 3).round().astype(np.int64)
    ds = dj.Dataset(df, label="y")
    new = ds.synthesize()
    rows = ds.take(new)
    assert rows["k"].dtype == np.int64
    assert rows["a"].dtype == np.float64
    rare = df[df["y"] == "rare"]
    for c in "abcd":  # interpolation stays within the class's bounding box
        assert rows[c].between(rare[c].min() - 1e-9, rare[c].max() + 1e-9).all()
    assert rows["k"].between(rare["k"].min(), rare["k"].max()).all()


def test_dict_target_is_the_total_per_class_after_synthesis():
    ds = dj.Dataset(_frame(), label="y")
    before = _counts(ds)
    new = ds.synthesize(target={"rare": before["rare"] + 25})
    assert len(new) == 25
    assert _counts(ds) == {"common": before["common"], "rare": before["rare"] + 25}


@pytest.mark.parametrize(
    ("target", "match"),
    [
        ({"zebra": 500}, r"classes \['zebra'\] that have no labeled row.*'common', 'rare'"),
        ({"rare": 3}, "below the .* rows the class already has"),
        ({"rare": 10.5}, "whole number"),
        ({}, "empty dict"),
        ("most", "target must be"),
    ],
)
def test_bad_targets_are_clear_errors_and_record_nothing(target, match):
    ds = dj.Dataset(_frame(), label="y")
    state = (ds.version, len(ds), ds.fingerprint, len(ds.history))
    with pytest.raises(ValueError, match=match):
        ds.synthesize(target=target)
    _unchanged(ds, *state)


def test_k_neighbors_larger_than_a_class_is_a_clear_error():
    df = _frame()
    keep = df.index[df["y"] == "rare"][:4]
    df = pd.concat([df[df["y"] == "common"], df.loc[keep]])
    ds = dj.Dataset(df, label="y")
    state = (ds.version, len(ds), ds.fingerprint, len(ds.history))
    match = r"k_neighbors=5 is larger than what exists.*class 'rare' has 4.*k_neighbors=3"
    with pytest.raises(ValueError, match=match):
        ds.synthesize()
    _unchanged(ds, *state)
    new = ds.synthesize(k_neighbors=3)
    assert len(new) == (df["y"] == "common").sum() - 4
    single = dj.Dataset(pd.concat([df[df["y"] == "common"], df.loc[keep[:1]]]), label="y")
    with pytest.raises(ValueError, match=r"class 'rare' has 1.*needs at least 2 rows"):
        single.synthesize(k_neighbors=1)
    assert single.version == 0


def test_balanced_data_needs_nothing_and_records_nothing():
    df = _frame(weights=(0.5, 0.5))
    df = pd.concat([df[df.y == "common"][:100], df[df.y == "rare"][:100]])
    ds = dj.Dataset(df, label="y")
    v = ds.version
    with pytest.warns(UserWarning, match="nothing to synthesize"):
        new = ds.synthesize()
    assert len(new) == 0 and ds.version == v


def test_synthesis_counts_weakest_rule():
    counts = {"a": 1000, "b": 1000, "c": 100}
    f1 = {"a": 0.9, "b": 0.45, "c": 0.85}  # b is weak but not rare; c is rare but fine
    add = synthesis_counts(counts, "weakest", f1=f1)
    assert add == {"b": 500}
    assert synthesis_counts(counts, "balance") == {"c": 900}


def test_weakest_uses_cross_validated_f1_and_targets_weak_classes_not_the_rarest():
    X, y = make_classification(
        900,
        n_features=6,
        n_informative=4,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        weights=[0.45, 0.45, 0.1],
        class_sep=1.5,
        random_state=3,
    )
    # make class 1 hard: flip a third of its labels to 0 (noisy, so weak, though not rare)
    rng = np.random.default_rng(0)
    idx = np.flatnonzero(y == 1)
    y[rng.choice(idx, len(idx) // 3, replace=False)] = 0
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    df["y"] = y
    ds = dj.Dataset(df, label="y")
    op = Synthesize(target="weakest", model=LogisticRegression(max_iter=500), cv=3, progress=False)
    change = op.plan(ds)
    f1 = dict((int(c), s) for c, s in change.params["f1"])
    added = dict((int(c), n) for c, n in change.params["added"])
    mean = np.mean(list(f1.values()))
    assert set(added) == {c for c, s in f1.items() if s < mean}
    worst = min(f1, key=f1.__getitem__)
    assert worst == 1 and 1 in added  # the noisy class, not the rarest
    assert 2 not in added  # the rarest class is predicted well: no rows
    assert added == synthesis_counts(_counts(ds), "weakest", f1=f1)
    ds.apply(change)
    assert len(ds.ids_with_origin("synthetic")) == sum(added.values())


# ---------------------------------------------------------------------------- determinism
def test_same_random_state_same_rows_and_another_seed_different_rows():
    a = dj.Dataset(_frame(), label="y")
    b = dj.Dataset(_frame(), label="y")
    c = dj.Dataset(_frame(), label="y")
    na, nb = a.synthesize(random_state=7), b.synthesize(random_state=7)
    nc = c.synthesize(random_state=8)
    pd.testing.assert_frame_equal(a.take(na), b.take(nb))
    assert a.fingerprint == b.fingerprint
    assert not np.allclose(a.take(na)[list("abcd")], c.take(nc)[list("abcd")])


def test_smote_on_numbers_makes_imbalanced_learns_rows_from_the_resampled_classes_only():
    """Issue 21: SMOTE on numbers is made here (neighbours from the service, no copy of the
    other classes); the rows are imbalanced-learn's for the same random_state."""
    from imblearn.over_sampling import SMOTE

    rng = np.random.default_rng(0)
    n = 3000
    df = pd.DataFrame(rng.normal(size=(n, 5)), columns=list("abcde"))
    df["k"] = rng.integers(0, 50, n)
    y = rng.choice(np.array(["a", "b", "c"], dtype=object), n, p=[0.7, 0.2, 0.1])
    df["y"] = y
    ds = dj.Dataset(df, label="y")
    new = ds.synthesize(target={"b": 900, "c": 800}, random_state=3, progress=False)
    got = ds.take(new)
    assert ds.history.changes.iloc[-1]["params"]["sampler"] == "SMOTE"
    codes, classes = pd.factorize(pd.Series(y, dtype=object))
    want = {list(classes).index("b"): 900, list(classes).index("c"): 800}
    X = df[[*"abcde", "k"]].to_numpy(dtype=np.float64)
    X_res, y_res = SMOTE(sampling_strategy=want, random_state=3).fit_resample(X, codes)
    ref_X, ref_y = X_res[n:], np.asarray(classes, dtype=object)[y_res[n:]]
    assert len(got) == len(ref_X) == 900 + 800 - int((y == "b").sum() + (y == "c").sum())
    np.testing.assert_array_equal(got[list("abcde")].to_numpy(), ref_X[:, :5])
    np.testing.assert_array_equal(got["k"].to_numpy(), np.rint(ref_X[:, 5]).astype(np.int64))
    np.testing.assert_array_equal(got["y"].to_numpy(dtype=object), ref_y)


def test_smote_on_large_classes_with_ties_makes_imbalanced_learns_rows():
    """Issue 21: integer columns (equal distances everywhere), 20 of them (scikit-learn's
    brute force): ties broken as imbalanced-learn breaks them, on a class doubled (its
    seeds take the float32 scan of ``_class_neighbours``) and on a class given a few rows
    (its few seeds are asked of scikit-learn in the query blocks of imbalanced-learn's one
    call: asked alone, most of them come out in another order)."""
    from imblearn.over_sampling import SMOTE
    from threadpoolctl import threadpool_limits

    from dcai_jupyter.ops._class_neighbours import SCAN_PAIRS

    rng = np.random.default_rng(4)
    n, d = 7000, 20
    X = rng.integers(0, 3, (n, d)).astype(np.int64)
    y = np.repeat(np.array(["a", "b", "c"], dtype=object), [3000, 3000, 1000])
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(d)])
    df["y"] = y
    ds = dj.Dataset(df, label="y")
    target = {"a": 6000, "b": 3500, "c": 1500}
    new = ds.synthesize(target=target, random_state=5, progress=False)
    got = ds.take(new)
    codes, classes = pd.factorize(pd.Series(y, dtype=object))
    want = {list(classes).index(c): t for c, t in target.items()}
    assert 0.6 * 3000 * 3000 > SCAN_PAIRS > 500 * 3000  # one class each way
    with threadpool_limits(1):  # as the operation runs (brute force ties depend on threads)
        X_res, y_res = SMOTE(sampling_strategy=want, random_state=5).fit_resample(
            X.astype(np.float64), codes
        )
    ref = np.rint(X_res[n:]).astype(np.int64)
    np.testing.assert_array_equal(got[df.columns[:d]].to_numpy(), ref)
    np.testing.assert_array_equal(
        got["y"].to_numpy(dtype=object), np.asarray(classes, dtype=object)[y_res[n:]]
    )


# ---------------------------------------------------------------------------- column kinds
def test_categorical_columns_use_smote_by_roles_and_keep_their_values():
    df = _frame()
    df["color"] = np.where(df["a"] > 0, "red", "blue")
    df["flag"] = df["b"] > 0
    df["size"] = pd.Categorical(np.where(df["c"] > 0.5, "L", "S"))
    ds = dj.Dataset(df, label="y")
    op = Synthesize()
    change = op.plan(ds)
    assert change.params["sampler"] == SAMPLER_NAME
    assert change.params["categorical"] == ["color", "flag", "size"]
    ds.apply(change)
    rows = ds.take(ds.ids_with_origin("synthetic:smote"))
    assert set(rows["color"]) <= {"red", "blue"} and rows["color"].nunique() == 2
    # a category is the most frequent among the seed's neighbours: it follows the numbers
    assert ((rows["a"] > 0) == (rows["color"] == "red")).mean() >= 0.9
    assert rows["flag"].dtype == bool
    assert isinstance(rows["size"].dtype, pd.CategoricalDtype)
    assert set(rows["size"]) <= {"L", "S"}


def test_only_categorical_columns_use_smoten():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "u": rng.choice(["p", "q", "r"], 200),
            "v": rng.choice(["s", "t"], 200),
            "y": ["A"] * 170 + ["B"] * 30,
        }
    )
    ds = dj.Dataset(df, label="y")
    change = Synthesize().plan(ds)
    assert change.params["sampler"] == SAMPLER_NAME
    assert change.counts() == {"added": 140}


def test_text_and_image_feature_columns_are_named_in_a_clear_error():
    df = _frame(200)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (8, 8), dtype=np.uint8) for _ in range(len(df))]
    df["img"] = pd.Series(images, index=df.index, dtype=object)
    df["note"] = [f"sample number {i} has a longer description text" for i in range(len(df))]
    ds = dj.Dataset(df, label="y")
    assert ds.image_column == "img" and ds.text_column == "note"
    state = (ds.version, len(ds), ds.fingerprint, len(ds.history))
    with pytest.raises(ValueError, match=r"'img' \(image\).*ds.augment"):
        ds.synthesize(features=["a", "b", "img", "note"])
    _unchanged(ds, *state)
    # a display-only image is left empty; text cannot be interpolated: each synthetic row
    # takes the text of the nearer of the two rows it is made from (same class)
    new = ds.synthesize()
    rows = ds.take(new)
    assert rows["img"].isna().all()
    rare_notes = set(df.loc[df["y"] == "rare", "note"])
    assert set(rows["note"]) <= rare_notes and rows["note"].nunique() > 20


def test_an_image_only_dataset_points_to_augment():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "img": [rng.integers(0, 255, (8, 8), dtype=np.uint8) for _ in range(30)],
            "y": [0, 1, 1] * 10,
        }
    )
    ds = dj.Dataset(df, label="y")
    with pytest.raises(ValueError, match=r"samples are in \['img'\].*ds.augment"):
        ds.synthesize()
    assert ds.version == 0


def test_missing_feature_values_are_kept_as_a_signal():
    df = _frame()
    rare = df.index[df.y == "rare"]
    rng = np.random.default_rng(0)
    df.loc[rng.choice(rare, round(0.3 * len(rare)), replace=False), "b"] = np.nan
    ds = dj.Dataset(df, label="y")
    change = Synthesize().plan(ds)
    assert change.params["sampler"] == SAMPLER_NAME
    ds.apply(change)
    rows = ds.take(ds.ids_with_origin("synthetic:smote"))
    # a value missing on the nearer row stays missing: the class keeps its share of them
    assert 0.15 <= rows["b"].isna().mean() <= 0.45
    b = df.loc[rare, "b"]
    assert rows["b"].dropna().between(b.min(), b.max()).all()
    assert rows[["a", "c", "d"]].notna().all().all()
    # an imbalanced-learn sampler cannot: a clear error naming the column
    from imblearn.over_sampling import ADASYN

    fresh = dj.Dataset(df, label="y")
    with pytest.raises(ValueError, match=r"column 'b' has \d+ missing"):
        fresh.synthesize(method=ADASYN())
    assert fresh.version == 0


def test_unlabeled_rows_are_left_out_and_empty_data_is_refused():
    df = _frame()
    df["y"] = df["y"].astype(object)
    df.loc[df.index[:50], "y"] = None
    ds = dj.Dataset(df, label="y")
    labeled = ds.df["y"].value_counts()
    ds.synthesize()
    after = ds.df["y"].value_counts()
    assert after["rare"] == after["common"] == labeled["common"]
    assert ds.df["y"].isna().sum() == 50
    empty = dj.Dataset(_frame().iloc[:0], label="y")
    with pytest.raises(ValueError, match="empty"):
        empty.synthesize()


# ---------------------------------------------------------------------------- methods
def test_an_imbalanced_learn_sampler_instance_is_accepted_and_recorded():
    from imblearn.over_sampling import BorderlineSMOTE

    ds = dj.Dataset(_frame(), label="y")
    new = ds.synthesize(method=BorderlineSMOTE(k_neighbors=4))
    assert set(ds.origins.loc[new, "origin"]) == {"synthetic:BorderlineSMOTE"}
    recorded = ds.history.changes.iloc[-1]["params"]
    assert recorded["operation"]["method"]["__estimator__"].endswith("BorderlineSMOTE")
    assert recorded["sampler"] == "BorderlineSMOTE"
    c = _counts(ds)
    assert c["rare"] == c["common"]


def test_a_generator_callable_is_recorded_by_name_and_checked():
    ds = dj.Dataset(_frame(), label="y")
    op = Synthesize(method=gen_means, method_params={"spread": 0.01})
    params = op.json_params()
    assert params["method"] == {"__callable__": f"{__name__}.gen_means"}
    assert params["method_params"] == {"spread": 0.01}
    new = op.apply_added(ds)
    assert set(ds.origins.loc[new, "origin"]) == {"synthetic:gen_means"}
    c = _counts(ds)
    assert c["rare"] == c["common"]
    for bad, match in [
        (gen_wrong_counts, "rows per class"),
        (gen_nan, "missing"),
        (gen_new_column, r"changed the schema.*extra \['extra'\]"),
    ]:
        fresh = dj.Dataset(_frame(), label="y")
        with pytest.raises(ValueError, match=match):
            fresh.synthesize(method=bad)
        assert fresh.version == 0 and len(fresh) == 400


def test_a_lambda_generator_cannot_be_recorded_and_changes_nothing():
    ds = dj.Dataset(_frame(), label="y")
    with pytest.raises(ParamError, match="lambda"):
        ds.synthesize(method=lambda X, y, counts, *, random_state: X)
    assert ds.version == 0 and len(ds.history) == 0


def test_unknown_method_and_bad_k_are_refused():
    ds = dj.Dataset(_frame(), label="y")
    with pytest.raises(ValueError, match="method must be"):
        ds.synthesize(method="gan")
    with pytest.raises(ValueError, match="k_neighbors must be a positive integer"):
        ds.synthesize(k_neighbors=0)
    assert ds.version == 0


# ---------------------------------------------------------------------------- origins, removal, replay
def test_synthetic_rows_are_removed_as_one_change_and_undo_brings_them_back(tmp_path):
    ds = dj.Dataset(_frame(), label="y", history=tmp_path / "h.sqlite")
    fp0 = ds.fingerprint
    new = ds.synthesize()
    fp1 = ds.fingerprint
    v = ds.remove_synthetic()
    assert v == 2 and len(ds) == 400 and ds.fingerprint == fp0
    assert len(ds.ids_with_origin("synthetic")) == 0
    ds.undo()
    assert ds.fingerprint == fp1
    assert ds.ids_with_origin("synthetic").tolist() == new.tolist()
    assert set(ds.origins["origin"]) == {"synthetic:smote"}
    with pytest.raises(ValueError, match="no row has origin 'synthetic:gen'"):
        ds.remove_synthetic(origin="synthetic:gen")


def test_exact_replay_and_recipe_replay_reproduce_the_rows(tmp_path):
    path = tmp_path / "h.sqlite"
    df = _frame()
    ds = dj.Dataset(df, label="y", history=path)
    ds.synthesize(target="balance", random_state=3)
    fp = ds.fingerprint
    # exact: resuming the history replays the recorded deltas
    again = dj.Dataset(df, label="y", history=path)
    assert again.fingerprint == fp
    assert again.ids_with_origin("synthetic").tolist() == ds.ids_with_origin("synthetic").tolist()
    # recipe: rebuild the operation from its recorded op name and params, re-run on the data
    last = ds.history.changes.iloc[-1]
    fresh = dj.Dataset(df, label="y")
    op = rebuild(last["op"], last["params"])
    assert isinstance(op, Synthesize) and op.random_state == 3
    fresh.apply(op.replay(fresh, last["params"]))
    assert fresh.fingerprint == fp


def test_large_data_shows_a_stage_progress_bar_unless_asked_not_to(capsys):
    df = _frame(3000)
    dj.Dataset(df, label="y").synthesize(progress=False)
    assert "synthesize" not in capsys.readouterr().err
    dj.Dataset(df, label="y").synthesize()
    err = capsys.readouterr().err
    assert "synthesize" in err and "making rows" in err and "recording" in err
