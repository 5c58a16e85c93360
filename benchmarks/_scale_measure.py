"""Measuring one step of ``benchmarks/scale.py``: wall seconds and the peak resident memory
of the step itself (Linux: the process's high-water mark is reset before the step through
``/proc/self/clear_refs`` and read after it from ``/proc/self/status``; elsewhere the
process's ``ru_maxrss`` so far, an upper bound). Helpers' ``run_*_ops(n)`` functions use it
so each row of the table has its own memory figure although one process runs several steps.
"""

from __future__ import annotations

import gc
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["data", "measured", "peak_mb", "process_peak_mb"]


def _status_mb(key: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    """The process's peak resident memory so far (MB; since the last reset on Linux)."""
    got = _status_mb("VmHWM")
    if got is not None:
        return got
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 2**20 if sys.platform == "darwin" else r / 1024


#: the highest peak read before a reset (a reset also clears the process's ``ru_maxrss``)
_before_resets = 0.0


def process_peak_mb() -> float:
    """The process's peak resident memory over its whole life (MB), resets included."""
    return max(_before_resets, peak_mb())


def measured(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float, float]:
    """``fn(*args, **kwargs)`` -> ``(result, wall seconds, peak MB during the call)``.

    The peak is the whole process's resident memory at its highest during the call (the data
    already loaded included), as a user would see it in a kernel.
    """
    global _before_resets
    gc.collect()
    _before_resets = process_peak_mb()
    _reset_peak()
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    seconds = time.perf_counter() - t0
    return out, seconds, peak_mb()


def data(n: int, *, d: int = 20, k: int = 5, seed: int = 0) -> tuple[Any, Any]:
    """The benchmark's table: ``n`` rows, ``d`` numeric features, ``k`` classes.

    ``make_classification`` with ``n_informative=10`` (at most ``d // 2``), 4 redundant and the default two clusters per
    class (seed 0); float64 ``X``, int64 ``y``. Every part of ``scale.py`` uses this one.
    """
    import numpy as np
    from sklearn.datasets import make_classification

    informative = min(10, d // 2)
    X, y = make_classification(
        n_samples=n, n_features=d, n_informative=informative,
        n_redundant=min(4, d - informative), n_classes=k, random_state=seed,
    )  # fmt: skip
    return X.astype(np.float64), y.astype(np.int64)
