"""dcai_jupyter: improve a training set from a notebook, with every change recorded.

The engine (``Dataset``, ``History``) works in any Python process; the widgets
(``SampleGrid``, ``LabelEditor``) render inline in JupyterLab.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._charts import offline_chart
    from ._facade import Dataset
    from .core import (
        BaseMismatchError,
        Change,
        ConcurrentWriteError,
        Findings,
        History,
        HistoryError,
        StateError,
        SupersededError,
        open_history,
    )
    from .ops import Audit, find_label_issues, label_issue_chart, register_transform
    from .widgets import AuditReport, HistoryView, LabelEditor, SampleGrid

__all__ = [
    "Audit",
    "AuditReport",
    "BaseMismatchError",
    "Change",
    "ConcurrentWriteError",
    "Dataset",
    "Findings",
    "History",
    "HistoryError",
    "HistoryView",
    "LabelEditor",
    "SampleGrid",
    "StateError",
    "SupersededError",
    "__version__",
    "find_label_issues",
    "label_issue_chart",
    "offline_chart",
    "open_history",
    "register_transform",
]

_LAZY = {
    "Dataset": ("dcai_jupyter._facade", "Dataset"),
    **{
        n: ("dcai_jupyter.core", n)
        for n in (
            "BaseMismatchError",
            "Change",
            "ConcurrentWriteError",
            "Findings",
            "History",
            "HistoryError",
            "StateError",
            "SupersededError",
            "open_history",
        )
    },
    "Audit": ("dcai_jupyter.ops", "Audit"),
    "AuditReport": ("dcai_jupyter.widgets", "AuditReport"),
    "find_label_issues": ("dcai_jupyter.ops", "find_label_issues"),
    "label_issue_chart": ("dcai_jupyter.ops", "label_issue_chart"),
    "register_transform": ("dcai_jupyter.ops", "register_transform"),
    "offline_chart": ("dcai_jupyter._charts", "offline_chart"),
    "SampleGrid": ("dcai_jupyter.widgets", "SampleGrid"),
    "LabelEditor": ("dcai_jupyter.widgets", "LabelEditor"),
    "HistoryView": ("dcai_jupyter.widgets", "HistoryView"),
}


def __getattr__(name: str) -> Any:
    # Everything loads when first used: `import dcai_jupyter` (and so the Jupyter server
    # extension beside it) costs no pandas, scikit-learn or widget stack at start-up.
    import importlib

    if name in _LAZY:
        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    if name in ("core", "ops", "widgets"):
        return importlib.import_module(f"dcai_jupyter.{name}")
    raise AttributeError(f"module 'dcai_jupyter' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
