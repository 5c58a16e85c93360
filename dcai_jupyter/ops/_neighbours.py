"""The one nearest-neighbour service of the operations: every row's ``k`` nearest other rows.

Near duplicates, outliers, the audit's shared graph (and the label-issue and
active-learning members that read neighbours) all ask the same question, so they ask it
here: :func:`neighbour_graph` returns each row's ``k`` nearest *other* rows, nearest
first, with exact float64 distances.

- **Exact** (at most ``EXACT_MAX`` rows, or ``exact=True``): brute force in chunks of
  ``CHUNK`` queries, float32 matrix products on one native thread (beyond ~15 dimensions
  brute force beats the trees). For ``k <= 2`` a blocked search that keeps only the two
  smallest per row, about twice as fast (:func:`nearest_two`).
- **Approximate** (above ``EXACT_MAX`` rows, or ``exact=False``): an NN-descent graph
  (`pynndescent <https://github.com/lmcinnes/pynndescent>`_), which builds the k-nearest
  neighbour graph itself (there is no separate query step).

Either way the returned pairs are re-checked exactly: their distances are recomputed in
float64 from the rows, each row is re-sorted by them, and the row itself is dropped
wherever it appears (an exact copy can come before it).

Why pynndescent (measured on this 2-core machine, 20 float32 features, one fresh process
per run; see ``benchmarks/README.md``): it is the only candidate that builds a 1M-row
graph at recall@10 above 0.9 in about a minute on 2 cores; faiss' HNSW (the fallback we
measured) needs 2-4x longer for the same recall, and at equal time its recall falls and
near copies get lost. Its costs: numba compiles its kernels before a process's first
graph (up to a minute the very first time on a machine, while numba fills its disk cache;
~8 s in later processes, which load the kernels :mod:`._nnd_cache` keeps there) and its
peak memory is about
1.1 kB per row at ``k = 20``. ``EXACT_MAX`` sits where the exact search (n^2) starts to cost more than the
approximate one including that compile.

Threads: the exact search runs on one native thread (threadpoolctl); the approximate one
on ``n_jobs`` numba threads (``None``: the cores this process may use, at most
``NUMBA_NUM_THREADS``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["CHUNK", "EXACT_MAX", "METRICS", "nearest_two", "neighbour_graph", "query"]

#: at most this many rows: exact brute force; above it: the approximate graph
EXACT_MAX = 100_000
#: the exact search runs this many query rows at a time (with a progress bar above one)
CHUNK = 4000
#: rows x columns of the distance blocks of :func:`nearest_two` (float32: 2 MB, in cache)
BLOCK = (256, 2048)
#: the approximate graph is built with at least this many neighbours per row (recall)
MIN_GRAPH_K = 20
#: NN-descent stops when an iteration updates fewer than this share of the graph's slots
#: (pynndescent's default 0.001): at 1M x 20, 11 % fewer CPU seconds at recall@10 0.982
#: instead of 0.984, and every injected near copy still its source's first neighbour
DELTA = 0.01
METRICS = ("euclidean", "cosine")
#: from this many rows on, the approximate graph's progress line says how long it should
#: take, from a timed graph of ``ESTIMATE_SHARE`` of the rows (at least ``ESTIMATE_MIN_ROWS``)
#: scaled by n^``ESTIMATE_GROWTH`` (the graph's measured growth, 100k -> 1M: ~1.05-1.1)
ESTIMATE_ROWS = 200_000
ESTIMATE_SHARE = 0.01
ESTIMATE_MIN_ROWS = 5000
ESTIMATE_GROWTH = 1.1
#: from this many pairs on, the exact re-measure runs in a compiled kernel (the same sums;
#: at 1M rows x 20 neighbours ~3.4 s in numpy, see ``_pair_kernel``)
KERNEL_PAIRS = 1_000_000


def _check(Z: Any, k: Any, metric: str) -> np.ndarray:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}; got {metric!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer; got {k!r}")
    M = np.asarray(Z)
    if M.ndim != 2:
        raise ValueError(f"Z must be 2-D (n_samples, n_features); got shape {M.shape}")
    if M.dtype.kind not in "biuf":
        raise ValueError(f"Z must be numeric; got dtype {M.dtype}")
    if M.size and not np.isfinite(M).all():
        raise ValueError("Z holds NaN or infinite values: impute or drop them first")
    return M


def _threads(n_jobs: int | None) -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    if n_jobs is None:
        return max(1, cores)
    if n_jobs < 0:
        return max(1, cores + 1 + int(n_jobs))
    return max(1, int(n_jobs))


def _unit(Z: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(Z, axis=1, keepdims=True)
    return Z / np.where(norm > 0, norm, 1.0)


def pair_distances(
    Z: np.ndarray, rows: np.ndarray, idx: np.ndarray, metric: str = "euclidean"
) -> np.ndarray:
    """float64 distances from ``Z[rows]`` to ``Z[idx]`` (one row of ``idx`` per row)."""
    Z = np.asarray(Z, dtype=np.float64)
    if metric == "cosine":
        U = _unit(Z)
        return np.clip(1.0 - np.einsum("nkd,nd->nk", U[idx], U[rows]), 0.0, 2.0)
    if idx.size >= KERNEL_PAIRS and Z.shape[1] >= 1:
        from ._pair_kernel import MAX_DIMS, euclidean_pairs

        if Z.shape[1] <= MAX_DIMS:
            return euclidean_pairs(Z, rows, idx)  # in place, on numba's threads; bit-equal
    out = np.empty(idx.shape)
    # blocks of ~2 MB stay in cache; in place, the same sums as np.linalg.norm (bit-equal)
    step = max(1, 250_000 // max(1, idx.shape[1] * Z.shape[1]))
    for a in range(0, len(rows), step):
        b = a + step
        D = Z[idx[a:b]]
        D -= Z[rows[a:b]][:, None, :]
        np.multiply(D, D, out=D)
        out[a:b] = np.sqrt(D.sum(axis=2))
    return out


def _exact_sorted(
    Z: np.ndarray, rows: np.ndarray, idx: np.ndarray, k: int, metric: str
) -> tuple[np.ndarray, np.ndarray]:
    """Drop each row itself from ``idx`` (wherever it is), keep ``k``, exact distances, sort."""
    own = idx == rows[:, None]
    if own.any():
        # the row itself goes last (then is cut), the others keep their order
        order = np.argsort(own, axis=1, kind="stable")
        idx = np.take_along_axis(idx, order, axis=1)
    idx = idx[:, :k]
    dist = pair_distances(Z, rows, idx, metric)
    order = np.argsort(dist, axis=1, kind="stable")
    return np.take_along_axis(dist, order, axis=1), np.take_along_axis(idx, order, axis=1)


def nearest_two(Z: np.ndarray, *, progress: bool = False, desc: str = "neighbours") -> np.ndarray:
    """Row positions of each row's two nearest *other* rows (one when there are 2 rows).

    Exact brute force in float32 blocks that stay in cache, one native thread: one matrix
    product per block gives ``|z|^2 - 2 <q, z>`` (the squared distance up to the query's
    own constant), and two passes of ``argmin`` keep the two smallest. About twice as fast
    as a general k-nearest search, which keeps a heap per row.
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
    with threadpool_limits(1), progress_bar(total=n, desc=desc, disable=not show) as bar:
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


def _brute(
    Z: np.ndarray,
    queries: np.ndarray,
    k: int,
    metric: str,
    progress: bool,
    desc: str,
) -> np.ndarray:
    """Positions of the ``k + 1`` nearest rows of ``Z`` to each of ``Z[queries]`` (exact)."""
    from sklearn.neighbors import NearestNeighbors
    from threadpoolctl import threadpool_limits

    from ._progress import progress_bar

    Z32 = np.ascontiguousarray(Z, dtype=np.float32)
    kk = min(k + 1, len(Z))
    out = np.empty((len(queries), kk), dtype=np.int64)
    starts = list(range(0, len(queries), CHUNK))
    show = progress and len(starts) > 1
    with threadpool_limits(1), progress_bar(total=len(queries), desc=desc, disable=not show) as bar:
        nn = NearestNeighbors(n_neighbors=kk, algorithm="brute", metric=metric).fit(Z32)
        for a in starts:
            b = min(a + CHUNK, len(queries))
            out[a:b] = nn.kneighbors(Z32[queries[a:b]], return_distance=False)
            bar.update(b - a)
    return out


def _graph(
    Z32: np.ndarray, kk: int, metric: str, random_state: int | None, threads: int
) -> np.ndarray:
    """pynndescent's NN-descent graph of ``Z32`` (``kk`` neighbours, the row itself among
    them), with the service's settings."""
    from pynndescent import NNDescent

    from ._nnd_cache import kernels_on_disk

    with kernels_on_disk():  # a new process loads the kernels instead of compiling them
        index = NNDescent(
            Z32,
            n_neighbors=kk,
            metric=metric,
            random_state=random_state,
            n_jobs=threads,
            delta=DELTA,
            low_memory=True,
            compressed=True,
            verbose=False,
        )
    idx, _ = index.neighbor_graph
    return np.asarray(idx)


def _estimate_seconds(
    Z32: np.ndarray, kk: int, metric: str, random_state: int | None, threads: int
) -> float:
    """How long the graph of ``Z32`` should take: a graph of ``ESTIMATE_SHARE`` of the rows,
    timed (after numba's compile) and scaled by ``n^ESTIMATE_GROWTH``."""
    import time

    n = len(Z32)
    m = min(n, max(ESTIMATE_MIN_ROWS, int(n * ESTIMATE_SHARE)))
    sample = Z32[np.random.default_rng(0).choice(n, m, replace=False)]

    def build() -> float:
        t = time.perf_counter()
        _graph(sample, kk, metric, random_state, threads)
        return time.perf_counter() - t

    from pynndescent import pynndescent_

    if not getattr(pynndescent_.nn_descent, "signatures", None):
        build()  # the first graph of the process: numba's compile, not the graph's time
    seconds = build()
    return seconds * (n / m) ** ESTIMATE_GROWTH


def _approximate(
    Z: np.ndarray,
    k: int,
    metric: str,
    random_state: int | None,
    n_jobs: int | None,
    progress: bool,
    desc: str,
) -> np.ndarray:
    """Positions of about the ``k + 1`` nearest rows of each row (NN-descent graph)."""
    from threadpoolctl import threadpool_limits

    from ._progress import progress_bar

    try:
        import numba
        import pynndescent  # noqa: F401 - checked here, used by _graph
    except ImportError as e:  # pragma: no cover - a main dependency
        raise ImportError(
            "the approximate neighbour graph needs pynndescent: pip install pynndescent "
            "(or pass exact=True)"
        ) from e
    threads = min(_threads(n_jobs), int(getattr(numba.config, "NUMBA_NUM_THREADS", 1)))
    Z32 = np.ascontiguousarray(Z, dtype=np.float32)
    kk = min(max(k + 1, MIN_GRAPH_K), len(Z))
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        with (
            threadpool_limits(threads),
            progress_bar(total=1, desc=f"{desc} (approximate)", disable=not progress) as bar,
        ):
            if progress and len(Z32) >= ESTIMATE_ROWS:
                # pynndescent reports nothing while it runs: say up front how long it takes
                seconds = _estimate_seconds(Z32, kk, metric, random_state, threads)
                bar.set_postfix_str(f"about {seconds:.0f} s")
            idx = _graph(Z32, kk, metric, random_state, threads)
            bar.update(1)
    finally:
        numba.set_num_threads(before)
    return np.asarray(idx, dtype=np.int64)


def neighbour_graph(
    Z: np.ndarray,
    k: int,
    *,
    metric: str = "euclidean",
    random_state: int | None = 0,
    n_jobs: int | None = None,
    progress: bool = False,
    desc: str = "neighbours",
    exact: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(dist, idx): each row's k nearest OTHER rows, ascending, distances exact.

    Parameters
    ----------
    Z : array-like (n, d)
        Numeric rows (finite).
    k : int
        Neighbours per row (at most ``n - 1`` are returned).
    metric : {"euclidean", "cosine"}
        Plain (not squared) Euclidean distance, or ``1 - cos``.
    random_state : int, optional
        Seed of the approximate graph (the exact search has none).
    n_jobs : int, optional
        Threads of the approximate graph (``None``: every core this process may use;
        negative: all but ``-n_jobs - 1``). The exact search uses one.
    progress : bool
        Show a progress bar (the exact search on more than ``CHUNK`` rows, the graph).
    desc : str
        The progress bar's label.
    exact : bool, optional
        ``True``: exact brute force; ``False``: the approximate graph; ``None``: exact up
        to ``EXACT_MAX`` rows.

    Returns
    -------
    dist : np.ndarray of float64, shape (n, k)
        Distances, ascending per row, recomputed exactly from the rows.
    idx : np.ndarray of int64, shape (n, k)
        Row positions of the neighbours; never the row itself.
    """
    M = _check(Z, k, metric)
    n = M.shape[0]
    k = min(int(k), n - 1)
    if k < 1:
        return np.zeros((n, 0)), np.zeros((n, 0), dtype=np.int64)
    rows = np.arange(n)
    use_exact = n <= EXACT_MAX if exact is None else bool(exact)
    if use_exact and k <= 2 and metric == "euclidean":
        idx = nearest_two(M, progress=progress, desc=desc)[:, :k]
        dist = pair_distances(M, rows, idx, metric)
        order = np.argsort(dist, axis=1, kind="stable")
        return np.take_along_axis(dist, order, axis=1), np.take_along_axis(idx, order, axis=1)
    if use_exact:
        return _exact_sorted(M, rows, _brute(M, rows, k, metric, progress, desc), k, metric)
    idx = _approximate(M, k, metric, random_state, n_jobs, progress, desc)
    # an empty slot (-1) counts as the row itself: dropped; a row left short is searched
    idx = np.where(idx < 0, rows[:, None], idx)
    dist, idx = _exact_sorted(M, rows, idx, k, metric)
    short = np.flatnonzero((idx == rows[:, None]).any(axis=1))
    if len(short):
        dist[short], idx[short] = query(M, short, k, metric=metric)
    return dist, idx


def query(
    Z: np.ndarray,
    rows: Any,
    k: int,
    *,
    reference: Any = None,
    metric: str = "euclidean",
    n_jobs: int | None = 1,
    progress: bool = False,
    desc: str = "neighbours",
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest rows to each of ``Z[rows]`` among ``Z[reference]`` (exact).

    A row is never its own neighbour. For a few rows against many (the near-copy rules'
    samples, the rows an approximate graph left short, the outliers' suspects): brute
    force, on ``n_jobs`` native threads.

    Parameters
    ----------
    Z : array-like (n, d)
        Every row.
    rows : array-like of int
        Positions of the query rows.
    k : int
        Neighbours per query row (at most the number of other reference rows).
    reference : array-like of int, optional
        Positions of the rows to search (default: every row).
    n_jobs : int, optional
        Native threads of the search: one by default (callers inside a parallel step);
        ``None``: every core this process may use (hundreds of rows against millions).

    Returns
    -------
    dist, idx : np.ndarray, shape (len(rows), k)
        Exact float64 distances (ascending) and positions in ``Z`` (not in ``reference``).
    """
    M = _check(Z, k, metric)
    q = np.asarray(rows, dtype=np.int64).ravel()
    ref = np.arange(M.shape[0]) if reference is None else np.asarray(reference, np.int64).ravel()
    k = min(int(k), len(ref) - (1 if len(q) and np.isin(q, ref).any() else 0))
    if len(q) == 0 or k < 1:
        return np.zeros((len(q), max(k, 0))), np.zeros((len(q), max(k, 0)), dtype=np.int64)
    R = M if reference is None else M[ref]  # every row: no copy of them
    from sklearn.neighbors import NearestNeighbors
    from threadpoolctl import threadpool_limits

    kk = min(k + 1, len(ref))
    with threadpool_limits(_threads(n_jobs)):
        nn = NearestNeighbors(n_neighbors=kk, algorithm="brute", metric=metric)
        nn.fit(np.ascontiguousarray(R, dtype=np.float32))
        Q32 = np.ascontiguousarray(M[q], dtype=np.float32)
        found = np.vstack(
            [
                nn.kneighbors(Q32[a : a + CHUNK], return_distance=False)
                for a in range(0, len(q), CHUNK)
            ]
        )
    return _exact_sorted(M, q, ref[found], k, metric)
