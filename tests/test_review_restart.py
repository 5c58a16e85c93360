"""An editor's "keep" and a grid's "mark reviewed" are core's review state, recorded in the
history: a Dataset re-created on its history file (a kernel restart) and new views on
findings made again with the same op, params and version show both; ``ds.reviews`` reports
them; a revert to before them takes them out of effect, and an open editor follows.

The browser is replaced by calling the widgets' message handlers; the Dataset is the real one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _findings import digit_findings

from dcai_jupyter.widgets import LabelEditor, SampleGrid

N, N_FLAGGED = 30, 10


def _ask(widget: Any, **msg: Any) -> dict[str, Any]:
    answer = widget.handle_message({"request_id": 1, **msg})
    assert answer["type"] != "error", answer
    return answer


def _resolved(grid: SampleGrid, n: int = 6) -> list[str | None]:
    return _ask(grid, type="page", offset=0, limit=n)["resolved"]


def test_keep_and_reviewed_survive_a_restart_and_follow_a_revert(tmp_path: Path) -> None:
    path = tmp_path / "restart.sqlite"
    ds, found = digit_findings(N, N_FLAGGED, history=path, name="restart")
    v_before = ds.version
    editor = LabelEditor(ds, found)
    assert editor.queue.tolist()[:3] == [0, 1, 2]
    assert _ask(editor, type="decide", index=0, action="accept")["changed"]  # 0 -> 1: v1
    _ask(editor, type="decide", index=1, action="keep")  # sample 1, at v1
    grid = SampleGrid(ds, findings=found)
    marked = _ask(grid, type="bulk", action="review", scope="selection", ids=[2, 3])
    assert marked["n"] == 2 and ds.version == v_before + 1
    assert _resolved(grid) == ["accepted", "kept", "reviewed", "reviewed", None, None]
    ds.history.close()

    # a kernel restart: the Dataset re-created on its history file, the findings made again
    ds2, found2 = digit_findings(N, N_FLAGGED, history=path, name="restart")
    assert ds2.version == 1 and found2.key == found.key
    reviews = ds2.reviews(found2)
    assert reviews.index.tolist() == [1, 2, 3]
    assert reviews["state"].tolist() == ["kept", "reviewed", "reviewed"]
    assert reviews["widget"].tolist() == ["LabelEditor", "SampleGrid", "SampleGrid"]
    assert set(reviews["source"]) == {"widget"} and reviews["version"].tolist() == [1, 1, 1]
    grid2 = SampleGrid(ds2, findings=found2)
    # 0 was relabeled since the findings' version (their suggestion is made from v1's labels)
    assert _resolved(grid2) == ["relabeled", "kept", "reviewed", "reviewed", None, None]
    editor2 = LabelEditor(ds2, found2)
    assert editor2.queue.tolist() == list(range(4, N_FLAGGED))
    assert (editor2.total, editor2.resolved_count, editor2.open_count) == (6, 4, 6)
    _ask(editor2, type="decide", index=0, action="keep")  # sample 4, at v1
    assert (editor2.reviewed, editor2.open_count, editor2.position) == (1, 5, 1)
    assert ds2.review_ids(found2, "kept") == {1, 4}

    # "Revert to here" on the version before the decisions: none of them is in effect
    gen = grid2.review_generation
    ds2.revert_to(v_before)
    assert ds2.reviews(found2).empty and ds2.reviews().empty
    assert _resolved(grid2) == [None] * 6
    assert grid2.review_generation == gen  # the version moved: the pages are read again
    # the open editor: its keep is no longer decided, what it left out is back in its queue
    assert editor2.reviewed == 0
    assert editor2.queue.tolist() == [4, 5, 6, 7, 8, 9, 0, 1, 2, 3]
    assert (editor2.total, editor2.resolved_count, editor2.open_count) == (10, 0, 10)
    item = _ask(editor2, type="item", index=0)
    assert item["id"] == 4 and item["decision"] is None and item["resolved"] is None
    assert _ask(editor2, type="item", index=7)["resolved"] is None  # sample 1: not kept
    undo = editor2.handle_message({"type": "undo", "request_id": 2})
    assert undo["type"] == "error"  # nothing of the editor's is in effect to undo

    # undoing the revert brings the data and the reviews back; the editor counts them as
    # resolved elsewhere
    ds2.undo()
    assert ds2.review_ids(found2, "kept") == {1, 4} and ds2.review_ids(found2) == {2, 3}
    assert _resolved(grid2) == ["relabeled", "kept", "reviewed", "reviewed", "kept", None]
    assert (editor2.reviewed, editor2.resolved_count, editor2.open_count) == (0, 5, 5)
    events = ds2.history.review_events()
    assert events["op"].tolist() == ["mark_kept", "mark_reviewed", "mark_kept"]
    assert events["in_effect"].all()


def test_an_open_editor_follows_an_undo_of_its_decision_made_in_a_cell() -> None:
    """``ds.undo()`` in a cell of the relabel an editor's accept made: the decision is no
    longer in effect, so the editor no longer counts it decided (nor can undo it)."""
    ds, found = digit_findings(20, 6)
    editor = LabelEditor(ds, found)
    _ask(editor, type="decide", index=0, action="accept")
    assert (editor.reviewed, editor.open_count) == (1, 5)
    ds.undo()
    assert (editor.reviewed, editor.open_count) == (0, 6)
    assert _ask(editor, type="item", index=0)["decision"] is None
    ds.redo()  # the relabel again: resolved, now elsewhere than in this editor
    assert (editor.reviewed, editor.open_count, editor.resolved_count) == (0, 5, 1)


def test_a_revert_names_the_samples_whose_decision_it_took_back(monkeypatch: Any) -> None:
    """A keep changes no data, so a revert does not touch its sample: the editor's "changed"
    message names it anyway, and a view showing it reloads it (no "decided: kept" left)."""
    ds, found = digit_findings(20, 6)
    ds.relabel([15], [0])  # v1, a sample not flagged
    editor = LabelEditor(ds, found)
    _ask(editor, type="decide", index=0, action="keep")  # sample 0, at v1
    _ask(editor, type="move", to=0)
    assert _ask(editor, type="item", index=0)["decision"] == {"action": "keep", "label": 0}
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(editor, "send", lambda content, buffers=None: sent.append(content))
    ds.revert_to(0)
    changed = [m for m in sent if m.get("type") == "changed"]
    assert changed and changed[-1]["version"] == 2 and changed[-1]["ids"] == [0, 15]
    assert editor.reviewed == 0 and editor.open_count == 6
    assert _ask(editor, type="item", index=0)["decision"] is None
    assert ds.history.review_events()["in_effect"].tolist() == [False]
