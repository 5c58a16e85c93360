"""Confident learning, array in / array out: which given labels are probably wrong.

Pure functions of ``labels`` and out-of-sample ``pred_probs`` (from any model, e.g.
:func:`~dcai_jupyter.ops.out_of_sample_pred_probs`); nothing here fits a model or touches a
dataset.

- :func:`confident_joint`: the calibrated confident joint ``C[given, true]``;
- :func:`label_quality_scores`: a per-sample quality in [0, 1] (low = suspicious);
- :func:`find_label_issues`: flags by pruning the noise rate (Northcutt et al., 2021),
  as a frame by sample id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._validation import check_ids, check_probs, encode_labels

__all__ = [
    "MIN_SUPPORT",
    "confident_joint",
    "find_label_issues",
    "label_quality_scores",
]

#: a sample whose given label gets less than this probability, while another class is the
#: most probable, is flagged even when the confident-joint counts are used up
MIN_SUPPORT = 0.05


def _round_rows(m: np.ndarray) -> np.ndarray:
    """Round each row to integers keeping its rounded total.

    Round half to even, then move the entries with the largest rounding error up (or down)
    by one until the total matches (the rule cleanlab uses, so counts agree with it).
    """
    out = np.empty(m.shape, dtype=np.int64)
    for r, row in enumerate(np.asarray(m, dtype=np.float64)):
        ints = np.round(row)
        target = np.round(row.sum())
        while abs(target - ints.sum()) > 1e-6:
            diff = target - ints.sum()
            step = 1 if diff > 0 else -1
            n_changes = min(int(abs(round(diff))), len(row))
            order = np.argsort(row - ints)[::-step][:n_changes]
            ints[order] += step
        out[r] = ints.astype(np.int64)
    return out


def confident_joint(
    labels: Any, pred_probs: Any, *, classes: Sequence[Any] | None = None
) -> np.ndarray:
    """Calibrated confident joint ``C[given, true]``: counts whose rows sum to the class counts.

    Parameters
    ----------
    labels, pred_probs, classes
        As in :func:`find_label_issues`.

    Returns
    -------
    np.ndarray of shape (K, K), int64
        Row ``i``, column ``j``: how many samples given class ``i`` are confidently of
        class ``j``, calibrated so that row ``i`` sums to the number of samples given ``i``.

    Notes
    -----
    A sample counts towards the class whose probability reaches that class's threshold (the
    mean probability the model gives the class on samples labelled with it); several such
    classes: the most probable.
    """
    if classes is None and isinstance(pred_probs, pd.DataFrame):
        classes = list(pred_probs.columns)
    codes, cls = encode_labels(labels, classes)
    probs = check_probs(pred_probs, len(codes), len(cls))
    return _confident_joint(codes, probs)


def _confident_joint(codes: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """:func:`confident_joint` on validated class codes and probabilities."""
    n, k = probs.shape
    counts = np.bincount(codes, minlength=k).astype(np.float64)
    self_conf = probs[np.arange(n), codes]
    thresholds = np.bincount(codes, weights=self_conf, minlength=k) / np.maximum(counts, 1)
    thresholds[counts == 0] = np.inf
    confident = probs >= thresholds - 1e-6
    n_conf = confident.sum(axis=1)
    guess = np.where(n_conf > 1, probs.argmax(axis=1), confident.argmax(axis=1))
    keep = n_conf > 0
    cj = np.zeros((k, k), dtype=np.float64)
    np.add.at(cj, (codes[keep], guess[keep]), 1.0)
    np.fill_diagonal(cj, np.maximum(cj.diagonal(), 1.0))
    cj = cj / cj.sum(axis=1, keepdims=True) * counts[:, None]
    return _round_rows(cj)


def _prune_counts(cj: np.ndarray) -> np.ndarray:
    """``P[true, given]``: how many of each given class to flag as each true class.

    Keeps at least one sample per given class (the diagonal is raised to 1 at the expense
    of that column's off-diagonal counts).
    """
    p = cj.T.astype(np.float64)
    diag = p.diagonal().copy()
    need = np.maximum(1.0 - diag, 0.0)
    nonzero_off = np.maximum(np.count_nonzero(p, axis=0) - (diag > 0), 1)
    p = np.where(p > 0, p - need / nonzero_off, 0.0)
    p[p < 0] = 0.0
    np.fill_diagonal(p, np.maximum(diag, 1.0))
    return _round_rows(p)


def _prune_by_noise_rate(codes: np.ndarray, probs: np.ndarray, cj: np.ndarray) -> np.ndarray:
    """Flag, for every (given k, true j) cell, the samples of k with the largest p_j - p_k."""
    n, k = probs.shape
    prune = _prune_counts(cj)
    mask = np.zeros(n, dtype=bool)
    for given in range(k):
        members = np.flatnonzero(codes == given)
        if len(members) <= 1:
            continue
        for true in range(k):
            m = int(prune[true, given])
            if true == given or m <= 0:
                continue
            margin = probs[members, true] - probs[members, given]
            top = np.argsort(-margin, kind="stable")[:m]
            mask[members[top]] = True
    return mask


def _predicted(codes: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Argmax, with ties resolved in favour of the given label."""
    bumped = probs.copy()
    bumped[np.arange(len(codes)), codes] += 1e-6
    return bumped.argmax(axis=1)


def label_quality_scores(
    labels: Any,
    pred_probs: Any,
    *,
    classes: Sequence[Any] | None = None,
    method: str = "self_confidence",
) -> np.ndarray:
    """Per-sample label quality in [0, 1] (low = the label is probably wrong).

    Parameters
    ----------
    labels, pred_probs, classes
        As in :func:`find_label_issues`.
    method
        ``"self_confidence"``: the probability of the given label. ``"normalized_margin"``:
        ``(1 + p_given - max_other) / 2``.
    """
    codes, cls = encode_labels(labels, classes)
    probs = check_probs(pred_probs, len(codes), len(cls))
    return _quality(codes, probs, method)


def _quality(codes: np.ndarray, probs: np.ndarray, method: str) -> np.ndarray:
    n = len(codes)
    self_conf = probs[np.arange(n), codes]
    if method == "self_confidence":
        return self_conf
    if method == "normalized_margin":
        other = probs.copy()
        other[np.arange(n), codes] = -np.inf
        return (1.0 + self_conf - other.max(axis=1)) / 2.0
    raise ValueError(f"method must be 'self_confidence' or 'normalized_margin'; got {method!r}")


def find_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    classes: Sequence[Any] | None = None,
    ids: Any = None,
    quality: str = "self_confidence",
    min_support: float = MIN_SUPPORT,
) -> pd.DataFrame:
    """Find samples whose given label is probably wrong, from out-of-sample probabilities.

    Parameters
    ----------
    labels : sequence of length n
        The given labels: any class values (strings, ints, ...). No missing values.
    pred_probs : array of shape (n, K)
        Out-of-sample predicted probabilities (e.g. from cross-validation, see
        :func:`~dcai_jupyter.ops.out_of_sample_pred_probs`); rows sum to 1.
    classes : sequence of K values, optional
        The class value of each ``pred_probs`` column. Default: the columns of a
        ``pred_probs`` DataFrame, else the sorted unique labels.
    ids : sequence of n unique values, optional
        Sample ids for the index (default ``0..n-1``).
    quality : {"self_confidence", "normalized_margin"}
        How ``label_quality`` is computed (see :func:`label_quality_scores`).
    min_support : float
        Also flag samples whose given label gets less than this probability while another
        class is the most probable (0 turns this off).

    Returns
    -------
    pd.DataFrame
        Indexed by sample id (``sample_id``), flagged samples first, each group by
        ascending ``label_quality``; columns ``given_label``, ``suggested_label`` (the most
        probable class), ``label_quality`` (0..1, low = suspicious) and ``is_issue`` (bool).

    Notes
    -----
    ``is_issue`` follows confident learning (Northcutt et al., 2021): per-class thresholds
    give a calibrated confident joint of (given, true) label counts, and for each
    off-diagonal cell that many samples with the largest ``p_true - p_given`` are flagged.
    With ``min_support=0`` the flags equal cleanlab's default ``find_label_issues``
    (``filter_by="prune_by_noise_rate"``) on the same probabilities. Samples whose given
    label gets less than ``min_support`` are flagged too, and samples whose given label is
    (tied for) the most probable never are.
    """
    if classes is None and isinstance(pred_probs, pd.DataFrame):
        classes = list(pred_probs.columns)
    codes, cls = encode_labels(labels, classes)
    if len(cls) < 2:
        raise ValueError(f"only one class ({cls[0]!r}): label issues need at least two classes")
    if len(np.unique(codes)) < 2:
        raise ValueError(
            f"every label is {cls[int(codes[0])]!r}: label issues need samples of at least "
            "two classes"
        )
    probs = check_probs(pred_probs, len(codes), len(cls))
    index = check_ids(ids, len(codes))
    if not 0.0 <= float(min_support) < 1.0:
        raise ValueError(f"min_support must be in [0, 1); got {min_support}")
    return _issues_frame(codes, probs, cls, index, quality, float(min_support))


def _issues_frame(
    codes: np.ndarray,
    probs: np.ndarray,
    cls: list[Any],
    index: pd.Index,
    quality: str,
    min_support: float,
) -> pd.DataFrame:
    n = len(codes)
    q = _quality(codes, probs, quality)
    pred = _predicted(codes, probs)
    cj = _confident_joint(codes, probs)
    flagged = _prune_by_noise_rate(codes, probs, cj)
    if min_support > 0:
        flagged |= probs[np.arange(n), codes] < min_support
    flagged &= pred != codes
    cls_arr = np.empty(len(cls), dtype=object)
    cls_arr[:] = cls
    frame = pd.DataFrame(
        {
            "given_label": cls_arr[codes],
            "suggested_label": cls_arr[pred],
            "label_quality": q,
            "is_issue": flagged,
        },
        index=index,
    )
    order = np.lexsort((np.arange(n), q, ~flagged))
    frame = frame.iloc[order]
    _restore_dtype(frame, cls)
    return frame


def _restore_dtype(frame: pd.DataFrame, cls: list[Any]) -> None:
    """Give the label columns the classes' natural dtype (int, str, ...) where one exists."""
    try:
        dtype = pd.Series(cls).dtype
    except (TypeError, ValueError):  # pragma: no cover
        return
    if dtype is np.dtype(object):
        return
    for c in ("given_label", "suggested_label"):
        frame[c] = frame[c].astype(dtype)
