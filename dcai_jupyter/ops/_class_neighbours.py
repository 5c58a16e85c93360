"""Exact nearest neighbours within one class, as scikit-learn's ``NearestNeighbors`` lists them.

imbalanced-learn's ``SMOTE`` takes each row's neighbours within its class from
``NearestNeighbors(n_neighbors=k + 1).fit(X_class).kneighbors(X_class)[:, 1:]`` (the first
column dropped: the row itself, or an exact copy of it). :func:`sklearn_neighbours` returns
the same lists for chosen rows (SMOTE's drawn seeds), faster on a large class:

- **Small or low-dimensional** (fewer than ``SCAN_PAIRS`` query x class pairs, or fewer than
  ``SCAN_MIN_DIMS`` columns, where scikit-learn's k-d tree is sub-quadratic): scikit-learn's
  own search, fitted exactly as imbalanced-learn fits it.
- **Otherwise**: a blocked scan in float32 (one matrix product per block of ``BLOCK`` queries
  x rows gives ``|z|^2 - 2 <q, z>``, the squared distance up to the query's own constant),
  keeping each query's ``k + 2 + SLACK`` smallest; a row is kept only when it is at most the
  running ``k + 2 + SLACK``-th smallest, and the queries' thresholds are tightened after the
  first 2, 4, 8, ... blocks (a partition per query of its kept values laid out in a matrix;
  sorted instead when copies give one query too many). Then, per query:

  * **certified**: every row that could be among the true ``k + 2`` nearest was kept. The
    float32 value is within ``err`` of the exact one (``err = F32_ERROR * (d + 4) * 2^-24 *
    (|z_q| + max |z|)^2`` on centred rows, a bound on the rounding of the product, the norms
    and the float32 copies); a row left out scored above the last kept one, so when the last
    kept one is more than ``2 err`` above the ``k + 2``-th, none of the left-out rows can be
    among the ``k + 2`` nearest;
  * **re-measured**: the kept rows' squared distances in float64 from the rows themselves,
    sorted;
  * **untied**: the first ``k + 2`` exact distances (the row itself first, its ``k``
    neighbours, and the next one, which decides where the list is cut) differ pairwise by
    more than ``TIE_RTOL * (|x_q| + max |x|)^2``, far above the rounding of scikit-learn's
    own distances (``|x|^2 - 2 <x, y> + |y|^2`` in float64 for brute force; sums of squared
    differences in its trees), so scikit-learn orders them the same way; and the first is
    the row itself.

  A query that is not certified, has a tie (an exact copy, equal distances: integer data
  has many) or a near tie is asked of scikit-learn's ``NearestNeighbors`` itself, fitted as
  imbalanced-learn fits it, so ties are broken exactly as there (scikit-learn breaks them
  neither by position nor by distance alone: by its heap and its sort). Which queries are
  asked changes the time only, never the lists.

The scan still measures every (query, row) pair: in 20 or more dimensions no tree or
clustering prunes exact search (scikit-learn's k-d tree takes 2.4 s where brute force takes
0.9 s on the 20k-row class of ``benchmarks/scale.py`` at 1M rows), so what it saves is the
constant: float32 products and a threshold instead of a float64 heap per pair (that class's
12.6k drawn seeds, one thread: scikit-learn 0.92, this scan 0.50 CPU s). Rows far from the
others widen ``err`` and copies make ties, so more queries are asked: slower, the same lists.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SCAN_MIN_DIMS", "SCAN_PAIRS", "sklearn_neighbours"]

#: at least this many (query, row) pairs: the float32 scan; fewer: scikit-learn's search
SCAN_PAIRS = 4_000_000
#: fewer columns than this: scikit-learn's search (its k-d tree prunes in low dimensions)
SCAN_MIN_DIMS = 8
#: queries x rows of one float32 product block (2 MB)
BLOCK = (256, 2048)
#: candidates kept beyond the ``k + 2`` needed, so near ties at the cut rarely need asking
SLACK = 4
#: at most this many cells in the (queries, hits of a row) matrix a selection is made in
BY_ROW_CELLS = 4_000_000
#: safety factor on the float32 rounding bound (see the module docstring)
F32_ERROR = 4.0
#: relative gap under which two squared distances count as tied (asked of scikit-learn)
TIE_RTOL = 1e-10


def _fitted(X: np.ndarray, k: int) -> object:
    """``NearestNeighbors`` as imbalanced-learn's SMOTE makes it (``k + 1`` neighbours)."""
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=k + 1).fit(X)


def _asked(nn: object, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """scikit-learn's lists for ``X[rows]``, the first column dropped (imbalanced-learn's)."""
    found = nn.kneighbors(X[rows], return_distance=False)  # type: ignore[attr-defined]
    return np.asarray(found, dtype=np.int64)[:, 1:]


def _parallel_on_x(m: int) -> tuple[int, int] | None:
    """``(chunk, rows)`` when imbalanced-learn's call (every row of the class at once) runs
    scikit-learn's brute force ``parallel_on_X`` in query blocks of ``chunk``: a call with
    more than ``rows`` queries runs the same way. ``None`` when it may run otherwise."""
    import sklearn

    config = sklearn.get_config()
    if not config.get("enable_cython_pairwise_dist", True):
        return None
    chunk = int(config.get("pairwise_dist_chunk_size", 256))
    try:
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        threads = int(_openmp_effective_n_threads())
    except (ImportError, AttributeError, TypeError, ValueError):  # pragma: no cover
        return None
    # scikit-learn's "auto" rule: parallel_on_X when 4 * chunk * threads < queries
    rows = 4 * chunk * threads
    return (chunk, rows) if rows < m else None


def _asked_as_imblearn(nn: object, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """scikit-learn's lists for ``X[rows]`` exactly as imbalanced-learn's one call over every
    row of the class gives them, ties and rounding included.

    A tree answers each query alone. Brute force rounds a pair's distance by the block of
    queries it is computed in (one matrix product per block of ``chunk`` queries) and, when
    it runs ``parallel_on_Y``, merges per-thread heaps. So when that one call runs
    ``parallel_on_X`` (each block alone), the blocks holding ``rows`` are asked whole, in
    order, with enough other blocks that this call runs ``parallel_on_X`` too; otherwise
    every row is asked, as that call does.
    """
    m = len(X)
    if getattr(nn, "_fit_method", "brute") != "brute":
        return _asked(nn, X, rows)
    plan = _parallel_on_x(m)
    if plan is None:
        return _asked(nn, X, np.arange(m))[rows]
    chunk, fewest = plan
    n_blocks = -(-m // chunk)
    wanted = np.zeros(n_blocks, dtype=bool)
    wanted[rows // chunk] = True
    # more than `fewest` queries: add the first blocks not wanted (the last block, the only
    # one that may be short, is added last if at all, so every other block stays whole)
    size = np.minimum(chunk, m - chunk * np.arange(n_blocks))
    extra = np.flatnonzero(~wanted)
    need = np.cumsum(size[extra]) + int(size[wanted].sum()) <= fewest
    wanted[extra[: int(need.sum()) + 1]] = True
    blocks = np.flatnonzero(wanted)
    if 2 * len(blocks) >= n_blocks:
        return _asked(nn, X, np.arange(m))[rows]
    query = np.concatenate([np.arange(b * chunk, min(b * chunk + chunk, m)) for b in blocks])
    found = _asked(nn, X, query)
    return found[np.searchsorted(query, rows)]


def sklearn_neighbours(
    X: np.ndarray, rows: np.ndarray, k: int, *, scan_pairs: int = SCAN_PAIRS
) -> np.ndarray:
    """``NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X[rows])[:, 1:]``, exactly.

    Parameters
    ----------
    X : np.ndarray of shape (m, d), float64
        The rows of one class (finite values).
    rows : np.ndarray of int
        Positions in ``X`` of the rows whose neighbours are wanted.
    k : int
        Neighbours per row (at most ``m - 1``).
    scan_pairs : int
        From this many ``len(rows) * m`` pairs on (and ``SCAN_MIN_DIMS`` columns), the
        float32 scan with exact checks (module docstring); below, scikit-learn's search.

    Returns
    -------
    np.ndarray of int64, shape (len(rows), k)
        Positions in ``X``, nearest first: imbalanced-learn's neighbour lists.
    """
    return _search(X, rows, k, scan_pairs)[0]


def _search(
    X: np.ndarray, rows: np.ndarray, k: int, scan_pairs: int
) -> tuple[np.ndarray, np.ndarray]:
    """The lists, and which rows were asked of scikit-learn (a tie, or not certified)."""
    X = np.asarray(X, dtype=np.float64)
    rows = np.asarray(rows, dtype=np.int64).ravel()
    m, d = X.shape
    if not 1 <= k < m:
        raise ValueError(f"k must be between 1 and the rows minus one ({m - 1}); got {k}")
    if len(rows) == 0:
        return np.zeros((0, k), dtype=np.int64), np.zeros(0, dtype=bool)
    wide = k + 2 + SLACK
    if len(rows) * m < scan_pairs or d < SCAN_MIN_DIMS or m < 2 * wide or wide > BLOCK[1]:
        return _asked_as_imblearn(_fitted(X, k), X, rows), np.ones(len(rows), dtype=bool)
    out, ok = _scan(X, rows, k, wide)
    ask = ~ok
    if ask.any():  # fitted only when asked (a k-d tree below 16 columns is built by the fit)
        out[ask] = _asked_as_imblearn(_fitted(X, k), X, rows[ask])
    return out, ask


def _scan(X: np.ndarray, rows: np.ndarray, k: int, wide: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` neighbours from the float32 scan, and whether they are certain."""
    m, d = X.shape
    Zc = X - X.mean(axis=0)
    Z = Zc.astype(np.float32)
    table = np.ascontiguousarray(np.vstack([Z.T, np.einsum("ij,ij->i", Z, Z)[None, :]]))
    queries = np.hstack([-2.0 * Z[rows], np.ones((len(rows), 1), dtype=np.float32)])
    z_norm = np.sqrt(np.einsum("ij,ij->i", Zc, Zc))
    err = F32_ERROR * (d + 4) * 2.0**-24 * (z_norm[rows] + z_norm.max()) ** 2
    x_norm = np.sqrt(np.einsum("ij,ij->i", X, X))
    tol = TIE_RTOL * (x_norm[rows] + x_norm.max()) ** 2
    out = np.empty((len(rows), k), dtype=np.int64)
    ok = np.zeros(len(rows), dtype=bool)
    R, C = BLOCK
    G = np.empty((R, min(C, m)), dtype=np.float32)
    for a in range(0, len(rows), R):
        b = min(a + R, len(rows))
        vals, idx = _candidates(queries[a:b], table, wide, G)
        q = rows[a:b]
        certain = vals[:, -1].astype(np.float64) > vals[:, k + 1] + 2.0 * err[a:b]
        diff = X[idx] - X[q][:, None, :]
        sq = np.einsum("rjd,rjd->rj", diff, diff)
        order = np.argsort(sq, axis=1, kind="stable")
        sq = np.take_along_axis(sq, order, axis=1)
        idx = np.take_along_axis(idx, order, axis=1)
        untied = np.diff(sq[:, : k + 2], axis=1).min(axis=1) > tol[a:b]
        ok[a:b] = certain & untied & (idx[:, 0] == q)
        out[a:b] = idx[:, 1 : k + 1]
    return out, ok


def _candidates(
    queries: np.ndarray, table: np.ndarray, wide: int, G: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The ``wide`` smallest ``queries @ table`` values of each query row, ascending, and
    their columns: blocks of columns, a row kept only when at most the query's threshold
    (the ``wide``-th smallest so far), thresholds tightened after blocks 2, 4, 8, ..."""
    r = len(queries)
    m = table.shape[1]
    C = G.shape[1]
    thr = np.empty(0, dtype=np.float32)
    rows_l: list[np.ndarray] = []
    cols_l: list[np.ndarray] = []
    vals_l: list[np.ndarray] = []
    for n_done, c in enumerate(range(0, m, C), start=1):
        e = min(c + C, m)
        g = np.matmul(queries, table[:, c:e], out=G[:r, : e - c])
        if c == 0:
            thr = np.partition(g, wide - 1, axis=1)[:, wide - 1].copy()
        hit = np.flatnonzero(g <= thr[:, None])
        hit_rows, hit_cols = np.divmod(hit, e - c)
        rows_l.append(hit_rows)
        cols_l.append(hit_cols + c)
        vals_l.append(g.ravel()[hit])
        if e < m and n_done > 1 and n_done & (n_done - 1) == 0:  # after blocks 2, 4, 8, ...
            hr, hc, hv = (np.concatenate(x) for x in (rows_l, cols_l, vals_l))
            thr = _smallest(hr, None, hv, r, wide)[0][:, -1]
            keep = hv <= thr[hr]
            rows_l, cols_l, vals_l = [hr[keep]], [hc[keep]], [hv[keep]]
    hr, hc, hv = (np.concatenate(x) for x in (rows_l, cols_l, vals_l))
    vals, cols = _smallest(hr, hc, hv, r, wide)
    assert cols is not None
    return vals, cols


def _smallest(
    hit_rows: np.ndarray, hit_cols: np.ndarray | None, hit_vals: np.ndarray, r: int, wide: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Each of the ``r`` rows' ``wide`` smallest hits (values ascending, and their columns
    when ``hit_cols`` is given; else only the ``wide``-th values, as a column); every row
    has at least ``wide`` hits (all values up to its threshold)."""
    counts = np.bincount(hit_rows, minlength=r)
    most = int(counts.max())
    if r * most > BY_ROW_CELLS:  # many equal values (copies): sort the hits instead
        order = np.lexsort((hit_vals, hit_rows))
        take = order[(np.cumsum(counts) - counts)[:, None] + np.arange(wide)]
        return hit_vals[take], None if hit_cols is None else hit_cols[take]
    # the hits in an (r, most) matrix, inf where a row has fewer; a partition per row
    order = np.argsort(hit_rows.astype(np.uint16 if r < 2**16 else np.int64), kind="stable")
    rows = hit_rows[order]
    pos = np.arange(len(rows)) - (np.cumsum(counts) - counts)[rows]
    P = np.full((r, most), np.inf, dtype=hit_vals.dtype)
    P[rows, pos] = hit_vals[order]
    if hit_cols is None:
        return np.partition(P, wide - 1, axis=1)[:, wide - 1 : wide], None
    part = np.argpartition(P, wide - 1, axis=1)[:, :wide]
    vals = np.take_along_axis(P, part, axis=1)
    by_val = np.argsort(vals, axis=1, kind="stable")
    # the columns of the chosen hits: back from (row, position) to the hit
    hit_at = np.empty((r, most), dtype=np.int64)
    hit_at[rows, pos] = order
    cols = hit_cols[np.take_along_axis(np.take_along_axis(hit_at, part, axis=1), by_val, axis=1)]
    return np.take_along_axis(vals, by_val, axis=1), cols
