"""A compiled kernel for the neighbour service's exact re-measure on large inputs.

:func:`~._neighbours.pair_distances` measures each returned pair again in float64. In
numpy that gathers an ``(n, k, d)`` block of rows first (at 1M rows x 20 neighbours x 20
features, ~3.4 s a call, and outliers make four); this kernel reads the two rows of each
pair in place, on numba's threads. It sums the squared differences in exactly numpy's order
(``pairwise_sum`` below 128 terms: eight running partial sums, combined as
``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))``, the remainder added after; below
eight terms one running sum), so its distances are bit-equal to the numpy path's.

Imported only for large inputs (numba is there whenever the approximate graph is: a
pynndescent dependency); compiled once and kept in numba's disk cache.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["MAX_DIMS", "euclidean_pairs"]

#: numpy sums more than this many terms by recursive halving; the kernel follows its order
#: only up to here (wider rows take the numpy path)
MAX_DIMS = 128


@numba.njit(parallel=True, cache=True, nogil=True)
def _pairs(Z: np.ndarray, rows: np.ndarray, idx: np.ndarray, out: np.ndarray) -> None:
    n, k = idx.shape
    d = Z.shape[1]
    tail = d - d % 8
    for a in numba.prange(n):
        r = rows[a]
        for b in range(k):
            j = idx[a, b]
            if d < 8:
                s = 0.0
                for c in range(d):
                    t = Z[j, c] - Z[r, c]
                    s += t * t
            else:
                t0 = Z[j, 0] - Z[r, 0]
                t1 = Z[j, 1] - Z[r, 1]
                t2 = Z[j, 2] - Z[r, 2]
                t3 = Z[j, 3] - Z[r, 3]
                t4 = Z[j, 4] - Z[r, 4]
                t5 = Z[j, 5] - Z[r, 5]
                t6 = Z[j, 6] - Z[r, 6]
                t7 = Z[j, 7] - Z[r, 7]
                r0, r1, r2, r3 = t0 * t0, t1 * t1, t2 * t2, t3 * t3
                r4, r5, r6, r7 = t4 * t4, t5 * t5, t6 * t6, t7 * t7
                for c in range(8, tail, 8):
                    t0 = Z[j, c] - Z[r, c]
                    t1 = Z[j, c + 1] - Z[r, c + 1]
                    t2 = Z[j, c + 2] - Z[r, c + 2]
                    t3 = Z[j, c + 3] - Z[r, c + 3]
                    t4 = Z[j, c + 4] - Z[r, c + 4]
                    t5 = Z[j, c + 5] - Z[r, c + 5]
                    t6 = Z[j, c + 6] - Z[r, c + 6]
                    t7 = Z[j, c + 7] - Z[r, c + 7]
                    r0 += t0 * t0
                    r1 += t1 * t1
                    r2 += t2 * t2
                    r3 += t3 * t3
                    r4 += t4 * t4
                    r5 += t5 * t5
                    r6 += t6 * t6
                    r7 += t7 * t7
                s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
                for c in range(tail, d):
                    t = Z[j, c] - Z[r, c]
                    s += t * t
            out[a, b] = np.sqrt(s)


def euclidean_pairs(Z: np.ndarray, rows: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """float64 distances from ``Z[rows]`` to ``Z[idx]`` (``Z`` float64 C-contiguous, at most
    ``MAX_DIMS`` columns), bit-equal to :func:`~._neighbours.pair_distances`' numpy path."""
    out = np.empty(idx.shape)
    _pairs(
        np.ascontiguousarray(Z, dtype=np.float64),
        np.ascontiguousarray(rows, dtype=np.int64),
        np.ascontiguousarray(idx, dtype=np.int64),
        out,
    )
    return out
