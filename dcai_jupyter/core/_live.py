"""The live datasets of this process by history file, and what supersedes them.

Re-running a notebook's ``ds = dj.Dataset(df, ..., name="pets")`` cell makes a second
``Dataset`` on the history file of one that is still alive in the same kernel (the widgets
shown before hold it). Only one object may record into a file, so the newer one
*supersedes* the older:

- the newer one resumes from the file as after a restart (the recorded changes replayed,
  the version continues), or, with ``resume=False``, starts a new history there once the
  older one's file is set aside;
- the older one records nothing more: every change made through it raises
  :class:`~._errors.SupersededError`, which names the newer one (never the "another
  process" error of a real second writer). Reading it still works, and shows its last state;
- hooks registered with :func:`on_superseded` are called with ``(old, new, continued)``;
  ``continued`` is True when the newer one continues the same history (so whatever showed
  the older one can show the newer one instead: the widgets re-attach), False when it
  started a new one (``resume=False``: the widgets say they show an older ``ds``).

Core never imports what subscribes (the widgets do, on import).
"""

from __future__ import annotations

import os
import threading
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._errors import SupersededError

Hook = Callable[[Any, Any, bool], None]

_lock = threading.Lock()
_by_file: dict[str, weakref.ref[Any]] = {}
_hooks: list[Hook] = []


@dataclass(frozen=True)
class Succession:
    """What superseded a dataset: the newer ``Dataset`` and how it took over the file."""

    new: Any
    #: True when ``new`` continues the same history (resumed it); False when it started anew
    continued: bool
    #: the history file, as the older dataset knew it
    path: str
    #: where the older dataset's history was set aside (``resume=False``), else None
    aside: str | None = None

    def message(self, name: str) -> str:
        """What a change through the superseded dataset is refused with."""
        if self.continued:
            how = (
                f"a newer Dataset on the same history ({self.path}) was made in this kernel "
                "(the Dataset(...) cell ran again) and continues it from the file"
            )
        else:
            how = (
                f"Dataset(..., resume=False) started a new history at {self.path} in this "
                f"kernel; this one's was kept aside as {self.aside}"
            )
        return (
            f"this Dataset {name!r} is superseded: {how}. Only the newest Dataset of a history "
            "file records changes, and nothing was changed: use the new one (the variable the "
            "Dataset(...) cell assigned; re-run the cells that still hold this one)"
        )


def file_key(path: str) -> str | None:
    """The key of a history file (its resolved path); None for an in-memory history."""
    if path == ":memory:" or path.startswith("file::memory:") or not path:
        return None
    return os.path.normcase(os.path.realpath(path))


def live_on(path: str) -> Any | None:
    """The dataset of this process recording into the history file ``path``, if any."""
    key = file_key(path)
    if key is None:
        return None
    with _lock:
        ref = _by_file.get(key)
    ds = ref() if ref is not None else None
    if ds is None or getattr(ds, "_succession", None) is not None:
        return None
    return ds


def register(ds: Any, path: str) -> None:
    """``ds`` is now the dataset recording into ``path`` (held weakly)."""
    key = file_key(path)
    if key is None:
        return
    with _lock:
        for k in [k for k, r in _by_file.items() if r() is None]:
            del _by_file[k]
        _by_file[key] = weakref.ref(ds)


def check_live(ds: Any) -> None:
    """Raise ``SupersededError`` when ``ds`` was superseded (before it records anything)."""
    s: Succession | None = getattr(ds, "_succession", None)
    if s is not None:
        raise SupersededError(s.message(str(getattr(ds, "name", "dataset"))))


def newest(ds: Any) -> tuple[Any, bool]:
    """The newest dataset ``ds`` led to, and whether every step continued the same history."""
    continued = True
    seen = 0
    while True:
        s: Succession | None = getattr(ds, "_succession", None)
        if s is None or seen > 10_000:
            return ds, continued
        continued = continued and s.continued
        ds = s.new
        seen += 1


def on_superseded(hook: Hook) -> None:
    """Call ``hook(old, new, continued)`` whenever a dataset is superseded (once per hook)."""
    with _lock:
        if hook not in _hooks:
            _hooks.append(hook)


def notify(old: Any, new: Any, continued: bool) -> None:
    """Run the hooks after ``new`` superseded ``old`` (a failing hook only warns)."""
    with _lock:
        hooks = list(_hooks)
    for hook in hooks:
        try:
            hook(old, new, continued)
        except Exception as e:
            warnings.warn(
                f"dcai_jupyter: following the newer Dataset failed in {hook!r}: {e!r}",
                RuntimeWarning,
                stacklevel=2,
            )


__all__ = [
    "Succession",
    "check_live",
    "file_key",
    "live_on",
    "newest",
    "notify",
    "on_superseded",
    "register",
]
