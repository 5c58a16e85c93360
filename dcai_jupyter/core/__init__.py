"""Engine core: ``Dataset``, ``Change``, ``Findings``, ``History`` (numpy, pandas + sqlite3 only)."""

from ._change import Change, ChangePlan
from ._dataset import Dataset, DatasetHistory
from ._errors import (
    BaseMismatchError,
    ConcurrentWriteError,
    HistoryError,
    StateError,
    SupersededError,
)
from ._findings import Findings
from ._history import History, open_history
from ._provenance import Provenance, ProvenanceHook, set_provenance_hook

__all__ = [
    "BaseMismatchError",
    "Change",
    "ChangePlan",
    "ConcurrentWriteError",
    "Dataset",
    "DatasetHistory",
    "Findings",
    "History",
    "HistoryError",
    "Provenance",
    "ProvenanceHook",
    "StateError",
    "SupersededError",
    "open_history",
    "set_provenance_hook",
]
