"""Row orders of a column for the grid: a full stable argsort, a window of it, a grouped order.

All orders are positions (int64) into the dataset's rows. Ascending orders are stable (ties in
row order) with missing values last; the descending order is the non-missing part reversed,
then the missing values, so pages served from :func:`window_order` (a partition, O(n), while
no full sort exists) and from :func:`argsort_nulls_last` agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._protocol import is_null_scalar

__all__ = ["argsort_nulls_last", "descending", "grouped_order", "window_order"]


def argsort_nulls_last(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Ascending order of ``values`` with missing values last.

    Returns
    -------
    order : np.ndarray
        int64 positions.
    n_valid : int
        Number of non-missing values (they come first in ``order``).
    """
    n = len(values)
    dk = values.dtype.kind
    if dk == "f":
        order = np.argsort(values, kind="stable")  # NaN sorts last
        return order.astype(np.int64, copy=False), n - int(np.count_nonzero(np.isnan(values)))
    if dk in "iu":
        return np.argsort(values, kind="stable").astype(np.int64, copy=False), n
    if dk == "b":
        return np.argsort(values.view(np.uint8), kind="stable").astype(np.int64, copy=False), n
    if dk in "Mm":
        nat = np.isnat(values)
        key = values.view(np.int64).copy()
        key[nat] = np.iinfo(np.int64).max
        return np.argsort(key, kind="stable").astype(np.int64, copy=False), n - int(nat.sum())
    try:
        codes, _ = pd.factorize(values, sort=True, use_na_sentinel=True)
    except TypeError:  # mixed, unorderable types: order by their text
        as_text = np.array([None if is_null_scalar(v) else str(v) for v in values], dtype=object)
        codes, _ = pd.factorize(as_text, sort=True, use_na_sentinel=True)
    n_null = int(np.count_nonzero(codes < 0))
    top = int(codes.max(initial=-1)) + 1
    codes = np.where(codes < 0, top, codes)
    dtype = np.uint16 if top < 65535 else np.int64  # 16-bit keys get numpy's radix sort
    order = np.argsort(codes.astype(dtype, copy=False), kind="stable")
    return order.astype(np.int64, copy=False), n - n_null


def _ascending_window(values: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Positions at ranks [start, stop) of the stable ascending order of the valid values."""
    lo, hi = np.partition(values, [start, stop - 1])[[start, stop - 1]]
    below_lo = int(np.count_nonzero(values < lo))
    lo_ties = np.flatnonzero(values == lo)  # in position order = their order among ties
    if lo == hi:
        return lo_ties[start - below_lo : stop - below_lo]
    inner = np.flatnonzero((values > lo) & (values < hi))
    inner = inner[np.argsort(values[inner], kind="stable")]
    below_hi = int(np.count_nonzero(values < hi))
    hi_ties = np.flatnonzero(values == hi)[: stop - below_hi]
    return np.concatenate([lo_ties[start - below_lo :], inner, hi_ties])


def window_order(values: np.ndarray, start: int, stop: int, ascending: bool) -> np.ndarray | None:
    """Positions ``order[start:stop]`` of a numeric column's order, in O(n) (a partition).

    ``order`` is what :func:`argsort_nulls_last` gives: stable ascending (ties by position)
    with missing values last; descending is its non-missing part reversed, then the missing
    values. Pages served from windows and from the full order therefore agree.
    Returns None for non-numeric columns.
    """
    if values.dtype.kind not in "iuf":
        return None
    n = len(values)
    nan = np.isnan(values) if values.dtype.kind == "f" else None
    n_valid = n - int(np.count_nonzero(nan)) if nan is not None else n
    stop = min(stop, n)
    parts = []
    s, e = start, min(stop, n_valid)
    if s < e:
        if ascending:
            parts.append(_ascending_window(values, s, e))
        else:
            parts.append(_ascending_window(values, n_valid - e, n_valid - s)[::-1])
    s, e = max(start, n_valid) - n_valid, stop - n_valid
    if nan is not None and s < e:
        parts.append(np.flatnonzero(nan)[s:e])
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(parts).astype(np.int64, copy=False)


def descending(asc: np.ndarray, n_valid: int) -> np.ndarray:
    """The descending order matching an ascending ``(order, n_valid)`` of :func:`argsort_nulls_last`."""
    return np.concatenate([asc[:n_valid][::-1], asc[n_valid:]])


def grouped_order(
    score: np.ndarray,
    group: np.ndarray,
    keeper: np.ndarray | None,
    *,
    by: str,
    ascending: bool,
) -> np.ndarray:
    """Row order that keeps the members of a group adjacent (duplicates side by side).

    Parameters
    ----------
    score : np.ndarray
        float per row, NaN for rows with no finding.
    group : np.ndarray
        Group code per row (int, ``-1`` for rows in no group), e.g. from ``pd.factorize``.
    keeper : np.ndarray or None
        bool per row: the member its group keeps.
    by : {"score", "group"}
        ``"score"``: groups ranked by their most suspicious member's score (a row in no group
        by its own score); ``"group"``: groups by code.
    ascending : bool
        Direction of the rank; within a group the keeper always comes first, then the
        other members by score, most suspicious first, then row order.

    Returns
    -------
    np.ndarray
        int64 positions of every row: the rows with a finding (a score or a group) first,
        then the others in row order.
    """
    if by not in ("score", "group"):
        raise ValueError(f"by must be 'score' or 'group', got {by!r}")
    has = ~np.isnan(score) | (group >= 0)
    rows = np.flatnonzero(has)
    s = score[rows]
    g = group[rows]
    grouped = g >= 0
    n_groups = int(g.max(initial=-1)) + 1
    # a row in no group is a group of its own (keys past the real group codes)
    unit = np.where(grouped, g, n_groups + np.arange(len(rows)))
    s_key = np.where(np.isnan(s), -np.inf, s)
    if by == "score":
        best = np.full(n_groups, -np.inf)
        np.maximum.at(best, g[grouped], s_key[grouped])
        rank = np.where(grouped, best[np.where(grouped, g, 0)], s_key)
        primary = rank if ascending else -rank
        missing = np.isneginf(rank)
        primary = np.where(missing, np.inf, primary)  # no score at all: last
    else:
        primary = np.where(grouped, g if ascending else -g, np.iinfo(np.int64).max).astype(
            np.float64
        )
    k = np.zeros(len(rows), dtype=bool) if keeper is None else keeper[rows].astype(bool)
    order = np.lexsort((rows, -s_key, ~k, unit, primary))
    rest = np.flatnonzero(~has)
    return np.concatenate([rows[order], rest]).astype(np.int64, copy=False)
