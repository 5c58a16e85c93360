"""``LRUCache``: the one bounded, thread-safe cache the widgets keep pages, orders and thumbnails in."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future
from typing import Generic, TypeVar

__all__ = ["LRUCache"]

V = TypeVar("V")


class LRUCache(Generic[V]):
    """A least-recently-used mapping of at most ``maxsize`` entries, safe across threads.

    :meth:`get_or_compute` computes a missing value outside the lock, once: a second caller
    asking for the same key meanwhile waits for the first caller's result instead of
    computing it again (a full sort of a 10M-row column takes seconds).

    Parameters
    ----------
    maxsize : int
        Entries kept; the least recently used one is dropped beyond it.
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}")
        self.maxsize = int(maxsize)
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._computing: dict[Hashable, Future[V]] = {}
        self._lock = threading.RLock()

    # -- mapping reads ------------------------------------------------------------------
    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._data

    def keys(self) -> list[Hashable]:
        """A snapshot of the keys, least recently used first."""
        with self._lock:
            return list(self._data)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self.keys())

    def lookup(self, key: Hashable) -> tuple[bool, V | None]:
        """``(hit, value)``; a hit marks the entry as recently used."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return True, self._data[key]
            return False, None

    def busy(self, key: Hashable) -> bool:
        """Whether ``key`` is cached or being computed."""
        with self._lock:
            return key in self._data or key in self._computing

    # -- writes -------------------------------------------------------------------------
    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def discard(self, predicate: Callable[[Hashable], bool]) -> int:
        """Drop the entries whose key satisfies ``predicate``; returns how many."""
        with self._lock:
            gone = [k for k in self._data if predicate(k)]
            for k in gone:
                del self._data[k]
            return len(gone)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The cached value of ``key``, computing (once, outside the lock) when missing.

        An exception of ``compute`` reaches every caller waiting for it, and nothing is
        cached: a later call tries again.
        """
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            future = self._computing.get(key)
            owner = future is None
            if future is None:
                future = self._computing[key] = Future()
        if not owner:
            return future.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                self._computing.pop(key, None)
            future.set_exception(exc)
            raise
        with self._lock:
            self.put(key, value)
            self._computing.pop(key, None)
        future.set_result(value)
        return value

    def compute_in_background(self, key: Hashable, compute: Callable[[], V], name: str) -> None:
        """Start ``get_or_compute(key, compute)`` on a daemon thread unless already there."""
        if self.busy(key):
            return

        def run() -> None:
            try:
                self.get_or_compute(key, compute)
            except Exception:  # a later request computes it again and reports the error
                pass

        threading.Thread(target=run, name=name, daemon=True).start()
