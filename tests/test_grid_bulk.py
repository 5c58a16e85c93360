"""SampleGrid bulk actions on the selection or on every row matching the filter: accept
suggestions, relabel to a class, remove (each ONE recorded change, source ``widget``,
``ds.undo()`` reverts it in one step) and mark reviewed (one recorded event; every view
shows the findings resolved as ``reviewed``, also after a restart).

The browser is replaced by calling the widget's message handler; the Dataset is the real one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _findings import digit_findings

import dcai_jupyter as dj
from dcai_jupyter.widgets import LabelEditor, SampleGrid

N = 60
N_FLAGGED = 20


def _data(history: Any = ":memory:") -> tuple[Any, dj.Findings]:
    return digit_findings(N, N_FLAGGED, history=history, name="bulk", x_step=0.5, version=0)


def _ask(grid: SampleGrid, **msg: Any) -> dict[str, Any]:
    return grid.handle_message({"request_id": 7, **msg})


def _preview(grid: SampleGrid, **scope: Any) -> dict[str, Any]:
    answer = _ask(grid, type="bulk_preview", **scope)
    assert answer["type"] == "bulk_preview", answer
    return answer


FLAGGED = {"scope": "filter", "filter": {"flagged": True}}


def test_accept_on_the_filter_is_one_widget_change_that_undo_reverts() -> None:
    ds, found = _data()
    grid = SampleGrid(ds, findings=found)
    # fixed before: one accepted, one relabeled to another class, one kept in an editor
    ds.relabel([0, 1], [1, 7])
    editor = LabelEditor(ds, found)
    assert editor.handle_message({"type": "decide", "index": 0, "action": "keep"})["type"] == "ok"
    kept = int(editor.queue[0])
    assert kept == 2  # the most suspicious open finding
    assert _preview(grid, **FLAGGED) == {
        "type": "bulk_preview",
        "scope": "filter",
        "version": 1,
        "rows": N_FLAGGED,
        "accept": N_FLAGGED - 3,
        "review": N_FLAGGED - 3,
        "unreview": 0,
        "request_id": 7,
    }
    before = np.array(ds.column("label"))
    answer = _ask(grid, type="bulk", action="accept", expect=N_FLAGGED - 3, **FLAGGED)
    assert answer["type"] == "ok" and answer["n"] == N_FLAGGED - 3 and answer["changed"]
    assert ds.version == 2  # one recorded change
    last = ds.history.changes.iloc[-1]
    assert last["op"] == "relabel" and last["source"] == "widget"
    assert "accept 17 label_issues suggestions (matching the filter)" in last["reason"]
    labels = np.array(ds.column("label"))
    open_ids = [i for i in range(N_FLAGGED) if i not in (0, 1, kept)]
    assert (labels[open_ids] == (before[open_ids] + 1) % 10).all()
    assert labels[1] == 7 and labels[kept] == before[kept]  # human decisions stay
    assert (labels[N_FLAGGED:] == before[N_FLAGGED:]).all()  # unflagged rows untouched
    page = _ask(grid, type="page", offset=0, limit=N, filter={"flagged": True})
    assert page["counts"] == {"flagged": N_FLAGGED, "resolved": N_FLAGGED}
    ds.undo()  # one step back: every label as before the bulk action
    assert (np.array(ds.column("label")) == before).all()


def test_relabel_and_remove_on_the_selection_and_on_the_filter() -> None:
    ds, found = _data()
    grid = SampleGrid(ds, findings=found)
    grid.selected_ids = [3, 4, 5]
    answer = _ask(grid, type="bulk", action="relabel", scope="selection", ids=[3, 4, 5], label=9)
    assert answer["n"] == 3 and ds.version == 1
    assert np.array(ds.column("label"))[[3, 4, 5]].tolist() == [9, 9, 9]
    assert "relabel 3 selected to 9" in ds.history.changes.iloc[-1]["reason"]
    # every row with label 9 (the filter), removed in one change
    label9 = {"scope": "filter", "filter": {"label": 9}}
    n9 = _preview(grid, **label9)["rows"]
    assert n9 == 6 + 3
    answer = _ask(grid, type="bulk", action="remove", expect=n9, **label9)
    assert answer["n"] == n9 and ds.version == 2 and len(ds) == N - n9
    assert 9 not in set(np.array(ds.column("label")).tolist())
    assert grid.selected_ids == []  # removed samples leave the selection
    assert ds.history.changes.iloc[-1]["source"] == "widget"
    ds.undo()
    assert len(ds) == N


def test_the_whole_dataset_when_no_filter_is_on() -> None:
    ds, found = _data()
    grid = SampleGrid(ds, findings=found)
    everything = {"scope": "filter", "filter": {}}
    assert _preview(grid, **everything)["rows"] == N
    answer = _ask(grid, type="bulk", action="relabel", label=0, expect=N, **everything)
    assert answer["n"] == N - N // 10  # the rows labelled 0 already are left alone
    assert set(np.array(ds.column("label")).tolist()) == {0} and ds.version == 1
    last = ds.history.changes.iloc[-1]
    assert last["n_rows"] == N - N // 10
    assert "relabel 54 matching the filter to 0" in last["reason"]
    again = _ask(grid, type="bulk", action="relabel", label=0, expect=N, **everything)
    assert again["n"] == 0 and not again["changed"] and ds.version == 1


def test_a_stale_count_is_refused_and_nothing_changes() -> None:
    ds, found = _data()
    grid = SampleGrid(ds, findings=found)
    shown = _preview(grid, **FLAGGED)["accept"]
    ds.relabel([5], [6])  # another view fixed one meanwhile
    answer = _ask(grid, type="bulk", action="accept", expect=shown, **FLAGGED)
    assert answer["type"] == "error"
    assert "now applies to 19 samples, not 20" in answer["message"]
    assert ds.version == 1


@pytest.mark.parametrize(
    ("msg", "text"),
    [
        ({"action": "explode", "scope": "filter"}, "bulk action must be one of"),
        ({"action": "remove", "scope": "everything"}, "scope must be 'selection' or 'filter'"),
        ({"action": "remove", "scope": "selection", "ids": []}, "non-empty list"),
        ({"action": "relabel", "scope": "filter"}, "relabel needs a label"),
        ({"action": "relabel", "scope": "filter", "label": "zebra"}, "unknown class"),
        ({"action": "remove", "scope": "filter", "expect": "3"}, "expect must be an integer"),
        ({"action": "remove", "scope": "selection", "ids": [999]}, "no longer in the dataset"),
        ({"action": "remove", "scope": "filter", "filter": {"review": "x"}}, "filter.review"),
    ],
)
def test_bad_bulk_requests_are_refused_readably(msg: dict[str, Any], text: str) -> None:
    ds, found = _data()
    grid = SampleGrid(ds, findings=found)
    answer = _ask(grid, type="bulk", **msg)
    assert answer["type"] == "error" and text in answer["message"], answer
    assert ds.version == 0 and len(ds.history.events) == 0


def test_accept_and_review_need_findings() -> None:
    ds, _ = _data()
    grid = SampleGrid(ds)
    for action in ("accept", "review", "unreview"):
        answer = _ask(grid, type="bulk", action=action, scope="filter", filter={})
        assert answer["type"] == "error" and "no findings" in answer["message"]
    assert _preview(grid, scope="filter", filter={})["accept"] == 0


def test_mark_reviewed_is_one_event_every_view_shows_and_a_restart_keeps(tmp_path: Path) -> None:
    path = tmp_path / "bulk.sqlite"
    ds, found = _data(path)
    grid = SampleGrid(ds, findings=found)
    other = SampleGrid(ds, findings=found)
    gen = other.review_generation
    answer = _ask(grid, type="bulk", action="review", scope="selection", ids=[2, 3, 40])
    assert answer["n"] == 2  # 40 is not flagged: nothing to review
    assert ds.version == 0  # no data changed
    events = ds.history.events
    assert events["op"].tolist() == ["mark_reviewed"]
    assert events.iloc[0]["params"]["ids"] == [2, 3]
    assert events.iloc[0]["source"] == "widget"
    assert other.review_generation == gen + 1  # the other view refreshes
    page = _ask(other, type="page", offset=0, limit=5)
    assert page["resolved"][:5] == [None, None, "reviewed", "reviewed", None]
    assert page["counts"] == {"flagged": N_FLAGGED, "resolved": 2}
    assert _preview(grid, **FLAGGED)["review"] == N_FLAGGED - 2
    editor = LabelEditor(ds, found)  # skips what is resolved
    assert 2 not in editor.queue.tolist() and editor.resolved_count == 2
    # a relabel after the review is what the state shows
    ds.relabel([3], [0])
    assert _ask(other, type="page", offset=3, limit=1)["resolved"] == ["relabeled"]
    ds.history.close()

    # a restart: the same data on the same history file resumes (at the relabel), the
    # findings made again at their version know the reviews again; 3 was relabeled since
    # the findings' version, as before the restart
    ds2, found2 = _data(path)
    assert ds2.version == 1
    page = _ask(SampleGrid(ds2, findings=found2), type="page", offset=0, limit=5)
    assert page["resolved"][:5] == [None, None, "reviewed", "relabeled", None]
    assert ds2.review_ids(found2) == {2, 3}


def test_unmark_reviewed_reopens_with_one_event(tmp_path: Path) -> None:
    """What "mark reviewed" marked, "unreview" (the panel's Undo) reopens: one
    ``unmark_reviewed`` event, the editor's queue has them again, a restart keeps it."""
    path = tmp_path / "unreview.sqlite"
    ds, found = _data(path)
    grid = SampleGrid(ds, findings=found)
    marked = _ask(grid, type="bulk", action="review", scope="selection", ids=[2, 3, 4])
    assert marked["ids"] == [2, 3, 4] and marked["n"] == 3
    assert _preview(grid, scope="selection", ids=[2, 3, 40])["unreview"] == 2
    assert _preview(grid, **FLAGGED)["unreview"] == 3
    # stale count: refused, nothing recorded
    stale = _ask(grid, type="bulk", action="unreview", scope="selection", ids=[2, 3], expect=3)
    assert stale["type"] == "error" and "nothing was changed" in stale["message"]
    assert ds.history.events["op"].tolist() == ["mark_reviewed"]
    answer = _ask(grid, type="bulk", action="unreview", scope="selection", ids=[2, 3, 40], expect=2)
    assert answer["n"] == 2 and answer["ids"] == [2, 3] and answer["changed"]
    events = ds.history.events
    assert events["op"].tolist() == ["mark_reviewed", "unmark_reviewed"]
    assert events.iloc[-1]["params"]["ids"] == [2, 3] and events.iloc[-1]["source"] == "widget"
    assert ds.version == 0  # no data changed
    page = _ask(grid, type="page", offset=0, limit=5)
    assert page["resolved"][:5] == [None, None, None, None, "reviewed"]
    assert 2 in LabelEditor(ds, found).queue.tolist()  # open again: back in the queue
    # nothing marked in the scope: nothing to do, nothing recorded
    again = _ask(grid, type="bulk", action="unreview", scope="selection", ids=[2, 3])
    assert again["n"] == 0 and not again["changed"]
    assert len(ds.history.events) == 2
    ds.history.close()
    ds2, found2 = _data(path)
    page = _ask(SampleGrid(ds2, findings=found2), type="page", offset=0, limit=5)
    assert page["resolved"][:5] == [None, None, None, None, "reviewed"]
