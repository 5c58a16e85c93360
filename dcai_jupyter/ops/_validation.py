"""Input checks shared by the label-issue kernels: labels to class codes, probabilities, ids.

Every public array-in function validates through these, so the errors read the same
wherever a user calls from, and say what to pass instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PROB_SUM_TOL", "check_ids", "check_probs", "encode_labels"]

#: rows of ``pred_probs`` must sum to 1 within this tolerance
PROB_SUM_TOL = 1e-3


def encode_labels(labels: Any, classes: Sequence[Any] | None) -> tuple[np.ndarray, list[Any]]:
    """Map label values to column indices of ``classes`` (default: sorted unique labels)."""
    if isinstance(labels, (str, bytes)) or np.ndim(labels) != 1:
        raise ValueError(
            f"labels must be a 1-D sequence of class values; got shape {np.shape(labels)}"
        )
    arr = pd.Series(
        np.asarray(labels, dtype=object)
        if not isinstance(labels, pd.Series)
        else labels.to_numpy(dtype=object),
        dtype=object,
    )
    if len(arr) == 0:
        raise ValueError("labels is empty: there is nothing to check")
    missing = np.flatnonzero(pd.isna(arr).to_numpy())
    if len(missing):
        raise ValueError(
            f"labels has {len(missing)} missing value(s) (NaN/None) at positions "
            f"{missing[:10].tolist()}: give those samples a label or drop them first"
        )
    if classes is None:
        uniq = pd.unique(arr)
        try:
            classes = sorted(uniq.tolist())
        except TypeError:
            raise ValueError(
                f"labels mix types that cannot be sorted ({sorted({type(v).__name__ for v in uniq})}); "
                "pass classes= in the order of the pred_probs columns"
            ) from None
    else:
        classes = list(classes)
        if len(classes) == 0:
            raise ValueError("classes is empty: pass the class values of the pred_probs columns")
        if pd.Index(classes).has_duplicates:
            raise ValueError(f"classes has duplicate values: {classes}")
    codes = pd.Index(classes).get_indexer(arr)
    if (codes < 0).any():
        outside = pd.unique(arr[codes < 0])[:10].tolist()
        raise ValueError(
            f"labels {outside} are not in classes {classes[:20]}: pass classes= listing every "
            "label value, in the order of the pred_probs columns"
        )
    return codes.astype(np.int64), list(classes)


def check_probs(pred_probs: Any, n: int, k: int) -> np.ndarray:
    """``pred_probs`` as an (n, k) float64 array whose rows sum to 1; clear errors otherwise.

    Rows within ``PROB_SUM_TOL`` of 1 are renormalised exactly; values a hair outside
    [0, 1] (rounding) are clipped.
    """
    try:
        p = np.asarray(pred_probs, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("pred_probs must be a numeric 2-D array of probabilities") from None
    if p.ndim != 2:
        raise ValueError(f"pred_probs must be 2-D (n_samples, n_classes); got shape {p.shape}")
    if p.shape[0] != n:
        raise ValueError(
            f"pred_probs has {p.shape[0]} rows but there are {n} labels: one row per sample"
        )
    if p.shape[1] != k:
        raise ValueError(
            f"pred_probs has {p.shape[1]} columns but there are {k} classes: one column per "
            "class, in the order of classes= (default: the sorted unique labels)"
        )
    bad = ~np.isfinite(p).all(axis=1)
    if bad.any():
        raise ValueError(f"pred_probs has NaN/inf in rows {np.flatnonzero(bad)[:10].tolist()}")
    if (p < -1e-9).any() or (p > 1 + 1e-9).any():
        raise ValueError("pred_probs has values outside [0, 1]: pass probabilities, not scores")
    sums = p.sum(axis=1)
    off = np.abs(sums - 1.0) > PROB_SUM_TOL
    if off.any():
        rows = np.flatnonzero(off)[:5].tolist()
        raise ValueError(
            f"pred_probs rows must sum to 1 (rows {rows} sum to {np.round(sums[rows], 4).tolist()}): "
            "pass predict_proba output, or normalise with p / p.sum(axis=1, keepdims=True)"
        )
    return np.clip(p, 0.0, 1.0) / sums[:, None]


def check_ids(ids: Any, n: int) -> pd.Index:
    """``n`` unique sample ids as an index named ``sample_id`` (default ``0..n-1``)."""
    if ids is None:
        return pd.RangeIndex(n, name="sample_id")
    idx = pd.Index(np.asarray(ids) if not isinstance(ids, pd.Index) else ids, name="sample_id")
    if len(idx) != n:
        raise ValueError(f"ids has {len(idx)} values but there are {n} labels")
    if idx.has_duplicates:
        dup = idx[idx.duplicated()].unique()[:10].tolist()
        raise ValueError(f"ids must be unique; {dup} appear more than once")
    return idx
