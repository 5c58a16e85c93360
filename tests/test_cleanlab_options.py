"""The options people pass when switching from cleanlab, compared with cleanlab 2.9 itself:
``thresholds=``, ``return_indices_of_off_diagonals`` and multi-label input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dcai_jupyter.ops import confident_joint, find_label_issues
from dcai_jupyter.ops._cl_joint import _confident_counts

cl_filter = pytest.importorskip("cleanlab.filter")
cl_count = pytest.importorskip("cleanlab.count")

from test_cleanlab_parity import has_cut_tie, rounding_tie, scaled_joint  # noqa: E402

PRUNE = ("prune_by_noise_rate", "prune_by_class", "both")


def ours(labels, probs, **kw) -> np.ndarray:
    kw.setdefault("min_support", 0)
    return find_label_issues(labels, probs, **kw).sort_index()["is_issue"].to_numpy()


def theirs(labels, probs, **kw) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(cl_filter.find_label_issues(labels, probs, n_jobs=1, **kw))


def case(seed: int):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 9))
    n = int(rng.integers(10 * k, 800))
    labels = rng.integers(0, k, n)
    labels[:k] = np.arange(k)
    probs = rng.dirichlet(np.full(k, float(rng.choice([0.3, 1.0]))), n)
    probs[np.arange(n), labels] += rng.uniform(0, 2) * rng.random(n)
    probs /= probs.sum(axis=1, keepdims=True)
    if rng.random() < 0.3:
        probs = probs.astype(np.float32)
    thresholds = rng.uniform(0.05, 0.9, k)
    return labels, probs, thresholds


# ---------------------------------------------------------------------------- thresholds
@pytest.mark.slow
def test_thresholds_and_off_diagonals_equal_cleanlab():
    n_inputs = 100
    compared = equal = ties = 0
    for seed in range(n_inputs):
        labels, probs, t = case(seed)
        for calibrate in (True, False):
            for th in (None, t, t.tolist()):
                cj, off = confident_joint(
                    labels,
                    probs,
                    thresholds=th,
                    calibrate=calibrate,
                    return_indices_of_off_diagonals=True,
                )
                cj_cl, off_cl = cl_count.compute_confident_joint(
                    labels,
                    probs,
                    thresholds=th,
                    calibrate=calibrate,
                    return_indices_of_off_diagonals=True,
                )
                assert np.array_equal(off, off_cl), (seed, calibrate)
                if calibrate:  # equal unless its rounding has a tie (documented rule)
                    raw, _ = _confident_counts(
                        labels, probs, thresholds=None if th is None else np.asarray(th)
                    )
                    counts = np.bincount(labels, minlength=probs.shape[1])
                    if rounding_tie(scaled_joint(raw, counts)):
                        ties += 1
                        continue
                assert (cj == cj_cl).all(), (seed, calibrate)
        # the flags: cleanlab's find_label_issues takes the joint counted with thresholds
        cj_cl, off_cl = cl_count.compute_confident_joint(
            labels, probs, thresholds=t, return_indices_of_off_diagonals=True
        )
        raw, _ = _confident_counts(labels, probs, thresholds=t)
        if rounding_tie(scaled_joint(raw, np.bincount(labels, minlength=probs.shape[1]))):
            continue  # two valid joints (documented tie rule)
        for filter_by in PRUNE:
            if has_cut_tie(labels, probs, {"filter_by": filter_by, "confident_joint": cj_cl}):
                continue
            compared += 1
            equal += bool(
                (
                    ours(labels, probs, thresholds=t, filter_by=filter_by)
                    == theirs(labels, probs, confident_joint=cj_cl, filter_by=filter_by)
                ).all()
            )
        # confident_learning: the off-diagonal samples of that joint, minus those whose
        # given label is within 1e-6 of the most probable (cleanlab removes them)
        expected = np.zeros(len(labels), dtype=bool)
        expected[off_cl] = True
        expected &= probs[np.arange(len(labels)), labels] < probs.max(axis=1) - 1e-6
        compared += 1
        equal += bool(
            (ours(labels, probs, thresholds=t, filter_by="confident_learning") == expected).all()
        )
    assert compared >= 2 * n_inputs and equal == compared, (compared, equal)
    assert ties > 0


def test_thresholds_change_the_flags_and_default_is_the_class_mean():
    labels, probs, _ = case(3)
    k = probs.shape[1]
    means = [probs[labels == j, j].mean() for j in range(k)]
    assert (ours(labels, probs, thresholds=means) == ours(labels, probs)).all()
    assert ours(labels, probs, thresholds=np.full(k, 0.99)).sum() != ours(labels, probs).sum()


@pytest.mark.parametrize("bad", [[0.5], [0.5, np.nan, 0.5], "high", {0: 0.5}, [[0.5, 0.5]] * 2])
def test_bad_thresholds_say_what_to_pass(bad):
    labels = [0, 1, 2, 0, 1, 2]
    probs = np.full((6, 3), 1 / 3)
    with pytest.raises(ValueError, match="thresholds must be"):
        find_label_issues(labels, probs, thresholds=bad)
    with pytest.raises(ValueError, match="thresholds must be"):
        confident_joint(labels, probs, thresholds=bad)


# ---------------------------------------------------------------------------- multi-label
def multilabel_case(seed: int):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 7))
    n = int(rng.integers(30, 400))
    truth = rng.random((n, k)) < rng.uniform(0.1, 0.5)
    probs = np.clip(truth * rng.uniform(0.3, 0.8) + rng.random((n, k)) * 0.5, 0, 1)
    given = truth ^ (rng.random((n, k)) < rng.uniform(0, 0.15))
    given[0], given[1] = True, False  # every class has both answers
    labels = [[int(c) for c in np.flatnonzero(row)] for row in given]
    if rng.random() < 0.3:
        probs = probs.astype(np.float32)
    return labels, probs


def _multilabel_tie(labels, probs, opts) -> bool:
    """True when one class's binary problem has a tie at a cut or in its joint's rounding."""
    k = probs.shape[1]
    for c in range(k):
        y = np.array([c in row for row in labels], dtype=np.int64)
        pb = np.vstack((1 - probs[:, c], probs[:, c])).T
        o = dict(opts)
        if "num_to_remove_per_class" in o:
            o["num_to_remove_per_class"] = [o["num_to_remove_per_class"][c], 0]
        raw, _ = _confident_counts(y, pb)
        if has_cut_tie(y, pb, o) or rounding_tie(scaled_joint(raw, np.bincount(y, minlength=2))):
            return True
    return False


@pytest.mark.slow
def test_multi_label_flags_scores_and_joint_equal_cleanlab():
    from cleanlab.multilabel_classification import rank as cl_ml_rank

    from dcai_jupyter.ops._confident_learning import FILTER_BY

    n_inputs, compared, equal, ties = 40, 0, 0, 0
    for seed in range(n_inputs):
        labels, probs = multilabel_case(seed)
        k = probs.shape[1]
        for filter_by in FILTER_BY:
            kw: dict = {"filter_by": filter_by}
            if filter_by in PRUNE and seed % 3 == 0:
                kw["frac_noise"] = 0.5
            if filter_by in PRUNE and seed % 4 == 1:
                kw["num_to_remove_per_class"] = [3] * k
            if seed % 5 == 2:
                kw["min_examples_per_class"] = 4
            if _multilabel_tie(labels, probs, kw):
                ties += 1  # two valid answers in some class (documented tie rule)
                continue
            compared += 1
            equal += bool(
                (ours(labels, probs, **kw) == theirs(labels, probs, multi_label=True, **kw)).all()
            )
        for method in ("self_confidence", "normalized_margin", "confidence_weighted_entropy"):
            got = find_label_issues(labels, probs, rank_by=method).sort_index().label_quality
            y = np.zeros((len(labels), k), dtype=int)
            for i, row in enumerate(labels):
                y[i, row] = 1
            expected = cl_ml_rank.get_label_quality_scores(labels, probs, method=method)
            np.testing.assert_array_equal(got.to_numpy(), expected)  # to the last bit
        cj, off = confident_joint(labels, probs, return_indices_of_off_diagonals=True)
        cj_cl, off_cl = cl_count.compute_confident_joint(
            labels, probs, multi_label=True, return_indices_of_off_diagonals=True
        )
        assert all(np.array_equal(a, b) for a, b in zip(off, off_cl, strict=True))
        raw = confident_joint(labels, probs, calibrate=False)
        assert (
            raw
            == cl_count.compute_confident_joint(labels, probs, multi_label=True, calibrate=False)
        ).all()
        assert cj.shape == (k, 2, 2)
        for c in range(k):  # calibrated: equal unless its rounding has a tie
            has = np.array([c in row for row in labels], dtype=int)
            if not rounding_tie(scaled_joint(raw[c], np.bincount(has, minlength=2))):
                assert (cj[c] == cj_cl[c]).all(), (seed, c)
    assert compared >= 200 and equal == compared, (compared, equal, ties)


def test_multi_label_frame_and_errors():
    labels = [["cat"], ["cat", "dog"], [], ["dog"], ["cat"], ["dog"]]
    probs = np.array([[0.9, 0.1], [0.8, 0.9], [0.1, 0.1], [0.05, 0.95], [0.02, 0.9], [0.1, 0.8]])
    frame = find_label_issues(labels, probs, classes=["cat", "dog"], min_support=0)
    row = frame.loc[4]
    assert row.given_label == ("cat",) and row.suggested_label == ("dog",)
    assert frame.loc[1].given_label == ("cat", "dog") and frame.loc[2].given_label == ()
    with pytest.raises(ValueError, match="not columns of pred_probs"):
        find_label_issues([[1], [2], [1, 2]], np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="not in classes"):
        find_label_issues([["cat"], ["cow"]], np.full((2, 2), 0.5), classes=["cat", "dog"])
    with pytest.raises(ValueError, match="thresholds= is not supported"):
        find_label_issues([[0], [1], [0, 1]], np.full((3, 2), 0.5), thresholds=[0.5, 0.5])


# ---------------------------------------------------------------------------- ds.find_label_issues
def test_dataset_thresholds_are_recorded_as_json_and_used():
    import json

    import pandas as pd

    import dcai_jupyter as dj
    from dcai_jupyter.ops import LabelIssues

    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 3))
    y = np.array(["ant", "bee", "cat"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(label=y)
    ds = dj.Dataset(df, label="label", history=":memory:")
    t = np.array([0.9, 0.4, 0.6])
    issues = ds.find_label_issues(progress=False, cv=3, thresholds=t, min_support=0)
    params = ds.history.events.iloc[-1]["params"]
    assert params["thresholds"] == [0.9, 0.4, 0.6] == json.loads(json.dumps(params))["thresholds"]
    assert LabelIssues.for_findings(issues).thresholds == [0.9, 0.4, 0.6]
    # the flags are those of the array function with the same thresholds, on given probs
    op = LabelIssues(thresholds=[0.9, 0.4, 0.6], min_support=0)
    present = ["ant", "bee", "cat"]
    probs = rng.dirichlet(np.ones(3), 120)
    codes = pd.Index(present).get_indexer(y)
    got = op.findings_from_probs(
        ds, np.ones(120, dtype=bool), codes, present, probs, op._options(ds, present), []
    )
    expected = find_label_issues(y, probs, classes=present, thresholds=t, min_support=0)
    assert (got.frame.sort_index().is_issue == expected.sort_index().is_issue).all()
    default = find_label_issues(y, probs, classes=present, min_support=0)
    assert (expected.is_issue.sort_index() != default.is_issue.sort_index()).any()
    with pytest.raises(ValueError, match=r"one number per class in the order of ds.classes"):
        ds.find_label_issues(progress=False, thresholds=[0.5, 0.5])
