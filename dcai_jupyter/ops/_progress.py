"""Progress bars that leave nothing broken behind in a saved notebook.

``tqdm.auto`` draws a bar in Jupyter as an ipywidget. Once the kernel is gone (a reload, the
notebook opened elsewhere, a closed bar) the saved output still points at the widget's model,
and JupyterLab shows "Error displaying widget: model not found". In a notebook kernel,
:func:`progress_bar` instead shows an ordinary output (an HTML ``<progress>`` with a text
twin) updated in place; when the bar closes, it becomes one line of text ("label issues:
15/15 done in 3.2 s"; "... stopped after 1.2 s" when an interrupt or an error ended the step)
that any front end renders from the saved file. While it runs the line estimates the time
left from the rate so far ("6/15 [40%] 2.1 s, ~3 s left"), as tqdm's bar does. Elsewhere (a terminal,
a script) it is tqdm's text bar on stderr.
"""

from __future__ import annotations

import html
import sys
import time
from typing import Any

__all__ = ["progress_bar"]

#: at most this often (s) the output of a notebook bar is redrawn
REDRAW_S = 0.1


def _in_notebook_kernel() -> bool:
    """Whether the code runs in a Jupyter kernel (IPython's ZMQ shell)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def remaining(elapsed: float, n: int, total: int | None) -> str:
    """The estimate a bar shows: ``", ~40 s left"`` from the rate so far ('' before the first
    step, without a total, or when done)."""
    if not total or n <= 0 or n >= total:
        return ""
    left = elapsed / n * (total - n)
    if left < 60:
        return f", ~{max(1, round(left))} s left"
    if left < 3600:
        return f", ~{round(left / 60)} min left"
    return f", ~{left / 3600:.1f} h left"


class _NotebookBar:
    """A tqdm-like bar drawn as a display output updated in place (no widget model)."""

    def __init__(self, total: int | None, desc: str) -> None:
        from IPython.display import display

        self.total = total
        self.desc = desc
        self.n = 0
        self.postfix = ""
        self.t0 = time.monotonic()
        self.t_stage = self.t0  # the estimate's start: ``reset`` begins a new stage
        self._drawn = 0.0
        self.closed = False
        self.stopped = False
        self.handle = display(self._bundle(), raw=True, display_id=True)

    def _text(self, done: bool) -> str:
        elapsed = time.monotonic() - self.t0
        head = f"{self.desc}: " if self.desc else ""
        count = f"{self.n}/{self.total}" if self.total else str(self.n)
        if done:
            if self.stopped:
                return f"{head}{count} stopped after {elapsed:.1f} s"
            return f"{head}{count} done in {elapsed:.1f} s"
        pct = f" [{100 * self.n // self.total}%]" if self.total else ""
        tail = f", {self.postfix}" if self.postfix else ""
        left = remaining(time.monotonic() - self.t_stage, self.n, self.total)
        return f"{head}{count}{pct} {elapsed:.1f} s{left}{tail}"

    def _bundle(self, done: bool = False) -> dict[str, str]:
        text = self._text(done)
        if done:
            body = html.escape(text)
        else:
            value = f' value="{self.n}" max="{self.total}"' if self.total else ""
            body = f"<progress{value} style='vertical-align:middle'></progress> {html.escape(text)}"
        return {"text/plain": text, "text/html": f"<div class='dcai-progress-bar'>{body}</div>"}

    def _draw(self, done: bool = False) -> None:
        if self.handle is not None:
            self.handle.update(self._bundle(done), raw=True)
        self._drawn = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.n += int(n)
        if time.monotonic() - self._drawn >= REDRAW_S:
            self._draw()

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        self.postfix = str(text)
        if refresh:
            self._draw()

    def reset(self, total: int | None = None) -> None:
        """A new stage on the same line: the count from 0 of ``total``; the estimate from
        the new stage's rate (the time shown stays the whole step's)."""
        self.n = 0
        if total is not None:
            self.total = total
        self.t_stage = time.monotonic()
        self._draw()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        # closed from a ``finally`` while an interrupt propagates: say it stopped
        self.stopped = self.stopped or isinstance(sys.exc_info()[1], KeyboardInterrupt)
        self._draw(done=True)

    def __enter__(self) -> _NotebookBar:
        return self

    def __exit__(self, kind: Any, *exc: Any) -> None:
        # an interrupt (the stop button) or an error: the line says the step stopped
        self.stopped = kind is not None
        self.close()


class _NoBar:
    """A disabled bar: every call does nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        pass

    def reset(self, total: int | None = None) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def progress_bar(
    *, total: int | None = None, desc: str = "", disable: bool = False, leave: bool = False
) -> Any:
    """A progress bar with tqdm's interface (``update``, ``set_postfix_str``, ``reset``,
    ``close``, a context manager) that a saved notebook shows as text.

    Parameters
    ----------
    total : int, optional
        Number of steps.
    desc : str
        What is in progress (shown before the count).
    disable : bool
        Show nothing.
    leave : bool
        Outside notebooks: keep tqdm's bar on the terminal when done. In a notebook the
        closed bar always stays as one line of text (what ran, how long it took).

    Returns
    -------
    object
        The bar.
    """
    if disable:
        return _NoBar()
    if _in_notebook_kernel():
        return _NotebookBar(total, desc)
    from tqdm.std import tqdm

    return tqdm(total=total, desc=desc, leave=leave)
