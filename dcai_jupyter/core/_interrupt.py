"""Interrupts wait for a write to finish: a change is recorded and applied fully or not at all.

The notebook's stop button sends SIGINT to the kernel; Python raises ``KeyboardInterrupt``
in the main thread between any two bytecodes. Between a change's SQLite commit and the
in-memory state catching up, that would leave the history one change ahead of ``ds``.
:func:`deferred_interrupts` holds a SIGINT that arrives inside its block and delivers it
(to the handler that was installed, normally raising ``KeyboardInterrupt``) as the block
ends, so the interrupt lands before the write or after the whole change.

Only the main thread receives signals, so elsewhere (a widget's worker thread) the block
runs unchanged.
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["deferred_interrupts", "deferring_interrupts"]

F = TypeVar("F", bound=Callable[..., Any])

_state = threading.local()


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold SIGINT until the block ends, then deliver it (re-entrant; main thread only)."""
    if threading.current_thread() is not threading.main_thread() or getattr(_state, "on", False):
        yield
        return
    received: list[tuple[int, Any]] = []

    def hold(signum: int, frame: Any) -> None:
        received.append((signum, frame))

    try:
        previous = signal.signal(signal.SIGINT, hold)
    except (ValueError, OSError):  # not the main interpreter's main thread
        yield
        return
    _state.on = True
    try:
        yield
    finally:
        _state.on = False
        signal.signal(signal.SIGINT, previous)
        if received:
            if callable(previous):
                previous(*received[0])
            elif previous == signal.SIG_DFL:
                raise KeyboardInterrupt


def deferring_interrupts(fn: F) -> F:
    """Decorator: ``fn`` runs inside :func:`deferred_interrupts`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with deferred_interrupts():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
