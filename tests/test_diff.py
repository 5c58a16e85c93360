"""``history.diff(a, b)`` against a brute-force comparison of two checkouts; metrics per version."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dcai_jupyter as dj
from dcai_jupyter.core import HistoryError, open_history

CLASSES = ["a", "b", "c"]


def _base(n: int = 8) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": np.arange(n, dtype=np.float64),
            "t": [f"s{i}" for i in range(n)],
            "y": [CLASSES[i % 3] for i in range(n)],
        }
    )


# one step: (kind, pick, value)
steps = st.lists(
    st.tuples(
        st.sampled_from(["relabel", "remove", "update", "add", "undo", "revert", "nan"]),
        st.integers(0, 1000),
        st.integers(0, 1000),
    ),
    min_size=1,
    max_size=14,
)


def _run(ds: dj.Dataset, plan: list[tuple[str, int, int]]) -> None:
    for kind, pick, value in plan:
        ids = ds.ids.tolist()
        if kind == "relabel" and ids:
            chosen = sorted({ids[pick % len(ids)], ids[(pick * 7 + 3) % len(ids)]})
            ds.relabel(chosen, [CLASSES[(value + k) % 3] for k in range(len(chosen))])
        elif kind == "remove" and len(ids) > 1:
            ds.remove([ids[pick % len(ids)]])
        elif kind in ("update", "nan") and ids:
            v = float("nan") if kind == "nan" else float(value)
            ds.update([ids[pick % len(ids)]], "x", [v])
        elif kind == "add":
            ds.add(
                pd.DataFrame({"x": [float(value)], "t": [f"new{value}"], "y": [CLASSES[pick % 3]]})
            )
        elif kind == "undo":
            try:
                ds.undo()
            except ValueError:
                pass
        elif kind == "revert" and ds.version:
            ds.revert_to(pick % (ds.version + 1))


def _same(x: object, y: object) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return bool(x == y)


def _brute(ds: dj.Dataset, a: int, b: int) -> dict[str, object]:
    fa, fb = ds.checkout(a), ds.checkout(b)
    ia, ib = set(fa.index), set(fb.index)
    both = sorted(ia & ib)
    relabeled = {i: (fa.at[i, "y"], fb.at[i, "y"]) for i in both if fa.at[i, "y"] != fb.at[i, "y"]}
    modified = {
        (i, c): (fa.at[i, c], fb.at[i, c])
        for i in both
        for c in ("x", "t")
        if not _same(fa.at[i, c], fb.at[i, c])
    }
    return {
        "added": fb.loc[sorted(ib - ia)],
        "removed": fa.loc[sorted(ia - ib)],
        "relabeled": relabeled,
        "modified": modified,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=steps, pa=st.integers(0, 1000), pb=st.integers(0, 1000))
def test_diff_equals_brute_force_comparison_of_two_checkouts(plan, pa, pb):
    ds = dj.Dataset(_base(), label="y")
    _run(ds, plan)
    a, b = pa % (ds.version + 1), pb % (ds.version + 1)
    got = ds.history.diff(a, b)
    want = _brute(ds, a, b)
    assert (got.a, got.b) == (a, b)
    pd.testing.assert_frame_equal(got.added, want["added"], check_dtype=True)
    pd.testing.assert_frame_equal(got.removed, want["removed"], check_dtype=True)
    assert {i: (o, n) for i, o, n in got.relabeled.itertuples()} == want["relabeled"]
    mod = {(i, c): (o, n) for _, i, c, o, n in got.modified.itertuples()}
    assert mod.keys() == want["modified"].keys()
    for k, (o, n) in mod.items():
        wo, wn = want["modified"][k]
        assert _same(o, wo) and _same(n, wn), (k, o, n, wo, wn)
    # the ids listed are exactly the rows that differ
    touched = set(want["added"].index) | set(want["removed"].index) | set(want["relabeled"])
    touched |= {i for i, _ in want["modified"]}
    assert set(got.ids) == touched
    assert got.empty == (not touched)
    # read backwards: the mirror image
    back = ds.history.diff(b, a)
    assert back.counts() == {
        "added": got.counts()["removed"],
        "removed": got.counts()["added"],
        "relabeled": got.counts()["relabeled"],
        "modified": got.counts()["modified"],
    }


def test_diff_reads_a_saved_history_file_and_lists_old_to_new(tmp_path):
    path = tmp_path / "h.sqlite"
    ds = dj.Dataset(_base(), label="y", name="d", history=path)
    v1 = ds.relabel([0, 4], ["b", "c"])
    ds.remove([2])
    h = open_history(path)
    d = h.diff(0, h.head)
    assert d.counts() == {"added": 0, "removed": 1, "relabeled": 2, "modified": 0}
    assert d.relabeled.loc[0].tolist() == ["a", "b"]
    assert d.relabeled.loc[4].tolist() == ["b", "c"]
    assert d.removed.index.tolist() == [2] and d.removed.at[2, "t"] == "s2"
    assert h.diff(0, v1).counts()["removed"] == 0
    s = d.summary()
    assert s.loc[0, "change"] == "relabeled" and s.loc[2, "change"] == "removed"
    assert "relabeled 2" in repr(d)
    with pytest.raises(ValueError, match="no version 9"):
        h.diff(0, 9)


def test_metrics_are_recorded_per_version_with_provenance(tmp_path):
    path = tmp_path / "m.sqlite"
    ds = dj.Dataset(_base(), label="y", name="m", history=path)
    ds.history.record_metrics(0, {"accuracy": 0.5, "macro_f1": 0.4}, {"cv": 3})
    ds.relabel([1], ["a"])
    ds.history.record_metrics(ds.version, {"accuracy": 0.75})
    m = ds.history.metrics
    assert m[["version", "name", "value"]].values.tolist() == [
        [0, "accuracy", 0.5],
        [0, "macro_f1", 0.4],
        [1, "accuracy", 0.75],
    ]
    assert m["params"].iloc[0] == {"cv": 3}
    assert (m["source"] == "api").all()
    # survives a reopen; read-only handles cannot record
    ro = open_history(path)
    assert len(ro.metrics) == 3
    with pytest.raises(HistoryError, match="read-only"):
        ro.record_metrics(1, {"accuracy": 1.0})


@pytest.mark.parametrize(
    ("version", "values", "match"),
    [
        (5, {"accuracy": 1.0}, "no version 5"),
        (0, {}, "non-empty dict"),
        (0, {"accuracy": "high"}, "real number"),
        (0, {"accuracy": float("nan")}, "finite"),
        (0, {"": 1.0}, "non-empty strings"),
    ],
)
def test_bad_metrics_are_refused_and_nothing_is_recorded(version, values, match):
    ds = dj.Dataset(_base(), label="y")
    with pytest.raises(ValueError, match=match):
        ds.history.record_metrics(version, values)
    assert len(ds.history.metrics) == 0
