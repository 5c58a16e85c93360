"""Checking what a caller passes: sample ids, and labels for the label column."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from . import _codec
from ._table import Table


def labels_array(table: Table, classes: list[Any] | None, labels: Any, n: int) -> np.ndarray:
    """``labels`` for ``n`` rows as an array for the label column; clear errors otherwise."""
    arr = table.arrays[table.label]
    if (
        isinstance(labels, np.ndarray)
        and labels.ndim == 1
        and len(labels) == n
        and labels.dtype.kind in "iu"
        and arr.dtype.kind in "iu"
    ):
        # integers for an integer label column (a million new rows' labels): nothing can
        # be missing or of another type; the checks below, on the distinct values
        if classes is not None:
            allowed = set(classes)
            outside = sorted({repr(v) for v in np.unique(labels).tolist() if v not in allowed})
            if outside:
                raise ValueError(
                    f"labels {', '.join(outside[:10])} are not in the declared classes {classes}"
                )
        out = labels.astype(arr.dtype)
        if not np.array_equal(out.astype(float), labels.astype(float)):
            shown = labels[:10].tolist()
            raise ValueError(f"labels {shown} do not fit the label column's {arr.dtype} exactly")
        return out
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Iterable):
        values = [labels] * n
    else:
        values = list(
            labels.tolist() if isinstance(labels, (np.ndarray, pd.Series, pd.Index)) else labels
        )
    if len(values) != n:
        raise ValueError(
            f"got {len(values)} labels for {n} ids; pass one label per id (or a single label)"
        )
    missing = [i for i, v in enumerate(values) if _codec.is_missing(v)]
    if missing:
        raise ValueError(
            f"labels at positions {missing[:10]} are missing (NaN/None); a label must be a value"
        )
    if classes is not None:
        allowed = set(classes)
        outside = sorted({repr(v) for v in values if v not in allowed})
        if outside:
            raise ValueError(
                f"labels {', '.join(outside[:10])} are not in the declared classes {classes}"
            )
    arr = table.arrays[table.label]
    dt = table.dtypes[table.label]
    if arr.dtype == object and not isinstance(dt, np.dtype) and getattr(dt, "kind", "O") in "biu":
        # a nullable integer / bool label column (it holds an unlabeled pool)
        checked = _numeric_labels(
            table.label, np.dtype("bool" if dt.kind == "b" else "int64"), values
        )
        out = np.empty(n, dtype=object)
        out[:] = [bool(v) if dt.kind == "b" else int(v) for v in checked]
        return out
    if arr.dtype == object:
        if isinstance(dt, pd.CategoricalDtype):
            cats = set(dt.categories)
            outside = sorted({repr(v) for v in values if v not in cats})
            if outside:
                raise ValueError(
                    f"labels {', '.join(outside[:10])} are not categories of {table.label!r} "
                    f"({list(dt.categories)}); add the category to the column first"
                )
        else:
            # A string column (pandas str dtype, or an object column holding strings)
            # takes strings; other types already in an object column stay allowed.
            if pd.api.types.is_string_dtype(dt) and not isinstance(dt, np.dtype):
                allowed = {str}
            else:
                allowed = {type(v) for v in arr[:1000] if not _codec.is_missing(v)}
            if str in allowed:
                bad = sorted(
                    {repr(v) for v in values if type(v) not in allowed and not isinstance(v, str)}
                )
                if bad:
                    raise ValueError(
                        f"label column {table.label!r} holds strings; got "
                        f"{', '.join(bad[:10])}. Pass the labels as strings"
                    )
        out = np.empty(n, dtype=object)
        out[:] = values
        return out
    return _numeric_labels(table.label, arr.dtype, values)


def ids_array(ids: Any) -> np.ndarray:
    """``ids`` as a 1-D array without repeats (one int is a list of one)."""
    if isinstance(ids, (int, np.integer)):
        ids = [ids]
    arr = np.asarray(list(ids) if not isinstance(ids, (np.ndarray, pd.Index, pd.Series)) else ids)
    if arr.ndim != 1:
        raise ValueError("ids must be a 1-D list of sample ids")
    if len(arr) > 1:
        uniq, counts = np.unique(arr, return_counts=True)
        if (counts > 1).any():
            raise ValueError(f"ids {uniq[counts > 1][:10].tolist()} are given more than once")
    return arr


def resolve_ids(ids: Any, all_ids: np.ndarray) -> np.ndarray:
    """Sample ids as people pass them, as an int64 array of ids present in ``all_ids``.

    Accepts one id, a list, an array, a ``pd.Index`` or ``pd.Series`` of ids, and a
    boolean mask: a boolean Series by sample id (``ds.df["x"] > 3``) selects the ids where
    it is True; a boolean list or array must have one entry per row, in row order.

    Raises
    ------
    ValueError
        A mask of the wrong length, ids that are not integers, repeated ids.
    KeyError
        Ids that are not in the dataset (named).
    """
    all_ids = np.asarray(all_ids, dtype=np.int64)
    if isinstance(ids, pd.Series) and ids.dtype == bool:
        ids = ids.index[ids.to_numpy(dtype=bool)]
    elif isinstance(ids, pd.Series):
        ids = ids.to_numpy()
    elif not isinstance(ids, (int, np.integer, str, bytes)):
        arr = np.asarray(ids if isinstance(ids, (np.ndarray, pd.Index)) else list(ids))
        if arr.dtype == bool:
            if arr.ndim != 1 or len(arr) != len(all_ids):
                raise ValueError(
                    f"a boolean mask selects rows in order: it needs one entry per row "
                    f"({len(all_ids)}); got {arr.shape[0] if arr.ndim else 0}. Pass sample "
                    "ids, or a boolean Series indexed by sample id"
                )
            ids = all_ids[arr]
    if isinstance(ids, (str, bytes)):
        raise ValueError(f"ids must be sample ids (integers); got {ids!r}")
    arr = ids_array(ids)
    if len(arr) and arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.mod(arr, 1) == 0):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"ids must be integer sample ids; got values of type {arr.dtype}")
    arr = arr.astype(np.int64)
    missing = arr[~np.isin(arr, all_ids)]
    if len(missing):
        raise KeyError(
            f"{len(missing)} sample id(s) are not in the dataset: {missing[:10].tolist()}"
        )
    return arr


def _numeric_labels(label: str, dtype: np.dtype, values: list[Any]) -> np.ndarray:
    """Labels for a numeric (or bool) label column of ``dtype``; clear errors otherwise."""
    kinds = {
        "b": (bool, np.bool_),
        "i": (int, np.integer),
        "u": (int, np.integer),
        "f": (int, float, np.integer, np.floating),
    }[dtype.kind]
    bad = sorted(
        {
            repr(v)
            for v in values
            if isinstance(v, (bool, np.bool_)) != (dtype.kind == "b") or not isinstance(v, kinds)
        }
    )
    if bad:
        raise ValueError(
            f"label column {label!r} holds {dtype}; got {', '.join(bad[:10])}. Pass {dtype} labels"
        )
    out = np.asarray(values).astype(dtype)
    if dtype.kind != "b" and not np.array_equal(out.astype(float), np.asarray(values, dtype=float)):
        raise ValueError(f"labels {values[:10]} do not fit the label column's {dtype} exactly")
    return out
