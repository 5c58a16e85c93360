"""Encode a frame's feature columns as one numeric matrix for the models behind the ops.

Numeric and boolean columns are used as they are (missing values imputed with the
column median), low-cardinality categoricals are one-hot encoded, free-text columns
are reduced to a few dense dimensions (TF-IDF + truncated SVD) and array cells of one
shape are flattened (embeddings). A dataset's image column becomes weight-free image
features (HOG, a colour histogram and downscaled pixels; :mod:`._image_features`). Columns
that cannot be used are named in the error, with the reason.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset

__all__ = ["dataset_feature_matrix", "feature_matrix"]

#: a string column with at most this many distinct values is one-hot encoded
MAX_CATEGORIES = 50
#: dimensions a text column is reduced to
TEXT_DIMS = 16


class _Unusable(Exception):
    """A column that cannot be turned into numbers (the message says why)."""


def _numeric(values: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(x)
    if not finite.any():
        raise _Unusable("no finite value")
    if not finite.all():
        x = np.where(finite, x, np.median(x[finite]))
    return x[:, None]


def _one_hot(values: pd.Series) -> np.ndarray:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    width = len(uniques) + int((codes < 0).any())
    codes = np.where(codes < 0, len(uniques), codes)
    out = np.zeros((len(codes), max(width, 1)), dtype=np.float64)
    out[np.arange(len(codes)), codes] = 1.0
    return out


def _text(values: pd.Series, random_state: int) -> np.ndarray:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = values.fillna("").astype(str).tolist()
    try:
        tfidf = TfidfVectorizer(min_df=2, max_features=20000, sublinear_tf=True).fit_transform(docs)
    except ValueError as exc:  # empty vocabulary
        raise _Unusable(f"text without repeated words ({exc})") from None
    k = min(TEXT_DIMS, tfidf.shape[1] - 1, tfidf.shape[0] - 1)
    if k < 1:
        return np.asarray(tfidf.toarray(), dtype=np.float64)
    return TruncatedSVD(n_components=k, random_state=random_state).fit_transform(tfidf)


def _arrays(values: np.ndarray) -> np.ndarray:
    shapes = {v.shape for v in values if isinstance(v, np.ndarray)}
    if len(shapes) != 1 or not all(isinstance(v, np.ndarray) for v in values):
        raise _Unusable(
            f"array cells of {len(shapes)} different shapes (or missing cells); "
            "resize them to one shape first"
        )
    try:
        return np.stack([np.asarray(v, dtype=np.float64).ravel() for v in values])
    except (TypeError, ValueError):
        raise _Unusable("array cells that are not numeric") from None


def _encode(values: Any, name: str, random_state: int) -> np.ndarray:
    s = pd.Series(np.asarray(values, dtype=object) if _is_object(values) else values)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=np.float64)[:, None]
    if pd.api.types.is_numeric_dtype(s.dtype):
        return _numeric(s.to_numpy(dtype=np.float64, na_value=np.nan), name)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        ns = s.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
        return _numeric(np.where(s.isna().to_numpy(), np.nan, ns / 1e9), name)
    if isinstance(s.dtype, pd.CategoricalDtype):
        if len(s.cat.categories) > MAX_CATEGORIES:
            raise _Unusable(f"{len(s.cat.categories)} categories (more than {MAX_CATEGORIES})")
        return _one_hot(s)
    present = s[s.notna()]
    if len(present) == 0:
        raise _Unusable("only missing values")
    kinds = {type(v) for v in present}
    if all(issubclass(k, np.ndarray) for k in kinds):
        return _arrays(s.to_numpy(dtype=object))
    if all(issubclass(k, str) for k in kinds):
        n_unique = present.nunique()
        if n_unique <= MAX_CATEGORIES:
            return _one_hot(s)
        spaced = present.str.contains(r"\s", regex=True).mean()
        if spaced < 0.5:
            raise _Unusable(
                f"{n_unique} distinct short strings (an identifier or a high-cardinality "
                "category?); map it to fewer categories or drop it"
            )
        return _text(s, random_state)
    if all(issubclass(k, (bool, np.bool_, int, float, np.integer, np.floating)) for k in kinds):
        try:
            return _numeric(s.to_numpy(dtype=np.float64, na_value=np.nan), name)
        except (TypeError, ValueError):
            pass
    if (
        len(kinds) <= MAX_CATEGORIES
        and present.map(_hashable).all()
        and present.nunique() <= (MAX_CATEGORIES)
    ):
        return _one_hot(s)
    names = sorted(k.__name__ for k in kinds)[:4]
    raise _Unusable(f"cells of type {', '.join(names)} that cannot be encoded as numbers")


def _is_object(values: Any) -> bool:
    return isinstance(values, np.ndarray) and values.dtype == object


def _hashable(v: Any) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


def feature_matrix(
    df: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    on_unusable: Literal["raise", "skip"] = "raise",
    random_state: int = 0,
) -> tuple[np.ndarray, list[str]]:
    """Encode ``columns`` of ``df`` as one 2-D float matrix for a model.

    Parameters
    ----------
    df
        The data.
    columns
        The columns to use (default: all of them).
    on_unusable
        ``"raise"`` (default): a ``ValueError`` names every column that could not be used
        and why. ``"skip"``: such columns are left out with a warning naming them; a
        ``ValueError`` is still raised when no usable column remains.
    random_state
        Seed of the text reduction (truncated SVD).

    Returns
    -------
    X : np.ndarray of shape (n_rows, n_features), float64
        Numeric columns as they are (NaN imputed with the median), booleans as 0/1,
        low-cardinality categoricals (at most 50 distinct values) one-hot, text columns
        (strings with many distinct values, mostly containing spaces) as 16 TF-IDF + SVD
        dimensions, array cells of one shape (e.g. 2-D images) flattened.
    used : list of str
        The columns that went into ``X``, in order.

    Raises
    ------
    ValueError
        Unknown columns, unusable columns (with ``on_unusable="raise"``), or no usable column.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"feature_matrix() takes a pandas DataFrame; got {type(df).__name__}")
    if on_unusable not in ("raise", "skip"):
        raise ValueError(f"on_unusable must be 'raise' or 'skip'; got {on_unusable!r}")
    cols = list(df.columns) if columns is None else list(columns)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(
            f"columns {missing} are not in the frame; its columns are {list(df.columns)}"
        )
    if not cols:
        raise ValueError("no feature column given: pass the columns to use as features")
    blocks: list[np.ndarray] = []
    used: list[str] = []
    bad: dict[str, str] = {}
    for c in cols:
        col = df[c]
        values = col.to_numpy() if col.dtype == object else col
        try:
            block = _encode(values, str(c), random_state)
        except _Unusable as exc:
            bad[str(c)] = str(exc)
            continue
        blocks.append(block)
        used.append(c)
    if bad:
        detail = "; ".join(f"{c!r}: {why}" for c, why in bad.items())
        if not used:
            raise ValueError(
                f"no usable feature column: {detail}. Pass numeric, categorical, text or "
                "same-shape array columns as features"
            )
        if on_unusable == "raise":
            raise ValueError(
                f"feature columns that could not be used: {detail}. Drop them from the "
                f"feature columns (usable: {used})"
            )
        warnings.warn(f"feature columns left out: {detail}", UserWarning, stacklevel=2)
    if len(df) == 0:
        return np.zeros((0, 0)), used
    return np.hstack(blocks).astype(np.float64, copy=False), used


def dataset_feature_matrix(
    ds: Dataset, features: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """The feature matrix of a dataset's current rows (row order), for a model-based operation.

    Parameters
    ----------
    ds
        The dataset (read through its public API; nothing changes).
    features
        Columns to use; any column that cannot be encoded is an error naming it. Default:
        the feature columns plus the text column, leaving out (with a warning) columns that
        cannot be encoded, plus the image column's weight-free features (HOG, colour
        histogram, 8x8 pixels; computed once per dataset version), unless numeric feature
        columns already hold the image's pixels (sklearn's digits as a frame). A column of
        role ``image`` among ``features`` is read the same way; an ``embedding`` column
        (1-D vectors of one length, e.g. CLIP or ResNet outputs) is used as it is.

    Returns
    -------
    X, used
        As :func:`feature_matrix`.
    """

    def matrix(
        cols: list[str], on_unusable: Literal["raise", "skip"]
    ) -> tuple[np.ndarray, list[str]]:
        arrays = [ds.column(c) for c in cols]  # a column named twice is used twice
        X = _numeric_matrix(arrays)
        if X is not None:  # what feature_matrix gives, without a DataFrame between
            return X, list(cols)
        frame = pd.DataFrame(dict(zip(cols, arrays, strict=True)))
        return feature_matrix(frame, cols, on_unusable=on_unusable)

    roles_of = getattr(ds, "roles", None) or {}
    if features is not None:
        cols = list(features)
        unknown = [c for c in cols if c not in ds.columns]
        if unknown:
            raise ValueError(f"features {unknown} are not columns of the dataset ({ds.columns})")
        if ds.label in cols:
            raise ValueError(f"{ds.label!r} is the label column; it cannot be a feature")
        images = [c for c in cols if roles_of.get(c) == "image"]
        rest = [c for c in cols if c not in images]
        X, used = matrix(rest, "raise") if rest else (None, [])
        return _add_images(ds, X, used, images)
    cols = [c for c in ds.feature_columns if c != ds.label]
    texts = list(getattr(ds, "text_columns", None) or [])
    if not texts and getattr(ds, "text_column", None):
        texts = [ds.text_column]
    image = getattr(ds, "image_column", None)
    for text in texts:
        if text not in cols and text != ds.label:
            cols.append(text)
    # the image's own features, unless numeric columns beside it already hold its pixels
    use_image = bool(image) and image != ds.label and image not in cols
    if use_image and cols:
        from ._image_features import pixel_columns

        use_image = not pixel_columns(ds, str(image), cols)
    if cols:
        try:
            X, used = matrix(cols, "skip")
        except ValueError:
            if not use_image:
                raise
        else:
            return _add_images(ds, X, used, [str(image)] if use_image else [])
    if use_image:
        return _add_images(ds, None, [], [str(image)])
    roles = getattr(ds, "roles", None)
    left_out = roles.of("id") if roles is not None else []
    if roles is not None and left_out:
        first = left_out[0]
        raise ValueError(
            f"no usable feature column: {', '.join(repr(c) for c in left_out)} look(s) like an "
            f"identifier ({roles.why[first]}) and is left out (see ds.roles). If it is a "
            f"feature, pass roles={{{first!r}: 'categorical'}} (or 'numeric') to Dataset, or "
            f"features=[{first!r}] here"
        )
    raise ValueError(
        "the dataset has no feature column (only the label): add feature columns, or compute "
        "model outputs yourself (e.g. pred_probs for dcai_jupyter.find_label_issues)"
    )


def _numeric_matrix(arrays: list[Any]) -> np.ndarray | None:
    """What :func:`feature_matrix` makes of plain numeric and boolean numpy columns (values
    as float64, non-finite ones replaced by the column's median of finite values, C order),
    written into one array with no DataFrame between. None when a column is of another kind
    or has no finite value, or there are no rows: the general path then encodes or refuses."""
    if not arrays or not all(
        isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype.kind in "biuf" for a in arrays
    ):
        return None
    n = len(arrays[0])
    if n == 0 or any(len(a) != n for a in arrays):
        return None
    out = np.empty((len(arrays), n), dtype=np.float64)  # one contiguous row per column
    for x, a in zip(out, arrays, strict=True):
        x[...] = a
        if a.dtype.kind == "f":
            finite = np.isfinite(x)
            if not finite.all():
                if not finite.any():
                    return None
                x[~finite] = np.median(x[finite])
    return np.ascontiguousarray(out.T)


def _add_images(
    ds: Dataset, X: np.ndarray | None, used: list[str], images: list[str]
) -> tuple[np.ndarray, list[str]]:
    """``X`` with the weight-free features of each image column appended (HOG, colour
    histogram, downscaled pixels; see :mod:`._image_features`)."""
    if not images:
        assert X is not None
        return X, used
    from ._image_features import dataset_image_features

    blocks = [] if X is None else [X]
    for c in images:
        try:
            blocks.append(dataset_image_features(ds, c))
        except ValueError as exc:
            raise ValueError(f"image column {c!r}: {exc}") from None
    if len(ds) == 0:
        return np.zeros((0, 0)), [*used, *images]
    return np.hstack(blocks).astype(np.float64, copy=False), [*used, *images]
