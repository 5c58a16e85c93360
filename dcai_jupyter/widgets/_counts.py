"""What a grid's toolbar counts and how it formats numbers: samples per label, number formats.

Per-label counts are kept per dataset (shared by all its views) and cost O(n) once per
version that is not a small relabel: a relabel recorded right after the version counted is
applied as its delta (O(k) for k relabeled samples), so a click does not rescan the labels.

A numeric column is shown with one format for all its cells (:func:`number_format`): the
number of decimals is chosen from the column's values, integers have none.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ._base import dataset_classes
from ._per_dataset import PerDataset
from ._protocol import json_scalar

__all__ = [
    "MAX_LABEL_COUNTS",
    "SYNC_ROWS",
    "count_in_background",
    "follow",
    "label_counts",
    "number_format",
]

#: datasets of up to this many rows are counted while a page is answered; larger ones on a
#: background thread (a page of a 10M-row dataset is not held up by counting its labels)
SYNC_ROWS = 200_000
#: classes listed one by one in the counts; beyond, the largest are listed and the rest summed
MAX_LABEL_COUNTS = 100
#: values read to choose a column's number format (evenly spaced over the column)
FORMAT_SAMPLE = 10_000
#: most decimals a number format shows
MAX_DECIMALS = 6


class _Tally:
    """Label codes and counts of one dataset at one version."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version: int | None = None
        self.codes = np.zeros(0, dtype=np.int64)  # per row: index into values, -1 missing
        self.values: list[Any] = []
        self.index: dict[Any, int] = {}
        self.counts = np.zeros(0, dtype=np.int64)
        self.counting = False  # a background count is running
        self.waiters: list[Callable[[], None]] = []  # called when it is done
        # guards counting/waiters; not `lock`, which a count holds for its whole O(n) pass
        self.waiting = threading.Lock()

    def code_of(self, value: Any) -> int:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return -1
        try:
            if pd.isna(value):
                return -1
        except (TypeError, ValueError):
            pass
        code = self.index.get(value)
        if code is None:
            code = self.index[value] = len(self.values)
            self.values.append(value)
            self.counts = np.append(self.counts, 0)
        return code


_tally: PerDataset[_Tally] = PerDataset(lambda ds: _Tally())


def _recount(ds: Any, t: _Tally) -> None:
    """Count every label (O(n)); called with ``t.lock`` held."""
    while True:  # a writer pauses between changes, so this ends
        version = ds.stable_version
        if version is None:
            time.sleep(0)
            continue
        labels = np.asarray(ds.column(ds.label))
        codes, uniques = pd.factorize(labels, use_na_sentinel=True)
        if ds.stable_version == version:
            break
    t.values = list(uniques.tolist()) if hasattr(uniques, "tolist") else list(uniques)
    t.index = {v: i for i, v in enumerate(t.values)}
    codes = np.asarray(codes, dtype=np.int64)
    t.counts = np.bincount(codes[codes >= 0], minlength=len(t.values)).astype(np.int64)
    t.codes = codes
    t.version = int(version)


def follow(ds: Any, change: Any) -> None:
    """Apply a recorded relabel to the counts of the version before it (O(k)).

    Any other change, or a relabel that does not follow the version counted, leaves the
    counts to be recomputed when they are next asked for.
    """
    if not isinstance(change, dict) or change.get("op") != "relabel":
        return
    version, ids = change.get("version"), change.get("ids")
    if not isinstance(version, int) or not ids:
        return
    t = _tally(ds)
    with t.lock:
        if t.version != version - 1 or ds.stable_version != version:
            return
        try:
            pos = np.asarray(ds.positions(ids), dtype=np.int64)
        except KeyError:
            return
        new = np.asarray(ds.column(ds.label, pos))
        if ds.stable_version != version:  # changed again meanwhile: recount when asked
            return
        new_codes = np.fromiter(
            (t.code_of(v) for v in new.tolist()), dtype=np.int64, count=len(pos)
        )
        old_codes = t.codes[pos]
        np.subtract.at(t.counts, old_codes[old_codes >= 0], 1)
        np.add.at(t.counts, new_codes[new_codes >= 0], 1)
        t.codes[pos] = new_codes
        t.version = version


def label_counts(
    ds: Any, classes: list[Any] | None = None, *, block: bool = True
) -> dict[str, Any] | None:
    """Samples per label at the current version, for the toolbar.

    Parameters
    ----------
    ds : Dataset
        The dataset.
    classes : list, optional
        The class order to list the counts in; default ``ds.classes`` (which, without
        declared classes, scans the labels once per version: a relabel patch passes the
        classes its view already has, so that the patch is not delayed by that scan).
    block : bool
        Count the labels now if they were not counted at this version (O(n)); with
        ``block=False`` return None instead (see :func:`count_in_background`).

    Returns
    -------
    dict
        ``{"values": [[label, count], ...], "other_classes": int, "other_rows": int,
        "version": int}``:
        the classes in the dataset's order (a class without samples counts 0), then labels
        outside the declared classes; rows without a label (the pool) are not counted. With
        more than :data:`MAX_LABEL_COUNTS` labels, the largest are listed and the others
        summed in ``other_classes`` / ``other_rows``. None (``block=False``) when the
        labels are not counted at the current version.
    """
    t = _tally(ds)
    if not t.lock.acquire(blocking=block):
        return None  # a count is under way
    try:
        if t.version != ds.stable_version:
            if not block:
                return None
            _recount(ds, t)
        index, counts, values, version = t.index, t.counts.copy(), list(t.values), t.version
    finally:
        t.lock.release()
    if classes is None:
        classes = dataset_classes(ds)
    pairs: list[tuple[Any, int]] = []
    seen: set[int] = set()
    for c in classes:
        code = index.get(c)
        if code is not None:
            seen.add(code)
        pairs.append((c, 0 if code is None else int(counts[code])))
    extra = [(values[i], int(counts[i])) for i in range(len(values)) if i not in seen and counts[i]]
    extra.sort(key=lambda p: -p[1])
    pairs.extend(extra)
    other_classes = other_rows = 0
    if len(pairs) > MAX_LABEL_COUNTS:
        ranked = sorted(range(len(pairs)), key=lambda i: -pairs[i][1])
        keep = set(ranked[:MAX_LABEL_COUNTS])
        rest = [pairs[i] for i in range(len(pairs)) if i not in keep]
        other_classes, other_rows = len(rest), sum(n for _, n in rest)
        pairs = [pairs[i] for i in sorted(keep)]
    return {
        "values": [[json_scalar(v), n] for v, n in pairs],
        "other_classes": other_classes,
        "other_rows": other_rows,
        "version": version,
    }


def count_in_background(ds: Any, done: Callable[[], None]) -> None:
    """Count ``ds``'s labels on a background thread (one at a time per dataset), then call
    ``done()`` (from that thread); a caller arriving while a count runs is called too."""
    t = _tally(ds)
    with t.waiting:
        t.waiters.append(done)
        if t.counting:
            return
        t.counting = True

    def run() -> None:
        try:
            label_counts(ds, [])  # no class order needed: this only counts
        finally:
            with t.waiting:
                t.counting = False
                waiters, t.waiters = t.waiters, []
            for fn in waiters:
                try:
                    fn()
                except Exception:  # a closed view must not stop the others
                    pass

    threading.Thread(target=run, name="dcai-label-counts", daemon=True).start()


def _sample(values: np.ndarray) -> np.ndarray:
    n = len(values)
    if n <= FORMAT_SAMPLE:
        return values
    return values[np.linspace(0, n - 1, FORMAT_SAMPLE).astype(np.int64)]


def number_format(values: Any) -> dict[str, Any]:
    """One display format for every value of a numeric column, chosen from its values.

    Integers (and floats that are all whole numbers) get no decimals; other floats the
    fewest decimals (up to :data:`MAX_DECIMALS`) that show every value exactly, or, when
    the values have more, four significant digits of a typical value. Very large or very
    small magnitudes get a fixed scientific format. A column of ``n`` values is judged by
    up to :data:`FORMAT_SAMPLE` of them, evenly spaced.

    Returns
    -------
    dict
        ``{"decimals": d, "group": bool}`` (``group``: thousands separators, for columns
        reaching 10,000), or ``{"exp": 3}`` (``1.234e+9`` style) for every cell.
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        if arr.dtype.kind == "b" or len(arr) == 0:
            return {"decimals": 0, "group": False}
        largest = max(abs(int(arr.min())), abs(int(arr.max())))
        return {"decimals": 0, "group": largest >= 10_000}
    try:
        x = _sample(arr).astype(float)
    except (TypeError, ValueError):
        return {"decimals": 0, "group": False}
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return {"decimals": 0, "group": False}
    a = np.abs(x)
    big = float(a.max())
    nonzero = a[a > 0]
    typical = float(np.median(nonzero)) if len(nonzero) else 0.0
    if big >= 1e12 or (typical and typical < 1e-4):
        return {"exp": 3}
    group = big >= 10_000
    for d in range(MAX_DECIMALS + 1):
        r = np.round(x, d)
        if np.all(np.abs(r - x) <= 1e-12 * np.maximum(1.0, a)):
            return {"decimals": d, "group": group}
    d = 3 - math.floor(math.log10(typical)) if typical else 2
    return {"decimals": int(min(MAX_DECIMALS, max(0, d))), "group": group}
