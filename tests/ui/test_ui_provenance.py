"""Provenance of changes made in JupyterLab, and widget edits surviving a kernel restart.

A change made by a cell is recorded with that cell's JupyterLab id (compared with the id the
saved .ipynb stores), its code and its execution count; a click in a SampleGrid lands with
source ``widget`` and the id and execution count of the cell that displayed the grid. A widget
edit is in no cell's code, so after Kernel > Restart Kernel and re-running the cells,
``dj.Dataset(df, label=..., name=...)`` resumes it from the history file.
"""

from __future__ import annotations

import re
import time
from typing import Any

import nbcode
import nbformat
import pytest
from labharness import HarnessError, LabNotebook, wait_until
from labrestart import cell_stderr, cell_stdout, restart_from_menu, run_all_after_restart
from nbcode import CLASSES
from uidom import grid_root, row, selected_label, wait_rows, wait_status

pytestmark = pytest.mark.ui


def _setup(name: str, n: int = 200) -> str:
    """A named ``Dataset`` ``ds`` (history in ``.dcai/<name>.sqlite`` beside the notebook)."""
    return f"""\
import numpy as np
import pandas as pd
import dcai_jupyter as dj

CLASSES = {CLASSES!r}
next_class = {{c: CLASSES[(i + 1) % len(CLASSES)] for i, c in enumerate(CLASSES)}}
rng = np.random.default_rng(7)
df = pd.DataFrame({{
    "n": np.arange({n}, dtype=np.int64),
    "text": [f"sample {{i}}" for i in range({n})],
    "label": rng.choice(CLASSES, {n}),
}})
ds = dj.Dataset(df, label="label", name={name!r}, classes=CLASSES,
                roles={{"n": "numeric", "text": "text"}})  # no id-column notice
"""


# Two changes in one cell execution: one iteration, one cell id.
CELL_A = """\
ds.relabel([1], [next_class[ds.take([1])["label"].iloc[0]]], reason="cell A")
ds.remove([7])
"""
CELL_B = 'ds.relabel([5], [next_class[ds.take([5])["label"].iloc[0]]], reason="cell B")'

# missing values (NaN / None / <NA> in the frame) as None
CHANGES = """[
    dict(version=int(r.version), op=r.op, source=r.source, ids=[int(i) for i in r.ids],
         **{k: None if pd.isna(v) else v for k, v in dict(
             cell_id=r.cell_id, code=r.code, widget=r.widget, count=r.execution_count).items()})
    for r in ds.history.changes.itertuples()
]"""


def _relabel_in_grid(nb: LabNotebook, grid: Any, sample_id: int) -> str:
    """Pick the next class in row ``sample_id``'s dropdown; wait for the kernel; return it."""
    wait_rows(grid, lambda ids: sample_id in ids, f"row {sample_id}")
    new = CLASSES[(CLASSES.index(selected_label(grid, sample_id)) + 1) % len(CLASSES)]
    row(grid, sample_id).get_by_test_id("label-select").select_option(label=new)
    nb.kernel.wait_for(
        f"ds.take([{sample_id}])['label'].iloc[0] == {new!r}",
        what=f"the widget relabel of {sample_id} in the kernel",
    )
    return new


def _save_and_read(nb: LabNotebook, n_cells: int) -> Any:
    """Ctrl+S in Lab (command mode on the first cell), then read the .ipynb back from disk.

    Waits until the file holds ``n_cells`` executed code cells (Shift+Enter on the last cell
    leaves an empty one below it, which is not counted).
    """
    page = nb.page
    before = nb.path.stat().st_mtime_ns
    page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")

    def saved() -> Any:
        if nb.path.stat().st_mtime_ns == before:
            return None
        saved_nb = nbformat.read(str(nb.path), as_version=4)
        counts = [c.execution_count for c in saved_nb.cells]
        if len(counts) >= n_cells and all(counts[:n_cells]) and not any(counts[n_cells:]):
            return saved_nb
        return None

    return wait_until(saved, 30, f"{nb.name} saved with {n_cells} executed code cells")


def test_cell_and_widget_provenance(notebook):
    name = f"prov_{time.time_ns()}"
    nb = notebook([_setup(name), CELL_A, nbcode.GRID])
    written_ids = [c.id for c in nbformat.read(str(nb.path), as_version=4).cells]
    grid = grid_root(nb.page)
    wait_status(grid, rows=199, version=2)
    _relabel_in_grid(nb, grid, 3)  # a click in between two cell changes
    nb.run_cell(CELL_B)

    saved = _save_and_read(nb, 4)
    cells = saved.cells
    assert [c.id for c in cells[:3]] == written_ids, "Lab did not keep the cells' ids"
    changes = nb.kernel.eval(CHANGES)
    summary = [(c["version"], c["op"], c["source"], c["cell_id"], c["count"]) for c in changes]
    print(f"\n[ui] history: {summary}; saved cell ids {[c.id for c in cells]}")
    assert [c["source"] for c in changes] == ["cell", "cell", "widget", "cell"], summary
    assert [c["version"] for c in changes] == [1, 2, 3, 4]
    assert [c["op"] for c in changes] == ["relabel", "remove", "relabel", "relabel"]
    assert [c["ids"] for c in changes] == [[1], [7], [3], [5]]

    for change, cell in ((changes[0], cells[1]), (changes[1], cells[1]), (changes[3], cells[3])):
        assert change["cell_id"] == cell.id, (change, cell.id)
        assert change["code"] == cell.source, (change["code"], cell.source)
        assert change["count"] == cell.execution_count, (change["count"], cell.execution_count)
    # the typed cell's count is the one its prompt shows
    prompt = nb.page.locator(".jp-Notebook .jp-CodeCell").nth(3).locator(".jp-InputArea-prompt")
    assert prompt.inner_text().strip() == f"[{cells[3].execution_count}]:"
    assert cells[1].execution_count < cells[2].execution_count < cells[3].execution_count

    # a widget edit is in no cell's code, but carries the cell that displayed the widget
    widget = changes[2]
    assert widget["widget"] == "SampleGrid" and widget["code"] is None, widget
    assert widget["cell_id"] == cells[2].id, (widget, cells[2].id)
    assert widget["count"] == cells[2].execution_count, (widget, cells[2].execution_count)
    shown = nb.kernel.eval("repr(ds.history.changes)")
    where = f"widget SampleGrid in cell [{cells[2].execution_count}] · {cells[2].id[:8]}"
    assert where in shown, shown

    iterations = nb.kernel.eval(
        "[[r.source, None if pd.isna(r.cell_id) else r.cell_id, int(r.n_changes)]"
        " for r in ds.history.iterations.itertuples()]"
    )
    assert iterations == [
        ["cell", cells[1].id, 2],
        ["widget", cells[2].id, 1],
        ["cell", cells[3].id, 1],
    ], iterations


def test_widget_edit_survives_kernel_restart(notebook):
    name = f"restart_{time.time_ns()}"
    nb = notebook([_setup(name), nbcode.GRID])
    grid_cell = nbformat.read(str(nb.path), as_version=4).cells[1].id
    grid = grid_root(nb.page)
    wait_status(grid, rows=200, version=0)
    new3 = _relabel_in_grid(nb, grid, 3)
    version = nb.kernel.eval("ds.version")
    assert version == 1
    assert (nb.server.root_dir / ".dcai" / f"{name}.sqlite").exists()
    assert cell_stdout(nb, 0).count() == 0, "a notice on the first run (new history)"

    t0 = time.perf_counter()
    restart_from_menu(nb)
    assert nb.kernel.eval("'ds' in globals()") is False, "the kernel was not restarted"
    t_restart = time.perf_counter() - t0
    run_all_after_restart(nb, 2, "'grid' in globals()")

    notice = cell_stdout(nb, 0)
    wait_until(
        lambda: "resumed" in notice.all_inner_texts()[0],
        15,
        "the resume notice in the Dataset cell's output",
        describe=lambda: repr(notice.all_inner_texts()),
    )
    text = notice.all_inner_texts()[0].strip()
    # a notice, not an error: nothing in the red stderr box
    assert cell_stderr(nb, 0).count() == 0, "the resume notice is shown as an error (stderr)"
    print(f"\n[ui] restart took {t_restart:.1f} s; notice: {text}")
    assert name in text and re.search(rf"\bversion {version}\b", text), text
    assert re.search(rf"\b{version} changes?\b", text), f"no number of changes in: {text}"

    state = nb.kernel.eval(
        "[ds.version, str(ds.take([3])['label'].iloc[0]), ds.history.changes.source.tolist()]"
    )
    assert state == [version, new3, ["widget"]], state

    # the re-run grid is live on the resumed dataset, and versions continue from there
    grid = grid_root(nb.page)
    wait_status(grid, rows=200, version=version)
    if grid.get_by_test_id("grid-stale").is_visible():
        raise HarnessError("the re-run grid shows the stale notice")
    wait_until(lambda: selected_label(grid, 3) == new3, 15, "row 3 to show the widget edit")
    _relabel_in_grid(nb, grid, 4)
    assert nb.kernel.eval("[ds.version, ds.history.changes.source.tolist()]") == [
        version + 1,
        ["widget", "widget"],
    ]
    # both edits, before and after the restart, name the grid's cell
    assert nb.kernel.eval("ds.history.changes.cell_id.tolist()") == [grid_cell, grid_cell]
    shown = nb.kernel.eval("repr(ds.history.changes)")
    assert shown.count("widget SampleGrid in cell [") == 2, shown
    assert shown.count(f"· {grid_cell[:8]}") == 2, shown
    wait_status(grid, version=version + 1)
