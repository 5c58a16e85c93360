"""Fixtures for the browser tests: one JupyterLab per session, headless Chromium, notebooks.

Every test under ``tests/ui`` is marked ``ui``; they are skipped, with the reason, only when
Debian's chromium (``/usr/bin/chromium``) is absent (``scripts/test.sh`` installs it).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from labharness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LabNotebook,
    LabServer,
    close_notebook,
    open_notebook,
)

HERE = Path(__file__).parent
FAILURE_INFO = pytest.StashKey[list[Callable[[], tuple[str, str]]]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = None
    if not os.path.exists(CHROMIUM):
        skip = pytest.mark.skip(
            reason=f"{CHROMIUM} is missing (install Debian's chromium: scripts/test.sh does)"
        )
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.ui)
            if skip is not None:
                item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    rep = yield
    if rep.failed:
        for make in item.stash.get(FAILURE_INFO, []):
            try:
                rep.sections.append(make())
            except Exception as exc:
                rep.sections.append(("ui diagnostics", f"failed to collect: {exc!r}"))
    return rep


def _on_failure(item: pytest.Item, make: Callable[[], tuple[str, str]]) -> None:
    item.stash.setdefault(FAILURE_INFO, []).append(make)


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A JupyterLab server for the whole session, everything under a temporary folder."""
    base = Path(tempfile.mkdtemp(prefix="dcai-ui-", dir=tmp_path_factory.getbasetemp()))
    server = LabServer(base)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _server_log_on_failure(request: pytest.FixtureRequest) -> None:
    """Attach the part of the server log written during a failing ui test to its report."""
    if "lab_server" not in request.fixturenames:
        return
    server: LabServer = request.getfixturevalue("lab_server")
    start = server.log_size()
    _on_failure(request.node, lambda: ("jupyterlab log", server.log_tail(start)))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def notebook(
    request: pytest.FixtureRequest, lab_server: LabServer, browser: Any
) -> Iterator[Callable[..., LabNotebook]]:
    """Factory: ``notebook(cells, name=None, run=True)`` opens a notebook and runs it.

    Everything opened is closed (page, kernel client, kernel) when the test ends; on failure
    the page's console and the cells' state are added to the report.
    """
    opened: list[LabNotebook] = []

    def register(nb: LabNotebook) -> None:
        opened.append(nb)
        _on_failure(request.node, lambda: (f"browser console {nb.name}", "\n".join(nb.console)))
        _on_failure(request.node, lambda: (f"cells {nb.name}", nb.describe()))

    def factory(cells: Sequence[str], name: str | None = None, run: bool = True) -> LabNotebook:
        nb_name = name or re.sub(r"[^A-Za-z0-9_-]", "-", f"{request.node.name}-{len(opened)}")
        return open_notebook(lab_server, browser, nb_name, cells, run=run, on_open=register)

    yield factory
    for nb in opened:
        close_notebook(nb)
