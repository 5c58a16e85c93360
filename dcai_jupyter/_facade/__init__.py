"""The user-facing ``dcai_jupyter.Dataset``: core's engine plus one typed method per operation.

Each family adds its methods in a mixin module of its own (``_labels.py``, ...); every
method is one line onto an ``Operation`` (imported when first called, so ``import
dcai_jupyter`` stays free of scikit-learn). Notebook display is attached in ``_display.py``.
"""

from .._kernel import install as _install_provenance_hook
from ._dataset import Dataset

_install_provenance_hook()  # changes made in a cell or a widget callback say so

__all__ = ["Dataset"]
