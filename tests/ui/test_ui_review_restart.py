"""Review state survives a kernel restart (issue 17): a LabelEditor "Keep" and a SampleGrid
"Mark reviewed" are events in the history file, so after Kernel > Restart and Run All (the
Dataset re-created on its file, the findings made again) the new editor leaves both out and
counts them resolved, and the new grid shows their badges.
"""

from __future__ import annotations

import re

import nbcode
import pytest
from labharness import LabNotebook, wait_until
from labrestart import restart_from_menu, run_all_after_restart
from uidom import editor_current, editor_progress, editor_root, grid_root, row, wait_status

pytestmark = pytest.mark.ui

N = 300
#: the samples nbcode.duplicates() flags (the duplicates that are not their group's keeper)
FLAGGED = {10, 70, 5, 90, 33, 60}


def _dataset_on_file() -> str:
    """nbcode.dataset, recorded in a history file beside the notebook (not in memory)."""
    code = nbcode.dataset(N)
    memory = 'history=":memory:"'
    assert memory in code
    return code.replace(memory, 'name="reviewed", history="review_restart.sqlite"')


CELLS = [
    _dataset_on_file(),
    nbcode.duplicates(),
    "editor = dj.LabelEditor(ds, dups)\neditor",
    "grid = dj.SampleGrid(ds, issues=dups)\ngrid",
]


def _text(locator) -> str:
    return str(locator.inner_text()).strip()


def _wait_text(locator, pattern: str, what: str, timeout: float = 30) -> None:
    wait_until(
        lambda: re.fullmatch(pattern, _text(locator)) is not None,
        timeout,
        f"{what} to read {pattern!r}",
        describe=lambda: repr(_text(locator)),
    )


def _wait_badge(grid, sid: int, text: str) -> None:
    badge = row(grid, sid).get_by_test_id("resolved-badge")
    badge.wait_for(timeout=30_000)
    _wait_text(badge, re.escape(text), f"row {sid}'s resolved badge")


def test_keep_and_reviewed_are_restored_after_a_kernel_restart(notebook):
    nb: LabNotebook = notebook(CELLS)
    page = nb.page
    editor = editor_root(page)
    wait_until(lambda: editor_progress(editor) == (0, 6), 30, "editor-progress 0 / 6")
    kept = editor_current(editor)
    assert kept in FLAGGED
    editor.get_by_test_id("editor-keep").click()
    nb.kernel.wait_for(f"ds.review_ids(dups, 'kept') == {{{kept}}}", what="the keep event")
    wait_until(lambda: editor_progress(editor) == (1, 6), 30, "editor-progress 1 / 6")

    grid = grid_root(page)
    wait_status(grid, rows=N)
    grid.get_by_test_id("filter-issues").check()  # flagged only: whole duplicate groups
    reviewed = sorted(FLAGGED - {kept})[:2]
    for i, sid in enumerate(reviewed):
        row(grid, sid).wait_for()
        cell = row(grid, sid).locator('[data-testid="cell"][data-col="n"]')
        cell.click(modifiers=["Control"] if i else [])
    nb.kernel.wait_for(f"sorted(grid.selected_ids) == {reviewed}", what="the selection")
    grid.get_by_test_id("bulk-toggle").click()
    grid.get_by_test_id("bulk-panel").wait_for()
    button = grid.get_by_test_id("bulk-review")
    wait_until(
        lambda: _text(button) == "Mark 2 reviewed (selected)" and button.is_enabled(),
        20,
        "bulk-review to offer 2",
        describe=lambda: _text(button),
    )
    button.click()  # the selection: no confirmation
    nb.kernel.wait_for(f"ds.review_ids(dups) == set({reviewed})", what="the mark_reviewed event")
    _wait_badge(grid, kept, "✓ kept")
    for sid in reviewed:
        _wait_badge(grid, sid, "✓ reviewed")
    assert nb.kernel.eval("ds.version") == 0  # no data changed
    ops = nb.kernel.eval("ds.history.events['op'].tolist()")
    assert ops == ["mark_kept", "mark_reviewed"], ops

    restart_from_menu(nb)
    assert nb.kernel.eval("'ds' in globals()") is False
    run_all_after_restart(nb, len(CELLS), "'grid' in globals()")

    # the new kernel read both from the history file
    states = nb.kernel.eval("sorted(ds.reviews(dups)['state'].items())")
    want = sorted([(kept, "kept"), *((sid, "reviewed") for sid in reviewed)])
    assert [tuple(s) for s in states] == want, states
    wheres = nb.kernel.eval("sorted(set(ds.reviews(dups)['widget']))")
    assert wheres == ["LabelEditor", "SampleGrid"], wheres
    # the re-run editor leaves the three out and counts them resolved
    editor = editor_root(page)
    wait_until(lambda: editor_progress(editor) == (0, 3), 30, "editor-progress 0 / 3")
    _wait_text(editor.get_by_test_id("editor-counts"), r"3 to review · 3 resolved", "counts")
    assert editor_current(editor) not in {kept, *reviewed}
    # the re-run grid shows them resolved
    grid = grid_root(page)
    wait_status(grid, rows=N)
    _wait_text(grid.get_by_test_id("counts-findings"), r"6 of 300 flagged · 3 resolved", "counts")
    grid.get_by_test_id("filter-issues").check()
    _wait_badge(grid, kept, "✓ kept")
    for sid in reviewed:
        _wait_badge(grid, sid, "✓ reviewed")
