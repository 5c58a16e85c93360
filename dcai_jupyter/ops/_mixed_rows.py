"""Near copies and outliers on mixed rows: each column compared by its role.

Distances in one encoded space serve mixed tables badly: a lognormal income makes its top
rows look far from everything (outliers that are just the tail), and a text reduced to a
few dimensions makes two reviews with the same words in another order look like copies,
whatever the other columns say. So on a table with categorical, text or datetime columns:

- **near copies** (:func:`near_copy_pairs`) agree column by column: categories equal,
  texts equal after normalising case, punctuation, whitespace *and word order* (or, given
  their embeddings, similar by meaning: cosine at least ``TEXT_MEANING``), dates
  equal to the day, and every number within ``NEAR_RTOL`` of the other (relative); a
  missing value matches only a missing value. Rows are blocked by their non-numeric
  content, then swept in order of one number, so the cost stays near linear;
- **outliers** (:func:`robust_columns`) are measured on per-column robust transforms:
  skewed numbers on a log scale (:func:`~._skew.log_if_skewed`: Kelly's quantile
  skewness above ``SKEW``), then in robust standard deviations (median, MAD); a
  category by how much rarer its value is than the typical row's (``log`` of the ratio of
  counts); dates as numbers. :func:`unusual_columns` says which columns make a row
  unusual (the findings' ``reason``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._skew import SKEW, log_if_skewed, quantile_skew
from ._text_norm import normalize_text

__all__ = [
    "NEAR_RTOL",
    "is_mixed_rows",
    "mixed_groups",
    "near_copy_pairs",
    "robust_columns",
    "unusual_columns",
]

#: numbers of two near copies differ by at most this fraction of the larger (absolute) one
NEAR_RTOL = 0.015
#: texts of two near copies, given their embeddings, have at least this cosine similarity
#: (WordLlama: "the cat sat on the mat" / "a kitten rests on a rug" 0.37, unrelated ~0.1);
#: the other columns must agree too, so a reordered text with other numbers is no copy
TEXT_MEANING = 0.33
#: neighbours by meaning searched per row for candidate pairs (when the other columns
#: cannot narrow them down)
MEANING_K = 10
#: the other columns narrow down the candidates when their blocks hold at most this many
#: pairs (or there are numbers to sweep)
MAX_BLOCK_PAIRS = 200_000
#: the MAD of a normal distribution is this many standard deviations
_MAD_TO_SD = 1.4826


def _missing(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _text_key(v: Any) -> str:
    if _missing(v):
        return "\x00na"
    return " ".join(sorted(normalize_text(str(v)).split()))


def _cat_key(v: Any) -> str:
    if _missing(v):
        return "\x00na"
    if isinstance(v, str):
        return " ".join(v.split()).casefold()
    return repr(v)


def _day_key(values: np.ndarray) -> np.ndarray:
    s = pd.to_datetime(pd.Series(values), errors="coerce", utc=True, format="mixed")
    return s.dt.strftime("%Y-%m-%d").fillna("\x00na").to_numpy(dtype=object)


def _numbers(values: np.ndarray) -> np.ndarray:
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)


def near_copy_pairs(
    columns: Mapping[str, np.ndarray],
    roles: Mapping[str, str],
    *,
    rtol: float = NEAR_RTOL,
    meaning: Mapping[str, np.ndarray] | None = None,
    min_cosine: float = TEXT_MEANING,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of rows that are near copies column by column (see the module docstring).

    Parameters
    ----------
    columns
        ``{name: values}`` of equal length.
    roles
        The role of each column (``numeric``, ``categorical``, ``text``, ``datetime``;
        other roles compare by exact value).
    rtol
        Relative tolerance of numbers.
    meaning
        ``{text column: unit-length embeddings}``: those texts compare by meaning (cosine
        at least ``min_cosine``) instead of by normalised words.
    min_cosine
        The cosine similarity two embedded texts need (default ``TEXT_MEANING``).

    Returns
    -------
    a, b, worst : np.ndarray
        Row positions of each pair (``a < b``) and the largest relative difference of their
        numbers (0 without numeric columns).
    """
    names = list(columns)
    n = len(next(iter(columns.values()))) if names else 0
    meaning = {c: E for c, E in (meaning or {}).items() if c in columns and roles.get(c) == "text"}
    if meaning and n >= 2:
        return _meaning_pairs(columns, roles, rtol, meaning, min_cosine)
    keys: list[np.ndarray] = []
    nums: list[np.ndarray] = []
    for c in names:
        role = roles.get(c, "categorical")
        v = np.asarray(columns[c], dtype=object) if role != "numeric" else columns[c]
        if role == "numeric":
            nums.append(_numbers(np.asarray(v)))
        elif role == "text":
            memo: dict[Any, str] = {}
            keys.append(
                np.array(
                    [memo[x] if x in memo else memo.setdefault(x, _text_key(x)) for x in v],
                    dtype=object,
                )
            )
        elif role == "datetime":
            keys.append(_day_key(np.asarray(columns[c])))
        else:
            keys.append(np.array([_cat_key(x) for x in v], dtype=object))
    empty = np.zeros(0, dtype=np.int64)
    if n < 2:
        return empty, empty, np.zeros(0)
    if keys:
        frame = pd.DataFrame({f"k{j}": k for j, k in enumerate(keys)})
        block = frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy()
    else:
        block = np.zeros(n, dtype=np.int64)
    N = np.column_stack(nums) if nums else np.zeros((n, 0))
    counts = np.bincount(block)
    found_a: list[np.ndarray] = []
    found_b: list[np.ndarray] = []
    # sweep on the number with the most distinct values (fewest ties: fewest candidates)
    sweep = int(np.argmax([len(np.unique(c[~np.isnan(c)])) for c in N.T])) if N.shape[1] else -1
    for g in np.flatnonzero(counts > 1):
        rows = np.flatnonzero(block == g)
        if sweep < 0:  # no numbers: every pair of the block
            i, j = np.triu_indices(len(rows), k=1)
            found_a.append(rows[i])
            found_b.append(rows[j])
            continue
        v = N[rows, sweep]
        missing = np.isnan(v)
        # rows missing the sweep number pair only with each other (one missing: no copy)
        nan_rows = rows[missing]
        if len(nan_rows) > 1:
            i, j = np.triu_indices(len(nan_rows), k=1)
            found_a.append(nan_rows[i])
            found_b.append(nan_rows[j])
        order = np.argsort(v[~missing], kind="stable")
        srt, vs = rows[~missing][order], v[~missing][order]
        # a partner lies within the tolerance of the sweep number: |b - a| <= t * max(|a|,
        # |b|) + 1e-12 with |b| <= |a| + (b - a) gives b - a <= (t |a| + 1e-12) / (1 - t)
        t = rtol + 1e-12
        hi = np.searchsorted(vs, vs + (t * np.abs(vs) + 1e-12) / (1.0 - t), side="right")
        span = hi - np.arange(len(vs)) - 1
        if span.sum() == 0:
            continue
        i = np.repeat(np.arange(len(vs)), span)
        j = i + 1 + (np.arange(len(i)) - np.repeat(np.cumsum(span) - span, span))
        found_a.append(srt[i])
        found_b.append(srt[j])
    empty_pairs = np.zeros(0, dtype=np.int64)
    pa = np.concatenate(found_a) if found_a else empty_pairs
    pb = np.concatenate(found_b) if found_b else empty_pairs
    pa, pb = np.minimum(pa, pb), np.maximum(pa, pb)
    worst = np.zeros(len(pa))
    ok = np.ones(len(pa), dtype=bool)
    for x in N.T:  # every number within the tolerance (both missing: equal)
        xa, xb = x[pa], x[pb]
        both, one = np.isnan(xa) & np.isnan(xb), np.isnan(xa) ^ np.isnan(xb)
        scale = np.maximum(np.abs(xa), np.abs(xb))
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(both | ~(scale > 0), 0.0, np.abs(xa - xb) / scale)
        ok &= ~one & (rel <= rtol + 1e-12)
        worst = np.maximum(worst, np.where(one, 0.0, rel))
    pa, pb, worst = pa[ok], pb[ok], worst[ok]
    order = np.lexsort((pb, pa))  # one order whatever the sweep found first
    return pa[order], pb[order], worst[order]


def _meaning_pairs(
    columns: Mapping[str, np.ndarray],
    roles: Mapping[str, str],
    rtol: float,
    meaning: Mapping[str, np.ndarray],
    min_cosine: float = TEXT_MEANING,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`near_copy_pairs` where some texts compare by meaning.

    Candidate pairs: the rows that agree on every other column (blocked and swept as
    without meaning) when there are numbers to sweep or the blocks are small; else each
    row's ``MEANING_K`` nearest by the first embedded text plus its exact word-bag copies.
    A candidate is kept when every column agrees by its role's rule."""
    from ._neighbours import neighbour_graph

    n = len(next(iter(meaning.values())))
    other = {c: v for c, v in columns.items() if c not in meaning}
    numeric = any(roles.get(c, "categorical") == "numeric" for c in other)
    if other and (numeric or _block_pairs(other, roles) <= MAX_BLOCK_PAIRS):
        a, b, _ = near_copy_pairs(other, roles, rtol=rtol)
        pairs = np.column_stack([a, b]).astype(np.int64)
    else:
        first = next(iter(meaning))
        E = np.asarray(meaning[first], dtype=np.float32)
        dist, idx = neighbour_graph(E, min(MEANING_K, n - 1), metric="cosine")
        close = (1.0 - dist) >= min_cosine
        rows = np.repeat(np.arange(n), close.sum(axis=1))
        a, b = np.minimum(rows, idx[close]), np.maximum(rows, idx[close])
        # exact word-bag copies beyond the k nearest (many rows with one text) join as well
        ea, eb, _ = near_copy_pairs({first: columns[first]}, {first: "text"}, rtol=rtol)
        pairs = np.unique(
            np.column_stack([np.concatenate([a, ea]), np.concatenate([b, eb])]).astype(np.int64),
            axis=0,
        )
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    ok = np.ones(len(pairs), dtype=bool)
    worst = np.zeros(len(pairs))
    pa, pb = pairs[:, 0], pairs[:, 1]
    for c, values in columns.items():
        role = roles.get(c, "categorical")
        if c in meaning:  # alike in meaning, or the same words
            M = np.asarray(meaning[c], dtype=np.float32)
            k = np.array([_text_key(x) for x in np.asarray(values, dtype=object)], dtype=object)
            ok &= (np.einsum("nd,nd->n", M[pa], M[pb]) >= min_cosine) | (k[pa] == k[pb])
        elif role == "numeric":
            x = _numbers(np.asarray(values))
            xa, xb = x[pa], x[pb]
            both, one = np.isnan(xa) & np.isnan(xb), np.isnan(xa) ^ np.isnan(xb)
            scale = np.maximum(np.abs(xa), np.abs(xb))
            with np.errstate(invalid="ignore", divide="ignore"):
                rel = np.where(both | ~(scale > 0), 0.0, np.abs(xa - xb) / scale)
            rel = np.where(one, np.inf, rel)
            ok &= rel <= rtol + 1e-12
            worst = np.maximum(worst, np.where(np.isfinite(rel), rel, 0.0))
        else:
            v = np.asarray(values, dtype=object)
            if role == "text":
                k = np.array([_text_key(x) for x in v], dtype=object)
            elif role == "datetime":
                k = _day_key(v)
            else:
                k = np.array([_cat_key(x) for x in v], dtype=object)
            ok &= k[pa] == k[pb]
    return pa[ok], pb[ok], worst[ok]


def _block_pairs(columns: Mapping[str, np.ndarray], roles: Mapping[str, str]) -> int:
    """Pairs within the blocks of equal non-numeric values of ``columns``."""
    keys = []
    for c, v in columns.items():
        role = roles.get(c, "categorical")
        if role == "datetime":
            keys.append(_day_key(np.asarray(v)))
        elif role == "text":
            keys.append(np.array([_text_key(x) for x in np.asarray(v, dtype=object)], dtype=object))
        else:
            keys.append(np.array([_cat_key(x) for x in np.asarray(v, dtype=object)], dtype=object))
    frame = pd.DataFrame({f"k{j}": k for j, k in enumerate(keys)})
    sizes = frame.groupby(list(frame.columns), sort=False, dropna=False).size().to_numpy()
    return int((sizes * (sizes - 1) // 2).sum())


def _robust_z(x: np.ndarray) -> np.ndarray:
    med = float(np.median(x))
    mad = float(np.median(np.abs(x - med))) * _MAD_TO_SD
    if not mad > 0:
        sd = float(np.std(x))
        mad = sd if sd > 0 else 1.0
    return (x - med) / mad


def robust_columns(
    columns: Mapping[str, np.ndarray], roles: Mapping[str, str]
) -> tuple[np.ndarray, list[str], list[str]]:
    """Per-column robust transforms for outliers (see the module docstring).

    Returns
    -------
    M : np.ndarray (n, d)
        One column per usable input column: numbers (log scale where skewed) and dates in
        robust standard deviations from the median; categories as ``log(typical count /
        count of the row's value)``, at least 0 (0 = as common as the typical row's value).
    used : list of str
        The input column of each column of ``M``.
    how : list of str
        How each was transformed (``"log scale"``, ``""``, ``"rare value"``).
    """
    cols: list[np.ndarray] = []
    used: list[str] = []
    how: list[str] = []
    for c, values in columns.items():
        role = roles.get(c)
        if role in ("numeric", "datetime"):
            if role == "datetime":
                s = pd.to_datetime(pd.Series(values), errors="coerce", utc=True, format="mixed")
                x = ((s - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1)).to_numpy(
                    dtype=np.float64, na_value=np.nan
                )
            else:
                x = _numbers(np.asarray(values))
            ok = np.isfinite(x)
            if ok.sum() < 3 or len(np.unique(x[ok])) < 2:
                continue
            v = x[ok]
            label = ""
            if role == "numeric" and len(np.unique(v)) > 2:
                # skewness from quantiles, so that the outliers themselves do not decide it
                skew = quantile_skew(v)
                v, logged = log_if_skewed(v)
                if logged:
                    label = "log scale"
                elif abs(skew) > 2 * SKEW:
                    v, label = np.sign(v) * np.log1p(np.abs(v)), "signed log scale"
            z = np.zeros(len(x))
            z[ok] = _robust_z(v)
            cols.append(z)
            used.append(c)
            how.append(label)
        elif role == "categorical":
            keys = pd.Series([_cat_key(v) for v in np.asarray(values, dtype=object)])
            counts = keys.map(keys.value_counts()).to_numpy(dtype=np.float64)
            if len(np.unique(counts)) < 2:
                continue
            typical = float(np.median(counts))
            cols.append(np.maximum(0.0, np.log(typical / counts)))
            used.append(c)
            how.append("rare value")
    n = len(next(iter(columns.values()))) if columns else 0
    M = np.column_stack(cols) if cols else np.zeros((n, 0))
    return M, used, how


def unusual_columns(
    M: np.ndarray,
    used: list[str],
    how: list[str],
    columns: Mapping[str, np.ndarray],
    rows: np.ndarray,
    *,
    top: int = 2,
    cut: float = 3.0,
) -> list[str]:
    """For each row position in ``rows``: the columns that make it unusual, as text.

    The columns whose transformed value is farthest from typical (at least ``cut``, else
    the ``top`` largest), e.g. ``"income 6.3 robust SD (log scale); city 'atlantis' (rare:
    1 row)"``.
    """
    out: list[str] = []
    n = M.shape[0]
    for p in np.asarray(rows, dtype=np.int64).tolist():
        if M.shape[1] == 0:
            out.append("")
            continue
        a = np.abs(M[p])
        order = np.argsort(-a, kind="stable")
        pick = [j for j in order if a[j] >= cut] or [j for j in order[:top] if a[j] > 0]
        parts = []
        for j in pick[: max(top, 3)]:
            c = used[j]
            if how[j] == "rare value":
                v = np.asarray(columns[c], dtype=object)[p]
                keys = [_cat_key(x) for x in np.asarray(columns[c], dtype=object)]
                count = sum(1 for k in keys if k == _cat_key(v))
                parts.append(f"{c} {v!r} (rare: {count} of {n} rows)")
            else:
                scale = f", {how[j]}" if how[j] else ""
                parts.append(f"{c} {M[p, j]:+.1f} robust SD{scale}")
        out.append("; ".join(parts))
    return out


def is_mixed_rows(roles: Mapping[str, str], columns: list[str]) -> bool:
    """Whether ``columns`` call for the per-role comparison: some are categorical, text or
    dates, and none is an image or an embedding (those keep the distance-based rules)."""
    rs = [roles.get(c, "numeric") for c in columns]
    if any(r in ("image", "embedding") for r in rs):
        return False
    return any(r in ("categorical", "text", "datetime") for r in rs)


def mixed_groups(keys: np.ndarray, a: np.ndarray, b: np.ndarray, worst: np.ndarray) -> pd.DataFrame:
    """The groups frame of ``_duplicates._group_rows`` from exact keys and near pairs.

    Columns ``group`` (-1 outside groups, numbered by first row), ``exact``, ``nearest``
    (the linked partner, -1), ``distance`` (0 for exact copies; the pair's largest relative
    difference of numbers as a fraction of ``NEAR_RTOL`` for near copies; NaN otherwise),
    ``ratio`` (NaN).
    """
    keys = np.asarray(keys, dtype=np.int64)
    n = len(keys)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    def union(x: int, y: int) -> None:
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)

    first_of: dict[int, int] = {}
    exact = np.zeros(n, dtype=bool)
    for p, k in enumerate(keys.tolist()):
        if k in first_of:
            union(first_of[k], p)
            exact[p] = exact[first_of[k]] = True
        else:
            first_of[k] = p
    nearest = np.full(n, -1, dtype=np.int64)
    distance = np.where(exact, 0.0, np.nan)
    for x, y, w in zip(a.tolist(), b.tolist(), worst.tolist(), strict=True):
        union(x, y)
        d = w / NEAR_RTOL if NEAR_RTOL > 0 else 0.0
        for p, q in ((x, y), (y, x)):
            if not exact[p] and not (distance[p] <= d):
                distance[p] = d
                nearest[p] = q
    root = np.array([find(p) for p in range(n)], dtype=np.int64)
    size = np.bincount(root, minlength=n)
    group = np.full(n, -1, dtype=np.int64)
    numbering: dict[int, int] = {}
    for p in range(n):
        if size[root[p]] > 1:
            group[p] = numbering.setdefault(int(root[p]), len(numbering))
    return pd.DataFrame(
        {
            "group": group,
            "exact": exact,
            "nearest": nearest,
            "distance": distance,
            "ratio": np.full(n, np.nan),
        }
    )
