"""State kept per live dataset for its views (the views, label counts, review marks, a key)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class PerDataset(Generic[T]):
    """One ``T`` per dataset, made by ``make(ds)`` on first use and dropped with the dataset
    (weakly keyed: holding it never keeps a dataset alive). Thread-safe: ``make`` runs at
    most once per dataset."""

    def __init__(self, make: Callable[[Any], T]) -> None:
        self._make = make
        self._items: weakref.WeakKeyDictionary[Any, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, ds: Any) -> T:
        with self._lock:
            item = self._items.get(ds)
            if item is None:
                item = self._items[ds] = self._make(ds)
            return item

    def get(self, ds: Any) -> T | None:
        """The ``T`` of ``ds`` if it was made, else None (without making one)."""
        with self._lock:
            return self._items.get(ds)

    def carry(self, old: Any, new: Any) -> None:
        """``new`` shares ``old``'s ``T`` (a newer Dataset continuing the same history)."""
        with self._lock:
            item = self._items.get(old)
            if item is not None and new not in self._items:
                self._items[new] = item
