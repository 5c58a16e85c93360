"""Notebook display of a Dataset: a ``SampleGrid`` when the widgets can load."""

from __future__ import annotations

from typing import Any


class DisplayMixin:
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        try:
            from ..widgets import SampleGrid
        except ImportError:
            return {"text/plain": repr(self)}
        return SampleGrid(self)._repr_mimebundle_(**kwargs)
