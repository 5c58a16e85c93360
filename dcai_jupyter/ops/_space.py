"""The geometry the remove-data operations share: a scaled feature space and neighbours in it.

Near duplicates and outliers are both questions about distances between samples, so both
need features on comparable scales (a column in thousands must not drown one in units)
without letting a column that hardly ever varies dominate (a pixel that is almost always
0, a rarely non-zero count): :func:`scale_columns`. :func:`reduce_dims` keeps the neighbour
search fast on wide data; :func:`nearest` asks the neighbour service
(:mod:`._neighbours`) for each row's nearest other rows.

scikit-learn and threadpoolctl are imported when first used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._features import dataset_feature_matrix
from ._skew import log_if_skewed

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset

__all__ = [
    "as_float_matrix",
    "column_medians",
    "dataset_matrix",
    "log_skewed",
    "nearest",
    "reduce_dims",
    "scale_columns",
    "scale_params",
]

#: a column where at least this share of rows hold one value is scaled by the other rows
MODE_SHARE = 0.5
#: a column with fewer distinct values than this is never put on a log scale
MIN_DISTINCT = 20


def as_float_matrix(X: Any, what: str = "X") -> np.ndarray:
    """``X`` as a finite 2-D float64 matrix (NaN/inf in a column -> that column's median)."""
    if hasattr(X, "toarray"):
        X = X.toarray()
    try:
        M = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{what} must be numeric (n_samples, n_features); encode other columns with "
            "dcai_jupyter.ops.feature_matrix first"
        ) from None
    if M.ndim == 1:
        M = M[:, None]
    if M.ndim != 2:
        raise ValueError(f"{what} must be 2-D (n_samples, n_features); got shape {M.shape}")
    if M.shape[0] == 0:
        raise ValueError(f"{what} has no rows: there is nothing to compare")
    finite = np.isfinite(M)
    if not finite.all():
        M = M.copy()
        for j in np.flatnonzero(~finite.all(axis=0)):
            ok = finite[:, j]
            M[~ok, j] = np.median(M[ok, j]) if ok.any() else 0.0
    return M


def column_medians(X: np.ndarray) -> np.ndarray:
    """``np.median(X, axis=0)``, the same values, from a transposed copy partitioned in place.

    numpy partitions a C-ordered matrix along axis 0 through strided copies: at 1M x 20
    ~0.9 s, ~0.3 s on contiguous columns. The median of each column is the same element (or
    the mean of the same two), so the values are equal bit for bit.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        return np.median(X, axis=0)
    columns = np.array(X.T, order="C", copy=True)  # ours to partition
    return np.median(columns, axis=1, overwrite_input=True)


def scale_params(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The centre and scale per column that :func:`scale_columns` uses, fitted on ``X``."""
    X = np.asarray(X, dtype=np.float64)
    if X.shape[0] == 0:
        return np.zeros(X.shape[1]), np.ones(X.shape[1])
    med = column_medians(X)
    same = X == med
    mostly = same.mean(axis=0) >= MODE_SHARE
    off = (~same).sum(axis=0)
    rms = np.sqrt(((X - med) ** 2).sum(axis=0) / np.maximum(off, 1))
    center = np.where(mostly, med, X.mean(axis=0))
    scale = np.where(mostly, rms, X.std(axis=0))
    scale[~(scale > 0)] = 1.0
    return center, scale


def log_skewed(X: np.ndarray, fit: np.ndarray | None = None) -> np.ndarray:
    """``X`` with its skewed positive columns on a log scale (:func:`~._skew.log_if_skewed`).

    Only a positive quantity (every value above 0: an income, a price, a duration) whose
    quantile skewness is above ``SKEW``: a column holding zeros (a count, a pixel, a
    histogram share or HOG cell of image features) keeps its units, as does a column where
    at least half the rows hold one value (``MODE_SHARE``) or with fewer than
    ``MIN_DISTINCT`` distinct values (an ordinal scale, not a quantity spanning orders of
    magnitude). ``fit`` (a boolean row mask) decides on those rows.
    """
    X = np.asarray(X, dtype=np.float64)
    ref = X if fit is None else X[fit]
    if ref.shape[0] < 3:
        return X
    out = X
    for j in range(X.shape[1]):
        r = ref[:, j]
        if not X[:, j].min() > 0:
            continue  # not a positive quantity (decided first: a min is cheap, unique sorts)
        if (r == np.median(r)).mean() >= MODE_SHARE or len(np.unique(r)) < MIN_DISTINCT:
            continue
        v, done = log_if_skewed(X[:, j], fit, zeros=False)
        if done:
            if out is X:
                out = X.copy()
            out[:, j] = v
    return out


def scale_columns(X: np.ndarray, fit: np.ndarray | None = None) -> np.ndarray:
    """Put every column on a comparable scale.

    A skewed positive column (a lognormal income, a price) is first put on a log scale
    (:func:`log_skewed`), so that its tail is not mistaken for outliers and its copies
    differ relatively. A column is z-scored (mean 0, standard deviation 1), except a column where at least
    half the rows hold one value (``MODE_SHARE``): it is centred on that value and scaled by
    the root-mean-square deviation of the *other* rows. A mostly-zero pixel therefore
    measures its non-zero values in their own units instead of being blown up to unit
    variance, where any small noise in it would outweigh the informative columns.
    Constant columns become 0. ``fit`` (a boolean row mask) fits the centres and scales
    on those rows only.
    """
    X = log_skewed(np.asarray(X, dtype=np.float64), fit)
    center, scale = scale_params(X if fit is None else X[fit])
    return (X - center) / scale


def reduce_dims(Z: np.ndarray, max_dims: int, random_state: int | None) -> np.ndarray:
    """The first ``max_dims`` principal components of ``Z`` (``Z`` itself when narrower)."""
    n, d = Z.shape
    if d <= max_dims or n <= max_dims:
        return Z
    from sklearn.decomposition import PCA
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return PCA(
            n_components=max_dims, svd_solver="randomized", random_state=random_state
        ).fit_transform(Z)


def nearest(
    Z: np.ndarray, k: int, *, progress: bool = False, desc: str = "neighbours"
) -> tuple[np.ndarray, np.ndarray]:
    """Distances and row positions of each row's ``k`` nearest *other* rows (ascending).

    The neighbour service's graph (:func:`~._neighbours.neighbour_graph`: exact up to
    ``EXACT_MAX`` rows, approximate above, distances exact either way).
    """
    from ._neighbours import neighbour_graph

    return neighbour_graph(Z, k, progress=progress, desc=desc)


def dataset_matrix(ds: Dataset, features: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    """The dataset's feature matrix (see :func:`~dcai_jupyter.ops.dataset_feature_matrix`)."""
    if len(ds) == 0:
        raise ValueError("the dataset is empty: there is nothing to compare")
    X, used = dataset_feature_matrix(ds, features)
    return as_float_matrix(X, "the feature matrix"), used
