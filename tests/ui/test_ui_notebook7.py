"""SampleGrid in Notebook 7 (the ``notebook`` package, served by ``jupyter notebook``).

One Notebook 7 server per module, set up like the JupyterLab fixture (labharness.LabServer):
127.0.0.1, a free port, a token, every Jupyter directory under a temporary folder. Notebooks
open at ``/notebooks/<path>``. Notebook 7 has no status bar, so the kernel is awaited in the
page's own session (the app is exposed as ``window.jupyterapp`` for that).
"""

from __future__ import annotations

import re
import tempfile
import traceback
import urllib.error
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbcode
import pytest
from labharness import (
    NOTEBOOK_TIMEOUT,
    LabNotebook,
    LabServer,
    close_notebook,
    connect_kernel,
    new_page,
    wait_until,
    write_notebook,
)
from nbcode import CLASSES
from uidom import cell_text, grid_root, header, row, selected_label, wait_rows, wait_status

pytestmark = pytest.mark.ui

# the page's notebook has a kernel connected to it, and that kernel is idle
KERNEL_READY_JS = """() => {
    const w = window.jupyterapp?.shell?.currentWidget;
    const k = w?.sessionContext?.session?.kernel;
    return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""


class NotebookServer(LabServer):
    """``jupyter notebook`` (Notebook 7) with the same isolation as the JupyterLab fixture."""

    app_module = "notebook"

    def app_args(self, settings: Path, workspaces: Path) -> list[str]:
        return [
            f"--JupyterNotebookApp.user_settings_dir={settings}",
            f"--JupyterNotebookApp.workspaces_dir={workspaces}",
            "--JupyterNotebookApp.expose_app_in_browser=True",
        ]

    def notebook_url(self, name: str) -> str:
        q = urllib.parse.urlencode({"token": self.token})
        return f"{self.url}/notebooks/{urllib.parse.quote(name)}?{q}"


@pytest.fixture(scope="module")
def nb7_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotebookServer]:
    pytest.importorskip(
        "notebook", reason="Notebook 7 (the `notebook` package) is not installed in this env"
    )
    from notebook import __version__ as version

    if int(version.split(".")[0]) < 7:
        pytest.skip(f"notebook {version} installed; these tests need Notebook 7")
    base = Path(tempfile.mkdtemp(prefix="dcai-nb7-", dir=tmp_path_factory.getbasetemp()))
    server = NotebookServer(base)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def open_nb7(
    server: NotebookServer,
    browser: Any,
    name: str,
    cells: Sequence[str],
    opened: list[LabNotebook],
    timeout: float = NOTEBOOK_TIMEOUT,
) -> LabNotebook:
    """Write a notebook, open it in Notebook 7, wait for its kernel, Run > Run All Cells."""
    name += ".ipynb"
    write_notebook(server.root_dir / name, cells)
    page, console, dialogs = new_page(browser, timeout)
    page.goto(server.notebook_url(name))
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible")
    wait_until(
        lambda: page.evaluate(KERNEL_READY_JS), timeout, f"a connected, idle kernel for {name}"
    )

    session_id, kernel = connect_kernel(server, name, timeout)
    nb = LabNotebook(server, name, page, kernel, session_id, console, dialogs)
    opened.append(nb)
    nb.run_all(len(cells), timeout)
    return nb


@pytest.fixture
def nb7(
    request: pytest.FixtureRequest, nb7_server: NotebookServer, browser: Any
) -> Iterator[Callable[[Sequence[str]], LabNotebook]]:
    """Factory: ``nb7(cells)`` opens a notebook in Notebook 7 and runs all its cells."""
    opened: list[LabNotebook] = []

    def factory(cells: Sequence[str]) -> LabNotebook:
        name = re.sub(r"[^A-Za-z0-9_-]", "-", f"{request.node.name}-{len(opened)}")
        return open_nb7(nb7_server, browser, name, cells, opened)

    yield factory
    for nb in opened:
        close_notebook(nb)


@contextmanager
def diagnostics(server: NotebookServer, opened: Callable[[], list[LabNotebook]]) -> Iterator[None]:
    """On a failure, print (into the test's captured output) the server log and page state."""
    start = server.log_size()
    try:
        yield
    except BaseException:
        print(f"--- notebook7 log\n{server.log_tail(start)}")
        for nb in opened():
            print(f"--- console {nb.name}\n" + "\n".join(nb.console))
            print(f"--- cells {nb.name}\n{nb.describe()}")
        traceback.print_exc()
        raise


def test_notebook7_grid_renders_first_page(nb7, nb7_server):
    notebooks: list[LabNotebook] = []
    with diagnostics(nb7_server, lambda: notebooks):
        nb = nb7([nbcode.dataset(500), nbcode.GRID])
        notebooks.append(nb)
        assert "/notebooks/" in nb.page.url, nb.page.url
        grid = grid_root(nb.page)
        wait_status(grid, rows=500, version=0)
        for col in ("n", "x", "text", "label"):
            assert header(grid, col).count() == 1, f'no [data-testid="header"][data-col="{col}"]'
        ids = wait_rows(grid, lambda ids: ids[0] == 0, "the first row (id 0) to render")
        assert ids == nb.kernel.eval(f"ds.ids[:{len(ids)}].tolist()")
        assert len(ids) >= 5, ids
        expect = nb.kernel.eval(
            f"[[str(v) for v in r] for r in ds.take({ids!r}, ['n', 'text', 'label']).values]"
        )
        for i, (n, text, label) in zip(ids, expect, strict=True):
            assert cell_text(grid, i, "n") == n
            assert cell_text(grid, i, "text") == text
            assert selected_label(grid, i) == label
        assert grid.get_by_test_id("grid-stale").is_hidden()

        # an inline edit reaches the kernel from Notebook 7 too
        new = CLASSES[(CLASSES.index(selected_label(grid, 2)) + 1) % len(CLASSES)]
        row(grid, 2).get_by_test_id("label-select").select_option(label=new)
        nb.kernel.wait_for(f"ds.take([2])['label'].iloc[0] == {new!r}", what="the edit")
        last = nb.kernel.eval("ds.history.changes.iloc[-1][['source', 'widget', 'ids']].tolist()")
        assert last == ["widget", "SampleGrid", [2]], last
        wait_status(grid, version=1)
        print(f"\n[ui] Notebook 7: {len(ids)} rows visible; edit recorded {last}")
