"""The "Data history" side panel (lab extension + server extension) in JupyterLab and Notebook 7.

Each test works in a folder of its own under the server root, so the panel sees only that
test's histories (``<folder>/.dcai/<name>.sqlite``). What the panel shows is checked against
the kernel's own history and the cell ids of the saved ``.ipynb``; the network stays closed
(Chromium resolves nothing but 127.0.0.1).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbcode
import nbformat
import pytest
from labharness import (
    NOTEBOOK_TIMEOUT,
    LabNotebook,
    close_notebook,
    connect_kernel,
    new_page,
    wait_until,
    write_notebook,
)
from nbcode import CLASSES
from test_ui_notebook7 import KERNEL_READY_JS, NotebookServer
from uidom import editor_progress, editor_root

pytestmark = pytest.mark.ui

PANEL = "#dcai-data-history"
BUTTON = ".dcai-hp-toolbar-button"
#: a generous bound (the poll runs every 0.4 s); the 1 s target is benchmarks/panel.py's
UPDATE_BOUND = 5.0


def setup_cell(name: str, n: int = 120) -> str:
    """A named Dataset ``ds``: its history is ``.dcai/<name>.sqlite`` beside the notebook."""
    return f"""\
import numpy as np
import pandas as pd
import dcai_jupyter as dj

CLASSES = {CLASSES!r}
rng = np.random.default_rng(3)
df = pd.DataFrame({{
    "n": np.arange({n}, dtype=np.int64),
    "text": [f"sample {{i}}" for i in range({n})],
    "label": rng.choice(CLASSES, {n}),
}})
ds = dj.Dataset(df, label="label", name={name!r}, classes=CLASSES)
nxt = {{c: CLASSES[(i + 1) % len(CLASSES)] for i, c in enumerate(CLASSES)}}
"""


RELABEL = "ids = [1, 2, 3]\nds.relabel(ids, [nxt[v] for v in ds.take(ids)['label']], reason='typo')"
REMOVE = "ds.remove([10, 11])"


def folder(server: Any, name: str) -> str:
    (server.root_dir / name).mkdir(parents=True, exist_ok=True)
    return name


def open_panel(page: Any) -> Any:
    """Open the panel from the notebook toolbar's button; return its root."""
    page.locator(BUTTON).first.click()
    panel = page.locator(PANEL)
    panel.wait_for(state="visible")
    return panel


def iterations(panel: Any) -> Any:
    return panel.get_by_test_id("dcai-hp-iteration")


def wait_iterations(panel: Any, n: int, timeout: float = 15) -> list[dict[str, str]]:
    """Wait for ``n`` iterations in the panel; return their ops, source and cell id."""

    def read() -> list[dict[str, str]] | None:
        items = iterations(panel)
        if items.count() != n:
            return None
        return [
            {
                "ops": items.nth(i).get_by_test_id("dcai-hp-ops").inner_text(),
                "source": items.nth(i).get_by_test_id("dcai-hp-source").inner_text(),
                "cell_id": items.nth(i).get_attribute("data-cell-id") or "",
                "versions": items.nth(i).get_attribute("data-last-version") or "",
            }
            for i in range(n)
        ]

    return wait_until(
        read,
        timeout,
        f"{n} iterations in the Data history panel",
        describe=lambda: panel.inner_text()[:2000],
    )


def click_iteration(panel: Any, i: int) -> None:
    """Click iteration ``i`` (0 = newest) on its summary line, away from its buttons."""
    iterations(panel).nth(i).get_by_test_id("dcai-hp-ops").click()


def active_cell(page: Any) -> tuple[int, str]:
    """Index and cell id of the active cell (the notebook's own model id)."""
    return tuple(
        page.evaluate(
            """() => {
                const sel = '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell';
                const cells = [...document.querySelectorAll(sel)];
                const i = cells.findIndex(c => c.classList.contains('jp-mod-active'));
                return [i, i < 0 ? '' : (cells[i].dataset.dcaiCellId || '')];
            }"""
        )
    )


def saved_ids(nb: LabNotebook) -> list[str]:
    return [c.id for c in nbformat.read(str(nb.path), as_version=4).cells]


def message(panel: Any) -> str:
    return str(panel.get_by_test_id("dcai-hp-message").inner_text())


def checkout_then_delete(nb: LabNotebook, panel: Any, ids: list[str], name: str) -> None:
    """On a notebook [setup, RELABEL, REMOVE] that ran: "Insert checkout cell" for v1 adds code
    that, run, equals ``ds.history.checkout(1)``; after deleting the RELABEL cell, a click on
    its iteration says "Cell not found" and leaves the selection alone."""
    page = nb.page
    cells = page.locator(".jp-Notebook .jp-Cell")
    n_before = cells.count()
    iterations(panel).nth(1).get_by_test_id("dcai-hp-checkout").click()
    wait_until(lambda: cells.count() == n_before + 1, 10, "the inserted checkout cell")
    inserted = page.locator('.jp-Cell[data-dcai-inserted="checkout"]')
    code = inserted.locator(".cm-content").inner_text()
    assert "ds.history.checkout(1)" in code, code
    inserted.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")
    nb.kernel.wait_for(f"'{name}_v1' in globals()", what="the checkout cell to run")
    assert nb.kernel.eval(f"{name}_v1.equals(ds.history.checkout(1))") is True
    assert nb.kernel.eval("ds.version") == 2, "a checkout must not change the data"

    # delete the relabel cell: the panel says so instead of jumping elsewhere
    n_cells = cells.count()
    cells.nth(1).locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("d")
    page.keyboard.press("d")
    wait_until(lambda: cells.count() == n_cells - 1, 10, "the relabel cell to be deleted")
    assert ids[1] not in [
        cells.nth(i).get_attribute("data-dcai-cell-id") for i in range(n_cells - 1)
    ]
    before = active_cell(page)
    click_iteration(panel, 1)
    wait_until(
        lambda: "Cell not found" in message(panel),
        10,
        "the cell-not-found message",
        describe=lambda: message(panel),
    )
    assert active_cell(page) == before, "the selection moved although the cell is gone"


# ---------------------------------------------------------------------- JupyterLab
def test_panel_lists_iterations_links_cells_and_marks_them(notebook, lab_server):
    d = folder(lab_server, f"panel_{time.time_ns()}")
    nb = notebook([setup_cell("pets"), RELABEL, REMOVE], name=f"{d}/nb")
    page = nb.page
    ids = saved_ids(nb)
    panel = open_panel(page)
    items = wait_iterations(panel, 2)
    # newest first; each from its cell, with the cell's id as saved in the .ipynb
    assert items[0]["ops"] == "removed 2" and items[1]["ops"] == "relabeled 3", items
    assert [i["cell_id"] for i in items] == [ids[2], ids[1]], (items, ids)
    counts = nb.kernel.eval("[int(c) for c in ds.history.iterations.execution_count]")
    assert (
        items[1]["source"] == f"cell [{counts[0]}]" and items[0]["source"] == f"cell [{counts[1]}]"
    )
    history = panel.get_by_test_id("dcai-hp-history")
    assert history.get_attribute("data-name") == "pets"
    assert history.get_by_test_id("dcai-hp-facts").inner_text().startswith("v2 · 2 iterations")

    # cell markers, with the list of changes on hover
    cells = page.locator(".jp-Notebook .jp-Cell")
    marker = cells.nth(1).get_by_test_id("dcai-cell-marker")
    marker.wait_for()
    assert marker.inner_text().strip() == "relabeled 3"
    assert cells.nth(2).get_by_test_id("dcai-cell-marker").inner_text().strip() == "removed 2"
    assert cells.nth(0).get_by_test_id("dcai-cell-marker").count() == 0
    marker.hover()
    tip = cells.nth(1).get_by_test_id("dcai-cell-marker-tip")
    wait_until(
        lambda: "pets v1: relabeled 3" in tip.inner_text(),
        10,
        "the marker's change list",
        describe=lambda: tip.inner_text(),
    )
    assert "typo" in tip.inner_text()

    # click an iteration: its cell becomes the active cell, checked against the saved ids
    cells.nth(0).locator(".jp-InputPrompt").click()  # somewhere else first
    click_iteration(panel, 1)  # relabeled 3 -> cell 1
    wait_until(
        lambda: active_cell(page) == (1, ids[1]),
        10,
        "cell 1 to be selected",
        describe=lambda: repr(active_cell(page)),
    )
    assert "Selected cell" in message(panel)
    click_iteration(panel, 0)
    wait_until(
        lambda: active_cell(page) == (2, ids[2]),
        10,
        "cell 2 to be selected",
        describe=lambda: repr(active_cell(page)),
    )

    # the iteration's diff summary, from the history file
    iterations(panel).nth(1).get_by_test_id("dcai-hp-details").click()
    diff = iterations(panel).nth(1).get_by_test_id("dcai-hp-diff")
    diff.wait_for()
    assert diff.inner_text().startswith("rows relabeled 3 (v0 vs v1)"), diff.inner_text()

    checkout_then_delete(nb, panel, ids, "pets")


def test_label_editor_edit_shows_in_the_panel_without_a_reload(notebook, lab_server):
    d = folder(lab_server, f"editor_{time.time_ns()}")
    nb = notebook(
        [
            setup_cell("reviewed", 300),
            nbcode.issues(6),
            "editor = dj.LabelEditor(ds, issues)\neditor",
        ],
        name=f"{d}/nb",
    )
    page = nb.page
    panel = open_panel(page)
    wait_until(
        lambda: "No dataset history" in panel.inner_text() or iterations(panel).count() == 0,
        10,
        "an empty history",
    )
    editor = editor_root(page)
    wait_until(lambda: editor_progress(editor) == (0, 6), 15, "the editor queue")
    editor.click(position={"x": 3, "y": 3})
    page.keyboard.press("Enter")  # accept the suggestion: one relabel, from the widget
    nb.kernel.wait_for("ds.version == 1", what="the editor's relabel in the kernel")
    t_kernel = time.perf_counter()
    items = wait_iterations(panel, 1, timeout=10)
    elapsed = time.perf_counter() - t_kernel
    print(
        f"\n[ui] panel: editor change seen in the panel {elapsed * 1000:.0f} ms after the kernel had it"
    )
    assert (
        items[0]["ops"] == "relabeled 1" and items[0]["source"] == "LabelEditor session in cell [3]"
    ), items
    # The <= 1 s target is measured by benchmarks/panel.py (printed, never asserted against a
    # clock on 2 shared cores); here the panel must show it well before a person gives up.
    assert elapsed <= UPDATE_BOUND, f"the panel took {elapsed:.2f} s to show the change"
    # the widget session links to the widget's cell
    click_iteration(panel, 0)
    wait_until(
        lambda: active_cell(page)[0] == 2,
        10,
        "the editor's cell to be selected",
        describe=lambda: repr(active_cell(page)),
    )


def test_panel_renders_with_no_kernel(notebook, lab_server):
    d = folder(lab_server, f"nokernel_{time.time_ns()}")
    nb = notebook([setup_cell("offline"), RELABEL, REMOVE], name=f"{d}/nb")
    page = nb.page
    # metrics measured at v0 and v2 (as ds.evaluate() records them)
    nb.kernel.run(
        "ds.history.record_metrics(0, {'accuracy': 0.8})\n"
        "ds.history.record_metrics(2, {'accuracy': 0.85})"
    )
    kernel_id = lab_server.api("GET", f"/api/sessions/{nb.session_id}")["kernel"]["id"]
    lab_server.api("DELETE", f"/api/sessions/{nb.session_id}")
    wait_until(
        lambda: all(k["id"] != kernel_id for k in lab_server.api("GET", "/api/kernels")),
        30,
        "the kernel to shut down",
    )
    panel = open_panel(page)
    items = wait_iterations(panel, 2)
    assert items[1]["ops"] == "relabeled 3" and items[0]["ops"] == "removed 2"
    # the metrics, read from the file: at v2 against the base's
    metrics = iterations(panel).nth(0).get_by_test_id("dcai-hp-metrics")
    assert metrics.inner_text() == "accuracy 0.850 (+0.050)", metrics.inner_text()
    assert iterations(panel).nth(1).get_by_test_id("dcai-hp-metrics").count() == 0
    facts = panel.get_by_test_id("dcai-hp-facts").inner_text()
    assert facts.endswith("(accuracy 0.800)"), facts
    # reverting needs a kernel, and the panel says so rather than failing silently
    iterations(panel).nth(1).get_by_test_id("dcai-hp-revert").click()
    wait_until(
        lambda: "Revert needs the live dataset" in message(panel),
        10,
        "the no-kernel message",
        describe=lambda: message(panel),
    )
    # a checkout cell without a live dataset replays the file onto base_df
    iterations(panel).nth(1).get_by_test_id("dcai-hp-checkout").click()
    inserted = page.locator('.jp-Cell[data-dcai-inserted="checkout"]')
    inserted.wait_for()
    code = inserted.locator(".cm-content").inner_text()
    assert 'dj.open_history(".dcai/offline.sqlite").replay(base_df, to=1)' in code, code


def test_revert_to_here_is_one_recorded_change(notebook, lab_server):
    d = folder(lab_server, f"revert_{time.time_ns()}")
    nb = notebook([setup_cell("rev"), RELABEL, REMOVE], name=f"{d}/nb")
    page = nb.page
    panel = open_panel(page)
    wait_iterations(panel, 2)
    fp1 = nb.kernel.eval("ds.history.changes.loc[1, 'fingerprint']")
    iterations(panel).nth(1).get_by_test_id("dcai-hp-revert").click()  # back to v1
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for()
    assert "ds.revert_to(1)" in dialog.inner_text()
    dialog.locator("button", has_text="Revert").click()
    nb.kernel.wait_for("ds.version == 3", what="the revert in the kernel")
    last = nb.kernel.eval("ds.history.changes.iloc[-1][['op', 'source', 'fingerprint']].tolist()")
    assert last[1] == "cell" and last[2] == fp1, last
    items = wait_iterations(panel, 3)
    assert "cell [" in items[0]["source"]


# ---------------------------------------------------------------------- Notebook 7
@pytest.fixture(scope="module")
def nb7_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotebookServer]:
    base = Path(tempfile.mkdtemp(prefix="dcai-nb7-panel-", dir=tmp_path_factory.getbasetemp()))
    server = NotebookServer(base)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_notebook7_panel_lists_and_links(nb7_server, browser):
    server = nb7_server
    d = folder(server, f"nb7_{time.time_ns()}")
    name = f"{d}/nb.ipynb"
    cells = [setup_cell("nb7pets"), RELABEL, REMOVE]
    write_notebook(server.root_dir / name, cells)
    page, console, dialogs = new_page(browser, NOTEBOOK_TIMEOUT)
    nb: LabNotebook | None = None
    try:
        page.goto(server.notebook_url(name))
        page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible")
        wait_until(lambda: page.evaluate(KERNEL_READY_JS), NOTEBOOK_TIMEOUT, "an idle kernel")
        session_id, kernel = connect_kernel(server, name, NOTEBOOK_TIMEOUT)
        nb = LabNotebook(server, name, page, kernel, session_id, console, dialogs)
        nb.run_all(len(cells))
        ids = saved_ids(nb)
        panel = open_panel(page)
        items = wait_iterations(panel, 2)
        assert [i["ops"] for i in items] == ["removed 2", "relabeled 3"], items
        assert [i["cell_id"] for i in items] == [ids[2], ids[1]]
        click_iteration(panel, 1)
        wait_until(
            lambda: active_cell(page) == (1, ids[1]),
            10,
            "cell 1 to be selected",
            describe=lambda: repr(active_cell(page)),
        )
        marker = page.locator(".jp-Notebook .jp-Cell").nth(1).get_by_test_id("dcai-cell-marker")
        assert marker.inner_text().strip() == "relabeled 3"
        checkout_then_delete(nb, panel, ids, "nb7pets")
    except BaseException:
        print("--- console\n" + "\n".join(console))
        print(f"--- notebook7 log\n{server.log_tail()}")
        raise
    finally:
        if nb is not None:
            close_notebook(nb)
        else:
            page.context.close()
