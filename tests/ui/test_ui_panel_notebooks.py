"""The Data history panel with several notebooks in one folder, and in Notebook 7's menu
(issue 19 item 4).

Two notebooks beside each other each make a history of their own in the shared ``.dcai/``.
The panel of one lists that notebook's history first and marks it; the other's says which
notebook made it, and a click on one of its iterations opens that notebook at the cell
(it said "Cell not found ... deleted").
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

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
from test_ui_notebook7 import KERNEL_READY_JS, NotebookServer
from test_ui_panel import (
    PANEL,
    RELABEL,
    REMOVE,
    active_cell,
    folder,
    message,
    open_panel,
    saved_ids,
    setup_cell,
    wait_iterations,
)

pytestmark = pytest.mark.ui


def _histories(panel):
    rows = panel.get_by_test_id("dcai-hp-history")
    return [
        (
            rows.nth(i).get_attribute("data-name"),
            rows.nth(i).get_attribute("data-active"),
            rows.nth(i).get_by_test_id("dcai-hp-owner").inner_text()
            if rows.nth(i).get_by_test_id("dcai-hp-owner").count()
            else "",
        )
        for i in range(rows.count())
    ]


def test_active_notebooks_history_first_and_another_notebooks_iteration_opens_it(
    notebook, lab_server
):
    d = folder(lab_server, f"two_{time.time_ns()}")
    # "alpha" sorts first by name, but the notebook open here made "zeta"
    first = notebook([setup_cell("alpha"), RELABEL], name=f"{d}/first")
    second = notebook([setup_cell("zeta"), REMOVE], name=f"{d}/second")
    first_ids = saved_ids(first)
    page = second.page
    panel = open_panel(page)
    want = [
        ("zeta", "true", "this notebook"),
        ("alpha", "false", "made in first.ipynb"),
    ]
    wait_until(
        lambda: _histories(panel) == want,
        20,
        "this notebook's history first, the other's named",
        describe=lambda: repr(_histories(panel)),
    )

    # an iteration of the other notebook's history: that notebook opens at its cell
    alpha = panel.locator('[data-testid="dcai-hp-history"][data-name="alpha"]')
    item = alpha.get_by_test_id("dcai-hp-iteration").first
    item.wait_for()
    assert item.get_attribute("data-cell-id") == first_ids[1]
    item.get_by_test_id("dcai-hp-ops").click()
    wait_until(
        lambda: page.locator(".lm-TabBar-tab.lm-mod-current", has_text="first.ipynb").count() > 0,
        20,
        "first.ipynb opened in this JupyterLab",
    )
    wait_until(
        lambda: active_cell(page)[0] == 1,
        20,
        "the cell that made the iteration selected in first.ipynb",
        describe=lambda: f"{active_cell(page)!r}; {message(panel)!r}",
    )
    wait_until(
        lambda: "Opened first.ipynb" in message(panel),
        10,
        "the panel saying it opened the other notebook",
        describe=lambda: message(panel),
    )
    assert "Cell not found" not in message(panel)
    # the panel follows the notebook now shown: its history first
    wait_until(
        lambda: [h[:2] for h in _histories(panel)] == [("alpha", "true"), ("zeta", "false")],
        20,
        "first.ipynb's history first now",
        describe=lambda: repr(_histories(panel)),
    )
    errors = [m for m in second.console if m.startswith("[pageerror]")]
    assert not errors, errors


@pytest.fixture(scope="module")
def nb7_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotebookServer]:
    base = Path(tempfile.mkdtemp(prefix="dcai-nb7-menu-", dir=tmp_path_factory.getbasetemp()))
    server = NotebookServer(base)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_notebook7_view_menu_opens_the_panel(nb7_server, browser):
    """Notebook 7 hides its right side bar: View > Show Data History opens the panel."""
    server = nb7_server
    d = folder(server, f"nb7menu_{time.time_ns()}")
    name = f"{d}/nb.ipynb"
    cells = [setup_cell("nb7menu"), RELABEL]
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
        assert not page.locator(PANEL).is_visible()
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^View$")).click()
        page.locator(
            '.lm-Menu .lm-Menu-item:has(.lm-Menu-itemLabel:text-is("Show Data History"))'
        ).click()
        panel = page.locator(PANEL)
        panel.wait_for(state="visible")
        items = wait_iterations(panel, 1)
        assert items[0]["ops"] == "relabeled 3", items
        assert panel.locator('[data-testid="dcai-hp-history"][data-active="true"]').count() == 1
    except BaseException:
        print("--- console\n" + "\n".join(console))
        print(f"--- notebook7 log\n{server.log_tail()}")
        raise
    finally:
        if nb is not None:
            close_notebook(nb)
        else:
            page.context.close()
