"""Add data (issue 9): query strategies, ``ds.suggest_samples``, the pool views,
pseudo-labels and taking them back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

import dcai_jupyter as dj
from dcai_jupyter.ops import STRATEGIES, entropy, least_confidence, margin, select_samples
from dcai_jupyter.ops._active import weakest_class_scores
from dcai_jupyter.ops._pool_model import pool_predictions

LR = LogisticRegression(max_iter=500)


# ---------------------------------------------------------------------------- helpers
def _blobs(n: int = 120, centers: int = 3, seed: int = 0, std: float = 1.5):
    X, y = make_blobs(
        n_samples=n, centers=centers, n_features=3, cluster_std=std, random_state=seed
    )
    return X, y


def _pool_frame(
    labels: np.ndarray | list, n_labeled: int = 30, seed: int = 0, *, n: int = 120, std: float = 1.5
) -> pd.DataFrame:
    """Blobs; the first ``n_labeled`` rows (in a shuffled order) keep ``labels``, the rest are the pool."""
    X, y = _blobs(n, seed=seed, std=std)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    values = np.asarray(labels, dtype=object)[y]
    order = np.random.default_rng(seed).permutation(n)
    values[order[n_labeled:]] = None
    df["label"] = values
    return df


def _str_ds(**kw) -> dj.Dataset:
    return dj.Dataset(_pool_frame(["ant", "bee", "cat"], **kw), label="label")


def _probs(n: int = 40, k: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.full(k, 0.6), size=n)


def _state(ds: dj.Dataset) -> tuple:
    return ds.version, ds.fingerprint, len(ds.history.changes), len(ds.history.events)


# ---------------------------------------------------------------------------- scores
def test_uncertainty_scores_by_hand():
    p = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(least_confidence(p), [0.3, 0.6, 0.0, 2 / 3])
    np.testing.assert_allclose(margin(p), [0.5, 1.0, 0.0, 1.0])
    h = -(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1)) / np.log(3)
    np.testing.assert_allclose(entropy(p), [h, entropy(p)[1], 0.0, 1.0])
    assert 0 < entropy(p)[1] < 1
    with pytest.raises(ValueError, match="2-D"):
        margin([0.5, 0.5])
    with pytest.raises(ValueError, match="NaN"):
        entropy([[np.nan, 1.0]])


def test_uncertainty_strategies_pick_the_highest_scores():
    p = _probs()
    for name, fn in (
        ("least_confidence", least_confidence),
        ("margin", margin),
        ("entropy", entropy),
    ):
        picks, scores, reasons = select_samples(p, 5, strategy=name)
        s = fn(p)
        assert set(picks) == set(np.argsort(-s, kind="stable")[:5])
        np.testing.assert_allclose(scores, s[picks])
        assert list(scores) == sorted(scores, reverse=True)
        assert all(r.startswith(name) for r in reasons)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_strategy_deterministic_unique_and_respects_k(strategy):
    p = _probs(60, 3, seed=1)
    X = np.random.default_rng(2).normal(size=(60, 4))
    for k in (1, 7, 60):
        a = select_samples(p, k, strategy=strategy, X=X, random_state=3)
        b = select_samples(p, k, strategy=strategy, X=X, random_state=3)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        assert a[2] == b[2]
        assert len(a[0]) == k == len(set(a[0].tolist())) == len(a[1]) == len(a[2])
        assert a[0].min() >= 0 and a[0].max() < 60


def test_random_depends_on_the_seed_and_diverse_spreads_the_batch():
    p = _probs(200, 3, seed=4)
    X = np.random.default_rng(5).normal(size=(200, 2))
    r0 = select_samples(p, 10, strategy="random", random_state=0)[0]
    r1 = select_samples(p, 10, strategy="random", random_state=1)[0]
    assert set(r0) != set(r1)
    # ten near-copies of one confusion: margin takes them all, diverse takes one
    p2 = p.copy()
    X2 = X.copy()
    p2[:10] = [0.5, 0.5, 0.0]
    X2[:10] = X2[0] + 1e-6 * np.arange(10)[:, None]
    top = select_samples(p2, 10, strategy="margin")[0]
    assert set(top) == set(range(10))
    div = select_samples(p2, 10, strategy="diverse", X=X2)[0]
    assert len(set(div) & set(range(10))) <= 2
    assert select_samples(p2, 10, strategy="auto", X=X2)[0].tolist() == div.tolist()


def test_diverse_with_identical_rows_and_reasons_naming_classes():
    p = np.tile([[0.55, 0.45]], (12, 1))
    p[::2] = [0.9, 0.1]
    picks, scores, reasons = select_samples(
        p, 5, strategy="diverse", X=np.ones((12, 3)), classes=["no", "yes"]
    )
    # one distinct point, one cluster: its best row, then the next most uncertain ones
    assert sorted(picks.tolist()) == [1, 3, 5, 7, 9]
    np.testing.assert_allclose(scores, 0.9)
    assert all(r.startswith("margin: torn between 'no' (") for r in reasons)
    plain = select_samples(p, 2, strategy="margin")[2]
    assert plain[0] == "margin: torn between class 0 (0.55) and class 1 (0.45)"


def test_select_samples_bad_input():
    p = _probs(5, 2)
    with pytest.raises(ValueError, match="at most k=5"):
        select_samples(p, 6, strategy="margin")
    with pytest.raises(ValueError, match="pool is empty"):
        select_samples(np.zeros((0, 2)), 1, strategy="margin")
    with pytest.raises(ValueError, match="positive whole number"):
        select_samples(p, 0)
    with pytest.raises(ValueError, match="strategy must be one of"):
        select_samples(p, 1, strategy="smart")
    with pytest.raises(ValueError, match="needs the pool's features"):
        select_samples(p, 2, strategy="diverse")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_pool_of_one(strategy):
    picks, scores, reasons = select_samples(
        np.array([[0.6, 0.4]]), 1, strategy=strategy, X=np.zeros((1, 2))
    )
    assert picks.tolist() == [0] and len(scores) == len(reasons) == 1


# ---------------------------------------------------------------------------- the dataset
def test_pool_and_labeled_views():
    ds = _str_ds()
    assert len(ds.pool) == 90 and len(ds.labeled) == 30
    assert ds.pool["label"].isna().all() and ds.labeled["label"].notna().all()
    assert set(ds.pool.index) | set(ds.labeled.index) == set(ds.ids)
    new = ds.add(pd.DataFrame({"a": [0.0], "b": [0.0], "c": [0.0], "label": [None]}))
    assert new[0] in ds.pool.index and len(ds.pool) == 91


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_suggest_samples_on_a_dataset(strategy):
    ds = _str_ds()
    pool = set(ds.pool.index)
    f = ds.suggest_samples(k=8, strategy=strategy, model=LR)
    again = ds.suggest_samples(k=8, strategy=strategy, model=LR)
    assert f.digest() == again.digest()
    pd.testing.assert_frame_equal(f.frame, again.frame)
    assert f.action == "label" and f.op == "suggest_samples"
    ids = f.ids.tolist()
    assert len(ids) == 8 == len(set(ids)) and set(ids) <= pool  # never a labeled row
    assert f.flags.all() and f["rank"].tolist() == list(range(1, 9))
    assert f.column("reason") is not None and f["reason"].str.len().gt(0).all()
    if strategy != "random":
        assert set(f["predicted_label"]) <= {"ant", "bee", "cat"}
        assert f["confidence"].between(0, 1).all()
        text = " ".join(f["reason"])
        assert any(f"'{c}'" in text for c in ("ant", "bee", "cat"))  # classes by name
    # nothing changed; one event recorded per call
    assert ds.version == 0 and len(ds.history.changes) == 0
    assert ds.history.events["op"].tolist() == ["find_suggest_samples"] * 2


def test_suggest_with_the_default_model_and_labeling_shrinks_the_pool():
    ds = _str_ds()
    f = ds.suggest_samples(k=5, progress=False)
    assert len(f) == 5 and set(f.ids) <= set(ds.pool.index)
    before = len(ds.pool)
    ids = f.ids[:3]
    truth = _pool_frame(["ant", "bee", "cat"], n_labeled=120)["label"]
    v = ds.relabel(ids, truth.loc[ids].tolist())  # what a label-editor click calls
    assert v == 1 and len(ds.pool) == before - 3 and len(ds.labeled) == 33
    assert ds.labeled.loc[ids, "label"].tolist() == truth.loc[ids].tolist()
    # labeled rows are never suggested again
    assert not set(ds.suggest_samples(k=20, progress=False).ids) & set(ids)
    ds.undo()
    assert len(ds.pool) == before


def test_a_class_missing_from_the_labeled_set():
    df = _pool_frame(["ant", "bee", "cat"])
    df.loc[df["label"] == "cat", "label"] = None  # nobody labeled a cat yet
    ds = dj.Dataset(df, label="label", classes=["ant", "bee", "cat"])
    for strategy in STRATEGIES:
        f = ds.suggest_samples(k=5, strategy=strategy, model=LR)
        assert len(f) == 5 and set(f.ids) <= set(ds.pool.index)
    weak = ds.suggest_samples(k=5, focus="weakest", model=LR)
    assert len(weak) == 5


def test_integer_labels():
    X, y = _blobs()
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["label"] = pd.array(y, dtype="Int64")
    df.loc[30:, "label"] = pd.NA
    ds = dj.Dataset(df, label="label")
    assert len(ds.pool) == 90
    for strategy in STRATEGIES:
        f = ds.suggest_samples(k=4, strategy=strategy, model=LR)
        assert set(f.ids) <= set(range(30, 120))
        if strategy != "random":
            assert set(f["predicted_label"]) <= {0, 1, 2}
    ds.relabel(f.ids, [int(v) for v in y[f.ids]])
    assert len(ds.pool) == 86


def test_pool_of_one_on_a_dataset():
    df = _pool_frame(["ant", "bee", "cat"], n_labeled=119)
    ds = dj.Dataset(df, label="label")
    (only,) = ds.pool.index
    for strategy in STRATEGIES:
        assert ds.suggest_samples(k=1, strategy=strategy, model=LR).ids.tolist() == [only]


def test_focus_weakest_favours_the_hard_classes():
    # ant and bee overlap (hard to tell apart); cat and dog are far away and easy
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 0.0], [0.8, 0.0], [10.0, 10.0], [-10.0, 10.0]])
    y = np.repeat(np.arange(4), 60)
    X = centers[y] + rng.normal(scale=1.0, size=(240, 2))
    df = pd.DataFrame(X, columns=["a", "b"])
    labels = np.array(["ant", "bee", "cat", "dog"], dtype=object)[y]
    labels[rng.permutation(240)[60:]] = None
    df["label"] = labels
    ds = dj.Dataset(df, label="label")
    lab = ds.labeled
    f1 = weakest_class_scores(
        lab[["a", "b"]].to_numpy(), lab["label"], classes=ds.classes, model=LR
    )
    assert f1[:2].max() < f1[2:].min()  # the overlapping pair is the weakest
    plain = ds.suggest_samples(k=10, strategy="least_confidence", model=LR)
    focused = ds.suggest_samples(k=10, strategy="least_confidence", focus="weakest", model=LR)
    hard = {"ant", "bee"}
    assert set(focused["predicted_label"]) <= hard
    assert (focused["predicted_label"].isin(hard)).mean() >= (
        plain["predicted_label"].isin(hard)
    ).mean()
    assert all("cross-validated F1 of that class" in r for r in focused["reason"])
    # the score is the uncertainty weighted by the expected weakness
    pool = ds.pool
    probs, _ = pool_predictions(
        lab[["a", "b"]].to_numpy(),
        lab["label"],
        pool[["a", "b"]].to_numpy(),
        model=LR,
        classes=ds.classes,
    )
    w = probs @ (1.0 - f1) + 1e-9
    expected = pd.Series(least_confidence(probs) * w, index=pool.index)
    np.testing.assert_allclose(focused["score"], expected.loc[focused.ids])


# ---------------------------------------------------------------------------- bad input
def test_bad_input_is_a_clear_error_and_changes_nothing():
    ds = _str_ds()
    before = _state(ds)
    with pytest.raises(ValueError, match=r"k=91 is more than the 90 row\(s\) in the pool"):
        ds.suggest_samples(k=91)
    with pytest.raises(TypeError, match="LinearSVC has no predict_proba"):
        ds.suggest_samples(k=5, model=LinearSVC())
    with pytest.raises(ValueError, match="strategy must be one of"):
        ds.suggest_samples(k=5, strategy="best")
    with pytest.raises(ValueError, match="focus must be None or 'weakest'"):
        ds.suggest_samples(k=5, focus="worst")
    with pytest.raises(ValueError, match="strategy='random' uses no model"):
        ds.suggest_samples(k=5, strategy="random", focus="weakest")
    with pytest.raises(ValueError, match="positive whole number"):
        ds.suggest_samples(k=0)
    # pool rows whose columns do not match the dataset's: the columns are named
    with pytest.raises(ValueError, match=r"missing \['c'\], extra \['d'\]"):
        ds.add(pd.DataFrame({"a": [1.0], "b": [2.0], "d": [3.0], "label": [None]}))
    with pytest.raises(TypeError, match="LinearSVC has no predict_proba"):
        ds.pseudo_label(model=LinearSVC())
    with pytest.raises(ValueError, match=r"threshold must be a probability in \(0, 1\]"):
        ds.pseudo_label(threshold=1.5)
    assert _state(ds) == before


def test_an_empty_pool_is_a_clear_error():
    df = _pool_frame(["ant", "bee", "cat"], n_labeled=120)
    ds = dj.Dataset(df, label="label")
    before = _state(ds)
    with pytest.raises(ValueError, match="the pool is empty"):
        ds.suggest_samples(k=1)
    with pytest.raises(ValueError, match="the pool is empty"):
        ds.pseudo_label()
    assert len(ds.pool) == 0 and _state(ds) == before


def test_a_single_class_labeled_set_is_a_clear_error():
    df = _pool_frame(["ant", "bee", "cat"])
    df.loc[df["label"] != "ant", "label"] = None
    ds = dj.Dataset(df, label="label")
    before = _state(ds)
    for strategy in ("auto", "margin", "diverse"):
        with pytest.raises(ValueError, match=r"every labeled row is 'ant'.*at least two classes"):
            ds.suggest_samples(k=3, strategy=strategy)
    with pytest.raises(ValueError, match="at least two classes"):
        ds.pseudo_label()
    assert _state(ds) == before
    # a random batch needs no model: the way to get the first labels
    assert len(ds.suggest_samples(k=3, strategy="random")) == 3


# ---------------------------------------------------------------------------- pseudo-labels
def test_pseudo_label_is_one_flagged_change_and_removable_as_a_group(tmp_path):
    path = tmp_path / "h.sqlite"
    df = _pool_frame(["ant", "bee", "cat"], std=1.0)
    ds = dj.Dataset(df, label="label", history=path)
    pool0 = set(ds.pool.index)
    v = ds.pseudo_label(threshold=0.9, model=LR)
    assert v == 1
    ch = ds.history.changes
    assert ch["op"].tolist() == ["pseudo_label"] and ch["params"].iloc[0]["n_pseudo"] > 0
    n = int(ch["params"].iloc[0]["n_pseudo"])
    pseudo = ds.ids_with_origin("pseudo")
    assert len(pseudo) == n == len(pool0) - len(ds.pool)
    assert set(pseudo) <= pool0
    assert (ds.origins.loc[pseudo, "label_origin"] == "pseudo").all()
    # the labels are the confident predictions of a model fit on the labeled rows
    lab = df[df["label"].notna()]
    model = LogisticRegression(max_iter=500).fit(lab[["a", "b", "c"]], lab["label"])
    rows = df.loc[pseudo, ["a", "b", "c"]]
    assert (model.predict_proba(rows).max(axis=1) >= 0.9).all()
    assert ds.df.loc[pseudo, "label"].tolist() == model.predict(rows).tolist()
    # a person corrects one pseudo-label: it is no longer a pseudo-label
    person = int(pseudo[0])
    ds.relabel([person], "cat")
    assert person not in set(ds.ids_with_origin("pseudo"))
    # take the rest back into the pool: one change, rows kept, the person's label stays
    v = ds.remove_pseudo_labels(reason="too eager")
    assert v == 3 and len(ds) == 120
    assert set(ds.pool.index) == pool0 - {person}
    assert ds.df.loc[person, "label"] == "cat"
    assert len(ds.ids_with_origin("pseudo")) == 0
    last = ds.history.changes.iloc[-1]
    assert last["op"] == "unlabel" and last["n_rows"] == n - 1
    assert last["params"]["reason"] == "too eager" and last["params"]["n_unlabeled"] == n - 1
    # exact replay from the file, undo brings the pseudo-labels back
    replayed = dj.open_history(path).replay(df)
    pd.testing.assert_frame_equal(replayed, ds.df)
    ds.undo()
    assert len(ds.ids_with_origin("pseudo")) == n - 1
    resumed = dj.Dataset(df, label="label", history=path)
    assert resumed.fingerprint == ds.fingerprint  # resume
    ds = resumed  # the newest Dataset of a history file records its changes
    # nothing left to take back: nothing recorded
    ds.remove_pseudo_labels()
    assert ds.remove_pseudo_labels() == ds.version


def test_pseudo_labels_only_learn_from_labels_people_gave():
    ds = _str_ds(std=1.0)
    ds.pseudo_label(threshold=0.6, model=LR)
    n1 = len(ds.ids_with_origin("pseudo"))
    before = _state(ds)
    # the same threshold again: the pseudo-labels do not train the model, so the pool rows
    # that were not confident enough are still not
    assert ds.pseudo_label(threshold=0.6, model=LR) == before[0]
    assert len(ds.ids_with_origin("pseudo")) == n1
    # nothing is confident enough: nothing is recorded
    assert ds.pseudo_label(threshold=1.0, model=LR) == ds.version


def test_recipe_replay_re_runs_pseudo_labels_and_their_removal():
    df = _pool_frame(["ant", "bee", "cat"], std=1.0)
    ds = dj.Dataset(df, label="label")
    ds.pseudo_label(threshold=0.9, model=LR)
    person = int(ds.ids_with_origin("pseudo")[0])
    other = next(c for c in ("ant", "bee", "cat") if c != ds.df.at[person, "label"])
    ds.relabel([person], other)  # a person corrects a pseudo-label
    ds.remove_pseudo_labels()
    result = ds.history.replay_recipe(df, progress=False)
    assert result.applied["op"].tolist() == ["pseudo_label", "relabel", "unlabel"]
    assert len(result.skipped) == 0 and len(result.needs_review) == 0
    again = result.dataset
    pd.testing.assert_series_equal(again.df["label"], ds.df["label"])
    assert again.origins.equals(ds.origins)


def test_unlabel_puts_any_labels_back_into_the_pool():
    ds = _str_ds()
    labeled = ds.labeled.index[:4].tolist()
    pool_id = int(ds.pool.index[0])
    before = ds.df.loc[labeled, "label"].tolist()
    v = ds.unlabel([*labeled, pool_id], reason="unsure")  # a pool row is skipped
    assert v == 1 and len(ds.pool) == 94 and set(labeled) <= set(ds.pool.index)
    assert ds.history.changes["n_rows"].tolist() == [4]
    with pytest.raises(KeyError):
        ds.unlabel([10_000])
    assert ds.version == 1
    ds.undo()
    assert ds.df.loc[labeled, "label"].tolist() == before and len(ds.pool) == 90


def test_recipe_replay_carries_a_person_confirming_a_pseudo_label_with_the_same_value():
    df = _pool_frame(["ant", "bee", "cat"], std=1.0)
    ds = dj.Dataset(df, label="label")
    ds.pseudo_label(threshold=0.9, model=LR)
    person = int(ds.ids_with_origin("pseudo")[0])
    ds.relabel([person], ds.df.at[person, "label"])  # confirmed: no longer a pseudo-label
    assert person not in ds.ids_with_origin("pseudo")
    ds.remove_pseudo_labels()
    result = ds.history.replay_recipe(df, progress=False)
    assert result.applied["op"].tolist() == ["pseudo_label", "relabel", "unlabel"]
    again = result.dataset
    pd.testing.assert_series_equal(again.df["label"], ds.df["label"])
    assert not pd.isna(again.df.at[person, "label"])
    assert again.origins.equals(ds.origins)
