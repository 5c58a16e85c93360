"""Unit and property tests of the label-issue ops: confident learning, the cross-validation
runner, the LabelIssues operation and its dataset glue (issues 3 and 7)."""

from __future__ import annotations

import hashlib
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression

import dcai_jupyter as dj
from dcai_jupyter.ops import (
    LabelIssues,
    accept_suggestions,
    confident_joint,
    default_label_issues,
    feature_matrix,
    find_dataset_label_issues,
    find_label_issues,
    label_issue_chart,
    label_quality_scores,
    out_of_sample_pred_probs,
    run_tasks,
    scores_digest,
)

COLUMNS = ["given_label", "suggested_label", "label_quality", "is_issue"]
#: what ds.find_label_issues() returns: the same columns plus the Findings score
DATASET_COLUMNS = ["given_label", "suggested_label", "label_quality", "score", "is_issue"]


# ---------------------------------------------------------------------------- helpers
def _blobs(n: int = 300, k: int = 3, flips: int = 15, seed: int = 0):
    X, y = make_blobs(n_samples=n, centers=k, n_features=4, cluster_std=1.0, random_state=seed)
    rng = np.random.default_rng(seed)
    idx = rng.choice(n, flips, replace=False)
    noisy = y.copy()
    noisy[idx] = (y[idx] + 1) % k
    return X, y, noisy, idx


def _dirichlet(n: int, k: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.full(k, 0.7), size=n)


class _Spy(ClassifierMixin, BaseEstimator):
    """Remembers the rows it was fit on; predicts [1, 0, ...] for a seen row, else [0, 1, ...].

    Also records the native thread limits in force during ``fit``.
    """

    def fit(self, X, y):
        from threadpoolctl import threadpool_info

        self.classes_ = np.unique(y)
        self.seen_ = {tuple(r) for r in np.asarray(X)}
        self.threads_ = [i["num_threads"] for i in threadpool_info()]
        return self

    def predict_proba(self, X):
        out = np.zeros((len(X), len(self.classes_)))
        seen = np.array([tuple(r) in self.seen_ for r in np.asarray(X)])
        out[seen, 0] = 1.0
        out[~seen, 1] = 1.0
        return out


class _Prior(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_, counts = np.unique(y, return_counts=True)
        self.prior_ = counts / counts.sum()
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))


# ---------------------------------------------------------------------------- pure function
def test_constructed_case_flags_the_obvious_errors():
    labels = ["cat", "cat", "cat", "dog", "dog", "dog", "cat", "dog"]
    probs = np.array(
        [
            [0.9, 0.1],
            [0.8, 0.2],
            [0.85, 0.15],
            [0.1, 0.9],
            [0.2, 0.8],
            [0.15, 0.85],
            [0.05, 0.95],  # labelled cat, clearly a dog
            [0.97, 0.03],  # labelled dog, clearly a cat
        ]
    )
    ids = [10, 11, 12, 13, 14, 15, 16, 17]
    out = find_label_issues(labels, probs, ids=ids)
    assert list(out.columns) == COLUMNS
    assert out.index.name == "sample_id"
    assert sorted(out.index) == ids
    flagged = out[out.is_issue]
    assert set(flagged.index) == {16, 17}
    assert list(out.index[:2]) == [17, 16]  # flagged first, lowest quality first
    assert out.loc[16, "suggested_label"] == "dog" and out.loc[16, "given_label"] == "cat"
    assert out.loc[17, "label_quality"] == pytest.approx(0.03)
    rest = out.iloc[2:]
    assert rest.label_quality.is_monotonic_increasing
    assert (rest.suggested_label == rest.given_label).all()


def test_classes_order_and_int_labels():
    probs = np.array([[0.1, 0.9], [0.8, 0.2], [0.9, 0.1], [0.2, 0.8], [0.95, 0.05]])
    # columns are classes [7, 3]: the last sample (label 3) is predicted 7
    out = find_label_issues([3, 7, 7, 3, 3], probs, classes=[7, 3])
    assert out.loc[4, "is_issue"]
    assert out.loc[4, "suggested_label"] == 7
    assert out["given_label"].dtype == np.int64
    q = label_quality_scores([3, 7, 7, 3, 3], probs, classes=[7, 3])
    assert q.tolist() == pytest.approx([0.9, 0.8, 0.9, 0.8, 0.05])
    m = label_quality_scores([3, 7, 7, 3, 3], probs, classes=[7, 3], method="normalized_margin")
    assert m[0] == pytest.approx((1 + 0.9 - 0.1) / 2)


def test_dataframe_probabilities_name_the_classes_and_top_level_export():
    probs = pd.DataFrame({"yes": [0.9, 0.2, 0.1, 0.97], "no": [0.1, 0.8, 0.9, 0.03]})
    out = dj.find_label_issues(["yes", "no", "no", "no"], probs)
    assert out.index[0] == 3 and out.loc[3, "suggested_label"] == "yes"
    assert out.loc[3, "is_issue"]


def test_perfect_predictions_have_no_issues():
    labels = np.repeat([0, 1, 2], 10)
    probs = np.eye(3)[labels]
    out = find_label_issues(labels, probs)
    assert not out.is_issue.any()
    assert (out.label_quality == 1.0).all()


def test_matches_cleanlab_default_on_the_same_probabilities():
    cleanlab_filter = pytest.importorskip("cleanlab.filter")
    for seed in range(4):
        rng = np.random.default_rng(seed)
        n, k = 400, 4
        labels = rng.integers(0, k, n)
        probs = _dirichlet(n, k, seed)
        probs[np.arange(n), labels] += rng.uniform(0, 2, n)
        probs /= probs.sum(axis=1, keepdims=True)
        ours = find_label_issues(labels, probs, min_support=0).sort_index()
        theirs = cleanlab_filter.find_label_issues(labels, probs)
        assert (ours.is_issue.to_numpy() == theirs).all()


def test_confident_joint_by_hand():
    # thresholds: class 0 = mean(.9, .8, .2) = .633, class 1 = mean(.9, .7, .4) = .667
    labels = [0, 0, 0, 1, 1, 1]
    p1 = np.array([0.1, 0.2, 0.8, 0.9, 0.7, 0.4])
    # confident: 0->0, 1->0, 2->1, 3->1, 4->1, 5->none; row 1 [0, 2] calibrated to 3 samples
    cj = confident_joint(labels, np.c_[1 - p1, p1])
    assert cj.tolist() == [[2, 1], [0, 3]]
    assert cj.dtype == np.int64


def test_confident_joint_rows_sum_to_class_counts_and_match_cleanlab():
    labels = np.array([0] * 30 + [1] * 50 + [2] * 20)
    probs = _dirichlet(100, 3, 1)
    cj = confident_joint(labels, probs)
    assert cj.sum(axis=1).tolist() == [30, 50, 20]
    assert cj.tolist() == [[12, 8, 10], [12, 25, 13], [5, 6, 9]]
    count = pytest.importorskip("cleanlab.count")
    assert (cj == count.compute_confident_joint(labels, probs)).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(4, 60),
    k=st.integers(2, 5),
    seed=st.integers(0, 10_000),
    shuffle_ids=st.booleans(),
)
def test_properties(n, k, seed, shuffle_ids):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    labels[:2] = [0, 1]  # at least two classes
    probs = _dirichlet(n, k, seed)
    ids = rng.permutation(np.arange(100, 100 + n)) if shuffle_ids else None
    out = find_label_issues(labels, probs, classes=list(range(k)), ids=ids)
    expected_ids = set(ids.tolist()) if ids is not None else set(range(n))
    assert set(out.index.tolist()) == expected_ids and len(out) == n
    assert out.label_quality.between(0, 1).all()
    assert (out.suggested_label[out.is_issue] != out.given_label[out.is_issue]).all()
    flags = out.is_issue.to_numpy()
    assert not (np.diff(flags.astype(int)) > 0).any()  # flagged rows come first
    for part in (out[out.is_issue], out[~out.is_issue]):
        assert part.label_quality.is_monotonic_increasing
    # suggestion = the most probable class (ties go to the given label), quality = p(given)
    pos = np.arange(n) if ids is None else pd.Index(ids).get_indexer(out.index)
    if ids is None:
        pos = out.index.to_numpy()
    p = probs[pos]
    given_p = p[np.arange(n), out.given_label.to_numpy()]
    tie = np.isclose(p.max(axis=1), given_p, atol=1e-6)
    assert (out.suggested_label.to_numpy()[~tie] == p.argmax(axis=1)[~tie]).all()
    assert (out.suggested_label.to_numpy()[tie] == out.given_label.to_numpy()[tie]).all()
    assert np.allclose(out.label_quality, given_p)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(6, 40))
def test_sample_order_does_not_matter(seed, n):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    labels[:3] = [0, 1, 2]
    probs = _dirichlet(n, 3, seed)
    perm = rng.permutation(n)
    a = find_label_issues(labels, probs).sort_index()
    b = find_label_issues(labels[perm], probs[perm], ids=perm).sort_index()
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("labels", "probs", "kwargs", "match"),
    [
        ([0, 1, 0], np.full((2, 2), 0.5), {}, "2 rows but there are 3 labels"),
        (["a", "b", "a"], np.full((3, 3), 1 / 3), {}, "3 columns but there are 2 classes"),
        ([1, 2, 3], np.full((3, 3), 1 / 3), {}, r"labels \[3\] are not columns"),
        ([0, 1, 0], np.full(3, 0.5), {}, "must be 2-D"),
        ([0, np.nan, 1], np.full((3, 2), 0.5), {}, r"missing value.*positions \[1\]"),
        (["a", None, "b"], np.full((3, 2), 0.5), {}, "missing value"),
        ([0, 0, 0], np.ones((3, 1)), {}, "only one class"),
        ([0, 0, 0], np.full((3, 2), 0.5), {"classes": [0, 1]}, "every label is 0"),
        ([0, 1, 5], np.full((3, 2), 0.5), {"classes": [0, 1]}, r"labels \[5\] are not in classes"),
        ([0, 1, 0], np.array([[0.5, 0.6], [0.5, 0.5], [0.5, 0.5]]), {}, "must sum to 1"),
        ([0, 1, 0], np.array([[1.5, -0.5], [0.5, 0.5], [0.5, 0.5]]), {}, "outside"),
        ([0, 1, 0], np.array([[np.nan, 0.5], [0.5, 0.5], [0.5, 0.5]]), {}, "NaN"),
        ([0, 1, 0], np.full((3, 2), 0.5), {"ids": [1, 1, 2]}, "unique"),
        ([0, 1, 0], np.full((3, 2), 0.5), {"ids": [1, 2]}, "ids has 2 values"),
        ([0, 1, 0], np.full((3, 2), 0.5), {"classes": [0, 0]}, "duplicate"),
        ([], np.zeros((0, 2)), {}, "empty"),
        (np.array([[0, 1]]), np.full((1, 2), 0.5), {}, "1-D"),  # lists of lists: multi-label
        (["a", 1, "b"], np.full((3, 3), 1 / 3), {}, "pass classes="),
    ],
)
def test_clear_errors(labels, probs, kwargs, match):
    with pytest.raises(ValueError, match=match):
        find_label_issues(labels, probs, **kwargs)


# ---------------------------------------------------------------------------- probabilities
def test_out_of_sample_probabilities_are_out_of_sample_and_thread_limited():
    X = np.arange(60, dtype=float).reshape(30, 2)
    y = np.repeat([0, 1], 15)
    spy = _Spy()
    probs = out_of_sample_pred_probs(X, y, model=spy, cv=3, progress=False)
    assert probs.shape == (30, 2)
    assert (probs[:, 1] == 1).all()  # no sample was predicted by a model that saw it


def test_native_threads_are_capped_inside_fits():
    from sklearn.base import clone

    seen: list[list[int]] = []

    class Recorder(_Spy):
        def fit(self, X, y):
            super().fit(X, y)
            seen.append(self.threads_)
            return self

    X = np.random.default_rng(0).normal(size=(30, 2))
    y = np.repeat([0, 1], 15)
    out_of_sample_pred_probs(X, y, model=clone(Recorder()), cv=3, progress=False)
    assert len(seen) == 3 and all(seen)
    assert all(t == 1 for threads in seen for t in threads)


def _square_and_threads(i: int) -> tuple[int, int]:
    from threadpoolctl import threadpool_info

    return i * i, max([p["num_threads"] for p in threadpool_info()] or [1])


def test_run_tasks_keys_results_caps_threads_and_counts_progress(capfd):
    tasks = [(("sq", i), _square_and_threads, (i,)) for i in range(6)]
    expected = {("sq", i): (i * i, 1) for i in range(6)}
    assert run_tasks(tasks, progress=False) == expected
    assert run_tasks(tasks, n_jobs=2, prefer="threads", progress=False) == expected
    capfd.readouterr()
    run_tasks(tasks, progress=True, desc="squares")
    bar = capfd.readouterr().err
    assert "squares:" in bar and "0/6" in bar  # one step per task (tqdm redraws at most 10/s)
    assert run_tasks([], progress=False) == {}


def test_folds_are_stratified():
    X = np.zeros((50, 1))
    y = np.array([0] * 40 + [1] * 10)
    probs = out_of_sample_pred_probs(X, y, model=_Prior(), cv=5, progress=False)
    # each training fold keeps the 80/20 class ratio exactly
    assert np.allclose(probs, [0.8, 0.2])


def test_out_of_sample_string_labels_classes_order_and_dataframe_input():
    X, _, noisy, _ = _blobs(90, 3, 0)
    names = np.array(["b", "c", "a"], dtype=object)[noisy]
    frame = pd.DataFrame(X, columns=list("pqrs")).assign(kind=np.where(X[:, 0] > 0, "x", "y"))
    from sklearn.linear_model import LogisticRegression

    probs = out_of_sample_pred_probs(
        frame, names, model=LogisticRegression(), cv=3, progress=False, classes=["c", "b", "a"]
    )
    assert probs.shape == (90, 3) and np.allclose(probs.sum(axis=1), 1)
    acc = (np.array(["c", "b", "a"])[probs.argmax(axis=1)] == names).mean()
    assert acc > 0.9


def test_cv_errors_name_the_class_and_suggest_cv():
    X = np.zeros((13, 2))
    y = ["a"] * 5 + ["b"] * 5 + ["rare"] * 3
    with pytest.raises(ValueError, match=r"class 'rare' has only 3 sample\(s\).*use cv=3"):
        out_of_sample_pred_probs(X, y, cv=5, progress=False)
    with pytest.raises(ValueError, match="at least 2 per class"):
        out_of_sample_pred_probs(X[:11], y[:11], cv=5, progress=False)
    with pytest.raises(ValueError, match="at least two classes"):
        out_of_sample_pred_probs(X[:5], y[:5], cv=2, progress=False)
    with pytest.raises(ValueError, match="cv must be an integer"):
        out_of_sample_pred_probs(X, y, cv=1, progress=False)
    with pytest.raises(ValueError, match="X has 12 rows"):
        out_of_sample_pred_probs(X[:12], y, cv=2, progress=False)
    with pytest.raises(TypeError, match="predict_proba"):
        from sklearn.svm import LinearSVC

        out_of_sample_pred_probs(X, y, model=LinearSVC(), cv=3, progress=False)


def test_default_pipeline_finds_injected_noise():
    X, y, noisy, idx = _blobs(400, 3, 30, seed=1)
    out = default_label_issues(X, noisy, progress=False)
    flagged = set(out.index[out.is_issue])
    truth = set(idx.tolist())
    precision = len(flagged & truth) / max(len(flagged), 1)
    recall = len(flagged & truth) / len(truth)
    assert precision > 0.8 and recall > 0.8
    assert (out.loc[idx, "suggested_label"].to_numpy() == y[idx]).mean() > 0.9


def test_default_pipeline_is_deterministic_and_parallel_safe():
    X, _, noisy, _ = _blobs(240, 3, 12, seed=2)
    a = default_label_issues(X, noisy, progress=False, random_state=3)
    b = default_label_issues(X, noisy, progress=False, random_state=3, n_jobs=2)
    pd.testing.assert_frame_equal(a, b)


def test_default_pipeline_handles_nan_duplicates_and_progress_bar(capfd):
    X, y, noisy, _ = _blobs(120, 2, 6, seed=3)
    X = np.vstack([X, X[:10]])  # exact duplicates
    noisy = np.concatenate([noisy, noisy[:10]])
    X[5, 1] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tqdm may warn that no notebook front end is present
        out = default_label_issues(X, noisy, progress=True)
    bar = capfd.readouterr().err
    assert "label issues" in bar and "it/s" in bar  # the bar ran (5 folds + 2 kNN chunks)
    quiet = default_label_issues(X, noisy, progress=False)
    pd.testing.assert_frame_equal(out, quiet)  # the bar changes nothing
    assert sorted(out.index) == list(range(130))
    assert out.label_quality.between(0, 1).all()
    # the NaN cell is imputed, not dropped: its sample is scored like its clean neighbours
    assert out.loc[5, "suggested_label"] == y[5] == noisy[5]
    wrong = noisy != np.concatenate([y, y[:10]])  # the flips, and copies of flipped rows
    assert wrong.sum() == 7
    assert wrong[out.index[:6]].all()  # the most suspicious are wrong labels
    assert wrong[out.index[out.is_issue]].all() and out.is_issue.sum() >= 3


def test_knn_reference_subset_for_large_data(monkeypatch):
    from dcai_jupyter.ops import _crossval

    monkeypatch.setattr(_crossval, "KNN_MAX_REFERENCE", 100)
    X, _, noisy, idx = _blobs(300, 3, 15, seed=4)
    out = default_label_issues(X, noisy, progress=False)
    assert len(set(out.index[out.is_issue]) & set(idx.tolist())) >= 12


# ---------------------------------------------------------------------------- features
def test_feature_matrix_encodes_each_kind():
    rng = np.random.default_rng(0)
    n = 80
    words = ["red apple pie", "green apple", "blue sky today", "sky is blue", "apple tree"]
    df = pd.DataFrame(
        {
            "num": np.where(np.arange(n) == 3, np.nan, np.arange(n, dtype=float)),
            "flag": rng.random(n) > 0.5,
            "color": pd.array(rng.choice(["r", "g", "b"], n), dtype="str"),
            "cat": pd.Categorical(rng.choice(["x", "y"], n)),
            "text": [f"{rng.choice(words)} number {i}" for i in range(n)],
            "img": [np.full((2, 3), i, dtype=np.uint8) for i in range(n)],
            "when": pd.date_range("2024-01-01", periods=n, freq="D"),
        }
    )
    X, used = feature_matrix(df)
    assert used == list(df.columns)
    assert X.dtype == np.float64 and np.isfinite(X).all()
    assert X[3, 0] == np.median(np.delete(np.arange(n, dtype=float), 3))
    # num 1 + flag 1 + color 3 + cat 2 + text <= 16 + img 6 + when 1
    assert 1 + 1 + 3 + 2 + 1 + 6 + 1 <= X.shape[1] <= 1 + 1 + 3 + 2 + 16 + 6 + 1
    img_block = X[:, -7:-1]
    assert np.allclose(img_block[:, 0], np.arange(n))


def test_feature_matrix_errors_name_the_columns():
    n = 60
    df = pd.DataFrame(
        {
            "x": np.arange(n, dtype=float),
            "uid": [f"id{i:05d}" for i in range(n)],
            "ragged": [np.zeros((i % 3 + 1, 2)) for i in range(n)],
            "empty": [None] * n,
        }
    )
    with pytest.raises(ValueError, match=r"could not be used: 'uid'.*'ragged'.*'empty'"):
        feature_matrix(df)
    with pytest.warns(UserWarning, match="left out"):
        X, used = feature_matrix(df, on_unusable="skip")
    assert used == ["x"] and X.shape == (n, 1)
    with pytest.raises(ValueError, match="no usable feature column"):
        feature_matrix(df, ["uid", "empty"], on_unusable="skip")
    with pytest.raises(ValueError, match=r"\['nope'\] are not in the frame"):
        feature_matrix(df, ["nope"])
    with pytest.raises(ValueError, match="no feature column"):
        feature_matrix(df, [])


@pytest.mark.parametrize("kind", ["numeric", "mixed", "a column without a number"])
def test_dataset_feature_matrix_equals_the_frame_path(kind):
    # all-numeric columns are stacked directly (no DataFrame between): the same matrix as
    # the general path (the columns as a DataFrame through feature_matrix)
    from dcai_jupyter.ops import dataset_feature_matrix
    from dcai_jupyter.ops._features import _numeric_matrix

    rng = np.random.default_rng(1)
    n = 90
    f = rng.normal(size=n)
    f[[3, 10]], f[20], f[21] = np.nan, np.inf, -np.inf
    f32 = rng.normal(size=n).astype(np.float32)
    f32[::7] = np.nan
    cols = {
        "f": f,
        "i": rng.integers(-50, 50, n),
        "f32": f32,
        "u": rng.integers(0, 9, n).astype(np.uint8),
        "b": rng.random(n) < 0.4,
        "label": np.array(["x", "y", "z"])[np.arange(n) % 3],
    }
    if kind == "mixed":
        cols["city"] = rng.choice(["lyon", "nice", "paris"], n)
    if kind == "a column without a number":
        cols["none"] = np.full(n, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ds = dj.Dataset(pd.DataFrame(cols), label="label", history=":memory:")
    feats = [c for c in ds.feature_columns if c != ds.label]
    assert {"f", "i", "f32", "u", "b"} <= set(feats)
    direct = _numeric_matrix([ds.column(c) for c in feats]) is not None
    assert direct == (kind != "mixed")
    for chosen in (None, ["b", "f32", "f"], ["f", "i", "f"]):
        want = feats if chosen is None else chosen
        frame = pd.DataFrame({c: ds.column(c) for c in want})
        ref, ref_used = feature_matrix(frame, want, on_unusable="skip")
        X, used = dataset_feature_matrix(ds, chosen)
        assert used == ref_used and X.dtype == ref.dtype == np.float64
        assert X.shape == ref.shape and np.array_equal(X, ref)
        assert X.flags.c_contiguous == ref.flags.c_contiguous
    assert np.isfinite(X).all() and X[3, 2] == np.median(f[np.isfinite(f)])
    if kind == "a column without a number":  # named in the error, as before
        assert _numeric_matrix([ds.column("f"), ds.column("none")]) is None
        with pytest.raises(ValueError, match="'none': no finite value"):
            dataset_feature_matrix(ds, ["f", "none"])


# ---------------------------------------------------------------------------- the operation
def _dataset(n: int = 150, flips: int = 10) -> tuple[dj.Dataset, np.ndarray]:
    X, _, noisy, idx = _blobs(n, 3, flips, seed=5)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["label"] = np.array(["ant", "bee", "cat"], dtype=object)[noisy]
    return dj.Dataset(df, label="label", history=":memory:"), idx


class _NotebookLR(LogisticRegression):
    """A model class from a module recipe replay does not trust (like one defined in a notebook)."""


def test_find_label_issues_returns_findings_and_records_an_event():
    ds, idx = _dataset()
    ds.remove([0, 1])  # ids need not be 0..n-1
    issues = ds.find_label_issues(progress=False)
    assert isinstance(issues, dj.Findings)
    assert issues.op == "label_issues" and issues.action == "relabel"
    assert issues.roles == {"score": "score", "flag": "is_issue", "suggestion": "suggested_label"}
    assert list(issues.columns) == DATASET_COLUMNS
    assert set(issues.index) == set(ds.ids.tolist()) and len(issues) == 148
    assert issues.version == issues.attrs["version"] == ds.version == 1
    assert issues.params == LabelIssues(progress=False).json_params()
    np.testing.assert_allclose(issues["score"], 1.0 - issues["label_quality"])
    # the frame is in the Findings order: flagged first, most suspicious first
    flagged = issues.flagged
    assert list(issues.index[: len(flagged)]) == list(flagged.index)
    assert issues["is_issue"].iloc[: len(flagged)].all()
    assert not issues["is_issue"].iloc[len(flagged) :].any()
    last = ds.history.events.iloc[-1]
    assert last["op"] == "find_label_issues" and last["version"] == 1
    params, summary = last["params"], last["summary"]
    assert json.loads(json.dumps(params)) == params == issues.params
    assert params["cv"] == 5 and params["features"] is None and params["model"] is None
    assert summary["features"] == ["a", "b", "c", "d"] and summary["n_unlabeled"] == 0
    assert summary["digest"] == issues.digest()
    assert summary["n"] == 148 and summary["n_flagged"] == len(flagged)
    assert summary["top_ids"] == [int(i) for i in issues.sorted().index[:20]]
    q = issues["label_quality"].sort_index().to_numpy(dtype=np.float64)
    assert (
        issues.attrs["digest"] == hashlib.sha256(q.tobytes()).hexdigest() == scores_digest(issues)
    )
    assert len(set(flagged.index) & set(idx.tolist())) >= 7


def test_find_with_a_model_and_features_records_them():
    ds, _ = _dataset()
    issues = find_dataset_label_issues(
        ds, model=LogisticRegression(C=0.5), cv=3, progress=False, features=["a", "b"]
    )
    assert isinstance(issues, dj.Findings) and len(issues) == 150
    last = ds.history.events.iloc[-1]
    model = last["params"]["model"]
    assert model["__estimator__"].endswith("LogisticRegression")
    assert model["params"]["C"] == 0.5
    assert last["params"]["features"] == ["a", "b"] and last["params"]["cv"] == 3
    assert last["summary"]["features"] == ["a", "b"]
    # the operation is rebuilt from what the findings record
    again = LabelIssues.for_findings(issues)
    assert again.json_params() == issues.params
    assert isinstance(again.model, LogisticRegression) and again.model.C == 0.5


def test_find_is_deterministic_and_changes_nothing():
    ds, _ = _dataset()
    fp, v = ds.fingerprint, ds.version
    a = ds.find_label_issues(progress=False, random_state=7)
    b = ds.find_label_issues(progress=False, random_state=7, n_jobs=2)
    assert a.digest() == b.digest()
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert (ds.fingerprint, ds.version) == (fp, v)
    assert len(ds.history.events) == 2


def test_bad_features_are_clear_errors():
    ds, _ = _dataset()
    with pytest.raises(ValueError, match=r"\['nope'\] are not columns"):
        ds.find_label_issues(progress=False, features=["a", "nope"])
    with pytest.raises(ValueError, match="is the label column"):
        ds.find_label_issues(progress=False, features=["a", "label"])


def test_dataset_without_usable_features_is_a_clear_error():
    df = pd.DataFrame({"uid": [f"u{i}" for i in range(60)], "label": [0, 1] * 30})
    ds = dj.Dataset(df, label="label", history=":memory:")
    with pytest.raises(ValueError, match="no usable feature column: 'uid'"):
        ds.find_label_issues(progress=False)
    assert len(ds.history.events) == 0  # a failed find records nothing


def test_dataset_rare_class_error_names_the_class():
    df = pd.DataFrame({"x": np.arange(40.0), "label": ["dog"] * 20 + ["cat"] * 17 + ["emu"] * 3})
    ds = dj.Dataset(df, label="label", history=":memory:")
    with pytest.raises(ValueError, match=r"class 'emu' has only 3 sample\(s\).*use cv=3"):
        ds.find_label_issues(progress=False)
    with pytest.raises(ValueError, match=r"class 'emu'"):
        default_label_issues(df[["x"]], df["label"], progress=False)
    assert len(ds.find_label_issues(progress=False, cv=3)) == 40


def test_accept_suggestions_is_one_recorded_change():
    ds, _ = _dataset()
    issues = ds.find_label_issues(progress=False)
    flagged = issues[issues.is_issue]
    assert isinstance(flagged, dj.Findings) and len(flagged) >= 3
    before = ds.version
    v = ds.accept_suggestions(issues, top=3, reason="label issue")
    assert v == before + 1
    change = ds.history.changes.iloc[-1]
    assert change["op"] == "accept_suggestions" and change["n_rows"] == 3
    assert change["ids"] == [int(i) for i in flagged.index[:3]]  # most suspicious first
    params = change["params"]
    assert params["options"] == {"top": 3} and params["reason"] == "label issue"
    assert params["operation"] == issues.params
    assert params["findings"] == {
        "op": "label_issues",
        "version": issues.version,
        "digest": issues.digest(),
    }
    assert params["n"] == 3 and params["skipped_changed_since"] == 0
    labels = pd.Series(ds.column("label"), index=ds.ids)
    for sid in flagged.index[:3]:
        assert labels[sid] == flagged.loc[sid, "suggested_label"]
        assert labels[sid] != flagged.loc[sid, "given_label"]
    # applying again changes nothing (the labels no longer match given_label)
    assert ds.accept_suggestions(issues, top=3) == v
    assert len(ds.history.changes) == 1
    ds.undo()
    labels = pd.Series(ds.column("label"), index=ds.ids)
    for sid in flagged.index[:3]:
        assert labels[sid] == flagged.loc[sid, "given_label"]


def test_accept_suggestions_skips_rows_relabeled_since():
    ds, _ = _dataset()
    issues = ds.find_label_issues(progress=False)
    first, second = (int(i) for i in issues.flagged.index[:2])
    manual = next(
        c
        for c in ds.classes
        if c not in (issues.loc[first, "given_label"], issues.loc[first, "suggested_label"])
    )
    ds.relabel([first], [manual])
    v = ds.accept_suggestions(issues, top=2)
    params = ds.history.changes.iloc[-1]["params"]
    assert params["n"] == 1 and params["skipped_changed_since"] == 1
    labels = pd.Series(ds.column("label"), index=ds.ids)
    assert labels[first] == manual  # the person's later decision wins
    assert labels[second] == issues.loc[second, "suggested_label"]
    assert ds.history.changes.iloc[-1]["ids"] == [second] and v == 2


def test_accept_suggestions_errors():
    ds, _ = _dataset()
    issues = ds.find_label_issues(progress=False)
    gone = int(issues.flagged.index[0])
    ds.remove([gone])
    v = ds.version
    with pytest.raises(KeyError, match=rf"removed since.*\[{gone}\]"):
        accept_suggestions(ds, issues, top=2)
    with pytest.raises(TypeError, match="DataFrame"):
        accept_suggestions(ds, [1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="suggested_label"):
        accept_suggestions(ds, issues.frame.drop(columns="suggested_label"))
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="top must be a non-negative integer"):
            ds.accept_suggestions(issues, top=bad)  # type: ignore[arg-type]
    other = dj.Findings(issues.frame, op="duplicates", roles={"score": "score", "flag": "is_issue"})
    with pytest.raises(ValueError, match="come from 'duplicates'"):
        ds.accept_suggestions(other)
    assert ds.version == v and len(ds.history.changes) == 1  # nothing half-applied
    assert accept_suggestions(ds, issues, top=0) == v
    assert len(ds.history.changes) == 1


def test_accept_suggestions_from_a_plain_frame():
    ds, _ = _dataset()
    issues = ds.find_label_issues(progress=False)
    frame = issues.frame[["given_label", "suggested_label", "is_issue"]]
    picked = frame[frame["is_issue"]].iloc[[1, 0]]  # any order; the ids decide
    v = ds.accept_suggestions(picked)  # type: ignore[arg-type]
    assert v == 1
    labels = pd.Series(ds.column("label"), index=ds.ids)
    assert (labels[picked.index] == picked["suggested_label"]).all()


def test_accept_suggestions_with_a_model_replay_cannot_rebuild():
    ds, _ = _dataset()
    issues = ds.find_label_issues(model=_NotebookLR(C=2.0), cv=3, progress=False)
    recorded = issues.params["model"]
    assert recorded["__estimator__"].endswith("_NotebookLR")
    with pytest.raises(dj.ops.ParamError, match="not from a trusted module"):
        LabelIssues.from_params(issues.params)
    op = LabelIssues.for_findings(issues)
    assert op.json_params() == issues.params  # the change records what the find step used
    v = ds.accept_suggestions(issues, top=2)
    assert v == 1 and ds.history.changes.iloc[-1]["params"]["operation"]["model"] == recorded


def test_label_issue_chart():
    labels = ["a", "a", "b", "b", "a", "b"]
    probs = np.array([[0.9, 0.1], [0.1, 0.9], [0.2, 0.8], [0.95, 0.05], [0.8, 0.2], [0.3, 0.7]])
    chart = label_issue_chart(find_label_issues(labels, probs))
    spec = chart.to_dict()
    assert "layer" in spec
    values = next(iter(spec["datasets"].values()))
    pairs = {(r["given_label"], r["suggested_label"]): r["count"] for r in values}
    assert pairs == {("a", "b"): 1, ("b", "a"): 1}
    assert spec["title"] == "Label issues: given vs suggested label (2 samples)"
    everything = label_issue_chart(find_label_issues(labels, probs), flagged_only=False)
    values = next(iter(everything.to_dict()["datasets"].values()))
    assert sum(r["count"] for r in values) == 6
    with pytest.raises(ValueError, match="given_label and suggested_label"):
        label_issue_chart(pd.DataFrame({"x": [1]}))
    with pytest.raises(TypeError, match="Findings"):
        label_issue_chart([1, 2])  # type: ignore[arg-type]


def test_label_issue_chart_of_findings():
    ds, _ = _dataset()
    issues = ds.find_label_issues(progress=False)
    spec = dj.label_issue_chart(issues).to_dict()
    values = next(iter(spec["datasets"].values()))
    flagged = issues.flagged
    expected = flagged.frame.groupby(["given_label", "suggested_label"]).size().to_dict()
    assert {(r["given_label"], r["suggested_label"]): r["count"] for r in values} == expected
    for r in values:
        rows = flagged.frame[
            (flagged["given_label"] == r["given_label"])
            & (flagged["suggested_label"] == r["suggested_label"])
        ]
        assert r["mean_quality"] == pytest.approx(rows["label_quality"].mean())


def test_dataset_features_text_and_image_columns():
    rng = np.random.default_rng(0)
    n = 90
    y = np.repeat([0, 1, 2], 30)
    words = np.array(["alpha beta", "gamma delta", "epsilon zeta"])
    df = pd.DataFrame(
        {
            "size": rng.normal(size=n) + y,
            "note": [f"{words[c]} item number {i} here" for i, c in enumerate(y)],
            "label": y,
        }
    )
    ds = dj.Dataset(df, label="label", history=":memory:", text="note")
    issues = ds.find_label_issues(progress=False, cv=3)
    assert issues.attrs["features"] == ["size", "note"]
    images = pd.DataFrame({"image": [np.full((4, 4), c, float) for c in y], "label": y})
    ds2 = dj.Dataset(images, label="label", history=":memory:")
    assert ds2.image_column == "image"
    issues2 = ds2.find_label_issues(progress=False, cv=3)
    assert issues2.attrs["features"] == ["image"] and not issues2.is_issue.any()


def test_dataset_issues_leave_unlabeled_rows_out():
    from sklearn.datasets import make_classification

    X, y = make_classification(300, n_features=5, random_state=0)
    df = pd.DataFrame(X, columns=list("abcde"))
    df["label"] = y.astype(float)
    df.loc[:20, "label"] = np.nan  # an unlabeled pool of 21 rows
    ds = dj.Dataset(df, label="label")
    issues = ds.find_label_issues(progress=False)
    assert len(issues) == 279 and not set(range(21)) & set(issues.index)
    assert ds.history.events["summary"].iloc[0]["n_unlabeled"] == 21
