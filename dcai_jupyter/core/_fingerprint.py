"""Order-independent, incrementally updatable content fingerprints.

Each row hashes to ``mix(mix(id) ^ (rest + label_term))`` where ``rest`` sums one term
per non-label column. The dataset fingerprint mixes the wrapping sum of row hashes
with the row count and a hash of the schema (column names, order and dtypes), so a
single-row edit updates it in O(1) and a replay can be checked against a recording.
"""

from __future__ import annotations

import hashlib
import math
import pathlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import _images

MASK = (1 << 64) - 1
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)


def _mix_py(v: int) -> int:
    v ^= v >> 30
    v = (v * 0xBF58476D1CE4E5B9) & MASK
    v ^= v >> 27
    v = (v * 0x94D049BB133111EB) & MASK
    return v ^ (v >> 31)


def mix(x: np.ndarray, *, inplace: bool = False) -> np.ndarray:
    """splitmix64 finalizer, vectorized over a uint64 array (wrapping arithmetic).

    ``inplace=True`` reuses ``x`` (a temporary of the caller's): on million-row columns the
    copy would cost as much as the arithmetic.
    """
    x = np.asarray(x, dtype=np.uint64)
    if x.size <= 4:
        # numpy's per-call overhead dominates tiny arrays (single-row edits): use Python ints.
        return np.array([_mix_py(int(v)) for v in x.ravel()], dtype=np.uint64).reshape(x.shape)
    if not inplace:
        x = x.copy()
    x ^= x >> np.uint64(30)
    x *= _C1
    x ^= x >> np.uint64(27)
    x *= _C2
    x ^= x >> np.uint64(31)
    return x


def _mix_int(v: int) -> int:
    return _mix_py(v & MASK)


def salt(name: str) -> np.uint64:
    """A per-column constant so equal values in different columns hash differently."""
    return np.uint64(
        int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")
    )


def _element_bytes(v: Any) -> bytes:
    """The bytes that identify one cell value: its content, never its memory address.

    Images hash by content: numpy arrays by dtype, shape and bytes; PIL images by mode,
    size, palette and pixels; encoded images (bytes) by their bytes; paths by their text.
    """
    if v is None or v is pd.NA or v is pd.NaT:
        return b"\x00null"
    if isinstance(v, (float, np.floating)) and math.isnan(v):
        return b"\x00nan"
    if isinstance(v, np.ndarray):
        if v.dtype.hasobject:  # the buffer holds pointers: hash the elements instead
            return b"o" + repr(v.shape).encode() + _seq_bytes(v.ravel().tolist())
        return (
            b"a" + v.dtype.str.encode() + repr(v.shape).encode() + np.ascontiguousarray(v).tobytes()
        )
    if isinstance(v, (bytes, bytearray, memoryview)):
        return b"b" + bytes(v)
    if isinstance(v, (bool, np.bool_)):
        return b"t" if v else b"f"
    if isinstance(v, (np.datetime64, np.timedelta64)):  # (timedelta64 is an np.integer)
        return b"M" + v.dtype.str.encode() + np.array(v).view("i8").tobytes()
    if isinstance(v, (int, np.integer)):
        return b"i" + str(int(v)).encode()
    if isinstance(v, (float, np.floating)):
        return b"d" + repr(float(v)).encode()
    if isinstance(v, (complex, np.complexfloating)):
        return b"c" + repr(complex(v)).encode()
    if type(v) in (list, tuple):
        return (b"l" if type(v) is list else b"u") + _seq_bytes(v)
    if type(v) is dict:
        return b"m" + _seq_bytes([x for kv in v.items() for x in kv])
    if _images.is_pil_image(v):
        return b"p" + _images.content_bytes(v)
    if isinstance(v, pathlib.PurePath):
        return b"P" + str(v).encode("utf-8", "surrogatepass")
    return b"r" + type(v).__name__.encode() + b":" + repr(v).encode()


def _seq_bytes(items: Iterable[Any]) -> bytes:
    """Elements' bytes, each length-prefixed so that no two sequences collide."""
    parts = []
    for x in items:
        b = b"s" + x.encode("utf-8", "surrogatepass") if isinstance(x, str) else _element_bytes(x)
        parts.append(len(b).to_bytes(8, "little") + b)
    return b"".join(parts)


def hash_values(arr: np.ndarray) -> np.ndarray:
    """Hash every element of a column array to uint64; each hash depends on the element only."""
    if arr.dtype.kind in "mM":
        return pd.util.hash_array(arr.view("i8"))
    if arr.dtype != object:
        return pd.util.hash_array(arr)
    if pd.api.types.infer_dtype(arr, skipna=False) == "string":
        return pd.util.hash_array(arr)
    out = np.empty(len(arr), dtype=np.uint64)
    is_str = np.fromiter((isinstance(v, str) for v in arr), dtype=bool, count=len(arr))
    if is_str.any():
        out[is_str] = pd.util.hash_array(arr[is_str])
    if not is_str.all():
        rest = np.flatnonzero(~is_str)
        out[rest] = np.fromiter(
            (
                int.from_bytes(
                    hashlib.blake2b(_element_bytes(arr[i]), digest_size=8).digest(), "little"
                )
                for i in rest
            ),
            dtype=np.uint64,
            count=len(rest),
        )
    return out


def column_term(h: np.ndarray, s: np.uint64) -> np.ndarray:
    return mix(h + s, inplace=True)


def row_hash(ids: np.ndarray, rest: np.ndarray, label_term: np.ndarray) -> np.ndarray:
    mixed = mix(ids.astype(np.uint64), inplace=True)
    mixed ^= rest + label_term
    return mix(mixed, inplace=True)


def schema_hash(columns: Sequence[str], dtypes: Iterable[str]) -> int:
    text = "\x1f".join(f"{c}\x1e{d}" for c, d in zip(columns, dtypes, strict=True))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def finish(total: int, n_rows: int, schema: int) -> int:
    """Combine the row-hash sum, row count and schema into the fingerprint (uint64 int)."""
    return _mix_int(total ^ _mix_int(n_rows) ^ schema)


def to_hex(fp: int) -> str:
    return f"{fp & MASK:016x}"


def to_signed(fp: int) -> int:
    """SQLite stores signed 64-bit integers."""
    fp &= MASK
    return fp - (1 << 64) if fp >= (1 << 63) else fp


def from_signed(v: int) -> int:
    return v & MASK
