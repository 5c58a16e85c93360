"""Duplicates: exact and near copies of samples, grouped, with one keeper per group.

Exact copies share their content: the same numbers, the same text after normalising case,
whitespace and punctuation, the same image pixels (array cells of one shape and values,
whatever their dtype; PIL images by their pixels). Near copies are found in a scaled
feature space (see :func:`~dcai_jupyter.ops._space.scale_columns`; at most 32 principal
components on wide data) by two rules, both calibrated on the data itself so that they
need no tuning per dataset (``threshold=None``):

1. **Global distance.** Closer than a threshold relative to the *typical* distance between
   a sample and its nearest other sample (the median over distinct samples): the smaller of

   - ``0.3`` of the typical distance (``DUPLICATE_THRESHOLD``), and
   - the distance below which, were the samples a locally uniform cloud of the data's
     intrinsic dimension ``m`` (the Levina-Bickel estimate from the 8 nearest neighbours,
     median over samples), fewer than ``CHANCE_PAIRS`` = 0.2 pairs would be that close by
     chance among ``n`` samples: ``(CHANCE_PAIRS / (n ln 2)) ** (1 / m)``. This only binds
     on low-dimensional data, where chance neighbours are close.

   It links tight groups of any size (several jittered copies of one sample), when the
   group stands apart: seen from each member, the farthest member is closer than the
   local ratio test's cut (below) times the nearest row outside the group. A pair that
   is merely close in a dense region, with other rows about as close, is not a copy.

2. **Local ratio test.** Two samples that are each other's nearest neighbour, whose
   distance is far below the distance from *each* of them to its nearest other neighbour
   (:func:`tangent_ratio`): a copy with noise can lie as far from its original as distinct
   samples lie from each other elsewhere (denser regions), so only a criterion relative to
   both samples' own neighbourhoods separates them. The distances are measured along the
   data (the local principal directions of the neighbours, at the member that lies on the
   data): distinct neighbours differ along the data, while noise spread over every column
   mostly falls outside it. The cut is the ratio below which fewer than ``CHANCE_PAIRS``
   samples would fall by chance in a locally uniform cloud of dimension ``m``
   (:func:`chance_ratio`: ``(CHANCE_PAIRS / n) ** (1 / m)``).

An explicit ``threshold`` replaces both by the global distance rule at that fraction.

Cost: one exact search of every row's two nearest rows (:func:`nearest_two`, blocked
float32 matrix products; about 1.2 CPU s for 20,000 rows of 20 columns), then small
searches for the rows the rules look at (the dimension sample, the mutual pairs, the
rows within the global radius).

Samples linked by exact or near copies form a group (connected components); each group
keeps one member:

- ``keep="first"``: the member with the smallest sample id (the oldest);
- ``keep="best"``: a member whose label is the group's majority label; when the labels
  tie, the member whose label an out-of-sample model finds most probable (the shared
  cross-validation runner), else the first.

:func:`find_duplicates` works on arrays; :class:`Duplicates` is the recorded operation
behind ``ds.find_duplicates()`` / ``ds.remove_duplicates()``: its change removes every
group member but the keeper, as one change.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from ..core import Findings
from ._base import Selection, register
from ._mixed_rows import is_mixed_rows, mixed_groups, near_copy_pairs
from ._removal import RemovalOperation, known_ids
from ._space import as_float_matrix, dataset_matrix, reduce_dims, scale_columns
from ._text_norm import normalize_text

if TYPE_CHECKING:  # pragma: no cover
    from ..core import ChangePlan, Dataset

__all__ = [
    "DUPLICATE_THRESHOLD",
    "Duplicates",
    "content_keys",
    "duplicate_groups",
    "find_duplicates",
    "normalize_text",
]

#: near copies: closer than this fraction of the median nearest-neighbour distance (at most)
DUPLICATE_THRESHOLD = 0.3
#: the automatic threshold expects fewer than this many chance pairs in a uniform cloud
CHANCE_PAIRS = 0.2
#: the neighbour search runs on at most this many principal components
MAX_DIMS = 32
#: the local directions of the ratio test come from this many nearest neighbours
NEIGHBOURS = 16
#: the intrinsic dimension is estimated from this many nearest neighbours ...
DIMENSION_NEIGHBOURS = 8
#: ... of at most this many rows
DIMENSION_ROWS = 2000
#: rows x columns of the distance blocks of :func:`nearest_two` (float32: 2 MB, in cache)
BLOCK = (256, 2048)
KEEP = ("first", "best")
ROLES = {
    "score": "score",
    "flag": "is_duplicate",
    "group": "group",
    "keeper": "keeper",
    "reason": "reason",
}
COLUMNS = ["score", "is_duplicate", "group", "keeper", "reason", "nearest_id", "distance"]


# ---------------------------------------------------------------------------- exact content
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


def _column_codes(values: Any) -> np.ndarray:
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        f = s.to_numpy(dtype=np.float64, na_value=np.nan) + 0.0
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
    return _group_rows(X, keys, near, threshold, random_state)[0]


#: scaled representatives, the representative of each row, typical distance, threshold used
_Space = tuple[np.ndarray, np.ndarray, float, float]


def check_threshold(threshold: Any) -> None:
    """A clear error unless ``threshold`` is None or a number strictly between 0 and 1."""
    if threshold is None:
        return
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, numbers.Real)
        or not (0 < float(threshold) < 1)
    ):
        raise ValueError(
            "threshold must be None (automatic) or a number between 0 and 1 (a fraction of "
            f"the typical nearest-neighbour distance); got {threshold!r}"
        )


def intrinsic_dimension(dk: np.ndarray) -> float:
    """Levina-Bickel estimate from each row's sorted neighbour distances (median over rows)."""
    k = dk.shape[1]
    if k < 2:
        return float("inf")
    ok = (dk > 0).all(axis=1)
    if not ok.any():
        return float("inf")
    d = dk[ok]
    logs = np.log(d[:, -1:] / d[:, :-1]).sum(axis=1)
    per_row = np.where(logs > 0, (k - 1) / np.where(logs > 0, logs, 1.0), np.inf)
    return float(np.median(per_row))


def automatic_threshold(n: int, m: float) -> float:
    """The automatic global near-copy threshold (module docstring) for ``n`` samples of
    intrinsic dimension ``m``."""
    if not np.isfinite(m) or m <= 0:
        return DUPLICATE_THRESHOLD
    chance = (CHANCE_PAIRS / (max(n, 2) * np.log(2))) ** (1.0 / m)
    return float(min(DUPLICATE_THRESHOLD, chance))


def chance_ratio(n: int, m: float) -> float:
    """The ratio below which fewer than ``CHANCE_PAIRS`` of ``n`` samples fall by chance.

    In a locally uniform cloud of dimension ``m`` the ratio ``r`` of a sample's nearest to
    its second-nearest neighbour distance follows ``P(r < t) = t ** m`` (``r ** m`` is
    uniform on 0..1), so among ``n`` samples ``n * t ** m`` pass by chance:
    ``t = (CHANCE_PAIRS / n) ** (1 / m)``. 0 (nothing passes) when ``m`` is unknown.
    """
    if not np.isfinite(m) or m <= 0 or n < 3:
        return 0.0
    return float((CHANCE_PAIRS / n) ** (1.0 / m))


def mutual_pairs(ik: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs ``(a, b)``, ``a < b``, of rows that are each other's nearest neighbour."""
    if ik.shape[1] == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    first = ik[:, 0]
    a = np.flatnonzero((first[first] == np.arange(len(first))) & (np.arange(len(first)) < first))
    return a, first[a]


def _others(ik: np.ndarray, P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """The ``k - 1`` nearest neighbours of each row ``P`` other than its partner ``Q``."""
    nb = ik[P]
    order = np.argsort(nb == Q[:, None], axis=1, kind="stable")[:, : ik.shape[1] - 1]
    return np.take_along_axis(nb, order, axis=1)


def _directions(C: np.ndarray, p: int) -> np.ndarray:
    """The first ``p`` principal directions (rows) of each stack of rows ``C``.

    From the eigenvectors of the small Gram matrices ``C C^T`` (rows x rows): the same
    directions as a singular value decomposition, several times faster on a stack.
    Directions of a zero singular value come out as zero rows.
    """
    w, U = np.linalg.eigh(C @ np.swapaxes(C, 1, 2))  # ascending
    w, U = w[:, ::-1][:, :p], U[:, :, ::-1][:, :, :p]
    scale = np.sqrt(np.clip(w, 0.0, None))
    tiny = scale <= scale[:, :1] * 1e-7
    V = np.swapaxes(U, 1, 2) @ C  # (stacks, p, d): singular value times direction
    return V / np.where(tiny, np.inf, scale)[:, :, None]


def tangent_ratio(
    Z: np.ndarray, ik: np.ndarray, a: np.ndarray, b: np.ndarray, m: float
) -> np.ndarray:
    """The ratio test of the pairs ``(a, b)``, measured along the data.

    At each end ``P`` of a pair (partner ``Q``), the other ``k - 1`` neighbours of ``P``
    (rows of ``ik``, the partner left out) show the directions in which the data varies
    near ``P``: their first ``p = ceil(m)`` principal directions (``m`` the intrinsic
    dimension) are the local tangent coordinates. The tangent of the pair is taken at
    the end that lies on the data, the one nearer its neighbours' local plane: a noisy
    copy sits off it, and every difference from a noisy copy to its neighbours carries
    its noise, which would tilt the directions. In those coordinates, each end's ratio is
    the partner's distance over its nearest other neighbour's; the pair's ratio is the
    larger of the two (a near copy as seen from both ends).

    Distinct neighbours differ along the data, so their ratio keeps the law of the plain
    ratio (:func:`chance_ratio`); a copy that differs by noise spread over every column
    keeps only the share ``p / d`` of that noise in tangent coordinates, so it stands out
    further from chance than by plain distance. When ``k - 1`` neighbours are too few to
    show an ``m``-dimensional tangent (``ceil(m) >= k - 1``), or it fills the space, the
    ratio is the plain one.

    Returns
    -------
    np.ndarray
        One ratio per pair (``inf`` when an end's other neighbours coincide with it).
    """
    k = ik.shape[1]
    out = np.full(len(a), np.inf)
    if len(a) == 0 or k < 2 or not np.isfinite(m) or m <= 0:
        return out
    Z = np.asarray(Z, dtype=np.float64)
    p = int(np.ceil(m))
    ends = ((a, b, _others(ik, a, b)), (b, a, _others(ik, b, a)))
    bases: list[np.ndarray | None] = [None, None]
    if p < min(k - 1, Z.shape[1]):
        resid = []
        for P, _, nb in ends:
            N = Z[nb]
            mid = N.mean(axis=1)
            plane = _directions(N - mid[:, None, :], p)
            x = Z[P] - mid
            off = x - np.einsum("npd,np->nd", plane, np.einsum("npd,nd->np", plane, x))
            resid.append(np.linalg.norm(off, axis=1))
        on_a = resid[0] <= resid[1]
        at = np.where(on_a, a, b)
        nb_at = np.where(on_a[:, None], ends[0][2], ends[1][2])
        tangent = _directions(Z[nb_at] - Z[at][:, None, :], p)
        bases = [tangent, tangent]
    ratio = np.zeros(len(a))
    for (P, Q, nb), V in zip(ends, bases, strict=True):
        E = Z[nb] - Z[P][:, None, :]  # (pairs, k - 1, d)
        delta = Z[Q] - Z[P]
        if V is not None:
            delta = np.einsum("npd,nd->np", V, delta)
            E = np.einsum("npd,nkd->nkp", V, E)
        num = np.linalg.norm(delta, axis=1)
        den = np.linalg.norm(E, axis=2).min(axis=1)
        end = np.divide(num, den, out=np.full(len(P), np.inf), where=den > 0)
        ratio = np.maximum(ratio, end)
    out[:] = ratio
    return out


def nearest_two(Z: np.ndarray, *, progress: bool = False) -> np.ndarray:
    """Row positions of each row's two nearest *other* rows (one when there are 2 rows).

    Exact brute force in float32 blocks that stay in cache, one native thread: one matrix
    product per block gives ``|z|^2 - 2 <q, z>`` (the squared distance up to the query's
    own constant), and two passes of ``argmin`` keep the two smallest. About twice as fast
    as a general k-nearest search, which keeps a heap per row. Distances are best
    recomputed in float64 from the positions (:func:`_distances`).
    """
    from threadpoolctl import threadpool_limits

    from ._progress import progress_bar

    n = Z.shape[0]
    k = min(2, n - 1)
    Z32 = np.ascontiguousarray(Z, dtype=np.float32)
    sq = np.einsum("ij,ij->i", Z32, Z32)
    queries = np.hstack([-2.0 * Z32, np.ones((n, 1), dtype=np.float32)])
    table = np.ascontiguousarray(np.hstack([Z32, sq[:, None]]).T)
    out = np.zeros((n, k), dtype=np.int64)
    R, C = BLOCK
    show = progress and n > 4 * R
    with (
        threadpool_limits(1),
        progress_bar(total=n, desc="near duplicates", disable=not show) as bar,
    ):
        for a in range(0, n, R):
            b = min(a + R, n)
            rows = np.arange(b - a)
            best = np.full((b - a, k), np.inf, dtype=np.float32)
            arg = np.zeros((b - a, k), dtype=np.int64)
            for c in range(0, n, C):
                e = min(c + C, n)
                G = queries[a:b] @ table[:, c:e]
                own = np.arange(max(a, c), min(b, e))
                G[own - a, own - c] = np.inf  # not the row itself
                col = G.argmin(axis=1)
                low = G[rows, col]
                # only rows whose block minimum beats their current k-th look further
                sub = np.flatnonzero(low < best[:, -1])
                if len(sub) == 0:
                    continue
                vals = np.full((len(sub), 2 * k), np.inf, dtype=np.float32)
                idx = np.zeros((len(sub), 2 * k), dtype=np.int64)
                vals[:, :k], idx[:, :k] = best[sub], arg[sub]
                vals[:, k], idx[:, k] = low[sub], col[sub] + c
                if k > 1:
                    H = G[sub]
                    H[np.arange(len(sub)), col[sub]] = np.inf
                    col2 = H.argmin(axis=1)
                    vals[:, k + 1], idx[:, k + 1] = H[np.arange(len(sub)), col2], col2 + c
                top = np.argsort(vals, axis=1, kind="stable")[:, :k]
                best[sub] = np.take_along_axis(vals, top, axis=1)
                arg[sub] = np.take_along_axis(idx, top, axis=1)
            out[a:b] = arg
            bar.update(b - a)
    return out


def _distances(Z: np.ndarray, rows: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """float64 distances from ``Z[rows]`` to ``Z[idx]`` (one row of ``idx`` per row)."""
    Z = np.asarray(Z, dtype=np.float64)
    return np.linalg.norm(Z[idx] - Z[rows][:, None, :], axis=2)


class _Neighbours:
    """Exact neighbour queries for some rows of ``Z`` (brute force, one native thread)."""

    def __init__(self, Z: np.ndarray) -> None:
        from sklearn.neighbors import NearestNeighbors

        self.Z = np.asarray(Z, dtype=np.float64)
        self.Z32 = np.ascontiguousarray(Z, dtype=np.float32)
        self.nn = NearestNeighbors(algorithm="brute").fit(self.Z32)

    def indices(self, rows: np.ndarray, k: int) -> np.ndarray:
        """The ``k`` nearest other rows of each of ``rows`` (nearest first; ``k < n``)."""
        from threadpoolctl import threadpool_limits

        if len(rows) == 0:
            return np.zeros((0, k), dtype=np.int64)
        with threadpool_limits(1):
            _, idx = self.nn.kneighbors(self.Z32[rows], n_neighbors=k + 1)
        # drop each row itself (normally column 0; with ties it may sit further right)
        own = idx == rows[:, None]
        drop = np.where(own.any(axis=1), own.argmax(axis=1), k)
        keep = np.ones_like(own)
        keep[np.arange(len(rows)), drop] = False
        idx = idx[keep].reshape(len(rows), k)
        # float64 distances, nearest first
        d = _distances(self.Z, rows, idx)
        order = np.argsort(d, axis=1, kind="stable")
        return np.take_along_axis(idx, order, axis=1)

    def distances(self, rows: np.ndarray, k: int) -> np.ndarray:
        """Sorted distances from each of ``rows`` to its ``k`` nearest other rows."""
        k = min(k, len(self.Z) - 1)
        if k < 1:
            return np.zeros((len(rows), 0))
        return np.sort(_distances(self.Z, rows, self.indices(rows, k)), axis=1)

    def within(self, rows: np.ndarray, radius: float) -> tuple[list[int], list[int]]:
        """The pairs ``(row, other)`` of ``rows`` and the other rows closer than ``radius``."""
        from threadpoolctl import threadpool_limits

        if len(rows) == 0 or not radius > 0:
            return [], []
        with threadpool_limits(1):
            idx = self.nn.radius_neighbors(self.Z32[rows], radius=radius, return_distance=False)
        xs: list[int] = []
        ys: list[int] = []
        for r, found in zip(rows.tolist(), idx, strict=True):
            others = np.asarray(found, dtype=np.int64)
            others = others[others != r]
            d = np.linalg.norm(self.Z[others] - self.Z[r], axis=1)
            others = others[d < radius]  # float64: the radius exactly
            xs.extend([r] * len(others))
            ys.extend(others.tolist())
        return xs, ys


def _apart(
    finder: _Neighbours, xs: np.ndarray, ys: np.ndarray, cut: float
) -> tuple[list[int], list[int]]:
    """The links ``(x, y)`` of the global rule whose group stands apart from the data.

    The rows within the global radius of ``x`` are its candidate group; the link holds
    when, seen from both ``x`` and ``y``, the farthest member of the group is closer than
    ``cut`` times the nearest row outside it (the ratio test of :func:`chance_ratio` for a
    group: in a uniform cloud ``(d_g / d_(g+1)) ** m`` falls below ``t ** m`` with
    probability ``t ** (m g)``, rarer still than for a pair). A pair that is merely close
    in a dense region, with other rows about as close, is not a copy.
    """
    keep: set[tuple[int, int]] = set()
    rows, counts = np.unique(xs, return_counts=True)
    ok: dict[int, bool] = {}
    for g in np.unique(counts).tolist():
        at = rows[counts == g]
        if g + 1 > len(finder.Z) - 1:
            ok.update(dict.fromkeys(at.tolist(), True))  # no row outside the group
            continue
        d = np.sort(_distances(finder.Z, at, finder.indices(at, g + 1)), axis=1)
        apart = d[:, g - 1] < cut * d[:, g]
        ok.update(zip(at.tolist(), apart.tolist(), strict=True))
    for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
        if ok.get(x, False) and ok.get(y, False):
            keep.add((x, y))
    pairs = sorted(keep)
    return [x for x, _ in pairs], [y for _, y in pairs]


def _group_rows(
    X: Any,
    keys: Any,
    near: bool,
    threshold: float | None,
    random_state: int | None,
    progress: bool = False,
) -> tuple[pd.DataFrame, _Space | None]:
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
    exact = counts[rep_of] > 1
    # union-find over representatives: near links; exact copies share their representative
    parent = np.arange(len(reps))
    near_pos = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    linked_ratio = np.full(len(reps), np.nan)
    space: _Space | None = None
    if near and M is not None and len(reps) >= 2:
        Z = reduce_dims(scale_columns(M[reps]), MAX_DIMS, random_state)
        ik = nearest_two(Z, progress=progress)
        nr = len(reps)
        dk = _distances(Z, np.arange(nr), ik)
        d1, i1 = dk[:, 0], ik[:, 0]
        positive = d1[d1 > 0]
        typical = float(np.median(positive)) if len(positive) else 1.0
        near_pos = reps[i1][rep_of]
        dist = (d1 / typical)[rep_of]
        finder = _Neighbours(Z)
        # the intrinsic dimension from the nearest neighbours of (at most) DIMENSION_ROWS
        # rows spread evenly over the data: a median, as good from a sample
        rows = np.unique(np.linspace(0, nr - 1, min(nr, DIMENSION_ROWS)).astype(np.int64))
        kk = min(NEIGHBOURS, nr - 1)
        known = np.full((nr, kk), -1, dtype=np.int64)
        known[rows] = finder.indices(rows, kk)
        dk_rows = np.sort(_distances(Z, rows, known[rows]), axis=1)
        m = intrinsic_dimension(dk_rows[:, :DIMENSION_NEIGHBOURS])
        cut = automatic_threshold(nr, m) if threshold is None else float(threshold)
        space = (Z, rep_of, typical, cut)
        # global rule: every pair closer than the cut (only rows whose nearest is)
        close = np.flatnonzero(d1 < cut * typical)
        xs, ys = finder.within(close, cut * typical)
        if threshold is None and len(xs):
            xs, ys = _apart(finder, np.asarray(xs), np.asarray(ys), chance_ratio(nr, m))
        links = [(xs, ys)]
        if threshold is None:
            # and mutual nearest neighbours far closer, along the data, than their
            # neighbourhoods' own nearest samples (module docstring: the ratio test)
            pa, pb = mutual_pairs(ik)
            if len(pa) and np.isfinite(m) and np.ceil(m) < min(NEIGHBOURS - 1, Z.shape[1]):
                # the local directions need the NEIGHBOURS nearest of the pairs' rows
                ends = np.union1d(pa, pb)
                todo = ends[known[ends, 0] < 0]
                known[todo] = finder.indices(todo, NEIGHBOURS)
                ratio = tangent_ratio(Z, known, pa, pb, m)
            else:
                ratio = tangent_ratio(Z, ik, pa, pb, m)  # the plain ratio
            ok = ratio < chance_ratio(nr, m)
            links.append((pa[ok].tolist(), pb[ok].tolist()))
            linked_ratio[pa[ok]] = ratio[ok]
            linked_ratio[pb[ok]] = ratio[ok]
        for xs, ys in links:
            for x, y in zip(xs, ys, strict=True):
                _union(parent, x, y)
    dist = np.where(exact, 0.0, dist)
    if exact.any():
        # an exact copy's nearest row is another copy: the first of them, or the second
        first_of = reps[rep_of]
        second: dict[int, int] = {}
        for pos in np.flatnonzero(exact & (first_of != np.arange(n))).tolist():
            second.setdefault(int(rep_of[pos]), pos)
        near_pos = np.where(
            exact,
            np.where(first_of != np.arange(n), first_of, [second.get(int(r), -1) for r in rep_of]),
            near_pos,
        )
    roots = np.fromiter((_find(parent, i) for i in range(len(reps))), dtype=np.int64)
    root_of_row = roots[rep_of]
    size = np.bincount(root_of_row, minlength=len(reps))
    in_group = size[root_of_row] > 1
    group = np.full(n, -1, dtype=np.int64)
    if in_group.any():
        # number groups by their first row
        first_row: dict[int, int] = {}
        for pos in np.flatnonzero(in_group).tolist():
            first_row.setdefault(int(root_of_row[pos]), pos)
        numbering = {
            root: g for g, (root, _) in enumerate(sorted(first_row.items(), key=lambda t: t[1]))
        }
        group[in_group] = [numbering[int(r)] for r in root_of_row[in_group]]
    frame = pd.DataFrame(
        {
            "group": group,
            "exact": exact,
            "nearest": near_pos,
            "distance": dist,
            "ratio": np.where(exact, np.nan, linked_ratio[rep_of]),
        }
    )
    return frame, space


def _find(parent: np.ndarray, i: int) -> int:
    root = i
    while parent[root] != root:
        root = int(parent[root])
    while parent[i] != root:
        parent[i], i = root, int(parent[i])
    return root


def _union(parent: np.ndarray, a: int, b: int) -> None:
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        parent[max(ra, rb)] = min(ra, rb)


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


def _frame(
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
    nearest_id = pd.array(
        [ids[p] if p >= 0 else pd.NA for p in nearest_pos.tolist()], dtype="Int64"
    )
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
    groups, space = _group_rows(M, k, near, threshold, random_state)
    keeper = choose_keepers(
        groups["group"].to_numpy(),
        keep=keep,
        ids=idx,
        labels=None if labels is None else np.asarray(labels, dtype=object),
        confidence=None if confidence is None else np.asarray(confidence, dtype=np.float64),
    )
    frame = _frame(groups, keeper, k, idx, space)
    frame.attrs["threshold"] = None if space is None else space[3]
    return frame


# ---------------------------------------------------------------------------- the operation
@register
class Duplicates(RemovalOperation):
    """Find exact and near copies of samples; remove all but one per group.

    ``find(ds)`` groups the samples whose content is the same (feature, text and image
    columns) or whose features are near copies (see the module docstring), and suggests a
    keeper per group. ``apply(ds, findings, groups=None)`` removes every member of the
    chosen groups but its keeper, as one recorded change (op ``remove_duplicates``).

    Parameters
    ----------
    near
        Also find near copies (``False``: exact copies only).
    threshold
        Near copies are closer than this fraction of the typical (median) distance from a
        sample to its nearest other sample, in the scaled feature space. ``None``: automatic:
        that rule at most at 0.3 (lower on low-dimensional data), plus a local ratio test
        between mutual nearest neighbours (see the module docstring). The global threshold
        used is in ``findings.frame.attrs["threshold"]``.
    keep
        ``"first"`` (smallest sample id) or ``"best"`` (majority label of the group; a tie
        goes to the member whose label an out-of-sample model finds most probable).
    features
        Columns to compare. Default: the feature columns plus the text and image columns
        for exact copies; the feature columns plus the text column for near copies (the
        image column when nothing else is usable).
    model, cv, n_jobs
        The classifier, folds and workers of the out-of-sample model that
        breaks label ties for ``keep="best"`` (run only when a group's labels tie; ``None``:
        the default ensemble of the shared cross-validation runner).
    random_state
        Seed of the principal components and of the tie-breaking model.
    progress
        Show progress bars (the neighbour search on large data, the tie-breaking model).
    """

    name: ClassVar[str] = "duplicates"
    change_op: ClassVar[str] = "remove_duplicates"
    action: ClassVar[str] = "remove"
    selectors: ClassVar[tuple[str, ...]] = ("groups",)
    selector_hint: ClassVar[str] = (
        "duplicates are removed by whole groups, not by top: pick groups with groups=[...] "
        "(the findings' group numbers)"
    )

    def __init__(
        self,
        *,
        near: bool = True,
        threshold: float | None = None,
        keep: str = "first",
        features: Sequence[str] | None = None,
        model: Any = None,
        cv: int = 5,
        n_jobs: int | None = None,
        random_state: int | None = 0,
        progress: bool = True,
    ) -> None:
        self.near = near
        self.threshold = threshold
        self.keep = keep
        self.features = features
        self.model = model
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.progress = progress

    @classmethod
    def conformance_example(cls) -> list[dict[str, Any]]:
        """Small data for the operations conformance test (tests/test_operations.py)."""
        rng = np.random.default_rng(0)
        X = rng.normal(size=(40, 3))
        X = np.vstack([X, X[:3], X[3:6] + 1e-3])
        df = pd.DataFrame(X, columns=["a", "b", "c"])
        df["text"] = (
            [f"row {i}" for i in range(40)]
            + ["Row 0!", "row 1", "ROW  2"]
            + [f"row {i}" for i in range(3, 6)]
        )
        df["label"] = np.array(["x", "y"], dtype=object)[np.arange(len(df)) % 2]
        return [
            {
                "frame": df,
                "dataset": {"label": "label", "text": "text"},
                "operation": cls(random_state=0, progress=False),
                "options": {"reason": "conformance"},
                "name": "exact and near",
            },
            {
                "frame": df,
                "dataset": {"label": "label", "text": "text"},
                "operation": cls(near=False, keep="best", random_state=1, progress=False),
                "options": {"groups": [0, 1]},
                "name": "exact only, best keeper, two groups",
            },
        ]

    def _check(self) -> None:
        if self.keep not in KEEP:
            raise ValueError(f"keep must be one of {KEEP}; got {self.keep!r}")
        if not isinstance(self.near, (bool, np.bool_)):
            raise ValueError(f"near must be True or False; got {self.near!r}")
        check_threshold(self.threshold)

    def _content(self, ds: Dataset) -> dict[str, np.ndarray]:
        if self.features is not None:
            cols = list(self.features)
            unknown = [c for c in cols if c not in ds.columns]
            if unknown:
                raise ValueError(
                    f"features {unknown} are not columns of the dataset ({ds.columns})"
                )
            if ds.label in cols:
                raise ValueError(f"{ds.label!r} is the label column; it cannot be a feature")
        else:
            cols = [c for c in ds.feature_columns if c != ds.label]
            texts = list(getattr(ds, "text_columns", None) or [getattr(ds, "text_column", None)])
            for extra in (*texts, getattr(ds, "image_column", None)):
                if extra and extra not in cols and extra != ds.label:
                    cols.append(extra)
        if not cols:
            raise ValueError(
                "the dataset has no column to compare (only the label): add feature columns"
            )
        return {c: np.asarray(ds.column(c)) for c in cols}

    def _find(self, ds: Dataset) -> Findings:
        """Group exact and near copies of samples, with a suggested keeper per group.

        Returns
        -------
        Findings
            By sample id: ``score`` (1 = exact copy), ``is_duplicate`` (the members to
            remove), ``group``, ``keeper``, ``reason`` (``"exact copy of 12"``, ``"near copy
            of 12: distance 0.03"``), ``nearest_id``, ``distance``. Recorded as an event.
        """
        self._check()
        if len(ds) == 0:
            raise ValueError("the dataset is empty: there is nothing to compare")
        content = self._content(ds)
        keys = content_keys(content)
        M: np.ndarray | None = None
        used: list[str] = []
        roles = dict(getattr(ds, "roles", {}))
        mixed = bool(self.near) and self.threshold is None and is_mixed_rows(roles, list(content))
        if mixed:
            # a mixed table: near copies agree column by column (see ._mixed_rows)
            a, b, worst = near_copy_pairs(content, roles)
            groups, space, used = mixed_groups(keys, a, b, worst), None, list(content)
        else:
            if self.near:
                M, used = dataset_matrix(ds, self.features)
            groups, space = _group_rows(
                M, keys, bool(self.near), self.threshold, self.random_state, bool(self.progress)
            )
        ids = np.asarray(ds.ids)
        keeper = self._keepers(ds, groups["group"].to_numpy(), M)
        frame = _frame(groups, keeper, keys, ids, space)
        if mixed:
            _mixed_reasons(frame, groups, keys, keeper, ids)
        version = int(ds.version)
        frame.attrs.update(
            {
                "version": version,
                "features": [str(c) for c in used],
                "threshold": None if space is None else space[3],
            }
        )
        return Findings(
            frame,
            op=self.name,
            roles=ROLES,
            action=self.action,
            params=self.json_params(),
            version=version,
        )

    def _keepers(self, ds: Dataset, group: np.ndarray, M: np.ndarray | None) -> np.ndarray:
        ids = np.asarray(ds.ids)
        if self.keep != "best":
            return choose_keepers(group, keep="first", ids=ids)
        labels = np.asarray(ds.column(ds.label), dtype=object)
        confidence = None
        if _has_label_tie(group, labels):
            confidence = self._confidence(ds, labels, M)
        return choose_keepers(group, keep="best", ids=ids, labels=labels, confidence=confidence)

    def _confidence(self, ds: Dataset, labels: np.ndarray, M: np.ndarray | None) -> np.ndarray:
        from ._crossval import out_of_sample_pred_probs

        if M is None:
            M, _ = dataset_matrix(ds, self.features)
        has = ~pd.isna(pd.Series(labels, dtype=object)).to_numpy()
        present = [c for c in ds.classes if c in set(labels[has].tolist())]
        probs = out_of_sample_pred_probs(
            M[has],
            labels[has],
            model=self.model,
            cv=self.cv,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            progress=bool(self.progress),
            classes=present,
            desc="duplicates: keeper confidence",
        )
        col = pd.Index(present).get_indexer(labels[has])
        out = np.full(len(labels), np.nan)
        out[has] = probs[np.arange(len(col)), col]
        return out

    def rekeep(self, ds: Dataset, findings: Findings) -> Findings:
        """``findings`` with keepers chosen again by this operation's ``keep`` rule."""
        if findings.op != self.name:
            raise TypeError(f"these are {findings.op!r} findings, not duplicates")
        self._check()
        frame = findings.to_frame()
        ids = np.asarray(frame.index)
        known_ids(ds, ids)
        order = np.argsort(ds.positions(ids))
        frame = frame.iloc[order]
        group = frame["group"].fillna(-1).to_numpy(dtype=np.int64)
        if self.keep == "best":
            pos = ds.positions(frame.index)
            labels = np.asarray(ds.column(ds.label), dtype=object)[pos]
            confidence = None
            if _has_label_tie(group, labels):
                M, _ = dataset_matrix(ds, self.features)
                allconf = self._confidence(ds, np.asarray(ds.column(ds.label), dtype=object), M)
                confidence = allconf[pos]
            keeper = choose_keepers(
                group,
                keep="best",
                ids=np.asarray(frame.index),
                labels=labels,
                confidence=confidence,
            )
        else:
            keeper = choose_keepers(group, keep="first", ids=np.asarray(frame.index))
        frame["keeper"] = keeper
        frame["is_duplicate"] = (group >= 0) & ~keeper
        keeper_id = {
            int(g): int(i) for g, i in zip(group[keeper], frame.index[keeper], strict=True)
        }
        reasons = frame["reason"].to_numpy(dtype=object).copy()
        for p in np.flatnonzero(group >= 0).tolist():
            g = int(group[p])
            size = int((group == g).sum())
            if keeper[p]:
                reasons[p] = f"keeper of group {g} ({size} samples)"
            elif isinstance(reasons[p], str) and reasons[p].startswith("keeper"):
                reasons[p] = f"same group as {keeper_id[g]}"
        frame["reason"] = reasons
        out = Findings(
            frame,
            op=self.name,
            roles=ROLES,
            action=self.action,
            params=self.json_params(),
            version=findings.version,
        )
        # other keepers are still the rule's output (its keep= param), not a selection
        return out.as_found() if findings.by_rule else out

    # ------------------------------------------------------------------ plan / remove
    @classmethod
    def remove(
        cls,
        ds: Dataset,
        findings: Findings | None = None,
        *,
        keep: str = "first",
        groups: Sequence[int] | None = None,
        near: bool = True,
        threshold: float | None = None,
        features: Sequence[str] | None = None,
        random_state: int | None = 0,
        reason: str | None = None,
    ) -> int:
        """``ds.remove_duplicates``: find (unless ``findings`` are given), re-keep, remove."""
        if findings is None:
            op = cls(
                near=near,
                threshold=threshold,
                keep=keep,
                features=features,
                random_state=random_state,
                progress=False,
            )
            findings = op.find(ds)
        else:
            op = cls.for_findings(findings)  # type: ignore[assignment]
            if op.keep != keep:
                op.keep = keep
                findings = op.rekeep(ds, findings)
        return op.apply(ds, findings, groups=groups, reason=reason)

    def _plan(
        self, ds: Dataset, findings: Findings | None, plan: ChangePlan, select: Selection
    ) -> dict[str, Any]:
        """Remove every member of ``select.groups`` (all groups: None) but its keeper."""
        assert findings is not None
        groups = select.groups
        if findings.op != self.name:
            raise TypeError(
                f"these are {findings.op!r} findings; remove_duplicates takes the findings of "
                "find_duplicates"
            )
        frame = findings.frame
        g = frame["group"]
        present = sorted(int(x) for x in g.dropna().unique())
        if groups is not None:
            missing = [x for x in groups if x not in set(present)]
            if missing:
                raise ValueError(
                    f"groups {missing[:10]} are not in the findings; their groups are "
                    f"{present[:20]}{' ...' if len(present) > 20 else ''}"
                )
            chosen = g.isin(groups).fillna(False).to_numpy(dtype=bool)
        else:
            chosen = g.notna().to_numpy()
        keepers = frame.index[chosen & frame["keeper"].to_numpy(dtype=bool)]
        drop = frame.index[chosen & frame["is_duplicate"].to_numpy(dtype=bool)]
        known_ids(ds, np.asarray(keepers), what="keeper")
        known_ids(ds, np.asarray(drop))
        if len(drop):
            plan.remove(np.asarray(drop, dtype=np.int64))
        return {"n_removed": len(drop), "n_groups": len(set(g[chosen].dropna().tolist()))}


def _mixed_reasons(
    frame: pd.DataFrame, groups: pd.DataFrame, keys: np.ndarray, keeper: np.ndarray, ids: np.ndarray
) -> None:
    """The reason of each near copy found column by column (no distance in a space)."""
    from ._mixed_rows import NEAR_RTOL

    group = groups["group"].to_numpy()
    keeper_of = {int(group[p]): p for p in np.flatnonzero(keeper).tolist()}
    reasons = frame["reason"].to_numpy(dtype=object).copy()
    for p in np.flatnonzero((group >= 0) & ~keeper).tolist():
        k = keeper_of[int(group[p])]
        if keys[p] != keys[k]:
            d = groups["distance"].to_numpy()[p]
            within = f"{d * NEAR_RTOL:.1%}" if d == d else f"{NEAR_RTOL:.1%}"
            reasons[p] = (
                f"near copy of {ids[k]}: same categories, same words (any case, spacing or "
                f"order), numbers within {within}"
            )
    frame["reason"] = pd.Series(reasons, index=frame.index, dtype=object)


def _has_label_tie(group: np.ndarray, labels: np.ndarray) -> bool:
    s = pd.DataFrame({"g": group, "y": pd.Series(labels, dtype=object)})
    s = s[(s["g"] >= 0) & s["y"].notna()]
    for _, y in s.groupby("g")["y"]:
        counts = y.value_counts()
        if (counts == counts.max()).sum() > 1:
            return True
    return False
