"""The quickstart notebook, run end to end in a real JupyterLab with the network closed.

``example_notebooks/01_quickstart.ipynb`` is copied unchanged into the server's root and run
with Run > Run All Cells. Chromium resolves no name but 127.0.0.1 (``--host-resolver-rules``,
see labharness), so a widget or chart that needed a CDN would fail here. The notebook accepts
the editor's suggestions from code (its own stand-in for a person pressing Enter), so no
click is needed to run it; the test then clicks one iteration of the HistoryView, as a person
would, to preview its rows in a SampleGrid.

The same run writes the README's screenshot, ``docs/quickstart.png`` (the editor's cell and
the HistoryView's cell, one above the other), so the picture always shows what the notebook
really does.
"""

from __future__ import annotations

import io
import re
import shutil
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import _on_failure  # the harness's failure report sections
from labharness import (
    LabNotebook,
    close_notebook,
    connect_kernel,
    new_page,
    wait_until,
)
from uidom import editor_progress, editor_root, grid_root, rendered_ids

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "example_notebooks" / "01_quickstart.ipynb"
SCREENSHOT = ROOT / "docs" / "quickstart.png"
README = ROOT / "README.md"
#: the README image stays small enough for a repository
MAX_PNG_BYTES = 400_000
#: digits: 2 x 5-fold evaluations and 2 label-issue searches on two shared cores
RUN_TIMEOUT = 420.0
#: bound of each wait on the page once the notebook has run (seconds)
UI_TIMEOUT = 45.0

# SVG marks drawn by vega inside the history charts, and canvases with drawn (opaque) pixels
_MARKS_JS = """(root) => {
    const svgs = [...root.querySelectorAll('svg')];
    const marks = svgs.flatMap(s => [...s.querySelectorAll('g.mark-area path, g.mark-rect path,'
        + ' g.mark-line path, g.mark-symbol path, g.mark-text text')]);
    const drawn = [...root.querySelectorAll('canvas')].filter(c => {
        const ctx = c.width && c.height ? c.getContext('2d') : null;
        if (!ctx) return false;
        const px = ctx.getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < px.length; i += 4) if (px[i]) return true;
        return false;
    });
    return {svgs: svgs.length, canvases: drawn.length, marks: marks.length,
            text: root.innerText};
}"""

# every output of every code cell: its mime type and text (the error check reads these)
_OUTPUTS_JS = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].map(c => ({
    prompt: (c.querySelector('.jp-InputArea-prompt')?.textContent || '').trim(),
    outputs: [...c.querySelectorAll('.jp-OutputArea-output')].map(o => ({
        mime: o.dataset.mimeType || '',
        text: (o.textContent || '').slice(0, 4000),
    })),
}))"""


def _code_cells() -> list[Any]:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code"]


def _cell_of(page: Any, source_start: str) -> Any:
    """The code cell of the page whose source starts with ``source_start``."""
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    for i in range(cells.count()):
        text = cells.nth(i).locator(".cm-content").inner_text()
        if text.lstrip().startswith(source_start):
            return cells.nth(i)
    raise AssertionError(f"no code cell starting with {source_start!r}")


def _compose_png(parts: list[bytes], path: Path) -> int:
    """Stack the PNG screenshots ``parts`` vertically on white; write a palette PNG; its size."""
    from PIL import Image

    images = [Image.open(io.BytesIO(p)).convert("RGB") for p in parts]
    gap = 12
    width = max(im.width for im in images)
    height = sum(im.height for im in images) + gap * (len(images) - 1)
    sheet = Image.new("RGB", (width, height), "white")
    y = 0
    for im in images:
        sheet.paste(im, (0, y))
        y += im.height + gap
    # a UI screenshot has few colours: a 256-colour palette keeps it sharp and small
    small = sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    path.parent.mkdir(parents=True, exist_ok=True)
    small.save(path, format="PNG", optimize=True)
    return path.stat().st_size


@pytest.fixture
def quickstart(request: pytest.FixtureRequest, lab_server: Any, browser: Any) -> Any:
    """01_quickstart.ipynb copied into the server root and opened in Lab, kernel idle.

    The ``notebook`` fixture writes notebooks from cell sources; this one opens the example
    file itself, unchanged, with the same steps (labharness.open_notebook) and clean-up.
    """
    name = NOTEBOOK.name
    shutil.copy(NOTEBOOK, lab_server.root_dir / name)
    page, console, dialogs = new_page(browser, RUN_TIMEOUT)
    # tall enough that the editor and the whole HistoryView fit in one screenshot each
    page.set_viewport_size({"width": 1280, "height": 1800})
    page.goto(lab_server.lab_url(name, "ws-quickstart"))
    page.locator("#jupyterlab-splash").wait_for(state="detached")
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible")
    # the toolbar indicator says idle before a kernel exists: wait for the status bar's kernel
    page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\|\s*Idle")).wait_for()
    session_id, kernel = connect_kernel(lab_server, name, RUN_TIMEOUT)
    nb = LabNotebook(lab_server, name, page, kernel, session_id, console, dialogs)
    _on_failure(request.node, lambda: ("browser console quickstart", "\n".join(nb.console)))
    _on_failure(request.node, lambda: ("cells quickstart", nb.describe()))
    try:
        yield nb
    finally:
        close_notebook(nb)


def test_quickstart_runs_in_lab_offline_and_writes_the_readme_screenshot(quickstart):
    nb = quickstart
    page = nb.page
    code_cells = _code_cells()

    t0 = time.perf_counter()
    nb.run_all(len(code_cells), timeout=RUN_TIMEOUT)
    t_run = time.perf_counter() - t0
    # from here on every locator answers within a bound well under the notebook's run time
    page.set_default_timeout(UI_TIMEOUT * 1000)

    # no error output in any cell: no error/traceback, nothing on stderr that says Error
    states = page.evaluate(_OUTPUTS_JS)
    assert len(states) == len(code_cells)
    for i, s in enumerate(states):
        assert re.fullmatch(r"\[\d+\]:", s["prompt"]), f"cell {i} did not run: {s['prompt']!r}"
        for o in s["outputs"]:
            if o["mime"] == "application/vnd.jupyter.stderr":
                assert not re.search(r"Traceback|\b\w*Error\b", o["text"]), (
                    f"cell {i} printed an error:\n{o['text']}"
                )
    printed = "\n".join(o["text"] for s in states for o in s["outputs"])
    assert "Error loading script" not in printed
    assert re.search(r"accuracy \d\.\d{3} -> \d\.\d{3} -> \d\.\d{3}", printed), printed[-2000:]
    assert "replay equals the live dataset at version" in printed

    # the kernel's own record: every change came from a cell, and Lab sent the cell's id
    changes = nb.kernel.eval(
        "ds.history.changes[['op', 'source', 'cell_id']].astype(str).values.tolist()"
    )
    assert len(changes) >= 5, changes
    assert {c[1] for c in changes} == {"cell"}, changes
    assert {c[2] for c in changes} <= {c.id for c in code_cells}, changes
    n_iterations = nb.kernel.eval("len(ds.history.iterations)")
    assert n_iterations >= 2

    # the LabelEditor rendered, with its queue of flagged samples
    editor = editor_root(page)
    wait_until(
        lambda: editor_progress(editor) is not None,
        30,
        "editor-progress n / total",
        describe=lambda: editor.get_by_test_id("editor-progress").inner_text(),
    )
    assert editor.get_by_test_id("editor-error").inner_text().strip() == ""

    # the HistoryView: one entry per iteration (+ the base data), newest first; the view is a
    # box of the timeline, the charts and the preview grid, all in the output of its cell
    hv_cell = _cell_of(page, "dj.HistoryView(ds)")
    view = hv_cell.get_by_test_id("history-view")
    view.wait_for()
    items = view.get_by_test_id("history-item")
    wait_until(
        lambda: items.count() == n_iterations + 1,
        30,
        f"{n_iterations + 1} timeline entries (base + {n_iterations} iterations)",
        describe=lambda: str(items.count()),
    )
    iters = [items.nth(i).get_attribute("data-iteration") for i in range(items.count())]
    assert iters == [str(k) for k in range(n_iterations, -1, -1)], iters
    first_fix = view.locator('[data-testid="history-item"][data-iteration="1"]')
    assert "relabeled" in first_fix.get_by_test_id("history-ops").inner_text()
    assert "accuracy" in first_fix.get_by_test_id("history-metrics").inner_text()
    assert "ds.accept_suggestions(issues, top=40)" in first_fix.inner_text()

    # its charts: SVG (or canvas) marks drawn offline, no error text
    charts = hv_cell.locator(".dcai-history-charts")
    wait_until(
        lambda: (lambda g: g["marks"] >= 3 or g["canvases"] >= 1)(charts.evaluate(_MARKS_JS)),
        60,
        "chart marks in the history view",
        describe=lambda: str(charts.evaluate(_MARKS_JS)),
    )
    got = charts.evaluate(_MARKS_JS)
    assert got["svgs"] + got["canvases"] >= 1
    assert "error" not in got["text"].lower(), got["text"]

    # select the first fixing iteration: its diff shows in a SampleGrid of the touched rows
    first_fix.click()
    nb.kernel.run("_qs_view = [o for o in Out.values() if type(o).__name__ == 'HistoryView'][-1]")
    assert nb.kernel.wait_for("_qs_view.timeline.selected == 1", what="iteration 1 selected")
    preview = view.get_by_test_id("history-preview-text")
    wait_until(
        lambda: "relabeled" in preview.inner_text(),
        30,
        "preview text of iteration 1",
        describe=lambda: preview.inner_text(),
    )
    wait_until(lambda: first_fix.get_attribute("aria-selected") == "true", 20, "item selected")
    grid = grid_root(hv_cell)
    ids = wait_until(lambda: rendered_ids(grid, visible_only=True), 30, "rows in the preview grid")
    touched = set(nb.kernel.eval("sorted(_qs_view.preview_diff.ids)"))
    assert set(ids) <= touched, (ids, sorted(touched)[:50])
    first_ids = set(nb.kernel.eval("ds.history.changes.ids.iloc[0]"))
    assert set(ids) & first_ids  # the rows the first accept_suggestions relabeled
    assert grid.locator("img").count() >= 1  # the digits are drawn as images

    # the README screenshot: the editor's cell and the HistoryView's cell
    parts = []
    for start in ("editor = dj.LabelEditor", "dj.HistoryView(ds)"):
        cell = _cell_of(page, start)
        cell.scroll_into_view_if_needed()
        parts.append(cell.screenshot(animations="disabled"))
    size = _compose_png(parts, SCREENSHOT)
    assert size <= MAX_PNG_BYTES, f"{SCREENSHOT} is {size} bytes"
    assert "](docs/quickstart.png)" in README.read_text(), "README.md shows the screenshot"
    print(
        f"\n[ui] quickstart: Run All {t_run:.1f} s, {len(changes)} changes in "
        f"{n_iterations} iterations, preview rows {len(ids)}, {SCREENSHOT.name} {size} bytes"
    )
