"""Helpers for the browser tests: a JupyterLab server, notebooks opened in Chromium, kernel access.

The server runs from the test environment's own ``jupyter-lab`` with every Jupyter directory
(config, data, runtime, user settings, workspaces) under one temporary folder, so a test run
neither reads nor writes the user's Jupyter state. Kernel state is read through a
``jupyter_client.BlockingKernelClient`` connected with the kernel's own connection file: the
tests check real kernel state, nothing is mocked.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
VIEWPORT = {"width": 1280, "height": 900}

#: Bounds for the polling waits (seconds). Generous: two cores are shared by everyone.
SERVER_START_TIMEOUT = 90.0
NOTEBOOK_TIMEOUT = 90.0
KERNEL_TIMEOUT = 30.0


class HarnessError(AssertionError):
    """A wait ran out or the notebook failed; the message says what was seen."""


def wait_until(
    predicate: Callable[[], Any],
    timeout: float,
    what: str,
    interval: float = 0.05,
    describe: Callable[[], str] | None = None,
) -> Any:
    """Poll ``predicate`` until it returns a truthy value and return that value.

    Parameters
    ----------
    predicate
        Called repeatedly; exceptions count as "not yet" (the last one is reported).
    timeout
        Upper bound in seconds.
    what
        Description of the awaited condition for the error message.
    interval
        Initial pause between polls; grows to at most 0.5 s.
    describe
        Optional callable giving the state seen, added to the error message.

    Returns
    -------
    Any
        The first truthy value returned by ``predicate``.
    """
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    value: Any = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:
            last_exc = exc
        if time.monotonic() > deadline:
            seen = f"last value {value!r}"
            if last_exc is not None:
                seen += f", last error {last_exc!r}"
            if describe is not None:
                try:
                    seen += f"; seen: {describe()}"
                except Exception as exc:
                    seen += f"; describe() failed: {exc!r}"
            raise HarnessError(f"timed out after {timeout:.0f} s waiting for {what} ({seen})")
        time.sleep(interval)
        interval = min(interval * 1.5, 0.5)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


@dataclass
class LabServer:
    """A running JupyterLab server owned by the test session."""

    base: Path
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def root_dir(self) -> Path:
        return self.base / "root"

    @property
    def runtime_dir(self) -> Path:
        return self.base / "jupyter" / "runtime"

    #: the server application: ``python -m <app_module>``; subclasses run another front end
    app_module = "jupyterlab"

    @property
    def log_path(self) -> Path:
        return self.base / f"{self.app_module}.log"

    def app_args(self, settings: Path, workspaces: Path) -> list[str]:
        """Options of the application (settings and workspaces under the temp folder)."""
        return [
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={workspaces}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Write the settings files, launch the server and wait for ``/api/status``."""
        jdir = self.base / "jupyter"
        settings = jdir / f"{self.app_module}-user-settings"
        workspaces = jdir / f"{self.app_module}-workspaces"
        for d in (self.root_dir, jdir / "config", jdir / "data", self.runtime_dir, workspaces):
            d.mkdir(parents=True, exist_ok=True)
        _write_json(
            settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
            {"fetchNews": "false", "checkForUpdates": False},
        )
        _write_json(
            settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
            {"autoStartDefaultKernel": True, "windowingMode": "none"},
        )
        env = dict(os.environ)
        venv_bin = str(Path(sys.executable).parent)
        env.update(
            JUPYTER_CONFIG_DIR=str(jdir / "config"),
            JUPYTER_DATA_DIR=str(jdir / "data"),
            JUPYTER_RUNTIME_DIR=str(self.runtime_dir),
            JUPYTER_PLATFORM_DIRS="1",
            IPYTHONDIR=str(jdir / "ipython"),
            PATH=venv_bin + os.pathsep + env.get("PATH", ""),
            # two cores shared by everyone: kernels started by this server stay single-threaded
            OMP_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            PYTHONUNBUFFERED="1",
        )
        env.pop("JUPYTER_PATH", None)
        cmd = [
            sys.executable,
            "-m",
            self.app_module,
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            *self.app_args(settings, workspaces),
        ]
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.root_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise HarnessError(
                    f"{self.app_module} exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                self.api("GET", "/api/status", timeout=2)
            except (urllib.error.URLError, OSError):
                return False
            return True

        try:
            wait_until(ready, SERVER_START_TIMEOUT, f"{self.app_module} /api/status", interval=0.2)
        except HarnessError:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM the server, then its whole process group if it does not exit."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        # kernels are in the same session/group: end them too
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                continue
            if sig == signal.SIGTERM:
                # give kernels in the group a moment, then make sure
                try:
                    os.killpg(proc.pid, 0)
                except ProcessLookupError:
                    break

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_tail(self, since: int = 0, limit: int = 20000) -> str:
        """The server log from byte offset ``since`` (at most ``limit`` characters, the end)."""
        try:
            data = self.log_path.read_bytes()[since:]
        except OSError as exc:
            return f"<no log: {exc}>"
        text = data.decode("utf-8", "replace")
        return text if len(text) <= limit else "...\n" + text[-limit:]

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        """Call the Jupyter server REST API with the token; return the decoded JSON (or None)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def lab_url(self, notebook: str, workspace: str) -> str:
        """URL opening ``notebook`` in a fresh, reset workspace of its own."""
        q = urllib.parse.urlencode({"token": self.token, "reset": ""})
        return f"{self.url}/lab/workspaces/{workspace}/tree/{urllib.parse.quote(notebook)}?{q}"


def write_notebook(path: Path, cells: Sequence[str]) -> None:
    """Write a python3 notebook whose code cells are ``cells``."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb))


class Kernel:
    """A second client of a notebook's kernel (shell + iopub), for reading real kernel state."""

    def __init__(self, connection_file: Path) -> None:
        from jupyter_client import BlockingKernelClient

        self.connection_file = connection_file
        self.client = BlockingKernelClient(connection_file=str(connection_file))
        self.client.load_connection_file()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=KERNEL_TIMEOUT)

    def close(self) -> None:
        self.client.stop_channels()

    def run(self, code: str, timeout: float = KERNEL_TIMEOUT) -> str:
        """Execute ``code`` in the kernel; return its stdout. Raise on an error in the kernel."""
        out: list[str] = []
        err: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            kind = msg["msg_type"]
            content = msg["content"]
            if kind == "stream":
                (out if content["name"] == "stdout" else err).append(content["text"])
            elif kind == "error":
                err.append("\n".join(content["traceback"]))

        reply = self.client.execute_interactive(
            code, output_hook=hook, timeout=timeout, allow_stdin=False, store_history=False
        )
        if reply["content"]["status"] != "ok":
            tb = re.sub(r"\x1b\[[0-9;]*m", "", "".join(err))
            raise HarnessError(f"kernel error running:\n{code}\n{tb}")
        return "".join(out)

    def eval(self, expr: str, timeout: float = KERNEL_TIMEOUT) -> Any:
        """Evaluate ``expr`` in the kernel's namespace and return it through JSON.

        numpy scalars and arrays come back as Python numbers and lists; other objects JSON
        does not know come back as their ``str``.
        """
        marker = "@@dcai-ui@@"
        code = (
            "import json as _ui_json\n"
            f"print({marker!r} + _ui_json.dumps({expr}, default=lambda o: o.tolist() "
            "if hasattr(o, 'tolist') else str(o)))\n"
        )
        stdout = self.run(code, timeout=timeout)
        for line in stdout.splitlines():
            if line.startswith(marker):
                return json.loads(line[len(marker) :])
        raise HarnessError(f"no value for {expr!r}; stdout: {stdout!r}")

    def wait_for(self, expr: str, timeout: float = 15.0, what: str | None = None) -> Any:
        """Poll ``expr`` in the kernel until it is truthy; return its value."""
        last: list[Any] = [None]

        def probe() -> Any:
            last[0] = self.eval(expr)
            return last[0]

        return wait_until(probe, timeout, what or f"kernel: {expr}", describe=lambda: repr(last[0]))


@dataclass
class LabNotebook:
    """A notebook open in JupyterLab in its own browser context, with a client to its kernel."""

    server: LabServer
    name: str
    page: Any  # playwright.sync_api.Page
    kernel: Kernel
    session_id: str
    console: list[str]
    dialogs: list[str]

    @property
    def path(self) -> Path:
        return self.server.root_dir / self.name

    def cell_states(self) -> list[dict[str, str]]:
        """Prompt and stderr/error text of every code cell, as shown in the page."""
        return list(
            self.page.evaluate(
                """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].map(c => ({
                    prompt: (c.querySelector('.jp-InputArea-prompt')?.textContent || '').trim(),
                    stderr: [...c.querySelectorAll(
                        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
                    )].map(e => e.textContent).join('\\n'),
                }))"""
            )
        )

    def describe(self) -> str:
        try:
            states = self.cell_states()
        except Exception as exc:
            return f"<page not readable: {exc!r}>"
        return "\n".join(
            f"cell {i} {s['prompt']} {s['stderr'][-1500:]}" for i, s in enumerate(states)
        )

    def wait_all_executed(self, n_cells: int, timeout: float = NOTEBOOK_TIMEOUT) -> None:
        """Wait until ``n_cells`` code cells show an execution count; fail on an error output."""
        numbered = re.compile(r"^\[\d+\]:$")
        error = re.compile(r"Traceback|\b\w*Error\b")

        def done() -> bool:
            states = self.cell_states()
            for i, s in enumerate(states):
                if error.search(s["stderr"]) and numbered.match(s["prompt"]):
                    raise HarnessError(f"cell {i} of {self.name} failed:\n{s['stderr'][-4000:]}")
            return len(states) >= n_cells and all(numbered.match(s["prompt"]) for s in states)

        def checked() -> bool:
            try:
                return done()
            except HarnessError as exc:
                self._failed = exc
                return True

        self._failed: HarnessError | None = None
        wait_until(
            checked, timeout, f"all {n_cells} cells of {self.name} to run", describe=self.describe
        )
        if self._failed is not None:
            raise self._failed

    def run_all(self, n_cells: int, timeout: float = NOTEBOOK_TIMEOUT) -> None:
        """Run > Run All Cells from the menu bar, then wait for every cell to have run."""
        page = self.page
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(
            '.lm-Menu .lm-Menu-item:has(.lm-Menu-itemLabel:text-is("Run All Cells"))'
        ).click()
        self.wait_all_executed(n_cells, timeout)

    def run_cell(self, code: str, timeout: float = NOTEBOOK_TIMEOUT) -> Any:
        """Append a code cell with ``code``, run it with Shift+Enter, return its Locator."""
        page = self.page
        cells = page.locator(".jp-Notebook .jp-Cell")
        n = cells.count()
        # command mode on the last cell, insert a cell below it, type into it, run it
        cells.nth(n - 1).locator(".jp-InputPrompt").click()
        page.keyboard.press("Escape")
        page.keyboard.press("b")
        wait_until(lambda: cells.count() == n + 1, 10, "a new cell")
        new = cells.nth(n)
        new.locator(".cm-content").click()
        page.keyboard.insert_text(code)
        page.keyboard.press("Shift+Enter")
        numbered = re.compile(r"^\[\d+\]:$")
        wait_until(
            lambda: numbered.match(new.locator(".jp-InputArea-prompt").inner_text().strip()),
            timeout,
            "the new cell to run",
            describe=self.describe,
        )
        err = new.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        if err.count() and re.search(r"Traceback|\b\w*Error\b", err.all_inner_texts()[0]):
            raise HarnessError(f"cell failed:\n{code}\n{err.all_inner_texts()[0][-4000:]}")
        return new


def new_page(browser: Any, timeout: float) -> tuple[Any, list[str], list[str]]:
    """A page in a fresh browser context that records its console and dismisses dialogs.

    Returns the page and the lists its console messages and dialogs are appended to.
    """
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(timeout * 1000)
    console: list[str] = []
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("console", lambda m: console.append(f"[{m.type}] {m.text}"))
    page.on("pageerror", lambda e: console.append(f"[pageerror] {e}"))
    page.on("dialog", on_dialog)
    return page, console, dialogs


def connect_kernel(server: LabServer, name: str, timeout: float) -> tuple[str, Kernel]:
    """Wait for the server's session of notebook ``name``; a client on its kernel."""

    def session() -> dict[str, Any] | None:
        for s in server.api("GET", "/api/sessions"):
            if s.get("path") == name and s.get("kernel"):
                return dict(s)
        return None

    sess = wait_until(session, timeout, f"a kernel session for {name}")
    conn = server.runtime_dir / f"kernel-{sess['kernel']['id']}.json"
    wait_until(conn.exists, timeout, f"connection file {conn}")
    return str(sess["id"]), Kernel(conn)


def open_notebook(
    server: LabServer,
    browser: Any,
    name: str,
    cells: Sequence[str],
    *,
    run: bool = True,
    timeout: float = NOTEBOOK_TIMEOUT,
    on_open: Callable[[LabNotebook], None] | None = None,
) -> LabNotebook:
    """Write a notebook, open it in Lab, wait for an idle kernel, run all cells via the menu.

    Parameters
    ----------
    server
        The running JupyterLab.
    browser
        A Playwright ``Browser``.
    name
        File name (``.ipynb`` added when missing), created in the server's root dir.
    cells
        Source of the code cells.
    run
        Run all cells (Run > Run All Cells) and wait until every cell shows a count.
    on_open
        Called as soon as the ``LabNotebook`` exists (e.g. to register it for cleanup).

    Returns
    -------
    LabNotebook
    """
    if not name.endswith(".ipynb"):
        name += ".ipynb"
    write_notebook(server.root_dir / name, cells)
    page, console, dialogs = new_page(browser, timeout)
    workspace = "ws-" + re.sub(r"[^A-Za-z0-9]", "-", name[: -len(".ipynb")])
    page.goto(server.lab_url(name, workspace))
    page.locator("#jupyterlab-splash").wait_for(state="detached")
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible")
    # the toolbar indicator says idle before a kernel exists: wait for the status bar's kernel
    page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\|\s*Idle")).wait_for()

    session_id, kernel = connect_kernel(server, name, timeout)
    nb = LabNotebook(server, name, page, kernel, session_id, console, dialogs)
    if on_open is not None:
        on_open(nb)
    if run:
        nb.run_all(len(cells), timeout)
    return nb


def close_notebook(nb: LabNotebook) -> None:
    """Close the page, disconnect the kernel client and shut the kernel down."""
    try:
        nb.page.context.close()
    finally:
        nb.kernel.close()
        try:
            nb.server.api("DELETE", f"/api/sessions/{nb.session_id}")
        except (urllib.error.URLError, OSError):
            pass
