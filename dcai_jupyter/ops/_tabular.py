"""Mixed tables as model input: each column encoded by its role, three views for three kinds of model.

A real table holds numbers (some skewed, some missing), categories (a few values or
thousands), free text, dates and identifiers. One dense matrix serves none of the models
well, so :func:`dataset_design` builds a :class:`Design` with three views of the same rows:

- ``dense``: for the distance- and Gaussian-based members (kNN vote, QDA): numerics
  transformed (``log1p`` where skewed), median-imputed, with a missing indicator where a
  column has missing values; categories one-hot (rare values pooled) or, with many values,
  their log frequency; each text column as 16 TF-IDF + SVD dimensions; calendar parts of
  dates; embedding vectors as they are.
- ``sparse``: for the linear member: the same numerics standardised, every category with
  at least ``MIN_FREQUENCY`` rows one-hot (any cardinality) and the *full* TF-IDF of each
  text column (``min_df=2``, sublinear): what a scikit-learn pipeline would give a
  ``LogisticRegression``.
- ``tree``: for ``HistGradientBoostingClassifier``: raw numerics (missing stays NaN: the
  trees route it), categories as codes with native categorical splits (the most frequent
  ``MAX_TREE_CATEGORIES``, the rest pooled), the text SVD dimensions, calendar parts.

With a text embedder (``dj.Dataset(embed=...)``, the ``text`` extra by default) a
``meaning`` view holds each text column's embeddings: an extra ensemble member (a linear
model on them, kept only where its out-of-fold agreement earns it weight) and, appended
to ``dense``, what active learning and pseudo-labels compare by (:func:`dataset_dense`).

Identifier columns are not features (see ``ds.roles``). The encodings are unsupervised
(no label is read), so fitting them on every row leaks nothing into the folds.

scikit-learn and scipy are imported when first used.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset

__all__ = [
    "Design",
    "dataset_dense",
    "dataset_design",
    "design_from_frame",
    "design_members",
    "is_mixed",
]

#: a category with fewer rows than this is pooled into one "rare" value
MIN_FREQUENCY = 5
#: a categorical column with more distinct (frequent) values than this is encoded by its log
#: frequency in the dense view (one-hot everywhere else)
MAX_DENSE_CATEGORIES = 30
#: categories the trees split on natively (below the member's max_bins, 127; the rest pooled)
MAX_TREE_CATEGORIES = 126
#: dimensions of each text column in the dense and tree views
TEXT_DIMS = 16
#: a numeric column is log-transformed when its skewness is above this
SKEW = 1.0


@dataclass
class Design:
    """Three encodings of the same rows (see the module docstring); ``design[rows]`` subsets."""

    dense: np.ndarray
    sparse: Any
    tree: np.ndarray
    tree_categorical: np.ndarray
    used: list[str] = field(default_factory=list)
    #: the text columns' embeddings side by side (None without an embedder)
    meaning: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.dense.shape[0]), int(self.dense.shape[1]))

    def __len__(self) -> int:
        return int(self.dense.shape[0])

    def __getitem__(self, rows: Any) -> Design:
        return Design(
            self.dense[rows],
            self.sparse[np.flatnonzero(rows) if np.asarray(rows).dtype == bool else rows],
            self.tree[rows],
            self.tree_categorical,
            self.used,
            None if self.meaning is None else self.meaning[rows],
        )


def _skew(x: np.ndarray) -> float:
    sd = x.std()
    if not sd > 0:
        return 0.0
    return float(np.mean(((x - x.mean()) / sd) ** 3))


def _numeric_block(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(transformed and standardised columns, raw column with NaN) of one numeric column."""
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    raw = np.where(finite, x, np.nan)
    if not finite.any():
        return np.zeros((len(x), 0)), raw[:, None]
    v = x[finite]
    t = v
    if len(np.unique(v[:5000])) > 2:
        if v.min() >= 0 and _skew(v) > SKEW:
            t = np.log1p(v)
        elif abs(_skew(v)) > 3 * SKEW:
            t = np.sign(v) * np.log1p(np.abs(v))
    full = np.full(len(x), np.median(t))
    full[finite] = t
    sd = full.std()
    cols = [(full - full.mean()) / (sd if sd > 0 else 1.0)]
    if not finite.all():
        cols.append((~finite).astype(np.float64))
    return np.column_stack(cols), raw[:, None]


def _category_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes by frequency rank with -1 missing, counts per code, log frequency per row)."""
    values = np.asarray(values, dtype=object)
    miss = np.asarray(pd.isna(values), dtype=bool)
    codes = np.full(len(values), -1, dtype=np.int64)
    if miss.all():
        return codes, np.zeros(0, dtype=np.int64), np.log1p(np.full(len(values), len(values)))
    present = pd.Series(values[~miss]).map(str)
    raw, _ = pd.factorize(present)
    cnt = np.bincount(raw)
    order = np.argsort(-cnt, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    codes[~miss] = rank[raw]
    cnt = cnt[order].astype(np.int64)
    freq = np.where(codes >= 0, cnt[np.maximum(codes, 0)], int(miss.sum())).astype(np.float64)
    return codes, cnt, np.log1p(freq)


def _missing(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _one_hot_sparse(codes: np.ndarray, n_codes: int) -> Any:
    from scipy import sparse

    rows = np.flatnonzero(codes >= 0)
    return sparse.csr_matrix(
        (np.ones(len(rows)), (rows, codes[rows])), shape=(len(codes), max(n_codes, 1))
    )


def _datetime_parts(values: np.ndarray) -> np.ndarray:
    s = pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(s.dtype):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = pd.to_datetime(s, errors="coerce", utc=True, format="mixed")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert(None)
    parts = {
        "days": (s - pd.Timestamp(0)) / pd.Timedelta(days=1),
        "year": s.dt.year,
        "month": s.dt.month,
        "dow": s.dt.day_of_week,
        "hour": s.dt.hour,
    }
    out = np.column_stack(
        [pd.to_numeric(v, errors="coerce").to_numpy(dtype=np.float64) for v in parts.values()]
    )
    keep = [
        j for j in range(out.shape[1]) if np.isfinite(out[:, j]).any() and np.nanstd(out[:, j]) > 0
    ]
    return out[:, keep]


def _text_blocks(values: np.ndarray, random_state: int) -> tuple[Any, np.ndarray]:
    """(full TF-IDF, sparse; its first ``TEXT_DIMS`` SVD dimensions, dense) of a text column."""
    from scipy import sparse
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = ["" if _missing(v) else str(v) for v in values]
    try:
        tfidf = TfidfVectorizer(min_df=2, sublinear_tf=True, max_features=100_000).fit_transform(
            docs
        )
    except ValueError:  # no word repeats
        return sparse.csr_matrix((len(docs), 0)), np.zeros((len(docs), 0))
    k = min(TEXT_DIMS, tfidf.shape[1] - 1, tfidf.shape[0] - 1)
    if k < 1:
        return tfidf.tocsr(), np.asarray(tfidf.toarray())
    with warnings.catch_warnings():  # degenerate text (every row alike): a 0/0 ratio
        warnings.simplefilter("ignore", RuntimeWarning)
        svd = TruncatedSVD(n_components=k, random_state=random_state).fit_transform(tfidf)
    return tfidf.tocsr(), svd


def design_from_frame(df: pd.DataFrame, roles: dict[str, str], *, random_state: int = 0) -> Design:
    """The :class:`Design` of ``df``'s columns with the given roles (feature roles and text).

    Columns whose role is not numeric, categorical, text, datetime or embedding are left out.
    """
    from scipy import sparse

    dense: list[np.ndarray] = []
    sp: list[Any] = []
    tree: list[np.ndarray] = []
    tree_cat: list[np.ndarray] = []
    used: list[str] = []
    n = len(df)
    for c, role in roles.items():
        values = df[c].to_numpy()
        if role == "numeric":
            try:
                x = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)
            except (TypeError, ValueError):
                continue
            block, raw = _numeric_block(x)
            if block.shape[1] == 0:
                continue
            dense.append(block)
            sp.append(sparse.csr_matrix(block))
            tree.append(raw)
            tree_cat.append(np.zeros(1, dtype=bool))
        elif role == "categorical":
            codes, cnt, logf = _category_codes(values)
            frequent = int((cnt >= MIN_FREQUENCY).sum())
            # codes are frequency ranks: the first `frequent` are kept, the rest pooled
            pooled = np.where(codes >= frequent, frequent, codes)
            has_rare = bool((codes >= frequent).any())
            width = frequent + int(has_rare)
            oh = _one_hot_sparse(pooled, width)
            if (codes < 0).any():
                oh = sparse.hstack([oh, sparse.csr_matrix((codes < 0).astype(np.float64)[:, None])])
            sp.append(oh.tocsr())
            if width <= MAX_DENSE_CATEGORIES:
                dense.append(np.asarray(oh.toarray()))
            else:
                dense.append(((logf - logf.mean()) / (logf.std() or 1.0))[:, None])
            tcodes = np.where(
                codes < 0,
                np.nan,
                np.minimum(codes, MAX_TREE_CATEGORIES).astype(np.float64),
            )
            tree.append(tcodes[:, None])
            tree_cat.append(np.ones(1, dtype=bool))
        elif role == "text":
            tf, svd = _text_blocks(values, random_state)
            if tf.shape[1] == 0:
                continue
            sp.append(tf)
            z = (svd - svd.mean(axis=0)) / np.where(svd.std(axis=0) > 0, svd.std(axis=0), 1.0)
            dense.append(z)
            tree.append(svd)
            tree_cat.append(np.zeros(svd.shape[1], dtype=bool))
        elif role == "datetime":
            parts = _datetime_parts(values)
            if parts.shape[1] == 0:
                continue
            blocks = [_numeric_block(parts[:, j])[0] for j in range(parts.shape[1])]
            block = np.hstack(blocks)
            dense.append(block)
            sp.append(sparse.csr_matrix(block))
            tree.append(parts)
            tree_cat.append(np.zeros(parts.shape[1], dtype=bool))
        elif role == "embedding":
            try:
                emb = np.stack([np.asarray(v, dtype=np.float64).ravel() for v in values])
            except (TypeError, ValueError):
                continue
            emb = np.where(np.isfinite(emb), emb, 0.0)
            sd = emb.std(axis=0)
            z = (emb - emb.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
            dense.append(z)
            sp.append(sparse.csr_matrix(z))
            tree.append(emb)
            tree_cat.append(np.zeros(emb.shape[1], dtype=bool))
        else:
            continue
        used.append(c)
    if not used:
        raise ValueError(
            f"no usable feature column among {list(roles)} (roles {list(roles.values())})"
        )
    return Design(
        np.hstack(dense).astype(np.float64) if n else np.zeros((0, 0)),
        sparse.hstack(sp).tocsr().astype(np.float64),
        np.hstack(tree).astype(np.float64),
        np.concatenate(tree_cat),
        used,
    )


def is_mixed(ds: Dataset, columns: Sequence[str]) -> bool:
    """Whether ``columns`` of ``ds`` need the mixed encoding (anything but complete numbers)."""
    roles = getattr(ds, "roles", {})
    for c in columns:
        role = roles.get(c, "numeric")
        if role in ("categorical", "text", "datetime"):
            return True
        if role == "numeric":
            arr = np.asarray(ds.column(c))
            if arr.dtype.kind == "f" and np.isnan(arr).any():
                return True
            if arr.dtype.kind == "O":
                return True
    return False


def dataset_design(ds: Dataset, features: Sequence[str] | None = None) -> tuple[Any, list[str]]:
    """The model input of a dataset's current rows: a :class:`Design` for a mixed table,
    else the dense matrix of :func:`~dcai_jupyter.ops.dataset_feature_matrix`.

    Parameters
    ----------
    ds
        The dataset.
    features
        Columns to use (default: the feature columns, every text column and the image
        column's weight-free features, see :mod:`._image_features`).

    Returns
    -------
    X, used
        ``X`` is a :class:`Design` when a column is categorical, text, a datetime or has
        missing values; a float matrix otherwise (plain numeric data keeps the encoding
        and the models it always had).
    """
    from ._features import dataset_feature_matrix

    if features is None:
        cols = [c for c in ds.feature_columns if c != ds.label]
        for t in getattr(ds, "text_columns", []):
            if t not in cols and t != ds.label:
                cols.append(t)
    else:
        cols = list(features)
        if any(c not in ds.columns or c == ds.label for c in cols):
            return dataset_feature_matrix(ds, features)  # its errors name the columns
    roles_all = getattr(ds, "roles", {})
    if not cols or not is_mixed(ds, cols) or len(ds) == 0:
        return dataset_feature_matrix(ds, features)
    bad = [c for c in cols if roles_all.get(c) == "image"]
    if bad:
        return dataset_feature_matrix(ds, features)
    roles = {}
    for c in cols:
        r = roles_all.get(c, "numeric")
        if r in ("id", "ignored", "label"):
            arr = np.asarray(ds.column(c))
            r = "numeric" if arr.dtype.kind in "biuf" else "categorical"
        roles[c] = r
    frame = pd.DataFrame({c: ds.column(c) for c in cols})
    design = design_from_frame(frame, roles)
    design.meaning = _meaning(ds, [c for c in design.used if roles[c] == "text"])
    image = getattr(ds, "image_column", None)
    if features is None and image and image != ds.label:
        design = _with_image(ds, design, str(image), cols)
    return design, design.used


def _with_image(ds: Dataset, design: Design, image: str, cols: list[str]) -> Design:
    """``design`` with the image column's weight-free features in every view (standardised
    in the dense and sparse ones), unless feature columns already hold its pixels."""
    from scipy import sparse

    from ._image_features import dataset_image_features, pixel_columns

    if pixel_columns(ds, image, cols):
        return design
    try:
        F = dataset_image_features(ds, image)
    except ValueError as exc:
        raise ValueError(f"image column {image!r}: {exc}") from None
    sd = F.std(axis=0)
    Z = (F - F.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    return Design(
        np.hstack([design.dense, Z]),
        sparse.hstack([design.sparse, sparse.csr_matrix(Z)]).tocsr(),
        np.hstack([design.tree, F]),
        np.concatenate([design.tree_categorical, np.zeros(F.shape[1], dtype=bool)]),
        [*design.used, image],
        design.meaning,
    )


def _meaning(ds: Dataset, texts: list[str]) -> np.ndarray | None:
    """The embeddings of ``texts`` side by side (None without text or an embedder)."""
    from ._text_vectors import text_vectors

    blocks = [E for E in (text_vectors(ds, c) for c in texts) if E is not None]
    if not blocks:
        return None
    return np.hstack(blocks).astype(np.float64)


def dataset_dense(
    ds: Dataset, features: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """A dataset's features as one dense float matrix, read through the column roles.

    For a model that takes one matrix (a user's estimator, the kNN and gradient-boosting
    vote of active learning and pseudo-labels): on a mixed table the dense view of
    :func:`dataset_design` (skewed numerics log-transformed, missing values imputed with
    a missing indicator, categories one-hot or by log frequency, each text column as
    TF-IDF + SVD dimensions, calendar parts of dates; identifier columns left out); on
    plain numeric data the matrix of :func:`~dcai_jupyter.ops.dataset_feature_matrix`.

    Returns
    -------
    X : np.ndarray of shape (len(ds), d), float64, finite on a mixed table
    used : list of str
        The columns that went into ``X``.
    """
    X, used = dataset_design(ds, features)
    if isinstance(X, Design):
        if X.meaning is None:
            return X.dense, used
        # centred and scaled so that each text's embedding weighs as much in a distance
        # as its TEXT_DIMS standardised TF-IDF dimensions do
        M = X.meaning - X.meaning.mean(axis=0)
        total = float(M.var(axis=0).sum())
        roles = getattr(ds, "roles", {})
        n_texts = max(1, sum(1 for c in used if roles.get(c) == "text"))
        scale = np.sqrt(TEXT_DIMS * n_texts / total) if total > 0 else 0.0
        return np.hstack([X.dense, M * scale]), used
    return X, used


def design_members(design: Design) -> list[tuple[str, Any, Any]]:
    """The ensemble members a mixed table adds: ``(name, task, data)`` (see ``_crossval``)."""
    from ._model_choice import sparse_linear_task, tree_task

    members: list[tuple[str, Any, Any]] = [
        ("lr", sparse_linear_task, design.sparse),
        ("tree", tree_task, (design.tree, design.tree_categorical)),
    ]
    if design.meaning is not None:
        # in float32: the same L-BFGS steps at 2/3 of the cost (modeldata/tate_text, 256
        # dimensions: 0.28 -> 0.19 CPU s over 5 folds, the same ensemble weights and flags)
        members.append(("meaning", sparse_linear_task, design.meaning.astype(np.float32)))
    return members
