"""One reading of iterations (core's IterationLog), followed incrementally.

"Which iteration made this change" had three answers (History.iterations, the HistoryView
and the server extension each grouped changes their own way), and the HistoryView
re-read the whole history on every click. Now core reads it once, incrementally, and the
others use that reading.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import dcai_jupyter as dj
from dcai_jupyter.core._provenance import widget_source


def _ds(tmp_path, n: int = 40) -> dj.Dataset:
    df = pd.DataFrame({"x": np.arange(n, dtype=float), "label": ["a", "b"] * (n // 2)})
    return dj.Dataset(df, label="label", name="it", history=tmp_path / "it.sqlite")


def test_interleaved_sessions_each_change_in_one_iteration_with_per_op_counts(tmp_path):
    ds = _ds(tmp_path)
    ds.relabel([0], ["b"])  # iteration 1 (this process's api/cell session)
    with widget_source("SampleGrid"):
        ds.relabel([1], ["a"])  # iteration 2
    ds.remove([2])  # back to iteration 1: interleaved
    with widget_source("SampleGrid"):
        ds.remove([3])
        ds.relabel([4], ["b"])
    log = ds.history.iteration_log()
    assert [it.number for it in log.iterations] == [1, 2]
    assert log.owners().tolist() == [0, 1, 2, 1, 2, 2]
    one, two = log.iterations
    assert one.ops == {"relabel": [1, 1], "remove": [1, 1]}
    assert two.ops == {"relabel": [2, 2], "remove": [1, 1]}
    assert (one.first_version, one.last_version, two.first_version, two.last_version) == (
        1,
        3,
        2,
        5,
    )
    frame = ds.history.iterations
    assert frame["op_counts"].tolist() == [{"relabel": 1, "remove": 1}, {"relabel": 2, "remove": 1}]
    assert frame["n_changes"].tolist() == [2, 3]


def test_refresh_reads_only_what_is_new_and_says_which_iterations_grew(tmp_path):
    ds = _ds(tmp_path)
    for i in range(30):
        ds.relabel([i], ["a" if i % 2 else "b"])
    log = dj.open_history(tmp_path / "it.sqlite").iteration_log()
    assert log.head == 30 and log.refresh() == []
    with widget_source("LabelEditor"):
        ds.relabel([31], ["a"])
    assert log.refresh() == [2] and log.head == 31 and log.iteration_of(31) == 2
    ds.relabel([32], ["b"])
    assert log.refresh() == [1] and log.iterations[0].last_version == 32


def test_a_history_begun_anew_under_the_same_name_is_read_from_the_start(tmp_path):
    ds = _ds(tmp_path)
    ds.relabel([0], ["b"])
    ds.relabel([1], ["a"])
    log = dj.open_history(tmp_path / "it.sqlite").iteration_log()
    assert log.head == 2
    df = pd.DataFrame({"x": np.arange(40, dtype=float), "label": ["a", "b"] * 20})
    fresh = dj.Dataset(df, label="label", name="it", history=tmp_path / "it.sqlite", resume=False)
    fresh.relabel([5], ["a"])
    fresh.relabel([6], ["b"])
    fresh.relabel([7], ["a"])
    later = dj.open_history(tmp_path / "it.sqlite")
    assert later.iteration_log().head == 3


def test_history_view_follows_a_long_history_reading_only_the_new_change(tmp_path, monkeypatch):
    ds = _ds(tmp_path, n=400)
    for i in range(300):
        ds.relabel([i], ["a" if i % 3 else "b"])
    view = dj.HistoryView(ds)
    assert len(view.timeline.summary) == 2  # the base and one iteration
    reads: list[tuple[int, int]] = []
    store = ds.history.store
    real = type(store).raw_changes

    def counting(self, lo, hi):
        reads.append((lo, hi))
        return real(self, lo, hi)

    monkeypatch.setattr(type(store), "raw_changes", counting)
    v = ds.version
    assert v > 100
    with widget_source("SampleGrid"):
        ds.relabel([350], ["b"])
    s = view.timeline.summary
    assert reads == [(v + 1, v + 1)]  # one change read, not the whole history
    assert len(s) == 3 and s.entries[2]["source"] == "widget"
    assert s.entries[2]["ops"][0]["counts"] == {"relabeled": 1}
    # the same as a view built from scratch
    fresh = dj.HistoryView(ds).timeline.summary
    assert [e["classes"] for e in fresh.entries] == [e["classes"] for e in s.entries]
    assert [e["ops"] for e in fresh.entries] == [e["ops"] for e in s.entries]
