"""Where a change came from: a notebook cell, a widget, a widget callback, a script, the CLI.

Sources: ``cell`` (code run in a cell), ``widget`` (one of our widgets, which say so with
``widget_source``), ``callback`` (the user's own ipywidgets callback, e.g. a Button's
``on_click``: the kernel is handling a comm message, so the last cell's code did not make
the change), ``api`` (a script), ``cli``.

Core knows no Jupyter: what code runs now (which cell, which widget message) is told by a
hook the Jupyter side installs with ``set_provenance_hook`` (``dcai_jupyter._kernel``, when
``dcai_jupyter.Dataset`` or the widgets are first imported). With no hook, or when the hook
knows of nothing, a change is the script's: source ``api``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

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


def overridden_source() -> str | None:
    """The source a ``source`` or ``widget_source`` block sets on this thread now, or None
    outside one (a recipe replay runs under ``source("recipe")``)."""
    override = getattr(_local, "override", None)
    return None if override is None else override[0]


ProvenanceHook = Callable[[], "Provenance | None"]
"""What runs now, as the Jupyter side sees it: a ``Provenance`` with source ``cell`` or
``callback`` (its ``key`` one per cell run or widget session, its ``execution_count`` the
running or last cell's), or None when no cell or widget message is being handled."""

_hook: ProvenanceHook | None = None


def set_provenance_hook(hook: ProvenanceHook | None) -> ProvenanceHook | None:
    """Install ``hook`` as what tells core which cell or widget message runs now.

    Parameters
    ----------
    hook
        Called with no argument each time a change is recorded, on the thread making it;
        returns the ``Provenance`` of the code running now, or None (a script: source
        ``api``). None removes the hook. It must not raise: a failing hook fails the change.
        A ``widget_source`` or ``source`` block still wins over what it returns; its
        ``execution_count`` then tells one widget session from the next.

    Returns
    -------
    ProvenanceHook or None
        The hook installed before, to put back later.
    """
    global _hook
    prev, _hook = _hook, hook
    return prev


def current() -> Provenance:
    """The provenance of a change made now, on this thread."""
    override = getattr(_local, "override", None)
    if override is not None and override[0] != "widget":
        return Provenance(f"{override[0]}:{_PROCESS_KEY}", override[0])
    hook = _hook
    running = hook() if hook is not None else None
    if override is None:
        return running if running is not None else Provenance(f"api:{_PROCESS_KEY}", "api")
    _, widget, w_cell, w_count = override
    # One widget session = the clicks between two cell runs (``count``), in one widget: the
    # cell that displayed it tells two views of one class apart.
    count = running.execution_count if running is not None else None
    if w_cell is None and w_count is None:
        return Provenance(f"widget:{widget}:{_PROCESS_KEY}:{count}", "widget", count, widget=widget)
    return Provenance(
        f"widget:{widget}:{w_cell}:{w_count}:{_PROCESS_KEY}:{count}",
        "widget",
        w_count,
        cell_id=w_cell,
        widget=widget,
    )


def running_cell() -> tuple[str | None, int | None] | None:
    """The notebook cell running now as ``(cell_id, execution_count)``, else None.

    None outside a cell run: in a script, or while the kernel handles a widget message.
    The cell id is None where the front end does not send one (IPython in a terminal).
    """
    prov = current()
    if prov.source != "cell":
        return None
    return prov.cell_id, prov.execution_count
