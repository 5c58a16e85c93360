"""Inline Jupyter widgets over a Dataset: :class:`SampleGrid` and :class:`LabelEditor`.

Both are anywidgets whose front end (``js/``) is bundled into ``dcai_jupyter/static/`` by the
package build. They hold no data of their own: rows are paged from the kernel on request and
every edit is a ``Dataset`` method call recorded with provenance source ``widget``.
"""

from .._kernel import install as _install_provenance_hook
from ._audit_report import AuditReport
from ._editor import LabelEditor
from ._grid import SampleGrid
from ._history_view import HistoryView
from ._images import encode_png, image_data_url

_install_provenance_hook()  # edits know the cell that displayed the widget

__all__ = [
    "AuditReport",
    "HistoryView",
    "LabelEditor",
    "SampleGrid",
    "encode_png",
    "image_data_url",
]
