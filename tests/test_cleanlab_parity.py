"""Differential tests of confident learning against cleanlab 2.9 (issue 12).

- a seeded fuzz (K 2-12, n 5-2000, Dirichlet probabilities, absent classes, rounded ties,
  float32, every ``filter_by`` and option): our flags with ``min_support=0`` equal
  cleanlab's on every input without ties at a cut, and our confident joint equals
  cleanlab's on every input;
- the counter-examples that were found, the deliberate deviations and the tie rule;
- cases adapted from cleanlab's ``tests/test_filter_count.py``, with OUR function answering
  (cleanlab is only the oracle where the expected value is "what cleanlab says").
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from dcai_jupyter.ops import confident_joint, find_label_issues, label_quality_scores
from dcai_jupyter.ops._cl_joint import _calibrate, _confident_counts, _round_rows
from dcai_jupyter.ops._cl_prune import (
    FILTER_BY,
    _given_is_top,
    _per_class_removal,
    _prune_matrix,
    _quality,
    _removal_targets,
)

cl_filter = pytest.importorskip("cleanlab.filter")
cl_count = pytest.importorskip("cleanlab.count")
cl_rank = pytest.importorskip("cleanlab.rank")

N_FUZZ = 800
PRUNE = ("prune_by_noise_rate", "prune_by_class", "both")


# ---------------------------------------------------------------------------- helpers
def ours(labels, probs, **kw) -> np.ndarray:
    """Our is_issue mask in sample order (classes = the probability columns)."""
    kw.setdefault("min_support", 0)
    frame = find_label_issues(labels, probs, classes=list(range(probs.shape[1])), **kw)
    return frame.sort_index()["is_issue"].to_numpy()


def theirs(labels, probs, **kw) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(cl_filter.find_label_issues(labels, probs, n_jobs=1, **kw))


def _boundary_tie(sorted_values: np.ndarray, m: int) -> bool:
    return 0 < m < len(sorted_values) and sorted_values[m - 1] == sorted_values[m]


def rounding_tie(m: np.ndarray) -> bool:
    """True when rounding a row to keep its total must choose between equal rounding errors."""
    for row in np.asarray(m, dtype=np.float64):
        ints = row.round()
        diff = np.sum(row).round() - np.sum(ints).round()
        if not np.isfinite(diff) or diff == 0:
            continue
        err = np.sort((row - ints) * np.sign(diff))[::-1]
        if _boundary_tie(err, int(abs(diff))):
            return True
    return False


def scaled_joint(raw: np.ndarray, counts: np.ndarray) -> np.ndarray:
    rows = np.clip(raw.sum(axis=1), 1e-100, None)
    scaled = (raw.T / rows * counts).T
    return scaled / np.clip(np.sum(scaled), 1e-100, None) * np.sum(counts)


def has_cut_tie(labels: np.ndarray, probs: np.ndarray, opts: dict) -> bool:
    """True when a sort in the chosen filter cuts between equal values (several valid answers)."""
    n, k = probs.shape
    filter_by = opts.get("filter_by", "prune_by_noise_rate")
    min_ex = opts.get("min_examples_per_class", 1)
    counts = np.bincount(labels, minlength=k)
    raw, off = _confident_counts(labels, probs)
    if filter_by in PRUNE:
        cj = opts.get("confident_joint")
        if cj is None:
            if rounding_tie(scaled_joint(raw, counts)):
                return True
            cj = _calibrate(raw, counts)
        prune = _prune_matrix(np.asarray(cj), min_ex, opts.get("frac_noise", 1.0))
        ntr = opts.get("num_to_remove_per_class")
        if ntr is not None:
            ntr = np.broadcast_to(ntr, k).astype(np.int64)
            with np.errstate(divide="ignore", invalid="ignore"):
                rates = prune / np.sum(prune, axis=1)
                m = (rates.T * ntr / (rates.sum(axis=1) - rates.diagonal())).T
            np.fill_diagonal(m, counts - ntr)
            if rounding_tie(m):
                return True
            prune = _per_class_removal(prune, counts, ntr)
        for given in range(k):
            members = np.flatnonzero(labels == given)
            if len(members) <= max(min_ex, 1):
                continue
            pk = probs[members, given]
            if filter_by != "prune_by_class":
                for true in range(k):
                    if true != given and prune[true, given] > 0:
                        v = np.sort(probs[members, true] - pk)[::-1]
                        if _boundary_tie(v, int(prune[true, given])):
                            return True
            if filter_by != "prune_by_noise_rate":
                if _boundary_tie(np.sort(pk), len(members) - int(prune[given, given])):
                    return True
        return False
    if filter_by.startswith("low_"):
        cl = np.zeros(n, dtype=bool)
        cl[off] = True
        m = int((cl & ~_given_is_top(labels, probs)).sum())
        return _boundary_tie(np.sort(_quality(labels, probs, filter_by[4:])), m)
    return False


def fuzz_case(seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """One random input: labels, probabilities and cleanlab options."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 13))
    n = int(np.exp(rng.uniform(np.log(5), np.log(2000))))
    truth = rng.integers(0, k, n)
    present = rng.random(k) < (0.6 if rng.random() < 0.3 else 1.0)  # some classes absent
    present[rng.choice(k, 2, replace=False)] = True
    keep = np.flatnonzero(present)
    labels = keep[rng.integers(0, len(keep), n)] if rng.random() < 0.3 else truth.copy()
    labels = np.where(np.isin(labels, keep), labels, keep[labels % len(keep)])
    flip = rng.random(n) < rng.uniform(0, 0.4)
    labels[flip] = keep[rng.integers(0, len(keep), flip.sum())]
    labels[:2] = keep[:2]
    alpha = float(rng.choice([0.05, 0.3, 1.0, 5.0]))
    probs = rng.dirichlet(np.full(k, alpha), size=n)
    signal = rng.uniform(0, 3)
    probs[np.arange(n), truth] += signal * rng.random(n)
    probs /= probs.sum(axis=1, keepdims=True)
    if rng.random() < 0.2:  # coarse values: many ties
        probs = np.round(probs, int(rng.integers(1, 3)))
        probs[:, 0] += 1 - probs.sum(axis=1)
        probs = np.clip(probs, 0, 1)
        probs /= probs.sum(axis=1, keepdims=True)
    if rng.random() < 0.3:
        probs = probs.astype(np.float32)
    opts: dict = {}
    filter_by = FILTER_BY[int(rng.integers(0, len(FILTER_BY)))] if rng.random() < 0.7 else None
    if filter_by is not None:
        opts["filter_by"] = filter_by
    fb = filter_by or "prune_by_noise_rate"
    if fb in PRUNE and rng.random() < 0.25:
        opts["frac_noise"] = float(rng.choice([0.3, 0.5, 0.8]))
    if rng.random() < 0.25:
        opts["min_examples_per_class"] = int(rng.choice([0, 2, 5]))
    counts = np.bincount(labels, minlength=k)
    if fb in PRUNE and rng.random() < 0.15:
        opts["num_to_remove_per_class"] = [int(rng.integers(0, c + 1)) for c in counts]
    if fb in PRUNE and rng.random() < 0.15:
        opts["confident_joint"] = cl_count.compute_confident_joint(labels, probs)
    return labels, probs, opts


# ---------------------------------------------------------------------------- the fuzz
@pytest.mark.slow
def test_fuzz_flags_equal_cleanlab_on_every_tie_free_input():
    compared = ties = joints = 0
    filters_seen: set[str] = set()
    failures = []
    for seed in range(N_FUZZ):
        labels, probs, opts = fuzz_case(seed)
        # the joint agrees to the last count (calibrated: unless its rounding has a tie)
        k = probs.shape[1]
        raw = confident_joint(labels, probs, classes=list(range(k)), calibrate=False)
        assert (raw == cl_count.compute_confident_joint(labels, probs, calibrate=False)).all()
        if not rounding_tie(scaled_joint(raw, np.bincount(labels, minlength=k))):
            cj = cl_count.compute_confident_joint(labels, probs)
            assert (confident_joint(labels, probs, classes=list(range(k))) == cj).all(), seed
            joints += 1
        if has_cut_tie(labels, probs, opts):
            ties += 1
            continue
        compared += 1
        filters_seen.add(opts.get("filter_by", "prune_by_noise_rate"))
        a = ours(labels, probs, **opts)
        b = theirs(labels, probs, **opts)
        if not (a == b).all():
            failures.append((seed, opts.get("filter_by"), np.flatnonzero(a != b)[:5].tolist()))
    assert not failures, failures[:10]
    assert compared >= 500, (compared, ties)
    assert joints >= 400, joints
    assert filters_seen == set(FILTER_BY)
    assert ties > 0  # the fuzz does produce ties (handled by the documented rule)


def test_fuzz_is_deterministic_with_ties():
    # inputs with ties get one answer, the same every time and whatever the row order says
    checked = 0
    for seed in range(N_FUZZ):
        labels, probs, opts = fuzz_case(seed)
        if not has_cut_tie(labels, probs, opts):
            continue
        a = ours(labels, probs, **opts)
        assert (a == ours(labels, probs, **opts)).all()
        checked += 1
        if checked == 30:
            break
    assert checked == 30


# ---------------------------------------------------------------------------- counter-examples
def test_counter_example_class_whose_diagonal_rounds_to_zero_keeps_a_sample():
    labels = [0, 2, 0]
    probs = np.array([[0.25, 0.5, 0.25], [1, 0, 0], [0, 0, 1]])
    assert ours(labels, probs).tolist() == [False, False, False] == theirs(labels, probs).tolist()
    # the default (min_support) flags the sample whose label gets 0, and keeps the other
    out = find_label_issues(labels, probs, classes=[0, 1, 2]).sort_index()
    assert out["is_issue"].tolist() == [False, False, True]


def test_counter_example_class_with_zero_mean_self_probability():
    labels = [1, 1, 0]
    probs = np.array([[0.25, 0, 0.75], [0.5, 0, 0.5], [0.25, 0.25, 0.5]])
    assert ours(labels, probs).tolist() == [False, True, False] == theirs(labels, probs).tolist()
    # the threshold of class 1 is floored at 2e-6, so p=0 is not "confidently class 1"
    # (samples 0 and 1 count as class 0; sample 2 as class 2, its most probable)
    assert (
        confident_joint(labels, probs, classes=[0, 1, 2], calibrate=False).tolist()
        == [
            [1, 0, 1],
            [2, 1, 0],
            [0, 0, 1],
        ]
        == cl_count.compute_confident_joint(np.array(labels), probs, calibrate=False).tolist()
    )


def test_float32_joint_rounds_like_cleanlab():
    rng = np.random.default_rng(3)
    for _ in range(20):
        k = int(rng.integers(3, 9))
        labels = rng.integers(0, k, 997)
        probs = rng.dirichlet(np.full(k, 0.4), 997).astype(np.float32)
        ref = cl_count.compute_confident_joint(labels, probs)
        assert (confident_joint(labels, probs, classes=list(range(k))) == ref).all()


# ---------------------------------------------------------------------------- deviations, ties
def test_min_support_adds_low_support_samples_and_keeps_one_per_class():
    # class 1 has 3 samples, all with p(1) < 0.05; none is confidently class 0 (threshold
    # .995), so the joint has no off-diagonal count and cleanlab flags nothing
    labels = np.array([0] * 6 + [1] * 3)
    probs = np.array([[0.995, 0.005]] * 6 + [[0.97, 0.03], [0.98, 0.02], [0.99, 0.01]])
    base = ours(labels, probs)
    dev = find_label_issues(labels, probs).sort_index()["is_issue"].to_numpy()
    assert not base[6:].any()
    # two flagged (lowest p(1) first), one of class 1 kept
    assert dev[6:].tolist() == [False, True, True]
    # min_examples_per_class=0: all three
    dev0 = find_label_issues(labels, probs, min_examples_per_class=0).sort_index()
    assert dev0["is_issue"].to_numpy()[6:].all()
    # a count asked for: cleanlab's flags, no extras
    assert (ours(labels, probs, frac_noise=0.5) == ours(labels, probs, frac_noise=0.5)).all()
    got = find_label_issues(labels, probs, frac_noise=0.5).sort_index()["is_issue"].to_numpy()
    assert (got == theirs(labels, probs, frac_noise=0.5)).all()


def test_min_support_never_flags_the_most_probable_label():
    labels = [0, 1, 2, 0]
    probs = np.array([[0.04, 0.03, 0.93], [0.2, 0.4, 0.4], [0.02, 0.96, 0.02], [0.5, 0.25, 0.25]])
    out = find_label_issues(labels, probs, min_examples_per_class=0).sort_index()
    # sample 1's label ties for the top: never flagged; samples 0 and 2 are
    assert out["is_issue"].tolist() == [True, False, True, False]


def test_ties_break_by_position_and_are_deterministic():
    # class 0: six members, the joint flags some; members 2..5 have identical rows
    labels = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    probs = np.array(
        [[0.9, 0.1], [0.9, 0.1]] + [[0.3, 0.7]] * 4 + [[0.1, 0.9]] * 4, dtype=np.float64
    )
    kw = {"min_support": 0, "num_to_remove_per_class": [2, 0], "filter_by": "prune_by_class"}
    frame = find_label_issues(labels, probs, **kw)
    flagged = sorted(frame.index[frame.is_issue])
    assert flagged == [2, 3]  # the earlier two of the four tied samples
    # and the order of the result breaks quality ties by position too
    assert list(frame.index[:2]) == [2, 3]
    assert frame.equals(find_label_issues(labels, probs, **kw))
    # by noise rate: equal margins, the earlier sample first
    one = find_label_issues(labels, probs, min_support=0, confident_joint=[[5, 1], [0, 4]])
    assert sorted(one.index[one.is_issue]) == [2]


# ---------------------------------------------------------------------------- options
@pytest.fixture(scope="module")
def data():
    """Like cleanlab's make_data: 3 Gaussian classes (80/40/40), ~20 % noisy labels,
    3-fold cross-validated LogisticRegression probabilities."""
    rng = np.random.default_rng(1)
    means = [[3, 2], [7, 7], [0, 8]]
    covs = [[[5, -1.5], [-1.5, 1]], [[1, 0.5], [0.5, 4]], [[5, 1], [1, 5]]]
    sizes = [80, 40, 40]
    X = np.vstack(
        [rng.multivariate_normal(m, c, s) for m, c, s in zip(means, covs, sizes, strict=True)]
    )
    truth = np.repeat([0, 1, 2], sizes)
    labels = truth.copy()
    flip = rng.choice(len(labels), 32, replace=False)
    labels[flip] = (labels[flip] + rng.integers(1, 3, 32)) % 3
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    probs = cross_val_predict(LogisticRegression(), X, labels, cv=cv, method="predict_proba")
    return labels, probs


@pytest.mark.parametrize("filter_by", FILTER_BY)
def test_every_filter_matches_cleanlab_on_gaussian_data(data, filter_by):
    labels, probs = data
    assert (
        ours(labels, probs, filter_by=filter_by) == theirs(labels, probs, filter_by=filter_by)
    ).all()


@pytest.mark.parametrize("frac_noise", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("filter_by", PRUNE)
def test_frac_noise_matches_cleanlab_and_flags_fewer(data, filter_by, frac_noise):
    labels, probs = data
    got = ours(labels, probs, filter_by=filter_by, frac_noise=frac_noise)
    assert (got == theirs(labels, probs, filter_by=filter_by, frac_noise=frac_noise)).all()
    assert got.sum() <= ours(labels, probs, filter_by=filter_by).sum()


def test_exact_prune_count(data):
    # cleanlab: num_to_remove_per_class=5 with prune_by_class removes exactly 5 per class
    labels, probs = data
    got = ours(labels, probs, num_to_remove_per_class=5, filter_by="prune_by_class")
    assert np.bincount(labels[got], minlength=3).tolist() == [5, 5, 5]
    per = ours(labels, probs, num_to_remove_per_class=[1, 0, 3], filter_by="prune_by_class")
    assert np.bincount(labels[per], minlength=3).tolist() == [1, 0, 3]


def test_pruning_both_is_the_intersection(data):
    labels, probs = data
    kw = {"num_to_remove_per_class": 5}
    by_class = ours(labels, probs, filter_by="prune_by_class", **kw)
    by_rate = ours(labels, probs, filter_by="prune_by_noise_rate", **kw)
    both = ours(labels, probs, filter_by="both", **kw)
    assert (both == (by_class & by_rate)).all()
    assert (by_rate == theirs(labels, probs, filter_by="prune_by_noise_rate", **kw)).all()


@pytest.mark.parametrize("filter_by", [*PRUNE, "confident_learning", "predicted_neq_given"])
def test_prune_on_small_data_flags_nothing(filter_by):
    # cleanlab's sizes=[3, 3, 3]: too few per class; here one sample per class in a fold
    labels = np.array([0, 1, 2, 0, 1, 2])
    probs = np.array(
        [
            [0.7, 0.2, 0.1],
            [0.2, 0.7, 0.1],
            [0.1, 0.2, 0.7],
            [0.6, 0.3, 0.1],
            [0.1, 0.6, 0.3],
            [0.3, 0.1, 0.6],
        ]
    )
    assert not ours(labels, probs, filter_by=filter_by).any()
    assert not ours(labels, probs, filter_by=filter_by, min_examples_per_class=2).any()


def test_min_examples_per_class_protects_small_classes(data):
    labels, probs = data
    base = ours(labels, probs)
    assert base[labels == 1].any()
    got = ours(labels, probs, min_examples_per_class=40)  # class 1 and 2 have 40 or fewer
    kept = np.bincount(labels, minlength=3) <= 40
    for c in np.flatnonzero(kept):
        assert not got[labels == c].any()
    assert (got == theirs(labels, probs, min_examples_per_class=40)).all()


def test_precomputed_confident_joint_is_used(data):
    labels, probs = data
    cj = confident_joint(labels, probs)
    assert (ours(labels, probs, confident_joint=cj) == ours(labels, probs)).all()
    # an argmax confusion matrix as the joint (cleanlab's find_label_issues_using_argmax...)
    from sklearn.metrics import confusion_matrix

    cm = confusion_matrix(labels, probs.argmax(axis=1), labels=[0, 1, 2])
    got = ours(labels, probs, confident_joint=cm)
    assert (got == theirs(labels, probs, confident_joint=cm)).all()
    # the confident_learning filter re-estimates it, with cleanlab's warning
    with pytest.warns(UserWarning, match="ignored"):
        cl = find_label_issues(labels, probs, filter_by="confident_learning", confident_joint=cm)
    assert (
        cl.sort_index().is_issue.to_numpy() >= ours(labels, probs, filter_by="confident_learning")
    ).all()


def test_argmax_confusion_matrix_cases():
    # cleanlab's labels_/pred_probs_: only sample 2 (label 1, predicted 2) is an issue
    probs = np.array(
        [[0.9, 0.1, 0], [0.6, 0.2, 0.2], [0.1, 0, 0.9]] + [[0.1, 0.8, 0.1]] * 6 + [[0.1, 0.1, 0.8]]
    )
    labels = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1, 2])
    expected = [False, False, True] + [False] * 7
    assert ours(labels, probs, filter_by="predicted_neq_given").tolist() == expected
    assert ours(labels, probs, filter_by="confident_learning").tolist() == expected
    from sklearn.metrics import confusion_matrix

    for filter_by in PRUNE:
        for calibrate in (True, False):
            cm = confusion_matrix(labels, probs.argmax(axis=1), labels=[0, 1, 2])
            if calibrate:
                cm = cl_count.calibrate_confident_joint(cm, labels)
            assert ours(labels, probs, confident_joint=cm, filter_by=filter_by).tolist() == expected


def test_low_filters_flag_as_many_as_confident_learning(data):
    labels, probs = data
    n_cl = ours(labels, probs, filter_by="confident_learning").sum()
    assert n_cl == cl_count.num_label_issues(labels, probs)
    for fb in ("low_self_confidence", "low_normalized_margin"):
        assert ours(labels, probs, filter_by=fb).sum() == n_cl
    # the rank_by score orders the result, not the set flagged
    a = find_label_issues(
        labels, probs, filter_by="low_self_confidence", rank_by="normalized_margin"
    )
    b = find_label_issues(
        labels, probs, filter_by="low_self_confidence", rank_by="confidence_weighted_entropy"
    )
    assert set(a.index[a.is_issue]) == set(b.index[b.is_issue])


@pytest.mark.parametrize(
    "rank_by", ["self_confidence", "normalized_margin", "confidence_weighted_entropy"]
)
def test_rank_by_orders_like_cleanlab(data, rank_by):
    labels, probs = data
    frame = find_label_issues(labels, probs, rank_by=rank_by, min_support=0)
    ref = cl_rank.get_label_quality_scores(labels, probs, method=rank_by)
    assert np.allclose(frame.sort_index()["label_quality"].to_numpy(), ref)
    got = frame.index[frame.is_issue].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = cl_filter.find_label_issues(
            labels, probs, return_indices_ranked_by=rank_by, n_jobs=1
        )
    assert set(got) == set(want)
    assert np.all(np.diff(ref[got]) >= 0)  # ascending quality, as cleanlab's indices
    q = label_quality_scores(labels, probs, method=rank_by)
    assert np.allclose(q, ref)


@pytest.mark.parametrize("filter_by", [*PRUNE, "confident_learning", "predicted_neq_given"])
def test_does_not_flag_correct_examples(data, filter_by):
    labels, probs = data
    got = find_label_issues(labels, probs, filter_by=filter_by).sort_index()["is_issue"].to_numpy()
    assert not got[labels == probs.argmax(axis=1)].any()


def test_missing_classes():
    labels = np.array([0, 0, 2, 2])
    probs = np.array(
        [[0.9, 0.0, 0.1, 0.0], [0.8, 0.0, 0.2, 0.0], [0.1, 0.0, 0.9, 0.0], [0.95, 0.0, 0.05, 0.0]]
    )
    expected = [False, False, False, True]
    for fb in [*PRUNE, "confident_learning", "predicted_neq_given"]:
        assert ours(labels, probs, filter_by=fb).tolist() == expected
    # the same without the empty columns
    assert ours(np.array([0, 0, 1, 1]), probs[:, [0, 2]]).tolist() == expected
    probs3 = np.array(
        [
            [0.9, 0.1, 0.0, 0.0],
            [0.8, 0.1, 0.1, 0.0],
            [0.1, 0.0, 0.9, 0.0],
            [0.9, 0.025, 0.025, 0.05],
        ]
    )
    assert ours(labels, probs3).tolist() == expected


def test_removing_class_consistent_results():
    labels = np.array([0, 0, 0, 0, 1, 2, 2, 2])
    probs = np.array(
        [
            [0.9, 0.1, 0.0],
            [0.8, 0.1, 0.1],
            [0.1, 0.0, 0.9],
            [0.9, 0.0, 0.1],
            [0.1, 0.3, 0.6],
            [0.1, 0.0, 0.9],
            [0.1, 0.0, 0.9],
            [0.1, 0.0, 0.9],
        ]
    )
    classes = [0, 1, 2]
    assert confident_joint(labels, probs, classes=classes).tolist() == [
        [3, 0, 1],
        [0, 1, 0],
        [0, 0, 3],
    ]
    no1 = np.array([0, 0, 0, 0, 2, 2, 2, 2])
    assert confident_joint(no1, probs, classes=classes).tolist() == [
        [3, 0, 1],
        [0, 0, 0],
        [0, 0, 4],
    ]
    assert (ours(labels, probs) == ours(no1, probs)).all()


def test_issue_158_diagonal_never_zero():
    rng = np.random.default_rng(158)
    probs = rng.dirichlet(np.full(4, 8.0), 20)  # flat rows, as in cleanlab's issue 158
    labels = np.array([3, 3, 1, 3, 0, 2, 2, 2, 0, 2, 2, 1, 0, 0, 0, 0, 2, 1, 3, 3])
    cj = confident_joint(labels, probs, calibrate=False)
    assert (cj.diagonal() != 0).all()


def test_prune_matrix_keeps_a_consistent_joint_and_frac_one_changes_nothing():
    cj = np.array([[325, 16, 22], [47, 178, 10], [36, 8, 159]])
    assert (_prune_matrix(cj, 5, 1.0) == cj.T).all()
    half = _prune_matrix(cj, 1, 0.5)
    off = ~np.eye(3, dtype=bool)
    assert (half[off] == np.trunc(cj.T[off] * 0.5)).all()  # truncated, as cleanlab does
    assert (half.diagonal() >= cj.diagonal()).all()


def test_option_errors_say_what_to_pass():
    labels, probs = [0, 1, 0, 1], np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    cases = [
        ({"filter_by": "prune"}, "filter_by must be one of"),
        ({"rank_by": "margin"}, "rank_by must be one of"),
        ({"frac_noise": 0}, r"frac_noise must be in \(0, 1\]"),
        ({"frac_noise": 1.5}, r"frac_noise must be in \(0, 1\]"),
        ({"min_examples_per_class": -1}, "non-negative integer"),
        ({"num_to_remove_per_class": [1, 0, 0]}, "3 values but there are 2 classes"),
        ({"num_to_remove_per_class": [5, 0]}, "only 2"),
        ({"num_to_remove_per_class": [-1, 0]}, "non-negative integer"),
        ({"num_to_remove_per_class": [1, 0], "filter_by": "predicted_neq_given"}, "not supported"),
        ({"confident_joint": np.ones((3, 3))}, "must be 2 x 2"),
        ({"confident_joint": -np.ones((2, 2))}, "non-negative"),
        ({"min_support": 1.0}, r"min_support must be in \[0, 1\)"),
    ]
    for kw, match in cases:
        with pytest.raises(ValueError, match=match):
            find_label_issues(labels, probs, **kw)
    with pytest.warns(UserWarning, match="ignores it"):
        find_label_issues(labels, probs, filter_by="predicted_neq_given", frac_noise=0.5)


# ---------------------------------------------------------------------------- num_to_remove
def _cleanlab_removal_targets(cj, counts, ntr, min_ex, frac_noise):
    """cleanlab 2.9's own steps (filter.find_label_issues): the prune matrix and its rows
    rescaled to ``num_to_remove_per_class``, before rounding."""
    pcm = cl_filter._keep_at_least_n_per_class(
        prune_count_matrix=cj.T, n=min_ex, frac_noise=frac_noise
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        psy = pcm / np.sum(pcm, axis=1)
        noise = psy.sum(axis=1) - psy.diagonal()
        tmp = (psy.T * ntr / noise).T
    np.fill_diagonal(tmp, counts - ntr)
    return pcm, tmp


def removal_case(seed: int, k: int | None = None, n: int | None = None):
    rng = np.random.default_rng(seed)
    k = k or int(rng.integers(2, 13))
    n = n or int(rng.integers(5 * k, 1500))
    labels = rng.integers(0, k, n)
    labels[:k] = np.arange(k)
    probs = rng.dirichlet(np.full(k, float(rng.choice([0.3, 1.0, 3.0]))), n)
    probs[np.arange(n), labels] += rng.uniform(0, 2) * rng.random(n)
    probs /= probs.sum(axis=1, keepdims=True)
    if rng.random() < 0.3:
        probs = probs.astype(np.float32)
    counts = np.bincount(labels, minlength=k)
    opts = {
        "filter_by": PRUNE[int(rng.integers(0, 3))],
        "num_to_remove_per_class": [int(rng.integers(0, c + 1)) for c in counts],
        "min_examples_per_class": int(rng.choice([0, 1, 1, 3])),
        "frac_noise": float(rng.choice([1.0, 1.0, 0.5])),
    }
    return labels, probs, opts


@pytest.mark.slow
def test_num_to_remove_matrix_is_cleanlabs_to_the_last_bit_and_so_are_the_flags():
    # the rescaled prune matrix is summed row by row in cleanlab's order (a row-major
    # matrix): equal floats, not only equal to ~1e-16, on every input; the flags too
    n_inputs, equal_targets, col_major_differs, compared, equal_flags = 400, 0, 0, 0, 0
    for seed in range(n_inputs):
        labels, probs, opts = removal_case(seed)
        k = probs.shape[1]
        counts = np.bincount(labels, minlength=k)
        ntr = np.asarray(opts["num_to_remove_per_class"])
        min_ex, frac = opts["min_examples_per_class"], opts["frac_noise"]
        cj = cl_count.compute_confident_joint(labels, probs)
        pcm, expected = _cleanlab_removal_targets(cj, counts, ntr, min_ex, frac)
        prune = _prune_matrix(cj, min_ex, frac)
        assert (prune == pcm).all() and prune.flags.c_contiguous
        got = _removal_targets(prune, counts, ntr)
        np.testing.assert_array_equal(got, expected)  # exact, NaN where cleanlab has NaN
        equal_targets += 1
        old = _column_major_targets(prune, counts, ntr)
        col_major_differs += not np.array_equal(old, expected, equal_nan=True)
        if not has_cut_tie(labels, probs, opts):
            compared += 1
            equal_flags += (ours(labels, probs, **opts) == theirs(labels, probs, **opts)).all()
    assert equal_targets == n_inputs
    assert compared >= 200 and equal_flags == compared, (compared, equal_flags)
    assert col_major_differs >= n_inputs // 10  # the test does tell the two orders apart


def _column_major_targets(prune, counts, ntr):
    """The rescaled prune matrix as it was computed before (on a column-major matrix)."""
    f = np.asfortranarray(prune)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = f / np.sum(f, axis=1)
        m = (rates.T * ntr / (rates.sum(axis=1) - rates.diagonal())).T
    np.fill_diagonal(m, counts - ntr)
    return m


def test_num_to_remove_counter_example_k8_n135():
    # found by a search (1 of 6,000 such inputs): the column-major sum of one rescaled row
    # differed in its last digit, which moved one rounding, and with it the flagged sample
    labels, probs, opts = removal_case(2380, k=8, n=135)
    ntr = np.asarray(opts["num_to_remove_per_class"])
    opts = {"num_to_remove_per_class": ntr.tolist()}
    assert not has_cut_tie(labels, probs, opts)
    counts = np.bincount(labels, minlength=8)
    cj = cl_count.compute_confident_joint(labels, probs)
    _, expected_targets = _cleanlab_removal_targets(cj, counts, ntr, 1, 1.0)
    prune = _prune_matrix(cj, 1, 1.0)
    old = _round_rows(_column_major_targets(prune, counts, ntr))
    assert (old != _round_rows(expected_targets)).any()  # the case does tell them apart
    np.testing.assert_array_equal(_removal_targets(prune, counts, ntr), expected_targets)
    expected = theirs(labels, probs, **opts)
    assert expected[31]
    assert (ours(labels, probs, **opts) == expected).all()


# ---------------------------------------------------------------------------- integer labels
def test_integer_labels_are_column_indices_as_in_cleanlab():
    rng = np.random.default_rng(7)
    probs = rng.dirichlet(np.ones(3), 30)
    shifted = rng.integers(1, 4, 30)  # 1..K with K columns: cleanlab raises, so do we
    with pytest.raises(ValueError):
        cl_filter.find_label_issues(shifted, probs)
    for fn in (find_label_issues, confident_joint, label_quality_scores):
        with pytest.raises(ValueError, match=r"labels \[3\] are not columns.*classes=\[1, 2, 3\]"):
            fn(shifted, probs)
        with pytest.raises(ValueError, match="not columns"):
            fn(shifted.tolist(), probs)  # Python ints too
    # classes= says what the columns are: then 1..K is fine, column j is class j + 1
    got = find_label_issues(shifted, probs, classes=[1, 2, 3], min_support=0)
    expected = find_label_issues(shifted - 1, probs, min_support=0)
    assert (got.sort_index().is_issue == expected.sort_index().is_issue).all()
    assert (got.sort_index().given_label.to_numpy() == shifted).all()
    # a class nobody is labelled with is still a column (0 and 2 given, 3 columns)
    labels = np.where(rng.random(30) < 0.5, 0, 2)
    assert (
        ours(labels, probs)
        == find_label_issues(labels, probs, min_support=0).sort_index().is_issue.to_numpy()
    ).all()
    assert (confident_joint(labels, probs) == cl_count.compute_confident_joint(labels, probs)).all()
    # strings keep their sorted order
    names = np.array(["a", "b", "c"])[shifted - 1]
    assert (find_label_issues(names, probs).sort_index().given_label.to_numpy() == names).all()
