"""Issue 21: label issues at a million rows. The blocked and vectorized code paths give what
the straightforward ones give, the large-data path is taken above its threshold, and nothing
builds an n x n array."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from _noise import flip_labels
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs, make_classification, make_moons
from sklearn.linear_model import LogisticRegression

from dcai_jupyter.ops import _cl_joint as cj_mod
from dcai_jupyter.ops import _cl_prune as pr
from dcai_jupyter.ops import _crossval, default_label_issues, out_of_sample_pred_probs
from dcai_jupyter.ops import _model_choice as mc
from dcai_jupyter.ops._folds import fit_predict_proba


# ---------------------------------------------------------------------------- references
def _one_shot_counts(codes: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The confident joint as it was computed before it was blocked: one mask per class for
    the thresholds, every row at once."""
    k = probs.shape[1]
    means = [
        np.mean(probs[codes == c, c]) if (codes == c).any() else cj_mod._ABSENT_THRESHOLD
        for c in range(k)
    ]
    t = np.clip(means, cj_mod._THRESHOLD_FLOOR, None)
    confident = probs >= t - cj_mod._EPS
    n_conf = confident.sum(axis=1)
    guess = np.where(n_conf > 1, probs.argmax(axis=1), confident.argmax(axis=1))
    counted = n_conf > 0
    cj = np.bincount(guess[counted] * k + codes[counted], minlength=k * k).reshape(k, k).T
    cj = cj.astype(np.int64)
    np.fill_diagonal(cj, np.maximum(cj.diagonal(), 1))
    return cj, np.flatnonzero(counted & (guess != codes))


def _sorted_noise_rate(codes, probs, prune, min_ex):
    """The prune-by-noise-rate flags by a stable sort of each class (the former code)."""
    n, k = probs.shape
    mask = np.zeros(n, dtype=bool)
    for g in range(k):
        members = np.flatnonzero(codes == g)
        if len(members) <= max(min_ex, 1):
            continue
        pk = probs[members, g]
        for true in range(k):
            m = int(prune[true, g])
            if true == g or m <= 0:
                continue
            order = np.argsort(-(probs[members, true] - pk), kind="stable")
            mask[members[order[:m]]] = True
    return mask


def _sorted_by_class(codes, probs, prune, min_ex):
    n, k = probs.shape
    mask = np.zeros(n, dtype=bool)
    for g in range(k):
        members = np.flatnonzero(codes == g)
        if len(members) <= max(min_ex, 1):
            continue
        m = len(members) - int(prune[g, g])
        if m >= 1:
            mask[members[np.argsort(probs[members, g], kind="stable")[:m]]] = True
    return mask


@st.composite
def _labels_and_probs(draw):
    """Labels and probabilities with ties (values on a coarse grid), float32 or float64."""
    n = draw(st.integers(1, 120))
    k = draw(st.integers(2, 5))
    seed = draw(st.integers(0, 2**31 - 1))
    coarse = draw(st.booleans())
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, draw(st.integers(1, k)), n)  # some classes may be absent
    raw = rng.dirichlet(np.full(k, 0.7), n)
    if coarse:
        raw = np.round(raw, 1) + 1e-3
        raw /= raw.sum(axis=1, keepdims=True)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return codes, raw.astype(dtype)


# ---------------------------------------------------------------------------- confident learning
@settings(max_examples=150, deadline=None)
@given(_labels_and_probs(), st.integers(1, 130))
def test_blocked_confident_joint_equals_the_one_shot_joint(data, chunk):
    codes, probs = data
    cj, off = cj_mod._confident_counts(codes, probs, chunk=chunk)
    ref_cj, ref_off = _one_shot_counts(codes, probs)
    np.testing.assert_array_equal(cj, ref_cj)
    np.testing.assert_array_equal(off, ref_off)
    assert cj.dtype == np.int64
    # the thresholds from one sort are numpy's per-class means to the last digit
    for c, rows in enumerate(cj_mod._class_rows(codes, probs.shape[1])):
        np.testing.assert_array_equal(rows, np.flatnonzero(codes == c))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=60), st.integers(0, 70))
def test_partition_top_m_is_the_stable_sort_prefix(values, m):
    v = np.asarray(values, dtype=np.float64) / 2
    got = np.sort(pr._largest(v, m))
    want = np.sort(np.argsort(-v, kind="stable")[:m])
    np.testing.assert_array_equal(got, want)


@settings(max_examples=100, deadline=None)
@given(_labels_and_probs(), st.integers(0, 3))
def test_prune_filters_by_partition_equal_the_sorted_ones(data, min_ex):
    codes, probs = data
    k = probs.shape[1]
    counts = np.bincount(codes, minlength=k)
    cj = cj_mod._calibrate(cj_mod._confident_counts(codes, probs)[0], counts)
    prune = pr._prune_matrix(np.asarray(cj), min_ex, 1.0)
    np.testing.assert_array_equal(
        pr._by_noise_rate(codes, probs, prune, min_ex),
        _sorted_noise_rate(codes, probs, prune, min_ex),
    )
    np.testing.assert_array_equal(
        pr._by_class(codes, probs, prune, min_ex), _sorted_by_class(codes, probs, prune, min_ex)
    )


def test_flags_do_not_depend_on_the_block_size(monkeypatch):
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 4, 5000)
    probs = rng.dirichlet(np.ones(4), 5000)
    whole = pr._flags(codes, probs)
    monkeypatch.setattr(cj_mod, "CL_CHUNK", 77)
    np.testing.assert_array_equal(pr._flags(codes, probs), whole)
    assert whole.sum() > 100


# ---------------------------------------------------------------------------- ensemble members
def test_blocked_knn_votes_equal_the_whole_vote(monkeypatch):
    rng = np.random.default_rng(0)
    n, K, k = 500, 3, 5
    codes = rng.integers(0, K, n)
    nb = np.stack([rng.permutation(n)[:12] for _ in range(n)])
    for keep in (np.ones(n, dtype=bool), rng.random(n) > 0.3):
        # the straightforward vote: the first k kept neighbours of every row at once
        kept = keep[nb] & (np.cumsum(keep[nb], axis=1) <= k)
        votes = np.zeros((n, K))
        for c in range(K):
            votes[:, c] = (kept & (codes[nb] == c)).sum(axis=1)
        want = (votes + 1.0 / K) / (kept.sum(axis=1)[:, None] + 1.0)
        monkeypatch.setattr(_crossval, "VOTE_CHUNK", 37)
        np.testing.assert_array_equal(_crossval._knn_votes(nb, codes, keep, k, K), want)
        monkeypatch.setattr(_crossval, "VOTE_CHUNK", 10_000)
        np.testing.assert_array_equal(_crossval._knn_votes(nb, codes, keep, k, K), want)


def test_blocked_member_predictions_equal_one_shot(monkeypatch):
    X, y = make_blobs(n_samples=600, centers=3, n_features=4, cluster_std=2.0, random_state=0)
    Z = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    train, test = np.arange(400), np.arange(400, 600)
    whole = fit_predict_proba(
        LogisticRegression(max_iter=500), Z.astype(np.float64), y, train, test, 3
    )
    monkeypatch.setattr(mc, "PREDICT_CHUNK", 7)
    np.testing.assert_allclose(mc.linear_task(Z, y, train, test, 3, 0), whole, rtol=0, atol=1e-12)
    # the mixture: every component in one product per block = one component at a time
    comps, fits = mc.mixture_components(Z, y, 3, 0)
    p, got_fits = mc.mixture_task(Z, y, train, test, 3, comps, fits, 0)
    logp = np.column_stack(
        [
            mc._logsumexp(mc._component_logpdf(Z[test], f))
            + np.log((y[train] == c).sum() / len(train))
            for c, f in enumerate(got_fits)
        ]
    )
    want = np.exp(logp - logp.max(axis=1, keepdims=True))
    np.testing.assert_allclose(p, want / want.sum(axis=1, keepdims=True), atol=1e-5)


# ---------------------------------------------------------------------------- the large-data path
def test_members_fit_on_their_saturation_sizes_above_the_threshold(monkeypatch):
    X, y = make_blobs(n_samples=300, centers=3, n_features=4, random_state=0)
    Z = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    train, test = np.arange(250), np.arange(250, 300)
    seen: list[int] = []
    fit = mc._fit_predict_rows

    def spy(model, Z, codes, train, test, K):
        seen.append(len(train))
        return fit(model, Z, codes, train, test, K)

    monkeypatch.setattr(mc, "_fit_predict_rows", spy)
    monkeypatch.setattr(mc, "LR_LARGE_TRAIN", 40)
    monkeypatch.setattr(mc, "QDA_LARGE_TRAIN", 60)
    monkeypatch.setattr(mc, "MIXTURE_LARGE_ROWS", 30)
    mc.linear_task(Z, y, train, test, 3, 0)
    mc.quadratic_task(Z, y, train, test, 3, 0)
    assert seen == [250, 250]  # 300 rows: the small-data caps (2,500 and 5,000)
    assert len(mc._class_rows(y, train, 0, 0)) == (y[train] == 0).sum() > 30
    monkeypatch.setattr(mc, "LARGE_ROWS", 299)
    mc.linear_task(Z, y, train, test, 3, 0)
    mc.quadratic_task(Z, y, train, test, 3, 0)
    assert seen[2:] == [40, 60]
    assert len(mc._class_rows(y, train, 0, 0)) == 30


def _spy_knn(monkeypatch):
    searched: list[np.ndarray] = []
    mixes: list[tuple[list[np.ndarray], np.ndarray]] = []
    task, combine = _crossval._knn_task, _crossval.combine

    def spy_task(Z, ref, rows, k):
        searched.append(np.asarray(rows))
        return task(Z, ref, rows, k)

    def spy_combine(members, w):
        mixes.append((list(members), np.asarray(w)))
        return combine(members, w)

    monkeypatch.setattr(_crossval, "_knn_task", spy_task)
    monkeypatch.setattr(_crossval, "combine", spy_combine)
    return searched, mixes


def test_knn_neighbours_of_rows_outside_the_choice_only_when_the_vote_counts(monkeypatch):
    """Above CHOICE_MAX_ROWS the vote is taken on the choice rows first; the others' neighbours
    are searched only once the vote gets a weight, and then it is the vote over every row."""
    monkeypatch.setattr(_crossval, "CHOICE_MAX_ROWS", 150)
    # two interleaved moons: only the kNN vote follows them
    X, y = make_moons(400, noise=0.2, random_state=0)
    noisy = flip_labels(y, 0.1, 0)
    searched, mixes = _spy_knn(monkeypatch)
    out_of_sample_pred_probs(X, noisy, progress=False)
    assert mixes[0][1][0] > 0
    rows = np.concatenate(searched)
    assert np.array_equal(np.sort(rows), np.arange(400))  # each row once
    Z = _crossval._standardize(X)
    nb = _crossval._knn_task(Z, np.arange(400), np.arange(400), 40)
    want = _crossval._knn_votes(nb, noisy, np.ones(400, dtype=bool), 20, 2)
    np.testing.assert_array_equal(mixes[0][0][0], want)  # the vote of every row, pass 1

    # linear classes: above LARGE_ROWS the vote must win significantly; it does not here
    monkeypatch.setattr(_crossval, "LARGE_ROWS", 300)
    Xl, yl = make_classification(
        400, 10, n_informative=4, n_redundant=0, n_clusters_per_class=1, random_state=2
    )
    searched.clear()
    mixes.clear()
    probs = out_of_sample_pred_probs(Xl, flip_labels(yl, 0.1, 1), progress=False)
    assert len(np.concatenate(searched)) == 150  # the choice rows only
    members, w = mixes[-1]  # the last pass's mix: without the vote
    assert w[0] == 0 and not members[0].any()
    np.testing.assert_array_equal(probs, _crossval.combine(members[1:], w[1:]))


def test_knn_weight_kept_only_when_it_is_significant():
    rng = np.random.default_rng(0)
    n = 2000
    codes = rng.integers(0, 2, n)
    good = np.eye(2)[codes] * 0.8 + 0.1  # right everywhere
    half = np.where(rng.random(n)[:, None] < 0.5, good, good[:, ::-1])  # right on half
    w = np.array([0.5, 0.5])
    # the vote is right everywhere, the other member on half the rows: keep it
    np.testing.assert_array_equal(_crossval._knn_if_significant([good, half], codes, w), w)
    # the vote adds nothing to a member that is already right: the weights without it
    got = _crossval._knn_if_significant([half, good], codes, w)
    np.testing.assert_array_equal(got, [0.0, 1.0])


def test_large_path_gives_the_same_quality_on_small_data(monkeypatch):
    """The large-data switches forced on 3,000 rows: the flags stay as good."""
    X, y = make_blobs(n_samples=3000, centers=4, n_features=6, cluster_std=2.5, random_state=0)
    noisy = flip_labels(y, 0.1, 0)
    truth = noisy != y

    def f1(out):
        flag = out.sort_index().is_issue.to_numpy()
        return 2 * (flag & truth).sum() / (flag.sum() + truth.sum())

    small = f1(default_label_issues(X, noisy, progress=False))
    monkeypatch.setattr(_crossval, "CHOICE_MAX_ROWS", 1000)
    monkeypatch.setattr(_crossval, "LARGE_ROWS", 2000)
    monkeypatch.setattr(mc, "LARGE_ROWS", 2000)
    monkeypatch.setattr(mc, "LR_LARGE_TRAIN", 500)
    monkeypatch.setattr(mc, "MIXTURE_LARGE_ROWS", 300)
    large = f1(default_label_issues(X, noisy, progress=False))
    assert large >= small - 0.03
    assert small > 0.7


# ---------------------------------------------------------------------------- bounded memory
@pytest.mark.parametrize("n", [150_000])
def test_nothing_n_by_n_on_150k_rows(n):
    """150,000 rows: an n x n float64 matrix would be 180 GB, the kNN vote's distances to
    every reference row 2.4 GB; the whole pipeline allocates a few hundred MB at most."""
    X, y = make_classification(
        n, 5, n_informative=3, n_redundant=0, n_classes=3, n_clusters_per_class=1, random_state=0
    )
    noisy = flip_labels(y, 0.05, 0)
    tracemalloc.start()
    try:
        out = default_label_issues(X, noisy, progress=False, cv=3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 400 * 2**20, f"peak {peak / 2**20:.0f} MB"
    assert len(out) == n and out.is_issue.sum() > 0.6 * (noisy != y).sum()
