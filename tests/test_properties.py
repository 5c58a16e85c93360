"""Property tests: any sequence of operations replays exactly, undo restores fingerprints,
and every value the history codec supports round-trips exactly (same fingerprint)."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import pathlib
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dcai_jupyter as dj
from dcai_jupyter.core import _codec
from dcai_jupyter.core import _fingerprint as fpr

CLASSES = ["a", "b", "c"]
_counter = itertools.count()

# The label column's type: strings, integers or a pandas categorical.
LABEL_KINDS = ["str", "int", "category"]


def _labels(kind: str, picks: Any) -> Any:
    """Label values of ``kind`` for class indices ``picks`` (0..2)."""
    picks = np.asarray(picks, dtype=np.int64)
    if kind == "str":
        return pd.array(np.array(CLASSES)[picks], dtype="str")
    if kind == "int":
        return picks * 10
    return pd.Categorical(np.array(CLASSES)[picks], categories=CLASSES)


def _images(seeds: Any) -> np.ndarray:
    """An image column: small uint8 arrays (2-D or 3-D by seed), one per row."""
    out = np.empty(len(seeds), dtype=object)
    for i, s in enumerate(seeds):
        rng = np.random.default_rng(int(s))
        out[i] = rng.integers(0, 256, size=(3, 2) if s % 2 else (2, 2, 3), dtype=np.uint8)
    return out


op = st.one_of(
    st.tuples(
        st.just("relabel"),
        st.lists(st.integers(0, 10_000), min_size=1, max_size=4),
        st.lists(st.integers(0, 2), min_size=4, max_size=4),
    ),
    st.tuples(
        st.just("remove"), st.lists(st.integers(0, 10_000), min_size=1, max_size=3), st.none()
    ),
    st.tuples(st.just("add"), st.integers(1, 3), st.integers(0, 2)),
    # update an integer feature or the image column of some rows
    st.tuples(
        st.just("update"),
        st.lists(st.integers(0, 10_000), min_size=1, max_size=3),
        st.tuples(st.sampled_from(["k", "img"]), st.integers(0, 1000)),
    ),
    st.tuples(st.just("undo"), st.none(), st.none()),
    st.tuples(st.just("redo"), st.none(), st.none()),
)


def _base(n: int, label_kind: str = "str") -> pd.DataFrame:
    rng = np.random.default_rng(n)
    ids = rng.permutation(n * 3)[:n]
    return pd.DataFrame(
        {
            "f": rng.normal(size=n),
            "k": rng.integers(0, 5, size=n),
            "img": _images(rng.integers(0, 1000, size=n)),
            "label": _labels(label_kind, rng.integers(0, 3, size=n)),
        },
        # ids not in row order for odd n (hash lookups), ascending for even n (binary search)
        index=pd.Index(ids if n % 2 else np.sort(ids)),
    )


def _rows(k: int, label_kind: str, pick: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "f": [0.5] * k,
            "k": [1] * k,
            "img": _images(range(k)),
            "label": _labels(label_kind, [pick] * k),
        }
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(1, 12),
    label_kind=st.sampled_from(LABEL_KINDS),
    ops=st.lists(op, max_size=12),
)
def test_replay_equals_live_state_at_every_version(tmp_path, n, label_kind, ops):
    base = _base(n, label_kind)
    path = tmp_path / f"p{next(_counter)}.sqlite"
    ds = dj.Dataset(base, label="label", name="prop", history=path)
    states = {0: (ds.df, ds.fingerprint)}
    for kind, a, b in ops:
        ids = ds.ids
        prev_fp, prev_df, prev_version = ds.fingerprint, ds.df, ds.version
        try:
            if kind == "relabel":
                if len(ids) == 0:
                    continue
                chosen = list(dict.fromkeys(int(ids[i % len(ids)]) for i in a))
                ds.relabel(chosen, list(_labels(label_kind, b[: len(chosen)])))
            elif kind == "remove":
                if len(ids) == 0:
                    continue
                ds.remove(list(dict.fromkeys(int(ids[i % len(ids)]) for i in a)))
            elif kind == "add":
                ds.add(_rows(a, label_kind, b))
            elif kind == "update":
                if len(ids) == 0:
                    continue
                chosen = list(dict.fromkeys(int(ids[i % len(ids)]) for i in a))
                column, seed = b
                values = (
                    _images(range(seed, seed + len(chosen)))  # a 1-D object array of images
                    if column == "img"
                    else [seed % 7] * len(chosen)
                )
                ds.update(chosen, column, values)
            elif kind == "undo":
                ds.undo()
            else:
                ds.redo()
        except ValueError as e:
            assert "nothing to" in str(e)
            assert ds.version == prev_version and ds.fingerprint == prev_fp
            pd.testing.assert_frame_equal(ds.df, prev_df)
            continue
        states[ds.version] = (ds.df, ds.fingerprint)
    h = dj.open_history(path)
    assert h.head == ds.version
    for v, (df, _fp) in states.items():
        pd.testing.assert_frame_equal(h.replay(base, to=v), df)
        pd.testing.assert_frame_equal(ds.history.checkout(v), df)
    h.close()
    # resuming from the file gives the same head state
    ds.history.close()
    again = dj.Dataset(base, label="label", name="prop", history=path)
    pd.testing.assert_frame_equal(again.df, ds.df)
    assert again.fingerprint == ds.fingerprint


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 10),
    label_kind=st.sampled_from(LABEL_KINDS),
    seq=st.lists(st.sampled_from(["relabel", "remove", "add", "update"]), min_size=1, max_size=8),
)
def test_undo_restores_exact_previous_fingerprint(n, label_kind, seq):
    ds = dj.Dataset(_base(n, label_kind), label="label")
    classes = list(_labels(label_kind, [0, 1, 2]))
    stack = []
    for step, kind in enumerate(seq):
        ids = ds.ids
        if kind != "add" and len(ids) == 0:
            continue
        before = (ds.fingerprint, ds.df)
        if kind == "relabel":
            cur = ds.df.loc[int(ids[0]), "label"]
            ds.relabel([int(ids[0])], [next(c for c in classes if c != cur)])
        elif kind == "remove":
            ds.remove([int(ids[-1])])
        elif kind == "update":
            ds.update([int(ids[0])], "img", _images([5000 + step]))
        else:
            ds.add(_rows(1, label_kind, 2))
        assert ds.fingerprint != before[0]
        stack.append(before)
    while stack:
        fp, df = stack.pop()
        ds.undo()
        assert ds.fingerprint == fp
        pd.testing.assert_frame_equal(ds.df, df)


# ---------------------------------------------------------------------------- codec
_UNITS = st.sampled_from(["s", "ms", "us", "ns"])
_PD_TZ = st.sampled_from(
    [
        None,
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        dt.timezone(dt.timedelta(hours=5, minutes=30)),
    ]
)
_PY_TZ = st.sampled_from(
    [None, dt.timezone.utc, dt.timezone(dt.timedelta(hours=-3)), "zone:Europe/Berlin"]
)


def _timestamp(d: dt.datetime, unit: str, tz: Any) -> pd.Timestamp:
    ts = pd.Timestamp(d)
    if tz is not None:
        ts = ts.tz_localize("UTC").tz_convert(tz)
    return ts.as_unit(unit)


def _py_datetime(d: dt.datetime, tz: Any) -> dt.datetime:
    if isinstance(tz, str):
        import zoneinfo

        return d.replace(tzinfo=dt.timezone.utc).astimezone(zoneinfo.ZoneInfo(tz[5:]))
    return d if tz is None else d.replace(tzinfo=tz)


_DATES = st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2200, 1, 1))
_SCALAR_DTYPES = [
    "int8", "uint16", "int64", "uint64", "float16", "float32", "float64", "bool",
    "complex128", "datetime64[s]", "datetime64[ns]", "timedelta64[ms]", "U3", "S2",
]  # fmt: skip

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.binary(max_size=8),
    st.just(pd.NA),
    st.just(pd.NaT),
    st.builds(_timestamp, _DATES, _UNITS, _PD_TZ),
    st.builds(
        lambda td, unit: pd.Timedelta(td).as_unit(unit),
        st.timedeltas(min_value=dt.timedelta(days=-9999), max_value=dt.timedelta(days=9999)),
        _UNITS,
    ),
    st.dates(),
    st.builds(_py_datetime, _DATES, _PY_TZ),
    st.complex_numbers(allow_nan=True, allow_infinity=True),
    st.builds(pathlib.PurePosixPath, st.text(alphabet="ab/._", min_size=1, max_size=8)),
    st.sampled_from(_SCALAR_DTYPES).flatmap(lambda d: hnp.from_dtype(np.dtype(d))),
)
arrays = hnp.arrays(
    dtype=st.sampled_from(_SCALAR_DTYPES).map(np.dtype),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
)


def _object_array(items: list[Any]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    for i, v in enumerate(items):
        out[i] = v
    return out


values = st.recursive(
    leaves | arrays,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=3), inner, max_size=3),
        st.lists(inner, max_size=3).map(_object_array),
    ),
    max_leaves=8,
)


def _same(a: Any, b: Any) -> bool:
    """Exact equality: same type, NaN equals NaN, -0.0 is not 0.0, arrays by dtype and bytes.

    numpy scalars come back as the equal Python scalar, and paths as ``pathlib.Path``.
    """
    if isinstance(a, np.generic) and not isinstance(a, (np.datetime64, np.timedelta64)):
        a = a.item()
    if isinstance(a, pathlib.PurePath):
        return isinstance(b, pathlib.PurePath) and str(a) == str(b)
    if a is None or a is pd.NA or a is pd.NaT:
        return b is a
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, complex):
        return _same(a.real, b.real) and _same(a.imag, b.imag)
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype == object:
            return all(_same(x, y) for x, y in zip(a.ravel(), b.ravel(), strict=True))
        return a.tobytes() == b.tobytes()
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, pd.Timestamp):
        return a.value == b.value and str(a.tz) == str(b.tz) and a.unit == b.unit
    if isinstance(a, pd.Timedelta):
        return a.value == b.value and a.unit == b.unit
    if isinstance(a, (np.datetime64, np.timedelta64)):
        return a.dtype == b.dtype and np.array(a).view("i8") == np.array(b).view("i8")
    if isinstance(a, dt.datetime):
        return a == b and a.utcoffset() == b.utcoffset() and repr(a) == repr(b)
    return bool(a == b)


def _cell_hash(v: Any) -> int:
    one = np.empty(1, dtype=object)
    one[0] = v
    return int(fpr.hash_values(one)[0])


@settings(max_examples=400, deadline=None)
@given(v=values)
def test_codec_round_trip_is_exact(v):
    """Every supported value comes back equal, with the same fingerprint (so undo is exact)."""
    stored = _codec.dumps(_codec.encode_value(v))  # what the history file holds
    back = _codec.decode_value(_codec.loads(stored))
    assert _same(v, back), (v, back)
    assert _cell_hash(back) == _cell_hash(v)


@settings(max_examples=100, deadline=None)
@given(
    arr=hnp.arrays(
        dtype=st.sampled_from(["int64", "uint8", "float64", "float32", "bool", "datetime64[ns]"]),
        shape=st.integers(0, 6),
    )
)
def test_codec_round_trips_whole_columns(arr):
    back = _codec.decode_list(_codec.loads(_codec.dumps(_codec.encode_array(arr))))
    out = np.array(back).astype(arr.dtype) if arr.dtype.kind == "M" else np.array(back, arr.dtype)
    if arr.dtype.kind == "f":  # NaN payloads are not kept (JSON has one NaN); signs of zero are
        assert np.array_equal(out, arr, equal_nan=True)
        assert (np.signbit(out) == np.signbit(arr))[~np.isnan(arr)].all()
    else:
        assert out.tobytes() == arr.tobytes()
    assert (fpr.hash_values(out) == fpr.hash_values(arr)).all()  # hashing ignores NaN payloads


def test_codec_round_trips_pil_images_exactly():
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    px = rng.integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    bad = Image.frombytes("P", (2, 2), bytes([0, 1, 200, 3]))  # indices past its palette
    bad.putpalette([1, 2, 3] * 4)
    cases = [  # (image, stored as PNG?)
        (Image.fromarray(px[..., 0]), True),  # L
        (Image.fromarray(px), True),  # RGB
        (Image.fromarray(np.dstack([px, px[..., :1]])), True),  # RGBA
        (Image.fromarray(px).quantize(5), True),  # P
        (Image.fromarray(px[..., 0] > 100), True),  # 1
        (Image.fromarray(px[..., 0].astype(np.uint16) * 257), True),  # I;16
        (Image.fromarray(px[..., 0].astype(np.float32) * 0.5), False),  # F: PNG cannot
        (Image.fromarray(px[..., 0].astype(np.int32) * 99_999), False),  # I: PNG would clip
        (Image.fromarray(px).convert("CMYK"), False),
        (Image.new("RGB", (0, 3)), False),  # PNG cannot hold an empty image
        (bad, False),  # PNG would not keep the out-of-palette indices
    ]
    for img, as_png in cases:
        enc = _codec.encode_value(img)
        assert next(iter(enc)) == ("$png" if as_png else "$pil"), img.mode
        back = _codec.decode_value(_codec.loads(_codec.dumps(enc)))
        assert (back.mode, back.size, back.tobytes()) == (img.mode, img.size, img.tobytes())
        assert back.getpalette() == img.getpalette()
        assert _cell_hash(back) == _cell_hash(img), img.mode
