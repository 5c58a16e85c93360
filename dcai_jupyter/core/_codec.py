"""Exact JSON encoding of cell values for the deltas stored in the history.

JSON keeps the history readable with any SQLite tool. Values JSON cannot carry
exactly (arrays, bytes, timestamps, missing markers, paths, PIL images) are tagged
objects. Floats round-trip exactly (``repr``); NaN and infinities use Python's JSON
tokens. PIL images are stored as PNG bytes where PNG is exact, else as raw pixels;
Pillow is imported only to decode one.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
import pathlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from . import _images


class UnrecordableValueError(TypeError):
    """A value cannot be stored exactly in the history."""


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def encode_value(v: Any) -> Any:
    """A JSON-ready form of ``v`` that ``decode_value`` turns back into an equal value.

    Raises
    ------
    UnrecordableValueError
        For a type the history cannot store exactly.
    """
    if v is None or isinstance(v, (str, bool)):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return v
    if v is pd.NA:
        return {"$na": 1}
    if v is pd.NaT:
        return {"$nat": 1}
    if isinstance(v, np.generic):
        if isinstance(v, (np.datetime64, np.timedelta64)):
            return {"$np": [v.dtype.str, int(v.view("i8"))]}
        x = v.item()
        if isinstance(x, np.generic):  # e.g. longdouble: no exact Python equivalent
            raise UnrecordableValueError(
                f"cannot record a numpy {v.dtype} value in the history exactly; "
                "convert the column to float64 first"
            )
        return encode_value(x)
    if isinstance(v, complex):
        return {"$c": [v.real, v.imag]}
    if isinstance(v, np.ndarray):
        if v.dtype == object:
            return {"$ol": [list(v.shape), [encode_value(x) for x in v.ravel()]]}
        return {
            "$nd": [
                v.dtype.str,
                list(v.shape),
                base64.b64encode(np.ascontiguousarray(v).tobytes()).decode(),
            ]
        }
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"$b": base64.b64encode(bytes(v)).decode()}
    if isinstance(v, pd.Timestamp):
        return {"$ts": [v.value, None if v.tz is None else str(v.tz), v.unit]}
    if isinstance(v, pd.Timedelta):
        return {"$td": [v.value, v.unit]}
    if isinstance(v, _dt.datetime):
        key = getattr(v.tzinfo, "key", None)  # a zoneinfo zone: keep it, not just the offset
        key = key if isinstance(key, str) else None
        if key is None and not v.fold:
            return {"$pydt": v.isoformat()}
        return {"$pydt": [v.isoformat(), key, v.fold]}
    if isinstance(v, _dt.date):
        return {"$pyd": v.isoformat()}
    if isinstance(v, (list, tuple)):
        return {"$l" if isinstance(v, list) else "$t": [encode_value(x) for x in v]}
    if isinstance(v, dict) and all(isinstance(k, str) for k in v):
        return {"$d": {k: encode_value(x) for k, x in v.items()}}
    if isinstance(v, pathlib.PurePath):
        return {"$path": str(v)}
    if _images.is_pil_image(v):
        tag, payload = _images.encode(v)
        if tag == "$png":
            return {tag: _b64(payload)}
        mode, size, data, palette = payload
        return {tag: [mode, size, _b64(data), _b64(palette)]}
    raise UnrecordableValueError(
        f"cannot record a value of type {type(v).__name__} in the history; "
        "convert the column to numbers, strings, bytes, numpy arrays or PIL images first"
    )


def decode_value(v: Any) -> Any:
    """The value ``encode_value`` encoded."""
    if not isinstance(v, dict):
        return v
    ((tag, x),) = v.items()
    if tag == "$na":
        return pd.NA
    if tag == "$nat":
        return pd.NaT
    if tag == "$np":
        return np.array(x[1], dtype="i8").view(x[0])[()]
    if tag == "$nd":
        arr = np.frombuffer(base64.b64decode(x[2]), dtype=np.dtype(x[0])).reshape(x[1]).copy()
        return arr
    if tag == "$ol":
        out = np.empty(len(x[1]), dtype=object)
        out[:] = [decode_value(e) for e in x[1]]
        return out.reshape(x[0])
    if tag == "$b":
        return base64.b64decode(x)
    if tag == "$ts":
        ts = pd.Timestamp(x[0], unit="ns", tz="UTC" if x[1] else None)
        if x[1]:
            ts = ts.tz_convert(x[1])
        return ts.as_unit(x[2]) if x[2] else ts
    if tag == "$td":
        td = pd.Timedelta(x[0], unit="ns")
        return td.as_unit(x[1]) if x[1] else td
    if tag == "$pydt":
        if not isinstance(x, list):
            return _dt.datetime.fromisoformat(x)
        d = _dt.datetime.fromisoformat(x[0]).replace(fold=x[2])
        if x[1] is not None:
            import zoneinfo

            d = d.replace(tzinfo=zoneinfo.ZoneInfo(x[1]))  # same wall time, fold and zone
        return d
    if tag == "$pyd":
        return _dt.date.fromisoformat(x)
    if tag == "$l":
        return [decode_value(e) for e in x]
    if tag == "$t":
        return tuple(decode_value(e) for e in x)
    if tag == "$d":
        return {k: decode_value(e) for k, e in x.items()}
    if tag == "$c":
        return complex(x[0], x[1])
    if tag == "$path":
        return pathlib.Path(x)
    if tag == "$png":
        return _images.decode_png(base64.b64decode(x))
    if tag == "$pil":
        return _images.decode_raw(x[0], x[1], base64.b64decode(x[2]), base64.b64decode(x[3]))
    raise ValueError(f"unknown tagged value {tag!r} in history delta")


def encode_array(arr: np.ndarray) -> list[Any]:
    """Encode a column slice. Plain numeric arrays take the fast ``tolist`` path."""
    if arr.dtype.kind in "biuf":
        return arr.tolist()
    return [encode_value(v) for v in arr]


def decode_list(values: list[Any]) -> list[Any]:
    return [decode_value(v) if isinstance(v, dict) else v for v in values]


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), allow_nan=True)


#: rows per piece when a delta of many rows is encoded piece by piece (``dumps_rows``)
ROWS_PER_PIECE = 50_000


def dumps_rows(
    delta: dict[str, Any],
    n: int,
    progress: Callable[[int], None],
    *,
    rows_per_piece: int | None = None,
) -> str:
    """``dumps(delta)``, the same text, encoded ``rows_per_piece`` rows at a time.

    The delta's lists of ``n`` values (one per row: ``i``, ``p``, the columns of ``r``...)
    are encoded piece by piece, every list's rows ``[a, b)`` before the next piece's, and
    ``progress(k)`` is called after each piece with its ``k`` rows (the calls add up to
    ``n``), so a bar can follow encoding that takes seconds on a million rows. Everything
    else is encoded as ``dumps`` does; the pieces join into exactly ``dumps(delta)``.
    ``rows_per_piece`` defaults to ``ROWS_PER_PIECE``.
    """
    rows_per_piece = rows_per_piece or ROWS_PER_PIECE
    if n <= rows_per_piece or not delta or not all(isinstance(k, str) for k in delta):
        text = dumps(delta)
        progress(n)
        return text
    # the lists to encode in pieces, in the order they appear in the text
    slots: list[list[Any]] = []
    layout: list[tuple[str, Any]] = []  # (key, value) with value a slot number or a dict of them
    for key, value in delta.items():
        if isinstance(value, list) and len(value) == n:
            layout.append((key, len(slots)))
            slots.append(value)
        elif (
            isinstance(value, dict)
            and value
            and all(
                isinstance(k, str) and isinstance(v, list) and len(v) == n for k, v in value.items()
            )
        ):
            layout.append((key, {k: len(slots) + j for j, k in enumerate(value)}))
            slots.extend(value.values())
        else:
            layout.append((key, None))
    pieces: list[list[str]] = [[] for _ in slots]
    for a in range(0, n, rows_per_piece):
        b = min(n, a + rows_per_piece)
        for values, out in zip(slots, pieces, strict=True):
            out.append(dumps(values[a:b])[1:-1])
        progress(b - a)

    def listed(slot: int) -> list[str]:
        out = ["["]
        for text in pieces[slot]:
            out += (text, ",")
        out[-1] = "]"
        return out

    # one join of every fragment: the text is built once (memory: the pieces and the text)
    frags = ["{"]
    for key, value in layout:
        frags += (dumps(key), ":")
        if value is None:
            frags.append(dumps(delta[key]))
        elif isinstance(value, dict):
            frags.append("{")
            for k, slot in value.items():
                frags += (dumps(k), ":", *listed(slot), ",")
            frags[-1] = "}"
        else:
            frags += listed(value)
        frags.append(",")
    frags[-1] = "}"
    return "".join(frags)


def loads(text: str) -> Any:
    return json.loads(text)


def is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, (float, np.floating)):
        return math.isnan(v)
    return False
