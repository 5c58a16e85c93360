"""Near copies: the rules that link two samples as copies of each other, in a scaled space.

The rows are distinct representatives (exact copies were merged by their content keys),
in the scaled feature space of the remove-data operations (see
:func:`~dcai_jupyter.ops._space.scale_columns`; at most ``MAX_DIMS`` principal components
on wide data). Two rules link them, both calibrated on the data itself so that they need
no tuning per dataset (``threshold=None``):

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

Neighbours come from the neighbour service (:mod:`._neighbours`). Up to
``EXACT_MAX`` rows: one exact search of every row's two nearest rows, then small exact
searches for the rows the rules look at (the dimension sample, the mutual pairs, the rows
within the global radius). Above it (or given a candidate graph, as the audit's shared
one): every question is answered from one graph of ``NEIGHBOURS`` candidates per row with
exact distances (:class:`_Candidates`), and only rows the graph leaves short (fewer
candidates than a question needs, a group that fills every candidate) are searched
exactly.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._neighbours import EXACT_MAX, neighbour_graph, pair_distances, query

__all__ = [
    "CHANCE_PAIRS",
    "DUPLICATE_THRESHOLD",
    "MAX_DIMS",
    "NEIGHBOURS",
    "NearLinks",
    "automatic_threshold",
    "chance_ratio",
    "check_threshold",
    "intrinsic_dimension",
    "mutual_pairs",
    "near_links",
    "rep_candidates",
    "tangent_ratio",
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


class _Neighbours:
    """Exact neighbour queries for some rows of ``Z`` (brute force, one native thread)."""

    def __init__(self, Z: np.ndarray) -> None:
        self.Z = np.asarray(Z, dtype=np.float64)
        self._nn: Any = None

    def indices(self, rows: np.ndarray, k: int) -> np.ndarray:
        """The ``k`` nearest other rows of each of ``rows`` (nearest first; ``k < n``)."""
        if len(rows) == 0:
            return np.zeros((0, k), dtype=np.int64)
        return query(self.Z, rows, k)[1]

    def within(self, rows: np.ndarray, radius: float) -> tuple[list[int], list[int]]:
        """The pairs ``(row, other)`` of ``rows`` and the other rows closer than ``radius``."""
        from sklearn.neighbors import NearestNeighbors
        from threadpoolctl import threadpool_limits

        if len(rows) == 0 or not radius > 0:
            return [], []
        Z32 = np.ascontiguousarray(self.Z, dtype=np.float32)
        with threadpool_limits(1):
            if self._nn is None:
                self._nn = NearestNeighbors(algorithm="brute").fit(Z32)
            idx = self._nn.radius_neighbors(Z32[rows], radius=radius, return_distance=False)
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


class _Candidates:
    """Neighbour queries answered from a candidate graph, with exact distances.

    ``idx`` holds candidate neighbours per row (``-1`` for none; the row itself and
    repeats are dropped). A question the candidates cannot answer for a row (more
    neighbours than it has, a radius its farthest candidate is still inside) is answered
    for that row by an exact search (:func:`~._neighbours.query`).
    """

    def __init__(self, Z: np.ndarray, idx: np.ndarray, dist: np.ndarray | None = None) -> None:
        self.Z = np.asarray(Z, dtype=np.float64)
        if dist is not None:
            # the neighbour service's answer: exact distances, ascending, no self, no
            # repeats (the rows are distinct), nothing to re-measure
            self.dist = np.asarray(dist, dtype=np.float64)
            self.idx = np.asarray(idx, dtype=np.int64)
            self.count = np.full(len(self.Z), self.idx.shape[1])
            return
        n = len(self.Z)
        rows = np.arange(n)
        idx = np.asarray(idx, dtype=np.int64).reshape(n, -1)
        bad = (idx < 0) | (idx == rows[:, None])
        # repeats (two exact copies map to one representative): keep the first
        order = np.argsort(idx, axis=1, kind="stable")
        s = np.take_along_axis(idx, order, axis=1)
        rep = np.zeros_like(bad)
        rep[:, 1:] = s[:, 1:] == s[:, :-1]
        again = np.zeros_like(bad)
        np.put_along_axis(again, order, rep, axis=1)
        bad |= again
        d = pair_distances(self.Z, rows, np.where(bad, rows[:, None], idx))
        d[bad] = np.inf
        order = np.argsort(d, axis=1, kind="stable")
        self.dist = np.take_along_axis(d, order, axis=1)
        self.idx = np.where(np.isinf(self.dist), -1, np.take_along_axis(idx, order, axis=1))
        self.count = np.isfinite(self.dist).sum(axis=1)

    def nearest(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Distances and positions of every row's ``k`` nearest (``k < n``)."""
        rows = np.arange(len(self.Z))
        return self._take(rows, k)

    def _take(self, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        width = self.idx.shape[1]
        dist = np.full((len(rows), k), np.inf)
        idx = np.full((len(rows), k), -1, dtype=np.int64)
        dist[:, : min(k, width)] = self.dist[rows, :k]
        idx[:, : min(k, width)] = self.idx[rows, :k]
        short = np.flatnonzero(self.count[rows] < k)
        if len(short):
            dist[short], idx[short] = query(self.Z, rows[short], k)
        return dist, idx

    def indices(self, rows: np.ndarray, k: int) -> np.ndarray:
        """The ``k`` nearest other rows of each of ``rows`` (nearest first; ``k < n``)."""
        if len(rows) == 0:
            return np.zeros((0, k), dtype=np.int64)
        return self._take(np.asarray(rows, dtype=np.int64), k)[1]

    def within(self, rows: np.ndarray, radius: float) -> tuple[list[int], list[int]]:
        """The pairs ``(row, other)`` of ``rows`` and the other rows closer than ``radius``."""
        xs: list[int] = []
        ys: list[int] = []
        if len(rows) == 0 or not radius > 0:
            return xs, ys
        n = len(self.Z)
        for r in np.asarray(rows, dtype=np.int64).tolist():
            c = int(self.count[r])
            d, i = self.dist[r, :c], self.idx[r, :c]
            k = c
            # every candidate inside the radius: the group may go on beyond them
            while k < n - 1 and (k == 0 or d[-1] < radius):
                k = min(n - 1, max(2 * k, 16))
                dd, ii = query(self.Z, np.array([r]), k)
                d, i = dd[0], ii[0]
            inside = i[d < radius]
            xs.extend([r] * len(inside))
            ys.extend(inside.tolist())
        return xs, ys


def _apart(
    finder: _Neighbours | _Candidates, xs: np.ndarray, ys: np.ndarray, cut: float
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
        d = np.sort(pair_distances(finder.Z, at, finder.indices(at, g + 1)), axis=1)
        apart = d[:, g - 1] < cut * d[:, g]
        ok.update(zip(at.tolist(), apart.tolist(), strict=True))
    for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
        if ok.get(x, False) and ok.get(y, False):
            keep.add((x, y))
    pairs = sorted(keep)
    return [x for x, _ in pairs], [y for _, y in pairs]


def rep_candidates(idx: np.ndarray, reps: np.ndarray, rep_of: np.ndarray) -> np.ndarray:
    """A row-level candidate graph (``idx``: positions of all rows) as one over the
    representatives (``reps``: the first row of each content; ``rep_of``: each row's)."""
    idx = np.asarray(idx, dtype=np.int64)[reps]
    return np.where(idx >= 0, rep_of[np.clip(idx, 0, None)], -1)


@dataclass
class NearLinks:
    """What the near-copy rules found among the representatives."""

    #: each representative's nearest other representative, and the distance to it
    nearest: np.ndarray
    distance: np.ndarray
    #: the median nearest-neighbour distance over distinct samples
    typical: float
    #: the global rule's threshold (a fraction of ``typical``)
    cut: float
    #: the links ``(xs, ys)`` of each rule
    links: list[tuple[list[int], list[int]]]
    #: the ratio of the pairs the local ratio test links (NaN elsewhere)
    ratio: np.ndarray


def near_links(
    Z: np.ndarray,
    threshold: float | None,
    *,
    candidates: np.ndarray | None = None,
    exact: bool | None = None,
    progress: bool = False,
    random_state: int | None = 0,
    n_jobs: int | None = None,
) -> NearLinks:
    """Link the near copies among the rows of ``Z`` (distinct rows, scaled space).

    Parameters
    ----------
    Z : np.ndarray (n, d), n >= 2
        The representatives in the scaled feature space.
    threshold : float, optional
        ``None``: both rules, calibrated on the data (module docstring); a number: the
        global distance rule alone at that fraction of the typical distance.
    candidates : np.ndarray (n, K), optional
        Candidate neighbours per row (``-1`` for none), e.g. the audit's shared graph
        mapped with :func:`rep_candidates`. Default: searched here (exact up to
        ``EXACT_MAX`` rows, else one approximate graph of ``NEIGHBOURS`` per row).
    exact : bool, optional
        Force the exact (``True``) or the graph (``False``) search; ``None``: by size.
    progress, random_state, n_jobs
        The neighbour search's progress bar, seed and threads.
    """
    nr = len(Z)
    finder: _Neighbours | _Candidates
    use_exact = candidates is None and (nr <= EXACT_MAX if exact is None else bool(exact))
    if use_exact:
        dk, ik = neighbour_graph(Z, 2, exact=True, progress=progress, desc="near duplicates")
        finder = _Neighbours(Z)
    else:
        if candidates is None:
            cdist, candidates = neighbour_graph(
                Z,
                NEIGHBOURS,
                exact=False,
                progress=progress,
                desc="near duplicates",
                random_state=random_state,
                n_jobs=n_jobs,
            )
            finder = _Candidates(Z, candidates, cdist)
        else:
            finder = _Candidates(Z, candidates)
        dk, ik = finder.nearest(min(2, nr - 1))
    d1, i1 = dk[:, 0], ik[:, 0]
    positive = d1[d1 > 0]
    typical = float(np.median(positive)) if len(positive) else 1.0
    linked_ratio = np.full(nr, np.nan)
    # the intrinsic dimension from the nearest neighbours of (at most) DIMENSION_ROWS
    # rows spread evenly over the data: a median, as good from a sample
    rows = np.unique(np.linspace(0, nr - 1, min(nr, DIMENSION_ROWS)).astype(np.int64))
    kk = min(NEIGHBOURS, nr - 1)
    known = np.full((nr, kk), -1, dtype=np.int64)
    known[rows] = finder.indices(rows, kk)
    dk_rows = np.sort(pair_distances(Z, rows, known[rows]), axis=1)
    m = intrinsic_dimension(dk_rows[:, :DIMENSION_NEIGHBOURS])
    cut = automatic_threshold(nr, m) if threshold is None else float(threshold)
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
    return NearLinks(i1, d1, typical, cut, links, linked_ratio)
