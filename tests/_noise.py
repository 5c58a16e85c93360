"""Label noise for the label-issue tests: a seeded fraction of labels flipped to another class."""

from __future__ import annotations

import numpy as np


def flip_labels(y: np.ndarray, frac: float, seed: int) -> np.ndarray:
    """``y`` with ``round(frac * len(y))`` labels moved to a different class (uniformly)."""
    rng = np.random.default_rng(seed)
    k = int(y.max()) + 1
    idx = rng.choice(len(y), round(frac * len(y)), replace=False)
    noisy = y.copy()
    noisy[idx] = (y[idx] + rng.integers(1, k, len(idx))) % k
    return noisy
