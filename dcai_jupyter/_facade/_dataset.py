"""``Dataset`` = ``core.Dataset`` + the operation mixins + notebook display."""

from __future__ import annotations

from ..core import Dataset as _CoreDataset
from ._add import AddMixin
from ._audit import AuditMixin
from ._display import DisplayMixin
from ._evaluate import EvaluateMixin
from ._labels import LabelsMixin
from ._modify import ModifyMixin
from ._recipe_history import RecipeHistoryMixin
from ._remove import RemoveMixin
from ._synthesize import SynthesizeMixin


class Dataset(
    LabelsMixin,
    RemoveMixin,
    SynthesizeMixin,
    ModifyMixin,
    AddMixin,
    EvaluateMixin,
    RecipeHistoryMixin,
    AuditMixin,
    DisplayMixin,
    _CoreDataset,
):
    __doc__ = _CoreDataset.__doc__


__all__ = ["Dataset"]
