"""Image cells as small data URLs: a tiny PNG encoder (zlib) and thumbnailing.

Handles what ``Dataset.image_column`` may hold: 2-D/3-D numpy arrays (e.g. sklearn digits),
PIL images, PNG/JPEG/GIF/WebP bytes and file paths. Pillow is used when it is installed;
without it, arrays are still encoded (by the PNG writer here) and small encoded images are
passed through unchanged.
"""

from __future__ import annotations

import base64
import io
import os
import struct
import zlib
from typing import Any

import numpy as np

_PILImage: Any
try:  # Pillow is optional
    from PIL import Image as _PILImage
except ImportError:  # pragma: no cover - exercised only without Pillow
    _PILImage = None

__all__ = ["encode_png", "image_data_url", "to_uint8_image"]

#: encoded images larger than this are not sent when they cannot be thumbnailed (no Pillow)
MAX_PASSTHROUGH_BYTES = 256 * 1024

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff")


def _chunk(tag: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + tag
        + data
        + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    )


def encode_png(pixels: np.ndarray) -> bytes:
    """Encode an 8-bit image as PNG.

    Parameters
    ----------
    pixels : np.ndarray
        ``uint8`` array of shape ``(h, w)`` (grey), ``(h, w, 2)`` (grey + alpha),
        ``(h, w, 3)`` (RGB) or ``(h, w, 4)`` (RGBA).

    Returns
    -------
    bytes
        A complete PNG file.
    """
    a = np.ascontiguousarray(pixels, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4) or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"cannot encode an image of shape {pixels.shape}")
    h, w, c = a.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = np.zeros((h, 1 + w * c), dtype=np.uint8)  # filter byte 0 (None) per scanline
    raw[:, 1:] = a.reshape(h, w * c)
    header = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )


def to_uint8_image(value: np.ndarray) -> np.ndarray:
    """Turn a numeric 2-D/3-D array into an 8-bit ``(h, w[, c])`` image.

    ``uint8`` is kept, ``bool`` maps to 0/255, floats within [0, 1] are scaled by 255 and
    anything else (e.g. sklearn digits, 0..16) is min-max scaled per image.
    Channels-first arrays (``(1|3|4, h, w)``) are transposed.
    """
    a = np.asarray(value)
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[2] not in (1, 3, 4):
        a = np.moveaxis(a, 0, -1)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (2, 3, 4)):
        raise ValueError(f"not an image array: shape {a.shape}")
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    f = a.astype(np.float64)
    finite = np.isfinite(f)
    if not finite.any():
        return np.zeros(a.shape, dtype=np.uint8)
    f = np.where(finite, f, 0.0)
    lo, hi = float(f.min()), float(f.max())
    if lo >= 0.0 and hi <= 1.0 and a.dtype.kind == "f":
        scaled = f * 255.0
    elif hi > lo:
        scaled = (f - lo) * (255.0 / (hi - lo))
    else:
        scaled = np.zeros_like(f)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _downscale(a: np.ndarray, max_side: int) -> np.ndarray:
    """Nearest-neighbour downscale so that no side exceeds ``max_side`` (never upscales)."""
    h, w = a.shape[:2]
    step = max(1, -(-max(h, w) // max_side))
    return a if step == 1 else a[::step, ::step]


def _data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _sniff(data: bytes) -> str | None:
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _pil_to_url(img: Any, max_side: int) -> str:
    img = img.copy()
    img.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    if img.mode in ("RGB", "YCbCr", "CMYK"):
        img.convert("RGB").save(buf, format="JPEG", quality=85)
        return _data_url("image/jpeg", buf.getvalue())
    if img.mode not in ("L", "LA", "RGBA", "P", "1"):
        img = img.convert("RGBA")
    img.save(buf, format="PNG")
    return _data_url("image/png", buf.getvalue())


def _bytes_to_url(data: bytes, max_side: int) -> str | None:
    if _PILImage is not None:
        try:
            with _PILImage.open(io.BytesIO(data)) as img:
                img.load()
                return _pil_to_url(img, max_side)
        except Exception:
            return None
    mime = _sniff(data)
    if mime is None or len(data) > MAX_PASSTHROUGH_BYTES:
        return None
    return _data_url(mime, data)


def image_data_url(value: Any, max_side: int = 64) -> str | None:
    """Encode one image cell as a ``data:image/...;base64`` URL no larger than ``max_side``.

    Parameters
    ----------
    value : Any
        A numeric array, a PIL image, encoded image bytes, or a path to an image file.
    max_side : int
        Largest width/height of the thumbnail in pixels (smaller images are sent as they are;
        the browser scales them up with ``image-rendering: pixelated``).

    Returns
    -------
    str or None
        The data URL, or None when the value is missing or not a readable image.
    """
    if value is None:
        return None
    try:
        if isinstance(value, np.ndarray):
            if value.dtype == object or value.size == 0:
                return None
            return _data_url("image/png", encode_png(_downscale(to_uint8_image(value), max_side)))
        if _PILImage is not None and isinstance(value, _PILImage.Image):
            return _pil_to_url(value, max_side)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return _bytes_to_url(bytes(value), max_side)
        if isinstance(value, (str, os.PathLike)):
            path = os.fspath(value)
            if not str(path).lower().endswith(_IMAGE_SUFFIXES) or not os.path.isfile(path):
                return None
            with open(path, "rb") as fh:
                return _bytes_to_url(fh.read(), max_side)
    except (ValueError, OSError, TypeError):
        return None
    return None
