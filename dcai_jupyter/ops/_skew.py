"""Skewed numeric columns on a log scale, chosen from the data's own skewness.

A lognormal income or price spans orders of magnitude: measured in its own units, its top
rows look far from everything (outliers that are only the tail) while a value a thousand
times too small looks ordinary. On a log scale both read as they are. Shared by the scaled
space of the remove-data operations (:func:`~._space.scale_columns`) and the per-column
transforms of mixed rows (:func:`~._mixed_rows.robust_columns`).

The skewness is Kelly's, from the 10th, 50th and 90th percentiles, so that a few extreme
values (the outliers themselves) do not decide it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SKEW", "log_if_skewed", "quantile_skew"]

#: a non-negative column goes on a log scale when its quantile skewness (Kelly's) is above
#: this: a lognormal column of sigma 0.5 has 0.31 (sigma 0.8: 0.47), a normal or uniform
#: column 0
SKEW = 0.25


def quantile_skew(x: np.ndarray) -> float:
    """Kelly's skewness: ``(q90 + q10 - 2 q50) / (q90 - q10)``, in [-1, 1] (0 symmetric)."""
    q10, q50, q90 = np.quantile(x, [0.1, 0.5, 0.9])
    return float((q90 + q10 - 2 * q50) / (q90 - q10)) if q90 > q10 else 0.0


def log_if_skewed(
    x: np.ndarray, fit: np.ndarray | None = None, *, zeros: bool = True
) -> tuple[np.ndarray, bool]:
    """``x`` on a log scale when it is non-negative and right-skewed, else ``x`` itself.

    ``log(x)`` when every value is positive, so that a value many times too small stands
    out as much as one many times too large; ``log(x + c)`` with ``c`` the smallest
    positive value of the fitted rows when the column holds zeros (``log1p`` for counts).

    Parameters
    ----------
    x : np.ndarray (n,)
        Finite values of one column.
    fit : np.ndarray of bool (n,), optional
        The rows whose skewness and offset decide (default: every row).
    zeros : bool
        Whether a column holding zeros may be transformed (``False``: only positive
        quantities, every value above 0).

    Returns
    -------
    values, transformed : np.ndarray, bool
    """
    x = np.asarray(x, dtype=np.float64)
    ref = x if fit is None else x[fit]
    if len(ref) < 3 or x.min() < 0 or (not zeros and x.min() <= 0):
        return x, False
    if quantile_skew(ref) <= SKEW:
        return x, False
    positive = ref[ref > 0]
    if len(positive) == 0:
        return x, False
    c = 0.0 if x.min() > 0 else float(positive.min())
    return np.log(x + c), True
