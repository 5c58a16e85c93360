"""``ds.evaluate()``: cross-validated scores recorded at the version they were measured on."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

import dcai_jupyter as dj


def _blobs(n: int = 150) -> pd.DataFrame:
    X, y = make_blobs(n_samples=n, centers=3, n_features=2, cluster_std=2.5, random_state=0)
    df = pd.DataFrame(X, columns=["a", "b"])
    df["label"] = np.array(["ant", "bee", "cat"], dtype=object)[y]
    return df


def test_scores_match_sklearn_cross_validation_and_are_recorded_per_version():
    df = _blobs()
    ds = dj.Dataset(df, label="label")
    model = LogisticRegression(max_iter=500)
    ev = ds.evaluate(model, cv=3, progress=False)
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    pred = cross_val_predict(model, df[["a", "b"]].to_numpy(), df["label"], cv=cv)
    assert ev.accuracy == pytest.approx(accuracy_score(df["label"], pred))
    assert ev.macro_f1 == pytest.approx(f1_score(df["label"], pred, average="macro"))
    per = f1_score(df["label"], pred, average=None, labels=["ant", "bee", "cat"])
    assert ev.per_class["f1"].tolist() == pytest.approx(per.tolist())
    assert ev.per_class["support"].tolist() == [50, 50, 50]
    m = ds.history.metrics
    assert set(m["version"]) == {0}
    assert dict(zip(m["name"], m["value"], strict=True)) == pytest.approx(ev.metrics)
    assert set(ev.metrics) == {"accuracy", "macro_f1", "f1[ant]", "f1[bee]", "f1[cat]"}

    ds.remove([0, 1, 2])
    ev2 = ds.evaluate(model, cv=3, progress=False)
    assert ev2.version == 1 and ev2.n_samples == 147
    assert sorted(set(ds.history.metrics["version"])) == [0, 1]
    # deterministic given random_state
    assert ds.evaluate(model, cv=3, progress=False).accuracy == ev2.accuracy


def test_unlabeled_pool_rows_are_left_out():
    df = _blobs()
    df["label"] = df["label"].astype(object)
    df.loc[:29, "label"] = None
    ds = dj.Dataset(df, label="label")
    ev = ds.evaluate(cv=3, progress=False)  # the default ensemble
    assert ev.n_samples == 120 and ev.n_unlabeled == 30
    assert 0.5 < ev.accuracy <= 1.0
    assert ds.history.metrics["params"].iloc[0]["evaluate"]["n_unlabeled"] == 30


def test_too_few_samples_of_a_class_is_a_clear_error_and_nothing_is_recorded():
    df = _blobs(60)
    df.loc[df.index[df["label"] == "cat"][2:], "label"] = "bee"  # 2 cats left
    ds = dj.Dataset(df, label="label")
    with pytest.raises(ValueError, match="use cv=2"):
        ds.evaluate(cv=5, progress=False)
    assert ds.history.metrics.empty


def test_evaluate_says_once_when_rows_made_by_operations_are_scored(capsys):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    df["label"] = np.where(df["a"] > 0, "p", "n")
    ds = dj.Dataset(df, label="label")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # never a warning (a pink box in the notebook)
        ds.evaluate(LogisticRegression(), cv=3, progress=False)
        assert "made by operations" not in capsys.readouterr().out  # original rows only
        plan = ds.plan("synthesize")
        plan.add(df.iloc[:5], origin="synthetic:test")
        ds.apply(plan.change())
        ev = ds.evaluate(LogisticRegression(), cv=3, progress=False)
        assert "note: 5 rows or labels were made by operations" in capsys.readouterr().out
        assert ev.params["n_derived"] == 5
        # an expected situation is said once per dataset, not on every evaluation
        ev = ds.evaluate(LogisticRegression(), cv=3, progress=False)
        assert "made by operations" not in capsys.readouterr().out
        assert ev.params["n_derived"] == 5
