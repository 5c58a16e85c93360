"""Kernel restarts for the browser tests: from JupyterLab's Kernel menu or by the REST API.

Both wait on kernel state (a new kernel process answering, with another pid) and then give the
notebook a fresh kernel client on the same connection file (a restart keeps the ports).
"""

from __future__ import annotations

import re
from typing import Any

from labharness import KERNEL_TIMEOUT, Kernel, LabNotebook, wait_until

STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
STDOUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stdout"]'


def kernel_pid(nb: LabNotebook, timeout: float = KERNEL_TIMEOUT) -> int:
    return int(nb.kernel.eval("__import__('os').getpid()", timeout=timeout))


def _wait_new_kernel(nb: LabNotebook, old_pid: int, timeout: float) -> None:
    """Wait until a kernel process other than ``old_pid`` answers; reconnect ``nb.kernel``."""
    wait_until(
        lambda: kernel_pid(nb, timeout=2) != old_pid,
        timeout,
        f"a restarted kernel (a pid other than {old_pid})",
    )
    nb.kernel.close()
    nb.kernel = Kernel(nb.kernel.connection_file)


def restart_from_menu(nb: LabNotebook, timeout: float = 60) -> None:
    """Kernel > Restart Kernel… in the menu bar, confirm the dialog, wait for the new kernel.

    Returns once the new kernel answers and the page's status bar reads idle again.
    """
    page = nb.page
    old_pid = kernel_pid(nb)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Kernel$")).click()
    page.locator(".lm-Menu .lm-Menu-item").filter(
        has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Restart Kernel…?$"))
    ).click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text(re.compile("Restart Kernel", re.I)).first.wait_for()
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    dialog.wait_for(state="detached")
    _wait_new_kernel(nb, old_pid, timeout)
    page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\|\s*Idle")).wait_for(
        timeout=timeout * 1000
    )


def restart_by_api(nb: LabNotebook, timeout: float = 60) -> None:
    """Restart the kernel through the server's REST API (as another client would)."""
    old_pid = kernel_pid(nb)
    sess = nb.server.api("GET", f"/api/sessions/{nb.session_id}")
    nb.server.api("POST", f"/api/kernels/{sess['kernel']['id']}/restart", body={}, timeout=timeout)
    _wait_new_kernel(nb, old_pid, timeout)


def cell_stderr(nb: LabNotebook, index: int) -> Any:
    """Locator of the stderr outputs of the ``index``-th code cell."""
    return nb.page.locator(".jp-Notebook .jp-CodeCell").nth(index).locator(STDERR)


def cell_stdout(nb: LabNotebook, index: int) -> Any:
    """Locator of the stdout outputs (plain notices) of the ``index``-th code cell."""
    return nb.page.locator(".jp-Notebook .jp-CodeCell").nth(index).locator(STDOUT)


def run_all_after_restart(nb: LabNotebook, n_cells: int, ready_expr: str) -> None:
    """Run > Run All Cells on a notebook whose prompts still show the previous kernel's counts.

    The prompts cannot tell old runs from new ones, so this waits on the new kernel's state
    (``ready_expr`` true there, e.g. the last cell's variable defined), then on the prompts
    (which also fails on an error output).
    """
    page = nb.page
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator('.lm-Menu .lm-Menu-item:has(.lm-Menu-itemLabel:text-is("Run All Cells"))').click()
    nb.kernel.wait_for(ready_expr, timeout=90, what=f"the new kernel: {ready_expr}")
    nb.wait_all_executed(n_cells)
