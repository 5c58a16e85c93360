"""The Jupyter side of provenance: which cell or widget message the kernel is handling now.

Core records where each change came from but knows no Jupyter; the facade's ``Dataset`` and
the widgets install ``running`` here as its provenance hook (``core.set_provenance_hook``).
It reads the IPython kernel's parent message: an ``execute_request`` is a cell run (its
message id, the JupyterLab cell id, the code), a ``comm_msg`` a widget callback of the
user's (the widget's model id). IPython without a kernel (a terminal) counts the current
input as the cell. Without IPython running it says nothing, and the change is a script's.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from .core import Provenance, set_provenance_hook

_PROCESS_KEY = f"{os.getpid()}-{time.time_ns()}"


def _ipython() -> Any:
    """The running IPython shell, or None. Never imports IPython: one that runs is imported."""
    module = sys.modules.get("IPython")
    get_ipython = getattr(module, "get_ipython", None)
    return get_ipython() if get_ipython is not None else None


def _execution_count(ip: Any) -> int | None:
    """The count of the cell running now (between runs: of the last one).

    ``In`` gets the cell's code appended before it runs, so its last index is the count
    of the running cell, whichever way IPython increments ``execution_count``.
    """
    hist = getattr(ip, "user_ns", {}).get("In")
    if isinstance(hist, list) and hist:
        return len(hist) - 1
    count = getattr(ip, "execution_count", None)
    return int(count) if isinstance(count, int) else None


def running() -> Provenance | None:
    """The cell run or widget callback being handled now, or None outside IPython."""
    ip = _ipython()
    if ip is None:
        return None
    count = _execution_count(ip)
    kernel = getattr(ip, "kernel", None)
    if kernel is not None:
        try:
            parent = kernel.get_parent() or {}
        except Exception:
            parent = {}
        header = parent.get("header") or {}
        msg_type = header.get("msg_type")
        if msg_type == "comm_msg":
            # A widget callback of the user's (our widgets say so with widget_source, which
            # core puts first): which widget; the last cell's code did not make this change.
            comm_id = (parent.get("content") or {}).get("comm_id")
            widget = str(comm_id) if comm_id else None
            return Provenance(
                f"callback:{widget}:{_PROCESS_KEY}:{count}", "callback", count, widget=widget
            )
        if msg_type == "execute_request":
            meta = parent.get("metadata") or {}
            content = parent.get("content") or {}
            return Provenance(
                f"cell:{header.get('msg_id')}",
                "cell",
                count,
                cell_id=meta.get("cellId"),
                code=content.get("code"),
            )
    # IPython terminal (or a kernel without a parent): the current input counts as the cell.
    hist = getattr(ip, "user_ns", {}).get("In")
    code = hist[-1] if hist else None
    return Provenance(f"cell:{_PROCESS_KEY}:{count}", "cell", count, code=code)


def install() -> None:
    """Make ``running`` core's provenance hook (the facade and the widgets do, on import)."""
    set_provenance_hook(running)
