"""Confident learning counted with the kept samples' thresholds (``thresholds="kept"``),
and ``ds.find_label_issues()`` choosing it where its probabilities were not refined."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

import dcai_jupyter as dj
from dcai_jupyter.ops import confident_joint, find_label_issues, out_of_sample_pred_probs
from dcai_jupyter.ops._cl_prune import _kept_thresholds
from dcai_jupyter.ops._crossval import probs_refined
from dcai_jupyter.ops._tabular import Design, dataset_design


def _flags(labels, probs, **kw) -> np.ndarray:
    return find_label_issues(labels, probs, **kw).sort_index()["is_issue"].to_numpy()


def _mostly_noise(seed: int, n: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two overlapping classes 84/16, 20 % of each flipped: 57 % of the rare label is wrong.
    Probabilities: 5-fold logistic regression of the noisy labels (one fit, not refined)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.16).astype(np.int64)
    s = rng.normal(np.where(y == 1, 1.0, -1.0), 1.0)
    noisy = y.copy()
    for c in (0, 1):
        members = np.flatnonzero(y == c)
        idx = rng.choice(members, round(0.2 * len(members)), replace=False)
        noisy[idx] = 1 - c
    probs = cross_val_predict(LogisticRegression(), s[:, None], noisy, cv=5, method="predict_proba")
    return noisy, probs, noisy != y


def _f1(flags: np.ndarray, truth: np.ndarray) -> float:
    return 2 * float((flags & truth).sum()) / float(flags.sum() + truth.sum())


def test_kept_thresholds_are_the_means_over_the_samples_the_default_rule_keeps():
    labels, probs, _ = _mostly_noise(0, 600)
    first = _flags(labels, probs, min_support=0)
    t = _kept_thresholds(labels, probs)
    for c in (0, 1):
        kept = (labels == c) & ~first
        assert t[c] == pytest.approx(probs[kept, c].mean(), abs=1e-12)
        # the wrong labels pulled cleanlab's threshold down
        assert t[c] > probs[labels == c, c].mean()
    # the same as passing those thresholds
    np.testing.assert_array_equal(
        _flags(labels, probs, thresholds="kept"), _flags(labels, probs, thresholds=t)
    )
    np.testing.assert_array_equal(
        confident_joint(labels, probs, thresholds="kept"),
        confident_joint(labels, probs, thresholds=t),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kept_thresholds_count_the_errors_of_a_class_that_is_mostly_noise(seed):
    labels, probs, truth = _mostly_noise(seed)
    rare = labels == 1
    assert truth[rare].mean() > 0.5  # the rare label is mostly wrong
    cleanlab_rule = _flags(labels, probs)
    kept = _flags(labels, probs, thresholds="kept")
    # cleanlab's count misses a quarter of the rare label's errors; the kept one is within 10 %
    assert cleanlab_rule[rare].sum() < 0.85 * truth[rare].sum()
    assert abs(kept[rare].sum() - truth[rare].sum()) < 0.1 * truth[rare].sum()
    assert _f1(kept, truth) > _f1(cleanlab_rule, truth) + 0.02


def test_kept_is_checked():
    labels, probs, _ = _mostly_noise(0, 200)
    with pytest.raises(ValueError, match="'kept'"):
        find_label_issues(labels, probs, thresholds="clean")
    with pytest.raises(ValueError, match="thresholds"):
        dj.ops.LabelIssues(thresholds="clean")._options(
            dj.Dataset(pd.DataFrame({"x": np.arange(4.0), "y": list("abab")}), label="y"),
            ["a", "b"],
        )


def _mixed_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    x = rng.normal(np.where(y == 1, 1.0, -1.0), 1.0)
    x[rng.random(n) < 0.05] = np.nan
    city = np.where(rng.random(n) < 0.6 + 0.3 * y, "north", "south")
    words = np.array(["good", "fine", "bad", "poor", "late", "early"])
    text = [" ".join(rng.choice(words[:3] if v else words[2:], 3)) for v in y]
    noisy = y.copy()
    for c in (0, 1):
        members = np.flatnonzero(y == c)
        idx = rng.choice(members, round(0.2 * len(members)), replace=False)
        noisy[idx] = 1 - c
    return pd.DataFrame(
        {"x": x, "city": city, "note": text, "label": np.where(noisy == 1, "yes", "no")}
    )


def test_mixed_table_counts_with_kept_thresholds():
    df = _mixed_frame()
    ds = dj.Dataset(df, label="label")
    X, _ = dataset_design(ds)
    assert isinstance(X, Design) and not probs_refined(X)
    labels = df["label"].to_numpy(dtype=object)
    probs = out_of_sample_pred_probs(X, labels, progress=False, classes=["no", "yes"])
    issues = ds.find_label_issues(progress=False)
    got = issues.frame["is_issue"].reindex(ds.ids).to_numpy(dtype=bool)
    kept = _flags(labels, probs, classes=["no", "yes"], thresholds="kept")
    cleanlab_rule = _flags(labels, probs, classes=["no", "yes"])
    assert not np.array_equal(kept, cleanlab_rule)  # the rule matters on this table
    np.testing.assert_array_equal(got, kept)
    # the user's choice wins, and is recorded
    explicit = ds.find_label_issues(progress=False, thresholds=[0.5, 0.5])
    assert explicit.params["thresholds"] == [0.5, 0.5]


def test_refined_probabilities_keep_cleanlab_thresholds_and_a_given_model_does_not():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=300) > 0.8, "b", "a")
    flip = rng.choice(300, 40, replace=False)
    y[flip] = np.where(y[flip] == "a", "b", "a")
    df = pd.DataFrame(X, columns=["f0", "f1", "f2"]).assign(label=y)
    ds = dj.Dataset(df, label="label")
    assert probs_refined(X) and not probs_refined(X, LogisticRegression())
    probs = out_of_sample_pred_probs(X, y, progress=False, classes=["a", "b"])
    got = ds.find_label_issues(progress=False).frame["is_issue"].reindex(ds.ids).to_numpy(bool)
    np.testing.assert_array_equal(got, _flags(y, probs, classes=["a", "b"]))
    model = LogisticRegression()
    probs_lr = out_of_sample_pred_probs(X, y, model=model, progress=False, classes=["a", "b"])
    got_lr = ds.find_label_issues(progress=False, model=model)
    np.testing.assert_array_equal(
        got_lr.frame["is_issue"].reindex(ds.ids).to_numpy(bool),
        _flags(y, probs_lr, classes=["a", "b"], thresholds="kept"),
    )
