"""Setting a history file aside (``Dataset(..., resume=False)``) without ever losing one.

The file gets a new name of its own beside the old one, ``<stem>.<UTC time to the
nanosecond>-<counter>.sqlite``, and is moved there only if that name is free: it is hard
linked to the new name (which fails if the name exists) and then unlinked, so an existing
file is never replaced, by a set-aside in this process or in another. SQLite's side files
(``-wal``, ``-journal``, ``-shm``) move with it under the same new name: a write-ahead log
holds committed changes not yet copied into the main file, and one left behind would be
read as the log of the new history started at the old name.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

from ._errors import HistoryError

#: SQLite's files beside a database: the write-ahead log (with the committed changes not yet
#: checkpointed into the main file), the rollback journal and the WAL index
SIDE_FILES = ("-wal", "-journal", "-shm")

_counter = itertools.count(1)


def _link_or_claim(src: str, dst: str) -> None:
    """Give ``src`` the name ``dst`` as well, never replacing a file named ``dst``.

    ``FileExistsError`` when ``dst`` exists. Where the file system has no hard links, the
    name is claimed with an exclusive create and then replaced by ``src`` (so ``src`` is
    gone afterwards, as after the unlink that follows a link).
    """
    try:
        os.link(src, dst)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (e.g. some network or FAT file systems)
        fd = os.open(dst, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)  # FileExistsError if taken
        os.close(fd)
        os.replace(src, dst)  # replaces only the empty file claimed just now


def _move(src: str, dst: str) -> None:
    """Move ``src`` to ``dst``, which must not exist (``FileExistsError`` otherwise)."""
    _link_or_claim(src, dst)
    if os.path.lexists(src):
        os.unlink(src)


def aside_name(path: Path) -> Path:
    """A candidate name for setting ``path`` aside (unique in this process; see set_aside)."""
    ns = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(ns // 1_000_000_000))
    return path.with_name(f"{path.stem}.{stamp}.{ns % 1_000_000_000:09d}-{next(_counter)}.sqlite")


def set_aside(path: str | os.PathLike[str]) -> Path:
    """Move the history file at ``path`` (and its SQLite side files) to a new, unused name.

    Returns the new path of the main file. No existing file is ever replaced: a name that
    is taken (by an earlier set-aside, or one in another process at the same moment) is
    passed over for the next.

    The caller closes its own connections to the file first (a connection of this process
    left open would, when closed later, delete the ``-wal`` now at the old name: the log of
    the history started there).
    """
    src = Path(path)
    for _ in range(1000):
        dst = aside_name(src)
        if any(os.path.lexists(str(dst) + ext) for ext in SIDE_FILES):
            continue  # a stray side file under that name: take another
        try:
            _move(str(src), str(dst))
        except FileExistsError:
            continue
        break
    else:  # pragma: no cover - a thousand names taken in a row
        raise HistoryError(f"cannot find a free name to keep {src} aside; move it by hand")
    for ext in SIDE_FILES:
        side = str(src) + ext
        if os.path.lexists(side):
            try:
                _move(side, str(dst) + ext)
            except FileExistsError:  # pragma: no cover - taken since checked above
                raise HistoryError(
                    f"{src} was kept aside as {dst}, but {dst}{ext} appeared meanwhile, so "
                    f"{side} (part of that history) is still at the old name: move it by hand "
                    f"to {dst}{ext} before using {src}"
                ) from None
    return dst


__all__ = ["SIDE_FILES", "aside_name", "set_aside"]
