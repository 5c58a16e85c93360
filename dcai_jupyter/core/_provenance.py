"""Where a change came from: a notebook cell, a widget, a widget callback, a script, the CLI.

Sources: ``cell`` (code run in a cell), ``widget`` (one of our widgets, which say so with
``widget_source``), ``callback`` (the user's own ipywidgets callback, e.g. a Button's
``on_click``: the kernel is handling a comm message, so the last cell's code did not make
the change), ``api`` (a script), ``cli``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_local = threading.local()
_PROCESS_KEY = f"{os.getpid()}-{time.time_ns()}"


@dataclass(frozen=True)
class Provenance:
    """One provenance context; every change made within it shares one row in the history."""

    key: str
    source: str  # cell | widget | callback | api | cli
    execution_count: int | None = None
    cell_id: str | None = None
    code: str | None = None
    #: the widget: our widgets' class name (source ``widget``), the model id (comm id) of
    #: the user's own widget (source ``callback``)
    widget: str | None = None


@contextmanager
def widget_source(
    widget: str, *, cell_id: str | None = None, execution_count: int | None = None
) -> Iterator[None]:
    """Record changes made inside this block as made by ``widget`` (source ``widget``).

    Parameters
    ----------
    widget
        What made the change (our widgets pass their class name, e.g. ``SampleGrid``).
    cell_id, execution_count
        The notebook cell that displayed the widget (see ``running_cell``). Recorded as the
        change's ``cell_id`` and ``execution_count``, so that after a kernel restart an
        edit is still "widget SampleGrid in cell [7]". When neither is known the
        execution count recorded is the last cell run's, as for any other session.
    """
    prev = getattr(_local, "override", None)
    _local.override = ("widget", widget, cell_id, execution_count)
    try:
        yield
    finally:
        _local.override = prev


@contextmanager
def source(name: str) -> Iterator[None]:
    """Record changes made inside this block with the given source (e.g. ``cli``)."""
    prev = getattr(_local, "override", None)
    _local.override = (name, None, None, None)
    try:
        yield
    finally:
        _local.override = prev


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of ipywidgets
        return None
    return get_ipython()


def _execution_count(ip: Any) -> int | None:
    """The count of the cell running now (between runs: of the last one).

    ``In`` gets the cell's code appended before it runs, so its last index is the count
    of the running cell, whichever way IPython increments ``execution_count``.
    """
    if ip is None:
        return None
    hist = getattr(ip, "user_ns", {}).get("In")
    if isinstance(hist, list) and hist:
        return len(hist) - 1
    count = getattr(ip, "execution_count", None)
    return int(count) if isinstance(count, int) else None


def current() -> Provenance:
    """The provenance of a change made now, on this thread."""
    override = getattr(_local, "override", None)
    ip = _ipython()
    count = _execution_count(ip)
    if override is not None:
        src, widget, w_cell, w_count = override
        if src == "widget":
            # One widget session = the clicks between two cell runs (``count``), in one
            # widget: the cell that displayed it tells two views of one class apart.
            if w_cell is None and w_count is None:
                return Provenance(
                    f"widget:{widget}:{_PROCESS_KEY}:{count}", "widget", count, widget=widget
                )
            return Provenance(
                f"widget:{widget}:{w_cell}:{w_count}:{_PROCESS_KEY}:{count}",
                "widget",
                w_count,
                cell_id=w_cell,
                widget=widget,
            )
        return Provenance(f"{src}:{_PROCESS_KEY}", src)
    kernel = getattr(ip, "kernel", None) if ip is not None else None
    if kernel is not None:
        try:
            parent = kernel.get_parent()
        except Exception:
            parent = None
        header = (parent or {}).get("header") or {}
        msg_type = header.get("msg_type")
        if msg_type == "comm_msg":
            # A widget callback of the user's (our widgets set an override above): say which
            # widget; the code of the last cell run did not make this change.
            comm_id = ((parent or {}).get("content") or {}).get("comm_id")
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
    if ip is not None:
        # IPython terminal (or a kernel without a parent): the current input counts as the cell.
        code = None
        hist = getattr(ip, "user_ns", {}).get("In")
        if hist:
            code = hist[-1]
        return Provenance(f"cell:{_PROCESS_KEY}:{count}", "cell", count, code=code)
    return Provenance(f"api:{_PROCESS_KEY}", "api")


def running_cell() -> tuple[str | None, int | None] | None:
    """The notebook cell running now as ``(cell_id, execution_count)``, else None.

    None outside a cell run: in a script, or while the kernel handles a widget message.
    The cell id is None where the front end does not send one (IPython in a terminal).
    """
    prov = current()
    if prov.source != "cell":
        return None
    return prov.cell_id, prov.execution_count
