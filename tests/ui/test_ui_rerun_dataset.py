"""The tour of issue 17 (item 5): re-running the ``ds = dj.Dataset(..., name=...)`` cell without
a restart leaves the grid shown before working.

Steps as a person takes them: the dataset cell, the grid cell, the dataset cell run again, a
relabel in a new cell, then a digit key in the grid shown before the re-run. The grid must
show the cell's relabel, the key press must be recorded in the one history file (read here
from the SQLite file itself), and no error text may appear (before the fix the key press
failed with "ConcurrentWriteError ... another process wrote to the same history").
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import nbcode
import pytest
from labharness import LabNotebook, wait_until
from nbcode import CLASSES
from uidom import grid_root, row, selected_label, wait_rows, wait_status

pytestmark = pytest.mark.ui

NAME = "rerun_tour"
ERROR_TEXT = re.compile(r"Traceback|Error|another process|superseded|older `ds`")


def _dataset_cell(n: int) -> str:
    cell = nbcode.dataset(n)
    assert 'history=":memory:"' in cell
    return cell.replace('history=":memory:"', f'name="{NAME}"')


def _recorded(path: Path) -> list[tuple[int, str, int, str, str]]:
    """(version, op, sample id, new label, source) of every change in the history file."""
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT c.seq, c.op, c.sid, c.new, p.source FROM changes c"
            " JOIN provenance p ON p.id = c.prov ORDER BY c.seq"
        ).fetchall()
    finally:
        con.close()
    return [tuple(r) for r in rows]


def _rerun_first_cell(nb: LabNotebook) -> None:
    """Select the first cell and run it again (Ctrl+Enter), as a person re-runs a cell."""
    page = nb.page
    first = page.locator(".jp-Notebook .jp-CodeCell").first
    prompt = first.locator(".jp-InputArea-prompt")
    before = prompt.inner_text().strip()
    first.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Enter")
    numbered = re.compile(r"^\[\d+\]:$")

    def ran_again() -> bool:
        now = prompt.inner_text().strip()
        return bool(numbered.match(now)) and now != before

    wait_until(ran_again, 60, "the dataset cell to run again", describe=nb.describe)


def _error_texts(nb: LabNotebook, grid) -> list[str]:
    found = [s["stderr"] for s in nb.cell_states() if ERROR_TEXT.search(s["stderr"])]
    for testid in ("grid-error", "grid-stale"):
        box = grid.get_by_test_id(testid)
        if box.count() and box.is_visible() and box.inner_text().strip():
            found.append(f"{testid}: {box.inner_text()}")
    return found


def test_grid_shown_before_a_rerun_dataset_cell_keeps_working(notebook):
    nb = notebook([_dataset_cell(200), nbcode.GRID])
    history = nb.path.parent / ".dcai" / f"{NAME}.sqlite"
    grid = grid_root(nb.page)
    wait_status(grid, rows=200, version=0)
    wait_rows(grid, lambda ids: 5 in ids and 6 in ids, "rows 5 and 6")

    _rerun_first_cell(nb)
    assert nb.kernel.eval("grid.dataset is ds"), "the grid did not move to the new ds"

    # a relabel in a cell, through the new ds: the grid shown before shows it
    old5 = nb.kernel.eval("str(ds.take([5])['label'].iloc[0])")
    new5 = CLASSES[(CLASSES.index(old5) + 1) % len(CLASSES)]
    nb.run_cell(f"ds.relabel([5], [{new5!r}])")
    wait_status(grid, version=1)
    wait_until(lambda: selected_label(grid, 5) == new5, 15, "row 5 to show the cell's relabel")

    # a digit key in the grid shown before the re-run relabels the focused row 6
    old6 = nb.kernel.eval("str(ds.take([6])['label'].iloc[0])")
    k = next(i for i, c in enumerate(CLASSES) if c != old6)
    row(grid, 6).locator('[data-testid="cell"][data-col="n"]').click()
    nb.page.keyboard.press(str(k + 1))
    want = [(1, "relabel", 5, new5, "cell"), (2, "relabel", 6, CLASSES[k], "widget")]
    wait_until(
        lambda: _recorded(history) == want,
        20,
        "the key press recorded in the history file",
        describe=lambda: f"{_recorded(history)} (errors: {_error_texts(nb, grid)})",
    )
    wait_status(grid, version=2)
    wait_until(lambda: selected_label(grid, 6) == CLASSES[k], 15, "row 6 to show the key press")
    assert nb.kernel.eval("ds.version") == 2
    assert _error_texts(nb, grid) == []
    print(f"\n[ui] after the re-run: {_recorded(history)}")
