"""Issue 12: the default model chosen from the data (out-of-fold weights over a kNN vote,
gradient boosting and LogisticRegression), never worse than cleanlab on CV
LogisticRegression on small nearly linear data, and cleanlab's options on
``ds.find_label_issues``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _noise import flip_labels as _noisy
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_circles, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import dcai_jupyter as dj
from dcai_jupyter.ops import LabelIssues, default_label_issues, out_of_sample_pred_probs
from dcai_jupyter.ops import _model_choice as mc


# ---------------------------------------------------------------------------- weights
def _accuracy(p: np.ndarray, codes: np.ndarray) -> float:
    return float((p.argmax(axis=1) == codes).mean())


def test_choose_weights_prefers_the_candidate_that_predicts_the_labels():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, 300)
    good = np.full((300, 3), 0.1)
    good[np.arange(300), codes] = 0.8
    good[:30] = good[:30, [1, 2, 0]]  # 10 % wrong
    noise = rng.dirichlet(np.ones(3), 300)
    assert mc.choose_weights([noise, good], codes).tolist() == [0.0, 1.0]
    w3 = mc.choose_weights([noise, good, (good + noise) / 2], codes)
    assert w3.sum() == pytest.approx(1.0) and (w3 >= 0).all()
    mixed = mc.combine([noise, good, (good + noise) / 2], w3)
    assert _accuracy(mixed, codes) >= _accuracy(good, codes)
    # among equally accurate mixes the lower log-loss wins: a sharper copy of `good`
    sharp = np.where(good == 0.8, 0.98, 0.01)
    w = mc.choose_weights([good, sharp], codes)
    loss = mc.given_label_log_loss(mc.combine([good, sharp], w), codes)
    assert loss <= min(mc.given_label_log_loss(p, codes) for p in (good, sharp))
    assert mc.given_label_log_loss(good, codes) < mc.given_label_log_loss(sharp, codes)
    # the choice is a pure function of its inputs
    assert (
        mc.choose_weights([good, good], codes).tolist()
        == mc.choose_weights([good, good], codes).tolist()
    )
    np.testing.assert_allclose(mc.combine([noise, good], [0.3, 0.7]).sum(axis=1), 1.0)


def test_linear_task_fits_a_fixed_subset_on_large_folds(monkeypatch):
    X, y = make_classification(n_samples=400, n_features=5, random_state=0)
    Z = StandardScaler().fit_transform(X).astype(np.float32)
    train, test = np.arange(300), np.arange(300, 400)
    full = mc.linear_task(Z, y, train, test, 2, 0)
    monkeypatch.setattr(mc, "LR_MAX_TRAIN", 60)
    a = mc.linear_task(Z, y, train, test, 2, 0)
    assert not np.allclose(a, full)  # fit on 60 rows, not 300
    np.testing.assert_array_equal(a, mc.linear_task(Z, y, train, test, 2, 0))  # same subset


def test_default_is_chosen_from_the_data():
    X, y = make_classification(
        n_samples=300,
        n_features=8,
        n_informative=4,
        n_classes=2,
        n_clusters_per_class=1,
        class_sep=1.2,
        random_state=1,
    )
    noisy = _noisy(y, 0.1, 0)
    blend = out_of_sample_pred_probs(X, noisy, progress=False)
    lr = out_of_sample_pred_probs(X, noisy, model=LogisticRegression(), progress=False)
    # LR alone is one of the mixes: the chosen one agrees with the labels at least as often
    assert _accuracy(blend, noisy) >= _accuracy(lr, noisy)
    # on circles (no linear boundary) the mix is far better than LR
    Xc, yc = make_circles(n_samples=300, noise=0.08, factor=0.5, random_state=0)
    noisy_c = _noisy(yc, 0.1, 0)
    circ = out_of_sample_pred_probs(Xc, noisy_c, progress=False)
    lr_c = out_of_sample_pred_probs(Xc, noisy_c, model=LogisticRegression(), progress=False)
    assert _accuracy(circ, noisy_c) > _accuracy(lr_c, noisy_c) + 0.2
    assert _accuracy(circ, yc) > 0.9


#: the small nearly linear cases of benchmarks/label_issues.py
LINEAR_CASES = {
    "lin300": dict(
        n_samples=300,
        n_features=8,
        n_informative=4,
        n_classes=2,
        n_clusters_per_class=1,
        class_sep=1.2,
        random_state=1,
    ),
    "lin400": dict(
        n_samples=400,
        n_features=10,
        n_informative=5,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        class_sep=1.5,
        random_state=0,
    ),
}


@pytest.mark.parametrize("case", sorted(LINEAR_CASES))
@pytest.mark.parametrize("frac", [0.1, 0.2])
def test_never_worse_than_cleanlab_on_cv_logistic_regression_on_small_linear_data(case, frac):
    cleanlab_filter = pytest.importorskip("cleanlab.filter")
    X, y = make_classification(**LINEAR_CASES[case])
    noisy = _noisy(y, frac, 0)
    truth = noisy != y
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    probs = cross_val_predict(model, X, noisy, cv=cv, method="predict_proba")
    theirs = f1_score(truth, cleanlab_filter.find_label_issues(noisy, probs, n_jobs=1))
    ours = default_label_issues(X, noisy, progress=False).sort_index()["is_issue"].to_numpy()
    assert f1_score(truth, ours) >= theirs - 0.01


# ---------------------------------------------------------------------------- options on datasets
def _dataset() -> dj.Dataset:
    X, y = make_classification(
        n_samples=150,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=0,
    )
    noisy = _noisy(y, 0.1, 0)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["label"] = np.array(["ant", "bee", "cat"], dtype=object)[noisy]
    return dj.Dataset(df, label="label", history=":memory:")


def test_dataset_options_have_cleanlabs_meaning_and_are_recorded():
    ds = _dataset()
    issues = ds.find_label_issues(
        progress=False, filter_by="prune_by_class", num_to_remove_per_class=[2, 0, 3]
    )
    flagged = issues.frame[issues.frame.is_issue]
    counts = flagged["given_label"].value_counts().to_dict()
    assert counts == {"ant": 2, "cat": 3}
    params = ds.history.events.iloc[-1]["params"]
    assert params["filter_by"] == "prune_by_class"
    assert params["num_to_remove_per_class"] == [2, 0, 3]
    again = LabelIssues.from_params(params)
    assert again.filter_by == "prune_by_class" and again.rank_by == "self_confidence"
    one = ds.find_label_issues(
        progress=False, filter_by="prune_by_class", num_to_remove_per_class=1
    )
    assert one.frame[one.frame.is_issue]["given_label"].value_counts().to_dict() == {
        "ant": 1,
        "bee": 1,
        "cat": 1,
    }
    nm = ds.find_label_issues(progress=False, rank_by="normalized_margin", min_support=0)
    assert nm.frame["label_quality"].between(0, 1).all()
    np.testing.assert_allclose(nm.frame["score"], 1 - nm.frame["label_quality"])


class _NoFit(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):  # pragma: no cover - must not be reached
        raise AssertionError("a model was fit although the options are bad")

    def predict_proba(self, X):  # pragma: no cover
        raise AssertionError


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"filter_by": "prune"}, "filter_by must be one of"),
        ({"rank_by": "entropy"}, "rank_by must be one of"),
        ({"frac_noise": 2}, "frac_noise"),
        ({"num_to_remove_per_class": [1, 2]}, "one per class in that order"),
        ({"num_to_remove_per_class": 1, "filter_by": "low_self_confidence"}, "not supported"),
    ],
)
def test_bad_options_fail_before_any_fit_and_record_nothing(kwargs, match):
    ds = _dataset()
    before = len(ds.history.events)
    with pytest.raises(ValueError, match=match):
        ds.find_label_issues(model=_NoFit(), progress=False, **kwargs)
    assert len(ds.history.events) == before
