"""Generated image sets where the class is in the texture or shape, not in a fixed pixel
position (32x32 RGB, uint8), and the F1 of flagged ids. Used by tests/test_image_features.py
and by benchmarks/images.py (which puts this folder on ``sys.path``)."""

from __future__ import annotations

import numpy as np


def stripes(n: int, seed: int = 0, size: int = 32) -> tuple[list[np.ndarray], np.ndarray]:
    """Four classes of fine stripes (0, 45, 90, 135 degrees; period 3-5 px) at random phase,
    contrast, brightness, tint and noise, as uint8 RGB: the class is in the texture, which
    downscaled pixels average away."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    y = np.arange(n) % 4
    imgs = []
    for k in y:
        a = np.pi * k / 4
        period, phase = rng.uniform(3, 5), rng.uniform(0, 2 * np.pi)
        g = 0.5 + 0.5 * np.sin(2 * np.pi * (xx * np.cos(a) + yy * np.sin(a)) / period + phase)
        g = g * rng.uniform(0.4, 0.9) + rng.uniform(0.0, 0.3) + rng.normal(0, 0.1, g.shape)
        img = np.clip(g[:, :, None] * rng.uniform(0.6, 1.0, 3), 0, 1)
        imgs.append((img * 255).astype(np.uint8))
    return imgs, y


def shapes(n: int, seed: int = 0, size: int = 32) -> tuple[list[np.ndarray], np.ndarray]:
    """Three classes: a disc, a square or a cross at random position, size and colours on a
    dark background, with noise, as uint8 RGB."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    y = np.arange(n) % 3
    imgs = []
    for k in y:
        r = rng.uniform(5, 10)
        cy, cx = rng.uniform(r, size - r, 2)
        if k == 0:
            m = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        elif k == 1:
            m = (abs(yy - cy) < r * 0.8) & (abs(xx - cx) < r * 0.8)
        else:
            m = ((abs(yy - cy) < r / 3) & (abs(xx - cx) < r)) | (
                (abs(xx - cx) < r / 3) & (abs(yy - cy) < r)
            )
        fg, bg = rng.uniform(0.5, 1, 3), rng.uniform(0, 0.4, 3)
        img = np.where(m[:, :, None], fg, bg) + rng.normal(0, 0.08, (size, size, 3))
        imgs.append((np.clip(img, 0, 1) * 255).astype(np.uint8))
    return imgs, y


def f1(flagged: set[int], truth: set[int]) -> float:
    """F1 of the ``flagged`` sample ids against the ``truth`` ones (0 when either is empty)."""
    tp = len(flagged & truth)
    p, r = tp / max(1, len(flagged)), tp / max(1, len(truth))
    return 2 * p * r / max(1e-9, p + r)
