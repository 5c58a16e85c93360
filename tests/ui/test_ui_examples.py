"""Every example notebook, run with Run All in a real JupyterLab with the network closed.

Each ``example_notebooks/*.ipynb`` is copied unchanged into the server's root, opened, and run
with Run > Run All Cells. Chromium resolves no name but 127.0.0.1 (labharness's
``--host-resolver-rules``), and every request the page makes is recorded: a chart or widget
that fetched a script from a CDN would show up here as a request leaving 127.0.0.1 (and, in
the page, as "Error loading script"). Asserted per notebook, once every output has drawn:

- no error output and nothing on stderr (no traceback, no warning box),
- no "Error" text in any output ("Error loading script", "Error displaying widget"),
- every chart drew SVG marks; every widget view has content,
- no console error and no uncaught page error,
- no request to any host but 127.0.0.1.
"""

from __future__ import annotations

import re
import shutil
import urllib.parse
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import _on_failure  # the harness's failure report sections
from labharness import LabNotebook, close_notebook, connect_kernel, new_page, wait_until

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "example_notebooks").glob("*.ipynb"))
#: the longest notebook (evaluations, label-issue searches) on two shared cores
RUN_TIMEOUT = 480.0
#: bound of the waits once the notebook has run (seconds)
UI_TIMEOUT = 60.0

# every output of every code cell: its mime type, text, and whether it drew (charts, widgets)
_OUTPUTS_JS = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].map(c => ({
    prompt: (c.querySelector('.jp-InputArea-prompt')?.textContent || '').trim(),
    outputs: [...c.querySelectorAll('.jp-OutputArea-output')].map(o => ({
        mime: o.dataset.mimeType || '',
        text: (o.textContent || '').slice(0, 4000),
        // a Vega/Vega-Lite output (JupyterLab's own renderer) and the marks it drew
        chart: o.matches('.jp-RenderedVegaCommon5') || !!o.querySelector('.jp-RenderedVegaCommon5'),
        marks: o.querySelectorAll('svg g.mark-line path, svg g.mark-symbol path,'
            + ' svg g.mark-rect path, svg g.mark-area path, svg g.mark-text text').length,
        children: o.querySelectorAll('*').length,
    })),
}))"""

WIDGET = "application/vnd.jupyter.widget-view+json"


def _is_local(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-extension"):
        return True
    return parts.hostname == "127.0.0.1"


def _n_code_cells(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    return sum(1 for c in nb.cells if c.cell_type == "code")


@pytest.fixture
def example(request: pytest.FixtureRequest, lab_server: Any, browser: Any) -> Any:
    """Factory: the example notebook copied into the server root and opened in Lab, kernel
    idle, with every request of the page recorded (``nb.requests``)."""
    opened: list[LabNotebook] = []

    def open_example(path: Path) -> LabNotebook:
        shutil.copy(path, lab_server.root_dir / path.name)
        page, console, dialogs = new_page(browser, RUN_TIMEOUT)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(lab_server.lab_url(path.name, "ws-" + re.sub(r"\W", "-", path.stem)))
        page.locator("#jupyterlab-splash").wait_for(state="detached")
        page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible")
        # the toolbar indicator says idle before a kernel exists: wait for the status bar's
        page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\|\s*Idle")).wait_for()
        session_id, kernel = connect_kernel(lab_server, path.name, RUN_TIMEOUT)
        nb = LabNotebook(lab_server, path.name, page, kernel, session_id, console, dialogs)
        nb.requests = requests  # type: ignore[attr-defined]
        opened.append(nb)
        _on_failure(request.node, lambda: (f"browser console {path.name}", "\n".join(console)))
        _on_failure(request.node, lambda: (f"cells {path.name}", nb.describe()))
        _on_failure(request.node, lambda: (f"requests {path.name}", "\n".join(requests[-200:])))
        return nb

    yield open_example
    for nb in opened:
        close_notebook(nb)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_example_runs_in_lab_offline_without_errors(example: Any, path: Path) -> None:
    nb = example(path)
    page = nb.page
    n_cells = _n_code_cells(path)
    nb.run_all(n_cells, timeout=RUN_TIMEOUT)
    page.set_default_timeout(UI_TIMEOUT * 1000)

    # every chart has drawn its marks and every widget view has content: only then can a
    # failed script or a broken widget show (their errors come after the cell ran)
    def drawn() -> bool:
        outs = [o for s in page.evaluate(_OUTPUTS_JS) for o in s["outputs"]]
        charts = [o for o in outs if o["chart"]]
        widgets = [o for o in outs if o["mime"] == WIDGET]
        return all(o["marks"] > 0 for o in charts) and all(o["children"] > 3 for o in widgets)

    wait_until(
        drawn, UI_TIMEOUT, f"the charts and widgets of {path.name} to draw", describe=nb.describe
    )

    states = page.evaluate(_OUTPUTS_JS)
    assert len(states) == n_cells
    problems = []
    for i, s in enumerate(states):
        if not re.fullmatch(r"\[\d+\]:", s["prompt"]):
            problems.append(f"cell {i} did not run: {s['prompt']!r}")
        for o in s["outputs"]:
            if o["mime"] in ("application/vnd.jupyter.stderr", "application/vnd.jupyter.error"):
                problems.append(f"cell {i} wrote to stderr or failed:\n{o['text'][:1500]}")
            elif re.search(r"\bError (loading|displaying)\b", o["text"]):
                problems.append(f"cell {i} shows an error:\n{o['text'][:1500]}")
    assert not problems, "\n".join(problems)
    if path.name == "02_active_learning.ipynb":  # its own altair chart, drawn offline
        assert any(o["chart"] and o["marks"] > 0 for s in states for o in s["outputs"])

    errors = [m for m in nb.console if m.startswith(("[error]", "[pageerror]"))]
    assert not errors, "console errors:\n" + "\n".join(errors)
    outside = sorted({u for u in nb.requests if not _is_local(u)})  # type: ignore[attr-defined]
    assert not outside, "requests leaving 127.0.0.1:\n" + "\n".join(outside)
