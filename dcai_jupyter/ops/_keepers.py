"""Groups and keepers: samples linked as copies form a group; each group keeps one member.

Exact copies share a representative; near copies link representatives. The groups are
the connected components of those links (:func:`group_numbers`, numbered by their first
row), and :func:`choose_keepers` picks the member each group keeps:

- ``keep="first"``: the member with the smallest sample id (the oldest);
- ``keep="best"``: a member whose label is the group's majority label; when the labels
  tie, the member whose label an out-of-sample model finds most probable, else the first.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["KEEP", "choose_keepers", "group_numbers", "has_label_tie"]

KEEP = ("first", "best")


def group_numbers(
    rep_of: np.ndarray, n_reps: int, links: Sequence[tuple[Sequence[int], Sequence[int]]]
) -> np.ndarray:
    """The group of each row (-1: alone), from its representative and the near links.

    Parameters
    ----------
    rep_of : np.ndarray of int, shape (n,)
        Each row's representative (rows of one content share it).
    n_reps : int
        The number of representatives.
    links : sequence of (xs, ys)
        Pairs of linked representatives.

    Returns
    -------
    np.ndarray of int64, shape (n,)
        Groups of more than one row, numbered 0, 1, ... by their first row.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rep_of = np.asarray(rep_of, dtype=np.int64)
    n = len(rep_of)
    xs = np.concatenate([np.asarray(x, dtype=np.int64) for x, _ in links] or [np.zeros(0, int)])
    ys = np.concatenate([np.asarray(y, dtype=np.int64) for _, y in links] or [np.zeros(0, int)])
    graph = coo_matrix((np.ones(len(xs)), (xs, ys)), shape=(n_reps, n_reps))
    _, comp = connected_components(graph, directed=False)
    root_of_row = comp[rep_of]
    size = np.bincount(root_of_row, minlength=n_reps)
    in_group = size[root_of_row] > 1
    group = np.full(n, -1, dtype=np.int64)
    if in_group.any():
        # number groups by their first row
        pos = np.flatnonzero(in_group)
        roots, first = np.unique(root_of_row[pos], return_index=True)
        order = np.argsort(pos[first], kind="stable")
        number = np.empty(len(roots), dtype=np.int64)
        number[order] = np.arange(len(roots))
        group[pos] = number[np.searchsorted(roots, root_of_row[pos])]
    return group


def choose_keepers(
    group: np.ndarray,
    *,
    keep: str = "first",
    ids: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    confidence: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean mask of the keeper of each group (``group`` -1 = no group: never a keeper).

    ``keep="first"``: the smallest id. ``keep="best"``: among the members carrying the
    group's majority label (all tied labels on a tie), the highest ``confidence`` (the
    out-of-sample probability of the member's own label), then the smallest id.
    Unlabeled members are kept only when no member has a label.
    """
    if keep not in KEEP:
        raise ValueError(f"keep must be one of {KEEP}; got {keep!r}")
    group = np.asarray(group)
    n = len(group)
    ids = np.arange(n) if ids is None else np.asarray(ids)
    keeper = np.zeros(n, dtype=bool)
    members: dict[int, list[int]] = {}
    for pos in np.flatnonzero(group >= 0).tolist():
        members.setdefault(int(group[pos]), []).append(pos)
    for rows in members.values():
        cand = sorted(rows, key=lambda p: ids[p])
        if keep == "best" and labels is not None:
            labs = pd.Series([labels[p] for p in cand], dtype=object)
            has = ~labs.isna().to_numpy()
            if has.any():
                counts = labs[has].value_counts()
                top = counts[counts == counts.max()].index
                cand = [
                    p for p, lab, h in zip(cand, labs, has, strict=True) if h and lab in set(top)
                ]
                if len(top) > 1 and confidence is not None:
                    cand = sorted(
                        cand, key=lambda p: (-float(np.nan_to_num(confidence[p], nan=-1.0)), ids[p])
                    )
        keeper[cand[0]] = True
    return keeper


def has_label_tie(group: np.ndarray, labels: np.ndarray) -> bool:
    s = pd.DataFrame({"g": group, "y": pd.Series(labels, dtype=object)})
    s = s[(s["g"] >= 0) & s["y"].notna()]
    for _, y in s.groupby("g")["y"]:
        counts = y.value_counts()
        if (counts == counts.max()).sum() > 1:
            return True
    return False
