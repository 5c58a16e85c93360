"""Confident learning, array in / array out: which given labels are probably wrong.

Pure functions of ``labels`` and out-of-sample ``pred_probs`` (from any model, e.g.
:func:`~dcai_jupyter.ops.out_of_sample_pred_probs`); nothing here fits a model or touches a
dataset.

- :func:`confident_joint`: the (calibrated) confident joint ``C[given, true]``;
- :func:`label_quality_scores`: a per-sample quality in [0, 1] (low = suspicious);
- :func:`find_label_issues`: flags by confident learning (Northcutt et al., 2021), with
  cleanlab's options (``filter_by``, ``frac_noise``, ``num_to_remove_per_class``,
  ``min_examples_per_class``, ``confident_joint``) under the same names and meanings, as a
  frame by sample id.

Exactness
---------
With ``min_support=0`` the flags are those of ``cleanlab.filter.find_label_issues`` (2.9)
with the same options, on every input without ties. The arithmetic is done in the dtype of
``pred_probs`` (float32 stays float32) in the same order, so thresholds, the calibrated joint
and its rounding agree to the last digit. Where cleanlab's choice depends on the order its
sort happens to produce (equal margins or probabilities at the edge of a cut, or equal
rounding errors when a row of the calibrated joint is rounded to integers), this module
breaks ties by position: the earlier sample, and the earlier class, is taken first. That
rule is deterministic and does not depend on the platform (cleanlab's default sort does).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._multilabel import is_multi_label, multilabel_issues, multilabel_joint
from ._validation import check_ids, check_probs, encode_labels

__all__ = [
    "FILTER_BY",
    "MIN_SUPPORT",
    "RANK_BY",
    "confident_joint",
    "find_label_issues",
    "label_quality_scores",
]

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

#: slack of every probability comparison (cleanlab's FLOATING_POINT_COMPARISON)
_EPS = 1e-6
#: per-class thresholds are at least this (2 * _EPS), so a class nobody gives any
#: probability to is never "confident"
_THRESHOLD_FLOOR = 2e-6
#: threshold of a class absent from the labels: no probability reaches it
_ABSENT_THRESHOLD = 2.0
_TINY = 1e-100
#: filters whose number of flags is fixed by the joint (frac_noise, num_to_remove apply)
_PRUNE_FILTERS = ("prune_by_noise_rate", "prune_by_class", "both")
#: the confident joint is counted over blocks of this many samples (bounded temporaries)
CL_CHUNK = 262_144


# ---------------------------------------------------------------------------- inputs
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


# ---------------------------------------------------------------------------- the joint
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


def _check_thresholds(thresholds: Any, k: int) -> np.ndarray | None:
    """The user's per-class thresholds as an array of ``k`` finite numbers (or ``None``)."""
    if thresholds is None:
        return None
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
            f"order: a sample counts as class j when p_j >= thresholds[j] - 1e-6); got "
            f"{thresholds!r}"
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


def confident_joint(
    labels: Any,
    pred_probs: Any,
    *,
    classes: Sequence[Any] | None = None,
    calibrate: bool = True,
    thresholds: Any = None,
    return_indices_of_off_diagonals: bool = False,
) -> Any:
    """Confident joint ``C[given, true]``, as ``cleanlab.count.compute_confident_joint``.

    Parameters
    ----------
    labels, pred_probs, classes, thresholds
        As in :func:`find_label_issues`.
    calibrate
        Scale row ``i`` to the number of samples given class ``i`` (and round, keeping row
        totals). ``False``: the raw confident counts.
    return_indices_of_off_diagonals
        Also return the positions of the samples counted off the diagonal (confidently of
        another class than the given one), ascending, as cleanlab's option of that name.

    Returns
    -------
    np.ndarray of shape (K, K), int64
        Row ``i``, column ``j``: how many samples given class ``i`` are confidently of
        class ``j``. Pass it back as ``find_label_issues(..., confident_joint=...)``.
        With ``return_indices_of_off_diagonals``: the tuple ``(joint, positions)``.
        Multi-label ``labels`` (a list of classes per sample): shape (K, 2, 2), class
        ``c``'s one-vs-rest joint (``[not c, c]``), as cleanlab's ``multi_label=True``; the
        positions are then one array per class.

    Notes
    -----
    Class ``j``'s threshold ``t_j`` is the mean probability of ``j`` over samples labelled
    ``j`` (at least 2e-6; a class nobody is labelled with gets 2, out of reach). A sample
    counts towards the classes with ``p_j >= t_j - 1e-6``, the most probable of them when
    there are several, and is left out when there are none. The diagonal is at least 1.
    """
    if is_multi_label(labels):
        return multilabel_joint(
            labels,
            pred_probs,
            classes,
            calibrate=calibrate,
            thresholds=thresholds,
            return_indices_of_off_diagonals=return_indices_of_off_diagonals,
        )
    codes, _, probs = _encode(labels, pred_probs, classes)
    t = _check_thresholds(thresholds, probs.shape[1])
    cj, off = _confident_counts(codes, probs, thresholds=t)
    if calibrate:
        cj = _calibrate(cj, np.bincount(codes, minlength=probs.shape[1]))
    return (cj, off) if return_indices_of_off_diagonals else cj


# ---------------------------------------------------------------------------- pruning counts
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


# ---------------------------------------------------------------------------- quality
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
    method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        ``"self_confidence"``: the probability of the given label.
        ``"normalized_margin"``: ``(1 + p_given - max_other) / 2``.
        ``"confidence_weighted_entropy"``: ``log(1 + x) / x`` with ``x`` the normalised
        entropy of the row divided by ``p_given`` (both clipped at 1e-6). The same scores as
        ``cleanlab.rank.get_label_quality_scores(..., method=method)``.
    """
    _check_choice("method", method, RANK_BY)
    codes, _, probs = _encode(labels, pred_probs, classes)
    return _quality(codes, probs, method)


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


# ---------------------------------------------------------------------------- options
def _check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}")
    return value


def check_options(
    *,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: int | Sequence[int] | None = None,
    min_examples_per_class: int = 1,
    rank_by: str = "self_confidence",
    min_support: float = MIN_SUPPORT,
) -> dict[str, Any]:
    """Validate the options of :func:`find_label_issues` (before any model is fit).

    Returns the normalised values by name; raises ``ValueError`` saying what to pass.
    Warns (like cleanlab) when ``frac_noise`` is set for a filter that ignores it.
    """
    _check_choice("filter_by", filter_by, FILTER_BY)
    _check_choice("rank_by", rank_by, RANK_BY)
    if isinstance(frac_noise, bool) or not isinstance(frac_noise, numbers.Real):
        raise ValueError(f"frac_noise must be a number in (0, 1]; got {frac_noise!r}")
    if not 0.0 < float(frac_noise) <= 1.0:
        raise ValueError(
            f"frac_noise must be in (0, 1] (1 = every confident issue); got {frac_noise}"
        )
    if (
        isinstance(min_examples_per_class, bool)
        or not isinstance(min_examples_per_class, numbers.Integral)
        or min_examples_per_class < 0
    ):
        raise ValueError(
            f"min_examples_per_class must be a non-negative integer; got {min_examples_per_class!r}"
        )
    if isinstance(min_support, bool) or not isinstance(min_support, numbers.Real):
        raise ValueError(f"min_support must be a number in [0, 1); got {min_support!r}")
    if not 0.0 <= float(min_support) < 1.0:
        raise ValueError(f"min_support must be in [0, 1) (0 turns it off); got {min_support}")
    ntr = None
    if num_to_remove_per_class is not None:
        if filter_by not in _PRUNE_FILTERS:
            raise ValueError(
                f"num_to_remove_per_class is not supported with filter_by={filter_by!r}: use "
                f"one of {list(_PRUNE_FILTERS)} ('prune_by_class' removes exact counts)"
            )
        arr = np.asarray(num_to_remove_per_class)
        if (
            arr.ndim > 1
            or not (
                np.issubdtype(arr.dtype, np.integer)
                or (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr)))
            )
            or (arr < 0).any()
        ):
            raise ValueError(
                "num_to_remove_per_class must be a non-negative integer or one per class (in "
                f"the order of the pred_probs columns); got {num_to_remove_per_class!r}"
            )
        ntr = arr.astype(np.int64)
    if filter_by not in _PRUNE_FILTERS and float(frac_noise) != 1.0:
        warnings.warn(
            f"frac_noise is only used by filter_by in {list(_PRUNE_FILTERS)}; "
            f"filter_by={filter_by!r} ignores it",
            UserWarning,
            stacklevel=3,
        )
    return {
        "filter_by": filter_by,
        "frac_noise": float(frac_noise),
        "num_to_remove_per_class": ntr,
        "min_examples_per_class": int(min_examples_per_class),
        "rank_by": rank_by,
        "min_support": float(min_support),
    }


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


# ---------------------------------------------------------------------------- flags
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
    raw, off = _confident_counts(codes, probs, thresholds=_check_thresholds(thresholds, k))
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


def find_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    classes: Sequence[Any] | None = None,
    ids: Any = None,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: int | Sequence[int] | None = None,
    min_examples_per_class: int = 1,
    confident_joint: Any = None,
    rank_by: str = "self_confidence",
    min_support: float = MIN_SUPPORT,
    thresholds: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Find samples whose given label is probably wrong, from out-of-sample probabilities.

    The options have cleanlab's names and meanings (``cleanlab.filter.find_label_issues``),
    so code can switch between the two.

    Parameters
    ----------
    labels : sequence of length n
        The given labels: any class values (strings, ints, ...). No missing values.
        Multi-label data: one list (tuple, set) of classes per sample, and ``pred_probs``
        holds one independent probability per class. Each class is then checked
        one-vs-rest as cleanlab's ``multi_label=True`` does (the options apply per class;
        ``num_to_remove_per_class[c]`` is passed as ``[n_c, 0]``), a sample is an issue when
        any of its classes is, ``label_quality`` is cleanlab's multi-label score (per-class
        scores folded by an exponential moving average, alpha 0.8), and ``given_label`` /
        ``suggested_label`` are tuples of classes.
    pred_probs : array of shape (n, K)
        Out-of-sample predicted probabilities (e.g. from cross-validation, see
        :func:`~dcai_jupyter.ops.out_of_sample_pred_probs`); rows sum to 1. float32 input
        is computed in float32 (as cleanlab does).
    classes : sequence of K values, optional
        The class value of each ``pred_probs`` column. Default: the columns of a
        ``pred_probs`` DataFrame; else, for integer labels, ``0..K-1`` (label ``j`` is
        column ``j``, as in cleanlab: a label outside ``range(K)`` raises, pass
        ``classes=`` when the columns are e.g. ``1..K``); else the sorted unique labels.
    ids : sequence of n unique values, optional
        Sample ids for the index (default ``0..n-1``).
    filter_by : str
        How samples are flagged:

        - ``"prune_by_noise_rate"`` (default): for each off-diagonal cell (given k, true j)
          of the calibrated confident joint, that many samples given k with the largest
          ``p_j - p_k``;
        - ``"prune_by_class"``: per given class k, all but the joint's diagonal count, lowest
          ``p_k`` first;
        - ``"both"``: flagged by both of the above;
        - ``"confident_learning"``: the samples counted off the diagonal of the joint
          (confidently of another class);
        - ``"predicted_neq_given"``: the most probable class is not the given one;
        - ``"low_self_confidence"`` / ``"low_normalized_margin"``: the samples with the
          lowest such score, as many as ``"confident_learning"`` flags.
    frac_noise : float in (0, 1]
        Flag only this fraction of the estimated issues (the joint's off-diagonal counts are
        scaled by it). Used by the three ``prune`` filters and ``"both"``.
    num_to_remove_per_class : int or sequence of K ints, optional
        How many samples of each given class to flag (one int: the same for every class;
        exact with
        ``filter_by="prune_by_class"``; within one or so with ``"prune_by_noise_rate"``).
    min_examples_per_class : int
        A class with this many samples or fewer is never flagged, and the pruning keeps at
        least this many samples of every class.
    confident_joint : array of shape (K, K), optional
        A precomputed (calibrated) confident joint, e.g. from :func:`confident_joint`;
        default: computed from ``labels`` and ``pred_probs``. Ignored, with a warning, by
        ``filter_by="confident_learning"``.
    rank_by : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        The ``label_quality`` score and the order of the result (see
        :func:`label_quality_scores`).
    min_support : float in [0, 1)
        This project's addition: also flag samples whose given label gets less than this
        probability while another class is the most probable (0 turns it off; then the
        flags are cleanlab's). See Notes.
    thresholds : sequence of K floats, optional
        Per-class thresholds of the confident joint, in column order (as
        ``cleanlab.count.compute_confident_joint(thresholds=...)``): a sample counts as
        confidently of class ``j`` when ``p_j >= thresholds[j] - 1e-6``. Default: the mean
        ``p_j`` over the samples labelled ``j``. Used by every filter that counts the joint
        (the flags equal cleanlab's with ``confident_joint=compute_confident_joint(labels,
        pred_probs, thresholds=...)``; ``"confident_learning"`` flags the off-diagonal
        samples of that joint).

    Returns
    -------
    pd.DataFrame
        Indexed by sample id (``sample_id``), flagged samples first, each group by
        ascending ``label_quality`` (ties by position); columns ``given_label``,
        ``suggested_label`` (the most probable class; the given one when within 1e-6 of the
        top), ``label_quality`` (0..1, low = suspicious) and ``is_issue`` (bool).

    Raises
    ------
    ValueError
        Bad labels, probabilities, ids or options (the message says what to pass).

    Notes
    -----
    *Agreement with cleanlab.* With ``min_support=0``, ``is_issue`` equals cleanlab 2.9's
    mask for the same options on inputs without ties (a seeded differential test checks
    this). Where several answers are valid because margins or probabilities tie at the edge
    of a cut, the earlier sample (by position) is flagged first; where entries of a row of
    the calibrated joint have equal rounding errors, the earlier class is rounded first.
    cleanlab leaves both to its sort, whose order can differ between machines.

    *Deliberate deviations* (``min_support > 0``, the default 0.05): after the filter,
    samples whose given label gets probability below ``min_support`` while another class is
    the most probable are flagged too, lowest first, but never so many that fewer than
    ``min_examples_per_class`` samples of a given class stay unflagged (default: every class
    keeps at least one). The rule is skipped when ``frac_noise < 1`` or
    ``num_to_remove_per_class`` asks for a number of flags, and by the ``low_*`` filters
    (whose count is fixed) and ``predicted_neq_given`` (which already flags them). As in
    cleanlab, samples whose given label is within 1e-6 of the most probable class are never
    flagged (except by the ``low_*`` filters), and a class with a single sample is not
    flagged by the prune filters.
    """
    opts = check_options(
        filter_by=filter_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
        min_examples_per_class=min_examples_per_class,
        rank_by=rank_by,
        min_support=min_support,
    )
    if is_multi_label(labels):
        return multilabel_issues(
            labels,
            pred_probs,
            classes,
            ids,
            confident_joint=confident_joint,
            thresholds=thresholds,
            **opts,
        )
    codes, cls = encode_labels(labels, _column_classes(labels, pred_probs, classes))
    if len(cls) < 2:
        raise ValueError(f"only one class ({cls[0]!r}): label issues need at least two classes")
    if len(np.unique(codes)) < 2:
        raise ValueError(
            f"every label is {cls[int(codes[0])]!r}: label issues need samples of at least "
            "two classes"
        )
    probs = _prob_array(pred_probs, len(codes), len(cls))
    index = check_ids(ids, len(codes))
    rank = opts.pop("rank_by")
    support = opts.pop("min_support")
    return _issues_frame(
        codes,
        probs,
        cls,
        index,
        rank,
        support,
        confident_joint=confident_joint,
        thresholds=thresholds,
        **opts,
    )


def _issues_frame(
    codes: np.ndarray,
    probs: np.ndarray,
    cls: list[Any],
    index: pd.Index,
    rank_by: str = "self_confidence",
    min_support: float = MIN_SUPPORT,
    **options: Any,
) -> pd.DataFrame:
    """The result frame of :func:`find_label_issues` (validated inputs; ``options`` go to
    the flagging: filter_by, frac_noise, num_to_remove_per_class, min_examples_per_class,
    confident_joint)."""
    q = np.asarray(_quality(codes, probs, rank_by), dtype=np.float64)
    pred = _predicted(codes, probs)
    flagged = _flags(codes, probs, min_support=min_support, **options)
    # flagged first, then by quality, ties by position: one stable sort by quality, split
    order = np.argsort(q, kind="stable")
    order = np.concatenate([order[flagged[order]], order[~flagged[order]]])
    labels = _class_values(cls)
    frame = pd.DataFrame(
        {
            "given_label": labels[codes[order]],
            "suggested_label": labels[pred[order]],
            "label_quality": q[order],
            "is_issue": flagged[order],
        },
        index=index[order],
    )
    if labels.dtype == object:
        _restore_dtype(frame, cls)
    return frame


def _class_values(cls: list[Any]) -> np.ndarray:
    """The classes as an array of their natural dtype (int, str, ...), else of objects."""
    try:
        dtype = pd.Series(cls).dtype
    except (TypeError, ValueError):  # pragma: no cover
        dtype = np.dtype(object)
    if isinstance(dtype, np.dtype) and dtype.kind != "O":
        return np.asarray(cls, dtype=dtype)
    out = np.empty(len(cls), dtype=object)
    out[:] = cls
    return out


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
