"""SampleGrid toolbar counts, bulk actions and number formats, in a real JupyterLab (issue 11):

- counts in the toolbar ("150 of 1,200 flagged · 0 resolved", samples per label), updated
  live after edits from a cell or from another view;
- bulk actions on the selection or on every row matching the filter: accept suggestions,
  relabel to a class, remove, mark reviewed; each one recorded change (one event for mark
  reviewed), ``ds.undo()`` reverts a bulk change in one step;
- one number format per numeric column, right-aligned, as text.
"""

from __future__ import annotations

import re

import nbcode
import pytest
from labharness import LabNotebook, wait_until
from uidom import editor_root, grid_root, row, status_numbers, status_text, wait_rows, wait_status

pytestmark = pytest.mark.ui

N = 1200
N_FLAGGED = 150


def _counts_text(grid) -> str:
    return str(grid.get_by_test_id("grid-counts").inner_text())


def _wait_counts(grid, text: str, timeout: float = 20) -> None:
    wait_until(
        lambda: text in _counts_text(grid),
        timeout,
        f"grid-counts with {text!r}",
        describe=lambda: _counts_text(grid),
    )


def _label_counts(grid) -> dict[str, str]:
    """Label -> count text, as the toolbar shows them."""
    out = {}
    for chip in grid.get_by_test_id("label-count").all():
        out[chip.get_attribute("data-label")] = chip.inner_text().split()[-1]
    return out


def _wait_label_counts(nb: LabNotebook, grid, what: str) -> dict[str, str]:
    """Wait until the toolbar's per-label counts are the kernel's, with thousands separators."""
    want = nb.kernel.eval("{c: f'{int((ds.column(\"label\") == c).sum()):,}' for c in CLASSES}")
    wait_until(
        lambda: _label_counts(grid) == want,
        20,
        f"label counts {want} ({what})",
        describe=lambda: repr(_label_counts(grid)),
    )
    return want


def test_toolbar_counts_follow_edits_from_a_cell_and_from_another_view(notebook):
    nb: LabNotebook = notebook(
        [
            nbcode.dataset(N),
            nbcode.issues(N_FLAGGED),
            "grid = dj.SampleGrid(ds, issues=issues)\ngrid",
            "grid2 = dj.SampleGrid(ds)\ngrid2",
        ]
    )
    g1, g2 = grid_root(nb.page, 0), grid_root(nb.page, 1)
    wait_status(g1, rows=N)
    wait_status(g2, rows=N)
    _wait_counts(g1, f"{N_FLAGGED} of 1,200 flagged · 0 resolved")
    _wait_label_counts(nb, g1, "first page")
    assert g2.get_by_test_id("counts-findings").count() == 0  # no findings: labels only
    _wait_label_counts(nb, g2, "the view without findings")

    # a relabel from a cell: both views follow, without a new page (the relabel patch)
    sid = nb.kernel.eval("int(issues.flagged.ids[0])")
    nb.kernel.run(f"ds.relabel([{sid}], [issues.frame.suggested_label.at[{sid}]])")
    _wait_counts(g1, f"{N_FLAGGED} of 1,200 flagged · 1 resolved")
    _wait_label_counts(nb, g1, "after a relabel from a cell")
    _wait_label_counts(nb, g2, "after a relabel from a cell")

    # a relabel in the other view: this one's counts follow
    wait_rows(g2, lambda ids: 3 in ids, "row 3 in the second view")
    old = nb.kernel.eval("str(ds.take([3])['label'].iloc[0])")
    new = next(c for c in nbcode.CLASSES if c != old)
    row(g2, 3).get_by_test_id("label-select").select_option(label=new)
    nb.kernel.wait_for(f"ds.take([3])['label'].iloc[0] == {new!r}", what="the relabel")
    _wait_label_counts(nb, g1, "after a relabel in the other view")

    # a removal from a cell: "of" follows the rows left
    nb.kernel.run("ds.remove(ds.ids[-2:])")
    _wait_counts(g1, f"{N_FLAGGED} of 1,198 flagged")
    _wait_label_counts(nb, g1, "after a removal")

    # a label's count filters on it when clicked
    g1.locator(f'[data-testid="label-count"][data-label="{new}"]').click()
    n_new = nb.kernel.eval(f"int((ds.column('label') == {new!r}).sum())")
    wait_status(g1, rows=n_new)
    assert g1.get_by_test_id("filter-label").input_value() == new


def _open_bulk(grid) -> None:
    grid.get_by_test_id("bulk-toggle").click()
    grid.get_by_test_id("bulk-panel").wait_for()


def _wait_button(grid, testid: str, pattern: str, *, enabled: bool = True) -> str:
    btn = grid.get_by_test_id(testid)
    wait_until(
        lambda: re.fullmatch(pattern, btn.inner_text()) is not None and btn.is_enabled() == enabled,
        20,
        f"{testid} to read {pattern!r}",
        describe=lambda: f"{btn.inner_text()!r} enabled={btn.is_enabled()}",
    )
    return str(btn.inner_text())


def test_bulk_accept_on_the_filter_is_one_change_and_undo_reverts_it(notebook):
    nb: LabNotebook = notebook(
        [
            nbcode.dataset(300),
            nbcode.issues(20),
            "ds.accept_suggestions(issues, top=3)",
            "grid = dj.SampleGrid(ds, issues=issues)\ngrid",
        ]
    )
    grid = grid_root(nb.page)
    wait_status(grid, rows=300)
    _wait_counts(grid, "20 of 300 flagged · 3 resolved")
    grid.get_by_test_id("filter-issues").check()
    wait_status(grid, rows=20)
    v0 = nb.kernel.eval("ds.version")
    _open_bulk(grid)
    assert grid.get_by_test_id("bulk-scope").input_value() == "filter"  # nothing selected
    text = _wait_button(grid, "bulk-accept", r"Accept 17 suggestions \(filter\)")
    grid.get_by_test_id("bulk-accept").click()
    confirm = grid.get_by_test_id("bulk-confirm")
    confirm.wait_for()
    assert "matching the filter" in confirm.inner_text() and "ds.undo()" in confirm.inner_text()
    assert nb.kernel.eval("ds.version") == v0, f"{text} changed the data before the confirmation"
    grid.get_by_test_id("bulk-confirm-yes").click()
    nb.kernel.wait_for(f"ds.version == {v0 + 1}", what="the bulk accept")
    last = nb.kernel.eval("ds.history.changes.iloc[-1][['op', 'source', 'n_rows']].tolist()")
    assert last == ["relabel", "widget", 17], last
    _wait_counts(grid, "20 of 300 flagged · 20 resolved")
    wait_until(
        lambda: "17 accepted" in grid.get_by_test_id("bulk-result").inner_text(),
        20,
        "the result line",
        describe=lambda: grid.get_by_test_id("bulk-result").inner_text(),
    )
    # nothing is left to accept or review in the filter
    _wait_button(grid, "bulk-accept", r"Accept 0 suggestions \(filter\)", enabled=False)
    _wait_button(grid, "bulk-review", r"Mark 0 reviewed \(filter\)", enabled=False)

    nb.kernel.run("ds.undo()")  # one step: every suggestion accepted in bulk is undone
    _wait_counts(grid, "20 of 300 flagged · 3 resolved")
    assert nb.kernel.eval("int((ds.column('label') == issues.frame.given_label).sum())") == 297
    _wait_button(grid, "bulk-accept", r"Accept 17 suggestions \(filter\)")


def test_bulk_on_the_selection_marks_reviewed_relabels_and_removes(notebook):
    nb: LabNotebook = notebook(
        [
            nbcode.dataset(300),
            nbcode.issues(20),
            "grid = dj.SampleGrid(ds, issues=issues)\ngrid",
        ]
    )
    grid = grid_root(nb.page)
    wait_status(grid, rows=300)
    # findings open most suspicious first: the first three flagged are shown first
    flagged = nb.kernel.eval("[int(i) for i in issues.flagged.ids[:3]]")
    grid.get_by_test_id("filter-issues").check()
    wait_status(grid, rows=20)

    wait_rows(grid, lambda ids: set(flagged) <= set(ids), "the flagged rows")

    def plain_cell(sid: int):
        return row(grid, sid).locator('[data-testid="cell"][data-col="n"]')

    plain_cell(flagged[0]).click()
    plain_cell(flagged[1]).click(modifiers=["Control"])
    nb.kernel.wait_for(f"sorted(grid.selected_ids) == {sorted(flagged[:2])}", what="selection")
    _open_bulk(grid)
    assert grid.get_by_test_id("bulk-scope").input_value() == "selection"
    _wait_button(grid, "bulk-review", r"Mark 2 reviewed \(selected\)")
    grid.get_by_test_id("bulk-review").click()  # the selection: no confirmation
    nb.kernel.wait_for("len(ds.history.events) == 1", what="the mark_reviewed event")
    event = nb.kernel.eval("ds.history.events.iloc[-1][['op', 'source']].tolist()")
    assert event == ["mark_reviewed", "widget"], event
    for sid in flagged[:2]:
        badge = row(grid, sid).get_by_test_id("resolved-badge")
        badge.wait_for()
        assert badge.inner_text() == "✓ reviewed"
    assert row(grid, flagged[2]).get_by_test_id("flag-badge").inner_text() == "relabel"
    _wait_counts(grid, "20 of 300 flagged · 2 resolved")
    assert nb.kernel.eval("ds.version") == 0  # no data changed

    # ds.undo() does not see the event: the result line's Undo reopens both (one event)
    result = grid.get_by_test_id("bulk-result")
    assert re.match(r"2 marked reviewed \(one recorded event\)", result.inner_text())
    result.get_by_test_id("bulk-undo").click()
    nb.kernel.wait_for("len(ds.history.events) == 2", what="the unmark_reviewed event")
    event = nb.kernel.eval("ds.history.events.iloc[-1][['op', 'source']].tolist()")
    assert event == ["unmark_reviewed", "widget"], event
    _wait_counts(grid, "20 of 300 flagged · 0 resolved")
    for sid in flagged[:2]:
        row(grid, sid).get_by_test_id("flag-badge").wait_for()
        assert row(grid, sid).get_by_test_id("resolved-badge").count() == 0
    wait_until(lambda: result.inner_text().startswith("2 reopened"), 20, "the undo's result line")
    assert result.get_by_test_id("bulk-undo").count() == 0
    wait_until(
        lambda: grid.get_by_test_id("bulk-unreview").is_hidden(), 20, "no unmark: none marked"
    )
    # marked again through "Mark reviewed"; "Unmark 2 reviewed" is offered on them now
    _wait_button(grid, "bulk-review", r"Mark 2 reviewed \(selected\)")
    grid.get_by_test_id("bulk-review").click()
    nb.kernel.wait_for("len(ds.history.events) == 3", what="marked reviewed again")
    _wait_counts(grid, "20 of 300 flagged · 2 resolved")
    _wait_button(grid, "bulk-unreview", r"Unmark 2 reviewed \(selected\)")
    assert grid.get_by_test_id("bulk-unreview").is_visible()

    # relabel the selection to a class: one change
    v0 = 0
    grid.get_by_test_id("bulk-relabel-to").select_option("bird")
    _wait_button(grid, "bulk-relabel", r"Relabel 2 to")
    grid.get_by_test_id("bulk-relabel").click()
    nb.kernel.wait_for(f"ds.version == {v0 + 1}", what="the bulk relabel")
    assert nb.kernel.eval(f"ds.take({flagged[:2]})['label'].tolist()") == ["bird", "bird"]
    assert nb.kernel.eval("ds.history.changes.iloc[-1][['op', 'source']].tolist()") == [
        "relabel",
        "widget",
    ]

    # remove the selection: one change; the tiles go, the selection empties
    _wait_button(grid, "bulk-remove", r"Remove 2 \(selected\)")
    grid.get_by_test_id("bulk-remove").click()
    nb.kernel.wait_for(f"ds.version == {v0 + 2} and len(ds) == 298", what="the bulk remove")
    nb.kernel.wait_for("grid.selected_ids == []", what="the selection emptied")
    wait_status(grid, rows=18)
    _wait_counts(grid, "20 of 298 flagged · 2 resolved")
    nb.kernel.run("ds.undo()")
    wait_status(grid, rows=20)


def test_each_numeric_column_has_one_format(notebook):
    code = """\
import numpy as np
import pandas as pd
import dcai_jupyter as dj

df = pd.DataFrame({
    "price": [1.5, 2.25, 3.0, 10.125, 7.0] * 4,
    "count": [1, 20, 300, 4000, 5_000_000] * 4,
    "whole": [1.0, 2.0, 3.0, 4.0, 5.0] * 4,
    "label": ["a", "b", "a", "b", "a"] * 4,
})
ds = dj.Dataset(df, label="label", history=":memory:")
grid = dj.SampleGrid(ds)
grid
"""
    nb: LabNotebook = notebook([code])
    grid = grid_root(nb.page)
    wait_status(grid, rows=20)
    wait_rows(grid, lambda ids: 4 in ids, "the first five rows")

    def texts(col: str) -> list[str]:
        return [
            row(grid, i).locator(f'[data-testid="cell"][data-col="{col}"]').inner_text()
            for i in range(5)
        ]

    assert texts("price") == ["1.500", "2.250", "3.000", "10.125", "7.000"]
    assert texts("count") == ["1", "20", "300", "4,000", "5,000,000"]
    assert texts("whole") == ["1", "2", "3", "4", "5"]
    price = row(grid, 0).locator('[data-testid="cell"][data-col="price"]')
    assert price.evaluate("e => getComputedStyle(e).textAlign") == "right"
    assert price.evaluate("e => e.children.length") == 0  # text only
    assert price.get_attribute("title") == "1.5"  # the full value


def test_editor_and_grid_counts_have_thousands_separators(notebook):
    nb: LabNotebook = notebook(
        [
            nbcode.dataset(N),
            nbcode.issues(1100),
            "grid = dj.SampleGrid(ds, issues=issues)\ngrid",
            "editor = dj.LabelEditor(ds, issues)\neditor",
        ]
    )
    grid = grid_root(nb.page)
    _wait_counts(grid, "1,100 of 1,200 flagged · 0 resolved")
    # the status line's row count too (read back by status_numbers, separators and all)
    wait_until(
        lambda: "1,200 rows" in status_text(grid),
        30,
        "1,200 rows",
        describe=lambda: status_text(grid),
    )
    assert status_numbers(grid)[0] == N
    editor = editor_root(nb.page)
    counts = editor.get_by_test_id("editor-counts")
    wait_until(
        lambda: counts.inner_text() == "1,100 to review · 0 resolved",
        30,
        "the editor's counts",
        describe=counts.inner_text,
    )
