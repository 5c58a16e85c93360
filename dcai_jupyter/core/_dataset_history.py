"""``ds.history``: a dataset's History seen from the dataset."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._history import History


class DatasetHistory:
    """A dataset's ``History`` seen from the dataset: every ``History`` attribute, and a
    ``checkout(v)`` that needs no base data because it walks back from the live state.

    The dataset hands itself down to this view; the history never calls up into a dataset.
    """

    __slots__ = ("_ds", "_h")

    def __init__(self, history: History, ds: Any) -> None:
        self._h = history
        self._ds = ds

    @property
    def history(self) -> History:
        """The ``History`` this view shows (every attribute of it is one of this view)."""
        return self._h

    @property
    def dataset(self) -> Any:
        """The dataset whose history this is."""
        return self._ds

    def checkout(self, version: int, *, base: pd.DataFrame | None = None) -> pd.DataFrame:
        """The dataset as it was at ``version`` (0 = the base data)."""
        if base is not None:
            return self._h.checkout(version, base=base)
        return self._ds.checkout(version)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._h, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in DatasetHistory.__slots__:
            object.__setattr__(self, name, value)
        else:
            setattr(self._h, name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._h, name)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._h)) | {"checkout", "dataset", "history"})

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DatasetHistory):
            return self._h is other._h
        return self._h is other

    def __hash__(self) -> int:
        return hash(self._h)

    def __len__(self) -> int:
        return len(self._h)

    def __repr__(self) -> str:
        return repr(self._h)
