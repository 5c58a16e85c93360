"""Confident learning's counting step, array in / array out: the inputs checked and
encoded, per-class thresholds, and the confident joint ``C[given, true]`` (counted over
blocks of rows, calibrated and rounded to integers as cleanlab does). The flagging rules
built on it are in ``_cl_prune.py``; the public functions in ``_confident_learning.py``."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._validation import check_probs, encode_labels

#: slack of every probability comparison (cleanlab's FLOATING_POINT_COMPARISON)
_EPS = 1e-6
#: per-class thresholds are at least this (2 * _EPS), so a class nobody gives any
#: probability to is never "confident"
_THRESHOLD_FLOOR = 2e-6
#: threshold of a class absent from the labels: no probability reaches it
_ABSENT_THRESHOLD = 2.0
_TINY = 1e-100
#: the confident joint is counted over blocks of this many samples (bounded temporaries)
CL_CHUNK = 262_144


def _prob_array(pred_probs: Any, n: int, k: int) -> np.ndarray:
    """Validated probabilities in their own float dtype (float32 stays float32)."""
    check_probs(pred_probs, n, k)  # raises the shared, explanatory errors
    p = np.asarray(pred_probs)
    if p.dtype not in (np.float32, np.float64):
        p = p.astype(np.float64)
    if (p < 0).any() or (p > 1).any():  # rounding a hair outside [0, 1]
        p = np.clip(p, 0, 1)
    return p


def _column_classes(labels: Any, pred_probs: Any, classes: Sequence[Any] | None) -> Any:
    """The class of each ``pred_probs`` column: ``classes``, else a DataFrame's columns,
    else ``0..K-1`` for integer labels (cleanlab's convention: label ``j`` is column ``j``;
    an integer label outside ``range(K)`` is refused, not shifted onto another column),
    else ``None`` (the sorted unique labels)."""
    if classes is not None:
        return classes
    if isinstance(pred_probs, pd.DataFrame):
        return list(pred_probs.columns)
    arr = labels.to_numpy() if isinstance(labels, pd.Series) else np.asarray(labels)
    shape = np.shape(pred_probs)
    if arr.ndim != 1 or len(shape) != 2 or len(arr) == 0:
        return None  # the input checks say what is wrong
    if arr.dtype == object:
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in arr):
            return None
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "iu":
        return None
    k = int(shape[1])
    outside = np.unique(arr[(arr < 0) | (arr >= k)])
    if len(outside):
        uniq = np.unique(arr)
        hint = f"classes={uniq.tolist()}" if len(uniq) == k else "classes=[...]"
        raise ValueError(
            f"labels {outside[:10].tolist()} are not columns of pred_probs: integer labels are "
            f"column indices 0..{k - 1} (as in cleanlab). If the {k} columns are other "
            f"classes, pass the class of each column in order, e.g. {hint}"
        )
    return list(range(k))


def _encode(
    labels: Any, pred_probs: Any, classes: Sequence[Any] | None
) -> tuple[np.ndarray, list[Any], np.ndarray]:
    classes = _column_classes(labels, pred_probs, classes)
    codes, cls = encode_labels(labels, classes)
    return codes, cls, _prob_array(pred_probs, len(codes), len(cls))


def _class_rows(codes: np.ndarray, k: int) -> list[np.ndarray]:
    """The positions of each class's samples, ascending (one stable sort, not ``k`` masks;
    a radix sort, linear in n, on codes of 16 bits)."""
    small = codes.astype(np.uint16) if k <= 65_536 else codes
    order = np.argsort(small, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(k + 1))
    return [order[bounds[c] : bounds[c + 1]] for c in range(k)]


def _thresholds(codes: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Per class: the mean probability of the class over samples labelled with it.

    Built like cleanlab's (a list of means, 2 for an absent class, clipped at 2e-6), so the
    dtype, and with it the precision of the later comparison, is the same: float32 input
    with every class present compares in float32. Each mean is numpy's over the class's
    probabilities in sample order, as cleanlab takes it, so it agrees to the last digit.
    """
    k = probs.shape[1]
    means = [
        np.mean(probs[rows, c]) if len(rows) else _ABSENT_THRESHOLD
        for c, rows in enumerate(_class_rows(codes, k))
    ]
    return np.clip(means, _THRESHOLD_FLOOR, None)


def _confident_counts(
    codes: np.ndarray,
    probs: np.ndarray,
    chunk: int | None = None,
    thresholds: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Uncalibrated confident joint (diagonal at least 1) and the off-diagonal sample indices.

    A sample is confidently of class j when ``p_j >= t_j - 1e-6``; with several such
    classes it counts for the most probable class overall, with none it is not counted.
    The counts are summed over blocks of ``chunk`` rows (default ``CL_CHUNK``): integer
    sums, so the joint is the same for any block size, and the temporaries are
    ``chunk x K`` whatever the number of samples. ``thresholds``: the user's ``t_j``
    (checked by :func:`_check_thresholds`), used as given (no floor), as cleanlab does.
    """
    n, k = probs.shape
    step = max(1, int(chunk or CL_CHUNK))
    t = (_thresholds(codes, probs) if thresholds is None else thresholds) - _EPS
    # counted as [true, given] and transposed (a column-major view, like cleanlab's
    # confusion_matrix(...).T): the calibration then sums in the same order, to the last digit
    flat = np.zeros(k * k, dtype=np.int64)
    off: list[np.ndarray] = []
    for a in range(0, n, step):
        p, c = probs[a : a + step], codes[a : a + step]
        confident = p >= t
        n_conf = confident.sum(axis=1)
        guess = np.where(n_conf > 1, p.argmax(axis=1), confident.argmax(axis=1))
        counted = n_conf > 0
        flat += np.bincount(guess[counted] * k + c[counted], minlength=k * k)
        off.append(a + np.flatnonzero(counted & (guess != c)))
    cj = flat.reshape(k, k).T
    np.fill_diagonal(cj, np.maximum(cj.diagonal(), 1))
    return cj, np.concatenate(off) if off else np.zeros(0, dtype=np.int64)


#: ``thresholds=KEPT``: each class's threshold from the samples a first count keeps
#: (see ``_cl_prune._kept_thresholds``)
KEPT = "kept"


def _check_thresholds(thresholds: Any, k: int) -> Any:
    """The user's per-class thresholds as an array of ``k`` finite numbers (or ``None``, or
    the rule ``"kept"``, resolved by ``_cl_prune._kept_thresholds``)."""
    if thresholds is None or (isinstance(thresholds, str) and thresholds == KEPT):
        return thresholds
    if isinstance(thresholds, dict):
        raise ValueError(
            "thresholds must be one number per pred_probs column, in column order (a list or "
            "array); got a dict"
        )
    try:
        arr = np.asarray(thresholds)
        ok = arr.dtype.kind in "fiu" and arr.size == k and np.isfinite(arr).all()
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"thresholds must be {k} finite numbers (one per pred_probs column, in column "
            f"order: a sample counts as class j when p_j >= thresholds[j] - 1e-6) or "
            f"{KEPT!r}; got {thresholds!r}"
        )
    return arr.reshape(k) if arr.dtype.kind == "f" else arr.reshape(k).astype(np.float64)


def _round_rows(m: np.ndarray) -> np.ndarray:
    """Round each row to integers that keep the row's rounded total.

    Round half to even; while the total is off, move the entries whose rounding lost the
    most in that direction one step towards it. This is cleanlab's rule; where entries
    lost exactly as much (a tie, common with equal counts in a row) the earlier class moves
    first (cleanlab leaves that to its platform's sort).
    """
    m = np.asarray(m, dtype=np.float64)
    out = np.empty(m.shape, dtype=np.int64)
    for r, row in enumerate(m):
        ints = row.round()
        target = np.sum(row).round()
        if not np.isfinite(target):  # a 0/0 rate (no noise in the row): nothing to move
            out[r] = np.where(np.isfinite(ints), ints, 0).astype(np.int64)
            continue
        total = np.sum(ints).round()
        while abs(total - target) > _EPS:
            diff = np.round(target - total)
            step = -1 if diff < 0 else 1
            order = np.argsort(-step * (row - ints), kind="stable")[: min(int(abs(diff)), len(row))]
            ints[order] += step
            total = np.sum(ints).round()
        out[r] = ints.astype(np.int64)
    return out


def _calibrate(cj: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Scale row i of ``cj`` to the count of class i, the whole to n; round per row."""
    rows = np.clip(cj.sum(axis=1), _TINY, None)
    scaled = (cj.T / rows * counts).T  # same operations, same layout: same last digits
    scaled = scaled / np.clip(np.sum(scaled), _TINY, None) * np.sum(counts)
    return _round_rows(scaled)


def _check_joint(cj: Any, k: int) -> np.ndarray:
    try:
        arr = np.asarray(cj, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("confident_joint must be a K x K array of counts") from None
    if arr.shape != (k, k):
        raise ValueError(
            f"confident_joint must be {k} x {k} (one row and column per class); got shape "
            f"{arr.shape}"
        )
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError("confident_joint must hold non-negative finite counts")
    return np.asarray(cj)
