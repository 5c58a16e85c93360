"""Confident learning's flagging step, array in / array out: how many samples of each
class to flag (the prune matrix, summed in cleanlab's order), which ones (by noise rate, by
class, both, the argmax and low-score rules), the label-quality scores they rank by, and
the low-support extra. On the encoded labels and probabilities of ``_cl_joint.py``."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._cl_joint import (
    _EPS,
    _THRESHOLD_FLOOR,
    _calibrate,
    _check_joint,
    _check_thresholds,
    _class_rows,
    _confident_counts,
    _round_rows,
    _thresholds,
)

#: a sample whose given label gets less than this probability, while another class is the
#: most probable, is flagged even when the confident-joint counts are used up
MIN_SUPPORT = 0.05
#: the flagging rules (cleanlab's ``filter_by`` values, same meanings)
FILTER_BY = (
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
    "low_normalized_margin",
    "low_self_confidence",
)
#: the label-quality scores (cleanlab's ``rank_by`` / ``return_indices_ranked_by`` values)
RANK_BY = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")
#: filters whose number of flags is fixed by the joint (frac_noise, num_to_remove apply)
_PRUNE_FILTERS = ("prune_by_noise_rate", "prune_by_class", "both")


def _prune_matrix(cj: np.ndarray, min_examples: int, frac_noise: float) -> np.ndarray:
    """``P[true, given]``: how many of each given class to flag as each true class.

    The diagonal (kept samples) is raised to ``min_examples``, taking the difference evenly
    from the column's non-zero off-diagonal entries (the column's non-zero count minus one);
    then the off-diagonal entries are scaled by ``frac_noise`` and truncated to integers.
    The result is row-major (C order), as cleanlab's (its row rounding builds a new array):
    :func:`_removal_targets` sums its rows, and the float sum of a row depends on the layout
    (numpy adds a contiguous row pairwise, a strided one in sequence).
    """
    p = cj.T
    diag = p.diagonal()
    new_diag = np.maximum(diag, min_examples)
    share = np.maximum(np.count_nonzero(p, axis=0) - 1.0, 1.0)
    m = p - (new_diag - diag) / share
    m[m < 0] = 0
    np.fill_diagonal(m, new_diag)
    reduced = m * frac_noise
    np.fill_diagonal(reduced, m.diagonal())
    np.fill_diagonal(reduced, m.diagonal() + np.sum(m - reduced, axis=0))
    return np.ascontiguousarray(reduced, dtype=np.int64)  # truncated, as cleanlab does


def _removal_targets(
    prune: np.ndarray, counts: np.ndarray, num_to_remove: np.ndarray
) -> np.ndarray:
    """The prune matrix rescaled so that row ``k`` removes ``num_to_remove[k]``, before
    rounding: cleanlab's operations on a row-major ``prune``, so the same float bits."""
    prune = np.ascontiguousarray(prune)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = prune / np.sum(prune, axis=1)
        noise = rates.sum(axis=1) - rates.diagonal()
        m = (rates.T * num_to_remove / noise).T
    np.fill_diagonal(m, counts - num_to_remove)
    return m


def _per_class_removal(
    prune: np.ndarray, counts: np.ndarray, num_to_remove: np.ndarray
) -> np.ndarray:
    """Rescale the prune matrix so that row ``k`` removes ``num_to_remove[k]`` (cleanlab's rule)."""
    # a row with a 0/0 rate flags nothing by noise rate
    return _round_rows(_removal_targets(prune, counts, num_to_remove))


def _largest(values: np.ndarray, m: int) -> np.ndarray:
    """Positions of the ``m`` largest ``values``, ties by position (the earlier first): the
    first ``m`` of a stable sort by decreasing value, found by a partition (linear time)."""
    n = len(values)
    if m <= 0:
        return np.zeros(0, dtype=np.int64)
    if m >= n:
        return np.arange(n)
    kth = np.partition(values, n - m)[n - m]  # the m-th largest value
    above = np.flatnonzero(values > kth)
    ties = np.flatnonzero(values == kth)[: m - len(above)]
    return np.concatenate([above, ties])


def _by_noise_rate(
    codes: np.ndarray, probs: np.ndarray, prune: np.ndarray, min_ex: int
) -> np.ndarray:
    """Per (given k, true j) cell: flag ``prune[j, k]`` samples of k with the largest p_j - p_k."""
    n, k = probs.shape
    mask = np.zeros(n, dtype=bool)
    for given, members in enumerate(_class_rows(codes, k)):
        if len(members) <= max(min_ex, 1):
            continue
        pk = probs[members, given]
        for true in range(k):
            m = int(prune[true, given])
            if true == given or m <= 0:
                continue
            mask[members[_largest(probs[members, true] - pk, m)]] = True
    return mask


def _by_class(codes: np.ndarray, probs: np.ndarray, prune: np.ndarray, min_ex: int) -> np.ndarray:
    """Per given class k: flag all but ``prune[k, k]`` samples, lowest p_k first."""
    n, k = probs.shape
    mask = np.zeros(n, dtype=bool)
    for given, members in enumerate(_class_rows(codes, k)):
        if len(members) <= max(min_ex, 1):
            continue
        m = len(members) - int(prune[given, given])
        if m >= 1:
            mask[members[_largest(-probs[members, given], m)]] = True
    return mask


def _given_is_top(codes: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Samples whose given label is (within 1e-6 of) the most probable class."""
    return _predicted(codes, probs) == codes


def _predicted(codes: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Argmax, the given label winning when within 1e-6 of the top."""
    bumped = probs.copy()
    bumped[np.arange(len(codes)), codes] += _EPS
    return bumped.argmax(axis=1)


def _quality(codes: np.ndarray, probs: np.ndarray, method: str) -> np.ndarray:
    n = len(codes)
    self_conf = probs[np.arange(n), codes]
    if method == "self_confidence":
        return self_conf
    if method == "normalized_margin":
        other = probs.copy()
        other[np.arange(n), codes] = -np.inf
        return (self_conf - other.max(axis=1) + 1) / 2
    if method == "confidence_weighted_entropy":
        from scipy.special import xlogy

        entropy = -np.sum(xlogy(probs, probs), axis=1) / np.log(probs.shape[1])
        x = entropy / np.clip(self_conf, _EPS, None)
        return np.log(x + 1) / np.clip(x, _EPS, None)
    raise ValueError(f"rank_by must be one of {list(RANK_BY)}; got {method!r}")


def _flags(
    codes: np.ndarray,
    probs: np.ndarray,
    *,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: np.ndarray | None = None,
    min_examples_per_class: int = 1,
    confident_joint: np.ndarray | None = None,
    min_support: float = MIN_SUPPORT,
    thresholds: Any = None,
) -> np.ndarray:
    """The ``is_issue`` mask (validated inputs; see :func:`find_label_issues`)."""
    n, k = probs.shape
    counts = np.bincount(codes, minlength=k)
    if num_to_remove_per_class is not None and np.ndim(num_to_remove_per_class) == 0:
        num_to_remove_per_class = np.full(k, int(num_to_remove_per_class), dtype=np.int64)
    if num_to_remove_per_class is not None and len(num_to_remove_per_class) != k:
        raise ValueError(
            f"num_to_remove_per_class has {len(num_to_remove_per_class)} values but there "
            f"are {k} classes: one per pred_probs column"
        )
    if num_to_remove_per_class is not None and (num_to_remove_per_class > counts).any():
        bad = int(np.flatnonzero(num_to_remove_per_class > counts)[0])
        raise ValueError(
            f"num_to_remove_per_class asks for {int(num_to_remove_per_class[bad])} samples of "
            f"class #{bad}, which has only {int(counts[bad])}"
        )
    if confident_joint is not None:
        confident_joint = _check_joint(confident_joint, k)
        if filter_by == "confident_learning":
            warnings.warn(
                "filter_by='confident_learning' re-estimates the confident joint from the "
                "labels; the confident_joint passed is ignored (use another filter_by to use it)",
                UserWarning,
                stacklevel=3,
            )
    t = _check_thresholds(thresholds, k)
    if isinstance(t, str):  # "kept"
        t = _kept_thresholds(codes, probs)
    raw, off = _confident_counts(codes, probs, thresholds=t)
    min_ex = min_examples_per_class
    if filter_by in _PRUNE_FILTERS:
        cj = confident_joint if confident_joint is not None else _calibrate(raw, counts)
        prune = _prune_matrix(np.asarray(cj), min_ex, frac_noise)
        if num_to_remove_per_class is not None:
            prune = _per_class_removal(prune, counts, num_to_remove_per_class)
        if filter_by == "prune_by_noise_rate":
            mask = _by_noise_rate(codes, probs, prune, min_ex)
        elif filter_by == "prune_by_class":
            mask = _by_class(codes, probs, prune, min_ex)
        else:
            mask = _by_noise_rate(codes, probs, prune, min_ex) & _by_class(
                codes, probs, prune, min_ex
            )
    elif filter_by == "confident_learning":
        mask = np.zeros(n, dtype=bool)
        mask[off] = True
    elif filter_by == "predicted_neq_given":
        mask = probs.argmax(axis=1) != codes
    else:  # low_normalized_margin / low_self_confidence: the lowest, as many as CL finds
        cl = np.zeros(n, dtype=bool)
        cl[off] = True
        n_issues = int((cl & ~_given_is_top(codes, probs)).sum())
        q = _quality(codes, probs, filter_by[4:])
        mask = np.zeros(n, dtype=bool)
        mask[np.argsort(q, kind="stable")[:n_issues]] = True
        return mask
    mask &= ~_given_is_top(codes, probs)
    if min_support > 0 and frac_noise == 1.0 and num_to_remove_per_class is None:
        mask |= _low_support(codes, probs, mask, min_support, min_ex)
    return mask


def _low_support(
    codes: np.ndarray, probs: np.ndarray, mask: np.ndarray, min_support: float, min_ex: int
) -> np.ndarray:
    """Extra flags: given label below ``min_support`` and not the most probable.

    Per given class, at most as many as keep ``min_examples_per_class`` samples unflagged
    (lowest probability of the given label first, ties by position).
    """
    n = len(codes)
    self_conf = probs[np.arange(n), codes]
    low = (self_conf < min_support) & ~_given_is_top(codes, probs) & ~mask
    extra = np.zeros(n, dtype=bool)
    for given in np.unique(codes[low]):
        members = codes == given
        room = int(members.sum() - mask[members].sum()) - min_ex
        if room <= 0:
            continue
        cand = np.flatnonzero(low & members)
        cand = cand[np.argsort(self_conf[cand], kind="stable")][:room]
        extra[cand] = True
    return extra


def _kept_thresholds(codes: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Per class ``j``: the mean ``p_j`` over the samples labelled ``j`` that confident
    learning's default rule (cleanlab's thresholds, ``prune_by_noise_rate``) does not flag.

    cleanlab's threshold is the mean over every sample labelled ``j``: the expected
    probability of class ``j`` for a member of it, measured with the wrong labels in. Those
    pull it down by their share of the class, and where a class is mostly noise (a rare
    class that most flips land in) a low threshold counts samples of other classes as
    confidently ``j``: the joint then under-counts the errors given ``j`` and over-counts
    those given the other classes. Measured on the samples the first count keeps, the
    threshold is the class's own. A class whose every sample is flagged keeps cleanlab's.
    At least ``2e-6``, as cleanlab's.
    """
    k = probs.shape[1]
    first = _flags(codes, probs, min_support=0.0)
    t = np.array(_thresholds(codes, probs), dtype=probs.dtype)
    for c, rows in enumerate(_class_rows(codes, k)):
        kept = rows[~first[rows]]
        if len(kept):
            t[c] = np.mean(probs[kept, c])
    return np.clip(t, _THRESHOLD_FLOOR, None)
