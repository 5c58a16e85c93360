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

from ._cl_joint import (
    _calibrate,
    _check_thresholds,
    _column_classes,
    _confident_counts,
    _encode,
    _prob_array,
)
from ._cl_prune import (
    _PRUNE_FILTERS,
    FILTER_BY,
    MIN_SUPPORT,
    RANK_BY,
    _flags,
    _kept_thresholds,
    _predicted,
    _quality,
)
from ._multilabel import is_multi_label, multilabel_issues, multilabel_joint
from ._validation import check_ids, encode_labels

__all__ = [
    "FILTER_BY",
    "MIN_SUPPORT",
    "RANK_BY",
    "confident_joint",
    "find_label_issues",
    "label_quality_scores",
]


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
    if isinstance(t, str):  # "kept"
        t = _kept_thresholds(codes, probs)
    cj, off = _confident_counts(codes, probs, thresholds=t)
    if calibrate:
        cj = _calibrate(cj, np.bincount(codes, minlength=probs.shape[1]))
    return (cj, off) if return_indices_of_off_diagonals else cj


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
    thresholds: Sequence[float] | str | None = None,
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
    thresholds : sequence of K floats or "kept", optional
        Per-class thresholds of the confident joint, in column order (as
        ``cleanlab.count.compute_confident_joint(thresholds=...)``): a sample counts as
        confidently of class ``j`` when ``p_j >= thresholds[j] - 1e-6``. Default: the mean
        ``p_j`` over the samples labelled ``j`` (cleanlab's). ``"kept"`` (this project's
        rule): the mean over the samples labelled ``j`` that the default count does not
        flag, so the wrong labels in class ``j`` do not pull its threshold down (see Notes).
        Used by every filter that counts the joint (the flags equal cleanlab's with
        ``confident_joint=compute_confident_joint(labels, pred_probs, thresholds=...)``;
        ``"confident_learning"`` flags the off-diagonal samples of that joint).

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

    *Thresholds from the kept samples* (``thresholds="kept"``; what
    ``ds.find_label_issues()`` uses when its probabilities come from models fit once on
    every labeled row). cleanlab's threshold of class ``j`` averages ``p_j`` over every
    sample labelled ``j``, the wrong labels included, which pull it down by their share of
    the class. Where a class holds many of the errors (a rare class that most flips land
    in: with 20 % of each class of a 84/16 table flipped, 57 % of the rare label is wrong),
    samples of the other classes then count as confidently ``j``: the joint under-counts
    the errors given ``j`` and over-counts those given the other classes. ``"kept"`` counts
    once with cleanlab's thresholds, takes each class's mean over the samples that count
    keeps, and counts again. On the nine tables of ``benchmarks/real_tables.py`` it raised
    the mean F1 of the flags on cleanlab's reference pipelines' probabilities too
    (logistic regression 0.584 -> 0.621, gradient boosting 0.537 -> 0.561); on
    probabilities already refit without the flagged samples (the default ensemble's
    refining passes on numeric data) it changed little, and is not used there.
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
