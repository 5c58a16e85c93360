"""Fix labels: find samples whose label is probably wrong, and suggest the right one.

Layers
------
- ``find_label_issues(labels, pred_probs)``: pure, array in / frame out. Confident
  learning (per-class confidence thresholds, a calibrated confident joint, pruning by
  noise rate), plus samples whose given label has almost no support.
- ``out_of_sample_pred_probs(X, y)``: stratified K-fold probabilities for any scikit-learn
  classifier with ``predict_proba``, or (``model=None``) the default ensemble: a
  leave-one-out k-nearest-neighbour vote on standardised features averaged with a small
  histogram gradient-boosting model fit per fold.
- ``default_label_issues(X, y)``: the two above together.
- ``find_dataset_label_issues(ds)`` / ``accept_suggestions(ds, issues)``: the recorded
  ``Dataset`` methods.
- ``label_issue_chart(issues)``: an altair chart of given vs suggested label.
"""

from __future__ import annotations

import hashlib
import json
import numbers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._features import feature_matrix

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset

__all__ = [
    "accept_suggestions",
    "default_label_issues",
    "find_dataset_label_issues",
    "find_label_issues",
    "label_issue_chart",
    "label_quality_scores",
    "out_of_sample_pred_probs",
]

#: rows of ``pred_probs`` must sum to 1 within this tolerance
PROB_SUM_TOL = 1e-3
#: a sample whose given label gets less than this probability, while another class is the
#: most probable, is flagged even when the confident-joint counts are used up
MIN_SUPPORT = 0.05
#: neighbours in the leave-one-out vote (fewer on small data sets)
KNN_K = 20
#: above this many features the kNN vote runs on this many principal components
KNN_MAX_DIMS = 64
#: above this many rows, neighbours are searched among a fixed random subset of this size
KNN_MAX_REFERENCE = 10_000
#: the gradient-boosting member of the default ensemble (small and fast on purpose)
HGB_PARAMS: dict[str, Any] = {
    "max_iter": 12,
    "learning_rate": 0.3,
    "max_leaf_nodes": 15,
    "max_bins": 63,
    "early_stopping": False,
}


# ---------------------------------------------------------------------------- validation
def _encode_labels(labels: Any, classes: Sequence[Any] | None) -> tuple[np.ndarray, list[Any]]:
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


def _check_probs(pred_probs: Any, n: int, k: int) -> np.ndarray:
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


def _check_ids(ids: Any, n: int) -> pd.Index:
    if ids is None:
        return pd.RangeIndex(n, name="sample_id")
    idx = pd.Index(np.asarray(ids) if not isinstance(ids, pd.Index) else ids, name="sample_id")
    if len(idx) != n:
        raise ValueError(f"ids has {len(idx)} values but there are {n} labels")
    if idx.has_duplicates:
        dup = idx[idx.duplicated()].unique()[:10].tolist()
        raise ValueError(f"ids must be unique; {dup} appear more than once")
    return idx


# ---------------------------------------------------------------------------- confident learning
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


def confident_joint(codes: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Calibrated confident joint ``C[given, true]`` (counts; rows sum to the class counts).

    A sample counts towards the class whose probability reaches that class's threshold (the
    mean probability the model gives the class on samples labelled with it); several such
    classes: the most probable.
    """
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
    codes, cls = _encode_labels(labels, classes)
    probs = _check_probs(pred_probs, len(codes), len(cls))
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
        :func:`out_of_sample_pred_probs`); rows sum to 1.
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
    codes, cls = _encode_labels(labels, classes)
    if len(cls) < 2:
        raise ValueError(f"only one class ({cls[0]!r}): label issues need at least two classes")
    if len(np.unique(codes)) < 2:
        raise ValueError(
            f"every label is {cls[int(codes[0])]!r}: label issues need samples of at least "
            "two classes"
        )
    probs = _check_probs(pred_probs, len(codes), len(cls))
    index = _check_ids(ids, len(codes))
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
    cj = confident_joint(codes, probs)
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


# ---------------------------------------------------------------------------- probabilities
def _as_matrix(X: Any) -> np.ndarray:
    if isinstance(X, pd.DataFrame):
        if all(pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t) for t in X.dtypes):
            return X.to_numpy(dtype=np.float64, na_value=np.nan)
        return feature_matrix(X)[0]
    if hasattr(X, "tocsr"):  # scipy sparse: models handle it; the kNN part densifies
        return X
    arr = np.asarray(X)
    if arr.ndim == 1:
        raise ValueError("X must be 2-D (n_samples, n_features); got a 1-D array")
    if arr.ndim > 2:
        arr = arr.reshape(len(arr), -1)
    try:
        return arr.astype(np.float64, copy=False)
    except (TypeError, ValueError):
        raise ValueError(
            "X must be numeric; for a DataFrame with text or categorical columns pass the "
            "DataFrame itself (it is encoded with feature_matrix)"
        ) from None


def _check_cv(codes: np.ndarray, cls: list[Any], cv: int) -> None:
    if isinstance(cv, bool) or not isinstance(cv, numbers.Integral) or cv < 2:
        raise ValueError(f"cv must be an integer number of folds >= 2; got {cv!r}")
    counts = np.bincount(codes, minlength=len(cls))
    present = np.flatnonzero(counts)
    if len(present) < 2:
        raise ValueError(
            f"every label is {cls[int(present[0])]!r}: cross-validated probabilities need "
            "samples of at least two classes"
        )
    small = [int(c) for c in present if counts[c] < cv]
    if small:
        worst = min(small, key=lambda c: counts[c])
        m = int(counts[worst])
        names = ", ".join(f"{cls[c]!r} ({counts[c]})" for c in small[:10])
        hint = (
            f"use cv={m}"
            if m >= 2
            else "add samples of it or remove it (cross-validation needs at least 2 per class)"
        )
        raise ValueError(
            f"class {cls[worst]!r} has only {m} sample(s), fewer than cv={cv} folds "
            f"(classes below {cv}: {names}): {hint}"
        )


def _progress(total: int, enabled: bool, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False)


def _run(
    tasks: list[tuple[Any, Callable[..., Any], tuple[Any, ...]]],
    *,
    n_jobs: int | None,
    progress: bool,
    desc: str,
    prefer: str | None = None,
) -> dict[Any, Any]:
    """Run ``(key, fn, args)`` tasks through joblib, one native thread each, with a bar."""
    from joblib import Parallel, delayed
    from threadpoolctl import threadpool_limits

    out: dict[Any, Any] = {}
    with threadpool_limits(1), _progress(len(tasks), progress, desc) as bar:
        par = Parallel(n_jobs=n_jobs, prefer=prefer, return_as="generator")
        for key, value in par(delayed(_limited)(key, fn, args) for key, fn, args in tasks):
            out[key] = value
            bar.update(1)
    return out


def _limited(key: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, Any]:
    from threadpoolctl import threadpool_limits

    # threadpoolctl's OpenMP limit is per thread: set it inside every worker.
    with threadpool_limits(1):
        return key, fn(*args)


def _fit_predict(
    model: Any, X: Any, y: np.ndarray, train: np.ndarray, test: np.ndarray, k: int
) -> np.ndarray:
    from sklearn.base import clone

    est = clone(model).fit(X[train], y[train])
    p = np.asarray(est.predict_proba(X[test]), dtype=np.float64)
    out = np.zeros((len(test), k))
    cols = np.asarray(getattr(est, "classes_", np.arange(p.shape[1])), dtype=np.int64)
    out[:, cols] = p
    return out


def _folds(
    codes: np.ndarray, cv: int, random_state: int | None
) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    skf = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    return list(skf.split(np.zeros(len(codes)), codes))


def out_of_sample_pred_probs(
    X: Any,
    y: Any,
    *,
    model: Any = None,
    cv: int = 5,
    n_jobs: int | None = None,
    random_state: int | None = 0,
    progress: bool = True,
    classes: Sequence[Any] | None = None,
) -> np.ndarray:
    """Out-of-sample predicted probabilities by stratified K-fold cross-validation.

    Parameters
    ----------
    X : array-like of shape (n, d) or DataFrame
        Features. A DataFrame with non-numeric columns is encoded with
        :func:`~dcai_jupyter.ops.feature_matrix`.
    y : sequence of length n
        Labels (any class values; no missing values).
    model : scikit-learn classifier with ``predict_proba``, optional
        Cloned and fit once per fold. ``None``: the default ensemble, a leave-one-out
        k-nearest-neighbour vote (k = 20) on standardised features (at most 64 principal
        components; above 10,000 rows the neighbours come from a fixed random subset of
        10,000 reference rows, so the cost grows linearly) averaged with a small
        ``HistGradientBoostingClassifier`` fit per fold.
    cv : int
        Number of stratified folds (every class needs at least ``cv`` samples).
    n_jobs : int, optional
        Passed to joblib (``None`` = 1, ``-1`` = all cores). Every task runs with one
        native (BLAS/OpenMP) thread.
    random_state : int, optional
        Seed of the fold shuffle and of the models.
    progress : bool
        Show a progress bar (a notebook widget in Jupyter).
    classes : sequence, optional
        Column order of the result (default: the sorted unique labels).

    Returns
    -------
    np.ndarray of shape (n, K)
        Row i: the probabilities of each class for sample i from a model that did not see it.
    """
    codes, cls = _encode_labels(y, classes)
    Xm = _as_matrix(X)
    if Xm.shape[0] != len(codes):
        raise ValueError(f"X has {Xm.shape[0]} rows but y has {len(codes)} labels")
    _check_cv(codes, cls, cv)
    if model is None:
        return _ensemble_probs(Xm, codes, len(cls), cv, n_jobs, random_state, progress)
    if not hasattr(model, "predict_proba"):
        raise TypeError(
            f"model {type(model).__name__} has no predict_proba: pass a classifier that "
            "predicts probabilities (e.g. LogisticRegression, or SVC(probability=True))"
        )
    folds = _folds(codes, cv, random_state)
    tasks = [
        (i, _fit_predict, (model, Xm, codes, tr, te, len(cls))) for i, (tr, te) in enumerate(folds)
    ]
    res = _run(tasks, n_jobs=n_jobs, progress=progress, desc=f"{cv}-fold {type(model).__name__}")
    probs = np.zeros((len(codes), len(cls)))
    for i, (_, te) in enumerate(folds):
        probs[te] = res[i]
    return probs


def _standardize(X: Any) -> np.ndarray:
    if hasattr(X, "toarray"):
        X = X.toarray()
    X = np.asarray(X, dtype=np.float64)
    finite = np.isfinite(X)
    if not finite.all():
        med = np.nanmedian(np.where(finite, X, np.nan), axis=0)
        X = np.where(finite, X, np.nan_to_num(med)[None, :])
    mu = X.mean(axis=0)
    sd = X.std(axis=0)
    sd[sd == 0] = 1.0
    Z = (X - mu) / sd
    if Z.shape[1] > KNN_MAX_DIMS:
        from sklearn.decomposition import PCA

        Z = PCA(n_components=KNN_MAX_DIMS, svd_solver="randomized", random_state=0).fit_transform(Z)
    return np.ascontiguousarray(Z, dtype=np.float32)


def _neighbours(Z: np.ndarray, ref: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Indices (into Z) of the k nearest reference points of ``rows``, excluding the row itself."""
    from sklearn.neighbors import NearestNeighbors

    kk = min(k + 1, len(ref))
    nn = NearestNeighbors(n_neighbors=kk, algorithm="brute").fit(Z[ref])
    got = ref[nn.kneighbors(Z[rows], return_distance=False)]
    is_self = got == rows[:, None]
    # drop the row itself where found (duplicates may hide it), else the farthest neighbour
    drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), kk - 1)
    keep = np.ones(got.shape, dtype=bool)
    keep[np.arange(len(rows)), drop] = False
    return got[keep].reshape(len(rows), -1)


def _knn_task(
    Z: np.ndarray, ref: np.ndarray, rows: np.ndarray, k: int, codes: np.ndarray, K: int
) -> np.ndarray:
    nb = _neighbours(Z, ref, rows, k)
    votes = np.zeros((len(rows), K))
    for j in range(nb.shape[1]):
        np.add.at(votes, (np.arange(len(rows)), codes[nb[:, j]]), 1.0)
    # one pseudo-vote spread evenly: no class gets probability 0
    return (votes + 1.0 / K) / (nb.shape[1] + 1.0)


def _hgb_task(
    X: Any, codes: np.ndarray, train: np.ndarray, test: np.ndarray, K: int, seed: int | None
) -> np.ndarray:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(random_state=seed, **HGB_PARAMS)
    return _fit_predict(model, X, codes, train, test, K)


def _ensemble_probs(
    X: Any,
    codes: np.ndarray,
    K: int,
    cv: int,
    n_jobs: int | None,
    random_state: int | None,
    progress: bool,
) -> np.ndarray:
    n = len(codes)
    Z = _standardize(X)
    k = int(max(1, min(KNN_K, n - 1, max(5, round(np.sqrt(n))))))
    rng = np.random.default_rng(random_state)
    ref = (
        np.arange(n)
        if n <= KNN_MAX_REFERENCE
        else np.sort(rng.choice(n, KNN_MAX_REFERENCE, replace=False))
    )
    n_chunks = max(2, int(np.ceil(n / 10_000)))
    chunks = np.array_split(np.arange(n), n_chunks)
    Xh = X if hasattr(X, "tocsr") else np.asarray(X, dtype=np.float32)
    folds = _folds(codes, cv, random_state)
    tasks: list[tuple[Any, Callable[..., Any], tuple[Any, ...]]] = [
        (("hgb", i), _hgb_task, (Xh, codes, tr, te, K, random_state))
        for i, (tr, te) in enumerate(folds)
    ]
    tasks += [(("knn", i), _knn_task, (Z, ref, rows, k, codes, K)) for i, rows in enumerate(chunks)]
    res = _run(tasks, n_jobs=n_jobs, progress=progress, desc="label issues", prefer="threads")
    p_knn = np.vstack([res[("knn", i)] for i in range(len(chunks))])
    p_hgb = np.zeros((n, K))
    for i, (_, te) in enumerate(folds):
        p_hgb[te] = res[("hgb", i)]
    return (p_knn + p_hgb) / 2.0


def default_label_issues(
    X: Any,
    y: Any,
    *,
    cv: int = 5,
    n_jobs: int | None = None,
    random_state: int | None = 0,
    progress: bool = True,
    ids: Any = None,
    classes: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """The default pipeline: ensemble out-of-sample probabilities, then :func:`find_label_issues`.

    Parameters are those of :func:`out_of_sample_pred_probs` (with ``model=None``) and
    :func:`find_label_issues`. Returns the same frame as :func:`find_label_issues`.
    """
    codes, cls = _encode_labels(y, classes)
    index = _check_ids(ids, len(codes))
    probs = out_of_sample_pred_probs(
        X,
        y,
        cv=cv,
        n_jobs=n_jobs,
        random_state=random_state,
        progress=progress,
        classes=cls,
    )
    return _issues_frame(codes, probs, cls, index, "self_confidence", MIN_SUPPORT)


# ---------------------------------------------------------------------------- Dataset glue
def _model_params(model: Any) -> dict[str, Any]:
    if model is None:
        return {
            "model": "default ensemble (kNN vote + HistGradientBoosting)",
            "knn_k": KNN_K,
            "hgb": dict(HGB_PARAMS),
        }
    out: dict[str, Any] = {"model": type(model).__name__}
    try:
        params = model.get_params(deep=False)
    except Exception:  # not a scikit-learn estimator
        return out
    safe: dict[str, Any] = {}
    for key, v in params.items():
        if v is None or isinstance(v, (bool, int, float, str)):
            safe[key] = v
        else:
            safe[key] = type(v).__name__ if hasattr(v, "get_params") else repr(v)[:200]
    out["model_params"] = safe
    return out


def _dataset_features(ds: Dataset, features: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    if features is not None:
        cols = list(features)
        frame = pd.DataFrame({c: ds.column(c) for c in cols})
        return feature_matrix(frame, cols)
    cols = [c for c in ds.feature_columns if c != ds.label]
    text = getattr(ds, "text_column", None)
    image = getattr(ds, "image_column", None)
    if text and text not in cols and text != ds.label:
        cols.append(text)
    # An image column beside other features usually repeats them (pixels as columns) and is
    # large: it is used only when nothing else is usable.
    if cols:
        frame = pd.DataFrame({c: ds.column(c) for c in cols})
        try:
            return feature_matrix(frame, cols, on_unusable="skip")
        except ValueError:
            if not image or image in cols:
                raise
    if image and image != ds.label:
        return feature_matrix(pd.DataFrame({image: ds.column(image)}), [image])
    raise ValueError(
        "the dataset has no feature column (only the label): add feature columns, or "
        "compute pred_probs yourself and call dcai_jupyter.find_label_issues(labels, pred_probs)"
    )


def scores_digest(issues: pd.DataFrame) -> str:
    """sha256 (hex) of the ``label_quality`` values (float64, in sample-id order)."""
    q = issues["label_quality"].sort_index().to_numpy(dtype=np.float64)
    return hashlib.sha256(np.ascontiguousarray(q).tobytes()).hexdigest()


def find_dataset_label_issues(
    ds: Dataset,
    *,
    model: Any = None,
    cv: int = 5,
    n_jobs: int | None = None,
    random_state: int | None = 0,
    progress: bool = True,
    features: Sequence[str] | None = None,
) -> pd.DataFrame:
    """``ds.find_label_issues()``: label issues of a Dataset, recorded in its history.

    Parameters
    ----------
    ds
        The dataset.
    model
        A scikit-learn classifier with ``predict_proba`` (``None``: the default ensemble).
    cv, n_jobs, random_state, progress
        As in :func:`out_of_sample_pred_probs`.
    features
        Columns to use. Default: the feature columns plus the text column (columns that
        cannot be encoded are left out with a warning); the image column (flattened) when
        nothing else is usable.

    Returns
    -------
    pd.DataFrame
        As :func:`find_label_issues`, indexed by sample id; ``attrs`` holds the dataset
        version, the features used and the digest. Rows without a label (an unlabeled
        pool) are left out. An event ``find_label_issues`` with the parameters and a
        summary (``digest``, ``n_issues``, ``n_rows``, ``n_unlabeled``, ``version``) is
        recorded in ``ds.history``.
    """
    labels = np.asarray(ds.column(ds.label), dtype=object)
    if len(labels) == 0:
        raise ValueError("the dataset is empty: there is nothing to check")
    # Unlabeled rows (an active-learning pool) have no label to be wrong: leave them out.
    labeled = ~pd.isna(pd.Series(labels, dtype=object)).to_numpy()
    if not labeled.any():
        raise ValueError("no sample has a label: there is nothing to check")
    ids = ds.ids[labeled]
    labels = labels[labeled]
    _, present = _encode_labels(labels, _present(ds, labels))
    X, used = _dataset_features(ds, features)
    X = X[labeled]
    probs = out_of_sample_pred_probs(
        X,
        labels,
        model=model,
        cv=cv,
        n_jobs=n_jobs,
        random_state=random_state,
        progress=progress,
        classes=present,
    )
    issues = find_label_issues(labels, probs, classes=present, ids=ids)
    digest = scores_digest(issues)
    version = int(ds.version)
    params = {
        **_model_params(model),
        "cv": int(cv),
        "n_jobs": n_jobs,
        "random_state": random_state,
        "features": [str(c) for c in used],
    }
    summary = {
        "digest": digest,
        "n_issues": int(issues["is_issue"].sum()),
        "n_rows": len(issues),
        "n_unlabeled": int((~labeled).sum()),
        "version": version,
        "top_ids": [int(i) for i in issues.index[issues["is_issue"].to_numpy()][:20]],
    }
    ds.history.record_event("find_label_issues", _json_safe(params), summary)
    issues.attrs.update({"version": version, "features": list(used), "digest": digest})
    return issues


def _present(ds: Dataset, labels: np.ndarray) -> list[Any]:
    """Declared classes that occur in the labels, in declared order."""
    seen = set(pd.unique(pd.Series(labels, dtype=object)).tolist())
    return [c for c in ds.classes if c in seen]


def _json_safe(obj: Any) -> Any:
    return json.loads(
        json.dumps(obj, default=lambda v: v.item() if hasattr(v, "item") else repr(v))
    )


def accept_suggestions(
    ds: Dataset,
    issues: pd.DataFrame,
    *,
    top: int | None = None,
    reason: str | None = None,
) -> int:
    """``ds.accept_suggestions(issues, top=20)``: relabel flagged samples to their suggestion.

    Takes the flagged rows of ``issues`` (``is_issue``; all rows when there is no such
    column) in the frame's order (most suspicious first), the first ``top`` of them, and
    relabels them to ``suggested_label`` as one recorded change (op
    ``accept_suggestions``). Samples whose label was changed since ``issues`` was computed
    (current label differs from ``given_label``) are left alone.

    Returns
    -------
    int
        The new dataset version (unchanged when there was nothing to change).

    Raises
    ------
    TypeError / ValueError
        ``issues`` is not a frame with ``suggested_label``; bad ``top``.
    KeyError
        Sample ids in ``issues`` that are not in the dataset (e.g. removed since).
    """
    if not isinstance(issues, pd.DataFrame):
        raise TypeError(
            f"issues must be the DataFrame from find_label_issues; got {type(issues).__name__}"
        )
    if "suggested_label" not in issues.columns:
        raise ValueError(
            "issues has no 'suggested_label' column: pass the frame returned by "
            f"ds.find_label_issues() (columns here: {list(issues.columns)})"
        )
    if top is not None and (
        isinstance(top, bool) or not isinstance(top, numbers.Integral) or top < 0
    ):
        raise ValueError(f"top must be a non-negative integer or None; got {top!r}")
    rows = issues
    if "is_issue" in rows.columns:
        rows = rows[rows["is_issue"].fillna(False).astype(bool).to_numpy()]
    if top is not None:
        rows = rows.iloc[: int(top)]
    if len(rows) == 0:
        return int(ds.version)
    try:
        ids = np.asarray(rows.index, dtype=np.int64)
    except (TypeError, ValueError):
        raise ValueError("issues must be indexed by sample id (integers)") from None
    try:
        pos = ds.positions(ids)
    except KeyError:
        known = set(ds.ids.tolist())
        gone = [int(i) for i in ids if int(i) not in known]
        raise KeyError(
            f"{len(gone)} sample id(s) in issues are not in the dataset (removed since the "
            f"issues were found?): {gone[:10]}; run ds.find_label_issues() again"
        ) from None
    suggested = rows["suggested_label"].to_numpy(dtype=object)
    if pd.isna(pd.Series(suggested, dtype=object)).any():
        raise ValueError("issues has missing suggested_label values for the selected rows")
    keep = np.ones(len(ids), dtype=bool)
    if "given_label" in rows.columns:
        current = pd.Series(np.asarray(ds.column(ds.label), dtype=object)[pos], dtype=object)
        given = pd.Series(rows["given_label"].to_numpy(dtype=object), dtype=object)
        keep = (current == given).to_numpy(dtype=bool)
    if not keep.any():
        return int(ds.version)
    params = {
        "top": None if top is None else int(top),
        "n": int(keep.sum()),
        "skipped_changed_since": int((~keep).sum()),
        "issues_version": issues.attrs.get("version"),
        "digest": issues.attrs.get("digest"),
    }
    return int(
        ds._relabel(
            ids[keep], list(suggested[keep]), op="accept_suggestions", params=params, reason=reason
        )
    )


# ---------------------------------------------------------------------------- chart
def label_issue_chart(issues: pd.DataFrame, *, flagged_only: bool = True) -> Any:
    """An altair heat map: given label (rows) vs suggested label (columns) of flagged samples.

    Parameters
    ----------
    issues
        The frame from :func:`find_label_issues`.
    flagged_only
        Count only rows with ``is_issue`` (default) or every row.

    Returns
    -------
    altair.LayerChart
        Cells coloured and labelled by count; tooltips give the pair and the mean quality.
    """
    import altair as alt

    need = {"given_label", "suggested_label"}
    if not isinstance(issues, pd.DataFrame) or not need <= set(issues.columns):
        raise ValueError("label_issue_chart takes the frame from find_label_issues")
    rows = issues
    if flagged_only and "is_issue" in rows.columns:
        rows = rows[rows["is_issue"].astype(bool).to_numpy()]
    agg = {"count": ("suggested_label", "size")}
    if "label_quality" in rows.columns:
        agg["mean_quality"] = ("label_quality", "mean")
    data = (
        pd.DataFrame(
            {
                "given_label": rows["given_label"].astype(str),
                "suggested_label": rows["suggested_label"].astype(str),
                **(
                    {"label_quality": rows["label_quality"]}
                    if "label_quality" in rows.columns
                    else {}
                ),
            }
        )
        .groupby(["given_label", "suggested_label"], as_index=False)
        .agg(**agg)
    )
    order = sorted(set(data["given_label"]) | set(data["suggested_label"]))
    tooltip: list[Any] = ["given_label", "suggested_label", "count"]
    if "mean_quality" in data.columns:
        tooltip.append(alt.Tooltip("mean_quality:Q", format=".2f"))
    base = alt.Chart(data).encode(
        x=alt.X("suggested_label:N", sort=order, title="suggested label"),
        y=alt.Y("given_label:N", sort=order, title="given label"),
    )
    heat = base.mark_rect().encode(
        color=alt.Color("count:Q", scale=alt.Scale(scheme="oranges"), title="samples"),
        tooltip=tooltip,
    )
    text = base.mark_text(baseline="middle").encode(text="count:Q")
    n = int(data["count"].sum()) if len(data) else 0
    return (heat + text).properties(title=f"Label issues: given vs suggested label ({n} samples)")
