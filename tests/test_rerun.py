"""Re-running the ``ds = dj.Dataset(..., name=...)`` cell in the same kernel (issue 17, item 5).

The newer Dataset resumes from the file (as after a restart) and supersedes the older one:
the widgets shown before move to it and keep working; the older object refuses changes
with a message naming the newer one (never "another process"). After ``resume=False`` on
other base data, the widgets cannot follow: they say they show an older ``ds`` and refuse
edits with that message.

Messages are sent to the widgets as the browser sends them (``_on_custom_msg``), as in
tests/test_widgets.py.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

import dcai_jupyter as dj
from dcai_jupyter.core import Dataset as CoreDataset
from dcai_jupyter.core import SupersededError
from dcai_jupyter.widgets import HistoryView, LabelEditor, SampleGrid

CLASSES = ["cat", "dog", "bird"]


@pytest.fixture
def df() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=30), "label": [CLASSES[i % 3] for i in range(30)]})


class Wire:
    """What the widgets send to the browser (their ``send``), per widget."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *widgets: Any) -> None:
        self.sent: dict[int, list[dict[str, Any]]] = {id(w): [] for w in widgets}
        for w in widgets:
            monkeypatch.setattr(
                w, "send", lambda content, buffers=None, w=w: self.sent[id(w)].append(content)
            )

    def talk(self, widget: Any, msg: dict[str, Any]) -> dict[str, Any]:
        """Send ``msg`` as the browser does; the widget's one answer (pushes set apart)."""
        box = self.sent[id(widget)]
        before = len(box)
        widget._on_custom_msg(widget, msg, [])
        new = box[before:]
        answers = [m for m in new if m.get("type") not in ("patch", "changed")]
        assert len(answers) == 1, new
        json.dumps(answers[0], allow_nan=False)
        return answers[0]

    def pushed(self, widget: Any, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.sent[id(widget)] if m.get("type") == kind]


def _labels(wire: Wire, grid: SampleGrid, ids: list[int]) -> list[Any]:
    p = wire.talk(grid, {"type": "page", "request_id": "p", "offset": 0, "limit": 50})
    assert p["type"] == "page", p
    by_id = dict(zip(p["ids"], p["columns"]["label"], strict=True))
    return [by_id[i] for i in ids]


def _no_other_process(*texts: Any) -> None:
    for t in texts:
        assert "another process" not in str(t), t


# ------------------------------------------------------------------------------- core


def test_rerun_resumes_and_supersedes_the_older(df, capsys):
    ds = dj.Dataset(df, label="label", name="pets")
    ds.relabel([0], ["dog"])
    ds.remove([5])
    state = ds.df
    again = dj.Dataset(df, label="label", name="pets")  # the cell ran again
    assert "resumed 'pets' at version 2" in capsys.readouterr().out
    assert again.version == 2
    pd.testing.assert_frame_equal(again.df, state)
    assert ds.superseded_by is again and again.superseded_by is None
    with pytest.raises(SupersededError, match=r"superseded.*same history.*use the new one") as e:
        ds.relabel([1], ["bird"])
    _no_other_process(e.value)
    assert ds.version == 2 and ds.df.at[1, "label"] == state.at[1, "label"]  # nothing changed
    with pytest.raises(SupersededError):
        ds.history.record_event("note")  # nor through its history
    assert again.relabel([1], ["bird"]) == 3
    again.undo()  # the undo stack continues too
    assert again.df.at[1, "label"] == state.at[1, "label"] and again.version == 4
    h = dj.open_history(".dcai/pets.sqlite")
    assert h.head == 4 and list(h.changes["op"]) == ["relabel", "remove", "relabel", "undo"]


def test_rerun_twice_and_with_the_same_history_object(df, tmp_path):
    h = dj.History(tmp_path / "h.sqlite")
    a = dj.Dataset(df, label="label", name="h", history=h)
    b = dj.Dataset(df, label="label", name="h", history=h)
    c = dj.Dataset(df, label="label", name="h", history=tmp_path / "h.sqlite")
    assert a.superseded_by is b and b.superseded_by is c
    for old in (a, b):
        with pytest.raises(SupersededError):
            old.remove([1])
    assert c.remove([1]) == 1


def test_a_failed_rerun_leaves_the_older_one_recording(df):
    ds = dj.Dataset(df, label="label", name="keep")
    ds.relabel([0], ["dog"])
    with pytest.raises(dj.BaseMismatchError):
        dj.Dataset(df.iloc[:10], label="label", name="keep")
    assert ds.superseded_by is None
    assert ds.relabel([1], ["bird"]) == 2


def test_a_change_recorded_while_the_newer_one_is_made_is_not_lost(df, monkeypatch):
    """The older one (a widget click on another thread) records after the newer one read the
    file and before it took over: the newer one catches up instead of failing later."""
    ds = dj.Dataset(df, label="label", name="race")
    take_over = CoreDataset._take_over

    def late(self: Any) -> None:
        ds.relabel([3], ["bird"])
        take_over(self)

    monkeypatch.setattr(CoreDataset, "_take_over", late)
    again = dj.Dataset(df, label="label", name="race")
    monkeypatch.undo()
    assert again.version == 1 and again.df.at[3, "label"] == "bird"
    assert again.relabel([4], ["cat"]) == 2


# ------------------------------------------------------------------------------- widgets


def test_widgets_shown_before_follow_the_rerun_dataset(df, monkeypatch):
    ds = dj.Dataset(df, label="label", name="tour")
    grid = SampleGrid(ds)
    editor = LabelEditor(ds)
    view = HistoryView(ds)
    wire = Wire(monkeypatch, grid, editor, view.timeline)
    assert (
        wire.talk(grid, {"type": "relabel", "request_id": 1, "ids": [0], "label": "bird"})[
            "version"
        ]
        == 1
    )

    ds = dj.Dataset(df, label="label", name="tour")  # the dataset cell, run again
    assert grid.dataset is ds and editor.dataset is ds and view.dataset is ds
    assert grid.version == editor.version == 1

    ds.relabel([2], ["dog"])  # a cell relabels through the new ds
    assert wire.pushed(grid, "patch")[-1]["ids"] == [2]  # the old grid shows it at once
    assert grid.version == 2 and view.timeline.version == 2
    assert _labels(wire, grid, [0, 2]) == ["bird", "dog"]

    # a digit key in the old grid: the browser sends a relabel of the focused row
    answer = wire.talk(grid, {"type": "relabel", "request_id": 7, "ids": [1], "label": "cat"})
    assert answer["type"] == "ok" and answer["version"] == 3, answer
    assert grid.error == ""
    assert ds.version == 3 and ds.df.at[1, "label"] == "cat"
    assert grid.version == 3 and _labels(wire, grid, [0, 1, 2]) == ["bird", "cat", "dog"]

    # the editor shown before decides into the same history
    queue = editor.queue.tolist()
    i = queue.index(4)
    decided = wire.talk(
        editor, {"type": "decide", "request_id": 2, "index": i, "action": "label", "label": "bird"}
    )
    assert decided["type"] == "ok" and decided["version"] == 4, decided
    assert ds.df.at[4, "label"] == "bird" and grid.version == 4

    h = dj.open_history(".dcai/tour.sqlite")
    ch = h.changes
    assert list(ch["version"]) == [1, 2, 3, 4]
    assert list(ch["source"]) == ["widget", "api", "widget", "widget"]
    assert list(ch["widget"].iloc[[0, 2, 3]]) == ["SampleGrid", "SampleGrid", "LabelEditor"]
    assert view.timeline.n_iterations >= 3
    _no_other_process(grid.error, editor.error, answer, decided)


def test_a_view_made_on_the_older_dataset_after_the_rerun_still_records(df, monkeypatch):
    """A cell that still holds the older ``ds`` and displays it: the view shows the newest."""
    old = dj.Dataset(df, label="label", name="held")
    new = dj.Dataset(df, label="label", name="held")
    grid = SampleGrid(old)
    assert grid.dataset is new
    wire = Wire(monkeypatch, grid)
    answer = wire.talk(grid, {"type": "relabel", "request_id": 1, "ids": [0], "label": "dog"})
    assert answer["type"] == "ok" and answer["version"] == 1, answer
    assert grid.dataset is new and new.version == 1 and old.version == 0


def test_widgets_after_resume_false_on_other_data_say_they_show_an_older_ds(df, monkeypatch):
    ds = dj.Dataset(df, label="label", name="swap")
    grid = SampleGrid(ds)
    editor = LabelEditor(ds)
    wire = Wire(monkeypatch, grid, editor)
    other = df.iloc[:12].assign(x=0.5)
    ds = dj.Dataset(other, label="label", name="swap", resume=False)
    for w in (grid, editor):
        assert "older `ds`" in w.error and "display the new one" in w.error.lower(), w.error
    refused = wire.talk(grid, {"type": "relabel", "request_id": 1, "ids": [0], "label": "dog"})
    assert refused["type"] == "error" and "older `ds`" in refused["message"], refused
    refused = wire.talk(
        editor, {"type": "decide", "request_id": 2, "index": 0, "action": "label", "label": "dog"}
    )
    assert refused["type"] == "error" and "older `ds`" in refused["message"], refused
    refused = wire.talk(editor, {"type": "decide", "request_id": 3, "index": 1, "action": "keep"})
    assert refused["type"] == "error" and "older `ds`" in refused["message"], refused
    # it still shows what it showed (30 rows), and the notice stays after a page
    p = wire.talk(grid, {"type": "page", "request_id": "p", "offset": 0, "limit": 50})
    assert p["type"] == "page" and p["total"] == 30
    assert "older `ds`" in grid.error
    assert ds.version == 0 and dj.open_history(".dcai/swap.sqlite").head == 0
    assert grid.dataset is not ds
    _no_other_process(grid.error, refused)


def test_reviews_recorded_after_the_rerun_reach_the_views_shown_before(df, monkeypatch):
    ds = dj.Dataset(df, label="label", name="rev")
    flagged = np.arange(30) < 6
    findings = dj.Findings(
        pd.DataFrame(
            {"score": np.linspace(1, 0, 30), "flag": flagged},
            index=pd.Index(ds.ids, name="sample_id"),
        ),
        op="check",
        roles={"score": "score", "flag": "flag"},
        version=0,
    )
    grid = SampleGrid(ds, findings=findings)
    editor = LabelEditor(ds, findings)
    wire = Wire(monkeypatch, grid, editor)
    ds = dj.Dataset(df, label="label", name="rev")  # the dataset cell, run again
    generation = grid.review_generation
    assert ds.record_review(findings, [0], "kept") == 1  # a cell, through the new ds
    assert grid.review_generation > generation
    assert editor.resolved_count == 1 and editor.dataset is ds
    # a keep decision in the editor shown before is recorded in the one history
    i = editor.queue.tolist().index(1)
    kept = wire.talk(editor, {"type": "decide", "request_id": 1, "index": i, "action": "keep"})
    assert kept["type"] == "ok", kept
    assert sorted(ds.review_ids(findings, "kept")) == [0, 1]
    events = dj.open_history(".dcai/rev.sqlite").events
    assert list(events["op"]) == ["mark_kept", "mark_kept"]
