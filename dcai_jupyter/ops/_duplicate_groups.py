"""Duplicates on arrays: exact and near copies of rows grouped, one keeper per group.

The array half of duplicates (the recorded operation is :mod:`._duplicates`). Exact copies
share their content key (:mod:`._content_keys`), found by hashing rows; near copies are
linked by the rules of :mod:`._near_copies` in a scaled feature space; linked rows form a
group and each group keeps one member (:mod:`._keepers`). :func:`duplicate_groups` gives
the groups, :func:`find_duplicates` the findings frame with keepers and reasons.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._content_keys import content_keys
from ._keepers import KEEP, choose_keepers, group_numbers
from ._near_copies import MAX_DIMS, check_threshold, near_links, rep_candidates
from ._space import as_float_matrix, reduce_dims, scale_columns

__all__ = [
    "COLUMNS",
    "ROLES",
    "duplicate_groups",
    "duplicates_frame",
    "find_duplicates",
    "group_rows",
]

ROLES = {
    "score": "score",
    "flag": "is_duplicate",
    "group": "group",
    "keeper": "keeper",
    "reason": "reason",
}
COLUMNS = ["score", "is_duplicate", "group", "keeper", "reason", "nearest_id", "distance"]


# ---------------------------------------------------------------------------- groups
def duplicate_groups(
    X: Any = None,
    *,
    keys: Any = None,
    near: bool = True,
    threshold: float | None = None,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Group exact and near copies (rows in the given order; no keeper chosen yet).

    Parameters
    ----------
    X : array-like (n, d), optional
        Numeric features for near copies (and exact copies when ``keys`` is not given).
    keys : array-like of n ints, optional
        Exact-content keys (see :func:`content_keys`); default: identical rows of ``X``.
    near : bool
        Also group near copies (needs ``X``).
    threshold : float, optional
        Near copies are closer than ``threshold`` times the median distance from a distinct
        sample to its nearest other distinct sample, in the scaled feature space.
        ``None``: automatic (a global distance rule and a local ratio test, see the module
        docstring).
    random_state : int, optional
        Seed of the principal components on wide data.

    Returns
    -------
    pd.DataFrame, one row per input row (positional index)
        ``group`` (int, -1 = in no group; groups numbered by their first row),
        ``exact`` (bool: another row has the same content), ``nearest`` (position of the
        nearest other distinct row, -1 when unknown), ``distance`` (to it, as a fraction of
        the typical nearest-neighbour distance; 0 for exact copies), ``ratio`` (for the
        pairs the local ratio test links: their ratio, see :func:`tangent_ratio`; NaN for
        other rows).
    """
    return group_rows(X, keys, near, threshold, random_state)[0]


#: scaled representatives, the representative of each row, typical distance, threshold used
_Space = tuple[np.ndarray, np.ndarray, float, float]


def group_rows(
    X: Any,
    keys: Any,
    near: bool,
    threshold: float | None,
    random_state: int | None,
    progress: bool = False,
    *,
    candidates: np.ndarray | None = None,
    exact: bool | None = None,
) -> tuple[pd.DataFrame, _Space | None]:
    """Group the rows; ``candidates`` (n, K): a row-level neighbour graph to read near
    copies from (the audit's), ``exact``: force the neighbour search's kind."""
    check_threshold(threshold)
    if X is None and keys is None:
        raise ValueError("pass X (features) or keys (exact-content keys)")
    if near and X is None:
        raise ValueError("near duplicates need features: pass X, or near=False")
    M = None if X is None else as_float_matrix(X)
    if keys is None:
        assert M is not None
        keys = content_keys({f"c{j}": M[:, j] for j in range(M.shape[1])})
    keys = np.asarray(keys, dtype=np.int64)
    n = len(keys)
    if M is not None and M.shape[0] != n:
        raise ValueError(f"X has {M.shape[0]} rows but keys has {n}")
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # representatives in row order
    reps = first[order]
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    rep_of = rank[np.asarray(inverse).ravel()].astype(np.int64)
    counts = np.bincount(rep_of, minlength=len(reps))
    exact_copy = counts[rep_of] > 1
    near_pos = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    linked_ratio = np.full(len(reps), np.nan)
    links: list[tuple[list[int], list[int]]] = []
    space: _Space | None = None
    if near and M is not None and len(reps) >= 2:
        Z = reduce_dims(scale_columns(M[reps]), MAX_DIMS, random_state)
        found = near_links(
            Z,
            threshold,
            candidates=None if candidates is None else rep_candidates(candidates, reps, rep_of),
            exact=exact,
            progress=progress,
            random_state=random_state,
        )
        near_pos = reps[found.nearest][rep_of]
        dist = (found.distance / found.typical)[rep_of]
        linked_ratio = found.ratio
        links = found.links
        space = (Z, rep_of, found.typical, found.cut)
    dist = np.where(exact_copy, 0.0, dist)
    if exact_copy.any():
        # an exact copy's nearest row is another copy: the first of them, or the second
        first_of = reps[rep_of]
        later = np.flatnonzero(exact_copy & (first_of != np.arange(n)))  # ascending
        second = np.full(len(reps), -1, dtype=np.int64)
        keys, at = np.unique(rep_of[later], return_index=True)  # each key's first later copy
        second[keys] = later[at]
        near_pos = np.where(
            exact_copy,
            np.where(first_of != np.arange(n), first_of, second[rep_of]),
            near_pos,
        )
    frame = pd.DataFrame(
        {
            "group": group_numbers(rep_of, len(reps), links),
            "exact": exact_copy,
            "nearest": near_pos,
            "distance": dist,
            "ratio": np.where(exact_copy, np.nan, linked_ratio[rep_of]),
        }
    )
    return frame, space


def _reasons(
    group: np.ndarray,
    keeper: np.ndarray,
    keys: np.ndarray,
    ids: np.ndarray,
    pos_dist: Any,
    ratio: np.ndarray,
) -> list[str | None]:
    keeper_of = {int(group[p]): p for p in np.flatnonzero(keeper).tolist()}
    sizes = pd.Series(group[group >= 0]).value_counts().to_dict()
    out: list[str | None] = [None] * len(group)
    for p in np.flatnonzero(group >= 0).tolist():
        g = int(group[p])
        k = keeper_of[g]
        if p == k:
            out[p] = f"keeper of group {g} ({sizes[g]} samples)"
        elif keys[p] == keys[k]:
            out[p] = f"exact copy of {ids[k]}"
        else:
            out[p] = f"near copy of {ids[k]}: distance {pos_dist(p, k):.2f}"
            if ratio[p] == ratio[p]:
                out[p] += f" ({ratio[p]:.2f} of each one's nearest other neighbour's)"
    return out


def duplicates_frame(
    groups: pd.DataFrame,
    keeper: np.ndarray,
    keys: np.ndarray,
    ids: np.ndarray,
    space: _Space | None,
) -> pd.DataFrame:
    group = groups["group"].to_numpy()

    def pos_dist(p: int, k: int) -> float:
        if space is None:
            return float("nan")
        Z, rep_of, typical, _ = space
        return float(np.linalg.norm(Z[rep_of[p]] - Z[rep_of[k]]) / typical)

    dist = groups["distance"].to_numpy(dtype=np.float64)
    ratio = groups["ratio"].to_numpy(dtype=np.float64)
    # relative to the typical neighbour distance, or (pairs of the local ratio test) to
    # the pair's own neighbourhoods: the closer of the two
    score = 1.0 - np.clip(np.nan_to_num(np.fmin(dist, ratio), nan=1.0), 0.0, 1.0)
    nearest_pos = groups["nearest"].to_numpy()
    found = nearest_pos >= 0
    nearest_id = pd.array(np.zeros(len(nearest_pos), dtype=np.int64), dtype="Int64")
    nearest_id[found] = np.asarray(ids)[nearest_pos[found]]
    nearest_id[~found] = pd.NA
    frame = pd.DataFrame(
        {
            "score": score,
            "is_duplicate": (group >= 0) & ~keeper,
            "group": pd.array(np.where(group >= 0, group, 0), dtype="Int64"),
            "keeper": keeper,
            "reason": pd.Series(_reasons(group, keeper, keys, ids, pos_dist, ratio), dtype=object),
            "nearest_id": nearest_id,
            "distance": dist,
        },
        index=pd.Index(ids, name="sample_id"),
    )
    frame.loc[group < 0, "group"] = pd.NA
    return frame


def find_duplicates(
    X: Any,
    *,
    keys: Any = None,
    ids: Any = None,
    labels: Any = None,
    confidence: Any = None,
    near: bool = True,
    threshold: float | None = None,
    keep: str = "first",
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Exact and near duplicates of the rows of ``X``, grouped, one keeper per group.

    Parameters
    ----------
    X : array-like (n, d)
        Numeric features (encode other columns with
        :func:`~dcai_jupyter.ops.feature_matrix`).
    keys : array-like of n ints, optional
        Exact-content keys (:func:`content_keys`); default: identical rows of ``X``.
    ids : array-like, optional
        Sample ids (default 0..n-1); ``keep="first"`` keeps the smallest.
    labels, confidence : array-like, optional
        For ``keep="best"``: the labels, and the out-of-sample probability of each row's
        own label (breaks label ties).
    near, threshold, random_state
        As in :func:`duplicate_groups`.
    keep : {"first", "best"}
        Which member each group keeps (see the module docstring).

    Returns
    -------
    pd.DataFrame indexed by sample id
        ``score`` (1 = exact copy, falling to 0 at the typical nearest-neighbour distance,
        or for a pair of the local ratio test at its neighbourhoods' distance),
        ``is_duplicate`` (in a group and not its keeper: the rows to remove), ``group``
        (Int64, NA outside groups), ``keeper``, ``reason`` (``"exact copy of 12"``,
        ``"near copy of 12: distance 0.03"``), ``nearest_id`` and ``distance`` (to the
        nearest other distinct row, relative to the typical one).
    """
    if keep not in KEEP:
        raise ValueError(f"keep must be one of {KEEP}; got {keep!r}")
    M = as_float_matrix(X)
    n = M.shape[0]
    k = (
        content_keys({f"c{j}": M[:, j] for j in range(M.shape[1])})
        if keys is None
        else np.asarray(keys, dtype=np.int64)
    )
    idx = np.arange(n) if ids is None else np.asarray(ids)
    if len(idx) != n or len(k) != n:
        raise ValueError(f"X has {n} rows but ids/keys have {len(idx)}/{len(k)}")
    if pd.Index(idx).has_duplicates:
        raise ValueError("ids must be unique")
    groups, space = group_rows(M, k, near, threshold, random_state)
    keeper = choose_keepers(
        groups["group"].to_numpy(),
        keep=keep,
        ids=idx,
        labels=None if labels is None else np.asarray(labels, dtype=object),
        confidence=None if confidence is None else np.asarray(confidence, dtype=np.float64),
    )
    frame = duplicates_frame(groups, keeper, k, idx, space)
    frame.attrs["threshold"] = None if space is None else space[3]
    return frame
