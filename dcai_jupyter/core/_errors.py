"""Exceptions raised by the engine."""

from __future__ import annotations


class HistoryError(Exception):
    """A history file cannot be used: not SQLite, corrupt, too new, or of another dataset."""


class BaseMismatchError(HistoryError):
    """The base data given does not match the base recorded in a history file."""


class ConcurrentWriteError(HistoryError):
    """Another process appended to the same history file since this one last read it."""


class StateError(RuntimeError):
    """The in-memory dataset no longer matches its recorded fingerprint."""


class SupersededError(StateError):
    """A newer ``Dataset`` on the same history file was made in this process (the cell that
    made this one ran again): only the newest records changes; this one refuses them."""
