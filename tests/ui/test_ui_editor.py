"""LabelEditor in a real JupyterLab: a keyboard review session recorded in the history."""

from __future__ import annotations

import time

import nbcode
import pytest
from labharness import wait_until
from nbcode import CLASSES
from uidom import editor_current, editor_progress, editor_root

pytestmark = pytest.mark.ui

N_FLAGGED = 8


def test_label_editor_keyboard_session_fixes_5(notebook):
    nb = notebook(
        [
            nbcode.dataset(300),
            nbcode.issues(N_FLAGGED),
            "editor = dj.LabelEditor(ds, issues)\neditor",
        ]
    )
    page = nb.page
    editor = editor_root(page)
    queue = nb.kernel.eval("issues[issues.is_issue].sort_values('label_quality').index.tolist()")
    assert len(queue) == N_FLAGGED
    wait_until(
        lambda: editor_progress(editor) == (0, N_FLAGGED),
        15,
        f"editor-progress 0 / {N_FLAGGED}",
        describe=lambda: editor.get_by_test_id("editor-progress").inner_text(),
    )
    v0 = nb.kernel.eval("ds.version")
    editor.click(position={"x": 3, "y": 3})  # focus (a corner: no button there); keys go to it

    expected: dict[int, str] = {}
    timings = []
    for step in range(5):
        sid = editor_current(editor)
        assert sid == queue[step], f"step {step}: current {sid}, expected {queue[step]} (queue)"
        given, suggested = nb.kernel.eval(
            f"[str(issues.at[{sid}, 'given_label']), str(issues.at[{sid}, 'suggested_label'])]"
        )
        assert editor.get_by_test_id("editor-given").inner_text().strip() == given
        assert editor.get_by_test_id("editor-suggested").inner_text().strip() == suggested
        assert editor.get_by_test_id("editor-score").inner_text().strip() not in ("", "—")
        if step < 3:
            key, new = "Enter", suggested  # accept the suggestion
        else:
            k = next(i for i, c in enumerate(CLASSES) if c not in (given, suggested))
            key, new = str(k + 1), CLASSES[k]  # pick a class by its number
        expected[sid] = new
        t0 = time.perf_counter()
        page.keyboard.press(key)
        wait_until(
            lambda step=step: editor_progress(editor) == (step + 1, N_FLAGGED),
            15,
            f"editor-progress {step + 1} / {N_FLAGGED} after {key}",
            describe=lambda: editor.get_by_test_id("editor-progress").inner_text(),
        )
        if step < 4:
            wait_until(lambda sid=sid: editor_current(editor) != sid, 15, "the next sample")
        timings.append(time.perf_counter() - t0)

    nb.kernel.wait_for(
        "int((ds.history.changes.source == 'widget').sum()) == 5", what="5 widget changes"
    )
    rows = nb.kernel.eval(
        "ds.history.changes[ds.history.changes.source == 'widget']"
        "[['op', 'ids', 'version']].values.tolist()"
    )
    assert [r[0] for r in rows] == ["relabel"] * 5, rows
    assert [r[1] for r in rows] == [[sid] for sid in expected], rows
    assert nb.kernel.eval("ds.version") == v0 + 5
    labels = nb.kernel.eval(f"[str(v) for v in ds.take({list(expected)!r})['label']]")
    assert labels == list(expected.values())
    assert editor_progress(editor) == (5, N_FLAGGED)
    assert editor_current(editor) == queue[5]
    print(f"\n[ui] editor: 5 decisions, key -> next sample {[round(t * 1000) for t in timings]} ms")


def _editor_on_issues(notebook, options: str = ""):
    """A notebook with ``N_FLAGGED`` label issues on 300 rows and ``editor`` on them, shown."""
    args = ", ".join(["ds", "issues", *([options] if options else [])])
    nb = notebook(
        [nbcode.dataset(300), nbcode.issues(N_FLAGGED), f"editor = dj.LabelEditor({args})\neditor"]
    )
    editor = editor_root(nb.page)
    wait_until(lambda: editor_progress(editor) == (0, N_FLAGGED), 15, "the first item")
    return nb, editor


def test_editor_reloads_its_item_only_when_a_change_touched_it(notebook):
    """A change made elsewhere (a cell, a grid) reaches the editor as the ids it touched: a
    change of another sample moves the editor to the new version without reading its item
    again; a change of the sample shown reloads it (include_resolved: the editor stays on
    a sample resolved elsewhere; by default it moves on, see the next test)."""
    nb, editor = _editor_on_issues(notebook, "include_resolved=True")
    sid = editor_current(editor)
    status = editor.get_by_test_id("editor-status")
    nb.kernel.run(
        "_items = []\n_item = editor._on_item\n"
        "editor._on_item = lambda msg: (_items.append(msg['index']), _item(msg))[1]"
    )

    def relabel(i: int) -> tuple[int, str]:
        new = nb.kernel.eval(f"next(c for c in CLASSES if c != ds.take([{i}])['label'].iloc[0])")
        return nb.kernel.eval(f"ds.relabel([{i}], [{new!r}])"), new

    other = nb.kernel.eval(f"int(next(i for i in ds.ids if i != {sid}))")
    v, _ = relabel(other)
    wait_until(
        lambda: status.inner_text().startswith(f"v{v}"), 15, f"v{v}", describe=status.inner_text
    )
    assert editor_current(editor) == sid
    assert nb.kernel.eval("_items") == []  # the item shown was not read again

    v, new = relabel(sid)
    given = editor.get_by_test_id("editor-given")
    wait_until(
        lambda: given.inner_text().strip() == new, 15, f"label {new}", describe=given.inner_text
    )
    wait_until(
        lambda: status.inner_text().startswith(f"v{v}"), 15, f"v{v}", describe=status.inner_text
    )
    assert 0 in nb.kernel.eval("_items")  # read again: the change touched it


def test_editor_moves_on_when_the_sample_shown_is_resolved_in_a_cell(notebook):
    """Findings resolved while the editor is open (a cell relabels or accepts them) leave
    its queue: the counts follow, and the sample shown gives way to the next open one."""
    nb, editor = _editor_on_issues(notebook)
    counts = editor.get_by_test_id("editor-counts")
    wait_until(lambda: counts.inner_text() == f"{N_FLAGGED} to review · 0 resolved", 15, "counts")
    queue = nb.kernel.eval("[int(i) for i in editor.queue]")
    assert editor_current(editor) == queue[0]
    # a cell accepts the suggestions of the first two in the queue (the one shown included)
    nb.kernel.run(
        f"ds.relabel({queue[:2]}, issues.frame.loc[{queue[:2]}, 'suggested_label'].tolist())"
    )
    wait_until(
        lambda: editor_current(editor) == queue[2], 15, "the next open sample",
        describe=lambda: str(editor_current(editor)),
    )  # fmt: skip
    wait_until(
        lambda: counts.inner_text() == f"{N_FLAGGED - 2} to review · 2 resolved",
        15,
        "the counts after the cell",
        describe=counts.inner_text,
    )
    assert editor_progress(editor) == (2, N_FLAGGED)  # done: decided here or resolved since
    assert "resolved since" not in editor.inner_text()  # an open sample
    # the editor still has the keyboard: Enter accepts the sample now shown
    editor.click(position={"x": 5, "y": 5})
    nb.page.keyboard.press("Enter")
    nb.kernel.wait_for("editor.reviewed == 1 and editor.position == 3", what="the decision")
    wait_until(
        lambda: counts.inner_text() == f"{N_FLAGGED - 3} to review · 3 resolved", 15, "counts"
    )
