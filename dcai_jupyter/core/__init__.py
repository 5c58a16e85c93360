"""Engine core: ``Dataset``, ``History`` and provenance (pandas + stdlib sqlite3 only)."""

from ._dataset import Dataset
from ._errors import BaseMismatchError, ConcurrentWriteError, HistoryError, StateError
from ._history import History, open_history

__all__ = [
    "BaseMismatchError",
    "ConcurrentWriteError",
    "Dataset",
    "History",
    "HistoryError",
    "StateError",
    "open_history",
]
