"""Weight-free features of an image column: HOG, a colour histogram and downscaled pixels.

No pretrained image weights are needed (or can be assumed installed), so an image column
becomes, per image:

- a histogram of oriented gradients (HOG, :func:`skimage.feature.hog`: 9 orientations,
  8x8-pixel cells, 2x2-cell blocks) of the grey image resized to 32x32: shape and edges,
  robust to brightness;
- a colour histogram (8 bins per channel, as shares of the pixels): tone and colour;
- the image downscaled to 8x8 (per channel): the coarse layout.

scikit-image comes with the ``image`` extra (``pip install 'dcai-jupyter[image]'``); without
it a numpy histogram of gradient orientations per cell stands in for HOG, said once. Cells
may be 2-D/3-D numpy arrays, PNG/JPEG bytes, PIL images or file paths (the last three need
Pillow, which scikit-image brings). Arrays are scaled by their dtype's range (``uint8``:
0-255) or, for other numbers, by the column's range.

A dataset's features are computed once per dataset version and cached; native threads are
capped at one while they are computed (the machine is shared with the kernel's other work).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset

__all__ = ["dataset_image_features", "image_features", "pixel_columns"]

#: side of the grey image HOG reads
SIZE = 32
#: side of the downscaled pixels
THUMB = 8
#: colour histogram bins per channel
BINS = 8
ORIENTATIONS = 9
CELL = 8
BLOCK = 2

_told_fallback = False
_cache: weakref.WeakKeyDictionary[Any, dict[Any, np.ndarray]] = weakref.WeakKeyDictionary()


def _hog_backend() -> Any:
    """``skimage.feature.hog``, or None (with a one-line notice, once) when not installed."""
    global _told_fallback
    try:
        from skimage.feature import hog
    except ImportError:
        if not _told_fallback:
            _told_fallback = True
            print(
                "dcai_jupyter: scikit-image is not installed; image features use a numpy "
                "gradient-orientation histogram instead of HOG (pip install "
                "'dcai-jupyter[image]' for HOG)"
            )
        return None
    return hog


def _decode(cell: Any) -> np.ndarray:
    """One cell as a numpy array (bytes, paths and PIL images through Pillow)."""
    if isinstance(cell, np.ndarray):
        return cell
    if isinstance(cell, (list, tuple)):
        return np.asarray(cell)
    try:
        from PIL import Image
    except ImportError:
        raise ValueError(
            f"image cells of type {type(cell).__name__} need Pillow to decode (pip install "
            "'dcai-jupyter[image]'), or pass the images as numpy arrays"
        ) from None
    if isinstance(cell, (bytes, bytearray)):
        import io

        with Image.open(io.BytesIO(bytes(cell))) as f:
            img = f.convert("L" if f.mode in ("1", "L", "I", "I;16", "F") else "RGB")
    elif isinstance(cell, str):
        try:
            with Image.open(cell) as f:
                img = f.convert("L" if f.mode in ("1", "L", "I", "I;16", "F") else "RGB")
        except FileNotFoundError:
            raise ValueError(f"image file {cell!r} does not exist") from None
    elif type(cell).__module__.startswith("PIL."):
        img = cell.convert("L" if cell.mode in ("1", "L", "I", "I;16", "F") else "RGB")
    else:
        raise ValueError(
            f"image cells of type {type(cell).__name__} cannot be read: use numpy arrays, "
            "PNG/JPEG bytes, PIL images or file paths"
        )
    return np.asarray(img)


def _channels_last(a: np.ndarray) -> np.ndarray:
    """``a`` as (height, width, channels) float, alpha dropped, 1 or 3 channels."""
    if a.ndim == 2:
        a = a[:, :, None]
    elif a.ndim == 3 and a.shape[0] <= 4 < a.shape[2]:
        a = np.moveaxis(a, 0, 2)
    elif a.ndim != 3:
        raise ValueError(f"an image must be a 2-D or 3-D array; got shape {a.shape}")
    if a.shape[2] in (2, 4):  # grey + alpha, RGB + alpha
        a = a[:, :, : a.shape[2] - 1]
    if a.shape[2] not in (1, 3):
        a = a.mean(axis=2, keepdims=True)
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"an image has no pixels (shape {a.shape})")
    return a.astype(np.float64)


def _resize(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """``a`` (height, width, channels) resized to ``h`` x ``w``: area mean down, bilinear up."""
    H, W = a.shape[:2]
    if (H, W) == (h, w):
        return a
    if H % h == 0 and W % w == 0:
        return a.reshape(h, H // h, w, W // w, a.shape[2]).mean(axis=(1, 3))
    from scipy import ndimage  # only here: importing it costs ~1 s the first time

    if H > h or W > w:  # smooth before sampling down, so no pixel is skipped
        a = ndimage.uniform_filter(a, size=(max(1, H // h), max(1, W // w), 1), mode="nearest")
    return ndimage.zoom(a, (h / H, w / W, 1), order=1, mode="nearest", grid_mode=True)


def _gradient_histogram(grey: np.ndarray) -> np.ndarray:
    """The numpy stand-in for HOG: per 8x8 cell, magnitude-weighted orientation histograms."""
    gy, gx = np.gradient(grey)
    mag = np.hypot(gx, gy)
    ang = np.rad2deg(np.arctan2(gy, gx)) % 180.0
    bins = np.minimum((ang / (180.0 / ORIENTATIONS)).astype(np.int64), ORIENTATIONS - 1)
    n = SIZE // CELL
    cell = (np.arange(SIZE) // CELL)[:, None] * n + (np.arange(SIZE) // CELL)[None, :]
    hist = np.bincount(
        (cell * ORIENTATIONS + bins).ravel(), weights=mag.ravel(), minlength=n * n * ORIENTATIONS
    ).reshape(n * n, ORIENTATIONS)
    norm = np.sqrt((hist**2).sum(axis=1, keepdims=True) + 1e-6)
    return (hist / norm).ravel()


def _group(pics: list[np.ndarray], channels: int, hog: Any) -> np.ndarray:
    """The feature rows of images of one shape (channels last, values in [0, 1])."""
    A = np.stack(pics)
    if A.shape[3] != channels:  # grey among colour images
        A = np.repeat(A, channels, axis=3)
    m, H, W, _ = A.shape
    big = A if (H, W) == (SIZE, SIZE) else np.stack([_resize(a, SIZE, SIZE) for a in A])
    grey = big.mean(axis=3)
    if hog is not None:
        shape = np.stack(
            [
                hog(
                    g,
                    orientations=ORIENTATIONS,
                    pixels_per_cell=(CELL, CELL),
                    cells_per_block=(BLOCK, BLOCK),
                    feature_vector=True,
                )
                for g in grey
            ]
        )
    else:
        shape = np.stack([_gradient_histogram(g) for g in grey])
    # colour histogram: per image and channel, the share of pixels in each of BINS bins
    bins = np.minimum((np.clip(A, 0.0, 1.0) * BINS).astype(np.int64), BINS - 1)
    slot = bins + BINS * np.arange(channels) + (BINS * channels) * np.arange(m)[:, None, None, None]
    hist = np.bincount(slot.ravel(), minlength=m * channels * BINS).reshape(m, channels * BINS)
    k = SIZE // THUMB
    thumb = big.reshape(m, THUMB, k, THUMB, k, channels).mean(axis=(2, 4)).reshape(m, -1)
    return np.hstack([np.asarray(shape, dtype=np.float64), hist / float(H * W), thumb])


def _scale(arrays: list[np.ndarray]) -> tuple[float, float]:
    """The value range images of this column are read in: ``uint8`` 0-255, booleans 0-1,
    other numbers the column's range (0-1 when they fit in it)."""
    kinds = {(a.dtype.kind, a.dtype.itemsize) for a in arrays}
    if kinds == {("u", 1)}:
        return 0.0, 255.0
    if {k for k, _ in kinds} == {"b"}:
        return 0.0, 1.0
    lo = min(float(np.nanmin(a)) if a.size else 0.0 for a in arrays)
    hi = max(float(np.nanmax(a)) if a.size else 0.0 for a in arrays)
    if lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    return lo, hi if hi > lo else lo + 1.0


def image_features(cells: Sequence[Any]) -> np.ndarray:
    """The weight-free features of image cells, one row per image.

    Parameters
    ----------
    cells
        Images: 2-D/3-D numpy arrays (channels last, or first when there are at most 4),
        PNG/JPEG bytes, PIL images or file paths, of any sizes.

    Returns
    -------
    np.ndarray of shape (len(cells), d), float64
        Per image: HOG of the grey image at 32x32 (324 values; a numpy gradient histogram
        of 144 values without scikit-image), the colour histogram (8 bins per channel)
        and the image at 8x8 (64 values per channel). Grey images among colour ones are
        read as colour; alpha is dropped.

    Raises
    ------
    ValueError
        A missing cell, or one that cannot be read (the message names the row and what
        to do).
    """
    from threadpoolctl import threadpool_limits

    arrays: list[np.ndarray] = []
    for i, cell in enumerate(cells):
        if cell is None or (isinstance(cell, float) and cell != cell):
            raise ValueError(f"image row {i} is missing; fill or remove it to compute features")
        try:
            arrays.append(_decode(cell))
        except (OSError, ValueError) as exc:
            raise ValueError(f"image row {i} cannot be read: {exc}") from None
    if not arrays:
        return np.zeros((0, 0))
    for i, a in enumerate(arrays):
        if a.dtype.kind not in "biuf":
            try:
                arrays[i] = a.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"image row {i} holds {a.dtype} values, not numbers") from None
    lo, hi = _scale(arrays)
    pics = []
    for i, a in enumerate(arrays):
        try:
            pics.append((_channels_last(a) - lo) / (hi - lo))
        except ValueError as exc:
            raise ValueError(f"image row {i} cannot be read: {exc}") from None
    channels = max(p.shape[2] for p in pics)
    hog = _hog_backend()
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, p in enumerate(pics):
        by_shape.setdefault(p.shape[:2], []).append(i)
    out: np.ndarray | None = None
    with threadpool_limits(1):
        for rows in by_shape.values():
            block = _group([pics[i] for i in rows], channels, hog)
            if out is None:
                out = np.empty((len(pics), block.shape[1]))
            out[rows] = block
    assert out is not None
    return out


def dataset_image_features(ds: Dataset, column: str) -> np.ndarray:
    """:func:`image_features` of a dataset's image column, cached per dataset version.

    The features of rows an operation made (e.g. augmented copies) are computed from their
    own images, so they always match the pixels.
    """
    version = getattr(ds, "stable_version", None)
    key = (column, version, len(ds))
    try:
        per_ds = _cache.setdefault(ds, {})
    except TypeError:  # not weak-referenceable: no cache
        per_ds = {}
    hit = per_ds.get(key)
    if hit is not None:
        return hit
    X = image_features(list(ds.column(column)))
    if version is not None:
        per_ds.clear()  # one version kept per dataset
        per_ds[key] = X
        X.flags.writeable = False
    return X


def pixel_columns(ds: Dataset, image: str, columns: Sequence[str] | None = None) -> list[str]:
    """The numeric columns that hold the image's pixels, flattened in order (else ``[]``).

    sklearn's digits as a frame, for instance, has 64 pixel columns beside the 8x8 image.
    Checked on up to 20 rows spread over the dataset: the columns must equal the flattened
    array on every one.
    """
    cols = list(ds.feature_columns if columns is None else columns)
    cols = [c for c in cols if c not in (image, ds.label)]
    n = len(ds)
    if not cols or n == 0:
        return []
    cells = ds.column(image)
    rows = np.unique(np.linspace(0, n - 1, min(n, 20)).astype(np.int64))
    flats = []
    for r in rows:
        v = cells[r]
        if not isinstance(v, np.ndarray) or v.dtype.kind not in "biuf":
            return []
        flats.append(v.astype(np.float64).ravel())
    size = flats[0].size
    if any(f.size != size for f in flats) or size > len(cols):
        return []
    numeric = [c for c in cols if ds.column(c).dtype.kind in "biuf"]
    if len(numeric) < size:
        return []
    M = np.stack([ds.column(c)[rows].astype(np.float64) for c in numeric], axis=1)
    F = np.stack(flats)
    for start in range(len(numeric) - size + 1):
        if np.array_equal(M[:, start : start + size], F):
            return numeric[start : start + size]
    return []
