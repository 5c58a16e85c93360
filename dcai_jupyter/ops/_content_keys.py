"""Exact copies by content: one integer key per row, equal for rows whose content is the same.

Rows are hashed column by column (``pd.factorize``) and the code vectors compared with one
``np.unique``: O(n log n) with no neighbour search, whatever the number of rows. All-numeric
rows take a shortcut in O(n): one 64-bit hash per row, every row checked against its key's
first row (the general path on a collision). Numbers
compare by value, strings after :func:`~._text_norm.normalize_text`, arrays (images) by
shape and values whatever their dtype, PIL images by their pixels, bytes as they are.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._text_norm import normalize_text

__all__ = ["content_keys", "normalize_text"]


def _cell_key(v: Any) -> Any:
    if v is None or (isinstance(v, float) and v != v):
        return ("na",)
    if isinstance(v, str):
        return ("s", normalize_text(v))
    if isinstance(v, (bytes, bytearray)):
        return ("b", bytes(v))
    if type(v).__module__.startswith("PIL."):
        v = np.asarray(v)
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "biuf":
            a = np.ascontiguousarray(v, dtype=np.float64) + 0.0  # -0.0 == 0.0
            return ("a", v.shape, a.tobytes())
        return ("a", v.shape, repr(v.tolist()))
    if isinstance(v, (bool, np.bool_, numbers.Number)):
        try:
            f = float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return ("r", repr(v))
        return ("n", ("na",) if f != f else f + 0.0)
    try:
        hash(v)
    except TypeError:
        return ("r", repr(v))
    return ("o", v)


def _numbers(values: Any) -> np.ndarray | None:
    """A numeric (or boolean) column as canonical float64 (``-0.0`` -> ``0.0``, one NaN)."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        f = s.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        f += 0.0  # -0.0 -> 0.0
        f[np.isnan(f)] = np.nan  # one NaN bit pattern
        return f
    return None


def _numeric_keys(cols: list[np.ndarray]) -> np.ndarray | None:
    """Keys of all-numeric rows in O(n): a 64-bit hash of each row's canonical bytes,
    numbered by first appearance, every row then checked equal to its key's first row
    (``None`` on a hash collision: the caller takes the general path). Column by column:
    no (n, d) copy of the rows."""
    bits = [np.ascontiguousarray(c, dtype=np.float64).view(np.uint64) for c in cols]
    h = np.full(len(bits[0]), 0x9E3779B97F4A7C15, dtype=np.uint64)
    step = np.empty_like(h)
    for b in bits:
        np.bitwise_xor(h, b, out=h)
        np.multiply(h, np.uint64(0xBF58476D1CE4E5B9), out=h)
        np.right_shift(h, np.uint64(31), out=step)
        np.bitwise_xor(h, step, out=h)
    codes, _ = pd.factorize(h)
    first = np.empty(int(codes.max()) + 1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # the smallest row per key
    of = first[codes]
    if not all(np.array_equal(b, b[of]) for b in bits):
        return None
    return codes.astype(np.int64)


def _column_codes(values: Any) -> np.ndarray:
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    f = _numbers(s)
    if f is not None:
        codes, _ = pd.factorize(f, use_na_sentinel=True)
        return codes.astype(np.int64)
    keys = [_cell_key(v) for v in s.to_numpy(dtype=object)]
    codes, _ = pd.factorize(pd.Series(keys, dtype=object), use_na_sentinel=True)
    return codes.astype(np.int64)


def content_keys(columns: Mapping[str, Any] | pd.DataFrame) -> np.ndarray:
    """One integer per row: equal for rows whose content is exactly the same.

    Parameters
    ----------
    columns
        The columns to compare (a DataFrame or ``{name: values}``, equal lengths). Numbers
        compare by value (``1 == 1.0``, ``-0.0 == 0.0``, NaN equals NaN), strings after
        :func:`normalize_text`, arrays (images) by shape and values, PIL images by their
        pixels, bytes as they are.

    Returns
    -------
    np.ndarray of int64
        Key per row, numbered in order of first appearance.
    """
    cols = dict(columns.items()) if isinstance(columns, pd.DataFrame) else dict(columns)
    if not cols:
        raise ValueError("no column to compare: pass at least one column")
    lengths = {len(v) for v in cols.values()}
    if len(lengths) == 1 and next(iter(lengths)) > 0:
        nums = [_numbers(v) for v in cols.values()]
        if all(f is not None for f in nums):
            keys = _numeric_keys([f for f in nums if f is not None])
            if keys is not None:
                return keys
    codes = [_column_codes(v) for v in cols.values()]
    n = {len(c) for c in codes}
    if len(n) != 1:
        raise ValueError(f"the columns have different lengths: {sorted(n)}")
    if next(iter(n)) == 0:
        return np.zeros(0, dtype=np.int64)
    M = np.stack(codes, axis=1)
    _, first, inverse = np.unique(M, axis=0, return_index=True, return_inverse=True)
    # number keys by first appearance (deterministic and readable)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[np.asarray(inverse).ravel()].astype(np.int64)
