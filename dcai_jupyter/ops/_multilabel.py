"""Confident learning for multi-label data: each sample may have several classes.

``labels`` is a sequence of lists (tuples, sets, arrays) of classes, ``pred_probs`` has one
independent probability per class (rows need not sum to 1). As cleanlab's
``filter.find_label_issues(..., multi_label=True)``: each class is checked one-vs-rest (a
binary problem ``[1 - p_c, p_c]`` with label "has c"), and a sample is an issue when any of
its classes is. The label quality is cleanlab's multi-label score: the per-class binary
scores, sorted from best to worst, folded by an exponential moving average (alpha 0.8).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._validation import check_ids

__all__ = ["is_multi_label", "multilabel_issues", "multilabel_joint"]

#: the forgetting factor of cleanlab's multi-label score aggregation
EMA_ALPHA = 0.8
_LOW = ("low_normalized_margin", "low_self_confidence")


def is_multi_label(labels: Any) -> bool:
    """True when ``labels`` is a sequence whose items are lists/tuples/sets/arrays."""
    if isinstance(labels, (str, bytes, np.ndarray)) and not (
        isinstance(labels, np.ndarray) and labels.dtype == object
    ):
        return False
    try:
        items = list(labels)
    except TypeError:
        return False
    return len(items) > 0 and all(
        isinstance(v, (list, tuple, set, frozenset, np.ndarray)) for v in items
    )


def _one_hot(
    labels: Any, pred_probs: Any, classes: Sequence[Any] | None
) -> tuple[np.ndarray, list[Any], np.ndarray]:
    """``(Y, classes, P)``: the 0/1 matrix of the given classes, the class of each column,
    and the validated probabilities (own float dtype)."""
    p = np.asarray(pred_probs)
    if p.ndim != 2 or p.dtype.kind not in "fiu":
        raise ValueError(
            "pred_probs must be a numeric 2-D array (n_samples, n_classes) with one "
            f"probability per class; got shape {np.shape(pred_probs)}"
        )
    if p.dtype not in (np.float32, np.float64):
        p = p.astype(np.float64)
    items = [list(v) for v in labels]
    n, k = p.shape
    if len(items) != n:
        raise ValueError(f"pred_probs has {n} rows but there are {len(items)} labels")
    if not np.isfinite(p).all() or (p < -1e-6).any() or (p > 1 + 1e-6).any():
        raise ValueError("pred_probs must hold probabilities in [0, 1] (one per class)")
    p = np.clip(p, 0, 1)
    if classes is None:
        if isinstance(pred_probs, pd.DataFrame):
            cls: list[Any] = list(pred_probs.columns)
        else:
            bad = sorted(
                {
                    v
                    for row in items
                    for v in row
                    if not isinstance(v, numbers.Integral)
                    or isinstance(v, bool)
                    or not 0 <= int(v) < k
                },
                key=repr,
            )
            if bad:
                raise ValueError(
                    f"labels {bad[:10]} are not columns of pred_probs: multi-label labels are "
                    f"lists of column indices 0..{k - 1} (as in cleanlab); pass classes= (the "
                    "class of each column) to use other values"
                )
            cls = list(range(k))
    else:
        cls = list(classes)
    if len(cls) != k:
        raise ValueError(f"pred_probs has {k} columns but classes has {len(cls)} values")
    index = pd.Index(cls)
    y = np.zeros((n, k), dtype=np.int64)
    for i, row in enumerate(items):
        cols = index.get_indexer(row) if row else np.zeros(0, dtype=np.int64)
        if (cols < 0).any():
            raise ValueError(
                f"sample {i} has labels {[v for v, c in zip(row, cols, strict=True) if c < 0][:10]} that "
                f"are not in classes {cls[:20]}"
            )
        y[i, cols] = 1
    return y, cls, p


def _binary(p: np.ndarray) -> np.ndarray:
    """cleanlab's ``stack_complement``: ``[1 - p, p]``, in the dtype of ``p``."""
    return np.vstack((1 - p, p)).T


def multilabel_joint(
    labels: Any,
    pred_probs: Any,
    classes: Sequence[Any] | None,
    *,
    calibrate: bool,
    thresholds: Any,
    return_indices_of_off_diagonals: bool,
) -> Any:
    """Per class the one-vs-rest confident joint, shape ``(K, 2, 2)`` (and the off-diagonal
    positions per class), as ``cleanlab.count.compute_confident_joint(multi_label=True)``."""
    from ._cl_joint import _calibrate, _check_thresholds, _confident_counts

    y, _, p = _one_hot(labels, pred_probs, classes)
    t = _check_thresholds(thresholds, 2)
    joints = np.zeros((p.shape[1], 2, 2), dtype=np.int64)
    off = []
    for c in range(p.shape[1]):
        cj, idx = _confident_counts(y[:, c], _binary(p[:, c]), thresholds=t)
        joints[c] = _calibrate(cj, np.bincount(y[:, c], minlength=2)) if calibrate else cj
        off.append(idx)
    return (joints, off) if return_indices_of_off_diagonals else joints


def _class_scores(y: np.ndarray, p: np.ndarray, method: str) -> np.ndarray:
    """Per sample and class, the binary label-quality score of "has class c" (n x K), in
    float64 as cleanlab stores them (so the aggregation is done in float64)."""
    from ._cl_prune import _quality

    return np.column_stack(
        [_quality(y[:, c], _binary(p[:, c]), method) for c in range(y.shape[1])]
    ).astype(np.float64)


def _ema(scores: np.ndarray, alpha: float = EMA_ALPHA) -> np.ndarray:
    """cleanlab's exponential moving average of each row's scores, best first."""
    s = np.fliplr(np.sort(scores, axis=1)).T
    out = s[0]
    for s_i in s[1:]:
        out = alpha * s_i + (1 - alpha) * out
    return out


def multilabel_issues(
    labels: Any,
    pred_probs: Any,
    classes: Sequence[Any] | None,
    ids: Any,
    *,
    filter_by: str,
    frac_noise: float,
    num_to_remove_per_class: np.ndarray | None,
    min_examples_per_class: int,
    confident_joint: Any,
    rank_by: str,
    min_support: float,
    thresholds: Any,
) -> pd.DataFrame:
    """The frame of :func:`~dcai_jupyter.ops.find_label_issues` for multi-label input
    (validated options): ``given_label`` and ``suggested_label`` are tuples of classes."""
    from ._cl_prune import _flags, _predicted

    y, cls, p = _one_hot(labels, pred_probs, classes)
    n, k = y.shape
    index = check_ids(ids, n)
    if num_to_remove_per_class is not None:
        ntr = np.broadcast_to(num_to_remove_per_class, (k,))
    joints = None
    if confident_joint is not None:
        joints = np.asarray(confident_joint)
        if joints.shape != (k, 2, 2):
            raise ValueError(
                f"confident_joint must be {k} x 2 x 2 for multi-label data (one one-vs-rest "
                "joint per class, as confident_joint(labels_as_lists, ...) returns); got "
                f"shape {joints.shape}"
            )
    if thresholds is not None:
        raise ValueError(
            "thresholds= is not supported for multi-label data (each class is a binary "
            "problem with its own thresholds); leave it out"
        )
    per_class = np.zeros((n, k), dtype=bool)
    suggested = np.zeros((n, k), dtype=bool)
    base = "confident_learning" if filter_by in _LOW else filter_by
    for c in range(k):
        pb = _binary(p[:, c])
        per_class[:, c] = _flags(
            y[:, c],
            pb,
            filter_by=base,
            frac_noise=frac_noise,
            num_to_remove_per_class=(
                None if num_to_remove_per_class is None else np.array([int(ntr[c]), 0])
            ),
            min_examples_per_class=min_examples_per_class,
            confident_joint=None if joints is None else joints[c],
            min_support=0.0 if filter_by in _LOW else min_support,
        )
        suggested[:, c] = _predicted(y[:, c], pb) == 1
    flagged: np.ndarray = np.asarray(per_class.any(axis=1))
    q = _ema(_class_scores(y, p, rank_by)).astype(np.float64)
    if filter_by in _LOW:  # the lowest scores, as many as confident learning flags
        self_conf = _ema(_class_scores(y, p, "self_confidence"))
        n_issues = int(flagged.sum())
        flagged = np.zeros(n, dtype=bool)
        flagged[np.argsort(self_conf, kind="stable")[:n_issues]] = True
    order = np.argsort(q, kind="stable")
    order = np.concatenate([order[flagged[order]], order[~flagged[order]]])
    values = np.empty(k, dtype=object)
    values[:] = cls

    def tuples(m: np.ndarray) -> np.ndarray:
        out = np.empty(len(m), dtype=object)
        out[:] = [tuple(values[np.flatnonzero(row)]) for row in m]
        return out

    return pd.DataFrame(
        {
            "given_label": tuples(y[order].astype(bool)),
            "suggested_label": tuples(suggested[order]),
            "label_quality": q[order],
            "is_issue": flagged[order],
        },
        index=index[order],
    )
