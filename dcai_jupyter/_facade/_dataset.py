"""``Dataset`` = ``core.Dataset`` + the operation mixins + notebook display."""

from __future__ import annotations

from ..core import Dataset as _CoreDataset
from ._display import DisplayMixin
from ._labels import LabelsMixin


class Dataset(LabelsMixin, DisplayMixin, _CoreDataset):
    __doc__ = _CoreDataset.__doc__


__all__ = ["Dataset"]
